//! `POST /v1/responses`: OpenAI's Responses API, stateless. The body becomes the runtime's
//! request (`pincer_openai::responses::request`), the runtime looks the model up, tries the
//! fallbacks and starts the answer, and its events become a Response object or the streamed
//! `response.*` events (`pincer_openai::responses::encode`).
//!
//! As on every door: the first output must come within `gateway.requestTimeout`; a failure before
//! it is an HTTP error in OpenAI's shape; a failure after it is a `response.failed` event, and the
//! stream ends. A client that disconnects cancels the upstream request.

use std::convert::Infallible;
use std::sync::Mutex;
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
use pincer_openai::responses::encode::{EventEncoder, Header};
use pincer_openai::responses::request::{Converted, convert, remote_images, resolve_references};
use pincer_openai::responses::types::ResponsesRequest;
use serde_json::Value;
use tokio::time::timeout_at;

use crate::http::accounts::Access;
use crate::http::door;
use crate::http::error::GatewayError;
use crate::http::metrics::RequestRecord;
use crate::http::state::SharedState;

/// Output items held by id, for clients that send an `item_reference` instead of an item they
/// were given (the Vercel AI SDK does unless `store` is false). Bounded by bytes: the least
/// recently used go first; an item no longer held is a 400 that says to send the item itself.
/// Answers to requests with `store: false` are not held (their clients send items back whole).
/// In memory only, per gateway process.
#[derive(Debug)]
pub struct HeldItems {
    items: Mutex<Held>,
    budget: usize,
}

#[derive(Debug)]
struct Held {
    items: lru::LruCache<String, (Value, usize)>,
    bytes: usize,
}

/// Bytes of output items held by default.
pub const HELD_BYTES: usize = 64 << 20;

impl Default for HeldItems {
    fn default() -> Self {
        Self::new(HELD_BYTES)
    }
}

impl HeldItems {
    /// Room for `budget` bytes of items (their JSON).
    pub fn new(budget: usize) -> Self {
        Self {
            items: Mutex::new(Held {
                items: lru::LruCache::unbounded(),
                bytes: 0,
            }),
            budget,
        }
    }

    /// Holds the output items of a finished Response object.
    pub fn hold(&self, response: &Value) {
        let Some(output) = response["output"].as_array() else {
            return;
        };
        let Ok(mut held) = self.items.lock() else {
            return;
        };
        for item in output {
            let Some(id) = item["id"].as_str() else {
                continue;
            };
            let size = serde_json::to_vec(item).map_or(0, |b| b.len());
            if size > self.budget {
                continue;
            }
            if let Some((_, old)) = held.items.put(id.to_owned(), (item.clone(), size)) {
                held.bytes -= old;
            }
            held.bytes += size;
            while held.bytes > self.budget {
                match held.items.pop_lru() {
                    Some((_, (_, freed))) => held.bytes -= freed,
                    None => break,
                }
            }
        }
    }

    /// The item with `id` and its size, if held.
    pub fn get(&self, id: &str) -> Option<(Value, usize)> {
        self.items.lock().ok()?.items.get(id).cloned()
    }
}

/// The handler.
pub async fn create(
    State(state): State<SharedState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let id = door::response_id("resp_");
    let mut model = String::new();
    let mut response = answer(&state, &access, &headers, body, &id, started, &mut model)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    response.extensions_mut().insert(door::Served { id, model });
    response
}

