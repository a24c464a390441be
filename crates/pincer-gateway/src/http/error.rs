//! The gateway's one error type, rendered in OpenAI's shape `{"error": {message, type, code}}`
//! with the matching HTTP status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pincer_core::{ErrorKind, ProviderError};
use pincer_openai::types::{ErrorBody, ErrorDetail};

/// Everything a request can fail with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    /// The request is malformed (400).
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// The field at fault.
        param: Option<String>,
    },
    /// No or wrong gateway token (401).
    #[error("missing or invalid gateway token")]
    Unauthorized,
    /// A managed key that is unknown, revoked or expired (401).
    #[error("{0}")]
    KeyRefused(String),
    /// The managed key may not use this model (403).
    #[error("{0}")]
    ModelNotAllowed(String),
    /// The managed key has a budget and the model's price is unknown (403).
    #[error("{0}")]
    PriceUnknown(String),
    /// The managed key's requests or tokens per minute, or its budget, are used up (429, with
    /// `retry-after`).
    #[error("{message}")]
    Limited {
        /// What is used up and when it resets.
        message: String,
        /// `requests`, `tokens` or `budget`.
        reason: &'static str,
        /// Seconds until it resets.
        retry_after: u64,
    },
    /// The key database cannot be reached, so a keyed request cannot be metered (503).
    #[error("{0}")]
    StoreUnavailable(String),
    /// Unknown model (404).
    #[error("{0}")]
    ModelNotFound(String),
    /// No such route (404).
    #[error("{0}")]
    UnknownRoute(String),
    /// The route exists, not with this method (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body is larger than the gateway accepts (413).
    #[error(
        "the request body is larger than the {limit} bytes gateway.limits.maxRequestBytes accepts"
    )]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body is not JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body did not arrive within `gateway.limits.bodyTimeout` (408).
    #[error("the request body did not arrive within gateway.limits.bodyTimeout ({seconds} s)")]
    BodyTimeout {
        /// The limit.
        seconds: u64,
    },
    /// Too many requests are in progress; this one was shed (503, with `retry-after`).
    #[error(
        "the gateway is serving as many requests as gateway.limits.maxConcurrentRequests allows; retry shortly"
    )]
    Overloaded,
    /// The gateway itself failed (500); the detail is in its log.
    #[error("{0}")]
    Internal(String),
    /// The gateway's own config cannot serve the request (500).
    #[error("{0}")]
    Misconfigured(String),
    /// The upstream provider failed.
    #[error("{0}")]
    Upstream(ProviderError),
}

