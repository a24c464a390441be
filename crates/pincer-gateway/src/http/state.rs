//! What every request handler shares: the config, the catalog (swapped whole by the background
//! refresh, never rebuilt on the request path), the providers, the token and the metrics.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use pincer_config::Options;
use pincer_core::{ModelRef, Secret};

use crate::catalog::Catalog;
use crate::http::error::GatewayError;
use crate::http::images::RemoteImages;
use crate::http::limits::Limits;
use crate::http::metrics::Metrics;
use crate::providers::Providers;
use crate::resolve::{ResolveError, Resolved};

/// Shared state.
#[derive(Debug)]
pub struct GatewayState {
    /// The validated config.
    pub options: Options,
    catalog: ArcSwap<Catalog>,
    /// Providers, built on first use.
    pub providers: Providers,
    /// The token clients must send, if any.
    pub token: Option<Secret>,
    /// Body, connection and concurrency limits.
    pub limits: Limits,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// How long a request may wait for its first output (or, unstreamed, its answer).
    pub request_timeout: Duration,
    /// Whether request logs carry message contents.
    pub log_contents: bool,
    /// The remote-image policy.
    pub remote_images: RemoteImages,
    /// Reasoning signatures handed out, for clients that drop them.
    pub signatures: crate::signatures::Signatures,
}

/// Shared state, as handlers receive it.
pub type SharedState = Arc<GatewayState>;

impl GatewayState {
    /// State for `options`, serving `catalog` through `providers`.
    pub fn new(
        options: Options,
        catalog: Catalog,
        providers: Providers,
        token: Option<Secret>,
    ) -> Self {
        let settings = options.gateway();
        let metrics = Arc::new(Metrics::new());
        metrics.catalog_size(catalog.served().count());
        Self {
            request_timeout: settings.request_timeout(),
            log_contents: settings.log_contents.unwrap_or(false),
            remote_images: RemoteImages::new(&settings.remote_images()),
            limits: Limits::new(&settings.limits()),
            options,
            catalog: ArcSwap::from_pointee(catalog),
            providers,
            token,
            metrics,
            signatures: crate::signatures::Signatures::default(),
        }
    }

    /// The catalog now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// Replaces the catalog (a background refresh finished).
    pub fn replace_catalog(&self, catalog: Catalog) {
        self.catalog.store(Arc::new(catalog));
    }

    /// The models to try for a request's `model`, in order: the model itself, then, when it is
    /// `default` or the configured primary, the configured fallbacks.
    pub fn candidates(&self, requested: &str) -> Result<Vec<Resolved>, GatewayError> {
        let first = self.resolve_model(requested)?;
        let defaults = self.options.default_model();
        let primary = defaults.and_then(|m| m.primary.as_deref());
        let is_primary = requested == "default" || primary == Some(&first.reference.to_string());
        let mut out = vec![first];
        if is_primary {
            for fallback in defaults
                .and_then(|m| m.fallbacks.as_ref())
                .into_iter()
                .flatten()
            {
                // Validation checked the references; one that no longer resolves is skipped.
                if let Ok(resolved) = self.resolve_model(fallback) {
                    out.push(resolved);
                }
            }
        }
        Ok(out)
    }

    /// Resolves a request's `model`: `provider/id`, a bare id the catalog holds once, or
    /// `default` for `agents.defaults.model.primary`.
    pub fn resolve_model(&self, requested: &str) -> Result<Resolved, GatewayError> {
        let text = if requested == "default" {
            self.options
                .default_model()
                .and_then(|m| m.primary.clone())
                .ok_or_else(|| {
                    GatewayError::ModelNotFound(
                        "`default` names no model: set agents.defaults.model.primary".to_owned(),
                    )
                })?
        } else if requested.contains('/') {
            requested.to_owned()
        } else {
            pincer_core::validate_model_id(requested).map_err(|reason| {
                GatewayError::BadRequest {
                    message: format!("`{}`: {reason}", pincer_core::model_ref::shorten(requested)),
                    param: Some("model".to_owned()),
                }
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
                [] => {
                    return Err(GatewayError::ModelNotFound(format!(
                        "model `{requested}` is not in the catalog; GET /v1/models lists them"
                    )));
                }
                many => {
                    return Err(GatewayError::BadRequest {
                        message: format!("model `{requested}` is ambiguous: {}", many.join(", ")),
                        param: Some("model".to_owned()),
                    });
                }
            }
        };
        let reference: ModelRef =
            text.parse()
                .map_err(|e: pincer_core::ModelRefError| GatewayError::BadRequest {
                    message: e.to_string(),
                    param: Some("model".to_owned()),
                })?;
        self.catalog()
            .resolve(&self.options, &reference)
            .map_err(|e| match e {
                ResolveError::UnknownProvider { .. } => GatewayError::ModelNotFound(e.to_string()),
                ResolveError::Incomplete { .. } | ResolveError::MissingKey { .. } => {
                    GatewayError::Misconfigured(e.to_string())
                }
            })
    }
}
