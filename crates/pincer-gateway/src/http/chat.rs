//! `POST /v1/chat/completions`: extract → convert → call the provider → JSON or SSE.
//!
//! Every request first waits for the provider's first output, within `gateway.requestTimeout`.
//! A failure before that is a plain HTTP error with the right status, after trying the
//! configured fallbacks when the request named the default model. A failure after streaming
//! began is an SSE `error` event, and the stream ends. A client that disconnects drops the
//! response stream, which drops the provider stream and so cancels the upstream request.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use pincer_core::{
    ErrorKind, EventStream, ProviderError, ProviderRequest, StreamEvent, TierPrices,
};
use pincer_openai::request::{Converted, attribute, convert};
use pincer_openai::response::{ChunkEncoder, completion};
use pincer_openai::types::ChatCompletionRequest;
use tokio::time::timeout_at;

use crate::http::error::GatewayError;
use crate::http::metrics::RequestRecord;
use crate::http::state::SharedState;

/// What the access log learns about a request from its handler.
#[derive(Debug, Clone)]
pub struct Served {
    /// The completion id.
    pub id: String,
    /// The catalog key of the model that answered (or was asked for).
    pub model: String,
}

fn response_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "chatcmpl-{nanos:x}{:04x}",
        COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Checks the content type and parses the body, with errors in OpenAI's shape.
fn parse(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<ChatCompletionRequest, GatewayError> {
    // The size and time limits were applied when the body was read (`limits::read_body`).
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
    parse_body(&body)
}

/// Parses a request body (UTF-8 JSON) into a chat-completion request; a body that does not fit
/// names the field at fault.
pub fn parse_body(body: &[u8]) -> Result<ChatCompletionRequest, GatewayError> {
    let text = std::str::from_utf8(body).map_err(|e| GatewayError::BadRequest {
        message: format!("the request body is not UTF-8: {e}"),
        param: None,
    })?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let request = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
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
    // Only whitespace may follow the JSON value.
    deserializer.end().map_err(|e| GatewayError::BadRequest {
        message: format!("invalid request body: {e}"),
        param: None,
    })?;
    // A field the API does not have is refused, as OpenAI refuses it, never dropped.
    if let Some(field) = pincer_openai::types::unknown_field(body) {
        return Err(GatewayError::BadRequest {
            message: format!(
                "Unrecognized request argument supplied: {field} (the README's compatibility table lists every field Pincer takes)"
            ),
            param: Some(field),
        });
    }
    Ok(request)
}

/// An answer that has begun: the events held so far (up to and including the first output,
/// or the end) and the rest of the stream.
struct Begun {
    key: String,
    prices: TierPrices,
    stream: bool,
    include_usage: bool,
    held: Vec<StreamEvent>,
    rest: EventStream,
}

/// The handler.
pub async fn completions(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let id = response_id();
    let mut model = String::new();
    let mut response = answer(&state, &headers, body, &id, started, &mut model)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    response.extensions_mut().insert(Served { id, model });
    response
}

/// Counts the failure and passes the error on.
fn fail(record: RequestRecord, error: GatewayError) -> GatewayError {
    record.failed(error.kind(), error.status());
    error
}

fn timeout(state: &SharedState, what: &str) -> GatewayError {
    GatewayError::Upstream(ProviderError::new(
        ErrorKind::Timeout,
        format!(
            "{what} within gateway.requestTimeout ({} s)",
            state.request_timeout.as_secs()
        ),
    ))
}

async fn answer(
    state: &SharedState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    id: &str,
    started: Instant,
    model: &mut String,
) -> Result<Response, GatewayError> {
    let mut request = match parse(headers, body) {
        Ok(request) => request,
        Err(error) => {
            let record = RequestRecord::start(state.metrics.clone(), started, false);
            return Err(fail(record, error));
        }
    };
    let mut record = RequestRecord::start(state.metrics.clone(), started, request.stream);
    if state.log_contents {
        tracing::info!(target: "pincer_gateway::contents", id, request = %serde_json::to_string(&request).unwrap_or_default());
    }
    // Fetching remote images counts against the request's deadline.
    let deadline = tokio::time::Instant::from_std(started) + state.request_timeout;
    match timeout_at(deadline, state.remote_images.inline(&mut request)).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return Err(fail(record, error)),
        Err(_) => {
            return Err(fail(
                record,
                timeout(state, "the request's remote images did not arrive"),
            ));
        }
    }
    let begun = timeout_at(deadline, begin(state, request, &mut record)).await;
    record.model_key().clone_into(model);
    let begun = match begun {
        Ok(Ok(begun)) => begun,
        Ok(Err(error)) => return Err(fail(record, error)),
        Err(_) => return Err(fail(record, timeout(state, "no answer began"))),
    };
    let created = now();
    if begun.stream {
        let encoder = ChunkEncoder::new(id, &begun.key, created);
        let stream = sse(
            futures_util::stream::iter(begun.held).chain(begun.rest),
            encoder,
            begun.include_usage,
            record,
            begun.prices,
            state.clone(),
        );
        let on_panic = data(
            &GatewayError::Internal(
                "the gateway failed while streaming this answer; the failure is in its log"
                    .to_owned(),
            )
            .body(),
        );
        return Ok(
            Sse::new(crate::http::limits::catch_stream_panics(stream, on_panic))
                .keep_alive(KeepAlive::default())
                .into_response(),
        );
    }
    let all = futures_util::stream::iter(begun.held).chain(begun.rest);
    let end = timeout_at(deadline, async {
        let mut all = std::pin::pin!(all);
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
            state.signatures.remember(&message);
            record.succeeded(
                &message.usage,
                &begun.prices.serving(message.service_tier.as_deref()),
            );
            Ok(Json(completion(&message, id, &begun.key, created)).into_response())
        }
        Ok(Err(error)) => Err(fail(record, GatewayError::Upstream(error))),
        Err(_) => Err(fail(record, timeout(state, "the answer did not finish"))),
    }
}

