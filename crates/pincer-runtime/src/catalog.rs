//! The model catalog: manual providers (any api) merged with discovered Bedrock models, field
//! by field. A manual Bedrock entry that gives only `id` and `cost` keeps the discovered and
//! known limits; a manual field always wins; discovered models without a manual entry stay
//! listed.
//!
//! Discovery policy: `enabled` defaults to "credentials present", as resolved by the real
//! credential chain (a warm cache counts, so a warm listing makes no network call); `true`
//! forces it and makes a failure an error; `false` turns it off. Results are cached for
//! `refreshInterval` seconds (0: no cache); a failed refresh falls back to the last good list
//! with a warning naming the cause.

use std::path::Path;
use std::time::Duration;

use pincer_bedrock::aws::{AwsSetup, Environment};
use pincer_bedrock::cache::{CacheKey, DiscoveryCache, identity_fingerprint};
use pincer_bedrock::credentials::{self, CredentialReport};
use pincer_bedrock::discovery::{self, DiscoveredModel, DiscoveryFilter};
use pincer_bedrock::known;
use pincer_bedrock::provider::PROVIDER_ID;
use pincer_bedrock::region::RegionSource;
use pincer_config::Options;
use pincer_core::{Model, ModelRef, ProviderError};
use serde::Serialize;

use pincer_bedrock::profiles::{ProfileBases, is_application_profile};

use crate::resolve::{Known, merge};

/// Where an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Only the config.
    Manual,
    /// Only discovery.
    Discovered,
    /// Both, merged.
    Both,
}

/// One model of the catalog.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogEntry {
    /// `provider/id`.
    pub key: String,
    /// Provider id.
    pub provider: String,
    /// Model id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Accepted inputs.
    pub input: Vec<pincer_core::Modality>,
    /// Context window.
    pub context_window: u32,
    /// Maximum output tokens.
    pub max_tokens: u32,
    /// Whether it reasons.
    pub reasoning: bool,
    /// How it reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_style: Option<pincer_core::ReasoningStyle>,
    /// Prices per 1M tokens (`null`: unknown).
    pub cost: pincer_core::Prices,
    /// Whether prompt-cache points are honoured.
    pub prompt_cache: bool,
    /// What else the model can take, and how.
    pub capabilities: pincer_core::Capabilities,
    /// Where each value comes from: `config`, `bedrock`, `table` or `default`.
    pub sources: crate::resolve::Provenance,
    /// Where it comes from.
    pub source: Source,
    /// `chat`, or `embedding` (served on `/v1/embeddings`).
    pub kind: &'static str,
    /// Why discovery hides it (listed with `--all` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<String>,
    /// Whether it is `agents.defaults.model.primary`.
    pub default: bool,
    /// The full description.
    #[serde(skip)]
    pub model: Model,
}

/// What discovery did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveryReport {
    /// Whether discovery is on.
    pub enabled: bool,
    /// Why it is on or off.
    pub reason: String,
    /// Region discovered in.
    pub region: String,
    /// Where the region came from.
    pub region_source: String,
    /// Age of the cached list used, in seconds.
    pub cache_age_secs: Option<u64>,
    /// Whether the list came from the cache.
    pub from_cache: bool,
    /// The error of the last refresh, if it failed.
    pub error: Option<String>,
    /// Models discovered (before filtering hidden ones).
    pub discovered: usize,
    /// Warnings to show the user.
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// The credential report, when deciding whether to discover needed one.
    #[serde(skip)]
    pub credentials: Option<CredentialReport>,
}

/// Discovery was forced on and failed, with no cached list to fall back to.
#[derive(Debug, Clone, thiserror::Error)]
#[error("model discovery failed: {error}")]
pub struct CatalogError {
    /// Why.
    pub error: ProviderError,
    /// Warnings gathered before the failure (e.g. a corrupt cache was ignored).
    pub warnings: Vec<String>,
    /// Discovery's report, with the error.
    pub report: Box<DiscoveryReport>,
}

/// The catalog and how it was built.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Every model, manual first (file order), then discovered (by key).
    pub entries: Vec<CatalogEntry>,
    /// Discovery's report.
    pub discovery: DiscoveryReport,
    /// What discovery found (the entries are built from it).
    discovered: Vec<DiscoveredModel>,
    /// The application profiles whose base model is known.
    bases: ProfileBases,
}

