//! The OpenAI chat-completions wire format: requests, responses, streamed chunks and errors.
//!
//! Requests accept every field of OpenAI's chat-completions API (string or array content,
//! `max_tokens` or `max_completion_tokens`, `stop` as a string or a list, …); what each becomes
//! is decided in [`crate::request`] — honoured, refused with a 400 naming it, or ignored where
//! OpenAI's contract allows — and a field OpenAI does not have is refused, as OpenAI refuses it.
//! Assistant messages carry reasoning as `reasoning_content`, its signature in the extension
//! field `reasoning_signature` and redacted reasoning in `reasoning_redacted`, which clients
//! replay unchanged on the next request.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v1/chat/completions` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChatCompletionRequest {
    /// `provider/model-id`, a bare id, or `default`.
    pub model: String,
    /// The conversation.
    #[schemars(length(min = 1))]
    pub messages: Vec<ChatMessage>,
    /// Stream the answer as server-sent events.
    #[serde(default)]
    pub stream: bool,
    /// Streaming options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Output limit (legacy name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Output limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolDefinition>>,
    /// `auto`, `none`, `required`, or a named function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoiceParam>,
    /// Whether several tool calls may come in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// `none`, `minimal`, `low`, `medium`, `high`, `xhigh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// `text`, `json_object`, or `json_schema` with a schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormatParam>,
    /// Number of choices (only 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Log probabilities (not offered by Bedrock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// Most likely tokens per position (not offered by Bedrock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// Token biases (not offered by Bedrock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<BTreeMap<String, f64>>,
    /// Penalty for tokens already present (not offered by Bedrock; 0 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Penalty for frequent tokens (not offered by Bedrock; 0 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Best-effort determinism (ignored: OpenAI does not guarantee it either).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// An end-user id (sent as Bedrock request metadata `user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// An end-user id for safety monitoring (request metadata `safety_identifier`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// Key-value pairs (Bedrock request metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// `auto`, `default`, `flex` or `priority` (Bedrock's service tier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Whether to store the completion (Pincer stores none: only `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// A cache-routing hint (ignored: Bedrock routes caching itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    /// `in-memory` or `24h`: prompt-cache retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_retention: Option<String>,
    /// Output modalities (only `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<String>>,
    /// Audio output (not offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Value>,
    /// Predicted output (ignored: a speed hint that does not change the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Value>,
    /// `low`, `medium` or `high` (only `medium`: Bedrock has no verbosity control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
    /// Web search (not offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search_options: Option<Value>,
    /// Deprecated function definitions (use `tools`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<Value>,
    /// Deprecated function choice (use `tool_choice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<Value>,
    /// A Bedrock guardrail for this request (Pincer extension; overrides the config's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<GuardrailParam>,
    /// `standard` or `optimized`: Bedrock's latency-optimized inference (Pincer extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
}

/// Every field of a request body [`ChatCompletionRequest`] has (a test keeps the list true).
pub const REQUEST_FIELDS: [&str; 37] = [
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning_effort",
    "response_format",
    "n",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "user",
    "safety_identifier",
    "metadata",
    "service_tier",
    "store",
    "prompt_cache_key",
    "prompt_cache_retention",
    "modalities",
    "audio",
    "prediction",
    "verbosity",
    "web_search_options",
    "functions",
    "function_call",
    "guardrail",
    "latency",
];

/// Every field a message may have, whatever its role.
pub const MESSAGE_FIELDS: [&str; 11] = [
    "role",
    "content",
    "name",
    "reasoning_content",
    "reasoning_signature",
    "reasoning_redacted",
    "tool_calls",
    "tool_call_id",
    "refusal",
    "annotations",
    "audio",
];

