//! [`Runtime`]: the catalog now being served, the model lookup and the fallback policy.
//!
//! The policy, for every path: a request for the default model (`default`, no model at all in
//! `pincer chat`, or the primary named by its reference) may fall back, in order, to
//! `agents.defaults.model.fallbacks`; a request for any other model never does. A fallback that no
//! longer resolves is skipped with a warning. The next model is tried only while nothing has been
//! output and only for errors another model may not have ([`pincer_core::ErrorKind::allows_fallback`]).

use std::sync::Arc;

use arc_swap::ArcSwap;
use futures_util::StreamExt;
use pincer_config::Options;
use pincer_core::{
    Conversation, ErrorKind, EventStream, ModelRef, ProviderError, ProviderRequest, RequestOptions,
    StreamEvent, TierPrices,
};

use crate::catalog::Catalog;
use crate::providers::Providers;
use crate::resolve::{ResolveError, Resolved};
use crate::signatures::Signatures;

/// Why a requested model cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// `default` (or no model) was asked for and the config names none.
    #[error("no default model: set agents.defaults.model.primary")]
    NoDefault,
    /// No such model or provider.
    #[error("{0}")]
    NotFound(String),
    /// The text is not a model reference, or names more than one model.
    #[error("{0}")]
    Invalid(String),
    /// The provider is configured without what it needs.
    #[error("{0}")]
    Misconfigured(String),
}

/// The models to try for one request, in order.
#[derive(Debug, Clone)]
pub struct Candidates {
    /// The model asked for, then its fallbacks.
    pub models: Vec<Resolved>,
    /// Fallbacks skipped because they no longer resolve: reference and reason.
    pub skipped: Vec<(String, String)>,
}

/// What happens while an answer begins, for a front door to count or show.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A model is being asked.
    Trying {
        /// Its catalog key.
        key: &'a str,
        /// Whether the catalog lists it.
        in_catalog: bool,
    },
    /// It failed before any output; the next one will be asked.
    FallingBack {
        /// The model that failed.
        key: &'a str,
        /// Its error.
        error: &'a ProviderError,
        /// The model asked next.
        next: &'a str,
    },
    /// The first output arrived.
    FirstOutput,
}

/// An answer that has begun: the events held so far (up to and including the first output, or
/// the end) and the rest of the stream.
#[allow(missing_debug_implementations)]
pub struct Begun {
    /// The model answering.
    pub resolved: Resolved,
    /// Its catalog key (`provider/id`).
    pub key: String,
    /// Its prices, by service tier.
    pub prices: TierPrices,
    /// Events received before returning (`Start`, then the first output or the end).
    pub held: Vec<StreamEvent>,
    /// The rest.
    pub rest: EventStream,
}

impl Begun {
    /// Every event of the answer, the held ones first.
    pub fn events(self) -> impl futures_util::Stream<Item = StreamEvent> + Send {
        futures_util::stream::iter(self.held).chain(self.rest)
    }
}

/// The catalog, providers and signatures, behind one model lookup and one fallback policy.
#[derive(Debug)]
pub struct Runtime {
    options: Options,
    catalog: ArcSwap<Catalog>,
    providers: Providers,
    signatures: Signatures,
}

impl Runtime {
    /// A runtime serving `catalog` for `options` through `providers`.
    pub fn new(options: Options, catalog: Catalog, providers: Providers) -> Self {
        Self {
            options,
            catalog: ArcSwap::from_pointee(catalog),
            providers,
            signatures: Signatures::default(),
        }
    }

    /// The validated config.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The catalog now (a refresh swaps it whole).
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// Replaces the catalog (a background refresh finished).
    pub fn replace_catalog(&self, catalog: Catalog) {
        self.catalog.store(Arc::new(catalog));
    }

    /// The providers.
    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    /// The reasoning signatures handed out.
    pub fn signatures(&self) -> &Signatures {
        &self.signatures
    }

