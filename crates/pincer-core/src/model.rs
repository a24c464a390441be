//! A model as the providers see it: its id, limits, prices and capabilities.

use serde::{Deserialize, Serialize};

use crate::usage::Prices;

/// How a model reasons, which decides how a reasoning level is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasoningStyle {
    /// A thinking budget in tokens (Claude 3.7 / 4.x extended thinking).
    BudgetTokens,
    /// Adaptive thinking steered by an effort level (newer Claude models).
    AdaptiveEffort,
    /// A maximum reasoning effort (`low`/`medium`/`high`), as Amazon Nova 2 takes it.
    EffortLevel,
    /// A reasoning effort (`low`/`medium`/`high`) in `reasoning_effort`, as OpenAI's gpt-oss
    /// models take it.
    ReasoningEffort,
    /// The model always reasons and takes no setting (DeepSeek-R1).
    Always,
}

/// An input modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// Text.
    Text,
    /// Images.
    Image,
    /// Documents (PDF and the like).
    Document,
    /// Video.
    Video,
    /// Speech or other audio.
    Audio,
}

impl Modality {
    /// The lower-case name (`text`, `image`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Text => "text",
            Modality::Image => "image",
            Modality::Document => "document",
            Modality::Video => "video",
            Modality::Audio => "audio",
        }
    }
}

/// Which sampling parameters a model accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    /// `temperature` and `top_p`, alone or together.
    #[default]
    All,
    /// One of `temperature` and `top_p`, not both (the model refuses both at once).
    TemperatureOrTopP,
    /// Neither (the model refuses `temperature`, `top_p` and `top_k`).
    None,
}

/// The range of thinking budgets a model accepts, in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetRange {
    /// The smallest budget.
    pub min: u32,
    /// The largest budget.
    pub max: u32,
}

/// What a model can take and how, beyond its limits: the catalog learns these from the
/// config, Bedrock's own model listing and the known-model table, and the request path obeys
/// them (no image to a model that takes none, no cache point where caching is unsupported, no
/// system block where system prompts are not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// `maxTokens` sent when a request gives none (Bedrock's own default for the model); `None`
    /// sends the model's limit.
    pub default_max_tokens: Option<u32>,
    /// Image formats accepted (`png`, `jpeg`, …); empty: whatever the provider takes.
    pub image_formats: Vec<String>,
    /// Document formats accepted (`pdf`, `docx`, …); empty with document input: any.
    pub document_formats: Vec<String>,
    /// Video formats accepted.
    pub video_formats: Vec<String>,
    /// Whether a system prompt is accepted (otherwise it is folded into the first user turn).
    pub system_prompt: bool,
    /// The thinking budgets accepted, when known.
    pub reasoning_budget: Option<BudgetRange>,
    /// Which sampling parameters are accepted.
    pub sampling: Sampling,
    /// Effort levels accepted by adaptive thinking, lowest first; empty: the usual four.
    pub efforts: Vec<String>,
    /// Whether guardrails can be applied, when known.
    pub guardrails: Option<bool>,
    /// Whether latency-optimized inference is offered, when known.
    pub latency_optimized: Option<bool>,
    /// The model family as the provider names it.
    pub family: Option<String>,
    /// Prices of the `priority` service tier, where published.
    pub priority_prices: Option<Prices>,
    /// Prices of the `flex` service tier, where published.
    pub flex_prices: Option<Prices>,
    /// Whether the model takes a JSON schema for its answer (structured output).
    pub structured_output: bool,
    /// Whether the model can be told to make one tool call at most.
    pub parallel_tool_control: bool,
    /// Whether it is an embedding model (InvokeModel, `/v1/embeddings`), not a chat model.
    #[serde(default)]
    pub embedding: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            default_max_tokens: None,
            image_formats: Vec::new(),
            document_formats: Vec::new(),
            video_formats: Vec::new(),
            system_prompt: true,
            reasoning_budget: None,
            sampling: Sampling::All,
            efforts: Vec::new(),
            guardrails: None,
            latency_optimized: None,
            family: None,
            priority_prices: None,
            flex_prices: None,
            structured_output: false,
            parallel_tool_control: false,
            embedding: false,
        }
    }
}

/// Everything a provider needs to know about the model it calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// Provider id (`amazon-bedrock`).
    pub provider: String,
    /// Model id as the provider knows it.
    pub id: String,
    /// Display name.
    pub name: String,
    /// How it reasons; `None` for models that do not.
    pub reasoning: Option<ReasoningStyle>,
    /// Accepted inputs.
    pub input: Vec<Modality>,
    /// Prices per 1M tokens.
    pub prices: Prices,
    /// Context window, in tokens.
    pub context_window: u32,
    /// Maximum output tokens.
    pub max_tokens: u32,
    /// Whether the model honours prompt-cache points.
    pub prompt_cache: bool,
    /// What else it can take, and how.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Request settings the config gives this model; a request's own settings win.
    #[serde(default)]
    pub defaults: RequestDefaults,
}

/// Request settings a config gives a model (or its provider), applied when a request does not
/// set them itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestDefaults {
    /// A guardrail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<crate::Guardrail>,
    /// A service tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<crate::ServiceTier>,
    /// A latency mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<crate::Latency>,
}

impl Model {
    /// Whether the model accepts images.
    pub fn accepts_images(&self) -> bool {
        self.input.contains(&Modality::Image)
    }

    /// Its prices in each service tier.
    pub fn tier_prices(&self) -> crate::TierPrices {
        crate::TierPrices {
            standard: self.prices,
            priority: self.capabilities.priority_prices,
            flex: self.capabilities.flex_prices,
        }
    }

    /// Whether the model accepts documents.
    pub fn accepts_documents(&self) -> bool {
        self.input.contains(&Modality::Document)
    }
}
