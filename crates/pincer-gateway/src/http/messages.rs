//! `POST /v1/messages` and `POST /v1/messages/count_tokens`: Anthropic's Messages API. The body
//! becomes the runtime's request (`pincer_anthropic::request`), with the `anthropic-beta` flags
//! Bedrock takes; the runtime looks the model up (Anthropic model names included), tries the
//! fallbacks and starts the answer; its events become a `message` or the Messages API's
//! server-sent events (`pincer_anthropic::encode`). count_tokens asks Bedrock's CountTokens.
//!
//! Every error on these paths is in Anthropic's shape (`error::shape_errors` reshapes what any
//! layer answers); a failure after streaming began is an `error` event, and the stream ends.

use std::convert::Infallible;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use pincer_anthropic::encode::{EventEncoder, Header};
use pincer_anthropic::request::{Converted, convert};
use pincer_anthropic::types::{CountTokensRequest, MessagesRequest};
use pincer_core::{ErrorKind, ProviderError, StreamEvent, TierPrices};
use serde_json::{Value, json};
use tokio::time::timeout_at;

use crate::http::accounts::{Access, Charge};
use crate::http::door;
use crate::http::error::{GatewayError, anthropic_type};
use crate::http::metrics::RequestRecord;
use crate::http::state::SharedState;

/// Whether `version` is an API version: a date, `YYYY-MM-DD`, from 2023-01-01 on. Every
/// version since speaks the same wire format this door serves (the SDKs send newer dates than
/// 2023-06-01); a value that is not one is refused.
fn is_version(version: &str) -> bool {
    let parts: Vec<&str> = version.split('-').collect();
    matches!(parts.as_slice(), [y, m, d]
        if y.len() == 4 && m.len() == 2 && d.len() == 2
            && [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
            && *y >= "2023")
}

/// Checks `anthropic-version` (absent is taken as 2023-06-01) and returns the `anthropic-beta`
/// flags Bedrock takes.
fn read_headers(headers: &HeaderMap) -> Result<Vec<String>, GatewayError> {
    for version in headers.get_all("anthropic-version") {
        let version = version.to_str().unwrap_or_default();
        if !is_version(version) {
            return Err(GatewayError::BadRequest {
                message: format!(
                    "anthropic-version: `{version}` is not an API version (a date such as 2023-06-01)"
                ),
                param: Some("anthropic-version".to_owned()),
            });
        }
    }
    Ok(pincer_anthropic::betas::forwarded(
        headers
            .get_all("anthropic-beta")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    ))
}

fn bad_request(e: pincer_anthropic::request::RequestError) -> GatewayError {
    GatewayError::BadRequest {
        message: format!("{}: {}", e.param, e.message),
        param: Some(e.param),
    }
}

/// `POST /v1/messages`.
pub async fn create(
    State(state): State<SharedState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let id = door::response_id("msg_");
    let mut model = String::new();
    let mut response = answer(&state, &access, &headers, body, &id, started, &mut model)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    response.extensions_mut().insert(door::Served { id, model });
    response
}

/// Parses a Messages request body; a body that does not fit names the field.
pub fn parse_body(body: &[u8]) -> Result<MessagesRequest, GatewayError> {
    door::parse_json(body)
}

async fn answer(
    state: &SharedState,
    access: &Access,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    id: &str,
    started: Instant,
    model: &mut String,
) -> Result<Response, GatewayError> {
    let parsed = read_headers(headers).and_then(|betas| {
        let body = door::json_body(headers, body)?;
        Ok((betas, parse_body(&body)?))
    });
    let (betas, request) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            let record = state.record(access, started, false);
            return Err(door::fail(record, error));
        }
    };
    let mut record = state.record(access, started, request.stream);
    if state.log_contents {
        tracing::info!(target: "pincer_gateway::contents", id, request = %serde_json::to_string(&request).unwrap_or_default());
    }
    let deadline = tokio::time::Instant::from_std(started) + state.request_timeout;
    let named = request.model.clone();
    let stop_sequences = request.stop_sequences.clone().unwrap_or_default();
    let begun = timeout_at(deadline, begin(state, access, request, betas, &mut record)).await;
    record.model_key().clone_into(model);
    let (answer, stream, display_thinking) = match begun {
        Ok(Ok(begun)) => begun,
        Ok(Err(error)) => return Err(door::fail(record, error)),
        Err(_) => return Err(door::fail(record, door::timeout(state, "no answer began"))),
    };
    let header = Header {
        id: id.to_owned(),
        model: named,
        display_thinking,
        origin: (
            answer.resolved.model.provider.clone(),
            answer.resolved.model.id.clone(),
        ),
        stop_sequences,
    };
    let prices = answer.prices;
    if stream {
        let events = sse(
            answer.events(),
            EventEncoder::new(header),
            record,
            prices,
            state.clone(),
        );
        let on_panic = event(
            "error",
            &json!({"type": "error", "error": {"type": "api_error",
            "message": "the gateway failed while streaming this answer; the failure is in its log"}}),
        );
        return Ok(
            Sse::new(crate::http::limits::catch_stream_panics(events, on_panic))
                .keep_alive(KeepAlive::default())
                .into_response(),
        );
    }
    let message = door::finish(state, id, deadline, answer.events(), record, prices).await?;
    Ok(Json(header.message(&message)).into_response())
}

