//! A twin on loopback, an SDK configuration pointed at it through the standard endpoint
//! variables (handed to the SDK loader, not set in the process), and helpers to run a request.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_types::os_shim_internal::Env;
use bedrock_twin::{RunningTwin, Twin, TwinConfig};
use futures_util::StreamExt;
use pincer_bedrock::aws::{AwsSetup, load_with};
use pincer_bedrock::provider::{BedrockOptions, BedrockProvider};
use pincer_core::{
    AssistantMessage, Conversation, Message, Modality, Model, Prices, Provider, ProviderRequest,
    ReasoningStyle, RequestOptions, StreamEvent,
};

/// A Claude model on a US inference profile: budget thinking, images, prompt caching.
pub const CLAUDE: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
/// An on-demand model without reasoning.
pub const HAIKU3: &str = "anthropic.claude-3-haiku-20240307-v1:0";
/// Nova 2 Lite: effort-level reasoning.
pub const NOVA2: &str = "us.amazon.nova-2-lite-v1:0";

pub fn model(id: &str) -> Model {
    let (reasoning, max_tokens, cache) = match id {
        CLAUDE => (Some(ReasoningStyle::BudgetTokens), 64_000, true),
        NOVA2 => (Some(ReasoningStyle::EffortLevel), 65_535, false),
        _ => (None, 4096, false),
    };
    Model {
        provider: "amazon-bedrock".into(),
        id: id.into(),
        name: id.into(),
        reasoning,
        input: vec![Modality::Text, Modality::Image],
        prices: Prices {
            input: Some(3.0),
            output: Some(15.0),
            cache_read: Some(0.3),
            cache_write: Some(3.75),
            cache_write_long: None,
        },
        context_window: 200_000,
        max_tokens,
        prompt_cache: cache,
        capabilities: Default::default(),
        defaults: Default::default(),
    }
}

/// The environment a test's SDK loader sees.
pub fn base_env(twin: &RunningTwin) -> HashMap<String, String> {
    let mut env = HashMap::new();
    for (key, value) in [
        ("AWS_ACCESS_KEY_ID", bedrock_twin::DEFAULT_ACCESS_KEY_ID),
        (
            "AWS_SECRET_ACCESS_KEY",
            bedrock_twin::DEFAULT_SECRET_ACCESS_KEY,
        ),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", twin.url()),
        ("AWS_ENDPOINT_URL_BEDROCK", twin.url()),
        ("AWS_CONFIG_FILE", "/nonexistent/aws/config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws/credentials",
        ),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        env.insert(key.to_owned(), value.to_owned());
    }
    env
}

pub async fn setup(env: &HashMap<String, String>) -> AwsSetup {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let loader = aws_config::defaults(BehaviorVersion::latest()).env(Env::from_slice(&pairs));
    load_with(loader, None, env).await
}

pub fn fast_options() -> BedrockOptions {
    BedrockOptions {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(5),
        start_timeout: Duration::from_secs(20),
        stall_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        endpoint: None,
        credential_source: Some("a test".to_owned()),
    }
}

pub struct Harness {
    pub twin: RunningTwin,
    pub provider: BedrockProvider,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with(TwinConfig::default(), fast_options()).await
    }

    pub async fn with(config: TwinConfig, options: BedrockOptions) -> Self {
        let twin = Twin::start(config).await.unwrap();
        let setup = setup(&base_env(&twin)).await;
        let provider = BedrockProvider::new(&setup.config, options);
        Self { twin, provider }
    }

    pub async fn events(
        &self,
        model_id: &str,
        conversation: Conversation,
        options: RequestOptions,
    ) -> Vec<StreamEvent> {
        let request = ProviderRequest {
            model: model(model_id),
            conversation,
            options,
        };
        self.provider.stream(request).collect().await
    }

    /// Runs a request and returns the final message; panics on an error event.
    pub async fn answer(
        &self,
        model_id: &str,
        conversation: Conversation,
        options: RequestOptions,
    ) -> AssistantMessage {
        let events = self.events(model_id, conversation, options).await;
        match events.last() {
            Some(StreamEvent::Done { message }) => message.clone(),
            other => panic!("expected Done, got {other:?}"),
        }
    }

    pub async fn stop(self) {
        self.twin.stop().await;
    }
}

pub fn ask(text: &str) -> Conversation {
    Conversation {
        system: None,
        messages: vec![Message::user_text(text)],
        tools: vec![],
    }
}

/// The error event's kind and partial message; panics on success.
pub fn error_of(events: &[StreamEvent]) -> (pincer_core::ProviderError, AssistantMessage) {
    match events.last() {
        Some(StreamEvent::Error { error, partial }) => (error.clone(), partial.clone()),
        other => panic!("expected an error, got {other:?}"),
    }
}
