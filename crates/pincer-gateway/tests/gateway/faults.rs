//! Faults through the gateway, against the twin's fault modes: failures before any output are
//! retried within the attempt budget (the twin counts the attempts) and answered in OpenAI's
//! shape; failures after output end the stream with an error event; stalls time out; discovery
//! outages and rotating credentials never reach a client; a thousand clients hanging up leave
//! no task, stream or memory behind.

use bedrock_twin::Fault;
use futures_util::StreamExt;

use super::*;

fn ask(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream,
           "messages": [{"role": "user", "content": "a fairly long prompt whose answer streams in several deltas"}]})
}

/// Sends `body`; returns the status, the body and how many upstream attempts it took.
async fn attempts_of(gateway: &Gateway, body: Value) -> (u16, String, u64) {
    let before = gateway.twin.stream_counts().invocations;
    let response = gateway.post(body).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        text,
        gateway.twin.stream_counts().invocations - before,
    )
}

/// The text of the content deltas of an SSE body.
fn streamed_text(data: &[String]) -> String {
    data.iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn failures_before_output_are_retried_within_the_budget_then_typed() {
    let gateway = Gateway::launch(Setup {
        bedrock: BedrockOptions {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(5),
            ..BedrockOptions::default()
        },
        ..Setup::new(DISCOVERY_ON)
    })
    .await;
    let cases = [
        ("throttle", 429, "rate_limit_exceeded"),
        ("5xx:500", 503, "service_unavailable"),
        ("5xx:503", 503, "service_unavailable"),
        // A connection closed before any response: Bedrock could not be reached.
        ("hangup", 503, "service_unavailable"),
    ];
    for stream in [false, true] {
        for (fault, status, code) in cases {
            let (got, body, attempts) =
                attempts_of(&gateway, ask(&format!("{HAIKU}~{fault}"), stream)).await;
            assert_eq!(got, status, "{fault} (stream: {stream}): {body}");
            assert_eq!(
                attempts, 3,
                "{fault} (stream: {stream}): every attempt used"
            );
            let error: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(error["error"]["code"], code, "{fault}: {error}");
            assert!(
                error["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
        // Two failures, then an answer: the third attempt succeeds. (The twin counts failures
        // per model path, so each pass uses its own model.)
        let model = if stream { CLAUDE } else { HAIKU };
        let (got, body, attempts) =
            attempts_of(&gateway, ask(&format!("{model}~fail-first:2"), stream)).await;
        assert_eq!(got, 200, "stream: {stream}: {body}");
        assert_eq!(attempts, 3, "stream: {stream}");
    }
    let text = gateway.metrics().await;
    // A model id the catalog does not list (here, with the twin's fault suffix) counts under one
    // fixed label, so clients cannot grow the label set.
    let throttled = "pincer_errors_total{model=\"unlisted\",kind=\"throttled\"}";
    assert_eq!(metric(&text, throttled), Some(2.0), "{text}");
    gateway.stop().await;
}

#[tokio::test]
async fn every_failure_after_output_ends_the_stream_with_an_error_event() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    // A healthy stream runs beside the failing ones, and must not notice them.
    let healthy = gateway
        .post(json!({"model": format!("{HAIKU}~slow:40"), "stream": true,
                     "messages": [{"role": "user", "content": "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"}]}))
        .send();
    let healthy = tokio::spawn(async move { healthy.await.unwrap().text().await.unwrap() });
    // Its upstream request is under way before the failing ones are counted.
    while gateway.twin.stream_counts().started == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cases = [
        (
            "midstream-modelStreamErrorException:2",
            "stream_interrupted",
        ),
        ("midstream-throttlingException:2", "rate_limit_exceeded"),
        ("midstream-internalServerException:2", "service_unavailable"),
        (
            "midstream-serviceUnavailableException:2",
            "service_unavailable",
        ),
        ("midstream-validationException:2", "validation"),
        ("reset:2", "stream_interrupted"),
    ];
    for (fault, code) in cases {
        let (status, body, attempts) =
            attempts_of(&gateway, ask(&format!("{HAIKU}~{fault}"), true)).await;
        assert_eq!(status, 200, "{fault}: {body}");
        assert_eq!(attempts, 1, "{fault}: never retried once output began");
        let data = sse_data(&body);
        assert!(!data.contains(&"[DONE]".to_owned()), "{fault}: {body}");
        let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
        assert_eq!(last["error"]["code"], code, "{fault}: {last}");
        assert!(
            !streamed_text(&data).is_empty(),
            "{fault}: the partial answer comes first"
        );
        // The gateway goes on serving.
        let (status, body, _) = attempts_of(&gateway, ask(HAIKU, false)).await;
        assert_eq!(status, 200, "after {fault}: {body}");
    }
    let healthy = healthy.await.unwrap();
    let data = sse_data(&healthy);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "{healthy}");
    assert!(streamed_text(&data).contains("fourteen"), "{healthy}");
    let text = gateway.metrics().await;
    assert_eq!(metric(&text, "pincer_active_streams "), Some(0.0), "{text}");
    gateway.stop().await;
}

#[tokio::test]
async fn a_stream_without_events_for_the_stall_timeout_ends_with_a_timeout() {
    let gateway = Gateway::launch(Setup {
        bedrock: BedrockOptions {
            stall_timeout: Duration::from_millis(500),
            max_attempts: 1,
            ..BedrockOptions::default()
        },
        ..Setup::new(DISCOVERY_ON)
    })
    .await;
    // Silence after two deltas: streamed, the client has the partial text, then the timeout.
    let started = std::time::Instant::now();
    let (status, body, _) = attempts_of(&gateway, ask(&format!("{HAIKU}~stall:30:2"), true)).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status, 200, "{body}");
    let data = sse_data(&body);
    let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "timeout", "{last}");
    assert!(!streamed_text(&data).is_empty());
    // Not streamed, and silent from the start: a 504.
    for fault in ["stall:30:2", "stall:30"] {
        let (status, body, _) =
            attempts_of(&gateway, ask(&format!("{HAIKU}~{fault}"), false)).await;
        assert_eq!(status, 504, "{fault}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "timeout", "{error}");
    }
    assert!(started.elapsed() < Duration::from_secs(15));
    gateway.stop().await;
}

/// Polls `/metrics` until the counter at `prefix` exceeds `above`.
async fn metric_above(gateway: &Gateway, prefix: &str, above: f64) -> f64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let value = metric(&gateway.metrics().await, prefix).unwrap_or(0.0);
        if value > above {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{prefix} stayed at {value}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn discovery_outages_never_break_chat_with_a_known_model() {
    let gateway = Gateway::launch(Setup {
        deadline: Duration::from_millis(800),
        ..Setup::new("{ models: { bedrockDiscovery: { enabled: true, refreshInterval: 1 } } }")
    })
    .await;
    let served = gateway.model_ids().await;
    assert!(served.len() > 10, "{served:?}");
    const FAILED: &str = "pincer_catalog_refreshes_total{outcome=\"error\"}";
    const OK: &str = "pincer_catalog_refreshes_total{outcome=\"ok\"}";
    let mut failures = 0.0;
    for fault in [
        Fault::Deny,
        Fault::ServerError(500),
        Fault::Throttle,
        Fault::Stall { secs: 5, after: 0 },
    ] {
        gateway.twin.set_control_fault(Some(fault));
        failures = metric_above(&gateway, FAILED, failures).await;
        for stream in [false, true] {
            let (status, body, _) = attempts_of(&gateway, ask(CLAUDE, stream)).await;
            assert_eq!(status, 200, "{fault:?}: {body}");
        }
        assert_eq!(gateway.model_ids().await, served, "{fault:?}");
        assert_eq!(
            gateway.get("/readyz").send().await.unwrap().status(),
            200,
            "{fault:?}"
        );
    }
    // Discovery comes back, and so do successful refreshes.
    gateway.twin.set_control_fault(None);
    let ok = metric(&gateway.metrics().await, OK).unwrap_or(0.0);
    metric_above(&gateway, OK, ok).await;
    assert_eq!(gateway.model_ids().await, served);
    gateway.stop().await;
}

#[tokio::test]
async fn a_gateway_starts_and_serves_its_configured_models_while_discovery_is_down() {
    let config = r#"{ models: { bedrockDiscovery: { enabled: true, refreshInterval: 1 },
             providers: { "amazon-bedrock": { api: "bedrock-converse-stream", auth: "aws-sdk",
               models: [{ id: "anthropic.claude-3-haiku-20240307-v1:0", name: "Haiku" }] } } } }"#;
    let gateway = Gateway::launch(Setup {
        control_fault: Some(Fault::Deny),
        deadline: Duration::from_millis(800),
        ..Setup::new(config)
    })
    .await;
    assert_eq!(gateway.model_ids().await, [HAIKU]);
    let (status, body, _) = attempts_of(&gateway, ask(HAIKU, false)).await;
    assert_eq!(status, 200, "{body}");
    // When discovery recovers, the discovered models join.
    gateway.twin.set_control_fault(None);
    metric_above(
        &gateway,
        "pincer_catalog_refreshes_total{outcome=\"ok\"}",
        0.0,
    )
    .await;
    assert!(gateway.model_ids().await.len() > 10);
    gateway.stop().await;
}

