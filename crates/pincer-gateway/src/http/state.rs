//! What every request handler shares: the runtime (config, catalog, providers, model lookup and
//! fallbacks, shared with `pincer chat`), the token, the managed keys, the limits and the
//! metrics.

use std::sync::Arc;
use std::time::Duration;

use pincer_core::Secret;
use pincer_runtime::catalog::Catalog;
use pincer_runtime::{Candidates, LookupError, Runtime};

use crate::http::accounts::{Access, Accounts, Caller, Charge, Ticket};
use crate::http::error::GatewayError;
use crate::http::images::RemoteImages;
use crate::http::limits::Limits;
use crate::http::metrics::{Metrics, RequestRecord};

/// Shared state.
#[derive(Debug)]
pub struct GatewayState {
    /// The runtime every door serves through.
    pub runtime: Arc<Runtime>,
    /// The token clients must send, if any (the admin key).
    pub token: Option<Secret>,
    /// Managed keys and spend, when the gateway has a database.
    pub accounts: Option<Arc<Accounts>>,
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
            accounts: None,
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

    /// The same state, with managed keys and spend in `accounts`.
    pub fn with_accounts(mut self, accounts: Arc<Accounts>) -> Self {
        self.accounts = Some(accounts);
        self
    }

    /// The metrics (and, when traced, the span; with a database, the spend row) of a chat
    /// request of `access` started at `started`.
    pub fn record(
        &self,
        access: &Access,
        started: std::time::Instant,
        stream: bool,
    ) -> RequestRecord {
        self.traced(
            RequestRecord::start(self.metrics.clone(), started, stream).ledger(self.ticket(access)),
            "chat",
        )
    }

    /// The metrics (span and spend row) of an embeddings request.
    pub fn record_embeddings(&self, access: &Access, started: std::time::Instant) -> RequestRecord {
        self.traced(
            RequestRecord::start(self.metrics.clone(), started, false).ledger(self.ticket(access)),
            "embeddings",
        )
    }

    /// Where a request of `access` records its spend, when the gateway has a database.
    pub fn ticket(&self, access: &Access) -> Option<Ticket> {
        self.accounts
            .as_ref()
            .map(|accounts| Ticket::new(accounts.clone(), access.clone(), self.metrics.clone()))
    }

    /// Admits a request of `access` for `models` (the model asked for, then its fallbacks),
    /// charged as `charge` says: a managed key keeps only the models it may use (403 when that
    /// leaves none), refuses models of unknown price in the tier asked when it has a budget
    /// (403), and is counted
    /// against its limits and budget (429 when they are used up, 503 when the database cannot
    /// say). The admin token and tokenless gateways pass.
    pub async fn admit(
        &self,
        access: &Access,
        models: &mut Vec<pincer_runtime::resolve::Resolved>,
        charge: Charge<'_>,
    ) -> Result<(), GatewayError> {
        let Caller::Key(key, spent) = &access.caller else {
            return Ok(());
        };
        let refused = |error: GatewayError| {
            if let Some(reason) = crate::http::accounts::refusal_reason(&error) {
                self.metrics.key_refused(&key.name, reason);
            }
            error
        };
        let asked = models
            .first()
            .map(|m| m.reference.to_string())
            .unwrap_or_default();
        if let Some(filter) = access.models() {
            models.retain(|m| filter.allows(&m.reference.to_string()));
            if models.is_empty() {
                return Err(refused(GatewayError::ModelNotAllowed(format!(
                    "the managed key `{}` may not use `{asked}`; GET /v1/models lists the models it may use",
                    key.name
                ))));
            }
        }
        if let (Some(_), Charge::Tier(tier)) = (key.budget_nanos, charge) {
            models.retain(|m| crate::http::accounts::priced(m, tier));
            if models.is_empty() {
                return Err(refused(GatewayError::PriceUnknown(format!(
                    "the price of `{asked}`{} is unknown, so the managed key `{}` cannot charge it to its budget; use a model with a known price (GET /v1/models shows prices) or a key without a budget",
                    tier.map(|t| format!(" in the {t} tier"))
                        .unwrap_or_default(),
                    key.name
                ))));
            }
        }
        let Some(accounts) = &self.accounts else {
            return Err(GatewayError::StoreUnavailable(
                "this gateway has no key database".to_owned(),
            ));
        };
        accounts.admit(key, *spent).await.map_err(refused)
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
