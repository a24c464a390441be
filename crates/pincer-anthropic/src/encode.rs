//! Provider events → a Messages API `message`, or its server-sent events (`message_start`,
//! `ping`, `content_block_start` / `_delta` / `_stop`, `message_delta` with the stop reason and
//! usage, `message_stop`).
//!
//! Content blocks keep their order, numbered from 0. Thinking comes with its signature; when the
//! request asked for `display: "omitted"`, the thinking text is left out and the signature carries
//! the reasoning sealed with Bedrock's (see `pincer_core::sealed`), so the next turn still sends
//! Bedrock what it signed.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pincer_core::{AssistantContent, AssistantMessage, Citation, StopReason, StreamEvent, Usage};
use serde_json::{Value, json};

/// Anthropic's `stop_reason` for a message.
pub fn stop_reason(message: &AssistantMessage) -> &'static str {
    match message.stop_reason {
        StopReason::Length
            if message.stop_detail.as_deref() == Some("model_context_window_exceeded") =>
        {
            "model_context_window_exceeded"
        }
        StopReason::Length => "max_tokens",
        StopReason::ToolUse => "tool_use",
        StopReason::Guardrail | StopReason::ContentFiltered => "refusal",
        StopReason::Stop if message.stop_detail.as_deref() == Some("stop_sequence") => {
            "stop_sequence"
        }
        _ => "end_turn",
    }
}

/// Usage in Anthropic's terms: input without the cache's tokens, which are counted apart.
pub fn usage(usage: Usage, service_tier: Option<&str>) -> Value {
    json!({
        "input_tokens": usage.input,
        "cache_creation_input_tokens": usage.cache_write,
        "cache_read_input_tokens": usage.cache_read,
        "output_tokens": usage.output,
        "service_tier": match service_tier {
            Some("priority") => "priority",
            _ => "standard",
        },
    })
}

/// A Bedrock citation as an Anthropic citation object.
pub fn citation(citation: &Citation) -> Value {
    let cited = citation.source_text.concat();
    let title = citation.title.clone();
    let location = &citation.location;
    let number = |v: &Value, key: &str| v.get(key).and_then(Value::as_u64).unwrap_or(0);
    if let Some(at) = location.get("documentChar") {
        return json!({"type": "char_location", "cited_text": cited, "document_index": number(at, "documentIndex"),
            "document_title": title, "start_char_index": number(at, "start"), "end_char_index": number(at, "end")});
    }
    if let Some(at) = location.get("documentPage") {
        return json!({"type": "page_location", "cited_text": cited, "document_index": number(at, "documentIndex"),
            "document_title": title, "start_page_number": number(at, "start"), "end_page_number": number(at, "end")});
    }
    if let Some(at) = location.get("documentChunk") {
        return json!({"type": "content_block_location", "cited_text": cited, "document_index": number(at, "documentIndex"),
            "document_title": title, "start_block_index": number(at, "start"), "end_block_index": number(at, "end")});
    }
    if let Some(web) = location.get("web") {
        return json!({"type": "web_search_result_location", "cited_text": cited, "title": title,
            "url": web.get("url").and_then(Value::as_str).unwrap_or_default(), "encrypted_index": ""});
    }
    json!({"type": "char_location", "cited_text": cited, "document_index": 0, "document_title": title,
        "start_char_index": 0, "end_char_index": 0, "location": location})
}

fn thinking_signature(
    text: &str,
    signature: Option<&str>,
    display: bool,
    origin: &(String, String),
) -> Option<String> {
    if display {
        return signature.map(str::to_owned);
    }
    pincer_core::sealed::seal(
        &AssistantContent::Thinking {
            text: text.to_owned(),
            signature: signature.map(str::to_owned),
        },
        &origin.0,
        &origin.1,
    )
}

/// A content block of a finished message.
fn block(
    index: usize,
    content: &AssistantContent,
    citations: &[Citation],
    display: bool,
    origin: &(String, String),
) -> Value {
    match content {
        AssistantContent::Text { text } => {
            let mut out = json!({"type": "text", "text": text});
            let cited: Vec<Value> = citations
                .iter()
                .filter(|c| c.index == index)
                .map(citation)
                .collect();
            if !cited.is_empty() {
                out["citations"] = json!(cited);
            }
            out
        }
        AssistantContent::Thinking { text, signature } => json!({
            "type": "thinking",
            "thinking": if display { text.as_str() } else { "" },
            "signature": thinking_signature(text, signature.as_deref(), display, origin).unwrap_or_default(),
        }),
        AssistantContent::RedactedThinking { data } => {
            json!({"type": "redacted_thinking", "data": STANDARD.encode(data)})
        }
        AssistantContent::ToolCall(call) => {
            json!({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments})
        }
    }
}

