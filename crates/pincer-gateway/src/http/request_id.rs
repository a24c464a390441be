//! `x-request-id` on every response: the client's own when it sent a usable one (1 to 128 of
//! `A-Z a-z 0-9 - _ . :`), else a fresh `req_…`. tower-http sets and propagates it; this module
//! only decides which ids are kept. The id is in the access log and in every error body, and on
//! the Messages door also in Anthropic's own header, `request-id` (what the Anthropic SDKs read
//! into `_request_id`).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{MakeRequestId, RequestId};

/// The header.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Makes `req_…` ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&crate::http::door::response_id("req_"))
            .ok()
            .map(RequestId::new)
    }
}

/// Whether a client's id is kept.
pub fn usable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=128).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Drops an id the gateway will not repeat (too long, or characters a log should not carry),
/// so a fresh one is made.
pub async fn screen(mut request: Request, next: Next) -> Response {
    if request
        .headers()
        .get(&X_REQUEST_ID)
        .is_some_and(|value| !usable(value))
    {
        request.headers_mut().remove(&X_REQUEST_ID);
    }
    next.run(request).await
}

/// Anthropic's name for the header.
pub static ANTHROPIC_REQUEST_ID: HeaderName = HeaderName::from_static("request-id");

/// On the Messages door's paths, repeats the id in Anthropic's `request-id`.
pub async fn anthropic_header(request: Request, next: Next) -> Response {
    let messages = crate::http::error::is_messages_path(request.uri().path());
    let mut response = next.run(request).await;
    if messages && let Some(id) = response.headers().get(&X_REQUEST_ID).cloned() {
        response
            .headers_mut()
            .insert(ANTHROPIC_REQUEST_ID.clone(), id);
    }
    response
}

/// The request's id, once set.
pub fn of(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(&X_REQUEST_ID).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_kept() {
        assert!(usable(&HeaderValue::from_static("trace-1234_ab.c:d")));
        assert!(!usable(&HeaderValue::from_static("")));
        assert!(!usable(&HeaderValue::from_static("has space")));
        assert!(!usable(&HeaderValue::from_str(&"x".repeat(129)).unwrap()));
    }
}
