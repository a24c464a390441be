//! The Messages API request bodies. Every field of Anthropic's API is accepted by name and
//! decided in [`crate::request`] (honoured, refused naming it, or ignored where the README's
//! table says so); a field the API does not have is refused. Message content, tools and
//! `tool_choice` stay JSON here and are read block by block there, so that an error names the
//! block's path (`messages[2].content[0].source`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v1/messages` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagesRequest {
    /// An Anthropic model name (`claude-sonnet-4-5`, dated or not), an alias from
    /// `models.aliases`, `provider/model-id`, a bare catalog id, or `default`.
    pub model: String,
    /// The conversation: `user` and `assistant` turns.
    pub messages: Vec<Value>,
    /// The output limit (required by the API).
    pub max_tokens: u32,
    /// The system prompt: a string or text blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<Value>,
    /// `{user_id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, Value>>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Stream the answer as server-sent events.
    #[serde(default)]
    pub stream: bool,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Top-k sampling (Claude's, sent to Bedrock as is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Value>>,
    /// `{type: auto | any | tool | none, name?, disable_parallel_tool_use?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// `{type: enabled, budget_tokens}`, `{type: adaptive, display?}` or `{type: disabled}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Value>,
    /// `auto` or `standard_only`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// `{effort?, format?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<Value>,
    /// `{type: json_schema, schema}` (the structured-outputs beta's name for `output_config.format`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<Value>,
    /// Context editing (sent to Bedrock with its beta flag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_management: Option<Value>,
    /// A code-execution container (refused: Pincer runs no server tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Value>,
    /// Remote MCP servers (refused: Pincer runs no server tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Value>,
    /// Pincer extension: a Bedrock guardrail for this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<GuardrailParam>,
}

/// `POST /v1/messages/count_tokens` body: a Messages request without its output settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountTokensRequest {
    /// The model, named as for `/v1/messages`.
    pub model: String,
    /// The conversation.
    pub messages: Vec<Value>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<Value>,
    /// Tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Value>>,
    /// Tool choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// Thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Value>,
    /// Output settings (a format changes the prompt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<Value>,
    /// Context editing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_management: Option<Value>,
    /// Remote MCP servers (refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Value>,
}

impl From<CountTokensRequest> for MessagesRequest {
    fn from(r: CountTokensRequest) -> Self {
        Self {
            model: r.model,
            messages: r.messages,
            // No output is asked for; the largest limit keeps any thinking budget valid.
            max_tokens: u32::MAX,
            system: r.system,
            tools: r.tools,
            tool_choice: r.tool_choice,
            thinking: r.thinking,
            output_config: r.output_config,
            context_management: r.context_management,
            mcp_servers: r.mcp_servers,
            ..Self::default()
        }
    }
}

/// A guardrail (Pincer extension field `guardrail`, as in the config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuardrailParam {
    /// Guardrail id or ARN.
    pub identifier: String,
    /// `DRAFT` or a version number.
    pub version: String,
    /// `enabled`, `disabled` or `enabled_full`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// `sync` or `async`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_processing_mode: Option<String>,
}

/// Anthropic's error body: `{"type": "error", "error": {"type", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// `error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The error.
    pub error: ErrorDetail,
    /// The request's id, as in the `x-request-id` header (added by the gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The error's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorDetail {
    /// `invalid_request_error`, `authentication_error`, `permission_error`, `not_found_error`,
    /// `request_too_large`, `rate_limit_error`, `api_error`, `overloaded_error`, `timeout_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What went wrong, for a person.
    pub message: String,
}
