//! Authentication paths: SigV4 (good, wrong secret, unknown key, session tokens, expiry, clock
//! skew) and bearer tokens.

use std::time::{Duration, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_bedrockruntime::config::Token;
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_smithy_async::time::StaticTimeSource;
use aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID;
use bedrock_twin::AccessKey;

use crate::common::{MODEL, control_with, runtime_with, start, start_with, user};

async fn converse_code(url: &str, credentials: Credentials) -> Option<String> {
    match runtime_with(url, credentials, RetryConfig::disabled())
        .converse()
        .model_id(MODEL)
        .messages(user("hello"))
        .send()
        .await
    {
        Ok(_) => None,
        Err(e) => Some(e.code().unwrap_or("no code").to_owned()),
    }
}

#[tokio::test]
async fn good_signature_is_accepted_on_both_apis() {
    let twin = start().await;
    let creds = Credentials::new("AKIDTWIN", "twin-secret", None, None, "t");
    assert_eq!(converse_code(twin.url(), creds.clone()).await, None);
    control_with(twin.url(), creds)
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    twin.stop().await;
}

#[tokio::test]
async fn wrong_secret_and_unknown_key_are_refused() {
    let twin = start().await;
    let wrong = Credentials::new("AKIDTWIN", "not-the-secret", None, None, "t");
    assert_eq!(
        converse_code(twin.url(), wrong.clone()).await.as_deref(),
        Some("InvalidSignatureException")
    );
    let err = control_with(twin.url(), wrong)
        .list_inference_profiles()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidSignatureException"));
    let unknown = Credentials::new("AKIDNOBODY", "x", None, None, "t");
    assert_eq!(
        converse_code(twin.url(), unknown).await.as_deref(),
        Some("UnrecognizedClientException")
    );
    twin.stop().await;
}

#[tokio::test]
async fn session_tokens_and_expiry() {
    let twin = start_with(|c| {
        c.keys
            .push(AccessKey::new("ASIASESSION", "s3cret").with_session_token("tok-1"));
        c.keys.push(
            AccessKey::new("ASIAEXPIRED", "s3cret")
                .with_session_token("tok-2")
                .with_expiry(SystemTime::now() - Duration::from_secs(60)),
        );
    })
    .await;
    let good = Credentials::new("ASIASESSION", "s3cret", Some("tok-1".into()), None, "t");
    assert_eq!(converse_code(twin.url(), good).await, None);
    let wrong = Credentials::new("ASIASESSION", "s3cret", Some("tok-9".into()), None, "t");
    assert_eq!(
        converse_code(twin.url(), wrong).await.as_deref(),
        Some("UnrecognizedClientException")
    );
    let missing = Credentials::new("ASIASESSION", "s3cret", None, None, "t");
    assert_eq!(
        converse_code(twin.url(), missing).await.as_deref(),
        Some("UnrecognizedClientException")
    );
    let expired = Credentials::new("ASIAEXPIRED", "s3cret", Some("tok-2".into()), None, "t");
    let err = runtime_with(twin.url(), expired, RetryConfig::disabled())
        .converse()
        .model_id(MODEL)
        .messages(user("hello"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ExpiredTokenException"));
    assert_eq!(
        err.message(),
        Some("The security token included in the request is expired")
    );
    twin.stop().await;
}

#[tokio::test]
async fn signatures_outside_the_clock_skew_are_refused() {
    let twin = start().await;
    let config = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(crate::common::default_credentials())
        .endpoint_url(twin.url())
        .retry_config(RetryConfig::disabled())
        .time_source(StaticTimeSource::new(
            SystemTime::now() - Duration::from_secs(3600),
        ))
        .build();
    let err = aws_sdk_bedrockruntime::Client::from_conf(config)
        .converse()
        .model_id(MODEL)
        .messages(user("hello"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidSignatureException"));
    assert!(
        err.message().unwrap().starts_with("Signature expired"),
        "{err:?}"
    );
    twin.stop().await;
}

fn bearer_runtime(url: &str, token: &str) -> aws_sdk_bedrockruntime::Client {
    let config = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .bearer_token(Token::new(token, None))
        .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID])
        .endpoint_url(url)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(config)
}

#[tokio::test]
async fn bearer_tokens() {
    let twin = start_with(|c| c.bearer_tokens.push("extra-token".into())).await;
    for token in ["twin-bearer", "extra-token"] {
        let out = bearer_runtime(twin.url(), token)
            .converse_stream()
            .model_id(MODEL)
            .messages(user("bearer hello"))
            .send()
            .await
            .unwrap();
        assert_eq!(crate::common::collect(out).await.text, "bearer hello");
    }
    let control = aws_sdk_bedrock::Client::from_conf(
        aws_sdk_bedrock::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .bearer_token(aws_sdk_bedrock::config::Token::new("twin-bearer", None))
            .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID])
            .endpoint_url(twin.url())
            .build(),
    );
    assert!(
        !control
            .list_foundation_models()
            .send()
            .await
            .unwrap()
            .model_summaries()
            .is_empty()
    );
    let err = bearer_runtime(twin.url(), "wrong-token")
        .converse()
        .model_id(MODEL)
        .messages(user("x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    twin.stop().await;
}
