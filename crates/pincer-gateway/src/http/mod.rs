//! The OpenAI-compatible HTTP API: routes, handlers, errors, authentication, metrics, logs.

pub mod auth;
pub mod chat;
pub mod error;
pub mod images;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod state;

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::serve::ListenerExt;

pub use state::{GatewayState, SharedState};

/// Largest request body accepted (images travel inline).
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The routes: a table of paths and handlers.
pub fn app(state: SharedState) -> Router {
    let api = Router::new()
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::get))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics::render))
        .route("/openapi.json", get(openapi::serve))
        .merge(api)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(access_log))
        .with_state(state)
}

/// One structured log line per request: method, path (never the query), status, time to the
/// response head, and for completions the model and completion id. Headers (which carry the
/// token) and bodies are not logged.
async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let served = response.extensions().get::<chat::Served>();
    tracing::info!(
        target: "pincer_gateway::access",
        %method,
        path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        model = served.map(|s| s.model.as_str()),
        id = served.map(|s| s.id.as_str()),
        "request"
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
    let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
    // Without TCP_NODELAY, Nagle's algorithm holds a small SSE chunk written right after
    // another until the client acknowledges the first: a stream would lag one delta behind.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    let server = axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = signalled.send(());
        })
        .into_future();
    let deadline = async move {
        if on_signal.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server => served.map(|()| Stopped::Drained),
        () = deadline => Ok(Stopped::GraceElapsed),
    }
}
