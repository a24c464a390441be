//! Credential endpoints: IMDSv2 and ECS credentials, fetched by `aws-config`'s own providers,
//! are accepted by the twin; the standard endpoint and bearer environment variables work.
//!
//! `aws-config` reads the ECS and default-chain settings only from the process environment, so
//! those cases run this test binary again as a child process with a prepared environment
//! (the `child_*` tests, ignored unless run that way).

use std::process::Command;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use aws_config::imds::client::Client as ImdsClient;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_credential_types::provider::ProvideCredentials;

use crate::common::{MODEL, collect, runtime_with, start_with, user};

/// One raw HTTP/1.1 request; returns the whole response text.
async fn raw_http(base: &str, request_line: &str, headers: &[(&str, &str)]) -> String {
    let addr = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{request_line} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

async fn converse_ok(url: &str, provider: impl ProvideCredentials + 'static) -> String {
    let config = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(provider)
        .endpoint_url(url)
        .retry_config(RetryConfig::disabled())
        .build();
    let out = aws_sdk_bedrockruntime::Client::from_conf(config)
        .converse_stream()
        .model_id(MODEL)
        .messages(user("from instance role"))
        .send()
        .await
        .unwrap();
    collect(out).await.text
}

#[tokio::test]
async fn imds_credentials_are_accepted_and_rotate() {
    let twin = start_with(|c| c.imds_port = Some(0)).await;
    let imds_url = twin.imds_url().unwrap().to_owned();
    let provider = || {
        ImdsCredentialsProvider::builder()
            .imds_client(ImdsClient::builder().endpoint(&imds_url).unwrap().build())
            .build()
    };
    let first = provider().provide_credentials().await.unwrap();
    assert!(first.session_token().is_some());
    assert!(first.expiry().is_some());
    assert_eq!(
        converse_ok(twin.url(), provider()).await,
        "from instance role"
    );

    let rotated = raw_http(&imds_url, "POST /twin/rotate", &[]).await;
    assert!(rotated.starts_with("HTTP/1.1 200"), "{rotated}");
    let second = provider().provide_credentials().await.unwrap();
    assert_ne!(first.access_key_id(), second.access_key_id());
    let old = runtime_with(twin.url(), first, RetryConfig::disabled());
    assert!(
        old.converse()
            .model_id(MODEL)
            .messages(user("old"))
            .send()
            .await
            .is_ok()
    );
    let new = runtime_with(twin.url(), second, RetryConfig::disabled());
    assert!(
        new.converse()
            .model_id(MODEL)
            .messages(user("new"))
            .send()
            .await
            .is_ok()
    );
    twin.stop().await;
}

#[tokio::test]
async fn imds_requires_a_session_token() {
    let twin = start_with(|c| c.imds_port = Some(0)).await;
    let imds = twin.imds_url().unwrap();
    let refused = raw_http(imds, "GET /latest/meta-data/iam/security-credentials/", &[]).await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let token_response = raw_http(
        imds,
        "PUT /latest/api/token",
        &[("x-aws-ec2-metadata-token-ttl-seconds", "60")],
    )
    .await;
    let token = token_response
        .rsplit("\r\n\r\n")
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let listed = raw_http(
        imds,
        "GET /latest/meta-data/iam/security-credentials/",
        &[("x-aws-ec2-metadata-token", &token)],
    )
    .await;
    assert!(listed.ends_with(bedrock_twin::imds::ROLE_NAME), "{listed}");
    let bad_ttl = raw_http(imds, "PUT /latest/api/token", &[]).await;
    assert!(bad_ttl.starts_with("HTTP/1.1 400"), "{bad_ttl}");
    twin.stop().await;
}

/// Runs one `child_*` test of this binary in a child process with exactly `env`.
fn run_child(test: &str, env: &[(&str, &str)]) {
    let exe = std::env::current_exe().unwrap();
    let home_dir = tempfile::tempdir().unwrap();
    let home = home_dir.path().to_path_buf();
    let mut cmd = Command::new(exe);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_REGION", "us-east-1")
        .args([
            "--exact",
            test,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child {test} failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "child {test} did not run:\n{stdout}"
    );
}

#[tokio::test]
async fn ecs_credentials_are_accepted() {
    let twin = start_with(|c| {
        c.ecs_port = Some(0);
        c.ecs_auth_token = Some("ecs-secret-token".into());
    })
    .await;
    let url = twin.url().to_owned();
    let ecs = twin.ecs_url().unwrap().to_owned();
    tokio::task::spawn_blocking(move || {
        run_child(
            "creds::child_ecs",
            &[
                ("TWIN_CHILD_URL", url.as_str()),
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", ecs.as_str()),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-secret-token"),
            ],
        );
    })
    .await
    .unwrap();
    twin.stop().await;
}

#[tokio::test]
#[ignore = "run in a child process by ecs_credentials_are_accepted"]
async fn child_ecs() {
    let url = std::env::var("TWIN_CHILD_URL").expect("run by ecs_credentials_are_accepted");
    let provider = aws_config::ecs::EcsCredentialsProvider::builder().build();
    let creds = provider.provide_credentials().await.unwrap();
    assert!(creds.access_key_id().starts_with("ASIATWIN"));
    assert_eq!(converse_ok(&url, provider).await, "from instance role");
}

#[tokio::test]
async fn default_chain_finds_imds_through_the_endpoint_variable() {
    let twin = start_with(|c| c.imds_port = Some(0)).await;
    let url = twin.url().to_owned();
    let imds = twin.imds_url().unwrap().to_owned();
    tokio::task::spawn_blocking(move || {
        run_child(
            "creds::child_default_chain",
            &[
                ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url.as_str()),
                ("AWS_ENDPOINT_URL_BEDROCK", url.as_str()),
                ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.as_str()),
            ],
        );
    })
    .await
    .unwrap();
    twin.stop().await;
}

#[tokio::test]
#[ignore = "run in a child process by default_chain_finds_imds_through_the_endpoint_variable"]
async fn child_default_chain() {
    assert!(std::env::var("AWS_EC2_METADATA_SERVICE_ENDPOINT").is_ok());
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let out = aws_sdk_bedrockruntime::Client::new(&shared)
        .converse()
        .model_id(MODEL)
        .messages(user("chain"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.output().unwrap().as_message().unwrap().content()[0]
            .as_text()
            .unwrap(),
        "chain"
    );
    let listed = aws_sdk_bedrock::Client::new(&shared)
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    assert!(!listed.model_summaries().is_empty());
}

#[tokio::test]
async fn bearer_token_variable_is_honoured() {
    let twin = start_with(|_| {}).await;
    let url = twin.url().to_owned();
    tokio::task::spawn_blocking(move || {
        run_child(
            "creds::child_bearer_env",
            &[
                ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url.as_str()),
                ("AWS_BEARER_TOKEN_BEDROCK", "twin-bearer"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
        );
    })
    .await
    .unwrap();
    twin.stop().await;
}

#[tokio::test]
#[ignore = "run in a child process by bearer_token_variable_is_honoured"]
async fn child_bearer_env() {
    assert!(std::env::var("AWS_BEARER_TOKEN_BEDROCK").is_ok());
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let out = aws_sdk_bedrockruntime::Client::new(&shared)
        .converse_stream()
        .model_id(MODEL)
        .messages(user("bearer env"))
        .send()
        .await
        .unwrap();
    assert_eq!(collect(out).await.text, "bearer env");
}