impl GatewayError {
    /// The kind named in metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            GatewayError::BadRequest { .. } => "invalid_request",
            GatewayError::Unauthorized => "unauthorized",
            GatewayError::KeyRefused(_) => "unauthorized",
            GatewayError::ModelNotAllowed(_) => "model_not_allowed",
            GatewayError::PriceUnknown(_) => "price_unknown",
            GatewayError::Limited { reason, .. } => match *reason {
                "budget" => "budget_exceeded",
                _ => "key_rate_limited",
            },
            GatewayError::StoreUnavailable(_) => "key_store_unavailable",
            GatewayError::ModelNotFound(_) => "model_not_found",
            GatewayError::UnknownRoute(_) => "unknown_url",
            GatewayError::MethodNotAllowed(_) => "method_not_allowed",
            GatewayError::TooLarge { .. } => "request_too_large",
            GatewayError::UnsupportedMediaType(_) => "unsupported_media_type",
            GatewayError::BodyTimeout { .. } => "request_timeout",
            GatewayError::Overloaded => "overloaded",
            GatewayError::Internal(_) => "internal_error",
            GatewayError::Misconfigured(_) => "gateway_misconfigured",
            GatewayError::Upstream(error) => error.kind.as_str(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            GatewayError::Unauthorized | GatewayError::KeyRefused(_) => StatusCode::UNAUTHORIZED,
            GatewayError::ModelNotAllowed(_) | GatewayError::PriceUnknown(_) => {
                StatusCode::FORBIDDEN
            }
            GatewayError::Limited { .. } => StatusCode::TOO_MANY_REQUESTS,
            GatewayError::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::ModelNotFound(_) => StatusCode::NOT_FOUND,
            GatewayError::UnknownRoute(_) => StatusCode::NOT_FOUND,
            GatewayError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            GatewayError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            GatewayError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            GatewayError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            GatewayError::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
            GatewayError::Upstream(error) => match error.kind {
                ErrorKind::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::AccessDenied => StatusCode::FORBIDDEN,
                ErrorKind::InvalidModel => StatusCode::NOT_FOUND,
                ErrorKind::Validation
                | ErrorKind::ContextOverflow
                | ErrorKind::OnDemandNotSupported { .. } => StatusCode::BAD_REQUEST,
                ErrorKind::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
                _ => StatusCode::BAD_GATEWAY,
            },
        }
    }

    /// The OpenAI-shaped body.
    pub fn body(&self) -> ErrorBody {
        let (kind, code, param) = match self {
            GatewayError::BadRequest { param, .. } => {
                ("invalid_request_error", "invalid_request", param.clone())
            }
            GatewayError::Unauthorized | GatewayError::KeyRefused(_) => {
                ("authentication_error", "invalid_api_key", None)
            }
            GatewayError::ModelNotAllowed(_) => (
                "permission_error",
                "model_not_allowed",
                Some("model".to_owned()),
            ),
            GatewayError::PriceUnknown(_) => (
                "permission_error",
                "price_unknown",
                Some("model".to_owned()),
            ),
            // OpenAI's own answers: `insufficient_quota` for spent money, `rate_limit_exceeded`
            // for a rate.
            GatewayError::Limited { reason, .. } => match *reason {
                "budget" => ("insufficient_quota", "insufficient_quota", None),
                _ => ("rate_limit_error", "rate_limit_exceeded", None),
            },
            GatewayError::StoreUnavailable(_) => ("server_error", "key_store_unavailable", None),
            GatewayError::ModelNotFound(_) => (
                "invalid_request_error",
                "model_not_found",
                Some("model".to_owned()),
            ),
            GatewayError::UnknownRoute(_) => ("invalid_request_error", "unknown_url", None),
            GatewayError::MethodNotAllowed(_) => {
                ("invalid_request_error", "method_not_allowed", None)
            }
            GatewayError::TooLarge { .. } => ("invalid_request_error", "request_too_large", None),
            GatewayError::UnsupportedMediaType(_) => {
                ("invalid_request_error", "unsupported_media_type", None)
            }
            GatewayError::BodyTimeout { .. } => ("invalid_request_error", "request_timeout", None),
            GatewayError::Overloaded => ("server_error", "overloaded", None),
            GatewayError::Internal(_) => ("server_error", "internal_error", None),
            GatewayError::Misconfigured(_) => ("server_error", "gateway_misconfigured", None),
            GatewayError::Upstream(error) => match error.kind {
                ErrorKind::Throttled { .. } => ("rate_limit_error", "rate_limit_exceeded", None),
                ErrorKind::AccessDenied => ("permission_error", "model_access_denied", None),
                ErrorKind::InvalidModel => (
                    "invalid_request_error",
                    "model_not_found",
                    Some("model".to_owned()),
                ),
                ErrorKind::ContextOverflow => (
                    "invalid_request_error",
                    "context_length_exceeded",
                    Some("messages".to_owned()),
                ),
                ErrorKind::Validation | ErrorKind::OnDemandNotSupported { .. } => {
                    ("invalid_request_error", error.kind.as_str(), None)
                }
                ErrorKind::RequestTooLarge => (
                    "invalid_request_error",
                    "request_too_large",
                    Some("messages".to_owned()),
                ),
                _ => ("api_error", error.kind.as_str(), None),
            },
        };
        let message = match self {
            GatewayError::Upstream(error) => error.to_string(),
            other => other.to_string(),
        };
        ErrorBody {
            error: ErrorDetail {
                message,
                kind: kind.to_owned(),
                code: Some(code.to_owned()),
                param,
                request_id: None,
            },
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        match &self {
            GatewayError::Upstream(error) => retry_headers(error, response.headers_mut()),
            GatewayError::Limited {
                reason,
                retry_after,
                ..
            } => {
                let headers = response.headers_mut();
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
                if *reason == "budget" {
                    // Retrying before the period ends cannot succeed.
                    headers.insert(X_SHOULD_RETRY, HeaderValue::from_static("false"));
                }
            }
            GatewayError::StoreUnavailable(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            _ => {}
        }
        response
    }
}

/// The SDKs' header that overrides their own retry rules.
pub const X_SHOULD_RETRY: &str = "x-should-retry";

/// What a client should do after an upstream failure. A throttled request gets `retry-after`
/// (and `retry-after-ms`): Bedrock's wait when it named one, else the backoff Pincer would have
/// used next. When Pincer has already spent retries on it, a throttled request also gets
/// `x-should-retry: false` (another try soon would only throttle more; the OpenAI and Anthropic
/// SDKs obey it), and a 5xx or timeout gets the next backoff as `retry-after`.
pub fn retry_headers(error: &ProviderError, headers: &mut axum::http::HeaderMap) {
    let wait = match (&error.kind, error.retried) {
        (ErrorKind::Throttled { retry_after }, retried) => {
            if retried.is_some() {
                headers.insert(X_SHOULD_RETRY, HeaderValue::from_static("false"));
            }
            retry_after
                .or(retried.map(|r| r.next_backoff))
                .unwrap_or(std::time::Duration::from_secs(1))
        }
        (
            ErrorKind::ServiceUnavailable | ErrorKind::Timeout | ErrorKind::StreamInterrupted,
            Some(retried),
        ) => retried.next_backoff,
        _ => return,
    };
    let millis = wait.as_millis().max(1);
    let seconds = millis.div_ceil(1000);
    for (name, value) in [
        (header::RETRY_AFTER.as_str(), seconds),
        ("retry-after-ms", millis),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
            headers.insert(name, value);
        }
    }
}