/// Parses a request body into a Responses request; a body that does not fit names the field.
pub fn parse_body(body: &[u8]) -> Result<ResponsesRequest, GatewayError> {
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
    let parsed = door::json_body(headers, body).and_then(|body| parse_body(&body));
    let mut request = match parsed {
        Ok(request) => request,
        Err(error) => {
            let record = state.record(access, started, false);
            return Err(door::fail(record, error));
        }
    };
    let mut record = state.record(access, started, request.stream);
    let hold = request.store != Some(false);
    let limit = state.limits.max_request_bytes;
    if let Err(e) = resolve_references(&mut request, |id| state.response_items.get(id), limit) {
        let error = GatewayError::BadRequest {
            message: e.message,
            param: Some(e.param),
        };
        return Err(door::fail(record, error));
    }
    if state.log_contents {
        tracing::info!(target: "pincer_gateway::contents", id, request = %serde_json::to_string(&request).unwrap_or_default());
    }
    let deadline = tokio::time::Instant::from_std(started) + state.request_timeout;
    if state.remote_images.enabled() {
        let fetched = timeout_at(
            deadline,
            state
                .remote_images
                .inline_targets("input", remote_images(&mut request)),
        )
        .await;
        match fetched {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(door::fail(record, error)),
            Err(_) => {
                return Err(door::fail(
                    record,
                    door::timeout(state, "the request's remote images did not arrive"),
                ));
            }
        }
    }
    let begun = timeout_at(deadline, begin(state, access, request, &mut record)).await;
    record.model_key().clone_into(model);
    let (answer, stream, echo) = match begun {
        Ok(Ok(begun)) => begun,
        Ok(Err(error)) => return Err(door::fail(record, error)),
        Err(_) => return Err(door::fail(record, door::timeout(state, "no answer began"))),
    };
    let header = Header {
        id: id.to_owned(),
        model: answer.key.clone(),
        created: door::now(),
        echo,
        origin: (
            answer.resolved.model.provider.clone(),
            answer.resolved.model.id.clone(),
        ),
    };
    let prices = answer.prices;
    if stream {
        let events = sse(
            answer.events(),
            EventEncoder::new(header),
            record,
            prices,
            state.clone(),
            hold,
        );
        let on_panic = Event::default().event("error").data(
            serde_json::json!({
                "type": "error",
                "code": "internal_error",
                "message": "the gateway failed while streaming this answer; the failure is in its log",
                "param": null,
            })
            .to_string(),
        );
        return Ok(
            Sse::new(crate::http::limits::catch_stream_panics(events, on_panic))
                .keep_alive(KeepAlive::default())
                .into_response(),
        );
    }
    let message = door::finish(state, id, deadline, answer.events(), record, prices).await?;
    let object = header.finished(&message);
    if hold {
        state.response_items.hold(&object);
    }
    Ok(Json(object).into_response())
}

/// Looks the model up, converts the request and starts the answer through the runtime.
async fn begin(
    state: &SharedState,
    access: &Access,
    request: ResponsesRequest,
    record: &mut RequestRecord,
) -> Result<
    (
        pincer_runtime::Begun,
        bool,
        pincer_openai::responses::request::Echo,
    ),
    GatewayError,
> {
    let mut candidates = state.candidates(&request.model)?.models;
    let (provider, model) = candidates
        .first()
        .map(|c| (c.model.provider.clone(), c.model.id.clone()))
        .unwrap_or_default();
    let Converted {
        mut conversation,
        options,
        stream,
        echo,
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
    Ok((answer, stream, echo))
}

fn event(value: &Value) -> Event {
    Event::default()
        .event(value["type"].as_str().unwrap_or("message"))
        .data(value.to_string())
}

fn sse(
    events: impl Stream<Item = StreamEvent> + Send + 'static,
    mut encoder: EventEncoder,
    record: RequestRecord,
    prices: TierPrices,
    state: SharedState,
    hold: bool,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    let mut record = Some(record.streaming());
    let mut ended = false;
    let opening: Vec<Event> = encoder.start().iter().map(event).collect();
    // `None` marks the provider's end: a stream that ends without `Done` or `Error` still
    // ends with `response.failed`.
    let events = events
        .map(Some)
        .chain(futures_util::stream::once(async { None }));
    futures_util::stream::iter(opening)
        .chain(events.flat_map(move |provider_event| {
            let mut out = Vec::new();
            match &provider_event {
                None if !ended => {
                    out.push(event(&encoder.failed(
                        "stream_interrupted",
                        "the provider ended without an answer",
                    )));
                    if let Some(record) = record.take() {
                        record.failed("stream_interrupted", axum::http::StatusCode::BAD_GATEWAY);
                    }
                }
                None => {}
                Some(StreamEvent::Error { error, .. }) => {
                    ended = true;
                    let error = GatewayError::Upstream(error.clone());
                    let body = error.body();
                    let code = body.error.code.unwrap_or_else(|| error.kind().to_owned());
                    out.push(event(&encoder.failed(&code, &body.error.message)));
                    if let Some(record) = record.take() {
                        record.failed(error.kind(), error.status());
                    }
                }
                Some(provider_event @ StreamEvent::Done { message }) => {
                    ended = true;
                    let events = encoder.encode(provider_event);
                    if let Some(last) = events.last().filter(|_| hold) {
                        state.response_items.hold(&last["response"]);
                    }
                    out.extend(events.iter().map(event));
                    state.runtime.signatures().remember(message);
                    if let Some(record) = record.take() {
                        record.finished(message, &prices.serving(message.service_tier.as_deref()));
                    }
                }
                Some(provider_event) => {
                    out.extend(encoder.encode(provider_event).iter().map(event))
                }
            }
            futures_util::stream::iter(out)
        }))
        .map(Ok)
}