/// Inputs of [`Catalog::build`].
#[allow(missing_debug_implementations)]
pub struct CatalogInputs<'a> {
    /// The validated config.
    pub options: &'a Options,
    /// `PINCER_HOME`, for the cache.
    pub pincer_home: &'a Path,
    /// The AWS setup (region; credentials resolved only if needed).
    pub aws: &'a AwsSetup,
    /// The environment the AWS setup was loaded from.
    pub env: &'a dyn Environment,
    /// Ignore a fresh cache.
    pub refresh: bool,
    /// Deadline of each AWS call.
    pub deadline: Duration,
}

fn region_source(source: RegionSource) -> &'static str {
    match source {
        RegionSource::Config => "config",
        RegionSource::AwsRegion => "AWS_REGION",
        RegionSource::AwsDefaultRegion => "AWS_DEFAULT_REGION",
        RegionSource::Sdk => "AWS profile or instance metadata",
        RegionSource::Default => "default",
    }
}

impl Catalog {
    /// Discovers (or reads the cache) and merges with the config's providers.
    pub async fn build(inputs: CatalogInputs<'_>) -> Result<Self, CatalogError> {
        let (discovered, report) = discover(&inputs).await?;
        let mut catalog = Self::assemble(
            inputs.options,
            discovered,
            report,
            ProfileBases::load(inputs.pincer_home),
        );
        catalog
            .learn_profiles(inputs.options, inputs.aws, [], inputs.deadline)
            .await;
        Ok(catalog)
    }

    fn assemble(
        options: &Options,
        discovered: Vec<DiscoveredModel>,
        discovery: DiscoveryReport,
        bases: ProfileBases,
    ) -> Self {
        Self {
            entries: merge_entries(options, &discovered, &bases),
            discovery,
            discovered,
            bases,
        }
    }

    /// Whether some application profile of the config (or `more`, a `provider/id` reference)
    /// has a base model nobody has learned yet.
    pub fn has_unknown_profiles(&self, options: &Options, more: Option<&str>) -> bool {
        let more = more.and_then(|m| m.split_once('/')).map(|(_, id)| id);
        !self.unknown_profiles(options, more).is_empty()
    }

