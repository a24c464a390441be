//! Fault injection, per request (header or model-id suffix) and global.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use bedrock_twin::{Fault, StreamException};

use crate::common::{
    MODEL, SHORT, collect, default_credentials, runtime, runtime_with, start, start_with, user,
};

type StreamResult = Result<
    aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput,
    aws_sdk_bedrockruntime::error::SdkError<
        aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
>;

async fn with_fault(client: &aws_sdk_bedrockruntime::Client, fault: &'static str) -> StreamResult {
    client
        .converse_stream()
        .model_id(MODEL)
        .messages(user("a reply that needs a good number of deltas to stream"))
        .customize()
        .mutate_request(move |req| {
            req.headers_mut().insert("x-twin-fault", fault);
        })
        .send()
        .await
}

#[tokio::test]
async fn throttle_and_5xx_answer_before_the_stream() {
    let twin = start().await;
    let client = runtime(&twin);
    for (fault, code, status) in [
        ("throttle", "ThrottlingException", 429),
        ("5xx", "InternalServerException", 500),
        ("5xx:503", "ServiceUnavailableException", 503),
    ] {
        let err = client
            .converse_stream()
            .model_id(MODEL)
            .messages(user("x"))
            .customize()
            .mutate_request(move |req| {
                req.headers_mut().insert("x-twin-fault", fault);
            })
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(code), "{fault}");
        assert_eq!(err.raw_response().unwrap().status().as_u16(), status);
        let err = client
            .converse()
            .model_id(MODEL)
            .messages(user("x"))
            .customize()
            .mutate_request(move |req| {
                req.headers_mut().insert("x-twin-fault", fault);
            })
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(code), "{fault}");
    }
    twin.stop().await;
}

#[tokio::test]
async fn each_midstream_exception_arrives_after_n_deltas() {
    let twin = start().await;
    let client = runtime(&twin);
    for exception in StreamException::ALL {
        let fault: &'static str =
            Box::leak(format!("midstream-{}:2", exception.name()).into_boxed_str());
        let out = with_fault(&client, fault).await.unwrap();
        let got = collect(out).await;
        assert_eq!(
            got.events,
            [
                "messageStart",
                "contentBlockDelta",
                "contentBlockDelta",
                &format!("exception:{}", exception.name())
            ],
            "{fault}"
        );
    }
    twin.stop().await;
}

#[tokio::test]
async fn model_id_suffix_selects_a_fault() {
    let twin = start().await;
    let out = runtime(&twin)
        .converse_stream()
        .model_id(format!("{MODEL}~midstream-modelStreamErrorException:1"))
        .messages(user("some text to stream"))
        .send()
        .await
        .unwrap();
    let got = collect(out).await;
    assert_eq!(
        got.error.as_deref(),
        Some("exception:modelStreamErrorException")
    );
    assert_eq!(
        got.events
            .iter()
            .filter(|e| *e == "contentBlockDelta")
            .count(),
        1
    );
    let err = runtime(&twin)
        .converse()
        .model_id(format!("{MODEL}~throttle"))
        .messages(user("x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    twin.stop().await;
}

#[tokio::test]
async fn reset_drops_the_connection_mid_stream() {
    let twin = start().await;
    let out = with_fault(&runtime(&twin), "reset:2").await.unwrap();
    let got = collect(out).await;
    assert!(
        got.error.as_deref().unwrap().starts_with("transport:"),
        "{got:?}"
    );
    assert_eq!(
        got.events
            .iter()
            .filter(|e| *e == "contentBlockDelta")
            .count(),
        2
    );
    assert!(got.stop_reason.is_none());
    twin.stop().await;
}

#[tokio::test]
async fn stall_sends_nothing_after_message_start() {
    let twin = start().await;
    let mut out = with_fault(&runtime(&twin), "stall:30").await.unwrap();
    let first = out.stream.recv().await.unwrap().unwrap();
    assert!(matches!(first, ConverseStreamOutput::MessageStart(_)));
    let next = tokio::time::timeout(SHORT, out.stream.recv()).await;
    assert!(next.is_err(), "bytes arrived during the stall");
    drop(out);
}

#[tokio::test]
async fn short_stall_then_the_stream_completes() {
    let twin = start().await;
    let out = with_fault(&runtime(&twin), "stall:1").await.unwrap();
    let got = collect(out).await;
    assert_eq!(got.stop_reason.as_deref(), Some("end_turn"));
    assert_eq!(
        got.text,
        "a reply that needs a good number of deltas to stream"
    );
    twin.stop().await;
}

#[tokio::test]
async fn slow_streams_every_delta_late_and_reports_latency() {
    let twin = start().await;
    let out = with_fault(&runtime(&twin), "slow:5").await.unwrap();
    let got = collect(out).await;
    let deltas = got
        .events
        .iter()
        .filter(|e| *e == "contentBlockDelta")
        .count() as i64;
    assert!(got.latency_ms.unwrap() >= 5 * deltas);
    assert_eq!(got.stop_reason.as_deref(), Some("end_turn"));
    twin.stop().await;
}

#[tokio::test]
async fn fail_first_then_succeed_counts_per_key() {
    let twin = start().await;
    let retrying = runtime_with(
        twin.url(),
        default_credentials(),
        RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1)),
    );
    let out = retrying
        .converse()
        .model_id(MODEL)
        .messages(user("eventually"))
        .customize()
        .mutate_request(|req| {
            req.headers_mut().insert("x-twin-fault", "fail-first:2");
            req.headers_mut().insert("x-twin-fault-key", "retry-test");
        })
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.output().unwrap().as_message().unwrap().content()[0]
            .as_text()
            .unwrap(),
        "eventually"
    );
    let once = runtime(&twin);
    let attempt = || {
        once.converse()
            .model_id(MODEL)
            .messages(user("x"))
            .customize()
            .mutate_request(|req| {
                req.headers_mut().insert("x-twin-fault", "fail-first:2");
                req.headers_mut().insert("x-twin-fault-key", "manual");
            })
            .send()
    };
    assert_eq!(
        attempt().await.unwrap_err().code(),
        Some("ThrottlingException")
    );
    assert_eq!(
        attempt().await.unwrap_err().code(),
        Some("ThrottlingException")
    );
    assert!(attempt().await.is_ok());
    twin.stop().await;
}

