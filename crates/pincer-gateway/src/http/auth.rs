//! Token authentication, compared in constant time: `Authorization: Bearer <token>` (the scheme
//! name case-insensitive, RFC 9110 §11.1) or `x-api-key: <token>` (as the Anthropic SDKs and
//! Claude Code send it). The token is never logged.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::http::error::GatewayError;
use crate::http::state::SharedState;

/// Rejects requests without the configured token (when one is configured).
pub async fn require_token(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = state.token.as_ref() else {
        return next.run(request).await;
    };
    let headers = request.headers();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_credentials)
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .unwrap_or_default();
    if bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
        next.run(request).await
    } else {
        GatewayError::Unauthorized.into_response()
    }
}

/// The credentials of an `Authorization: Bearer <token>` value, whatever the scheme's case.
pub fn bearer_credentials(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_is_case_insensitive() {
        for value in ["Bearer tok", "bearer tok", "BEARER tok", "  BeArEr   tok "] {
            assert_eq!(bearer_credentials(value), Some("tok"), "{value:?}");
        }
        assert_eq!(bearer_credentials("Basic tok"), None);
        assert_eq!(bearer_credentials("Bearertok"), None);
    }
}
