//! Shared helpers: starting twins and building SDK clients pointed at them.

use std::path::PathBuf;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput as StreamResponse;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockStart, ConversationRole, ConverseStreamOutput,
    Message, ReasoningContentBlockDelta,
};
use bedrock_twin::{RunningTwin, Twin, TwinConfig};

pub const MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

pub async fn start() -> RunningTwin {
    start_with(|_| {}).await
}

pub async fn start_with(edit: impl FnOnce(&mut TwinConfig)) -> RunningTwin {
    let mut config = TwinConfig::new().unwrap();
    config.vectors_dir = find_vectors();
    edit(&mut config);
    Twin::start(config).await.unwrap()
}

pub fn default_credentials() -> Credentials {
    Credentials::new("AKIDTWIN", "twin-secret", None, None, "test")
}

pub fn runtime_with(
    url: &str,
    credentials: Credentials,
    retry: RetryConfig,
) -> aws_sdk_bedrockruntime::Client {
    let config = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(url)
        .retry_config(retry)
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(config)
}

pub fn runtime(twin: &RunningTwin) -> aws_sdk_bedrockruntime::Client {
    runtime_with(twin.url(), default_credentials(), RetryConfig::disabled())
}

pub fn control_with(url: &str, credentials: Credentials) -> aws_sdk_bedrock::Client {
    let config = aws_sdk_bedrock::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(url)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_bedrock::Client::from_conf(config)
}

pub fn control(twin: &RunningTwin) -> aws_sdk_bedrock::Client {
    control_with(twin.url(), default_credentials())
}

pub fn user(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text.to_owned()))
        .build()
        .unwrap()
}

pub fn assistant(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::Assistant)
        .content(ContentBlock::Text(text.to_owned()))
        .build()
        .unwrap()
}

fn vectors_candidate() -> PathBuf {
    std::env::var_os("PINCER_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
        PathBuf::from,
    )
}

/// The vectors folder if present: `$PINCER_VECTORS`, else `../shared/vectors` next to the
/// repository.
pub fn find_vectors() -> Option<PathBuf> {
    Some(vectors_candidate()).filter(|dir| dir.join("INDEX.md").is_file())
}

/// The vectors folder for tests that need it: missing is a skip (`None`), except under
/// `CI=true`, where it fails the test.
pub fn vectors_dir() -> Option<PathBuf> {
    let found = find_vectors();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        found.is_some() || !ci,
        "vectors folder {} is missing and CI=true",
        vectors_candidate().display()
    );
    found
}

/// Everything a stream produced, as names in the `*.events.txt` vocabulary, plus the text.
#[derive(Debug, Default)]
pub struct Collected {
    pub events: Vec<String>,
    pub text: String,
    pub reasoning: String,
    pub signature: Option<String>,
    pub redacted: usize,
    pub tool_inputs: Vec<(String, String)>,
    pub stop_reason: Option<String>,
    pub usage: Option<aws_sdk_bedrockruntime::types::TokenUsage>,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
}

pub async fn collect(mut response: StreamResponse) -> Collected {
    let mut out = Collected::default();
    loop {
        match response.stream.recv().await {
            Ok(Some(event)) => record(&mut out, event),
            Ok(None) => break,
            Err(err) => {
                use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError as E;
                let name = match err.as_service_error() {
                    Some(E::ThrottlingException(_)) => "exception:throttlingException".to_owned(),
                    Some(E::ModelStreamErrorException(_)) => {
                        "exception:modelStreamErrorException".to_owned()
                    }
                    Some(E::InternalServerException(_)) => {
                        "exception:internalServerException".to_owned()
                    }
                    Some(E::ServiceUnavailableException(_)) => {
                        "exception:serviceUnavailableException".to_owned()
                    }
                    Some(E::ValidationException(_)) => "exception:validationException".to_owned(),
                    Some(other) => format!("exception:unhandled:{other:?}"),
                    None => format!("transport:{err:?}"),
                };
                out.events.push(name.clone());
                out.error = Some(name);
                break;
            }
        }
    }
    out
}

fn record(out: &mut Collected, event: ConverseStreamOutput) {
    let name = match event {
        ConverseStreamOutput::MessageStart(_) => "messageStart",
        ConverseStreamOutput::ContentBlockStart(start) => {
            if let Some(ContentBlockStart::ToolUse(tool)) = start.start() {
                out.tool_inputs
                    .push((tool.name().to_owned(), String::new()));
            }
            "contentBlockStart"
        }
        ConverseStreamOutput::ContentBlockDelta(delta) => {
            match delta.delta() {
                Some(ContentBlockDelta::Text(t)) => out.text.push_str(t),
                Some(ContentBlockDelta::ToolUse(t)) => {
                    if let Some(last) = out.tool_inputs.last_mut() {
                        last.1.push_str(t.input());
                    }
                }
                Some(ContentBlockDelta::ReasoningContent(r)) => match r {
                    ReasoningContentBlockDelta::Text(t) => out.reasoning.push_str(t),
                    ReasoningContentBlockDelta::Signature(s) => out.signature = Some(s.clone()),
                    ReasoningContentBlockDelta::RedactedContent(_) => out.redacted += 1,
                    _ => {}
                },
                _ => {}
            }
            "contentBlockDelta"
        }
        ConverseStreamOutput::ContentBlockStop(_) => "contentBlockStop",
        ConverseStreamOutput::MessageStop(stop) => {
            out.stop_reason = Some(stop.stop_reason().as_str().to_owned());
            "messageStop"
        }
        ConverseStreamOutput::Metadata(meta) => {
            out.usage = meta.usage().cloned();
            out.latency_ms = meta.metrics().map(|m| m.latency_ms());
            "metadata"
        }
        _ => "unknown",
    };
    out.events.push(name.to_owned());
}

/// A short timeout for tests that expect silence.
pub const SHORT: Duration = Duration::from_millis(300);