#[tokio::test]
async fn global_fault_applies_to_every_request() {
    let twin = start_with(|c| c.fault = Some(Fault::Throttle)).await;
    let err = runtime(&twin)
        .converse()
        .model_id(MODEL)
        .messages(user("x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    let err = crate::common::control(&twin)
        .list_foundation_models()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_bedrock::error::ProvideErrorMetadata::code(&err),
        Some("ThrottlingException")
    );
    twin.stop().await;
}

#[tokio::test]
async fn unknown_fault_names_are_refused() {
    let twin = start().await;
    let err = with_fault(&runtime(&twin), "explode").await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    twin.stop().await;
}

#[tokio::test]
async fn converse_reports_stream_faults_as_errors() {
    let twin = start().await;
    let client = runtime(&twin);
    for (fault, code) in [
        (
            "midstream-modelStreamErrorException:1",
            "ModelErrorException",
        ),
        ("midstream-throttlingException:1", "ThrottlingException"),
        ("midstream-validationException:1", "ValidationException"),
    ] {
        let err = client
            .converse()
            .model_id(MODEL)
            .messages(user("x"))
            .customize()
            .mutate_request(move |req| {
                req.headers_mut().insert("x-twin-fault", fault);
            })
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(code), "{fault}");
    }
    let reset = client
        .converse()
        .model_id(MODEL)
        .messages(user("x"))
        .customize()
        .mutate_request(|req| {
            req.headers_mut().insert("x-twin-fault", "reset");
        })
        .send()
        .await
        .unwrap_err();
    assert!(reset.as_service_error().is_none(), "{reset:?}");
    twin.stop().await;
}

#[tokio::test]
async fn a_fault_after_more_deltas_than_the_reply_has_still_happens() {
    // "two words" streams as two deltas; faults after 2 and after 50 both come after the last.
    let twin = start().await;
    let client = runtime(&twin);
    let ask = |fault: String| {
        client
            .converse_stream()
            .model_id(format!("{MODEL}~{fault}"))
            .messages(user("two words"))
            .send()
    };
    for after in [2, 50] {
        let got = collect(
            ask(format!("midstream-modelStreamErrorException:{after}"))
                .await
                .unwrap(),
        )
        .await;
        let deltas = got
            .events
            .iter()
            .filter(|e| *e == "contentBlockDelta")
            .count();
        assert!(deltas >= 1, "{:?}", got.events);
        assert_eq!(
            got.error.as_deref(),
            Some("exception:modelStreamErrorException"),
            "after {after}: {:?}",
            got.events
        );
        assert!(
            !got.events.iter().any(|e| e == "messageStop"),
            "the stream never ends normally: {:?}",
            got.events
        );
        let got = collect(ask(format!("reset:{after}")).await.unwrap()).await;
        assert!(got.error.is_some(), "reset:{after}: {:?}", got.events);
        assert!(!got.events.iter().any(|e| e == "messageStop"));
    }
    twin.stop().await;
}
