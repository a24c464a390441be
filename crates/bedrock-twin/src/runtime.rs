//! The runtime (`bedrock-runtime`): `Converse` and `ConverseStream` with scripted replies,
//! faults, knobs and replay.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::{Value, json};

use crate::error::AwsError;
use crate::faults::{self, Fault, UnknownFault};
use crate::features;
use crate::replay::{self, REPLAY_HEADER};
use crate::script;
use crate::state::StreamGuard;
use crate::state::{AppState, RequestCtx};
use crate::stream::{self as frames, EVENT_STREAM_CONTENT_TYPE, Frame};
use crate::validate;

/// Separator between a model id and a twin directive (`~throttle`, `~replay=path.bin`).
pub(crate) const DIRECTIVE_SEPARATOR: char = '~';

/// `POST /model/{modelId}/converse`.
pub(crate) async fn converse(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    Extension(ctx): Extension<RequestCtx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&state, &model, &ctx, &headers, &body, false)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /model/{modelId}/converse-stream`.
pub(crate) async fn converse_stream(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    Extension(ctx): Extension<RequestCtx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&state, &model, &ctx, &headers, &body, true)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /model/{modelId}/count-tokens`: the input tokens of a Converse request (`input.converse`)
/// as the twin counts them for that request's usage, for the Claude models CountTokens serves,
/// by their foundation-model id (Bedrock refuses inference-profile ids here).
pub(crate) async fn count_tokens(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    Extension(ctx): Extension<RequestCtx>,
    body: Bytes,
) -> Response {
    count(&state, &model, &ctx, &body).unwrap_or_else(IntoResponse::into_response)
}

fn count(
    state: &AppState,
    model: &str,
    ctx: &RequestCtx,
    body: &[u8],
) -> Result<Response, AwsError> {
    let (model_id, _) = split_model(model)?;
    let _ = ctx;
    let invocable = state.catalogue.count_target(model_id)?;
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| AwsError::serialization(format!("Could not parse the request body: {e}")))?;
    let Some(converse) = request.pointer("/input/converse") else {
        return Err(AwsError::validation(
            "1 validation error detected: Value null at 'input' failed to satisfy constraint: Member must not be null",
        ));
    };
    if invocable.provider != "Anthropic" {
        return Err(AwsError::validation(
            "The provided model doesn't support counting tokens.",
        ));
    }
    state.receive(&request);
    let checked = validate::check(converse, &invocable)?;
    features::check(converse, &invocable, checked.thinking)?;
    // As the request's usage counts it: input (at least one token) plus what a cache holds.
    let total = validate::estimate_tokens(&validate::all_text(converse)) as u64;
    let cached = script::cache_prefix(converse).map_or(0, |prefix| {
        (validate::estimate_tokens(&prefix) as u64).min(total)
    });
    let tokens = total.saturating_sub(cached).max(1) + cached;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        json!({"inputTokens": tokens}).to_string(),
    )
        .into_response())
}

/// `POST /model/{modelId}/invoke`: an embedding model's InvokeModel (`crate::embed`); faults
/// named on the model id (`~throttle`, …) apply as on Converse.
pub(crate) async fn invoke(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    Extension(ctx): Extension<RequestCtx>,
    body: Bytes,
) -> Response {
    embed_answer(&state, &model, &ctx, &body).unwrap_or_else(IntoResponse::into_response)
}

fn embed_answer(
    state: &AppState,
    model: &str,
    ctx: &RequestCtx,
    body: &[u8],
) -> Result<Response, AwsError> {
    let (model_id, directive) = split_model(model)?;
    if let Directive::Fault(f) = directive {
        faults::pre_response(f, &state.fail_counters, &format!("{f:?}|{}", ctx.fault_key))?;
    }
    let model_id = state.catalogue.embedding_model(model_id)?;
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| AwsError::serialization(format!("Could not parse the request body: {e}")))?;
    state.receive(&request);
    let (answer, tokens) = crate::embed::answer(&model_id, &request)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::HeaderName::from_static(crate::embed::INPUT_TOKENS_HEADER),
                tokens.to_string(),
            ),
        ],
        answer.to_string(),
    )
        .into_response())
}

