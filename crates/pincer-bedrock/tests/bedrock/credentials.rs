//! Every credential source: the report names it in the seed's order and the provider that really
//! supplied the credentials, and a request signed with them is accepted by the twin.

use std::collections::HashMap;
use std::time::Duration;

use bedrock_twin::{AccessKey, Twin, TwinConfig};
use futures_util::StreamExt;
use pincer_bedrock::credentials::{CredentialReport, CredentialSource, detect};
use pincer_bedrock::provider::BedrockProvider;
use pincer_core::{Provider, ProviderRequest, RequestOptions, StreamEvent};

use crate::common::{HAIKU3, ask, base_env, fast_options, model, setup};

const KEY_VARS: [&str; 2] = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

async fn check(env: &HashMap<String, String>) -> (CredentialReport, Option<StreamEvent>) {
    let setup = setup(env).await;
    let report = detect(&setup.config, env, Duration::from_secs(5)).await;
    let provider = BedrockProvider::new(&setup.config, fast_options());
    let request = ProviderRequest {
        model: model(HAIKU3),
        conversation: ask("who am I"),
        options: RequestOptions::default(),
    };
    let last = provider.stream(request).collect::<Vec<_>>().await.pop();
    (report, last)
}

fn without_keys(mut env: HashMap<String, String>) -> HashMap<String, String> {
    for var in KEY_VARS {
        env.remove(var);
    }
    env
}

fn done(event: &Option<StreamEvent>) -> bool {
    matches!(event, Some(StreamEvent::Done { .. }))
}

#[tokio::test]
async fn environment_keys_and_session_token() {
    let mut config = TwinConfig::default();
    config
        .keys
        .push(AccessKey::new("AKIDTEMP", "temp-secret").with_session_token("temp-session"));
    let twin = Twin::start(config).await.unwrap();
    let env = base_env(&twin);
    let (report, last) = check(&env).await;
    assert_eq!(report.source, CredentialSource::EnvironmentKeys);
    assert_eq!(report.provider.as_deref(), Some("environment variables"));
    assert!(report.present && !report.temporary);
    assert!(done(&last), "{last:?}");

    let mut env = without_keys(env);
    env.insert("AWS_ACCESS_KEY_ID".into(), "AKIDTEMP".into());
    env.insert("AWS_SECRET_ACCESS_KEY".into(), "temp-secret".into());
    env.insert("AWS_SESSION_TOKEN".into(), "temp-session".into());
    let (report, last) = check(&env).await;
    assert!(report.present && report.temporary);
    assert!(done(&last), "{last:?}");

    // A wrong secret is an auth error naming no secret.
    env.insert("AWS_SECRET_ACCESS_KEY".into(), "wrong-secret-XYZ".into());
    let (_, last) = check(&env).await;
    let Some(StreamEvent::Error { error, .. }) = last else {
        panic!("{last:?}")
    };
    assert_eq!(error.kind, pincer_core::ErrorKind::Auth, "{error}");
    assert!(
        error.to_string().contains("credentials came from a test"),
        "{error}"
    );
    assert!(!error.to_string().contains("wrong-secret-XYZ"));
    twin.stop().await;
}

#[tokio::test]
async fn profile_file() {
    let twin = Twin::start(TwinConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[work]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            bedrock_twin::DEFAULT_ACCESS_KEY_ID,
            bedrock_twin::DEFAULT_SECRET_ACCESS_KEY
        ),
    )
    .unwrap();
    let mut env = without_keys(base_env(&twin));
    env.insert("AWS_PROFILE".into(), "work".into());
    env.insert(
        "AWS_SHARED_CREDENTIALS_FILE".into(),
        credentials.display().to_string(),
    );
    let (report, last) = check(&env).await;
    assert_eq!(report.source, CredentialSource::Profile("work".into()));
    assert_eq!(
        report.provider.as_deref(),
        Some("shared config/credentials files")
    );
    assert!(done(&last), "{last:?}");
    twin.stop().await;
}

#[tokio::test]
async fn bearer_token() {
    let twin = Twin::start(TwinConfig::default()).await.unwrap();
    let mut env = without_keys(base_env(&twin));
    env.insert(
        "AWS_BEARER_TOKEN_BEDROCK".into(),
        bedrock_twin::DEFAULT_BEARER_TOKEN.into(),
    );
    let (report, last) = check(&env).await;
    assert_eq!(report.source, CredentialSource::BearerToken);
    assert!(report.present);
    assert!(done(&last), "{last:?}");
    twin.stop().await;
}

