//! Per-request limits: the body's size and the time it may take to arrive, how many API
//! requests are served at once, and what a panic becomes.
//!
//! - The whole body is read up front, within `gateway.limits.bodyTimeout` (a total deadline,
//!   not a per-chunk one, so trickling does not extend it) and `maxRequestBytes`: 408 or 413 in
//!   OpenAI's shape. Handlers then see a body that is already in memory.
//! - At most `maxConcurrentRequests` API requests are read, converted or waiting for their first
//!   output at once (tower's `ConcurrencyLimit`); one more is shed at once (tower's `LoadShed`)
//!   with 503 and `retry-after`, rather than queued behind the others. Body reading happens
//!   inside the limit, so the limit also bounds the memory request bodies take.
//! - A panic while handling a request becomes a 500 for that request (tower-http's
//!   `CatchPanic`); the panic itself is logged once, by the hook [`log_panics`] installs.

use std::any::Any;
use std::convert::Infallible;
use std::time::Duration;

use axum::BoxError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::GatewayError;
use crate::http::state::SharedState;

/// Seconds a shed request is told to wait before trying again.
pub const OVERLOAD_RETRY_AFTER_SECS: u64 = 1;

/// Reads the body within the size and time limits, then passes the request on with the body in
/// memory.
pub async fn read_body(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let limits = &state.limits;
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_request_bytes as u64) {
        return GatewayError::TooLarge {
            limit: limits.max_request_bytes,
        }
        .into_response();
    }
    let capacity = declared.map_or(0, |n| n as usize);
    let read = tokio::time::timeout(
        limits.body_timeout,
        collect(body, limits.max_request_bytes, capacity),
    )
    .await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) => return error.into_response(),
        Err(_) => {
            return GatewayError::BodyTimeout {
                seconds: limits.body_timeout.as_secs(),
            }
            .into_response();
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Collects `body` into one buffer of `capacity` bytes (its declared length), so the body is held
/// once rather than as chunks plus their concatenation.
async fn collect(body: Body, limit: usize, capacity: usize) -> Result<bytes::Bytes, GatewayError> {
    use http_body_util::BodyExt as _;
    let mut body = body;
    let mut out = bytes::BytesMut::with_capacity(capacity.min(limit));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| GatewayError::BadRequest {
            message: format!("cannot read the request body: {error}"),
            param: None,
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(GatewayError::TooLarge { limit });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out.freeze())
}

/// The answer to a request the concurrency limit shed, or to any other error of the limit
/// layers.
pub async fn overloaded(error: BoxError) -> Response {
    if error.is::<tower::load_shed::error::Overloaded>() {
        let mut response = GatewayError::Overloaded.into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(OVERLOAD_RETRY_AFTER_SECS),
        );
        return response;
    }
    GatewayError::Internal(format!("the request could not be served: {error}")).into_response()
}

/// The 500 a panicking request gets. The panic was already logged by the hook.
pub fn panicked(_payload: Box<dyn Any + Send + 'static>) -> Response {
    GatewayError::Internal(
        "the gateway failed while handling this request; the failure is in its log".to_owned(),
    )
    .into_response()
}

/// Sends panics to the log (once, with their location) instead of a raw message and backtrace
/// on stderr. Installed by the gateway before it serves.
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(target: "pincer_gateway::panic", %location, "panic: {}", pincer_core::secret::scrub(&message));
    }));
}

/// Limits in force, resolved from `gateway.limits` once at start.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `headerTimeout`.
    pub header_timeout: Duration,
    /// `bodyTimeout`.
    pub body_timeout: Duration,
    /// `maxRequestBytes`.
    pub max_request_bytes: usize,
    /// `maxConnections`.
    pub max_connections: usize,
    /// `maxConcurrentRequests`.
    pub max_concurrent_requests: usize,
}

impl Limits {
    /// The limits of `options`.
    pub fn new(options: &pincer_config::options::LimitOptions) -> Self {
        Self {
            header_timeout: options.header_timeout(),
            body_timeout: options.body_timeout(),
            max_request_bytes: options.max_request_bytes(),
            max_connections: options.max_connections(),
            max_concurrent_requests: options.max_concurrent_requests(),
        }
    }
}

/// Turns a stream of SSE events into one that ends with an error event instead of unwinding
/// through the connection when producing an event panics.
pub fn catch_stream_panics<S>(
    stream: S,
    on_panic: axum::response::sse::Event,
) -> impl futures_util::Stream<Item = Result<axum::response::sse::Event, Infallible>> + Send
where
    S: futures_util::Stream<Item = Result<axum::response::sse::Event, Infallible>> + Send,
{
    use futures_util::StreamExt as _;
    let mut on_panic = Some(on_panic);
    std::panic::AssertUnwindSafe(stream)
        .catch_unwind()
        .scan((), move |(), item| {
            std::future::ready(match item {
                Ok(event) => Some(event),
                Err(_) => on_panic.take().map(Ok),
            })
        })
}
