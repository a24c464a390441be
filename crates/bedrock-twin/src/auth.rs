//! Authentication: SigV4 verification (recomputing the signature with `aws-sigv4` from the
//! headers the client says it signed), session tokens, clock skew, credential expiry, and
//! bearer tokens as `AWS_BEARER_TOKEN_BEDROCK` sends them.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SessionTokenMode, SignableBody, SignableRequest, SigningParams, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use http::HeaderMap;

use crate::error::{AwsError, SIGNATURE_MISMATCH};

/// The signing name both Bedrock APIs use.
pub const SIGNING_NAME: &str = "bedrock";

/// An access key the twin accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// Access key id, e.g. `AKIDTWIN`.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token that must accompany the key, if any.
    pub session_token: Option<String>,
    /// When the key stops being accepted (`ExpiredTokenException` after that).
    pub expires: Option<SystemTime>,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .field("expires", &self.expires)
            .finish()
    }
}

impl AccessKey {
    /// A long-term key pair without session token.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
            expires: None,
        }
    }

    /// Adds a session token.
    #[must_use]
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    /// Sets an expiry time.
    #[must_use]
    pub fn with_expiry(mut self, expires: SystemTime) -> Self {
        self.expires = Some(expires);
        self
    }

    /// Parses `ID:SECRET[:SESSION_TOKEN]`.
    pub fn parse(spec: &str) -> Option<Self> {
        let mut parts = spec.splitn(3, ':');
        let id = parts.next().filter(|s| !s.is_empty())?;
        let secret = parts.next().filter(|s| !s.is_empty())?;
        let key = Self::new(id, secret);
        Some(match parts.next() {
            Some(token) if !token.is_empty() => key.with_session_token(token),
            _ => key,
        })
    }
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A SigV4-signed request with this access key id, signed for this region.
    Key {
        /// Access key id.
        access_key_id: String,
        /// Region of the credential scope.
        region: String,
    },
    /// A request with a bearer token.
    Bearer,
}

impl Caller {
    /// A short label, used to separate fault counters per caller.
    pub fn label(&self) -> &str {
        match self {
            Self::Key { access_key_id, .. } => access_key_id,
            Self::Bearer => "bearer",
        }
    }

    /// The region the request was signed for, when known.
    pub fn region(&self) -> Option<&str> {
        match self {
            Self::Key { region, .. } => Some(region),
            Self::Bearer => None,
        }
    }
}

/// The keys and bearer tokens the twin accepts; keys issued by IMDS/ECS are added at runtime.
#[derive(Debug, Default)]
pub struct KeyStore {
    keys: RwLock<HashMap<String, AccessKey>>,
    bearer: HashSet<String>,
    clock_skew: Duration,
}

/// The parts of a request that authentication looks at.
#[derive(Debug)]
pub struct AuthRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path and query exactly as received (still percent-encoded).
    pub path_and_query: &'a str,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// Request body.
    pub body: &'a [u8],
}

impl KeyStore {
    /// A store with these keys and bearer tokens, tolerating `clock_skew` between the
    /// signature time and now.
    pub fn new(keys: Vec<AccessKey>, bearer: Vec<String>, clock_skew: Duration) -> Self {
        Self {
            keys: RwLock::new(
                keys.into_iter()
                    .map(|k| (k.access_key_id.clone(), k))
                    .collect(),
            ),
            bearer: bearer.into_iter().collect(),
            clock_skew,
        }
    }

    /// Accepts one more key (used for credentials handed out by IMDS and ECS).
    pub fn insert(&self, key: AccessKey) {
        if let Ok(mut keys) = self.keys.write() {
            keys.insert(key.access_key_id.clone(), key);
        }
    }

    fn lookup(&self, id: &str) -> Option<AccessKey> {
        self.keys.read().ok()?.get(id).cloned()
    }

    /// Authenticates a request the way AWS does, or answers with AWS's error.
    pub fn authenticate(&self, req: &AuthRequest<'_>, now: SystemTime) -> Result<Caller, AwsError> {
        let auth = req
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(AwsError::missing_authentication)?;
        if let Some(token) = auth.strip_prefix("Bearer ") {
            return if self.bearer.contains(token.trim()) {
                Ok(Caller::Bearer)
            } else {
                Err(AwsError::unrecognized_client())
            };
        }
        let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256 ") else {
            return Err(AwsError::incomplete_signature(format!(
                "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={auth}"
            )));
        };
        let parsed = ParsedAuthorization::parse(rest)?;
        if parsed.service != SIGNING_NAME {
            return Err(AwsError::invalid_signature(format!(
                "Credential should be scoped to correct service: '{SIGNING_NAME}'. "
            )));
        }
        let key = self
            .lookup(parsed.access_key_id)
            .ok_or_else(AwsError::unrecognized_client)?;
        let sent_token = header_str(req.headers, "x-amz-security-token");
        if sent_token != key.session_token.as_deref() {
            return Err(AwsError::unrecognized_client());
        }
        if key.expires.is_some_and(|expires| expires <= now) {
            return Err(AwsError::expired_token());
        }
        let amz_date = header_str(req.headers, "x-amz-date").ok_or_else(|| {
            AwsError::incomplete_signature(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            )
        })?;
        let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
            AwsError::incomplete_signature(format!(
                "Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
            ))
        })?;
        self.check_skew(amz_date, signed_at, now)?;
        let expected = expected_signature(req, &parsed, &key, signed_at)?;
        if expected == parsed.signature {
            Ok(Caller::Key {
                access_key_id: key.access_key_id,
                region: parsed.region.to_owned(),
            })
        } else {
            Err(AwsError::invalid_signature(SIGNATURE_MISMATCH))
        }
    }

    fn check_skew(
        &self,
        amz_date: &str,
        signed_at: SystemTime,
        now: SystemTime,
    ) -> Result<(), AwsError> {
        if let Ok(ahead) = signed_at.duration_since(now)
            && ahead > self.clock_skew
        {
            return Err(AwsError::invalid_signature(format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + {} min.)",
                format_amz_date(now + self.clock_skew),
                format_amz_date(now),
                self.clock_skew.as_secs() / 60
            )));
        }
        if let Ok(behind) = now.duration_since(signed_at)
            && behind > self.clock_skew
        {
            return Err(AwsError::invalid_signature(format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - {} min.)",
                format_amz_date(now - self.clock_skew),
                format_amz_date(now),
                self.clock_skew.as_secs() / 60
            )));
        }
        Ok(())
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The fields of a SigV4 `Authorization` header.
#[derive(Debug)]
struct ParsedAuthorization<'a> {
    access_key_id: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