#[tokio::test]
async fn ecs_container_endpoint() {
    let config = TwinConfig {
        ecs_port: Some(0),
        ..TwinConfig::default()
    };
    let twin = Twin::start(config).await.unwrap();
    let mut env = without_keys(base_env(&twin));
    env.insert(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI".into(),
        twin.ecs_url().unwrap().to_owned(),
    );
    let (report, last) = check(&env).await;
    assert_eq!(report.source, CredentialSource::DefaultChain);
    assert_eq!(
        report.provider.as_deref(),
        Some("container credentials (ECS/EKS endpoint)")
    );
    assert!(report.present && report.temporary);
    assert!(done(&last), "{last:?}");
    twin.stop().await;
}

#[tokio::test]
async fn instance_role_with_no_environment_variables() {
    let config = TwinConfig {
        imds_port: Some(0),
        ..TwinConfig::default()
    };
    let twin = Twin::start(config).await.unwrap();
    let mut env = without_keys(base_env(&twin));
    env.remove("AWS_EC2_METADATA_DISABLED");
    env.insert(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT".into(),
        twin.imds_url().unwrap().to_owned(),
    );
    let (report, last) = check(&env).await;
    assert_eq!(report.source, CredentialSource::DefaultChain);
    assert_eq!(
        report.provider.as_deref(),
        Some("EC2 instance role (IMDSv2)")
    );
    assert!(report.present && report.temporary && report.expiry.is_some());
    assert!(done(&last), "{last:?}");
    // Honouring AWS_EC2_METADATA_DISABLED: the same machine then has no credentials.
    env.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
    let (report, _) = check(&env).await;
    assert!(!report.present);
    twin.stop().await;
}

#[tokio::test]
async fn no_credentials_at_all() {
    let twin = Twin::start(TwinConfig::default()).await.unwrap();
    let env = without_keys(base_env(&twin));
    let (report, last) = check(&env).await;
    assert_eq!(report.source, CredentialSource::DefaultChain);
    assert!(!report.present);
    assert!(report.error.is_some());
    let Some(StreamEvent::Error { error, .. }) = last else {
        panic!("{last:?}")
    };
    assert_eq!(error.kind, pincer_core::ErrorKind::Auth, "{error}");
    assert!(
        error
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("AWS_PROFILE"),
        "{error}"
    );
    twin.stop().await;
}

#[tokio::test]
async fn region_precedence() {
    use pincer_bedrock::aws::load_with;
    use pincer_bedrock::region::RegionSource;

    let twin = Twin::start(TwinConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("config");
    std::fs::write(&config_file, "[default]\nregion = ap-southeast-2\n").unwrap();
    let mut env = base_env(&twin);
    env.remove("AWS_REGION");
    env.insert("AWS_CONFIG_FILE".into(), config_file.display().to_string());
    let region = |env: HashMap<String, String>, explicit: Option<&'static str>| async move {
        let pairs: Vec<(String, String)> =
            env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .env(aws_types::os_shim_internal::Env::from_slice(&pairs));
        let setup = load_with(loader, explicit, &env).await;
        (setup.region, setup.region_source)
    };
    assert_eq!(
        region(env.clone(), None).await,
        ("ap-southeast-2".to_owned(), RegionSource::Sdk)
    );
    env.insert("AWS_DEFAULT_REGION".into(), "eu-west-1".into());
    assert_eq!(
        region(env.clone(), None).await,
        ("eu-west-1".to_owned(), RegionSource::AwsDefaultRegion)
    );
    env.insert("AWS_REGION".into(), "us-west-2".into());
    assert_eq!(
        region(env.clone(), None).await,
        ("us-west-2".to_owned(), RegionSource::AwsRegion)
    );
    assert_eq!(
        region(env.clone(), Some("eu-central-1")).await,
        ("eu-central-1".to_owned(), RegionSource::Config)
    );
    let mut bare = without_keys(base_env(&twin));
    bare.remove("AWS_REGION");
    assert_eq!(
        region(bare, None).await,
        ("us-east-1".to_owned(), RegionSource::Default)
    );
    twin.stop().await;
}
