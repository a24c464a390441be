//! What every front door does alike before and after its own translation: reading a JSON body
//! (content type, UTF-8, one value, the field at fault named), response ids and times, the
//! request deadline, waiting for an unstreamed answer, counting a failure, and what the access
//! log learns from a handler.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use futures_util::{Stream, StreamExt};
use pincer_core::{AssistantMessage, ErrorKind, ProviderError, StreamEvent, TierPrices};
use serde::de::DeserializeOwned;

use crate::http::error::GatewayError;
use crate::http::metrics::RequestRecord;
use crate::http::state::SharedState;

/// What the access log learns about a request from its handler.
#[derive(Debug, Clone)]
pub struct Served {
    /// The response id.
    pub id: String,
    /// The catalog key of the model that answered (or was asked for).
    pub model: String,
}

/// A fresh response id: `prefix`, then time and a counter in hex.
pub fn response_id(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{prefix}{nanos:x}{:04x}",
        COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff
    )
}

/// Unix time, in seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The body, once its content type says JSON (or says nothing). The size and time limits were
/// applied when it was read (`limits::read_body`).
pub fn json_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, GatewayError> {
    let body = body.map_err(|rejection| GatewayError::BadRequest {
        message: format!("cannot read the request body: {}", rejection.body_text()),
        param: None,
    })?;
    if let Some(kind) = headers.get(header::CONTENT_TYPE) {
        let kind = kind.to_str().unwrap_or_default();
        let essence = kind.split(';').next().unwrap_or_default().trim();
        if !(essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")) {
            return Err(GatewayError::UnsupportedMediaType(format!(
                "Content-Type is `{kind}`; send the request as JSON with Content-Type: application/json"
            )));
        }
    }
    Ok(body)
}

/// Parses a UTF-8 JSON body into `T`; a body that does not fit names the field at fault, and
/// only whitespace may follow the value.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, GatewayError> {
    // Most bodies fit: parse them without tracking the path, and parse a body that does not
    // fit again, tracking it, to name the field at fault.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let text = std::str::from_utf8(body).map_err(|e| GatewayError::BadRequest {
        message: format!("the request body is not UTF-8: {e}"),
        param: None,
    })?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = (path != ".").then_some(path);
        GatewayError::BadRequest {
            message: match &at {
                Some(path) => format!("invalid request body at `{path}`: {inner}"),
                None => format!("invalid request body: {inner}"),
            },
            param: at,
        }
    })?;
    deserializer.end().map_err(|e| GatewayError::BadRequest {
        message: format!("invalid request body: {e}"),
        param: None,
    })?;
    Ok(value)
}

/// Admits a converted request of `access` for `candidates` (charged in the tier `options`
/// asks), the record naming the model asked for first, so a refusal is logged under it.
pub async fn admit(
    state: &SharedState,
    access: &crate::http::accounts::Access,
    record: &mut RequestRecord,
    candidates: &mut Vec<pincer_runtime::resolve::Resolved>,
    options: &pincer_core::RequestOptions,
) -> Result<(), GatewayError> {
    if let Some(asked) = candidates.first() {
        record.asked(&asked.reference.to_string());
    }
    let tier = options.service_tier.map(|t| t.as_str());
    state
        .admit(
            access,
            candidates,
            crate::http::accounts::Charge::Tier(tier),
        )
        .await
}

/// Counts the failure and passes the error on.
pub fn fail(record: RequestRecord, error: GatewayError) -> GatewayError {
    record.failed(error.kind(), error.status());
    error
}

/// The error for a request that ran out of `gateway.requestTimeout` while `what`.
pub fn timeout(state: &SharedState, what: &str) -> GatewayError {
    GatewayError::Upstream(ProviderError::new(
        ErrorKind::Timeout,
        format!(
            "{what} within gateway.requestTimeout ({} s)",
            state.request_timeout.as_secs()
        ),
    ))
}

/// Waits, until `deadline`, for the whole answer of an unstreamed request: the finished message
/// (its text logged when `gateway.logContents` is on, its signatures remembered, the request
/// counted with its cost in the tier that served it), or the failure, counted.
pub async fn finish(
    state: &SharedState,
    id: &str,
    deadline: tokio::time::Instant,
    events: impl Stream<Item = StreamEvent> + Send,
    record: RequestRecord,
    prices: TierPrices,
) -> Result<AssistantMessage, GatewayError> {
    let end = tokio::time::timeout_at(deadline, async {
        let mut all = std::pin::pin!(events);
        while let Some(event) = all.next().await {
            match event {
                StreamEvent::Done { message } => return Ok(message),
                StreamEvent::Error { error, .. } => return Err(error),
                _ => {}
            }
        }
        Err(ProviderError::new(
            ErrorKind::StreamInterrupted,
            "the provider ended without an answer",
        ))
    })
    .await;
    match end {
        Ok(Ok(message)) => {
            if state.log_contents {
                tracing::info!(target: "pincer_gateway::contents", id, answer = %message.text());
            }
            state.runtime.signatures().remember(&message);
            record.finished(&message, &prices.serving(message.service_tier.as_deref()));
            Ok(message)
        }
        Ok(Err(error)) => Err(fail(record, GatewayError::Upstream(error))),
        Err(_) => Err(fail(record, timeout(state, "the answer did not finish"))),
    }
}
