//! Managed keys at the gateway: who a request is from (the admin token, a managed key, or
//! nobody on a gateway without a token), what its key may do (models, limits, budget), and
//! what it spent.
//!
//! A key is looked up in the store on every request, so a revoke is seen at once by every
//! replica. Spend rows go to one writer task that writes them in batches, off the request path;
//! while the database is down the writer keeps them and retries, and keyed requests are refused
//! with 503 (never served unmetered). Requests with the admin token, or to a gateway without
//! one, are served and recorded all the same.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use pincer_core::Usage;
use pincer_store::keys::{ModelFilter, Unusable};
use pincer_store::spend::{ADMIN, ANONYMOUS, SpendRow, nanos};
use pincer_store::{Key, Refusal, Store};
use tokio::sync::mpsc;

use crate::http::error::GatewayError;

/// Who made a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Nobody: the gateway has no token.
    Anonymous,
    /// The holder of `gateway.auth.token`.
    Admin,
    /// A managed key, with what it had spent in its budget period when it was looked up.
    Key(Arc<Key>, i64),
}

/// Who made a request, through which door, with which request id.
#[derive(Debug, Clone)]
pub struct Access {
    /// The caller.
    pub caller: Caller,
    /// The door's name (`chat`, `responses`, `messages`, `count_tokens`, `embeddings`,
    /// `models`).
    pub door: &'static str,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
}

impl Access {
    /// The managed key, if the request has one.
    pub fn key(&self) -> Option<&Key> {
        match &self.caller {
            Caller::Key(key, _) => Some(key),
            _ => None,
        }
    }

    /// The models the caller may use (`None`: every model).
    pub fn models(&self) -> Option<ModelFilter> {
        self.key().map(Key::models).filter(|f| !f.is_all())
    }
}

/// What a request is charged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge<'a> {
    /// Nothing (counting tokens).
    Free,
    /// Its tokens, in this service tier (`None`: the standard one).
    Tier(Option<&'a str>),
}

/// The door a path belongs to.
pub fn door_of(path: &str) -> &'static str {
    match path {
        "/v1/chat/completions" => "chat",
        "/v1/responses" => "responses",
        "/v1/messages" => "messages",
        "/v1/messages/count_tokens" => "count_tokens",
        "/v1/embeddings" => "embeddings",
        p if p.starts_with("/v1/models") => "models",
        _ => "other",
    }
}

/// The most spend rows kept while the database is down; older ones beyond it are dropped, each
/// drop logged.
const BACKLOG: usize = 100_000;

/// The gateway's side of the store: key lookups, admission and the spend writer.
#[derive(Debug)]
pub struct Accounts {
    store: Store,
    ready: AtomicBool,
    problem: Mutex<Option<String>>,
    rows: mpsc::UnboundedSender<SpendRow>,
    sent: AtomicU64,
    written: Arc<AtomicU64>,
}

