//! `GET /metrics`: counters and histograms for requests, latency, time to first token, tokens,
//! cost, errors and the catalog, in the format the scraper's `Accept` prefers: OpenMetrics 1.0
//! (what Prometheus asks for first), or the classic Prometheus text format 0.0.4 for a client
//! that ranks `text/plain` higher (its parsers read counters as `*_total` families).
//!
//! Every label is bounded. The `model` label is a key of the catalog (the models `/v1/models`
//! lists), [`UNLISTED_MODEL`] for a model the catalog does not hold, or empty before a model
//! was resolved — never text a client chose, so 1,000 made-up model ids add one series, not
//! 1,000. `status` is the HTTP status the client received (`200` for a stream that failed
//! after it began, `499` when the client left before any answer), `outcome` what became of the
//! request (`ok`, `error`, `cancelled`); kinds come from the error taxonomy, and `stream` is
//! `true` or `false`.
//!
//! The `key` label of the `key_*` families is a managed key's name: keys are made by the
//! operator (`pincer keys create`), never by a client, so their number is bounded.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pincer_core::{Prices, Usage};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::http::state::SharedState;

/// The `model` label of requests for a model the catalog does not list.
pub const UNLISTED_MODEL: &str = "unlisted";

/// Labels of request counters: the model, the HTTP status sent and the outcome.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    model: String,
    status: String,
    outcome: &'static str,
}

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Error,
    Cancelled,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// The status label of a client that left before the response head (nginx's convention).
const CLIENT_CLOSED: &str = "499";

/// Labels of latency histograms.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    model: String,
    stream: String,
}

/// Labels of token counters: `kind` is input, output, cache_read or cache_write.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    model: String,
    kind: String,
}

/// Labels of per-key request counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyOutcomeLabels {
    key: String,
    outcome: &'static str,
}

/// Labels of per-key token counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyTokenLabels {
    key: String,
    kind: &'static str,
}

/// Labels of per-key refusals: `reason` is `model`, `price`, `requests`, `tokens` or `budget`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyRefusalLabels {
    key: String,
    reason: &'static str,
}

/// Labels of per-key cost counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    key: String,
}

/// Labels of error counters: `kind` is the error taxonomy's name.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    model: String,
    kind: String,
}

/// Labels carrying only the model.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
}

