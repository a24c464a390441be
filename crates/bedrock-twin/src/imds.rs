//! Credential endpoints for credential-chain tests: an IMDSv2 emulation (session token PUT,
//! role listing, role credentials with expiry and rotation) and the ECS container-credentials
//! endpoint. Every credential handed out is accepted by the twin until it expires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::{AccessKey, KeyStore};

/// Name of the instance role IMDS reports.
pub const ROLE_NAME: &str = "bedrock-twin-role";
/// Path of the ECS credentials endpoint.
pub const ECS_PATH: &str = "/v2/credentials/bedrock-twin";

/// Hands out temporary credentials and rotates them.
#[derive(Debug)]
pub struct CredentialIssuer {
    keys: Arc<KeyStore>,
    ttl: Duration,
    current: Mutex<Option<(AccessKey, SystemTime)>>,
    serial: Mutex<u64>,
    seed: u64,
}

impl CredentialIssuer {
    /// An issuer whose credentials live for `ttl` and are registered in `keys`.
    pub fn new(keys: Arc<KeyStore>, ttl: Duration) -> Self {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        Self {
            keys,
            ttl,
            current: Mutex::new(None),
            serial: Mutex::new(0),
            seed,
        }
    }

    fn mint(&self, now: SystemTime) -> (AccessKey, SystemTime) {
        let serial = self
            .serial
            .lock()
            .map(|mut s| {
                *s += 1;
                *s
            })
            .unwrap_or(0);
        let digest = hex::encode(Sha256::digest(format!("{}:{serial}", self.seed)));
        let key = AccessKey::new(
            format!("ASIATWIN{:012X}", serial ^ (self.seed & 0xFFFF_0000_0000)),
            digest.get(..40).unwrap_or(&digest).to_owned(),
        )
        .with_session_token(format!(
            "twin-session-{}",
            digest.get(24..).unwrap_or_default()
        ))
        .with_expiry(now + self.ttl);
        self.keys.insert(key.clone());
        (key, now)
    }

    /// The current credentials, minting new ones when none exist or the current ones are past
    /// half their lifetime.
    pub fn current(&self, now: SystemTime) -> AccessKey {
        let Ok(mut current) = self.current.lock() else {
            return self.mint(now).0;
        };
        let stale = match &*current {
            None => true,
            Some((_, issued)) => now
                .duration_since(*issued)
                .is_ok_and(|age| age >= self.ttl / 2),
        };
        if stale {
            *current = Some(self.mint(now));
        }
        current
            .as_ref()
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| AccessKey::new("", ""))
    }

    /// How many credentials were handed out so far (each rotation mints one).
    pub fn issued(&self) -> u64 {
        self.serial.lock().map(|s| *s).unwrap_or(0)
    }

    /// Replaces the current credentials now (the old ones stay valid until they expire).
    pub fn rotate(&self, now: SystemTime) -> AccessKey {
        let fresh = self.mint(now);
        if let Ok(mut current) = self.current.lock() {
            *current = Some(fresh.clone());
        }
        fresh.0
    }
}

fn expiration(key: &AccessKey) -> String {
    key.expires
        .map(DateTime::from)
        .and_then(|t| t.fmt(Format::DateTime).ok())
        .unwrap_or_default()
}