enum Directive<'a> {
    None,
    Replay(&'a str),
    Fault(Fault),
}

fn split_model(model: &str) -> Result<(&str, Directive<'_>), AwsError> {
    let Some((id, directive)) = model.split_once(DIRECTIVE_SEPARATOR) else {
        return Ok((model, Directive::None));
    };
    if let Some(path) = directive.strip_prefix("replay=") {
        return Ok((id, Directive::Replay(path)));
    }
    let fault = directive
        .parse()
        .map_err(|e: UnknownFault| AwsError::validation(e.to_string()))?;
    Ok((id, Directive::Fault(fault)))
}

async fn handle(
    state: &AppState,
    model: &str,
    ctx: &RequestCtx,
    headers: &HeaderMap,
    body: &[u8],
    streaming: bool,
) -> Result<Response, AwsError> {
    let (model_id, directive) = split_model(model)?;
    let replay_header = headers.get(REPLAY_HEADER).and_then(|v| v.to_str().ok());
    let mut fault = ctx.fault;
    match directive {
        Directive::Replay(path) => return replay::serve(state.vectors_dir.as_deref(), path).await,
        Directive::Fault(Fault::Hangup) => return Ok(faults::hangup()),
        Directive::Fault(f) => {
            faults::pre_response(f, &state.fail_counters, &format!("{f:?}|{}", ctx.fault_key))?;
            fault = Some(f);
        }
        Directive::None => {}
    }
    if let Some(path) = replay_header {
        return replay::serve(state.vectors_dir.as_deref(), path).await;
    }
    let invocable = state
        .catalogue
        .resolve_invocation(model_id, ctx.region.as_deref())?;
    if streaming && !invocable.streaming {
        return Err(AwsError::validation(
            "The model is unsupported for streaming. Try again with a model that supports streaming.",
        ));
    }
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| AwsError::serialization(format!("Could not parse the request body: {e}")))?;
    state.receive(&request);
    let checked = validate::check(&request, &invocable)?;
    let features = features::check(&request, &invocable, checked.thinking)?;
    let knobs = state.knobs.with_headers(headers);
    let mut reply = script::reply(
        &request,
        &invocable.model_id,
        &checked,
        &knobs,
        &state.cache,
    );
    reply.apply(&features, knobs.delta_size.max(1));
    if fault == Some(Fault::Empty) {
        reply.blocks.clear();
        reply.usage.output = 0;
        reply.stop_reason = "end_turn".to_owned();
    }
    let delay = match fault {
        Some(Fault::Slow { ms }) => Duration::from_millis(ms),
        _ => knobs.effective_delay(),
    };
    let deltas = reply
        .blocks
        .iter()
        .map(script::Block::delta_count)
        .sum::<usize>();
    let latency_ms = u64::try_from(delay.as_millis())
        .unwrap_or(u64::MAX)
        .saturating_mul(deltas as u64);
    if !streaming {
        return converse_answer(&reply, latency_ms, fault, delay, deltas).await;
    }
    let mut frames = frames::reply_frames(&reply, latency_ms, ctx.serial);
    if fault == Some(Fault::Truncate) {
        // Without `messageStop` and `metadata`, the last two frames.
        frames.truncate(frames.len().saturating_sub(2));
    }
    Ok((
        [(header::CONTENT_TYPE, EVENT_STREAM_CONTENT_TYPE)],
        stream_body(frames, delay, fault, state.streams.start()),
    )
        .into_response())
}