/// The first field of a request body (at the top, or of a message) that the chat-completions
/// API does not have, as a path (`frobnicate`, `messages[2].colour`); `function_call` of a
/// message is reported too, as deprecated. Scans the body without building it.
pub fn unknown_field(body: &[u8]) -> Option<String> {
    use serde::de::IgnoredAny;
    #[derive(Deserialize)]
    struct Messages {
        #[serde(default)]
        messages: Vec<BTreeMap<String, IgnoredAny>>,
    }
    let top: BTreeMap<String, IgnoredAny> = serde_json::from_slice(body).ok()?;
    if let Some(key) = top.keys().find(|k| !REQUEST_FIELDS.contains(&k.as_str())) {
        return Some(key.clone());
    }
    let messages: Messages = serde_json::from_slice(body).ok()?;
    for (i, message) in messages.messages.iter().enumerate() {
        if let Some(key) = message
            .keys()
            .find(|k| !MESSAGE_FIELDS.contains(&k.as_str()) && k.as_str() != "function_call")
        {
            return Some(format!("messages[{i}].{key}"));
        }
    }
    None
}

/// `response_format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormatParam {
    /// Plain text (the default).
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON that matches a schema.
    JsonSchema {
        /// The schema.
        json_schema: JsonSchemaParam,
    },
}

/// `response_format.json_schema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JsonSchemaParam {
    /// Its name.
    pub name: String,
    /// What the answer is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Whether the schema must be followed exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
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

/// `stream_options`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StreamOptions {
    /// Send a final chunk with usage.
    #[serde(default)]
    pub include_usage: bool,
}

/// `stop`: one sequence or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Stop {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Stop {
    /// The sequences.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s],
            Stop::Many(v) => v,
        }
    }
}

/// One message, by role.
// A request's messages are parsed once and converted at once: the assistant variant's size
// costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    /// Instructions.
    System {
        /// Text.
        content: Content,
        /// A participant name (ignored: Bedrock has no field for it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Instructions (newer name for system).
    Developer {
        /// Text.
        content: Content,
        /// A participant name (ignored).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// The user.
    User {
        /// Text, images and files.
        content: Content,
        /// A participant name (ignored).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// The model.
    Assistant {
        /// Text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Content>,
        /// Reasoning shown by the model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning_content: Option<String>,
        /// Signature of the reasoning (Pincer extension); replay it unchanged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning_signature: Option<String>,
        /// Redacted reasoning, base64 (Pincer extension); replay it unchanged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning_redacted: Option<Vec<String>>,
        /// Tool calls.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool_calls: Option<Vec<ToolCallParam>>,
        /// A participant name (ignored).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// A refusal the model gave (ignored on input).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refusal: Option<String>,
        /// Annotations of an earlier answer (ignored on input).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        annotations: Option<Value>,
        /// Audio of an earlier answer (not offered).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audio: Option<Value>,
        /// Deprecated function call (use `tool_calls`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        function_call: Option<Value>,
    },
    /// A tool result.
    Tool {
        /// The call it answers.
        tool_call_id: String,
        /// The result.
        content: Content,
    },
}

/// Message content: a string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Parts.
    Parts(Vec<ContentPart>),
}

/// One content part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image by URL (a `data:` URL, or a remote one where enabled).
    ImageUrl {
        /// The URL.
        image_url: ImageUrl,
    },
    /// A file: a document sent inline (`file_data`, a `data:` URL or base64).
    File {
        /// The file.
        file: FileParam,
    },
    /// Audio input (not offered).
    InputAudio {
        /// The audio.
        input_audio: Value,
    },
    /// A refusal (assistant content; taken as text).
    Refusal {
        /// The refusal text.
        refusal: String,
    },
}

/// A file content part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileParam {
    /// The file's bytes: a `data:` URL (`data:application/pdf;base64,…`) or plain base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    /// An uploaded file's id (Pincer has no files API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// The file's name (its extension names the format when the data does not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// `image_url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImageUrl {
    /// `data:image/png;base64,…` or `https://…`.
    pub url: String,
    /// `auto`, `low`, `high` (ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A tool definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolDefinition {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDefinition,
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionDefinition {
    /// Name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ToolChoiceParam {
    /// `auto`, `none` or `required`.
    Mode(String),
    /// `{"type": "function", "function": {"name": …}}`.
    Named {
        /// Always `function`.
        #[serde(rename = "type")]
        kind: String,
        /// The function.
        function: NamedFunction,
    },
}

