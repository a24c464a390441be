//! `provider/model-id` → the model's description and the backend that serves it.
//!
//! Fields merge field by field: a manual entry in `models.providers.<id>.models[]` wins over the
//! known-model table, which wins over the discovery defaults (`defaultContextWindow`,
//! `defaultMaxTokens`). The provider `amazon-bedrock` exists without being configured.

use pincer_bedrock::discovery::DiscoveredModel;
use pincer_bedrock::known;
use pincer_bedrock::profiles::{ProfileBase, ProfileBases};
use pincer_bedrock::provider::PROVIDER_ID;
use pincer_bedrock::region::{BaseUrl, parse_base_url};
use pincer_config::Options;
use pincer_config::options::{Api, Auth, InputKind, ModelOptions, ProviderOptions};
use pincer_core::env::EnvVars;
use pincer_core::{
    Capabilities, Guardrail, Latency, Modality, Model, ModelRef, Prices, ReasoningStyle,
    RequestDefaults, Sampling, ServiceTier,
};

/// Which kind of provider serves a model, with its connection settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Bedrock ConverseStream.
    Bedrock {
        /// Region named by a standard `baseUrl`.
        region: Option<String>,
        /// Any other `baseUrl`, used as the endpoint.
        endpoint: Option<String>,
    },
    /// An OpenAI-compatible endpoint.
    OpenAi {
        /// Its base URL.
        base_url: String,
        /// Its API key.
        api_key: Option<pincer_core::Secret>,
        /// Extra headers.
        headers: Vec<(String, String)>,
    },
}

/// A resolved model reference.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The reference as given.
    pub reference: ModelRef,
    /// The model's description.
    pub model: Model,
    /// What serves it.
    pub backend: Backend,
}

/// Why a reference cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No such provider in the config.
    #[error("unknown provider `{provider}` in `{reference}`; configured providers: {known}")]
    UnknownProvider {
        /// The reference.
        reference: String,
        /// The provider id.
        provider: String,
        /// The configured ids.
        known: String,
    },
    /// The provider is configured without what it needs.
    #[error("provider `{provider}` is missing `{field}`")]
    Incomplete {
        /// The provider id.
        provider: String,
        /// The missing key.
        field: &'static str,
    },
    /// The API key is to come from an environment variable that is not set.
    #[error("provider `{provider}` takes its API key from ${variable}, which is not set")]
    MissingKey {
        /// The provider id.
        provider: String,
        /// The variable.
        variable: String,
    },
}

/// The environment variable an `api-key` provider without `apiKey` reads: its id in upper case,
/// non-alphanumerics as `_`, then `_API_KEY` (`openrouter` → `OPENROUTER_API_KEY`).
pub fn api_key_variable(provider_id: &str) -> String {
    let mut name: String = provider_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    name.push_str("_API_KEY");
    name
}

/// The API key of an OpenAI-compatible provider: `apiKey` itself, `apiKey: "${NAME}"` for the
/// variable `NAME`, or, with `auth: "api-key"` and no `apiKey`, the variable named by
/// [`api_key_variable`].
fn api_key(
    provider_id: &str,
    provider: &ProviderOptions,
) -> Result<Option<pincer_core::Secret>, ResolveError> {
    let from_env = |variable: String| {
        EnvVars::get_string(&variable)
            .map(|key| Some(pincer_core::Secret::new(key)))
            .ok_or_else(|| ResolveError::MissingKey {
                provider: provider_id.to_owned(),
                variable,
            })
    };
    match provider.api_key.as_deref() {
        Some(text) => match text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
            Some(variable) => from_env(variable.to_owned()),
            None => Ok(Some(pincer_core::Secret::new(text))),
        },
        None if provider.auth == Some(Auth::ApiKey) => from_env(api_key_variable(provider_id)),
        None => Ok(None),
    }
}

/// Resolves `reference` against `options`.
pub fn resolve(options: &Options, reference: &ModelRef) -> Result<Resolved, ResolveError> {
    resolve_with(options, reference, None)
}

/// [`resolve`], knowing the application profiles of `bases`.
pub fn resolve_with(
    options: &Options,
    reference: &ModelRef,
    bases: Option<&ProfileBases>,
) -> Result<Resolved, ResolveError> {
    resolve_as(options, reference, bases, None)
}