/// What a message says besides its content.
#[derive(Debug, Clone)]
pub struct Header {
    /// `msg_…`.
    pub id: String,
    /// The model as the client named it.
    pub model: String,
    /// Whether thinking text is shown.
    pub display_thinking: bool,
    /// `(provider, model id)` of the model answering, recorded with sealed reasoning.
    pub origin: (String, String),
    /// The request's stop sequences: when it has one, a `stop_sequence` stop names it (Bedrock
    /// does not say which of several matched, and then `stop_sequence` is null).
    pub stop_sequences: Vec<String>,
}

impl Header {
    fn stop_sequence(&self, message: &AssistantMessage) -> Value {
        match self.stop_sequences.as_slice() {
            [one] if stop_reason(message) == "stop_sequence" => json!(one),
            _ => Value::Null,
        }
    }
}

impl Header {
    /// The whole message for a finished answer.
    pub fn message(&self, message: &AssistantMessage) -> Value {
        let content: Vec<Value> = message
            .content
            .iter()
            .enumerate()
            .map(|(i, c)| {
                block(
                    i,
                    c,
                    &message.citations,
                    self.display_thinking,
                    &self.origin,
                )
            })
            .collect();
        let mut out = json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop_reason(message),
            "stop_sequence": self.stop_sequence(message),
            "usage": usage(message.usage, message.service_tier.as_deref()),
        });
        // Extension field: a guardrail's trace.
        if let Some(trace) = &message.guardrail_trace {
            out["guardrail_trace"] = trace.clone();
        }
        out
    }
}

/// Turns a provider's events into the Messages API's events: `(event name, data)` pairs.
#[derive(Debug)]
pub struct EventEncoder {
    header: Header,
    /// Provider block index → (Anthropic index, thinking text so far, whether arguments came).
    open: BTreeMap<usize, (usize, String, bool)>,
    next: usize,
}

impl EventEncoder {
    /// An encoder for the message `header` describes.
    pub fn new(header: Header) -> Self {
        Self {
            header,
            open: BTreeMap::new(),
            next: 0,
        }
    }

    /// `message_start` and a `ping`.
    pub fn start(&self) -> Vec<(&'static str, Value)> {
        vec![
            (
                "message_start",
                json!({"type": "message_start", "message": {
                    "id": self.header.id, "type": "message", "role": "assistant", "model": self.header.model,
                    "content": [], "stop_reason": null, "stop_sequence": null,
                    "usage": {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0},
                }}),
            ),
            ("ping", json!({"type": "ping"})),
        ]
    }

    fn begin(
        &mut self,
        index: usize,
        content_block: Value,
        out: &mut Vec<(&'static str, Value)>,
    ) -> usize {
        if let Some((at, ..)) = self.open.get(&index) {
            return *at;
        }
        let at = self.next;
        self.next += 1;
        self.open.insert(index, (at, String::new(), false));
        out.push((
            "content_block_start",
            json!({"type": "content_block_start", "index": at, "content_block": content_block}),
        ));
        at
    }

    fn delta(at: usize, delta: Value) -> (&'static str, Value) {
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": at, "delta": delta}),
        )
    }

