//! `provider/model-id` → the model's description and the backend that serves it.
//!
//! Fields merge field by field: a manual entry in `models.providers.<id>.models[]` wins over the
//! known-model table, which wins over the discovery defaults (`defaultContextWindow`,
//! `defaultMaxTokens`). The provider `amazon-bedrock` exists without being configured.

use pincer_bedrock::discovery::DiscoveredModel;
use pincer_bedrock::known;
use pincer_bedrock::provider::PROVIDER_ID;
use pincer_bedrock::region::{BaseUrl, parse_base_url};
use pincer_config::Options;
use pincer_config::options::{Api, Auth, InputKind, ModelOptions, ProviderOptions};
use pincer_core::env::EnvVars;
use pincer_core::{Modality, Model, ModelRef, Prices, ReasoningStyle};

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
    let provider_id = reference.provider();
    let configured = options
        .providers()
        .find(|(id, _)| *id == provider_id)
        .map(|(_, p)| p);
    let provider = match configured {
        Some(provider) => provider.clone(),
        None if provider_id == PROVIDER_ID => ProviderOptions::default(),
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
            api_key: api_key(provider_id, &provider)?,
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
    let manual = provider
        .models
        .iter()
        .flatten()
        .find(|m| m.id == reference.model());
    let known = matches!(backend, Backend::Bedrock { .. })
        .then(|| known::lookup(reference.model()))
        .flatten();
    let discovery = options.discovery();
    Ok(Resolved {
        reference: reference.clone(),
        model: merge(
            provider_id,
            reference.model(),
            manual,
            known,
            None,
            (
                discovery.default_context_window(),
                discovery.default_max_tokens(),
            ),
        ),
        backend,
    })
}

/// Merges what is known of a model, field by field: manual entry, then discovery, then the
/// known-model table, then the discovery defaults `(context window, max tokens)`.
pub fn merge(
    provider: &str,
    id: &str,
    manual: Option<&ModelOptions>,
    known: Option<&known::KnownModel>,
    discovered: Option<&DiscoveredModel>,
    (default_context, default_max): (u32, u32),
) -> Model {
    let context_window = manual
        .and_then(|m| m.context_window)
        .or(known.map(|k| k.context_window))
        .unwrap_or(default_context);
    let max_tokens = manual
        .and_then(|m| m.max_tokens)
        .or(known.map(|k| k.max_tokens))
        .unwrap_or(default_max);
    let reasoning = match manual.and_then(|m| m.reasoning) {
        Some(false) => None,
        // Reasoning declared by hand: the known style if there is one, else a thinking budget.
        Some(true) => known
            .and_then(|k| k.reasoning)
            .or(Some(ReasoningStyle::BudgetTokens)),
        None => known.and_then(|k| k.reasoning),
    };
    let input = match manual.and_then(|m| m.input.as_ref()) {
        Some(kinds) => kinds
            .iter()
            .map(|k| match k {
                InputKind::Text => Modality::Text,
                InputKind::Image => Modality::Image,
            })
            .collect(),
        None => discovered
            .map(|d| d.input.clone())
            .filter(|input| !input.is_empty())
            .or_else(|| known.map(|k| k.input.clone()))
            .unwrap_or_else(|| vec![Modality::Text]),
    };
    let known_prices = known.map(|k| k.cost).unwrap_or_default();
    let prices = match manual.and_then(|m| m.cost) {
        Some(cost) => Prices {
            input: cost.input.unwrap_or(known_prices.input),
            output: cost.output.unwrap_or(known_prices.output),
            cache_read: cost.cache_read.unwrap_or(known_prices.cache_read),
            cache_write: cost.cache_write.unwrap_or(known_prices.cache_write),
        },
        None => known_prices,
    };
    Model {
        provider: provider.to_owned(),
        id: id.to_owned(),
        name: manual
            .and_then(|m| m.name.clone())
            .or_else(|| discovered.map(|d| d.name.clone()))
            .unwrap_or_else(|| id.to_owned()),
        reasoning,
        input,
        prices,
        context_window,
        max_tokens: max_tokens.min(context_window),
        prompt_cache: known.is_some_and(|k| k.prompt_cache),
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
        assert_eq!(r.model.prices.input, 2.5);
        assert_eq!(r.model.prices.output, 15.0);
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
            &"amazon-bedrock/cohere.command-r-v1:0".parse().unwrap(),
        )
        .unwrap();
        assert_eq!((r.model.context_window, r.model.max_tokens), (50000, 1000));
        assert_eq!(r.model.reasoning, None);
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