/// Sends a mix of streamed and plain requests at a steady rate for `duration`; returns how
/// many were sent and the failures.
async fn steady_load(gateway: &Gateway, duration: Duration) -> (usize, Vec<String>) {
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", gateway.url);
    let mut ticks = tokio::time::interval(Duration::from_millis(50));
    let end = tokio::time::Instant::now() + duration;
    let mut requests = Vec::new();
    let mut i = 0usize;
    while tokio::time::Instant::now() < end {
        ticks.tick().await;
        let request = client
            .post(&url)
            .json(&ask(CLAUDE, i.is_multiple_of(2)))
            .send();
        requests.push(tokio::spawn(async move {
            let response = request.await.map_err(|e| e.to_string())?;
            let status = response.status();
            let body = response.text().await.map_err(|e| e.to_string())?;
            if status != 200 || body.contains("\"error\"") {
                return Err(format!("{status}: {body}"));
            }
            Ok(())
        }));
        i += 1;
    }
    let mut failures = Vec::new();
    for request in requests {
        if let Err(failure) = request.await.unwrap() {
            failures.push(failure);
        }
    }
    (i, failures)
}

#[tokio::test]
async fn rotating_instance_and_container_credentials_cause_no_auth_failure_under_load() {
    // Credentials live 12 s and the twin replaces them every 6 s; the SDK refreshes them ahead
    // of expiry. Every request signed with expired ones would be refused by the twin.
    let start = |credentials| {
        Gateway::launch(Setup {
            credentials,
            twin: TwinConfig {
                credential_ttl: Duration::from_secs(12),
                ..TwinConfig::default()
            },
            ..Setup::new(DISCOVERY_ON)
        })
    };
    let (instance, container) = tokio::join!(
        start(Credentials::InstanceRole),
        start(Credentials::Container)
    );
    let minute = Duration::from_secs(60);
    let ((sent_a, failed_a), (sent_b, failed_b)) = tokio::join!(
        steady_load(&instance, minute),
        steady_load(&container, minute)
    );
    assert!(failed_a.is_empty(), "instance role: {failed_a:?}");
    assert!(failed_b.is_empty(), "container: {failed_b:?}");
    eprintln!("instance role: {sent_a} requests, container: {sent_b} requests, no failure");
    assert!(sent_a > 600 && sent_b > 600, "{sent_a} / {sent_b}");
    for (name, gateway) in [("instance role", &instance), ("container", &container)] {
        let issued = gateway.twin.credentials_issued();
        eprintln!("{name}: {issued} credentials issued");
        assert!(issued >= 6, "{name}: only {issued} credentials were issued");
    }
    instance.stop().await;
    container.stop().await;
}

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_disconnects_leave_no_task_stream_or_memory_behind() {
    let owned = Gateway::start(DISCOVERY_ON, None).await;
    let gateway = &owned;
    let client = reqwest::Client::new();
    let model = format!("{HAIKU}~slow:100");
    let hang_up = |client: reqwest::Client| {
        let request = gateway.post(json!({"model": model, "stream": true,
            "messages": [{"role": "user", "content": "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"}]}));
        async move {
            let _ = client;
            let mut response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            // Read until text arrives, then hang up.
            loop {
                let chunk = response.chunk().await.unwrap().unwrap();
                if String::from_utf8_lossy(&chunk).contains("\"content\"") {
                    break;
                }
            }
        }
    };
    let round = |n: usize| {
        futures_util::stream::iter(0..n)
            .map(|_| hang_up(client.clone()))
            .buffer_unordered(50)
            .collect::<Vec<()>>()
    };
    let settle = |expected: u64| async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let counts = gateway.twin.stream_counts();
            let active = metric(&gateway.metrics().await, "pincer_active_streams ");
            if counts.abandoned == expected && active == Some(0.0) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{counts:?}, active streams {active:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    round(200).await;
    settle(200).await;
    let (tasks_before, rss_before) = (tasks(), rss());
    round(800).await;
    settle(1000).await;
    let (tasks_after, rss_after) = (tasks(), rss());
    let counts = gateway.twin.stream_counts();
    assert_eq!((counts.started, counts.completed), (1000, 0), "{counts:?}");
    let text = gateway.metrics().await;
    // The head (200) went out before each hang-up.
    let cancelled =
        "pincer_requests_total{model=\"unlisted\",status=\"200\",outcome=\"cancelled\"}";
    assert_eq!(metric(&text, cancelled), Some(1000.0), "{model}: {text}");
    assert!(
        tasks_after <= tasks_before + 4,
        "tasks grew from {tasks_before} to {tasks_after} over 800 disconnects"
    );
    let grown = rss_after.saturating_sub(rss_before);
    assert!(
        grown < 16 << 20,
        "memory grew by {} KiB over 800 disconnects",
        grown >> 10
    );
    eprintln!(
        "tasks {tasks_before} -> {tasks_after}, rss {} -> {} KiB",
        rss_before >> 10,
        rss_after >> 10
    );
    owned.stop().await;
}

#[tokio::test]
async fn a_gateway_that_started_without_discovery_is_ready_soon_after_it_returns() {
    // The default hour between refreshes; nothing configured, so nothing to serve at first.
    let gateway = Gateway::launch(Setup {
        control_fault: Some(Fault::Deny),
        deadline: Duration::from_millis(800),
        ..Setup::new(DISCOVERY_ON)
    })
    .await;
    assert_eq!(gateway.get("/readyz").send().await.unwrap().status(), 503);
    // Failed tries come quickly (200 ms, doubling) and are counted.
    metric_above(
        &gateway,
        "pincer_catalog_refreshes_total{outcome=\"error\"}",
        0.0,
    )
    .await;
    gateway.twin.set_control_fault(None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while gateway.get("/readyz").send().await.unwrap().status() != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not ready 10 s after discovery came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gateway.model_ids().await.len() > 10);
    gateway.stop().await;
}
