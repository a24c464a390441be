//! `POST /v1/chat/completions`: extract → convert → call the provider → JSON or SSE.
//!
//! Every request first waits for the provider's first output, within `gateway.requestTimeout`.
//! A failure before that is a plain HTTP error with the right status, after trying the
//! configured fallbacks when the request named the default model. A failure after streaming
//! began is an SSE `error` event, and the stream ends. A client that disconnects drops the
//! response stream, which drops the provider stream and so cancels the upstream request.

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
use pincer_core::{StreamEvent, TierPrices};
use pincer_openai::request::{Converted, convert};
use pincer_openai::response::{ChunkEncoder, completion};
use pincer_openai::types::ChatCompletionRequest;
use tokio::time::timeout_at;

use crate::http::accounts::Access;
use crate::http::door;
use crate::http::error::GatewayError;
use crate::http::metrics::RequestRecord;
use crate::http::state::SharedState;

/// Checks the content type and parses the body, with errors in OpenAI's shape.
fn parse(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<ChatCompletionRequest, GatewayError> {
    let body = door::json_body(headers, body)?;
    parse_body(&body)
}

/// Parses a request body (UTF-8 JSON) into a chat-completion request; a body that does not fit
/// names the field at fault.
pub fn parse_body(body: &[u8]) -> Result<ChatCompletionRequest, GatewayError> {
    let request = door::parse_json(body)?;
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

/// An answer that has begun, with how the client asked for it.
struct Begun {
    answer: pincer_runtime::Begun,
    stream: bool,
    include_usage: bool,
}

/// The handler.
pub async fn completions(
    State(state): State<SharedState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let id = door::response_id("chatcmpl-");
    let mut model = String::new();
    let mut response = answer(&state, &access, &headers, body, &id, started, &mut model)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    response.extensions_mut().insert(door::Served { id, model });
    response
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
    let mut request = match parse(headers, body) {
        Ok(request) => request,
        Err(error) => {
            let record = state.record(access, started, false);
            return Err(door::fail(record, error));
        }
    };
    let mut record = state.record(access, started, request.stream);
    if state.log_contents {
        tracing::info!(target: "pincer_gateway::contents", id, request = %serde_json::to_string(&request).unwrap_or_default());
    }
    // Fetching remote images counts against the request's deadline.
    let deadline = tokio::time::Instant::from_std(started) + state.request_timeout;
    match timeout_at(deadline, state.remote_images.inline(&mut request)).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return Err(door::fail(record, error)),
        Err(_) => {
            return Err(door::fail(
                record,
                door::timeout(state, "the request's remote images did not arrive"),
            ));
        }
    }
    let begun = timeout_at(deadline, begin(state, access, request, &mut record)).await;
    record.model_key().clone_into(model);
    let begun = match begun {
        Ok(Ok(begun)) => begun,
        Ok(Err(error)) => return Err(door::fail(record, error)),
        Err(_) => return Err(door::fail(record, door::timeout(state, "no answer began"))),
    };
    let created = door::now();
    let Begun {
        answer,
        stream,
        include_usage,
    } = begun;
    let key = answer.key.clone();
    let prices = answer.prices;
    if stream {
        let encoder = ChunkEncoder::new(id, &key, created);
        let stream = sse(
            answer.events(),
            encoder,
            include_usage,
            record,
            prices,
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
    let message = door::finish(state, id, deadline, answer.events(), record, prices).await?;
    Ok(Json(completion(&message, id, &key, created)).into_response())
}

/// Looks the model up, converts the request and starts the answer through the runtime (which
/// tries the fallbacks); returns once the first output (or the end) arrived.
async fn begin(
    state: &SharedState,
    access: &Access,
    request: ChatCompletionRequest,
    record: &mut RequestRecord,
) -> Result<Begun, GatewayError> {
    let mut candidates = state.candidates(&request.model)?.models;
    let (provider, model) = candidates
        .first()
        .map(|c| (c.model.provider.clone(), c.model.id.clone()))
        .unwrap_or_default();
    let Converted {
        mut conversation,
        options,
        stream,
        include_usage,
    } = convert(request, &provider, &model).map_err(|e| GatewayError::BadRequest {
        message: e.message,
        param: Some(e.param),
    })?;
    door::admit(state, access, record, &mut candidates, &options).await?;
    state.runtime.signatures().restore(&mut conversation);
    record.request(&conversation, &options);
    let answer = state
        .runtime
        .begin(candidates, conversation, options, &mut |progress| {
            record.progress(&progress)
        })
        .await
        .map_err(GatewayError::Upstream)?;
    Ok(Begun {
        answer,
        stream,
        include_usage,
    })
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
    let mut record = Some(record.streaming());
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
                    state.runtime.signatures().remember(message);
                    if let Some(record) = record.take() {
                        record.finished(message, &prices.serving(message.service_tier.as_deref()));
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
