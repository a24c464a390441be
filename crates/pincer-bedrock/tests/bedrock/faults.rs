//! Faults: retried before the first byte within the budget, never after; mid-stream failures end
//! the stream with a typed error and the partial message; stalls time out.

use std::time::Duration;

use bedrock_twin::TwinConfig;
use futures_util::StreamExt;
use pincer_core::{ErrorKind, Provider, ProviderRequest, RequestOptions, StopReason, StreamEvent};

use crate::common::{HAIKU3, Harness, ask, error_of, fast_options, model};

fn faulty(fault: &str) -> String {
    format!("{HAIKU3}~{fault}")
}

async fn run(harness: &Harness, model_id: &str, text: &str) -> Vec<StreamEvent> {
    let mut m = model(HAIKU3);
    m.id = model_id.to_owned();
    let request = ProviderRequest {
        model: m,
        conversation: ask(text),
        options: RequestOptions::default(),
    };
    harness.provider.stream(request).collect().await
}

#[tokio::test]
async fn throttling_is_retried_within_the_attempt_budget() {
    // Four attempts: three throttled answers, then success.
    let harness = Harness::with(TwinConfig::default(), fast_options()).await;
    let events = run(&harness, &faulty("fail-first:3"), "eventually").await;
    assert!(
        matches!(events.last(), Some(StreamEvent::Done { .. })),
        "{events:?}"
    );
    harness.stop().await;
    // Three attempts are not enough for three failures.
    let options = pincer_bedrock::provider::BedrockOptions {
        max_attempts: 3,
        ..fast_options()
    };
    let harness = Harness::with(TwinConfig::default(), options).await;
    let events = run(&harness, &faulty("fail-first:3"), "never").await;
    let (error, partial) = error_of(&events);
    assert!(matches!(error.kind, ErrorKind::Throttled { .. }), "{error}");
    // The client-wide interceptor counted this call's attempts, and only this call's.
    assert_eq!(error.retried.map(|r| r.attempts), Some(3), "{error}");
    assert!(partial.content.is_empty());
    assert_eq!(partial.stop_reason, StopReason::Error);
    harness.stop().await;
}

#[tokio::test]
async fn persistent_5xx_and_throttling_end_typed() {
    let harness = Harness::start().await;
    let (error, _) = error_of(&run(&harness, &faulty("throttle"), "x").await);
    assert!(matches!(error.kind, ErrorKind::Throttled { .. }), "{error}");
    let (error, _) = error_of(&run(&harness, &faulty("5xx:503"), "x").await);
    assert_eq!(error.kind, ErrorKind::ServiceUnavailable, "{error}");
    let (error, _) = error_of(&run(&harness, &faulty("5xx:500"), "x").await);
    assert_eq!(error.kind, ErrorKind::ServiceUnavailable, "{error}");
    harness.stop().await;
}

#[tokio::test]
async fn midstream_exceptions_keep_the_partial_message() {
    let harness = Harness::start().await;
    for (exception, kind) in [
        ("modelStreamErrorException", ErrorKind::StreamInterrupted),
        (
            "throttlingException",
            ErrorKind::Throttled { retry_after: None },
        ),
        ("internalServerException", ErrorKind::ServiceUnavailable),
        ("serviceUnavailableException", ErrorKind::ServiceUnavailable),
        ("validationException", ErrorKind::Validation),
    ] {
        let events = run(
            &harness,
            &faulty(&format!("midstream-{exception}:2")),
            "a fairly long prompt that streams",
        )
        .await;
        let (error, partial) = error_of(&events);
        assert_eq!(error.kind, kind, "{exception}: {error}");
        assert!(!partial.text().is_empty(), "{exception}: partial text lost");
        assert_eq!(partial.stop_reason, StopReason::Error);
        let deltas = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::TextDelta { .. }))
            .count();
        assert_eq!(deltas, 2, "{exception}: {events:?}");
    }
    harness.stop().await;
}

#[tokio::test]
async fn reset_mid_stream_is_an_interruption() {
    let harness = Harness::start().await;
    let events = run(
        &harness,
        &faulty("reset:2"),
        "a fairly long prompt that streams",
    )
    .await;
    let (error, partial) = error_of(&events);
    assert_eq!(error.kind, ErrorKind::StreamInterrupted, "{error}");
    assert!(!partial.text().is_empty());
    harness.stop().await;
}

#[tokio::test]
async fn a_stall_times_out() {
    let options = pincer_bedrock::provider::BedrockOptions {
        stall_timeout: Duration::from_millis(500),
        ..fast_options()
    };
    let harness = Harness::with(TwinConfig::default(), options).await;
    let events = run(&harness, &faulty("stall:30"), "stall please").await;
    let (error, _) = error_of(&events);
    assert_eq!(error.kind, ErrorKind::Timeout, "{error}");
    harness.stop().await;
}

#[tokio::test]
async fn dropping_the_stream_cancels_it() {
    let harness = Harness::start().await;
    let mut m = model(HAIKU3);
    m.id = faulty("slow:200");
    let request = ProviderRequest {
        model: m,
        conversation: ask("one two three four five six seven eight nine ten eleven twelve"),
        options: RequestOptions::default(),
    };
    let mut stream = harness.provider.stream(request);
    // Wait for the first text: the upstream stream is open and sending.
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .unwrap();
        if matches!(event, StreamEvent::TextDelta { .. }) {
            break;
        }
    }
    drop(stream);
    // The twin sees its client go away: the stream is abandoned, not completed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while harness.twin.stream_counts().abandoned == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upstream stream was never closed: {:?}",
            harness.twin.stream_counts()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let counts = harness.twin.stream_counts();
    assert_eq!(
        (counts.started, counts.completed, counts.abandoned),
        (1, 0, 1)
    );
    // The provider keeps serving after a cancelled request.
    let events = run(&harness, HAIKU3, "still here").await;
    assert!(matches!(events.last(), Some(StreamEvent::Done { .. })));
    assert_eq!(harness.twin.stream_counts().completed, 1);
    harness.stop().await;
}

#[tokio::test]
async fn unknown_and_profile_only_models_are_explained() {
    let harness = Harness::start().await;
    let (error, _) = error_of(&run(&harness, "us.does-not-exist-model-v1:0", "x").await);
    assert_eq!(error.kind, ErrorKind::InvalidModel, "{error}");
    // Claude 3.7 Sonnet is invocable only through an inference profile.
    let (error, _) =
        error_of(&run(&harness, "anthropic.claude-3-7-sonnet-20250219-v1:0", "x").await);
    assert_eq!(
        error.kind,
        ErrorKind::OnDemandNotSupported {
            profile_id: Some("us.anthropic.claude-3-7-sonnet-20250219-v1:0".into())
        },
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("us.anthropic.claude-3-7-sonnet-20250219-v1:0")
    );
    harness.stop().await;
}