/// [`resolve_with`] for a model whose merged description is already `merged` (a catalog
/// entry's): only its backend is worked out, per request, since it reads the environment.
pub fn resolve_as(
    options: &Options,
    reference: &ModelRef,
    bases: Option<&ProfileBases>,
    merged: Option<&Model>,
) -> Result<Resolved, ResolveError> {
    let provider_id = reference.provider();
    let configured = options
        .providers()
        .find(|(id, _)| *id == provider_id)
        .map(|(_, p)| p);
    let unconfigured;
    let provider = match configured {
        Some(provider) => provider,
        None if provider_id == PROVIDER_ID => {
            unconfigured = ProviderOptions::default();
            &unconfigured
        }
        None => {
            let known: Vec<&str> = options
                .providers()
                .map(|(id, _)| id)
                .chain([PROVIDER_ID])
                .collect();
            return Err(ResolveError::UnknownProvider {
                reference: reference.to_string(),
                provider: provider_id.to_owned(),
                known: known.join(", "),
            });
        }
    };
    let backend = match provider.api.unwrap_or(Api::BedrockConverseStream) {
        Api::BedrockConverseStream => match provider.base_url.as_deref().map(parse_base_url) {
            Some(BaseUrl::Regional(region)) => Backend::Bedrock {
                region: Some(region),
                endpoint: None,
            },
            Some(BaseUrl::Endpoint(url)) => Backend::Bedrock {
                region: None,
                endpoint: Some(url),
            },
            None => Backend::Bedrock {
                region: None,
                endpoint: None,
            },
        },
        Api::OpenaiCompletions => Backend::OpenAi {
            api_key: api_key(provider_id, provider)?,
            headers: provider
                .headers
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            base_url: provider.base_url.clone().ok_or(ResolveError::Incomplete {
                provider: provider_id.to_owned(),
                field: "baseUrl",
            })?,
        },
    };
    if let Some(model) = merged {
        return Ok(Resolved {
            reference: reference.clone(),
            model: model.clone(),
            backend,
        });
    }
    let manual = provider
        .models
        .iter()
        .flatten()
        .find(|m| m.id == reference.model());
    let bedrock = matches!(backend, Backend::Bedrock { .. });
    let profile = bases
        .filter(|_| bedrock)
        .and_then(|b| b.get(reference.model()));
    let known = bedrock
        .then(|| known::lookup(profile.map_or(reference.model(), |p| p.model.as_str())))
        .flatten();
    let discovery = options.discovery();
    Ok(Resolved {
        reference: reference.clone(),
        model: merge(
            provider_id,
            reference.model(),
            Known {
                settings: Some(provider),
                manual,
                table: known,
                discovered: None,
                profile,
            },
            (
                discovery.default_context_window(),
                discovery.default_max_tokens(),
            ),
        )
        .0,
        backend,
    })
}

/// Where a value of the catalog comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The user's config.
    Config,
    /// Bedrock's own model listing.
    Bedrock,
    /// Pincer's known-model table.
    Table,
    /// The seed's defaults (`defaultContextWindow`, `defaultMaxTokens`) or Pincer's.
    Default,
}

/// Where each value of a merged model comes from, by field name (`contextWindow`, `cost`, …).
/// A field with no entry is unknown (a price nobody published).
pub type Provenance = std::collections::BTreeMap<&'static str, Origin>;

/// The first of `candidates` that is known, with its origin.
fn first<T>(candidates: [(Option<T>, Origin); 3]) -> Option<(T, Origin)> {
    candidates
        .into_iter()
        .find_map(|(value, origin)| value.map(|v| (v, origin)))
}

/// What is known of one model, from each source.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    /// Its provider's settings in the config.
    pub settings: Option<&'a ProviderOptions>,
    /// Its entry in the config.
    pub manual: Option<&'a ModelOptions>,
    /// Its row of the known-model table.
    pub table: Option<&'a known::KnownModel>,
    /// What discovery found.
    pub discovered: Option<&'a DiscoveredModel>,
    /// For an application profile named by ARN: what it routes to.
    pub profile: Option<&'a ProfileBase>,
}

