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

/// Options for one request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestOptions {
    /// Output token limit (clamped to the model's).
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
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
}
