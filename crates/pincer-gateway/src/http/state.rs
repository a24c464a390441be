//! What every request handler shares: the runtime (config, catalog, providers, model lookup and
//! fallbacks, shared with `pincer chat`), the token, the limits and the metrics.

use std::sync::Arc;
use std::time::Duration;

use pincer_core::Secret;
use pincer_runtime::catalog::Catalog;
use pincer_runtime::{Candidates, LookupError, Runtime};

use crate::http::error::GatewayError;
use crate::http::images::RemoteImages;
use crate::http::limits::Limits;
use crate::http::metrics::{Metrics, RequestRecord};

/// Shared state.
#[derive(Debug)]
pub struct GatewayState {
    /// The runtime every door serves through.
    pub runtime: Arc<Runtime>,
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
    /// Responses output items, for `item_reference`.
    pub response_items: crate::http::responses::HeldItems,
    /// Whether requests are traced (an OpenTelemetry exporter is installed).
    pub telemetry: bool,
}

/// Shared state, as handlers receive it.
pub type SharedState = Arc<GatewayState>;

impl GatewayState {
    /// State serving `runtime`, with the gateway settings of its config.
    pub fn new(runtime: Arc<Runtime>, token: Option<Secret>) -> Self {
        let settings = runtime.options().gateway();
        let metrics = Arc::new(Metrics::new());
        metrics.catalog_size(runtime.catalog().served().count());
        Self {
            request_timeout: settings.request_timeout(),
            log_contents: settings.log_contents.unwrap_or(false),
            remote_images: RemoteImages::new(&settings.remote_images()),
            limits: Limits::new(&settings.limits()),
            runtime,
            token,
            metrics,
            response_items: Default::default(),
            telemetry: false,
        }
    }

    /// The same state, tracing requests when `on`.
    pub fn with_telemetry(mut self, on: bool) -> Self {
        self.telemetry = on;
        self
    }

    /// The metrics (and, when traced, the span) of a chat request started at `started`.
    pub fn record(&self, started: std::time::Instant, stream: bool) -> RequestRecord {
        self.traced(
            RequestRecord::start(self.metrics.clone(), started, stream),
            "chat",
        )
    }

    /// The metrics (and span) of an embeddings request.
    pub fn record_embeddings(&self, started: std::time::Instant) -> RequestRecord {
        self.traced(
            RequestRecord::start(self.metrics.clone(), started, false),
            "embeddings",
        )
    }

    fn traced(&self, record: RequestRecord, operation: &'static str) -> RequestRecord {
        if self.telemetry {
            record.traced(operation, self.log_contents)
        } else {
            record
        }
    }

    /// The catalog now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.runtime.catalog()
    }

    /// The models to try for a request's `model` (the runtime's fallback policy).
    pub fn candidates(&self, requested: &str) -> Result<Candidates, GatewayError> {
        self.runtime.candidates(Some(requested)).map_err(Into::into)
    }

    /// Resolves a request's `model` without fallbacks (the runtime's model lookup).
    pub fn resolve_model(
        &self,
        requested: &str,
    ) -> Result<pincer_runtime::resolve::Resolved, GatewayError> {
        self.runtime.lookup(requested).map_err(Into::into)
    }
}

impl From<LookupError> for GatewayError {
    fn from(error: LookupError) -> Self {
        match error {
            LookupError::NoDefault => GatewayError::ModelNotFound(
                "`default` names no model: set agents.defaults.model.primary".to_owned(),
            ),
            LookupError::NotFound(message) => GatewayError::ModelNotFound(message),
            LookupError::Invalid(message) => GatewayError::BadRequest {
                message,
                param: Some("model".to_owned()),
            },
            LookupError::Misconfigured(message) => GatewayError::Misconfigured(message),
        }
    }
}