/// A function named in `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NamedFunction {
    /// Its name.
    pub name: String,
}

/// A tool call in an assistant message (request side).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolCallParam {
    /// Call id.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    /// The call.
    pub function: FunctionCall,
}

fn function_kind() -> String {
    "function".to_owned()
}

/// A function call: its name and its arguments as a JSON string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionCall {
    /// Name.
    pub name: String,
    /// Arguments, JSON text.
    pub arguments: String,
}

/// Token usage in OpenAI's terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UsageBody {
    /// Input tokens, cached ones included.
    pub prompt_tokens: u64,
    /// Output tokens.
    pub completion_tokens: u64,
    /// The sum.
    pub total_tokens: u64,
    /// Details of the prompt tokens.
    pub prompt_tokens_details: PromptTokensDetails,
}

/// `prompt_tokens_details`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PromptTokensDetails {
    /// Tokens read from the prompt cache.
    pub cached_tokens: u64,
}

impl From<pincer_core::Usage> for UsageBody {
    fn from(usage: pincer_core::Usage) -> Self {
        let prompt = usage.input + usage.cache_read + usage.cache_write;
        Self {
            prompt_tokens: prompt,
            completion_tokens: usage.output,
            total_tokens: prompt + usage.output,
            prompt_tokens_details: PromptTokensDetails {
                cached_tokens: usage.cache_read,
            },
        }
    }
}

/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorDetail {
    /// What went wrong, for a person.
    pub message: String,
    /// OpenAI's error type (`invalid_request_error`, `authentication_error`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// A stable code (`model_not_found`, `rate_limit_exceeded`, …).
    pub code: Option<String>,
    /// The request field at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The request's id, as in the `x-request-id` header (added by the gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn properties(schema: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            out.extend(props.keys().cloned());
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for branch in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                properties(branch, out);
            }
        }
    }

    #[test]
    fn the_field_lists_are_the_types_fields() {
        let schema = serde_json::to_value(schemars::schema_for!(ChatCompletionRequest)).unwrap();
        let mut top = std::collections::BTreeSet::new();
        properties(&schema, &mut top);
        let listed: std::collections::BTreeSet<String> =
            REQUEST_FIELDS.iter().map(|f| (*f).to_owned()).collect();
        assert_eq!(top, listed);
        let message = serde_json::to_value(schemars::schema_for!(ChatMessage)).unwrap();
        let mut fields = std::collections::BTreeSet::new();
        properties(&message, &mut fields);
        let listed: std::collections::BTreeSet<String> = MESSAGE_FIELDS
            .iter()
            .chain(["function_call"].iter())
            .map(|f| (*f).to_owned())
            .collect();
        assert_eq!(fields, listed);
    }

    #[test]
    fn the_readme_says_what_happens_to_every_field() {
        let readme = include_str!("../../../README.md");
        let start = readme
            .find("### Chat completions compatibility")
            .expect("the compatibility section");
        let section = &readme[start..];
        let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
        for field in REQUEST_FIELDS {
            assert!(
                section.contains(&format!("`{field}`")),
                "the README's compatibility table does not mention `{field}`"
            );
        }
    }

    #[test]
    fn unknown_fields_are_found_at_the_top_and_in_messages() {
        assert_eq!(
            unknown_field(br#"{"model":"m","messages":[],"frobnicate":1}"#).as_deref(),
            Some("frobnicate")
        );
        assert_eq!(
            unknown_field(br#"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"user","content":"y","colour":1}]}"#)
                .as_deref(),
            Some("messages[1].colour")
        );
        assert_eq!(
            unknown_field(
                br#"{"model":"m","messages":[{"role":"user","content":"x","name":"n"}],"seed":1}"#
            ),
            None
        );
    }
}
