//! The signals operators and SDKs read: `x-request-id` (kept from the client or made, in error
//! bodies of every shape), `retry-after`/`x-should-retry` after Pincer's own retries, a short
//! stable message for a lost connection, and request counters that keep the HTTP status sent
//! apart from the outcome.

use super::*;

/// A chat request for `model` that streams or not.
fn ask(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream,
           "messages": [{"role": "user", "content": "a fairly long prompt whose answer streams in several deltas"}]})
}

#[tokio::test]
async fn every_response_has_a_request_id_and_errors_carry_it() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    // Made by the gateway, one per request.
    let first = gateway.post(ask(HAIKU, false)).send().await.unwrap();
    let second = gateway.get("/healthz").send().await.unwrap();
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let (one, two) = (id(&first), id(&second));
    assert!(one.starts_with("req_"), "{one}");
    assert_ne!(one, two);
    // The client's own is kept, and is in the OpenAI-shaped error body.
    let response = gateway
        .post(json!({"model": "amazon-bedrock/nobody.none-v1:0", "messages": [{"role": "user", "content": "x"}]}))
        .header("x-request-id", "client-trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(id(&response), "client-trace-42");
    let (status, error) = error_of(response).await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["request_id"], "client-trace-42", "{error}");
    // Anthropic's shape puts it at the top, as Anthropic does; layers before the door too.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", gateway.url))
        .header("x-request-id", "anthropic-7")
        .body("not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["request-id"],
        "anthropic-7",
        "Anthropic's header too"
    );
    let (status, error) = error_of(response).await;
    assert_eq!(status, 400);
    assert_eq!(error["type"], "error");
    assert_eq!(error["request_id"], "anthropic-7", "{error}");
    assert!(
        first.headers().get("request-id").is_none(),
        "only on the Messages door"
    );
    // An unknown route answers from the fallback, with an id.
    let (_, error) = error_of(gateway.get("/v2/nothing").send().await.unwrap()).await;
    assert!(
        error["error"]["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_"),
        "{error}"
    );
    // An id a log should not carry is replaced.
    for bad in ["x".repeat(200), "two words".to_owned()] {
        let response = gateway
            .get("/healthz")
            .header("x-request-id", bad.as_str())
            .send()
            .await
            .unwrap();
        assert!(id(&response).starts_with("req_"), "{bad}");
    }
    gateway.stop().await;
}

#[tokio::test]
async fn a_throttle_pincer_already_retried_tells_the_client_not_to_pile_on() {
    // Three attempts, 100 ms first backoff: the next would have waited up to 400 ms.
    let gateway = Gateway::launch(Setup {
        bedrock: BedrockOptions {
            initial_backoff: Duration::from_millis(100),
            max_attempts: 3,
            ..BedrockOptions::default()
        },
        ..Setup::new(DISCOVERY_ON)
    })
    .await;
    let before = gateway.twin.stream_counts().invocations;
    let response = gateway
        .post(ask(&format!("{HAIKU}~throttle"), false))
        .send()
        .await
        .unwrap();
    assert_eq!(gateway.twin.stream_counts().invocations - before, 3);
    assert_eq!(response.status(), 429);
    let headers = response.headers().clone();
    assert_eq!(headers["x-should-retry"], "false");
    assert_eq!(headers["retry-after-ms"], "400");
    assert_eq!(headers["retry-after"], "1");
    let (_, error) = error_of(response).await;
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("after 3 attempts"), "{message}");
    // A 5xx after retries gets the next backoff, and no verdict: the client may try again.
    let response = gateway
        .post(ask(&format!("{HAIKU}~5xx:503"), false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after-ms"], "400");
    assert!(response.headers().get("x-should-retry").is_none());
    gateway.stop().await;

    // Without Pincer's retries, the client's own retries are welcome.
    let gateway = Gateway::launch(Setup {
        bedrock: BedrockOptions {
            max_attempts: 1,
            ..BedrockOptions::default()
        },
        ..Setup::new(DISCOVERY_ON)
    })
    .await;
    let response = gateway
        .post(ask(&format!("{HAIKU}~throttle"), false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("x-should-retry").is_none());
    assert_eq!(response.headers()["retry-after"], "1");
    gateway.stop().await;
}

#[tokio::test]
async fn a_reset_mid_stream_gives_a_stable_message_and_counts_as_sent() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let response = gateway
        .post(ask(&format!("{HAIKU}~reset:2"), true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let last: Value = serde_json::from_str(sse_data(&body).last().unwrap()).unwrap();
    assert_eq!(
        last["error"]["message"],
        "stream_interrupted: the connection to Bedrock was lost mid-answer",
        "{last}"
    );
    for internal in ["os error", "io error", "dispatch", "connection reset"] {
        assert!(
            !body.to_lowercase().contains(internal),
            "{internal}: {body}"
        );
    }
    // The client got 200, and the request failed: both are counted, apart.
    let text = gateway.metrics().await;
    let failed = "pincer_requests_total{model=\"unlisted\",status=\"200\",outcome=\"error\"}";
    assert_eq!(metric(&text, failed), Some(1.0), "{text}");
    assert!(!text.contains("status=\"502\""), "{text}");
    assert_eq!(
        metric(
            &text,
            "pincer_request_duration_seconds_count{model=\"unlisted\",stream=\"true\"}"
        ),
        Some(1.0),
        "a failed stream's time counts as a stream's: {text}"
    );
    assert_eq!(
        metric(
            &text,
            "pincer_errors_total{model=\"unlisted\",kind=\"stream_interrupted\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // Before the head, the status is the error's.
    let response = gateway
        .post(ask(&format!("{HAIKU}~reset:0"), true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let text = gateway.metrics().await;
    let refused = "pincer_requests_total{model=\"unlisted\",status=\"502\",outcome=\"error\"}";
    assert_eq!(metric(&text, refused), Some(1.0), "{text}");
    gateway.stop().await;
}

#[tokio::test]
async fn metrics_come_in_the_format_the_scraper_ranks_first() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let response = gateway.post(ask(HAIKU, false)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let scrape = |accept: &'static str| {
        let request = gateway.get("/metrics").header("accept", accept);
        async move {
            let response = request.send().await.unwrap();
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(response.headers()["vary"], "accept");
            (kind, response.text().await.unwrap())
        }
    };
    let (kind, text) = scrape("text/plain; version=0.0.4").await;
    assert_eq!(kind, "text/plain; version=0.0.4; charset=utf-8");
    assert!(
        text.contains("# TYPE pincer_requests_total counter"),
        "{text}"
    );
    assert!(!text.contains("# EOF"));
    let (kind, text) = scrape("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1").await;
    assert!(
        kind.starts_with("application/openmetrics-text; version=1.0.0"),
        "{kind}"
    );
    assert!(text.contains("# TYPE pincer_requests counter"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
    gateway.stop().await;
}
