//! Event-stream encoding of replies, framed with `aws-smithy-eventstream` exactly as Bedrock
//! frames them: string headers `:event-type`, `:content-type`, `:message-type`, and a `p`
//! padding field in every event payload.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::faults::StreamException;
use crate::script::{Block, Reply};

/// Content type of a ConverseStream response.
pub const EVENT_STREAM_CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// One encoded frame and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The encoded message.
    pub bytes: Bytes,
    /// Whether it is a `contentBlockDelta`.
    pub is_delta: bool,
}

fn string_header(name: &'static str, value: &'static str) -> Header {
    Header::new(name, HeaderValue::String(value.into()))
}

fn encode(message: &Message) -> Bytes {
    let mut out = Vec::with_capacity(message.payload().len() + 96);
    // Writing to a Vec cannot run out of space; the only failure is an oversized message.
    match write_message_to(message, &mut out) {
        Ok(()) => Bytes::from(out),
        Err(_) => Bytes::new(),
    }
}

/// Encodes one event with its padding.
pub fn event(event_type: &'static str, payload: Value, pad_len: usize) -> Bytes {
    let mut payload = match payload {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let pad = PADDING
        .get(..pad_len.min(PADDING.len()))
        .unwrap_or_default();
    payload.insert("p".into(), Value::String(pad.to_owned()));
    let body = Value::Object(payload).to_string();
    let message = Message::new(body.into_bytes())
        .add_header(string_header(":event-type", event_type))
        .add_header(string_header(":content-type", "application/json"))
        .add_header(string_header(":message-type", "event"));
    encode(&message)
}

/// Encodes an in-stream exception frame.
pub fn exception(kind: StreamException) -> Bytes {
    let message = Message::new(kind.payload().to_string().into_bytes())
        .add_header(string_header(":exception-type", kind.name()))
        .add_header(string_header(":content-type", "application/json"))
        .add_header(string_header(":message-type", "exception"));
    encode(&message)
}

/// Deterministic padding lengths, varying from frame to frame like Bedrock's.
#[derive(Debug)]
struct Pad(u64);

impl Pad {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        1 + ((self.0 >> 33) % 60) as usize
    }
}

/// All frames of a scripted reply, in order.
pub fn reply_frames(reply: &Reply, latency_ms: u64, seed: u64) -> Vec<Frame> {
    let mut pad = Pad(seed);
    let mut frames = Vec::new();
    let mut push = |event_type: &'static str, payload: Value, is_delta: bool, pad: &mut Pad| {
        frames.push(Frame {
            bytes: event(event_type, payload, pad.next()),
            is_delta,
        });
    };
    push(
        "messageStart",
        json!({ "role": "assistant" }),
        false,
        &mut pad,
    );
    for (index, block) in reply.blocks.iter().enumerate() {
        let delta = |d: Value| json!({ "contentBlockIndex": index, "delta": d });
        match block {
            Block::Text(pieces) => {
                for piece in pieces {
                    push(
                        "contentBlockDelta",
                        delta(json!({ "text": piece })),
                        true,
                        &mut pad,
                    );
                }
            }
            Block::Reasoning { pieces, signature } => {
                for piece in pieces {
                    push(
                        "contentBlockDelta",
                        delta(json!({ "reasoningContent": { "text": piece } })),
                        true,
                        &mut pad,
                    );
                }
                push(
                    "contentBlockDelta",
                    delta(json!({ "reasoningContent": { "signature": signature } })),
                    true,
                    &mut pad,
                );
            }
            Block::Redacted(bytes) => push(
                "contentBlockDelta",
                delta(json!({ "reasoningContent": { "redactedContent": BASE64.encode(bytes) } })),
                true,
                &mut pad,
            ),
            Block::ToolUse { id, name, pieces } => {
                push(
                    "contentBlockStart",
                    json!({ "contentBlockIndex": index, "start": { "toolUse": { "toolUseId": id, "name": name } } }),
                    false,
                    &mut pad,
                );
                for piece in pieces {
                    push(
                        "contentBlockDelta",
                        delta(json!({ "toolUse": { "input": piece } })),
                        true,
                        &mut pad,
                    );
                }
            }
        }
        push(
            "contentBlockStop",
            json!({ "contentBlockIndex": index }),
            false,
            &mut pad,
        );
    }
    push(
        "messageStop",
        json!({ "stopReason": reply.stop_reason }),
        false,
        &mut pad,
    );
    push("metadata", metadata(reply, latency_ms), false, &mut pad);
    frames
}

/// The `metadata` of an answer: usage, metrics, and the trace, tier and latency when present.
fn metadata(reply: &Reply, latency_ms: u64) -> Value {
    let mut metadata =
        json!({ "usage": reply.usage.to_json(), "metrics": { "latencyMs": latency_ms } });
    if let Some(trace) = &reply.trace {
        metadata["trace"] = trace.clone();
    }
    if let Some(tier) = &reply.service_tier {
        metadata["serviceTier"] = json!({ "type": tier });
    }
    if let Some(latency) = &reply.latency {
        metadata["performanceConfig"] = json!({ "latency": latency });
    }
    metadata
}

/// The body of a `Converse` answer.
pub fn converse_body(reply: &Reply, latency_ms: u64) -> Value {
    let content: Vec<Value> = reply.blocks.iter().map(Block::to_content).collect();
    let mut body = metadata(reply, latency_ms);
    body["output"] = json!({ "message": { "content": content, "role": "assistant" } });
    body["stopReason"] = json!(reply.stop_reason);
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::read_message_from;

    #[test]
    fn frames_carry_bedrock_headers_and_padding() {
        let bytes = event("messageStart", json!({"role": "assistant"}), 5);
        let message = read_message_from(bytes).unwrap();
        let names: Vec<&str> = message
            .headers()
            .iter()
            .map(|h| h.name().as_str())
            .collect();
        assert_eq!(names, [":event-type", ":content-type", ":message-type"]);
        let payload: Value = serde_json::from_slice(message.payload()).unwrap();
        assert_eq!(payload["p"], "abcde");
        assert_eq!(payload["role"], "assistant");
    }

    #[test]
    fn exception_frames_name_the_exception() {
        let message = read_message_from(exception(StreamException::Throttling)).unwrap();
        let kind = message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == ":exception-type")
            .unwrap();
        assert_eq!(
            kind.value().as_string().unwrap().as_str(),
            "throttlingException"
        );
    }
}