    fn stop(&mut self, index: usize, out: &mut Vec<(&'static str, Value)>) {
        if let Some((at, ..)) = self.open.remove(&index) {
            out.push((
                "content_block_stop",
                json!({"type": "content_block_stop", "index": at}),
            ));
        }
    }

    /// The events for one provider event (`Error` is the door's to say).
    pub fn encode(&mut self, event: &StreamEvent) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        let display = self.header.display_thinking;
        match event {
            StreamEvent::Start | StreamEvent::Error { .. } => {}
            StreamEvent::TextStart { index } => {
                self.begin(*index, json!({"type": "text", "text": ""}), &mut out);
            }
            StreamEvent::TextDelta { index, delta } => {
                let at = self.begin(*index, json!({"type": "text", "text": ""}), &mut out);
                out.push(Self::delta(
                    at,
                    json!({"type": "text_delta", "text": delta}),
                ));
            }
            StreamEvent::Citation { citation: c } => {
                let at = self.begin(c.index, json!({"type": "text", "text": ""}), &mut out);
                out.push(Self::delta(
                    at,
                    json!({"type": "citations_delta", "citation": citation(c)}),
                ));
            }
            StreamEvent::TextEnd { index } => self.stop(*index, &mut out),
            StreamEvent::ThinkingStart { index } => {
                self.begin(
                    *index,
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    &mut out,
                );
            }
            StreamEvent::ThinkingDelta { index, delta } => {
                let at = self.begin(
                    *index,
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    &mut out,
                );
                if let Some(open) = self.open.get_mut(index) {
                    open.1.push_str(delta);
                }
                if display {
                    out.push(Self::delta(
                        at,
                        json!({"type": "thinking_delta", "thinking": delta}),
                    ));
                }
            }
            StreamEvent::ThinkingEnd { index, signature } => {
                let at = self.begin(
                    *index,
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    &mut out,
                );
                let text = self
                    .open
                    .get(index)
                    .map(|o| o.1.clone())
                    .unwrap_or_default();
                if let Some(signature) =
                    thinking_signature(&text, signature.as_deref(), display, &self.header.origin)
                {
                    out.push(Self::delta(
                        at,
                        json!({"type": "signature_delta", "signature": signature}),
                    ));
                }
                self.stop(*index, &mut out);
            }
            StreamEvent::RedactedThinking { index, data } => {
                self.begin(
                    *index,
                    json!({"type": "redacted_thinking", "data": STANDARD.encode(data)}),
                    &mut out,
                );
                self.stop(*index, &mut out);
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                self.begin(
                    *index,
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    &mut out,
                );
            }
            StreamEvent::ToolCallDelta { index, delta } => {
                if let Some(open) = self.open.get_mut(index) {
                    open.2 = true;
                    let at = open.0;
                    out.push(Self::delta(
                        at,
                        json!({"type": "input_json_delta", "partial_json": delta}),
                    ));
                }
            }
            StreamEvent::ToolCallEnd { index, call } => {
                let at = self.begin(
                    *index,
                    json!({"type": "tool_use", "id": call.id, "name": call.name, "input": {}}),
                    &mut out,
                );
                // Arguments that came whole (or were reshaped) go out as one delta.
                if !self.open.get(index).is_some_and(|o| o.2) {
                    out.push(Self::delta(at, json!({"type": "input_json_delta", "partial_json": call.arguments.to_string()})));
                }
                self.stop(*index, &mut out);
            }
            StreamEvent::Done { message } => {
                let open: Vec<usize> = self.open.keys().copied().collect();
                for index in open {
                    self.stop(index, &mut out);
                }
                let mut delta = json!({"type": "message_delta",
                    "delta": {"stop_reason": stop_reason(message), "stop_sequence": self.header.stop_sequence(message)},
                    "usage": usage(message.usage, message.service_tier.as_deref())});
                if let Some(trace) = &message.guardrail_trace {
                    delta["guardrail_trace"] = trace.clone();
                }
                out.push(("message_delta", delta));
                out.push(("message_stop", json!({"type": "message_stop"})));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use pincer_core::ToolCall;

    use super::*;

    fn header(display_thinking: bool) -> Header {
        Header {
            id: "msg_1".into(),
            model: "claude-sonnet-4-5".into(),
            display_thinking,
            origin: ("amazon-bedrock".into(), "m".into()),
            stop_sequences: Vec::new(),
        }
    }

    #[test]
    fn events_number_blocks_from_zero_and_end_with_usage() {
        let mut encoder = EventEncoder::new(header(true));
        let call = ToolCall {
            id: "t1".into(),
            name: "f".into(),
            arguments: json!({"a": 1}),
        };
        let message = AssistantMessage {
            content: vec![
                AssistantContent::Thinking {
                    text: "hm".into(),
                    signature: Some("sig".into()),
                },
                AssistantContent::ToolCall(call.clone()),
            ],
            stop_reason: StopReason::ToolUse,
            ..AssistantMessage::default()
        };
        let mut events = encoder.start();
        for event in [
            StreamEvent::ThinkingDelta {
                index: 0,
                delta: "hm".into(),
            },
            StreamEvent::ThinkingEnd {
                index: 0,
                signature: Some("sig".into()),
            },
            StreamEvent::ToolCallStart {
                index: 1,
                id: "t1".into(),
                name: "f".into(),
            },
            StreamEvent::ToolCallEnd { index: 1, call },
            StreamEvent::Done { message },
        ] {
            events.extend(encoder.encode(&event));
        }
        let names: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "message_start",
                "ping",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(events[4].1["delta"]["signature"], "sig");
        assert_eq!(events[6].1["index"], 1);
        assert_eq!(events[7].1["delta"]["partial_json"], "{\"a\":1}");
        assert_eq!(events[9].1["delta"]["stop_reason"], "tool_use");
    }

    #[test]
    fn omitted_thinking_rides_in_the_signature() {
        let message = AssistantMessage {
            content: vec![AssistantContent::Thinking {
                text: "secret plan".into(),
                signature: Some("sig".into()),
            }],
            ..AssistantMessage::default()
        };
        let out = header(false).message(&message);
        assert_eq!(out["content"][0]["thinking"], "");
        let sealed = out["content"][0]["signature"].as_str().unwrap();
        assert_eq!(
            pincer_core::sealed::unseal(sealed).unwrap().unwrap().block,
            AssistantContent::Thinking {
                text: "secret plan".into(),
                signature: Some("sig".into())
            }
        );
    }
}