    /// The configured primary model, if any.
    fn primary(&self) -> Option<&str> {
        self.options
            .default_model()
            .and_then(|m| m.primary.as_deref())
    }

    /// Resolves `requested`: `provider/id`, a bare id the catalog holds once, or `default` for
    /// `agents.defaults.model.primary`.
    pub fn lookup(&self, requested: &str) -> Result<Resolved, LookupError> {
        let text = if requested == "default" {
            self.primary().ok_or(LookupError::NoDefault)?.to_owned()
        } else if let Some(target) = self.options.alias(requested) {
            target.to_owned()
        } else if requested.contains('/') {
            requested.to_owned()
        } else {
            pincer_core::validate_model_id(requested).map_err(|reason| {
                LookupError::Invalid(format!(
                    "`{}`: {reason}",
                    pincer_core::model_ref::shorten(requested)
                ))
            })?;
            let catalog = self.catalog();
            let matches: Vec<&str> = catalog
                .entries
                .iter()
                .filter(|e| e.id == requested)
                .map(|e| e.key.as_str())
                .collect();
            match matches.as_slice() {
                [one] => (*one).to_owned(),
                // An Anthropic model name, as Claude Code and the Anthropic SDKs send it.
                [] if catalog.anthropic_model(requested).is_some() => catalog
                    .anthropic_model(requested)
                    .map(|e| e.key.clone())
                    .unwrap_or_default(),
                [] => {
                    return Err(LookupError::NotFound(format!(
                        "model `{requested}` is not in the catalog; GET /v1/models or `pincer models list` lists them"
                    )));
                }
                many => {
                    return Err(LookupError::Invalid(format!(
                        "model `{requested}` is ambiguous: {}",
                        many.join(", ")
                    )));
                }
            }
        };
        let reference: ModelRef = text
            .parse()
            .map_err(|e: pincer_core::ModelRefError| LookupError::Invalid(e.to_string()))?;
        self.catalog()
            .resolve(&self.options, &reference)
            .map_err(|e| match e {
                ResolveError::UnknownProvider { .. } => LookupError::NotFound(e.to_string()),
                ResolveError::Incomplete { .. } | ResolveError::MissingKey { .. } => {
                    LookupError::Misconfigured(e.to_string())
                }
            })
    }