/// Looks the model up, converts the request and starts the answer through the runtime.
async fn begin(
    state: &SharedState,
    access: &Access,
    request: MessagesRequest,
    betas: Vec<String>,
    record: &mut RequestRecord,
) -> Result<(pincer_runtime::Begun, bool, bool), GatewayError> {
    let mut candidates = state.candidates(&request.model)?.models;
    let (provider, model) = candidates
        .first()
        .map(|c| (c.model.provider.clone(), c.model.id.clone()))
        .unwrap_or_default();
    let Converted {
        mut conversation,
        options,
        stream,
        display_thinking,
    } = convert(request, &provider, &model, betas).map_err(bad_request)?;
    door::admit(state, access, record, &mut candidates, &options).await?;
    state.runtime.signatures().restore(&mut conversation);
    record.request(&conversation, &options);
    let answer = state
        .runtime
        .begin(candidates, conversation, options, &mut |progress| {
            record.progress(&progress);
        })
        .await
        .map_err(GatewayError::Upstream)?;
    Ok((answer, stream, display_thinking))
}

/// `POST /v1/messages/count_tokens`: `{"input_tokens": N}` from Bedrock's CountTokens, for the
/// request exactly as `/v1/messages` would send it.
pub async fn count_tokens(
    State(state): State<SharedState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let mut model = String::new();
    let counted = count(&state, &access, &headers, body, &mut model).await;
    // Counting costs nothing, but it is a request of its caller: recorded, without tokens.
    if let Some(ticket) = state.ticket(&access) {
        let (outcome, status) = match &counted {
            Ok(_) => ("ok", 200),
            Err(error) => ("error", error.status().as_u16()),
        };
        ticket.spent(crate::http::accounts::Spent {
            model: &model,
            usage: &pincer_core::Usage::default(),
            cost: Some(0.0),
            latency: started.elapsed(),
            outcome,
            status,
        });
    }
    counted.unwrap_or_else(IntoResponse::into_response)
}

async fn count(
    state: &SharedState,
    access: &Access,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    model: &mut String,
) -> Result<Response, GatewayError> {
    let betas = read_headers(headers)?;
    let body = door::json_body(headers, body)?;
    let request: CountTokensRequest = door::parse_json(&body)?;
    let mut models = vec![state.resolve_model(&request.model)?];
    *model = models[0].reference.to_string();
    let converted = convert(
        MessagesRequest::from(request),
        &models[0].model.provider,
        &models[0].model.id,
        betas,
    )
    .map_err(bad_request)?;
    // Counting costs nothing: the key's models and rate apply, its budget does not.
    state.admit(access, &mut models, Charge::Free).await?;
    let resolved = models.swap_remove(0);
    let deadline = tokio::time::Instant::now() + state.request_timeout;
    let counted = timeout_at(
        deadline,
        state
            .runtime
            .count_tokens(&resolved, converted.conversation, converted.options),
    )
    .await
    .map_err(|_| door::timeout(state, "no count came"))?
    .map_err(GatewayError::Upstream)?;
    Ok(Json(json!({"input_tokens": counted})).into_response())
}

fn event(name: &'static str, value: &Value) -> Event {
    Event::default().event(name).data(value.to_string())
}

fn sse(
    events: impl Stream<Item = StreamEvent> + Send + 'static,
    mut encoder: EventEncoder,
    record: RequestRecord,
    prices: TierPrices,
    state: SharedState,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    let mut record = Some(record.streaming());
    let mut ended = false;
    let opening: Vec<Event> = encoder.start().iter().map(|(n, v)| event(n, v)).collect();
    // `None` marks the provider's end: a stream that ends without `Done` or `Error` still ends
    // with an `error` event.
    let events = events
        .map(Some)
        .chain(futures_util::stream::once(async { None }));
    futures_util::stream::iter(opening)
        .chain(events.flat_map(move |provider_event| {
            let mut out = Vec::new();
            let failure = match &provider_event {
                None if !ended => Some(GatewayError::Upstream(ProviderError::new(
                    ErrorKind::StreamInterrupted,
                    "the provider ended without an answer",
                ))),
                Some(StreamEvent::Error { error, .. }) => {
                    Some(GatewayError::Upstream(error.clone()))
                }
                _ => None,
            };
            if let Some(error) = failure {
                ended = true;
                out.push(event(
                    "error",
                    &json!({"type": "error", "error": {
                        "type": anthropic_type(error.status()),
                        "message": error.body().error.message,
                    }}),
                ));
                if let Some(record) = record.take() {
                    record.failed(error.kind(), error.status());
                }
            } else if let Some(provider_event) = &provider_event {
                if let StreamEvent::Done { message } = provider_event {
                    ended = true;
                    state.runtime.signatures().remember(message);
                    if let Some(record) = record.take() {
                        record.finished(message, &prices.serving(message.service_tier.as_deref()));
                    }
                }
                out.extend(
                    encoder
                        .encode(provider_event)
                        .iter()
                        .map(|(n, v)| event(n, v)),
                );
            }
            futures_util::stream::iter(out)
        }))
        .map(Ok)
}