impl Accounts {
    /// Serves `store`: migrates it (retrying in the background while it is down) and starts
    /// the spend writer. Call inside a Tokio runtime.
    pub fn start(store: Store) -> Arc<Self> {
        let (rows, queue) = mpsc::unbounded_channel();
        let accounts = Arc::new(Self {
            store,
            ready: AtomicBool::new(false),
            problem: Mutex::new(Some("the database has not answered yet".to_owned())),
            rows,
            sent: AtomicU64::new(0),
            written: Arc::new(AtomicU64::new(0)),
        });
        tokio::spawn(migrate(Arc::downgrade(&accounts)));
        tokio::spawn(write(
            accounts.store.clone(),
            queue,
            accounts.written.clone(),
        ));
        accounts
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether the schema is up to date (keyed requests are refused until it is).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Waits up to `within` for the schema to be up to date; `Err` says why it is not.
    pub async fn ready_within(&self, within: Duration) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + within;
        while !self.is_ready() {
            if tokio::time::Instant::now() >= deadline {
                return Err(self
                    .problem
                    .lock()
                    .ok()
                    .and_then(|p| p.clone())
                    .unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }

    fn unavailable(&self, detail: impl std::fmt::Display) -> GatewayError {
        tracing::warn!(target: "pincer_gateway::accounts", "key database unavailable: {detail}");
        GatewayError::StoreUnavailable(format!(
            "the gateway cannot check this key now: its key database is unavailable ({detail}); retry shortly"
        ))
    }

    /// The live key whose secret is `secret` (with its spend this period), or why it is
    /// refused.
    pub async fn authenticate(&self, secret: &str) -> Result<Caller, GatewayError> {
        if !self.is_ready() {
            let problem = self
                .problem
                .lock()
                .ok()
                .and_then(|p| p.clone())
                .unwrap_or_default();
            return Err(self.unavailable(problem));
        }
        let now = pincer_store::now_millis();
        // Once more on a fresh connection when a pooled one was dropped by the database.
        let found = match self.store.lookup(secret, now).await {
            Ok(found) => found,
            Err(_) => self
                .store
                .lookup(secret, now)
                .await
                .map_err(|e| self.unavailable(e))?,
        };
        let pincer_store::keys::Found { key, spent } = found.ok_or_else(|| {
            GatewayError::KeyRefused(
                "this managed key is not known to the gateway (was it rotated?)".to_owned(),
            )
        })?;
        match key.usable(now) {
            Ok(()) => Ok(Caller::Key(Arc::new(key), spent)),
            Err(Unusable::Revoked(at)) => Err(GatewayError::KeyRefused(format!(
                "the managed key `{}` was revoked at {}",
                key.name,
                pincer_store::period::rfc3339(at)
            ))),
            Err(Unusable::Expired(at)) => Err(GatewayError::KeyRefused(format!(
                "the managed key `{}` expired at {}",
                key.name,
                pincer_store::period::rfc3339(at)
            ))),
        }
    }

    /// Admits a request of `key`, which had `spent` this period when it was looked up, now
    /// (counting it against its requests per minute), or refuses it with a 429 naming the limit
    /// or budget and when it resets.
    pub async fn admit(&self, key: &Key, spent: i64) -> Result<(), GatewayError> {
        let now = pincer_store::now_millis();
        let admission = match self.store.admit_having_spent(key, spent, now).await {
            Ok(admission) => admission,
            Err(_) => self
                .store
                .admit_having_spent(key, spent, now)
                .await
                .map_err(|e| self.unavailable(e))?,
        };
        admission.map_err(|refusal| {
            let (reason, retry_after) = match &refusal {
                Refusal::Requests { retry_after, .. } => ("requests", *retry_after),
                Refusal::Tokens { retry_after, .. } => ("tokens", *retry_after),
                Refusal::Budget { retry_after, .. } => ("budget", *retry_after),
            };
            GatewayError::Limited {
                message: format!("managed key `{}`: {refusal}", key.name),
                reason,
                retry_after,
            }
        })
    }

    /// Queues a request's spend row.
    fn send(&self, row: SpendRow) {
        self.sent.fetch_add(1, Ordering::AcqRel);
        // The writer lives as long as the channel; a send fails only at shutdown.
        let _ = self.rows.send(row);
    }

    /// Waits until every row queued so far is written, or `within` passes; whether it was.
    pub async fn flush(&self, within: Duration) -> bool {
        let target = self.sent.load(Ordering::Acquire);
        let deadline = tokio::time::Instant::now() + within;
        while self.written.load(Ordering::Acquire) < target {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

/// Runs the migrations, retrying every 2 s while the database is down.
async fn migrate(accounts: std::sync::Weak<Accounts>) {
    loop {
        let Some(accounts) = accounts.upgrade() else {
            return;
        };
        match accounts.store.migrate().await {
            Ok(()) => {
                if let Ok(mut problem) = accounts.problem.lock() {
                    *problem = None;
                }
                accounts.ready.store(true, Ordering::Release);
                return;
            }
            Err(error) => {
                tracing::warn!(target: "pincer_gateway::accounts", "{error}; retrying in 2 s");
                if let Ok(mut problem) = accounts.problem.lock() {
                    *problem = Some(error.to_string());
                }
            }
        }
        drop(accounts);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The spend writer: takes what is queued, writes it in one transaction, and keeps it (retrying
/// with backoff) while the database is down.
async fn write(
    store: Store,
    mut queue: mpsc::UnboundedReceiver<SpendRow>,
    written: Arc<AtomicU64>,
) {
    let mut batch: Vec<SpendRow> = Vec::new();
    let mut backoff = Duration::from_millis(100);
    let mut dropped = 0u64;
    loop {
        if batch.is_empty() {
            match queue.recv().await {
                Some(row) => batch.push(row),
                None => return,
            }
        }
        while let Ok(row) = queue.try_recv() {
            batch.push(row);
        }
        if batch.len() > BACKLOG {
            let excess = batch.len() - BACKLOG;
            batch.drain(..excess);
            dropped += excess as u64;
            written.fetch_add(excess as u64, Ordering::AcqRel);
            tracing::error!(target: "pincer_gateway::accounts", dropped, "the key database has been down too long: spend rows dropped");
        }
        match store.record(&batch).await {
            Ok(()) => {
                written.fetch_add(batch.len() as u64, Ordering::AcqRel);
                batch.clear();
                backoff = Duration::from_millis(100);
            }
            Err(error) => {
                tracing::warn!(target: "pincer_gateway::accounts", rows = batch.len(), "spend not written yet: {error}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Where one request's spend goes when it ends.
#[derive(Debug, Clone)]
pub struct Ticket {
    accounts: Arc<Accounts>,
    access: Access,
    metrics: Arc<crate::http::metrics::Metrics>,
}

/// What a request used, as its record knows it at the end.
#[derive(Debug)]
pub struct Spent<'a> {
    /// The model's catalog key.
    pub model: &'a str,
    /// Tokens.
    pub usage: &'a Usage,
    /// Cost in USD, `None` when the price is unknown.
    pub cost: Option<f64>,
    /// From the request to its end.
    pub latency: Duration,
    /// `ok`, `error` or `cancelled`.
    pub outcome: &'static str,
    /// The HTTP status sent.
    pub status: u16,
}

impl Ticket {
    /// A ticket recording `access`'s request in `accounts` (and, for a managed key, in the
    /// key's counters of `metrics`).
    pub fn new(
        accounts: Arc<Accounts>,
        access: Access,
        metrics: Arc<crate::http::metrics::Metrics>,
    ) -> Self {
        Self {
            accounts,
            access,
            metrics,
        }
    }

    /// Queues the request's row and counts it for its key.
    pub fn spent(self, spent: Spent<'_>) {
        if let Some(key) = self.access.key() {
            self.metrics
                .key_used(&key.name, spent.outcome, spent.usage, spent.cost);
        }
        let (key_id, caller, period) = match &self.access.caller {
            Caller::Key(key, _) => (
                Some(key.id.clone()),
                key.name.clone(),
                key.budget_nanos.and(key.period),
            ),
            Caller::Admin => (None, ADMIN.to_owned(), None),
            Caller::Anonymous => (None, ANONYMOUS.to_owned(), None),
        };
        self.accounts.send(SpendRow {
            at: pincer_store::now_millis(),
            key_id,
            caller,
            period,
            model: spent.model.to_owned(),
            door: self.access.door.to_owned(),
            input: spent.usage.input,
            output: spent.usage.output,
            cache_read: spent.usage.cache_read,
            cache_write: spent.usage.cache_write,
            cost_nanos: spent.cost.map(nanos),
            latency_ms: u64::try_from(spent.latency.as_millis()).unwrap_or(u64::MAX),
            outcome: spent.outcome.to_owned(),
            status: spent.status,
            request_id: self.access.request_id.clone(),
        });
    }
}

/// What a key's refusal is, for its metric.
pub fn refusal_reason(error: &GatewayError) -> Option<&'static str> {
    match error {
        GatewayError::ModelNotAllowed(_) => Some("model"),
        GatewayError::PriceUnknown(_) => Some("price"),
        GatewayError::Limited { reason, .. } => Some(reason),
        _ => None,
    }
}

/// Whether `model`'s answers in `tier` can be charged to a budget: its input price is known,
/// and its output price too unless it is an embedding model (whose answers are not tokens).
pub fn priced(model: &pincer_runtime::resolve::Resolved, tier: Option<&str>) -> bool {
    let prices = model.model.tier_prices().serving(tier);
    prices.input.is_some() && (prices.output.is_some() || model.model.capabilities.embedding)
}