    fn unknown_profiles<'a>(
        &self,
        options: &Options,
        more: impl IntoIterator<Item = &'a str>,
    ) -> Vec<String> {
        let configured = options
            .providers()
            .filter(|(_, p)| {
                p.api
                    .is_none_or(|api| api == pincer_config::options::Api::BedrockConverseStream)
            })
            .flat_map(|(_, p)| p.models.iter().flatten().map(|m| m.id.clone()));
        let defaults = options.default_model().into_iter().flat_map(|m| {
            m.primary
                .iter()
                .chain(m.fallbacks.iter().flatten())
                .filter_map(|r| r.split_once('/').map(|(_, id)| id.to_owned()))
                .collect::<Vec<_>>()
        });
        let mut wanted: Vec<String> = configured
            .chain(defaults)
            .chain(more.into_iter().map(str::to_owned))
            .filter(|id| is_application_profile(id))
            .filter(|id| self.bases.get(id).is_none())
            .filter(|id| !self.discovered.iter().any(|d| &d.id == id))
            .collect();
        wanted.sort();
        wanted.dedup();
        wanted
    }

    /// Learns the base model of each application profile named by ARN (in the config, as the
    /// default model or a fallback, or in `more`) that discovery did not list and no earlier run
    /// learned: one `GetInferenceProfile` each, remembered under `PINCER_HOME`. Nothing is called
    /// when every profile is known. Failures become warnings in the report.
    pub async fn learn_profiles<'a>(
        &mut self,
        options: &Options,
        aws: &AwsSetup,
        more: impl IntoIterator<Item = &'a str>,
        deadline: Duration,
    ) {
        let wanted = self.unknown_profiles(options, more);
        if wanted.is_empty() {
            return;
        }
        let warnings = self
            .bases
            .learn(&aws.config, wanted.iter().map(String::as_str), deadline)
            .await;
        self.discovery.warnings.extend(warnings);
        self.entries = merge_entries(options, &self.discovered, &self.bases);
    }

    /// For a long-running server: like [`build`](Self::build), but when forced discovery fails
    /// with nothing cached, the configured models are still served (the error stays in the
    /// report and the background refresh keeps trying), so an outage of the control plane never
    /// keeps the server from starting or takes a configured model away.
    pub async fn build_for_serving(inputs: CatalogInputs<'_>) -> Self {
        let options = inputs.options;
        let home = inputs.pincer_home;
        match Self::build(inputs).await {
            Ok(catalog) => catalog,
            Err(failed) => {
                let mut report = *failed.report;
                report.warnings.push(format!(
                    "model discovery failed ({}); serving the configured models until a refresh succeeds",
                    failed.error
                ));
                Self::assemble(options, Vec::new(), report, ProfileBases::load(home))
            }
        }
    }

    /// The catalog as the last discovery left it, without calling Bedrock: the configured models
    /// merged with the discovery cache for `region` (of any age). `pincer chat` reads this, so it
    /// describes each model as the gateway and `models list` do, and never waits on discovery.
    pub fn from_cache(
        options: &Options,
        pincer_home: &Path,
        region: &str,
        env: &dyn Environment,
    ) -> Self {
        let settings = options.discovery();
        let filter = settings.provider_filter.clone().unwrap_or_default();
        let key = CacheKey::new(region, &identity_fingerprint(env), &filter);
        let cached = if settings.enabled == Some(false) {
            None
        } else {
            DiscoveryCache::new(pincer_home).load(&key).ok().flatten()
        };
        let discovered = cached
            .as_ref()
            .map(|c| c.models.clone())
            .unwrap_or_default();
        let count = discovered.len();
        Self::assemble(
            options,
            discovered,
            DiscoveryReport {
                enabled: cached.is_some(),
                reason: "read from the discovery cache".to_owned(),
                region: region.to_owned(),
                region_source: String::new(),
                cache_age_secs: cached.as_ref().map(|c| c.age.as_secs()),
                from_cache: cached.is_some(),
                error: None,
                discovered: count,
                warnings: Vec::new(),
                credentials: None,
            },
            ProfileBases::load(pincer_home),
        )
    }

    /// The entries served (not hidden by discovery).
    pub fn served(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.entries.iter().filter(|e| e.hidden.is_none())
    }

    /// Resolves `reference` as every path does (`pincer chat`, the gateway): the backend from
    /// the config, and the model as this catalog describes it (config, Bedrock's listing and the
    /// known-model table merged) when the catalog holds it, else as the config and the table do.
    pub fn resolve(
        &self,
        options: &Options,
        reference: &ModelRef,
    ) -> Result<crate::resolve::Resolved, crate::resolve::ResolveError> {
        crate::resolve::resolve_as(
            options,
            reference,
            Some(&self.bases),
            self.get(reference).map(|entry| &entry.model),
        )
    }

    /// The entry for `reference`.
    pub fn get(&self, reference: &ModelRef) -> Option<&CatalogEntry> {
        let key = reference.to_string();
        self.entries.iter().find(|e| e.key == key)
    }

    /// The served Claude model that Anthropic calls `name` (`claude-sonnet-4-5`, dated
    /// `claude-sonnet-4-5-20250929`, or with `-latest`): among the catalog's ids for it, the
    /// newest dated version, then the region's geographic inference profile, then a global one,
    /// then the bare model id.
    pub fn anthropic_model(&self, name: &str) -> Option<&CatalogEntry> {
        let wanted = name.strip_suffix("-latest").unwrap_or(name);
        if !wanted.starts_with("claude-") {
            return None;
        }
        let geography = match self.discovery.region.split('-').next() {
            Some("us") => "us.",
            Some("eu") => "eu.",
            Some("ap") => "apac.",
            _ => "",
        };
        self.served()
            .filter_map(|entry| {
                let (prefix, rest) = entry.id.split_once("anthropic.")?;
                let dated = rest.rsplit_once("-v").map_or(rest, |(base, _)| base);
                let (undated, date) = match dated.rsplit_once('-') {
                    Some((base, date))
                        if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        (base, date)
                    }
                    _ => (dated, ""),
                };
                (wanted == dated || wanted == undated).then(|| {
                    let place = match prefix {
                        p if !geography.is_empty() && p == geography => 3,
                        "global." => 2,
                        "" => 1,
                        _ => 0,
                    };
                    ((date, place), entry)
                })
            })
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, entry)| entry)
    }

    /// The entries closest to `text` that are plausible typos of it, for "did you mean".
    pub fn closest(&self, text: &str, count: usize) -> Vec<&CatalogEntry> {
        let mut scored: Vec<(usize, &CatalogEntry)> = self
            .entries
            .iter()
            .map(|e| {
                (
                    strsim::levenshtein(&e.key.to_lowercase(), &text.to_lowercase()),
                    e,
                )
            })
            .collect();
        // Close enough to be a likely typo: a quarter of the length, and never fewer than 4 edits.
        let limit = (text.chars().count() / 4).max(4);
        scored.retain(|(d, _)| *d <= limit);
        scored.sort_by_key(|(d, _)| *d);
        scored.into_iter().take(count).map(|(_, e)| e).collect()
    }
}