fn now_string() -> String {
    DateTime::from(SystemTime::now())
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

#[derive(Debug)]
struct ImdsState {
    issuer: Arc<CredentialIssuer>,
    tokens: Mutex<HashMap<String, Instant>>,
    counter: Mutex<u64>,
}

/// The IMDSv2 router.
pub fn imds_router(issuer: Arc<CredentialIssuer>) -> Router {
    let state = Arc::new(ImdsState {
        issuer,
        tokens: Mutex::new(HashMap::new()),
        counter: Mutex::new(0),
    });
    Router::new()
        .route("/latest/api/token", put(put_token))
        .route(
            "/latest/meta-data/iam/security-credentials",
            get(list_roles),
        )
        .route(
            "/latest/meta-data/iam/security-credentials/",
            get(list_roles),
        )
        .route(
            "/latest/meta-data/iam/security-credentials/{role}",
            get(role_credentials),
        )
        .route(
            "/latest/meta-data/iam/security-credentials-extended/",
            get(list_roles),
        )
        .route(
            "/latest/meta-data/iam/security-credentials-extended/{role}",
            get(role_credentials),
        )
        .route("/latest/meta-data/placement/region", get(region))
        .route("/twin/rotate", post(rotate))
        .with_state(state)
}

async fn put_token(State(state): State<Arc<ImdsState>>, headers: HeaderMap) -> Response {
    let ttl = headers
        .get("x-aws-ec2-metadata-token-ttl-seconds")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(ttl) = ttl.filter(|t| (1..=21_600).contains(t)) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let serial = state
        .counter
        .lock()
        .map(|mut c| {
            *c += 1;
            *c
        })
        .unwrap_or(0);
    let token = format!(
        "twin-imds-{}",
        hex::encode(Sha256::digest(format!("{serial}:{}", now_string())))
    );
    if let Ok(mut tokens) = state.tokens.lock() {
        tokens.insert(token.clone(), Instant::now() + Duration::from_secs(ttl));
    }
    (
        [("x-aws-ec2-metadata-token-ttl-seconds", ttl.to_string())],
        token,
    )
        .into_response()
}

fn authorized(state: &ImdsState, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get("x-aws-ec2-metadata-token")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    state
        .tokens
        .lock()
        .ok()
        .and_then(|t| t.get(token).copied())
        .is_some_and(|expires| expires > Instant::now())
}

async fn list_roles(State(state): State<Arc<ImdsState>>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    ROLE_NAME.into_response()
}

async fn region(State(state): State<Arc<ImdsState>>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    "us-east-1".into_response()
}

async fn role_credentials(
    State(state): State<Arc<ImdsState>>,
    Path(role): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if role != ROLE_NAME {
        return StatusCode::NOT_FOUND.into_response();
    }
    let key = state.issuer.current(SystemTime::now());
    axum::Json(json!({
        "Code": "Success",
        "LastUpdated": now_string(),
        "Type": "AWS-HMAC",
        "AccessKeyId": key.access_key_id,
        "SecretAccessKey": key.secret_access_key,
        "Token": key.session_token,
        "Expiration": expiration(&key),
    }))
    .into_response()
}

async fn rotate(State(state): State<Arc<ImdsState>>) -> Response {
    let key = state.issuer.rotate(SystemTime::now());
    key.access_key_id.into_response()
}

#[derive(Debug)]
struct EcsState {
    issuer: Arc<CredentialIssuer>,
    auth_token: Option<String>,
}

/// The ECS container-credentials router; requires `Authorization: <token>` when a token is set.
pub fn ecs_router(issuer: Arc<CredentialIssuer>, auth_token: Option<String>) -> Router {
    Router::new()
        .route(ECS_PATH, get(ecs_credentials))
        .with_state(Arc::new(EcsState { issuer, auth_token }))
}

async fn ecs_credentials(State(state): State<Arc<EcsState>>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.auth_token {
        let sent = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if sent != Some(expected.as_str()) {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(
                    json!({"code": "Unauthorized", "message": "Invalid authorization token"}),
                ),
            )
                .into_response();
        }
    }
    let key = state.issuer.current(SystemTime::now());
    axum::Json(json!({
        "RoleArn": format!("arn:aws:iam::111122223333:role/{ROLE_NAME}"),
        "AccessKeyId": key.access_key_id,
        "SecretAccessKey": key.secret_access_key,
        "Token": key.session_token,
        "Expiration": expiration(&key),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_rotate_and_stay_registered() {
        let keys = Arc::new(KeyStore::new(vec![], vec![], Duration::from_secs(300)));
        let issuer = CredentialIssuer::new(keys, Duration::from_secs(3600));
        let now = SystemTime::now();
        let a = issuer.current(now);
        assert_eq!(issuer.current(now), a);
        let b = issuer.rotate(now);
        assert_ne!(a.access_key_id, b.access_key_id);
        let later = now + Duration::from_secs(1900);
        assert_ne!(issuer.current(later).access_key_id, b.access_key_id);
    }
}