/// Resolves the model, converts the request and starts the provider, trying fallbacks while
/// nothing has been output; returns once the first output (or the end) arrived.
async fn begin(
    state: &SharedState,
    request: ChatCompletionRequest,
    record: &mut RequestRecord,
) -> Result<Begun, GatewayError> {
    let candidates = state.candidates(&request.model)?;
    let count = candidates.len();
    let mut last_error = None;
    let catalog = state.catalog();
    // The request is converted once, moving its contents (a 30 MB body is not copied per
    // candidate); a fallback gets a copy of the conversation only when there is one to try.
    let (first_provider, first_model) = candidates
        .first()
        .map(|c| (c.model.provider.clone(), c.model.id.clone()))
        .unwrap_or_default();
    let Converted {
        conversation,
        options,
        stream,
        include_usage,
    } = convert(request, &first_provider, &first_model).map_err(|e| GatewayError::BadRequest {
        message: e.message,
        param: Some(e.param),
    })?;
    let mut conversation = conversation;
    state.signatures.restore(&mut conversation);
    let mut conversation = Some(conversation);
    for (i, resolved) in candidates.into_iter().enumerate() {
        let key = resolved.reference.to_string();
        record.model(&key, catalog.get(&resolved.reference).is_some());
        let mut this = if i + 1 < count {
            conversation.clone()
        } else {
            conversation.take()
        }
        .unwrap_or_default();
        if i > 0 {
            attribute(&mut this, &resolved.model.provider, &resolved.model.id);
        }
        let provider = state
            .providers
            .get(&resolved.backend)
            .await
            .map_err(GatewayError::Upstream)?;
        let prices = resolved.model.tier_prices();
        let mut events = provider.stream(ProviderRequest {
            model: resolved.model,
            conversation: this,
            options: options.clone(),
        });
        let mut held = Vec::new();
        let failure = loop {
            match events.next().await {
                Some(StreamEvent::Error { error, .. }) => break Some(error),
                Some(StreamEvent::Start) => held.push(StreamEvent::Start),
                Some(event) => {
                    record.first_output();
                    held.push(event);
                    break None;
                }
                None => break None,
            }
        };
        match failure {
            None => {
                return Ok(Begun {
                    key,
                    prices,
                    stream,
                    include_usage,
                    held,
                    rest: events,
                });
            }
            Some(error) if i + 1 < count && error.kind.allows_fallback() => {
                tracing::warn!(model = %key, error = %error, "trying the next fallback model");
                state.metrics.fallback(&key);
                last_error = Some(error);
            }
            Some(error) => return Err(GatewayError::Upstream(error)),
        }
    }
    Err(GatewayError::Upstream(last_error.unwrap_or_else(|| {
        ProviderError::new(ErrorKind::Other, "no model to try")
    })))
}

fn data(value: &impl serde::Serialize) -> Event {
    Event::default().data(serde_json::to_string(value).unwrap_or_default())
}

fn sse(
    events: impl Stream<Item = StreamEvent> + Send + 'static,
    mut encoder: ChunkEncoder,
    include_usage: bool,
    record: RequestRecord,
    prices: TierPrices,
    state: SharedState,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    let mut record = Some(record);
    events
        .flat_map(move |event| {
            let mut out = Vec::new();
            match &event {
                StreamEvent::Error { error, .. } => {
                    let error = GatewayError::Upstream(error.clone());
                    out.push(data(&error.body()));
                    if let Some(record) = record.take() {
                        record.failed(error.kind(), error.status());
                    }
                }
                StreamEvent::Done { message } => {
                    out.extend(encoder.encode(&event).map(|chunk| data(&chunk)));
                    if include_usage {
                        out.push(data(&encoder.usage_chunk(message.usage)));
                    }
                    out.push(Event::default().data("[DONE]"));
                    state.signatures.remember(message);
                    if let Some(record) = record.take() {
                        record.succeeded(
                            &message.usage,
                            &prices.serving(message.service_tier.as_deref()),
                        );
                    }
                }
                _ => out.extend(encoder.encode(&event).map(|chunk| data(&chunk))),
            }
            futures_util::stream::iter(out)
        })
        .map(Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_one_json_value_and_nothing_after_it() {
        let body = r#"{"model": "m", "messages": [{"role": "user", "content": "hi"}]}"#;
        assert_eq!(
            parse_body(format!("{body} \n").as_bytes()).unwrap().model,
            "m"
        );
        // Found by the `chat_request` fuzz target: text after the value was silently ignored.
        let error =
            parse_body(format!("{body}, {{\"role\": \"user\"}}]}}").as_bytes()).unwrap_err();
        assert_eq!(error.status(), axum::http::StatusCode::BAD_REQUEST);
        assert!(error.to_string().contains("trailing characters"), "{error}");
    }

    #[test]
    fn a_bad_field_is_named() {
        let error = parse_body(br#"{"model": "m", "messages": [{"role": "user", "content": 5}]}"#)
            .unwrap_err();
        assert!(
            matches!(&error, GatewayError::BadRequest { param: Some(p), .. } if p == "messages[0]"),
            "{error:?}"
        );
    }
}