async fn discover(
    inputs: &CatalogInputs<'_>,
) -> Result<(Vec<DiscoveredModel>, DiscoveryReport), CatalogError> {
    let settings = inputs.options.discovery();
    let region = inputs.aws.region.clone();
    let filter = settings.provider_filter.clone().unwrap_or_default();
    let key = CacheKey::new(&region, &identity_fingerprint(inputs.env), &filter);
    let cache = DiscoveryCache::new(inputs.pincer_home);
    let interval = Duration::from_secs(settings.refresh_interval_secs());
    let mut report = DiscoveryReport {
        enabled: false,
        reason: String::new(),
        region: region.clone(),
        region_source: region_source(inputs.aws.region_source).to_owned(),
        cache_age_secs: None,
        from_cache: false,
        error: None,
        discovered: 0,
        warnings: Vec::new(),
        credentials: None,
    };
    let cached = match cache.load(&key) {
        Ok(cached) => cached,
        Err(warning) => {
            report.warnings.push(warning);
            None
        }
    };
    match settings.enabled {
        Some(false) => {
            report.reason =
                "turned off in config (models.bedrockDiscovery.enabled = false)".to_owned();
            return Ok((Vec::new(), report));
        }
        Some(true) => report.reason = "turned on in config".to_owned(),
        // A fresh cache was written with credentials present: trust it without resolving them
        // again, so a warm listing makes no network call. A stale one proves nothing.
        None if cached
            .as_ref()
            .is_some_and(|c| !interval.is_zero() && c.age < interval) =>
        {
            report.reason = "credentials present (cached discovery)".to_owned()
        }
        None => {
            let found: CredentialReport =
                credentials::detect(&inputs.aws.config, inputs.env, Duration::from_secs(3)).await;
            let present = found.present;
            report.reason = if present {
                format!(
                    "credentials present: {}",
                    found
                        .provider
                        .clone()
                        .unwrap_or_else(|| found.source.label())
                )
            } else {
                format!(
                    "no AWS credentials found ({}); set models.bedrockDiscovery.enabled to force it",
                    found
                        .error
                        .clone()
                        .unwrap_or_else(|| "none resolved".to_owned())
                )
            };
            report.credentials = Some(found);
            if !present {
                return Ok((Vec::new(), report));
            }
        }
    }
    report.enabled = true;
    let fresh = cached
        .as_ref()
        .filter(|c| !inputs.refresh && !interval.is_zero() && c.age < interval);
    if let Some(cached) = fresh {
        report.from_cache = true;
        report.cache_age_secs = Some(cached.age.as_secs());
        report.discovered = cached.models.len();
        return Ok((cached.models.clone(), report));
    }
    let filter = DiscoveryFilter::new(&filter);
    match discovery::discover(&inputs.aws.config, &region, &filter, inputs.deadline).await {
        Ok(models) => {
            if !interval.is_zero()
                && let Err(err) = cache.store(&key, &models)
            {
                report
                    .warnings
                    .push(format!("could not write the discovery cache: {err}"));
            }
            report.discovered = models.len();
            Ok((models, report))
        }
        Err(error) => {
            report.error = Some(error.to_string());
            match cached {
                Some(stale) => {
                    report.warnings.push(format!(
                        "model discovery failed ({error}); using the list cached {} s ago",
                        stale.age.as_secs()
                    ));
                    report.from_cache = true;
                    report.cache_age_secs = Some(stale.age.as_secs());
                    report.discovered = stale.models.len();
                    Ok((stale.models, report))
                }
                None if settings.enabled == Some(true) => Err(CatalogError {
                    error,
                    warnings: report.warnings.clone(),
                    report: Box::new(report),
                }),
                None => {
                    report.warnings.push(format!(
                        "model discovery failed ({error}); listing configured models only"
                    ));
                    Ok((Vec::new(), report))
                }
            }
        }
    }
}