/// Merges what is known of a model, field by field, in this order: the config's entry, what
/// Bedrock's listing says, the known-model table, then the defaults `(context window, max
/// tokens)`. Returns the model and where each value came from.
pub fn merge(
    provider: &str,
    id: &str,
    what: Known<'_>,
    (default_context, default_max): (u32, u32),
) -> (Model, Provenance) {
    let Known {
        settings,
        manual,
        table: known,
        discovered,
        profile,
    } = what;
    let facts = discovered.map(|d| &d.facts);
    let mut sources = Provenance::new();
    let mut note = |field: &'static str, origin: Origin| {
        sources.insert(field, origin);
    };
    let (context_window, origin) = first([
        (manual.and_then(|m| m.context_window), Origin::Config),
        (None, Origin::Bedrock),
        (known.and_then(|k| k.context_window), Origin::Table),
    ])
    .unwrap_or((default_context, Origin::Default));
    note("contextWindow", origin);
    let (max_tokens, origin) = first([
        (manual.and_then(|m| m.max_tokens), Origin::Config),
        (facts.and_then(|f| f.max_tokens_maximum), Origin::Bedrock),
        (known.and_then(|k| k.max_tokens), Origin::Table),
    ])
    .unwrap_or((default_max, Origin::Default));
    note("maxTokens", origin);
    let max_tokens = max_tokens.min(context_window);
    // What is sent when a request names no limit: Bedrock's own default, else the model card's
    // output limit, never more than the limit.
    let default_max_tokens = first([
        (manual.and_then(|m| m.max_tokens), Origin::Config),
        (facts.and_then(|f| f.max_tokens_default), Origin::Bedrock),
        (known.and_then(|k| k.max_tokens), Origin::Table),
    ])
    .map(|(n, origin)| {
        note("defaultMaxTokens", origin);
        n.min(max_tokens)
    });
    let reasoning = match manual.and_then(|m| m.reasoning) {
        Some(false) => {
            note("reasoning", Origin::Config);
            None
        }
        // Reasoning declared by hand: the known style if there is one, else a thinking budget.
        Some(true) => {
            note("reasoning", Origin::Config);
            known
                .and_then(|k| k.reasoning)
                .or(Some(ReasoningStyle::BudgetTokens))
        }
        None => {
            let style = known.and_then(|k| k.reasoning);
            if style.is_some() {
                note("reasoning", Origin::Table);
            }
            style
        }
    };
    let mut input: Vec<Modality> = match manual.and_then(|m| m.input.as_ref()) {
        Some(kinds) => {
            note("input", Origin::Config);
            kinds.iter().map(|k| input_kind(*k)).collect()
        }
        None => match discovered
            .map(|d| d.input.clone())
            .filter(|i| !i.is_empty())
        {
            Some(input) => {
                note("input", Origin::Bedrock);
                input
            }
            None => match known {
                Some(k) => {
                    note("input", Origin::Table);
                    k.input.clone()
                }
                None => {
                    note("input", Origin::Default);
                    vec![Modality::Text]
                }
            },
        },
    };
    let configured_input = manual.is_some_and(|m| m.input.is_some());
    // Bedrock lists document support in `converse`, not in `inputModalities`.
    if !configured_input {
        match facts.and_then(|f| f.document_types.as_ref()) {
            Some(types) if !types.is_empty() && !input.contains(&Modality::Document) => {
                input.push(Modality::Document);
            }
            Some(types) if types.is_empty() => input.retain(|m| *m != Modality::Document),
            _ => {
                if known.is_some_and(|k| k.input.contains(&Modality::Document))
                    && !input.contains(&Modality::Document)
                {
                    input.push(Modality::Document);
                }
            }
        }
        input.sort();
        input.dedup();
    }
    let (prompt_cache, origin) = first([
        (None, Origin::Config),
        (facts.and_then(|f| f.prompt_caching), Origin::Bedrock),
        (known.map(|k| k.prompt_cache), Origin::Table),
    ])
    .unwrap_or((false, Origin::Default));
    note("promptCache", origin);
    // An application profile is billed as what it was made from (a `us.` profile at its rate).
    let priced_as = discovered
        .and_then(|d| d.profile_of.as_deref())
        .or(profile.map(|p| p.priced_as.as_str()))
        .unwrap_or(id);
    let table_prices = known.map(|k| k.prices_for(priced_as)).unwrap_or_default();
    let configured = manual.and_then(|m| m.cost);
    let pick = |configured: Option<f64>, table: Option<f64>| configured.or(table);
    let prices = Prices {
        input: pick(configured.and_then(|c| c.input), table_prices.input),
        output: pick(configured.and_then(|c| c.output), table_prices.output),
        cache_read: pick(
            configured.and_then(|c| c.cache_read),
            table_prices.cache_read,
        ),
        cache_write: pick(
            configured.and_then(|c| c.cache_write),
            table_prices.cache_write,
        ),
        cache_write_long: table_prices.cache_write_long,
    };
    if configured.is_some() {
        note("cost", Origin::Config);
    } else if table_prices.is_known() {
        note("cost", Origin::Table);
    }
    let (system_prompt, origin) = first([
        (None, Origin::Config),
        (facts.and_then(|f| f.system_role_supported), Origin::Bedrock),
        (None, Origin::Table),
    ])
    .unwrap_or((true, Origin::Default));
    note("systemPrompt", origin);
    let capabilities = Capabilities {
        default_max_tokens,
        image_formats: facts
            .and_then(|f| f.image_types.clone())
            .unwrap_or_default(),
        document_formats: facts
            .and_then(|f| f.document_types.clone())
            .unwrap_or_default(),
        video_formats: facts
            .and_then(|f| f.video_types.clone())
            .unwrap_or_default(),
        system_prompt,
        reasoning_budget: facts.and_then(|f| f.reasoning_budget),
        sampling: known.map(|k| k.sampling).unwrap_or_default(),
        efforts: known.map(|k| k.efforts.clone()).unwrap_or_default(),
        guardrails: facts.and_then(|f| f.guardrails),
        latency_optimized: facts.and_then(|f| f.latency_optimized),
        family: facts.and_then(|f| f.family.clone()),
        priority_prices: tier_prices(
            configured.and_then(|c| c.priority),
            known.and_then(|k| k.priority),
        ),
        flex_prices: tier_prices(configured.and_then(|c| c.flex), known.and_then(|k| k.flex)),
        structured_output: known.is_some_and(|k| k.structured_output),
        parallel_tool_control: known.is_some_and(|k| k.parallel_tool_control),
        embedding: known.is_some_and(|k| k.kind == known::Kind::Embedding)
            || discovered.is_some_and(|d| d.embedding),
    };
    if facts.is_some_and(|f| f.reasoning_budget.is_some()) {
        note("reasoningBudget", Origin::Bedrock);
    }
    if known.is_some_and(|k| k.sampling != Sampling::All) {
        note("sampling", Origin::Table);
    }
    let name = manual
        .and_then(|m| m.name.clone())
        .or_else(|| discovered.map(|d| d.name.clone()))
        .or_else(|| known.map(|k| k.name.clone()))
        .unwrap_or_else(|| id.to_owned());
    (
        Model {
            provider: provider.to_owned(),
            id: id.to_owned(),
            name,
            reasoning,
            input,
            prices,
            context_window,
            max_tokens,
            prompt_cache,
            capabilities,
            defaults: request_defaults(settings, manual),
        },
        sources,
    )
}

