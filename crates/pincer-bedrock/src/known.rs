//! The table of Bedrock models Pincer knows (`data/known-models.json5`, sources noted there):
//! context window, output limit, reasoning style, inputs, prompt caching, family rules and
//! prices, each for exactly the ids an entry names.
//!
//! Matching is exact: an inference-profile prefix (`us.`, `global.`, …) is removed, and the
//! rest must be one of an entry's `ids`. An id no entry names gets nothing from the table (no
//! price: unknown, not zero). A geographic profile (`us.`, `eu.`, `apac.`, `jp.`, `au.`) is
//! priced at the entry's `geoCost` where it has one.

use std::collections::HashMap;
use std::sync::OnceLock;

use pincer_core::{Modality, Prices, ReasoningStyle, Sampling};
use serde::Deserialize;

const TABLE: &str = include_str!("../data/known-models.json5");

/// Inference-profile prefixes stripped before matching.
const PROFILE_PREFIXES: [&str; 7] = ["us.", "eu.", "apac.", "jp.", "global.", "us-gov.", "au."];

/// Geographic profile prefixes (priced at `geoCost` where an entry has one).
const GEO_PREFIXES: [&str; 6] = ["us.", "eu.", "apac.", "jp.", "au.", "us-gov."];

/// What a model is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Conversation (Converse).
    #[default]
    Chat,
    /// Embeddings (InvokeModel).
    Embedding,
    /// Reranking.
    Rerank,
    /// Video understanding.
    Video,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CostRow {
    input: Option<f64>,
    output: Option<f64>,
    cache_read: Option<f64>,
    cache_write: Option<f64>,
    #[serde(rename = "cacheWrite1h")]
    cache_write_long: Option<f64>,
    source: String,
    cache_source: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TierRows {
    priority: Option<CostRow>,
    flex: Option<CostRow>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Row {
    ids: Vec<String>,
    name: String,
    #[serde(default)]
    kind: Kind,
    context_window: Option<u32>,
    max_tokens: Option<u32>,
    limits_source: Option<String>,
    reasoning: Option<ReasoningStyle>,
    input: Vec<Modality>,
    #[serde(default)]
    prompt_cache: bool,
    cost: Option<CostRow>,
    geo_cost: Option<CostRow>,
    tiers: Option<TierRows>,
    #[serde(default)]
    sampling: Sampling,
    #[serde(default)]
    efforts: Vec<String>,
    #[serde(default)]
    structured_output: bool,
    #[serde(default)]
    parallel_tool_control: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    sources: HashMap<String, String>,
    models: Vec<Row>,
}

/// One model's facts.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownModel {
    /// The base model ids this entry covers.
    pub ids: Vec<String>,
    /// Display name.
    pub name: String,
    /// What the model is for.
    pub kind: Kind,
    /// Context window, in tokens.
    pub context_window: Option<u32>,
    /// Output limit, in tokens.
    pub max_tokens: Option<u32>,
    /// Where the limits come from.
    pub limits_source: Option<String>,
    /// How the model reasons, if it does.
    pub reasoning: Option<ReasoningStyle>,
    /// Accepted inputs.
    pub input: Vec<Modality>,
    /// Whether prompt-cache points are honoured.
    pub prompt_cache: bool,
    /// On-demand prices (in-region and `global.`).
    pub cost: Prices,
    /// Prices through a geographic profile, where they differ.
    pub geo_cost: Option<Prices>,
    /// `priority` tier prices, where published.
    pub priority: Option<Prices>,
    /// `flex` tier prices, where published.
    pub flex: Option<Prices>,
    /// Where the prices come from (the source's description, with its date).
    pub price_source: Option<String>,
    /// Which sampling parameters the model accepts.
    pub sampling: Sampling,
    /// Effort levels of adaptive thinking.
    pub efforts: Vec<String>,
    /// Whether the model takes Converse's structured output (`outputConfig.textFormat`).
    pub structured_output: bool,
    /// Whether the model can be told to make one tool call at most.
    pub parallel_tool_control: bool,
}

impl KnownModel {
    /// The prices that apply to `model_id` (a profile id or a base id).
    pub fn prices_for(&self, model_id: &str) -> Prices {
        let geographic = GEO_PREFIXES.iter().any(|p| model_id.starts_with(p));
        match (&self.geo_cost, geographic) {
            (Some(geo), true) => *geo,
            _ => self.cost,
        }
    }
}

fn prices(row: &CostRow) -> Prices {
    Prices {
        input: row.input,
        output: row.output,
        cache_read: row.cache_read,
        cache_write: row.cache_write,
        cache_write_long: row.cache_write_long,
    }
}

fn convert(table: Table) -> Result<Vec<KnownModel>, String> {
    let source = |key: &str| {
        table
            .sources
            .get(key)
            .cloned()
            .ok_or_else(|| format!("unknown source `{key}`"))
    };
    let mut out = Vec::with_capacity(table.models.len());
    for row in &table.models {
        let price_source = match &row.cost {
            Some(cost) => {
                let mut text = source(&cost.source)?;
                if let Some(cache) = &cost.cache_source {
                    text = format!("{text}; cache prices: {}", source(cache)?);
                }
                Some(text)
            }
            None => None,
        };
        for cost in [&row.geo_cost].into_iter().flatten().chain(
            row.tiers
                .iter()
                .flat_map(|t| [&t.priority, &t.flex])
                .flatten(),
        ) {
            source(&cost.source)?;
        }
        let limits_source = row.limits_source.as_deref().map(source).transpose()?;
        out.push(KnownModel {
            ids: row.ids.clone(),
            name: row.name.clone(),
            kind: row.kind,
            context_window: row.context_window,
            max_tokens: row.max_tokens,
            limits_source,
            reasoning: row.reasoning,
            input: row.input.clone(),
            prompt_cache: row.prompt_cache,
            cost: row.cost.as_ref().map(prices).unwrap_or_default(),
            geo_cost: row.geo_cost.as_ref().map(prices),
            priority: row
                .tiers
                .as_ref()
                .and_then(|t| t.priority.as_ref())
                .map(prices),
            flex: row.tiers.as_ref().and_then(|t| t.flex.as_ref()).map(prices),
            price_source,
            sampling: row.sampling,
            efforts: row.efforts.clone(),
            structured_output: row.structured_output,
            parallel_tool_control: row.parallel_tool_control,
        });
    }
    Ok(out)
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
    let table = serde_json::from_value::<Table>(document.value).map_err(|e| e.to_string())?;
    convert(table)
}

/// The model id without an inference-profile prefix.
pub fn base_model_id(id: &str) -> &str {
    PROFILE_PREFIXES
        .iter()
        .find_map(|prefix| id.strip_prefix(prefix))
        .unwrap_or(id)
}

/// What the table knows about `model_id` (a model id or a system inference-profile id):
/// the entry that names it exactly, if any.
pub fn lookup(model_id: &str) -> Option<&'static KnownModel> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        table()
            .iter()
            .enumerate()
            .flat_map(|(i, entry)| entry.ids.iter().map(move |id| (id.as_str(), i)))
            .collect()
    });
    index.get(base_model_id(model_id)).map(|&i| &table()[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_well_formed() {
        let entries = parse(TABLE).unwrap();
        assert!(entries.len() >= 90);
        let mut ids = std::collections::HashSet::new();
        for entry in &entries {
            for id in &entry.ids {
                assert!(ids.insert(id.clone()), "{id} is in two entries");
                assert!(id.contains('.'), "{id} lacks a provider prefix");
                assert_eq!(base_model_id(id), id, "{id} carries a profile prefix");
            }
            let name = &entry.ids[0];
            if let (Some(max), Some(context)) = (entry.max_tokens, entry.context_window) {
                assert!(max > 0 && max <= context, "{name}");
            }
            assert!(entry.input.contains(&Modality::Text), "{name}");
            for prices in [Some(entry.cost), entry.geo_cost, entry.priority, entry.flex]
                .into_iter()
                .flatten()
            {
                for price in [
                    prices.input,
                    prices.output,
                    prices.cache_read,
                    prices.cache_write,
                ]
                .into_iter()
                .flatten()
                {
                    assert!(price.is_finite() && price >= 0.0, "{name}");
                }
            }
            if entry.cost.is_known() {
                assert!(
                    entry.price_source.is_some(),
                    "{name}: a price without a source"
                );
            }
            if entry.kind == Kind::Chat && !entry.prompt_cache {
                assert_eq!(
                    (entry.cost.cache_read, entry.cost.cache_write),
                    (None, None),
                    "{name}: cache prices without caching"
                );
            }
            if entry.reasoning == Some(ReasoningStyle::AdaptiveEffort) {
                assert!(
                    !entry.efforts.is_empty(),
                    "{name}: adaptive without efforts"
                );
            }
        }
    }

    #[test]
    fn matching_is_exact_and_profiles_are_stripped() {
        let sonnet = lookup("us.anthropic.claude-sonnet-4-5-20250929-v1:0").unwrap();
        assert_eq!(sonnet.name, "Claude Sonnet 4.5");
        // A prefix of a known id, or a longer id, is not that model.
        assert!(lookup("anthropic.claude-sonnet-4-5").is_none());
        assert!(lookup("anthropic.claude-sonnet-4-5-20250929-v1:0:200k").is_none());
        assert!(lookup("meta.llama3-1-8b").is_none());
        // The 8B, 70B and 405B Llama 3.1 models have their own prices.
        let price = |id: &str| lookup(id).unwrap().cost.input.unwrap();
        assert_eq!(price("meta.llama3-1-8b-instruct-v1:0"), 0.22);
        assert_eq!(price("meta.llama3-1-70b-instruct-v1:0"), 0.72);
        assert_eq!(price("meta.llama3-1-405b-instruct-v1:0"), 2.4);
        // Mistral Large 3 is not priced as Mistral Large 2402.
        assert_eq!(price("mistral.mistral-large-3-675b-instruct"), 0.5);
        assert_eq!(price("mistral.mistral-large-2402-v1:0"), 8.0);
        assert_eq!(
            lookup("global.anthropic.claude-opus-4-6-v1")
                .unwrap()
                .reasoning,
            Some(ReasoningStyle::AdaptiveEffort)
        );
        assert_eq!(
            lookup("us.amazon.nova-2-lite-v1:0").unwrap().reasoning,
            Some(ReasoningStyle::EffortLevel)
        );
    }

    #[test]
    fn geographic_profiles_take_their_own_price() {
        let sonnet = lookup("anthropic.claude-sonnet-4-5-20250929-v1:0").unwrap();
        let global = sonnet.prices_for("global.anthropic.claude-sonnet-4-5-20250929-v1:0");
        let us = sonnet.prices_for("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
        assert_eq!(global.input, Some(3.0));
        assert_eq!(us.input, Some(3.3));
    }
}