/// Anthropic's error type for an HTTP status, as the Messages API defines them.
pub fn anthropic_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// The paths that answer in Anthropic's error shape.
pub fn is_messages_path(path: &str) -> bool {
    path == "/v1/messages" || path.starts_with("/v1/messages/")
}

/// Every error body, whichever layer answered (authentication, limits, load shedding, a panic,
/// an unknown route or a door), carries the request's id — in OpenAI's shape as
/// `error.request_id`, in Anthropic's as a top-level `request_id`, as each API places it — and
/// on the Messages door's paths is in Anthropic's shape, `{"type": "error", "error": {type,
/// message}}`. Headers such as `retry-after` are kept.
pub async fn shape_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let messages = is_messages_path(request.uri().path());
    let request_id = crate::http::request_id::of(request.headers()).map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json && !messages {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return (parts.status, parts.headers).into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    if messages && value["type"] != "error" {
        let Some(message) = value["error"]["message"].as_str().map(str::to_owned) else {
            return Response::from_parts(parts, axum::body::Body::from(bytes));
        };
        value = serde_json::to_value(pincer_anthropic::types::ErrorBody {
            kind: "error".to_owned(),
            error: pincer_anthropic::types::ErrorDetail {
                kind: anthropic_type(status).to_owned(),
                message,
            },
            request_id: None,
        })
        .unwrap_or(value);
    }
    if let Some(id) = request_id {
        if value["type"] == "error" {
            value["request_id"] = serde_json::Value::String(id);
        } else if let Some(error) = value.get_mut("error").and_then(|e| e.as_object_mut()) {
            error.insert("request_id".to_owned(), serde_json::Value::String(id));
        }
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut response = Json(value).into_response();
    *response.status_mut() = parts.status;
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}