/// A tier's prices: the config's, field by field, over the table's.
fn tier_prices(
    configured: Option<pincer_config::options::TierCostOptions>,
    table: Option<Prices>,
) -> Option<Prices> {
    let Some(configured) = configured else {
        return table;
    };
    let table = table.unwrap_or_default();
    Some(Prices {
        input: configured.input.or(table.input),
        output: configured.output.or(table.output),
        cache_read: configured.cache_read.or(table.cache_read),
        cache_write: configured.cache_write.or(table.cache_write),
        cache_write_long: table.cache_write_long,
    })
}

/// The request settings the config gives a model: its own, else its provider's.
pub fn request_defaults(
    provider: Option<&ProviderOptions>,
    manual: Option<&ModelOptions>,
) -> RequestDefaults {
    use pincer_config::options::{LatencyOption, ServiceTierOption};
    let guardrail = manual
        .and_then(|m| m.guardrail.as_ref())
        .or_else(|| provider.and_then(|p| p.guardrail.as_ref()))
        .map(|g| Guardrail {
            identifier: g.identifier.clone(),
            version: g.version.clone(),
            trace: g.trace.map(|t| t.as_str().to_owned()),
            stream_processing_mode: g.stream_processing_mode.map(|m| m.as_str().to_owned()),
        });
    let service_tier = manual
        .and_then(|m| m.service_tier)
        .or_else(|| provider.and_then(|p| p.service_tier))
        .map(|tier| match tier {
            ServiceTierOption::Priority => ServiceTier::Priority,
            ServiceTierOption::Default => ServiceTier::Default,
            ServiceTierOption::Flex => ServiceTier::Flex,
        });
    let latency = manual
        .and_then(|m| m.latency)
        .or_else(|| provider.and_then(|p| p.latency))
        .map(|latency| match latency {
            LatencyOption::Standard => Latency::Standard,
            LatencyOption::Optimized => Latency::Optimized,
        });
    RequestDefaults {
        guardrail,
        service_tier,
        latency,
    }
}

