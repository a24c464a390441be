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
    /// The model always reasons and takes no setting (DeepSeek-R1, gpt-oss).
    Always,
}

/// An input modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// Text.
    Text,
    /// Images.
    Image,
}

/// Everything a provider needs to know about the model it calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl Model {
    /// Whether the model accepts images.
    pub fn accepts_images(&self) -> bool {
        self.input.contains(&Modality::Image)
    }
}
