//! Authentication: `Authorization: Bearer <credential>` (the scheme name case-insensitive, RFC
//! 9110 §11.1) or `x-api-key: <credential>` (as the Anthropic SDKs and Claude Code send it), on
//! every door. A credential that starts with `pincer-sk-` is a managed key, looked up by its
//! hash (an unknown, revoked or expired one is refused, whatever the gateway's token); any
//! other must equal `gateway.auth.token` (compared in constant time) when one is set, and is
//! not needed when none is. Every request then carries its [`Access`]. Credentials are never
//! logged.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::http::accounts::{Access, Caller, door_of};
use crate::http::error::GatewayError;
use crate::http::state::SharedState;

/// Finds who the request is from, refusing a wrong token or an unusable key.
pub async fn require_token(
    State(state): State<SharedState>,
    mut request: Request,
    next: Next,
) -> Response {
    match caller(&state, request.headers()).await {
        Ok(caller) => {
            let access = Access {
                caller,
                door: door_of(request.uri().path()),
                request_id: crate::http::request_id::of(request.headers()).map(str::to_owned),
            };
            request.extensions_mut().insert(access);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

async fn caller(
    state: &SharedState,
    headers: &axum::http::HeaderMap,
) -> Result<Caller, GatewayError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_credentials)
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    if let Some(secret) = given.filter(|g| g.starts_with(pincer_store::SECRET_PREFIX)) {
        let Some(accounts) = &state.accounts else {
            return Err(GatewayError::KeyRefused(
                "this gateway has no key database, so it takes no managed keys".to_owned(),
            ));
        };
        return accounts.authenticate(secret).await;
    }
    let Some(expected) = state.token.as_ref() else {
        return Ok(Caller::Anonymous);
    };
    if bool::from(
        given
            .unwrap_or_default()
            .as_bytes()
            .ct_eq(expected.expose().as_bytes()),
    ) {
        Ok(Caller::Admin)
    } else {
        Err(GatewayError::Unauthorized)
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
