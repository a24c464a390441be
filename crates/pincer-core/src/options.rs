//! Per-request options: limits, sampling, reasoning, tool choice, caching.

use serde::{Deserialize, Serialize};

/// How hard the model should think, for models that can.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ReasoningLevel {
    /// No reasoning.
    #[default]
    Off,
    /// The least.
    Minimal,
    /// A little.
    Low,
    /// Some.
    Medium,
    /// A lot.
    High,
    /// As much as the model allows.
    Xhigh,
}

/// Which tool, if any, the model must call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// No tool calls.
    None,
    /// At least one tool call.
    Required,
    /// This tool.
    Named(String),
}

/// How long the provider should keep the prompt cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheRetention {
    /// Do not mark cache points.
    None,
    /// The provider's default (5 minutes on Bedrock).
    #[default]
    Short,
    /// One hour, where supported.
    Long,
}

/// A structured answer the request asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ResponseFormat {
    /// JSON that matches a schema.
    JsonSchema {
        /// The schema's name.
        name: String,
        /// What the answer is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// The JSON Schema.
        schema: serde_json::Value,
        /// Whether the schema must be followed exactly.
        #[serde(default)]
        strict: bool,
    },
    /// Any JSON object.
    JsonObject,
}

/// A service tier: how the provider schedules the request, and what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceTier {
    /// Served first, at a higher price.
    Priority,
    /// The standard tier.
    Default,
    /// Served when capacity allows, at a lower price.
    Flex,
}

impl ServiceTier {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceTier::Priority => "priority",
            ServiceTier::Default => "default",
            ServiceTier::Flex => "flex",
        }
    }
}

/// Latency-optimized inference, where the model offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Latency {
    /// The standard latency.
    Standard,
    /// Latency-optimized.
    Optimized,
}

/// A guardrail to apply to the request and the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Guardrail {
    /// Guardrail id or ARN.
    pub identifier: String,
    /// Its version (`DRAFT` or a number).
    pub version: String,
    /// Whether the guardrail's trace is returned: `enabled`, `disabled` or `enabled_full`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// `sync` or `async` checking of a streamed answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_processing_mode: Option<String>,
}

/// Options for one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestOptions {
    /// Output token limit (clamped to the model's).
    pub max_tokens: Option<u32>,
    /// Sampling temperature, exactly as the client gave it.
    pub temperature: Option<f64>,
    /// Nucleus sampling, exactly as the client gave it.
    pub top_p: Option<f64>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Vec<String>,
    /// Reasoning effort.
    #[serde(default)]
    pub reasoning: ReasoningLevel,
    /// Tool choice.
    #[serde(default)]
    pub tool_choice: ToolChoice,
    /// Prompt cache retention.
    #[serde(default)]
    pub cache_retention: CacheRetention,
    /// A structured answer, if one is asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Whether several tool calls may come in one answer (`false`: one at most).
    #[serde(default = "yes")]
    pub parallel_tool_calls: bool,
    /// Key-value pairs recorded with the request (Bedrock's `requestMetadata`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metadata: std::collections::BTreeMap<String, String>,
    /// The service tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<ServiceTier>,
    /// Latency-optimized inference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// A guardrail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<Guardrail>,
    /// A thinking budget in tokens, for models that take one (instead of the level's budget;
    /// kept within the model's range and below the output limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_budget: Option<u32>,
    /// Fields of the model's own request that Converse has no name for (Bedrock's
    /// `additionalModelRequestFields`), such as Anthropic's `top_k`, `anthropic_beta` and
    /// `context_management`; a provider refuses them for a model that does not take them.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub native_fields: serde_json::Map<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}

impl Default for RequestOptions {
    fn default() -> Self {
        Self {
            max_tokens: None,
            temperature: None,
            top_p: None,
            stop: Vec::new(),
            reasoning: ReasoningLevel::Off,
            tool_choice: ToolChoice::Auto,
            cache_retention: CacheRetention::Short,
            response_format: None,
            parallel_tool_calls: true,
            metadata: std::collections::BTreeMap::new(),
            service_tier: None,
            latency: None,
            guardrail: None,
            reasoning_budget: None,
            native_fields: serde_json::Map::new(),
        }
    }
}