async fn converse_answer(
    reply: &script::Reply,
    latency_ms: u64,
    fault: Option<Fault>,
    delay: Duration,
    deltas: usize,
) -> Result<Response, AwsError> {
    match fault {
        Some(Fault::Midstream { exception, .. }) => return Err(exception.as_http_error()),
        Some(Fault::Reset { .. }) => {
            let failing = stream::iter([Err::<Bytes, std::io::Error>(std::io::Error::other(
                "connection reset by fault injection",
            ))]);
            return Ok(Body::from_stream(failing).into_response());
        }
        Some(Fault::Stall { secs, .. }) => tokio::time::sleep(Duration::from_secs(secs)).await,
        _ => {}
    }
    let total = delay.saturating_mul(u32::try_from(deltas).unwrap_or(u32::MAX));
    if !total.is_zero() {
        tokio::time::sleep(total).await;
    }
    let mut body = frames::converse_body(reply, latency_ms);
    if fault == Some(Fault::Truncate)
        && let Some(fields) = body.as_object_mut()
    {
        fields.remove("stopReason");
    }
    let body = body.to_string();
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// One step of a streamed answer.
enum Step {
    Send(Duration, Bytes),
    Fail(Duration),
}

/// Pause before a reset, so that the frames before it leave the socket first.
const RESET_PAUSE: Duration = Duration::from_millis(20);

/// The frames to send, with their waits and the fault asked for. A fault "after N deltas" on a
/// reply with fewer comes right after its last delta (after `messageStart` when it has none):
/// a fault that was asked for always happens.
fn plan(frames: Vec<Frame>, delay: Duration, fault: Option<Fault>) -> Vec<Step> {
    let mut steps = Vec::with_capacity(frames.len() + 1);
    let mut sent_deltas = 0u32;
    // Where a fault the reply is too short for goes: after the last delta.
    let last_delta = frames.iter().rposition(|f| f.is_delta).unwrap_or(0);
    let mut stalled = false;
    for (i, frame) in frames.into_iter().enumerate() {
        if frame.is_delta {
            match fault {
                Some(Fault::Midstream { exception, after }) if sent_deltas >= after => {
                    steps.push(Step::Send(Duration::ZERO, frames::exception(exception)));
                    return steps;
                }
                Some(Fault::Reset { after }) if sent_deltas >= after => {
                    steps.push(Step::Fail(RESET_PAUSE));
                    return steps;
                }
                _ => {}
            }
            sent_deltas += 1;
        }
        let mut wait = if frame.is_delta {
            delay
        } else {
            Duration::ZERO
        };
        // The silence comes after `messageStart`, or before the delta after the first `after`.
        if let Some(Fault::Stall { secs, after }) = fault
            && ((after == 0 && i == 1) || (after > 0 && frame.is_delta && sent_deltas == after + 1))
        {
            wait += Duration::from_secs(secs);
            stalled = true;
        }
        steps.push(Step::Send(wait, frame.bytes));
        if i == last_delta {
            match fault {
                Some(Fault::Midstream { exception, .. }) => {
                    steps.push(Step::Send(Duration::ZERO, frames::exception(exception)));
                    return steps;
                }
                Some(Fault::Reset { .. }) => {
                    steps.push(Step::Fail(RESET_PAUSE));
                    return steps;
                }
                Some(Fault::Stall { secs, .. }) if !stalled => {
                    // The silence before the frame after the last delta.
                    stalled = true;
                    steps.push(Step::Send(Duration::from_secs(secs), Bytes::new()));
                }
                _ => {}
            }
        }
    }
    steps
}

fn stream_body(
    frames: Vec<Frame>,
    delay: Duration,
    fault: Option<Fault>,
    guard: StreamGuard,
) -> Body {
    let steps = plan(frames, delay, fault);
    let immediate = steps
        .iter()
        .all(|s| matches!(s, Step::Send(wait, _) if wait.is_zero()));
    if immediate {
        let mut all = Vec::with_capacity(
            steps
                .iter()
                .map(|s| match s {
                    Step::Send(_, b) => b.len(),
                    Step::Fail(_) => 0,
                })
                .sum(),
        );
        for step in steps {
            if let Step::Send(_, bytes) = step {
                all.extend_from_slice(&bytes);
            }
        }
        guard.complete();
        return Body::from(all);
    }
    let body = stream::unfold(
        (steps.into_iter(), guard),
        |(mut steps, guard)| async move {
            let Some(step) = steps.next() else {
                guard.complete();
                return None;
            };
            match step {
                Step::Send(wait, bytes) => {
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    Some((Ok(bytes), (steps, guard)))
                }
                Step::Fail(wait) => {
                    tokio::time::sleep(wait).await;
                    Some((
                        Err(std::io::Error::other("connection reset by fault injection")),
                        (steps, guard),
                    ))
                }
            }
        },
    );
    Body::from_stream(body)
}
