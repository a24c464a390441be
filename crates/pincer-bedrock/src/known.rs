//! The table of known Bedrock model families (`data/known-models.json5`, sources noted there):
//! context window, output limit, reasoning style, image input, prompt caching and prices.

use std::sync::OnceLock;

use pincer_core::{Modality, Prices, ReasoningStyle};
use serde::Deserialize;

const TABLE: &str = include_str!("../data/known-models.json5");

/// Inference-profile prefixes stripped before matching.
const PROFILE_PREFIXES: [&str; 7] = ["us.", "eu.", "apac.", "jp.", "global.", "us-gov.", "au."];

/// One family's facts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KnownModel {
    /// Prefix of the base model id this entry applies to.
    #[serde(rename = "match")]
    pub pattern: String,
    /// Context window, in tokens.
    pub context_window: u32,
    /// Maximum output tokens.
    pub max_tokens: u32,
    /// How the model reasons, if it does.
    #[serde(default)]
    pub reasoning: Option<ReasoningStyle>,
    /// Accepted inputs.
    pub input: Vec<Modality>,
    /// Whether prompt-cache points are honoured.
    pub prompt_cache: bool,
    /// On-demand prices per 1M tokens.
    pub cost: Prices,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    models: Vec<KnownModel>,
}

/// Every entry, parsed once.
pub fn table() -> &'static [KnownModel] {
    static PARSED: OnceLock<Vec<KnownModel>> = OnceLock::new();
    PARSED.get_or_init(|| parse(TABLE).unwrap_or_default())
}

fn parse(text: &str) -> Result<Vec<KnownModel>, String> {
    let (document, problems) =
        pincer_config::document::Document::parse(text).map_err(|e| e.message)?;
    if let Some(problem) = problems.first() {
        return Err(problem.headline());
    }
    serde_json::from_value::<Table>(document.value)
        .map(|t| t.models)
        .map_err(|e| e.to_string())
}

/// The model id without an inference-profile prefix.
pub fn base_model_id(id: &str) -> &str {
    PROFILE_PREFIXES
        .iter()
        .find_map(|prefix| id.strip_prefix(prefix))
        .unwrap_or(id)
}

/// What the table knows about `model_id` (a model id or a system inference-profile id).
pub fn lookup(model_id: &str) -> Option<&'static KnownModel> {
    let base = base_model_id(model_id);
    table()
        .iter()
        .filter(|entry| base.starts_with(&entry.pattern))
        .max_by_key(|entry| entry.pattern.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_well_formed() {
        let entries = parse(TABLE).unwrap();
        assert!(entries.len() >= 20);
        let mut patterns = std::collections::HashSet::new();
        for entry in &entries {
            assert!(
                patterns.insert(entry.pattern.clone()),
                "duplicate {}",
                entry.pattern
            );
            assert!(
                entry.pattern.contains('.'),
                "{} lacks a provider prefix",
                entry.pattern
            );
            assert!(
                entry.max_tokens > 0 && entry.max_tokens <= entry.context_window,
                "{}",
                entry.pattern
            );
            assert!(entry.input.contains(&Modality::Text), "{}", entry.pattern);
            let c = entry.cost;
            for price in [c.input, c.output, c.cache_read, c.cache_write] {
                assert!(price.is_finite() && price >= 0.0, "{}", entry.pattern);
            }
            assert!(
                c.output >= c.input,
                "{}: output cheaper than input",
                entry.pattern
            );
            if !entry.prompt_cache {
                assert_eq!(
                    (c.cache_read, c.cache_write),
                    (0.0, 0.0),
                    "{}",
                    entry.pattern
                );
            }
        }
    }

    #[test]
    fn longest_match_wins_and_profiles_are_stripped() {
        assert_eq!(
            lookup("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
                .unwrap()
                .pattern,
            "anthropic.claude-sonnet-4-5"
        );
        assert_eq!(
            lookup("anthropic.claude-sonnet-4-20250514-v1:0")
                .unwrap()
                .pattern,
            "anthropic.claude-sonnet-4-"
        );
        assert_eq!(
            lookup("global.anthropic.claude-opus-4-6-v1:0")
                .unwrap()
                .reasoning,
            Some(ReasoningStyle::AdaptiveEffort)
        );
        assert_eq!(
            lookup("us.amazon.nova-2-lite-v1:0").unwrap().reasoning,
            Some(ReasoningStyle::EffortLevel)
        );
        assert!(lookup("cohere.command-r-v1:0").is_none());
    }
}
