//! The OpenAI-compatible HTTP API: routes, handlers, errors, authentication, metrics, logs.

pub mod accounts;
pub mod auth;
pub mod chat;
pub mod door;
pub mod embeddings;
pub mod error;
pub mod images;
pub mod limits;
pub mod messages;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod request_id;
pub mod responses;
pub mod server;
pub mod state;
pub mod telemetry;

use std::time::{Duration, Instant};

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;

use crate::http::error::GatewayError;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

pub use state::{GatewayState, SharedState};

/// The default `gateway.limits.maxRequestBytes`: the largest request body accepted (images
/// travel inline).
pub const BODY_LIMIT: usize = pincer_config::options::DEFAULT_MAX_REQUEST_BYTES as usize;

/// The routes: a table of paths and handlers, then the layers every request passes through.
pub fn app(state: SharedState) -> Router {
    with_layers(api_routes(), state)
}

/// The API routes (everything under `/v1`), without layers.
pub fn api_routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/responses", post(responses::create))
        .route("/v1/embeddings", post(embeddings::create))
        .route("/v1/messages", post(messages::create))
        .route("/v1/messages/count_tokens", post(messages::count_tokens))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::get))
}

/// `api` with the operational routes and every layer.
///
/// API routes are authenticated, counted against `maxConcurrentRequests` (shed with 503 beyond
/// it) and have their body read within the size and time limits; health, readiness, metrics
/// and the OpenAPI document answer even when the API is saturated. A panic anywhere becomes a
/// 500 for its request.
pub fn with_layers(api: Router<SharedState>, state: SharedState) -> Router {
    let concurrency = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(limits::overloaded))
        .load_shed()
        .concurrency_limit(state.limits.max_concurrent_requests);
    let mut api = api
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::read_body,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(concurrency);
    if state.telemetry {
        api = api.layer(middleware::from_fn(telemetry::trace_requests));
    }
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics::render))
        .route("/openapi.json", get(openapi::serve))
        .merge(api)
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        // The body is read (and limited) by `limits::read_body`.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(access_log))
        .layer(CatchPanicLayer::custom(limits::panicked))
        .layer(middleware::from_fn(error::shape_errors))
        .layer(PropagateRequestIdLayer::new(
            request_id::X_REQUEST_ID.clone(),
        ))
        .layer(middleware::from_fn(request_id::anthropic_header))
        .layer(SetRequestIdLayer::new(
            request_id::X_REQUEST_ID.clone(),
            request_id::MakeId,
        ))
        .layer(middleware::from_fn(request_id::screen))
        .with_state(state)
}

/// One structured log line per request: method, path (never the query), status, time to the
/// response head, the request id, and for completions the model and completion id. Headers
/// (which carry the token) and bodies are not logged.
async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let request_id = request_id::of(request.headers()).map(str::to_owned);
    let response = next.run(request).await;
    let served = response.extensions().get::<door::Served>();
    tracing::info!(
        target: "pincer_gateway::access",
        %method,
        path,
        status = response.status().as_u16(),
        latency_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        request_id = request_id.as_deref(),
        model = served.map(|s| s.model.as_str()),
        id = served.map(|s| s.id.as_str()),
        "request"
    );
    response
}

/// Any other path: OpenAI's 404, naming the method and path.
async fn unknown_route(method: Method, uri: Uri) -> GatewayError {
    GatewayError::UnknownRoute(format!(
        "Invalid URL ({method} {}): the gateway serves /v1/chat/completions, /v1/responses, /v1/messages, /v1/messages/count_tokens, /v1/embeddings, /v1/models, /healthz, /readyz, /metrics and /openapi.json",
        uri.path()
    ))
}

/// A known path with a method it does not take: OpenAI's error shape, with `allow`.
async fn wrong_method(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let allow = if path.starts_with("/v1/models") || !path.starts_with("/v1/") {
        "GET"
    } else {
        "POST"
    };
    let mut response =
        GatewayError::MethodNotAllowed(format!("{method} is not allowed on {path}; use {allow}"))
            .into_response();
    response.headers_mut().insert(
        axum::http::header::ALLOW,
        axum::http::HeaderValue::from_static(allow),
    );
    response
}

/// Ready when the catalog holds at least one model to serve.
async fn ready(State(state): State<SharedState>) -> (StatusCode, String) {
    let catalog = state.catalog();
    let models = catalog.served().count();
    if models > 0 {
        (StatusCode::OK, format!("ready: {models} models"))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: no models ({})", catalog.discovery.reason),
        )
    }
}

/// How [`serve`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every request in flight finished.
    Drained,
    /// The grace period ran out with requests still in flight; they were cut.
    GraceElapsed,
}

/// Serves `state` on `listener` until `shutdown` resolves, then stops accepting connections and
/// gives requests in flight up to `grace` to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: SharedState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<Stopped> {
    let router = app(state.clone());
    serve_router(listener, router, &state, shutdown, grace).await
}

/// [`serve`] for a router built by [`with_layers`].
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    state: &SharedState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<Stopped> {
    let (max_connections, warning) = server::connection_capacity(state.limits.max_connections);
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
    let header_timeout = state.limits.header_timeout;
    server::run(
        listener,
        router,
        max_connections,
        header_timeout,
        shutdown,
        grace,
    )
    .await
}