/// Labels of catalog refreshes: `outcome` is `ok` or `error`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … ~65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Every metric the gateway keeps, and the registry that renders them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Histograms<LatencyLabels>,
    first_token: Histograms<ModelLabels>,
    tokens: Family<TokenLabels, Counter>,
    cost: Family<ModelLabels, Counter<f64, AtomicU64>>,
    errors: Family<ErrorLabels, Counter>,
    fallbacks: Family<ModelLabels, Counter>,
    active_streams: Gauge,
    refreshes: Family<OutcomeLabels, Counter>,
    catalog_models: Gauge,
    key_requests: Family<KeyOutcomeLabels, Counter>,
    key_tokens: Family<KeyTokenLabels, Counter>,
    key_cost: Family<KeyLabels, Counter<f64, AtomicU64>>,
    key_refusals: Family<KeyRefusalLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric under the `pincer_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("pincer");
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Histograms::<LatencyLabels>::new_with_constructor(latency_histogram);
        let first_token = Histograms::<ModelLabels>::new_with_constructor(latency_histogram);
        let tokens = Family::<TokenLabels, Counter>::default();
        let cost = Family::<ModelLabels, Counter<f64, AtomicU64>>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let fallbacks = Family::<ModelLabels, Counter>::default();
        let active_streams = Gauge::default();
        let refreshes = Family::<OutcomeLabels, Counter>::default();
        let catalog_models = Gauge::default();
        let key_requests = Family::<KeyOutcomeLabels, Counter>::default();
        let key_tokens = Family::<KeyTokenLabels, Counter>::default();
        let key_cost = Family::<KeyLabels, Counter<f64, AtomicU64>>::default();
        let key_refusals = Family::<KeyRefusalLabels, Counter>::default();
        registry.register(
            "key_requests",
            "Requests made with a managed key, by key name and outcome",
            key_requests.clone(),
        );
        registry.register(
            "key_tokens",
            "Tokens used with a managed key, by key name and kind",
            key_tokens.clone(),
        );
        registry.register(
            "key_cost_usd",
            "Cost of the tokens used with a managed key, in US dollars",
            key_cost.clone(),
        );
        registry.register(
            "key_refusals",
            "Requests of a managed key refused by its models, limits or budget, by key name and reason",
            key_refusals.clone(),
        );
        registry.register(
            "requests",
            "Requests to the API doors, by model, HTTP status sent and outcome",
            requests.clone(),
        );
        registry.register_with_unit(
            "request_duration",
            "Time from request to the end of the answer",
            Unit::Seconds,
            duration.clone(),
        );
        registry.register_with_unit(
            "time_to_first_token",
            "Time from request to the first output of an answer (streamed or not)",
            Unit::Seconds,
            first_token.clone(),
        );
        registry.register("tokens", "Tokens used, by model and kind", tokens.clone());
        registry.register(
            "cost_usd",
            "Cost of the tokens used, in US dollars, at the catalog's prices",
            cost.clone(),
        );
        registry.register(
            "errors",
            "Failed requests, by model and error kind",
            errors.clone(),
        );
        registry.register(
            "fallbacks",
            "Requests passed on to a fallback model, by the model that failed",
            fallbacks.clone(),
        );
        registry.register(
            "active_streams",
            "Streamed answers in progress",
            active_streams.clone(),
        );
        registry.register(
            "catalog_refreshes",
            "Background catalog refreshes, by outcome",
            refreshes.clone(),
        );
        registry.register(
            "catalog_models",
            "Models the catalog serves",
            catalog_models.clone(),
        );
        Self {
            registry,
            requests,
            duration,
            first_token,
            tokens,
            cost,
            errors,
            fallbacks,
            active_streams,
            refreshes,
            catalog_models,
            key_requests,
            key_tokens,
            key_cost,
            key_refusals,
        }
    }

    /// Counts a request of the managed key `key` refused for `reason`.
    pub fn key_refused(&self, key: &str, reason: &'static str) {
        self.key_refusals
            .get_or_create(&KeyRefusalLabels {
                key: key.to_owned(),
                reason,
            })
            .inc();
    }

    /// Counts what a request of the managed key `key` became (`ok`, `error`, `cancelled`) and
    /// used.
    pub fn key_used(&self, key: &str, outcome: &'static str, usage: &Usage, cost: Option<f64>) {
        self.key_requests
            .get_or_create(&KeyOutcomeLabels {
                key: key.to_owned(),
                outcome,
            })
            .inc();
        for (kind, count) in token_kinds(usage) {
            if count > 0 {
                self.key_tokens
                    .get_or_create(&KeyTokenLabels {
                        key: key.to_owned(),
                        kind,
                    })
                    .inc_by(count);
            }
        }
        if let Some(cost) = cost
            && cost > 0.0
        {
            self.key_cost
                .get_or_create(&KeyLabels {
                    key: key.to_owned(),
                })
                .inc_by(cost);
        }
    }

    /// Renders the metrics in `format`.
    pub fn render(&self, format: Format) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = match format {
            Format::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut out, &self.registry)
            }
            Format::Classic => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            }
        };
        out
    }

    /// Counts a catalog refresh and the models it left.
    pub fn catalog_refreshed(&self, ok: bool, models: usize) {
        let outcome = if ok { "ok" } else { "error" };
        self.refreshes
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
        self.catalog_size(models);
    }

    /// Sets the number of models served.
    pub fn catalog_size(&self, models: usize) {
        self.catalog_models
            .set(i64::try_from(models).unwrap_or(i64::MAX));
    }

    /// Counts a request passed on from `model` to a fallback.
    pub fn fallback(&self, model: &str) {
        self.fallbacks
            .get_or_create(&ModelLabels {
                model: model.to_owned(),
            })
            .inc();
    }

    /// Counts a failed request.
    pub fn failed(
        &self,
        model: &str,
        kind: &str,
        status: StatusCode,
        stream: bool,
        elapsed: Duration,
    ) {
        self.errors
            .get_or_create(&ErrorLabels {
                model: model.to_owned(),
                kind: kind.to_owned(),
            })
            .inc();
        self.answered(model, status.as_str(), Outcome::Error, stream, elapsed);
    }

    fn answered(
        &self,
        model: &str,
        status: &str,
        outcome: Outcome,
        stream: bool,
        elapsed: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                model: model.to_owned(),
                status: status.to_owned(),
                outcome: outcome.as_str(),
            })
            .inc();
        self.duration
            .get_or_create(&LatencyLabels {
                model: model.to_owned(),
                stream: stream.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    fn used(&self, model: &str, usage: &Usage, prices: &Prices) {
        for (kind, count) in token_kinds(usage) {
            if count > 0 {
                self.tokens
                    .get_or_create(&TokenLabels {
                        model: model.to_owned(),
                        kind: kind.to_owned(),
                    })
                    .inc_by(count);
            }
        }
        // A model without a known price adds no cost, rather than $0.
        if let Some(cost) = usage.cost(prices).map(|c| c.total)
            && cost > 0.0
        {
            self.cost
                .get_or_create(&ModelLabels {
                    model: model.to_owned(),
                })
                .inc_by(cost);
        }
    }
}

/// The `kind` labels of token counters, with `usage`'s count of each.
fn token_kinds(usage: &Usage) -> [(&'static str, u64); 4] {
    [
        ("input", usage.input),
        ("output", usage.output),
        ("cache_read", usage.cache_read),
        ("cache_write", usage.cache_write),
    ]
}

/// One request as the metrics see it, from its start to its answer. Dropped unfinished (the
/// client went away mid-stream), it counts as `cancelled`.
#[derive(Debug)]
pub struct RequestRecord {
    metrics: std::sync::Arc<Metrics>,
    model: String,
    key: String,
    stream: bool,
    started: Instant,
    first_output: bool,
    head_sent: bool,
    finished: bool,
    /// When traces are exported: the operation, and whether the span records contents.
    traced: Option<(&'static str, bool)>,
    /// The span of the model being called.
    span: Option<crate::http::telemetry::ModelSpan>,
    /// What every model span of the request records about it.
    asked: Option<crate::http::telemetry::Asked>,
    /// Where the request's spend is recorded, and who made it.
    ledger: Option<crate::http::accounts::Ticket>,
}

impl RequestRecord {
    /// Starts the clock.
    pub fn start(metrics: std::sync::Arc<Metrics>, started: Instant, stream: bool) -> Self {
        if stream {
            metrics.active_streams.inc();
        }
        Self {
            metrics,
            model: String::new(),
            key: String::new(),
            stream,
            started,
            first_output: false,
            head_sent: false,
            finished: false,
            traced: None,
            span: None,
            asked: None,
            ledger: None,
        }
    }

    /// Records the request's spend in `ticket`'s ledger when it ends.
    pub fn ledger(mut self, ticket: Option<crate::http::accounts::Ticket>) -> Self {
        self.ledger = ticket;
        self
    }

    /// Writes the request's spend row and its key's counters.
    fn account(&mut self, outcome: Outcome, status: &str, usage: &Usage, prices: &Prices) {
        let Some(ticket) = self.ledger.take() else {
            return;
        };
        let cost = usage.cost(prices).map(|c| c.total);
        ticket.spent(crate::http::accounts::Spent {
            model: &self.key,
            usage,
            cost,
            latency: self.started.elapsed(),
            outcome: outcome.as_str(),
            status: status.parse().unwrap_or(0),
        });
    }

    /// Traces the model calls as `operation` spans (`chat`, `embeddings`), with the messages
    /// when `contents`.
    pub fn traced(mut self, operation: &'static str, contents: bool) -> Self {
        self.traced = Some((operation, contents));
        self
    }

    /// The request's parameters (and contents), for its trace.
    pub fn request(
        &mut self,
        conversation: &pincer_core::Conversation,
        options: &pincer_core::RequestOptions,
    ) {
        if let Some((_, contents)) = self.traced {
            self.asked = Some(crate::http::telemetry::Asked::new(
                conversation,
                options,
                contents,
            ));
        }
    }

    /// Names the model serving the request: its catalog key when `listed`, else it counts
    /// under [`UNLISTED_MODEL`].
    pub fn model(&mut self, key: &str, listed: bool) {
        let label = if listed { key } else { UNLISTED_MODEL };
        label.clone_into(&mut self.model);
        self.key = pincer_core::model_ref::shorten(key).into_owned();
        if let Some((operation, contents)) = self.traced {
            // A fallback's span follows the failed one's.
            let span =
                crate::http::telemetry::ModelSpan::new(operation, key, self.stream, contents);
            if let Some(asked) = &self.asked {
                span.request(asked);
            }
            self.span = Some(span);
        }
    }

    /// Follows the runtime while an answer begins: the model asked, a fallback, the first output.
    pub fn progress(&mut self, progress: &pincer_runtime::Progress<'_>) {
        match progress {
            pincer_runtime::Progress::Trying { key, in_catalog } => self.model(key, *in_catalog),
            pincer_runtime::Progress::FallingBack { key, error, .. } => {
                if let Some(span) = &self.span {
                    span.failed(error.kind.as_str(), &error.to_string());
                }
                self.metrics.fallback(key);
            }
            pincer_runtime::Progress::FirstOutput => self.first_output(),
        }
    }

    /// Names the model asked for before any is tried (a request refused before it reaches a
    /// model is logged and recorded under it).
    pub fn asked(&mut self, key: &str) {
        if self.key.is_empty() {
            self.key = pincer_core::model_ref::shorten(key).into_owned();
        }
    }

    /// The model named so far (shortened), for the access log.
    pub fn model_key(&self) -> &str {
        &self.key
    }

    /// Output began (only the first call counts).
    pub fn first_output(&mut self) {
        if !self.first_output {
            self.first_output = true;
            self.metrics
                .first_token
                .get_or_create(&ModelLabels {
                    model: self.model.clone(),
                })
                .observe(self.started.elapsed().as_secs_f64());
        }
    }

    /// The response head (`200`, then the stream) has gone to the client; a failure or a
    /// hang-up from here on keeps that status.
    pub fn streaming(mut self) -> Self {
        self.head_sent = true;
        self
    }

    /// The answer is complete: `message`, priced at `prices`.
    pub fn finished(self, message: &pincer_core::AssistantMessage, prices: &Prices) {
        if let Some(span) = &self.span {
            span.answered(&message.usage, Some(message));
        }
        self.complete(&message.usage, prices);
    }

    /// The request is complete, having used `usage` (an answer with no message: embeddings).
    pub fn succeeded(self, usage: &Usage, prices: &Prices) {
        if let Some(span) = &self.span {
            span.answered(usage, None);
        }
        self.complete(usage, prices);
    }

    fn complete(mut self, usage: &Usage, prices: &Prices) {
        self.account(Outcome::Ok, "200", usage, prices);
        self.metrics.used(&self.model, usage, prices);
        self.metrics.answered(
            &self.model,
            "200",
            Outcome::Ok,
            self.stream,
            self.started.elapsed(),
        );
        self.finished = true;
    }

    /// The request failed with `kind`: answered with `status`, or inside a stream already
    /// answered with 200.
    pub fn failed(mut self, kind: &str, status: StatusCode) {
        if let Some(span) = &self.span {
            span.failed(kind, kind);
        }
        let status = if self.head_sent {
            StatusCode::OK
        } else {
            status
        };
        self.account(
            Outcome::Error,
            status.as_str(),
            &Usage::default(),
            &Prices::default(),
        );
        self.metrics.failed(
            &self.model,
            kind,
            status,
            self.stream,
            self.started.elapsed(),
        );
        self.finished = true;
    }
}

impl Drop for RequestRecord {
    fn drop(&mut self) {
        if self.stream {
            self.metrics.active_streams.dec();
        }
        if !self.finished {
            let status = if self.head_sent { "200" } else { CLIENT_CLOSED };
            self.account(
                Outcome::Cancelled,
                status,
                &Usage::default(),
                &Prices::default(),
            );
            self.metrics.answered(
                &self.model,
                if self.head_sent { "200" } else { CLIENT_CLOSED },
                Outcome::Cancelled,
                self.stream,
                self.started.elapsed(),
            );
        }
    }
}

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0 text.
    OpenMetrics,
    /// The classic Prometheus text format, 0.0.4.
    Classic,
}

impl Format {
    /// The `content-type` of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Classic => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        }
    }

    /// The format an `Accept` header prefers: OpenMetrics unless `text/plain` is ranked above it
    /// (or OpenMetrics is refused with `q=0`); OpenMetrics without a header or for `*/*`.
    pub fn negotiate(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Format::OpenMetrics;
        };
        let (mut open_metrics, mut text, mut any) = (None::<f32>, None::<f32>, None::<f32>);
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .and_then(|(_, v)| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let slot = match media.as_str() {
                "application/openmetrics-text" => &mut open_metrics,
                "text/plain" | "text/*" => &mut text,
                "*/*" => &mut any,
                _ => continue,
            };
            *slot = Some(slot.map_or(q, |best| best.max(q)));
        }
        let open_metrics = open_metrics.or(any).unwrap_or(0.0);
        let text = text.or(any).unwrap_or(0.0);
        if text > open_metrics {
            Format::Classic
        } else {
            Format::OpenMetrics
        }
    }
}

/// The handler.
pub async fn render(State(state): State<SharedState>, headers: axum::http::HeaderMap) -> Response {
    let format = Format::negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let mut response = (StatusCode::OK, state.metrics.render(format)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scrapers_accept_headers_get_what_they_rank_first() {
        // Prometheus 3 and 2, then a classic-only scraper, curl, and a refusal.
        let prometheus3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        let prometheus2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus3)), Format::OpenMetrics);
        assert_eq!(Format::negotiate(Some(prometheus2)), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some("text/plain; version=0.0.4")),
            Format::Classic
        );
        assert_eq!(Format::negotiate(Some("*/*")), Format::OpenMetrics);
        assert_eq!(Format::negotiate(None), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;q=0, */*")),
            Format::Classic
        );
    }
}
