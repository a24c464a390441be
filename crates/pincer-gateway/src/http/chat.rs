//! `POST /v1/chat/completions`: extract → convert → call the provider → JSON or SSE.
//!
//! A streamed request that fails before any output gets a plain HTTP error with the right
//! status; one that fails after streaming began gets an SSE `error` event, and the stream ends.
//! A client that disconnects drops the response stream, which drops the provider stream and so
//! cancels the upstream request.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use pincer_core::{ProviderRequest, StreamEvent};
use pincer_openai::request::convert;
use pincer_openai::response::{ChunkEncoder, completion};
use pincer_openai::types::ChatCompletionRequest;

use crate::http::error::GatewayError;
use crate::http::state::SharedState;

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

/// Parses the body as a chat-completions request, with errors in OpenAI's shape.
fn parse(body: &Bytes) -> Result<ChatCompletionRequest, GatewayError> {
    serde_json::from_slice(body).map_err(|e| GatewayError::BadRequest {
        message: format!("invalid request body: {e}"),
        param: None,
    })
}

/// The handler.
pub async fn completions(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<Response, GatewayError> {
    let request = parse(&body)?;
    let resolved = state.resolve_model(&request.model)?;
    let converted =
        convert(request, &resolved.model.provider, &resolved.model.id).map_err(|e| {
            GatewayError::BadRequest {
                message: e.message,
                param: Some(e.param),
            }
        })?;
    let provider = state
        .providers
        .get(&resolved.backend)
        .await
        .map_err(GatewayError::Upstream)?;
    let model_key = resolved.reference.to_string();
    let mut events = provider.stream(ProviderRequest {
        model: resolved.model,
        conversation: converted.conversation,
        options: converted.options,
    });
    let id = response_id();
    let created = now();
    if !converted.stream {
        while let Some(event) = events.next().await {
            match event {
                StreamEvent::Done { message } => {
                    return Ok(Json(completion(&message, &id, &model_key, created)).into_response());
                }
                StreamEvent::Error { error, .. } => return Err(GatewayError::Upstream(error)),
                _ => {}
            }
        }
        return Err(GatewayError::Upstream(pincer_core::ProviderError::new(
            pincer_core::ErrorKind::StreamInterrupted,
            "the provider ended without an answer",
        )));
    }
    // Hold the response until the first event that is not `Start`: an error before any output
    // is then an HTTP error, not a stream.
    let mut held = Vec::new();
    loop {
        match events.next().await {
            Some(StreamEvent::Error { error, .. }) => return Err(GatewayError::Upstream(error)),
            Some(StreamEvent::Start) => held.push(StreamEvent::Start),
            Some(event) => {
                held.push(event);
                break;
            }
            None => break,
        }
    }
    let encoder = ChunkEncoder::new(&id, &model_key, created);
    let stream = sse(
        futures_util::stream::iter(held).chain(events),
        encoder,
        converted.include_usage,
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn data(value: &impl serde::Serialize) -> Event {
    Event::default().data(serde_json::to_string(value).unwrap_or_default())
}

fn sse(
    events: impl Stream<Item = StreamEvent> + Send + 'static,
    mut encoder: ChunkEncoder,
    include_usage: bool,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    events
        .flat_map(move |event| {
            let mut out = Vec::new();
            match &event {
                StreamEvent::Error { error, .. } => {
                    out.push(data(&GatewayError::Upstream(error.clone()).body()));
                }
                StreamEvent::Done { message } => {
                    out.extend(encoder.encode(&event).map(|chunk| data(&chunk)));
                    if include_usage {
                        out.push(data(&encoder.usage_chunk(message.usage)));
                    }
                    out.push(Event::default().data("[DONE]"));
                }
                _ => out.extend(encoder.encode(&event).map(|chunk| data(&chunk))),
            }
            futures_util::stream::iter(out)
        })
        .map(Ok)
}