fn input_kind(kind: InputKind) -> Modality {
    match kind {
        InputKind::Text => Modality::Text,
        InputKind::Image => Modality::Image,
        InputKind::Document => Modality::Document,
        InputKind::Video => Modality::Video,
        InputKind::Audio => Modality::Audio,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> Options {
        pincer_config::validate::parse(text, "test").unwrap()
    }

    #[test]
    fn manual_fields_win_and_known_fields_fill_in() {
        let options = options(
            r#"{ models: { providers: { "amazon-bedrock": { baseUrl: "https://bedrock-runtime.eu-west-1.amazonaws.com",
                 models: [{ id: "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", cost: { input: 2.5 } }] } } } }"#,
        );
        let r = resolve(
            &options,
            &"amazon-bedrock/eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
                .parse()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            r.backend,
            Backend::Bedrock {
                region: Some("eu-west-1".into()),
                endpoint: None
            }
        );
        assert_eq!(r.model.prices.input, Some(2.5));
        // A geographic (`eu.`) profile takes the table's geographic price.
        assert_eq!(r.model.prices.output, Some(16.5));
        assert_eq!(r.model.max_tokens, 64000);
        assert_eq!(r.model.reasoning, Some(ReasoningStyle::BudgetTokens));
        assert!(r.model.prompt_cache);
    }

    #[test]
    fn unknown_models_take_discovery_defaults() {
        let options = options(
            "{ models: { bedrockDiscovery: { defaultContextWindow: 50000, defaultMaxTokens: 1000 } } }",
        );
        let r = resolve(
            &options,
            &"amazon-bedrock/acme.unknown-model-v1:0".parse().unwrap(),
        )
        .unwrap();
        assert_eq!((r.model.context_window, r.model.max_tokens), (50000, 1000));
        assert_eq!(r.model.reasoning, None);
        assert!(
            !r.model.prices.is_known(),
            "an unknown model has no price, not $0"
        );
        let err = resolve(&options, &"nope/x".parse().unwrap()).unwrap_err();
        assert!(err.to_string().contains("unknown provider `nope`"), "{err}");
    }

    #[test]
    fn seed_config_resolves_with_manual_limits() {
        let options = options(
            r#"{ models: { providers: { "amazon-bedrock": { baseUrl: "http://127.0.0.1:9", api: "bedrock-converse-stream", auth: "aws-sdk",
                 models: [{ id: "us.anthropic.claude-opus-4-6-v1:0", reasoning: true, contextWindow: 200000, maxTokens: 8192 }] } } } }"#,
        );
        let r = resolve(
            &options,
            &"amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0"
                .parse()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            r.backend,
            Backend::Bedrock {
                region: None,
                endpoint: Some("http://127.0.0.1:9".into())
            }
        );
        assert_eq!(r.model.max_tokens, 8192);
        assert_eq!(r.model.reasoning, Some(ReasoningStyle::AdaptiveEffort));
    }
}
