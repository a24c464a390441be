//! The Responses API request body. Every field of OpenAI's API is accepted by name, and decided in
//! [`super::request`] (honoured, refused naming it, or ignored where the API lets a server); a
//! field the API does not have is refused. `input` items and `tools` are kept as JSON here and
//! read item by item there, so that an error names the item's path (`input[3].content[0]`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::types::GuardrailParam;

/// `POST /v1/responses` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponsesRequest {
    /// `provider/model-id`, a bare id, or `default`.
    pub model: String,
    /// A user message as a string, or a list of items (messages, function calls and their
    /// outputs, reasoning items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Input>,
    /// Instructions (the system prompt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Stream the answer as server-sent events.
    #[serde(default)]
    pub stream: bool,
    /// `include_obfuscation` (accepted; Pincer adds no padding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Output limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Tools (`function` tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Value>>,
    /// `auto`, `none`, `required`, or `{type: "function", name}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// Whether several tool calls may come in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// `{effort, summary}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningParam>,
    /// `{format, verbosity}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextParam>,
    /// Extra output to include (`reasoning.encrypted_content` is always included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// Whether to store the response (Pincer stores nothing: false or absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// A stored response to continue (refused: Pincer is stateless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    /// A stored conversation (refused: Pincer is stateless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Value>,
    /// Up to 16 string pairs, sent to Bedrock as `requestMetadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// An end-user id (added to `requestMetadata`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// An end-user id (added to `requestMetadata`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// `auto`, `default`, `flex`, `priority`: Bedrock's service tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// A routing hint for OpenAI's prompt cache (accepted; Bedrock caches by cache points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    /// `in_memory` or `24h` (Bedrock's one-hour cache).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_retention: Option<String>,
    /// OpenAI's prompt-cache options (refused unless empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_options: Option<Value>,
    /// `disabled` (the default) or `auto` (refused: Pincer does not drop input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation: Option<String>,
    /// Run in the background (refused: Pincer is stateless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<bool>,
    /// A stored prompt template (refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Value>,
    /// Most likely tokens per position (refused unless 0: Bedrock returns none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// A cap on built-in tool calls (accepted: Pincer runs no built-in tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tool_calls: Option<u32>,
    /// Server-side context compaction (refused unless empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_management: Option<Value>,
    /// OpenAI's moderation (refused; Bedrock guardrails are the `guardrail` field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<Value>,
    /// Codex CLI's client metadata (accepted, logged at debug level, not sent on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<Value>,
    /// Pincer extension: a Bedrock guardrail for this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<GuardrailParam>,
    /// Pincer extension: `standard` or `optimized` latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
}

/// `stream_options`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamOptions {
    /// Random padding on delta events against length side channels; Pincer adds none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_obfuscation: Option<bool>,
}

/// `input`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Input {
    /// One user message.
    Text(String),
    /// Items, oldest first.
    Items(Vec<Value>),
}

/// `reasoning`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasoningParam {
    /// `none`, `minimal`, `low`, `medium`, `high`, `xhigh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// `auto`, `concise`, `detailed`: the reasoning Bedrock streams is given as the summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Deprecated name of `summary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_summary: Option<String>,
}

/// `text`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextParam {
    /// `{type: "text"}`, `{type: "json_object"}` or `{type: "json_schema", name, schema, strict}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    /// `low`, `medium`, `high` (only `medium`: Bedrock has no verbosity control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
}