    /// The models to try for `requested` (`None`: the default model), by the one fallback policy.
    pub fn candidates(&self, requested: Option<&str>) -> Result<Candidates, LookupError> {
        let requested = requested.unwrap_or("default");
        let first = self.lookup(requested)?;
        if first.model.capabilities.embedding {
            return Err(LookupError::Invalid(format!(
                "`{}` is an embedding model, not a chat model: POST /v1/embeddings takes it",
                first.reference
            )));
        }
        let is_primary =
            requested == "default" || self.primary() == Some(&first.reference.to_string());
        let mut out = Candidates {
            models: vec![first],
            skipped: Vec::new(),
        };
        if is_primary {
            let fallbacks = self
                .options
                .default_model()
                .and_then(|m| m.fallbacks.as_ref());
            for fallback in fallbacks.into_iter().flatten() {
                match self.lookup(fallback) {
                    Ok(resolved) if !resolved.model.capabilities.embedding => {
                        out.models.push(resolved);
                    }
                    Ok(_) => out
                        .skipped
                        .push((fallback.clone(), "an embedding model".to_owned())),
                    Err(error) => {
                        tracing::debug!(fallback = %fallback, %error, "skipping a fallback model that does not resolve");
                        out.skipped.push((fallback.clone(), error.to_string()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Embeds `inputs` with the embedding model `resolved` (no fallback: vectors of two models
    /// do not mix).
    pub async fn embed(
        &self,
        resolved: &Resolved,
        inputs: Vec<String>,
        dimensions: Option<u32>,
    ) -> Result<pincer_core::Embeddings, ProviderError> {
        let provider = self.providers.get(&resolved.backend).await?;
        provider
            .embed(pincer_core::EmbedRequest {
                model: resolved.model.clone(),
                inputs,
                dimensions,
            })
            .await
    }

    /// Counts the input tokens of a request to `resolved`, as its provider counts them (no
    /// fallback: a count is of one model's tokens).
    pub async fn count_tokens(
        &self,
        resolved: &Resolved,
        conversation: Conversation,
        options: RequestOptions,
    ) -> Result<u64, ProviderError> {
        let provider = self.providers.get(&resolved.backend).await?;
        provider
            .count_tokens(ProviderRequest {
                model: resolved.model.clone(),
                conversation,
                options,
            })
            .await
    }

    /// Asks each candidate in turn until one begins answering: returns once its first output
    /// (or its end) arrived. The conversation's assistant turns keep the model they are
    /// attributed to (a door attributes a client's turns to the first candidate, or to the model
    /// a sealed reasoning block names), so a fallback never receives another model's reasoning
    /// signatures: the provider leaves them out for it.
    pub async fn begin(
        &self,
        candidates: Vec<Resolved>,
        conversation: Conversation,
        options: RequestOptions,
        observe: &mut (dyn FnMut(Progress<'_>) + Send),
    ) -> Result<Begun, ProviderError> {
        let count = candidates.len();
        let catalog = self.catalog();
        let mut last_error = None;
        // The conversation is copied only when there is a next model to try with it (a 30 MB
        // request is not copied per candidate).
        let mut conversation = Some(conversation);
        let keys: Vec<String> = candidates.iter().map(|c| c.reference.to_string()).collect();
        for (i, resolved) in candidates.into_iter().enumerate() {
            let key = &keys[i];
            observe(Progress::Trying {
                key,
                in_catalog: catalog.get(&resolved.reference).is_some(),
            });
            let this = if i + 1 < count {
                conversation.clone()
            } else {
                conversation.take()
            }
            .unwrap_or_default();
            let provider = self.providers.get(&resolved.backend).await?;
            let prices = resolved.model.tier_prices();
            let mut events = provider.stream(ProviderRequest {
                model: resolved.model.clone(),
                conversation: this,
                options: options.clone(),
            });
            let mut held = Vec::new();
            let failure = loop {
                match events.next().await {
                    Some(StreamEvent::Error { error, .. }) => break Some(error),
                    Some(StreamEvent::Start) => held.push(StreamEvent::Start),
                    Some(event) => {
                        observe(Progress::FirstOutput);
                        held.push(event);
                        break None;
                    }
                    None => break None,
                }
            };
            match failure {
                None => {
                    return Ok(Begun {
                        resolved,
                        key: key.clone(),
                        prices,
                        held,
                        rest: events,
                    });
                }
                Some(error) if i + 1 < count && error.kind.allows_fallback() => {
                    tracing::warn!(model = %key, error = %error, "trying the next fallback model");
                    observe(Progress::FallingBack {
                        key,
                        error: &error,
                        next: &keys[i + 1],
                    });
                    last_error = Some(error);
                }
                Some(error) => return Err(error),
            }
        }
        Err(last_error.unwrap_or_else(|| ProviderError::new(ErrorKind::Other, "no model to try")))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const PRIMARY: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    const FALLBACK: &str = "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0";

    fn runtime(text: &str) -> Runtime {
        let options = pincer_config::validate::parse(text, "test").unwrap();
        let home = std::env::temp_dir().join("pincer-runtime-tests-no-cache");
        let env: HashMap<String, String> = HashMap::new();
        let catalog = Catalog::from_cache(&options, &home, "us-east-1", &env);
        Runtime::new(options, catalog, Providers::new(None, Default::default()))
    }

    fn with_defaults() -> Runtime {
        runtime(&format!(
            r#"{{
              models: {{ providers: {{
                "amazon-bedrock": {{ models: [{{ id: "us.anthropic.claude-sonnet-4-5-20250929-v1:0" }}, {{ id: "anthropic.claude-3-haiku-20240307-v1:0" }}] }},
                keyless: {{ baseUrl: "http://127.0.0.1:9/v1", api: "openai-completions", apiKey: "${{PINCER_RUNTIME_TEST_UNSET_KEY}}", models: [{{ id: "m" }}] }},
              }} }},
              agents: {{ defaults: {{ model: {{ primary: "{PRIMARY}", fallbacks: ["keyless/m", "{FALLBACK}"] }} }} }},
            }}"#
        ))
    }

    fn keys(candidates: &Candidates) -> Vec<String> {
        candidates
            .models
            .iter()
            .map(|c| c.reference.to_string())
            .collect()
    }

    #[test]
    fn the_default_model_falls_back_and_skips_what_does_not_resolve() {
        let runtime = with_defaults();
        for requested in [None, Some("default"), Some(PRIMARY)] {
            let candidates = runtime.candidates(requested).unwrap();
            assert_eq!(keys(&candidates), [PRIMARY, FALLBACK], "{requested:?}");
            assert_eq!(candidates.skipped.len(), 1, "{requested:?}");
            assert_eq!(candidates.skipped[0].0, "keyless/m");
            assert!(
                candidates.skipped[0]
                    .1
                    .contains("PINCER_RUNTIME_TEST_UNSET_KEY"),
                "{:?}",
                candidates.skipped
            );
        }
    }

    #[test]
    fn any_other_model_never_falls_back() {
        let candidates = with_defaults().candidates(Some(FALLBACK)).unwrap();
        assert_eq!(keys(&candidates), [FALLBACK]);
        assert!(candidates.skipped.is_empty());
    }

    #[test]
    fn a_bare_id_names_the_one_catalog_entry_that_has_it() {
        let runtime = with_defaults();
        let resolved = runtime
            .lookup("anthropic.claude-3-haiku-20240307-v1:0")
            .unwrap();
        assert_eq!(resolved.reference.to_string(), FALLBACK);
        assert!(matches!(
            runtime.lookup("no-such-model"),
            Err(LookupError::NotFound(_))
        ));
        assert!(matches!(
            runtime.lookup("bad id with spaces"),
            Err(LookupError::Invalid(_))
        ));
        assert!(matches!(
            runtime.lookup("nowhere/x"),
            Err(LookupError::NotFound(_))
        ));
    }

    #[test]
    fn anthropic_names_and_aliases_name_catalog_models() {
        let runtime = runtime(
            r#"{ models: {
                providers: { "amazon-bedrock": { models: [
                    { id: "anthropic.claude-sonnet-4-5-20250929-v1:0" },
                    { id: "us.anthropic.claude-sonnet-4-5-20250929-v1:0" },
                    { id: "global.anthropic.claude-sonnet-4-5-20250929-v1:0" },
                    { id: "us.anthropic.claude-haiku-4-5-20251001-v1:0" },
                ] } },
                aliases: { "claude-haiku-4-5": "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0" },
            } }"#,
        );
        for name in [
            "claude-sonnet-4-5",
            "claude-sonnet-4-5-20250929",
            "claude-sonnet-4-5-latest",
        ] {
            assert_eq!(
                runtime.lookup(name).unwrap().reference.to_string(),
                "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "{name}"
            );
        }
        // The config's alias wins over the derived name.
        assert_eq!(
            runtime
                .lookup("claude-haiku-4-5")
                .unwrap()
                .reference
                .to_string(),
            "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0"
        );
        assert!(matches!(
            runtime.lookup("claude-opus-9"),
            Err(LookupError::NotFound(_))
        ));
    }

    #[test]
    fn without_a_primary_default_is_an_error() {
        let runtime = runtime("{}");
        assert_eq!(
            runtime.lookup("default").unwrap_err(),
            LookupError::NoDefault
        );
        assert_eq!(
            runtime.candidates(None).unwrap_err(),
            LookupError::NoDefault
        );
    }
}