impl<'a> ParsedAuthorization<'a> {
    fn parse(rest: &'a str) -> Result<Self, AwsError> {
        let mut credential = None;
        let mut signed = None;
        let mut signature = None;
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Credential=") {
                credential = Some(v);
            } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
                signed = Some(v);
            } else if let Some(v) = part.strip_prefix("Signature=") {
                signature = Some(v);
            }
        }
        let missing = |what: &str| {
            AwsError::incomplete_signature(format!(
                "Authorization header requires '{what}' parameter."
            ))
        };
        let credential = credential.ok_or_else(|| missing("Credential"))?;
        let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
        let signature = signature.ok_or_else(|| missing("Signature"))?;
        let scope: Vec<&str> = credential.split('/').collect();
        let [access_key_id, _date, region, service, terminator] = scope[..] else {
            return Err(AwsError::incomplete_signature(format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
            )));
        };
        if terminator != "aws4_request" {
            return Err(AwsError::incomplete_signature(
                "Credential should be scoped with a valid terminator: 'aws4_request'.",
            ));
        }
        Ok(Self {
            access_key_id,
            region,
            service,
            signed_headers: signed.split(';').collect(),
            signature,
        })
    }
}

fn expected_signature(
    req: &AuthRequest<'_>,
    parsed: &ParsedAuthorization<'_>,
    key: &AccessKey,
    signed_at: SystemTime,
) -> Result<String, AwsError> {
    let mismatch = || AwsError::invalid_signature(SIGNATURE_MISMATCH);
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(parsed.signed_headers.len());
    let mut precomputed = None;
    for name in &parsed.signed_headers {
        for value in req.headers.get_all(*name) {
            let value = value.to_str().map_err(|_| mismatch())?;
            if *name == "x-amz-content-sha256" {
                precomputed = Some(value.to_owned());
            }
            headers.push((name, value));
        }
    }
    let host = header_str(req.headers, "host").unwrap_or("localhost");
    let uri = format!("http://{host}{}", req.path_and_query);
    let body = match precomputed {
        Some(digest) => SignableBody::Precomputed(digest),
        None => SignableBody::Bytes(req.body),
    };
    let signable =
        SignableRequest::new(req.method, uri, headers.into_iter(), body).map_err(|_| mismatch())?;
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    if !parsed.signed_headers.contains(&"x-amz-security-token") {
        settings.session_token_mode = SessionTokenMode::Exclude;
    }
    let identity: Identity = Credentials::new(
        &key.access_key_id,
        &key.secret_access_key,
        key.session_token.clone(),
        None,
        "bedrock-twin",
    )
    .into();
    let params: SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(parsed.region)
        .name(parsed.service)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|_| mismatch())?
        .into();
    let output = sign(signable, &params).map_err(|_| mismatch())?;
    Ok(output.signature().to_owned())
}

/// Parses `20240101T000000Z`.
fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let text = format!(
        "{}-{}-{}T{}:{}:{}Z",
        value.get(0..4)?,
        value.get(4..6)?,
        value.get(6..8)?,
        value.get(9..11)?,
        value.get(11..13)?,
        value.get(13..15)?
    );
    let parsed = DateTime::from_str(&text, Format::DateTime).ok()?;
    SystemTime::try_from(parsed).ok()
}

/// Formats a time as `20240101T000000Z`.
fn format_amz_date(time: SystemTime) -> String {
    DateTime::from(time)
        .fmt(Format::DateTime)
        .map(|s| s.replace(['-', ':'], ""))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip() {
        let t = parse_amz_date("20240102T030405Z").unwrap();
        assert_eq!(format_amz_date(t), "20240102T030405Z");
        assert!(parse_amz_date("2024-01-02").is_none());
    }

    #[test]
    fn key_specs_parse() {
        let k = AccessKey::parse("ID:SECRET:TOKEN").unwrap();
        assert_eq!(k.session_token.as_deref(), Some("TOKEN"));
        assert!(AccessKey::parse("ID").is_none());
        assert!(!format!("{k:?}").contains("SECRET"));
    }

    #[test]
    fn missing_authorization_is_refused() {
        let store = KeyStore::new(vec![], vec![], Duration::from_secs(300));
        let headers = HeaderMap::new();
        let req = AuthRequest {
            method: "GET",
            path_and_query: "/foundation-models",
            headers: &headers,
            body: b"",
        };
        let err = store.authenticate(&req, SystemTime::now()).unwrap_err();
        assert_eq!(err.error_type, "MissingAuthenticationTokenException");
    }
}
