//! The OpenAI-compatible HTTP API: routes, handlers, errors, authentication.

pub mod auth;
pub mod chat;
pub mod error;
pub mod models;
pub mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};

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
        .merge(api)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Ready when the catalog holds at least one model to serve.
async fn ready(
    axum::extract::State(state): axum::extract::State<SharedState>,
) -> (axum::http::StatusCode, String) {
    let models = state
        .catalog
        .entries
        .iter()
        .filter(|e| e.hidden.is_none())
        .count();
    if models > 0 {
        (
            axum::http::StatusCode::OK,
            format!("ready: {models} models"),
        )
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: no models ({})", state.catalog.discovery.reason),
        )
    }
}

/// Serves `state` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: GatewayState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(Arc::new(state)))
        .with_graceful_shutdown(shutdown)
        .await
}
