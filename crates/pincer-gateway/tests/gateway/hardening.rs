//! What an attacker or a careless client tries: label-set growth through made-up model ids,
//! trickled headers and bodies, too many connections or requests, model ids that used to panic
//! the SDK, a panicking handler, and the case of the `Authorization` scheme.

use super::*;

use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A config with every limit small enough to hit in a test.
fn limited(limits: &str) -> String {
    format!(
        "{{ models: {{ bedrockDiscovery: {{ enabled: true }} }}, gateway: {{ limits: {{ {limits} }} }} }}"
    )
}

/// A keep-alive HTTP/1.1 connection that reads whole responses (by `content-length`).
struct Raw {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Raw {
    async fn connect(url: &str) -> Self {
        let addr = url.trim_start_matches("http://");
        Self {
            stream: TcpStream::connect(addr).await.unwrap(),
            buffer: Vec::new(),
        }
    }

    async fn send(&mut self, method: &str, path: &str, headers: &str, body: &str) {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
            body.len()
        );
        self.stream.write_all(request.as_bytes()).await.unwrap();
    }

    /// The next response's status and body; `None` when the server closed the connection.
    async fn response(&mut self) -> Option<(u16, String)> {
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while self.buffer.len() < end + 4 + length {
                    if !self.fill().await {
                        return None;
                    }
                }
                let body =
                    String::from_utf8_lossy(&self.buffer[end + 4..end + 4 + length]).into_owned();
                self.buffer.drain(..end + 4 + length);
                let status = head.split(' ').nth(1)?.parse().ok()?;
                return Some((status, body));
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buffer.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Whether the server closed the connection (reading gives end-of-file or a reset) within
    /// `within`.
    async fn closed_within(&mut self, within: Duration) -> bool {
        let mut chunk = [0u8; 1024];
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => return false,
                Ok(Ok(0) | Err(_)) => return true,
                Ok(Ok(_)) => {}
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn ask(model: &str) -> String {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}).to_string()
}

#[tokio::test]
async fn made_up_model_ids_do_not_grow_the_metrics() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let client = reqwest::Client::new();
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..1000 {
        // Provider-qualified ids reach the twin (404 there); bare ids miss the catalog (404);
        // ids too long to be model ids are refused before either (400).
        let model = match i % 3 {
            0 => format!("amazon-bedrock/made-up-{i}-{}", "x".repeat(500)),
            1 => format!("made-up-{i}"),
            _ => format!("amazon-bedrock/{i}{}", "y".repeat(3000)),
        };
        let response = client
            .post(format!("{}/v1/chat/completions", gateway.url))
            .header("content-type", "application/json")
            .body(ask(&model))
            .send()
            .await
            .unwrap();
        *statuses.entry(response.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(
        statuses,
        [(400, 333), (404, 667)].into_iter().collect(),
        "{statuses:?}"
    );
    let text = gateway.metrics().await;
    assert!(
        text.len() < 64 * 1024,
        "/metrics grew to {} bytes:\n{}",
        text.len(),
        &text[..2000]
    );
    assert!(!text.contains("made-up"), "a client's id became a label");
    assert_eq!(
        metric(
            &text,
            "pincer_requests_total{model=\"unlisted\",status=\"404\",outcome=\"error\"}"
        ),
        Some(334.0),
        "{text}"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn trickled_headers_and_bodies_are_cut_off_while_others_are_served() {
    let gateway = Gateway::start(&limited("headerTimeout: 1, bodyTimeout: 1"), None).await;
    // Twenty clients trickle their headers one byte at a time.
    let mut tricklers = Vec::new();
    for _ in 0..20 {
        let url = gateway.url.clone();
        tricklers.push(tokio::spawn(async move {
            let mut raw = Raw::connect(&url).await;
            let started = Instant::now();
            for byte in b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: "
                .iter()
                .cycle()
            {
                if raw.stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
                if raw.closed_within(Duration::from_millis(100)).await {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(10), "never cut off");
            }
            started.elapsed()
        }));
    }
    // Meanwhile a normal client is answered.
    let response = gateway
        .post(json!({"model": CLAUDE, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for trickler in tricklers {
        let held = trickler.await.unwrap();
        assert!(
            held < Duration::from_secs(5),
            "a trickler was held {held:?}"
        );
    }
    // A client that sends its headers, then trickles its body a byte every 200 ms, gets 408 in
    // OpenAI's shape once the body deadline passes: trickling does not extend it.
    let mut reader = Raw::connect(&gateway.url).await;
    let stream = TcpStream::connect(gateway.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"model\"")
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(8), read.read_to_end(&mut answer)).await;
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    assert!(answer.contains("gateway.limits.bodyTimeout"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // An idle connection is closed after the header timeout too.
    assert!(reader.closed_within(Duration::from_secs(5)).await);
    gateway.stop().await;
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let gateway = Gateway::start(&limited("headerTimeout: 2, maxConnections: 4"), None).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        let mut raw = Raw::connect(&gateway.url).await;
        // A first byte, so the connection is surely accepted and held.
        raw.stream.write_all(b"G").await.unwrap();
        idle.push(raw);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = Raw::connect(&gateway.url).await;
    fifth.send("GET", "/v1/models", "", "").await;
    assert!(
        tokio::time::timeout(Duration::from_millis(500), fifth.response())
            .await
            .is_err(),
        "a fifth connection was served while four were held"
    );
    // The header timeout closes the four idle ones; the fifth is then served.
    let (status, _) = tokio::time::timeout(Duration::from_secs(10), fifth.response())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    for mut raw in idle {
        assert!(raw.closed_within(Duration::from_secs(1)).await);
    }
    gateway.stop().await;
}

#[tokio::test]
async fn requests_over_the_concurrency_limit_are_shed_with_503() {
    let gateway = Gateway::start(&limited("maxConcurrentRequests: 2"), None).await;
    // Two unstreamed answers that take two seconds hold both places.
    let slow = format!("{HAIKU}~stall:2");
    let held: Vec<_> = (0..2)
        .map(|_| {
            let request = gateway
                .post(json!({"model": slow, "messages": [{"role": "user", "content": "hi"}]}));
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shed = gateway
        .post(json!({"model": CLAUDE, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(shed.status(), 503);
    assert_eq!(shed.headers()["retry-after"], "1");
    let (_, error) = error_of(shed).await;
    assert_eq!(error["error"]["code"], "overloaded", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maxConcurrentRequests"),
        "{error}"
    );
    // Health and metrics still answer.
    assert_eq!(gateway.get("/healthz").send().await.unwrap().status(), 200);
    assert_eq!(gateway.get("/metrics").send().await.unwrap().status(), 200);
    for request in held {
        assert_eq!(request.await.unwrap(), 200);
    }
    // With the places free again, requests are served.
    let after = gateway
        .post(json!({"model": CLAUDE, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200);
    gateway.stop().await;
}

#[tokio::test]
async fn an_oversized_model_id_is_a_400_naming_model_on_a_live_connection() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let mut raw = Raw::connect(&gateway.url).await;
    // About 65 KB: this used to reach the AWS SDK, whose URI builder panicked, and the
    // connection was dropped.
    for model in [
        format!("amazon-bedrock/us.{}", "a".repeat(65_000)),
        "b".repeat(65_000),
        "amazon-bedrock/has spaces".to_owned(),
    ] {
        raw.send("POST", "/v1/chat/completions", "", &ask(&model))
            .await;
        let (status, body) = raw.response().await.expect("the connection survives");
        assert_eq!(status, 400, "{body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["param"], "model", "{error}");
        assert!(
            body.len() < 1000,
            "the error quotes the whole id: {} bytes",
            body.len()
        );
    }
    gateway.stop().await;
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_for_that_request_only() {
    let gateway = Gateway::launch(Setup {
        panic_route: true,
        ..Setup::new(DISCOVERY_ON)
    })
    .await;
    let mut raw = Raw::connect(&gateway.url).await;
    raw.send("GET", "/v1/test-panic", "", "").await;
    let (status, body) = raw
        .response()
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(status, 500, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["code"], "internal_error", "{error}");
    // The same connection goes on serving.
    raw.send("GET", "/v1/models", "", "").await;
    let (status, _) = raw.response().await.unwrap();
    assert_eq!(status, 200);
    gateway.stop().await;
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let token = "case-test-token-0123";
    let gateway = Gateway::start(DISCOVERY_ON, Some(token)).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = gateway
            .get("/v1/models")
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
    }
    let wrong = gateway
        .get("/v1/models")
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    gateway.stop().await;
}

#[tokio::test]
async fn a_prompt_over_bedrocks_request_limit_is_a_413() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    // 21 MiB: under the gateway's 32 MiB body limit, over Bedrock's 20 MB request limit.
    let prompt = "x".repeat(21 << 20);
    let response = gateway
        .post(json!({"model": CLAUDE, "messages": [{"role": "user", "content": prompt}]}))
        .send()
        .await
        .unwrap();
    let error = refused(response, 413, "too large").await;
    assert_eq!(error["error"]["code"], "request_too_large", "{error}");
    // Over the gateway's own limit, the gateway refuses it itself (the twin never sees it).
    let before = gateway.twin.stream_counts().invocations;
    let huge = "x".repeat(BODY_LIMIT + 1);
    let response = gateway
        .post(json!({"model": CLAUDE, "messages": [{"role": "user", "content": huge}]}))
        .send()
        .await
        .unwrap();
    refused(response, 413, "gateway.limits.maxRequestBytes").await;
    assert_eq!(gateway.twin.stream_counts().invocations, before);
    gateway.stop().await;
}
