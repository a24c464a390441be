//! The HTTP surface of the twin: the route table for the control plane and the runtime, and the
//! layer that authenticates every request and applies pre-response faults.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderValue;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::auth::AuthRequest;
use crate::control;
use crate::error::AwsError;
use crate::faults::{self, FAULT_KEY_HEADER, Fault};
use crate::runtime;
use crate::state::{AppState, RequestCtx, request_id};

/// Largest request body accepted: Bedrock documents a 20 MB request payload limit (Anthropic
/// Claude request and response, "The maximum size of the payload you can send in a request is
/// 20MB"); a larger body is refused with 413 before anything else is looked at.
pub(crate) const MAX_BODY: usize = 20 * 1024 * 1024;

/// The router serving both Bedrock APIs.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/foundation-models", get(control::list_foundation_models))
        .route(
            "/foundation-models/{id}",
            get(control::get_foundation_model),
        )
        .route("/inference-profiles", get(control::list_inference_profiles))
        .route(
            "/inference-profiles/{id}",
            get(control::get_inference_profile),
        )
        .route("/model/{model}/converse", post(runtime::converse))
        .route(
            "/model/{model}/converse-stream",
            post(runtime::converse_stream),
        )
        .route("/model/{model}/count-tokens", post(runtime::count_tokens))
        .route("/model/{model}/invoke", post(runtime::invoke))
        .fallback(unknown_operation)
        // The body is read, and limited, by `authenticate`.
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

async fn unknown_operation() -> AwsError {
    AwsError::unknown_operation()
}

async fn authenticate(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let serial = state.next_request();
    if is_runtime(req.uri().path()) {
        state.streams.invoked();
    }
    let mut response = match admit(&state, req, serial).await {
        Ok(req)
            if req.extensions().get::<RequestCtx>().and_then(|c| c.fault)
                == Some(Fault::Hangup) =>
        {
            return faults::hangup();
        }
        Ok(req) => next.run(req).await,
        Err(err) => err.into_response(),
    };
    if let Ok(id) = HeaderValue::from_str(&request_id(serial)) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
}

/// Whether a path is a runtime operation (`Converse`, `ConverseStream`) rather than the control
/// plane.
fn is_runtime(path: &str) -> bool {
    path.starts_with("/model/")
}

async fn admit(state: &AppState, req: Request, serial: u64) -> Result<Request, AwsError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|error| {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
            let mut too_large = false;
            while let Some(e) = cause {
                too_large |= e.is::<http_body_util::LengthLimitError>();
                cause = e.source();
            }
            if too_large {
                AwsError::too_large(MAX_BODY)
            } else {
                AwsError::serialization("The request body could not be read.")
            }
        })?;
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let caller = state.keys.authenticate(
        &AuthRequest {
            method: parts.method.as_str(),
            path_and_query: &path_and_query,
            headers: &parts.headers,
            body: &bytes,
        },
        SystemTime::now(),
    )?;
    let mut fault = faults::from_headers(&parts.headers)?.or(state.global_fault);
    if !is_runtime(parts.uri.path()) {
        if let Some(control) = state.control_fault() {
            fault = Some(control);
        }
        // A stalled control plane answers late, then normally (the client's deadline decides).
        if let Some(Fault::Stall { secs, .. }) = fault {
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
        }
    }
    let fault_key = format!(
        "{}|{}|{}",
        caller.label(),
        parts.uri.path(),
        parts
            .headers
            .get(FAULT_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    );
    if let Some(fault) = fault {
        faults::pre_response(
            fault,
            &state.fail_counters,
            &format!("{fault:?}|{fault_key}"),
        )?;
    }
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(RequestCtx {
        region: caller.region().map(str::to_owned),
        fault,
        fault_key,
        serial,
    });
    Ok(req)
}