fn merge_entries(
    options: &Options,
    discovered: &[DiscoveredModel],
    bases: &ProfileBases,
) -> Vec<CatalogEntry> {
    let settings = options.discovery();
    let defaults = (
        settings.default_context_window(),
        settings.default_max_tokens(),
    );
    let primary = options.default_model().and_then(|m| m.primary.clone());
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let entry = |provider: &str,
                 (model, sources): (Model, crate::resolve::Provenance),
                 source: Source,
                 hidden: Option<String>,
                 reasoning_supported: bool| CatalogEntry {
        key: format!("{provider}/{}", model.id),
        provider: provider.to_owned(),
        id: model.id.clone(),
        name: model.name.clone(),
        input: model.input.clone(),
        context_window: model.context_window,
        max_tokens: model.max_tokens,
        reasoning: model.reasoning.is_some() || reasoning_supported,
        reasoning_style: model.reasoning,
        cost: model.prices,
        prompt_cache: model.prompt_cache,
        capabilities: model.capabilities.clone(),
        sources,
        source,
        kind: if model.capabilities.embedding {
            "embedding"
        } else {
            "chat"
        },
        hidden,
        default: primary.as_deref() == Some(&format!("{provider}/{}", model.id)),
        model,
    };
    for (provider_id, provider) in options.providers() {
        let bedrock = provider
            .api
            .is_none_or(|api| api == pincer_config::options::Api::BedrockConverseStream);
        for manual in provider.models.iter().flatten() {
            let found = (provider_id == PROVIDER_ID)
                .then(|| discovered.iter().find(|d| d.id == manual.id))
                .flatten();
            let profile = bedrock.then(|| bases.get(&manual.id)).flatten();
            // A profile is described as the model it routes to.
            let base = found
                .map(|d| d.base_id.as_str())
                .or(profile.map(|p| p.model.as_str()))
                .unwrap_or(&manual.id);
            let known = bedrock.then(|| known::lookup(base)).flatten();
            let model = merge(
                provider_id,
                &manual.id,
                Known {
                    settings: Some(provider),
                    manual: Some(manual),
                    table: known,
                    discovered: found,
                    profile,
                },
                defaults,
            );
            let source = if found.is_some() {
                Source::Both
            } else {
                Source::Manual
            };
            seen.insert(format!("{provider_id}/{}", manual.id));
            let supported = found.is_some_and(|d| d.facts.reasoning_supported == Some(true));
            entries.push(entry(provider_id, model, source, None, supported));
        }
    }
    let bedrock_settings = options
        .providers()
        .find(|(id, _)| *id == PROVIDER_ID)
        .map(|(_, p)| p);
    let mut rest: Vec<CatalogEntry> = discovered
        .iter()
        .filter(|d| !seen.contains(&format!("{PROVIDER_ID}/{}", d.id)))
        .map(|d| {
            let model = merge(
                PROVIDER_ID,
                &d.id,
                Known {
                    settings: bedrock_settings,
                    manual: None,
                    table: known::lookup(&d.base_id),
                    discovered: Some(d),
                    profile: None,
                },
                defaults,
            );
            let supported = d.facts.reasoning_supported == Some(true);
            // Bedrock lists rerankers and video-understanding models as TEXT to TEXT; they take
            // no Converse turn.
            let hidden = d.hidden.clone().or_else(|| {
                known::lookup(&d.base_id).and_then(|k| match k.kind {
                    known::Kind::Chat => None,
                    // Served on `/v1/embeddings`, never to chat.
                    known::Kind::Embedding => None,
                    known::Kind::Rerank => Some("a reranking model: not a chat model".to_owned()),
                    known::Kind::Video => Some(
                        "a video-understanding model served through InvokeModel, not Converse"
                            .to_owned(),
                    ),
                })
            });
            entry(PROVIDER_ID, model, Source::Discovered, hidden, supported)
        })
        .collect();
    rest.sort_by(|a, b| a.key.cmp(&b.key));
    entries.extend(rest);
    entries
}
