//! Provider events → the Responses API's Response object and streamed events.
//!
//! Each content block of the answer is one output item, in order: reasoning (its text as the
//! summary, sealed with its signature in `encrypted_content`), a message with one `output_text`
//! part (citations as annotations), or a `function_call`. Item ids derive from the response id
//! and the block's index, so the streamed items and the final Response object agree.

use std::collections::BTreeMap;

use pincer_core::{AssistantContent, AssistantMessage, Citation, StopReason, StreamEvent, Usage};
use serde_json::{Value, json};

use super::request::{Echo, seal};

/// The id of the item for content block `index` of response `id`.
fn item_id(prefix: &str, id: &str, index: usize) -> String {
    let suffix = id.strip_prefix("resp_").unwrap_or(id);
    format!("{prefix}_{suffix}{index:03}")
}

/// Usage in the Responses API's terms: input counts cached tokens, read and written. Bedrock does
/// not count reasoning tokens apart, so `output_tokens_details` is left out rather than given as 0.
pub fn usage(usage: Usage) -> Value {
    let input = usage.input + usage.cache_read + usage.cache_write;
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": usage.cache_read, "cache_write_tokens": usage.cache_write},
        "output_tokens": usage.output,
        "total_tokens": input + usage.output,
    })
}

/// The annotation for `citation` over characters `start..end` of its text.
fn annotation(citation: &Citation, start: usize, end: usize) -> Value {
    if let Some(web) = citation.location.get("web") {
        return json!({
            "type": "url_citation",
            "url": web.get("url").and_then(Value::as_str).unwrap_or_default(),
            "title": citation.title.clone().unwrap_or_default(),
            "start_index": start,
            "end_index": end,
        });
    }
    // A document citation: the document's name, where it sits in the text, and (extension
    // fields) what was cited and where in the document.
    let name = citation
        .title
        .clone()
        .unwrap_or_else(|| "document".to_owned());
    json!({
        "type": "file_citation",
        "file_id": name,
        "filename": name,
        "index": end,
        "start_index": start,
        "end_index": end,
        "cited_text": citation.source_text.concat(),
        "location": citation.location,
    })
}

fn annotations(citations: &[Citation], index: usize, length: usize) -> Vec<Value> {
    citations
        .iter()
        .filter(|c| c.index == index)
        .map(|c| annotation(c, 0, length))
        .collect()
}

fn output_text(text: &str, annotations: Vec<Value>) -> Value {
    json!({"type": "output_text", "text": text, "annotations": annotations, "logprobs": []})
}

/// The output item for content block `index` of a finished answer by `origin`.
fn output_item(
    id: &str,
    index: usize,
    block: &AssistantContent,
    citations: &[Citation],
    origin: &(String, String),
) -> Value {
    let seal = |block: &AssistantContent| seal(block, &origin.0, &origin.1);
    match block {
        AssistantContent::Text { text } => json!({
            "type": "message",
            "id": item_id("msg", id, index),
            "status": "completed",
            "role": "assistant",
            "content": [output_text(text, annotations(citations, index, text.chars().count()))],
        }),
        AssistantContent::Thinking { text, .. } => json!({
            "type": "reasoning",
            "id": item_id("rs", id, index),
            "summary": [{"type": "summary_text", "text": text}],
            "encrypted_content": seal(block),
        }),
        AssistantContent::RedactedThinking { .. } => json!({
            "type": "reasoning",
            "id": item_id("rs", id, index),
            "summary": [],
            "encrypted_content": seal(block),
        }),
        AssistantContent::ToolCall(call) => json!({
            "type": "function_call",
            "id": item_id("fc", id, index),
            "status": "completed",
            "call_id": call.id,
            "name": call.name,
            "arguments": call.arguments.to_string(),
        }),
    }
}

/// `status` and `incomplete_details` for a stop reason.
fn status(stop: StopReason) -> (&'static str, Value) {
    match stop {
        StopReason::Length => ("incomplete", json!({"reason": "max_output_tokens"})),
        StopReason::ContentFiltered | StopReason::Guardrail => {
            ("incomplete", json!({"reason": "content_filter"}))
        }
        _ => ("completed", Value::Null),
    }
}

/// What a Response object says besides its output.
#[derive(Debug, Clone)]
pub struct Header {
    /// `resp_…`.
    pub id: String,
    /// The catalog key of the model answering.
    pub model: String,
    /// Unix time.
    pub created: u64,
    /// The request's settings.
    pub echo: Echo,
    /// `(provider, model id)` of the model answering, recorded with its sealed reasoning.
    pub origin: (String, String),
}

impl Header {
    /// A Response object with `status` and `output`; the caller adds the rest.
    fn object(&self, status: &str, output: Vec<Value>) -> Value {
        let echo = &self.echo;
        json!({
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "model": self.model,
            "output": output,
            "error": null,
            "incomplete_details": null,
            "instructions": echo.instructions,
            "tools": echo.tools,
            "tool_choice": echo.tool_choice,
            "parallel_tool_calls": echo.parallel_tool_calls,
            "temperature": echo.temperature,
            "top_p": echo.top_p,
            "max_output_tokens": echo.max_output_tokens,
            "text": echo.text,
            "reasoning": echo.reasoning,
            "metadata": echo.metadata,
            "user": echo.user,
            "safety_identifier": echo.safety_identifier,
            "prompt_cache_key": echo.prompt_cache_key,
            "previous_response_id": null,
            "store": false,
            "background": false,
            "truncation": "disabled",
            "usage": null,
        })
    }

    /// The whole Response object for a finished answer.
    pub fn finished(&self, message: &AssistantMessage) -> Value {
        let output = message
            .content
            .iter()
            .enumerate()
            .map(|(i, block)| output_item(&self.id, i, block, &message.citations, &self.origin))
            .collect();
        self.finished_with(message, output)
    }

    /// The Response object for a finished answer whose output items are `output` (a stream's
    /// own, as they were sent).
    fn finished_with(&self, message: &AssistantMessage, output: Vec<Value>) -> Value {
        let (status, incomplete) = status(message.stop_reason);
        let mut object = self.object(status, output);
        object["incomplete_details"] = incomplete;
        object["usage"] = usage(message.usage);
        if let Some(tier) = &message.service_tier {
            object["service_tier"] = json!(tier);
        }
        // Extension fields: Bedrock's own stop reason when it says more, and a guardrail's trace.
        if let Some(detail) = &message.stop_detail {
            object["stop_reason"] = json!(detail);
        }
        if let Some(trace) = &message.guardrail_trace {
            object["guardrail_trace"] = trace.clone();
        }
        object
    }

    /// A Response object for an answer that failed after it began.
    fn failed(&self, output: Vec<Value>, code: &str, message: &str) -> Value {
        let mut object = self.object("failed", output);
        object["error"] = json!({"code": code, "message": message});
        object
    }
}

/// An output item being streamed.
#[derive(Debug)]
struct Open {
    output_index: usize,
    id: String,
    kind: Kind,
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Message,
    Reasoning,
    Call { call_id: String, name: String },
}

/// Turns a provider's events into the Responses API's streamed events, numbered in order.
#[derive(Debug)]
pub struct EventEncoder {
    header: Header,
    sequence: u64,
    next_output: usize,
    open: BTreeMap<usize, Open>,
    /// Items finished so far (for a failed response).
    done: Vec<Value>,
    citations: Vec<Citation>,
}

impl EventEncoder {
    /// An encoder for the response `header` describes.
    pub fn new(header: Header) -> Self {
        Self {
            header,
            sequence: 0,
            next_output: 0,
            open: BTreeMap::new(),
            done: Vec::new(),
            citations: Vec::new(),
        }
    }

    fn event(&mut self, kind: &str, mut body: Value) -> Value {
        body["type"] = json!(kind);
        body["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        body
    }

    /// `response.created` and `response.in_progress`.
    pub fn start(&mut self) -> Vec<Value> {
        let object = self.header.object("in_progress", Vec::new());
        vec![
            self.event("response.created", json!({"response": object.clone()})),
            self.event("response.in_progress", json!({"response": object})),
        ]
    }

    /// Opens the item for block `index` unless it is open.
    fn open(&mut self, index: usize, kind: Kind, out: &mut Vec<Value>) {
        if self.open.contains_key(&index) {
            return;
        }
        let output_index = self.next_output;
        self.next_output += 1;
        let (id, item) = match &kind {
            Kind::Message => {
                let id = item_id("msg", &self.header.id, index);
                let item = json!({"type": "message", "id": id, "status": "in_progress", "role": "assistant", "content": []});
                (id, item)
            }
            Kind::Reasoning => {
                let id = item_id("rs", &self.header.id, index);
                (
                    id.clone(),
                    json!({"type": "reasoning", "id": id, "summary": []}),
                )
            }
            Kind::Call { call_id, name } => {
                let id = item_id("fc", &self.header.id, index);
                let item = json!({"type": "function_call", "id": id, "status": "in_progress", "call_id": call_id, "name": name, "arguments": ""});
                (id, item)
            }
        };
        out.push(self.event(
            "response.output_item.added",
            json!({"output_index": output_index, "item": item}),
        ));
        match &kind {
            Kind::Message => out.push(self.event(
                "response.content_part.added",
                json!({"item_id": id, "output_index": output_index, "content_index": 0, "part": output_text("", Vec::new())}),
            )),
            // The summary part opens with the first reasoning text (redacted reasoning has none).
            Kind::Reasoning | Kind::Call { .. } => {}
        }
        self.open.insert(
            index,
            Open {
                output_index,
                id,
                kind,
                text: String::new(),
            },
        );
    }

    /// Closes the item for block `index`; `block` is the finished block, when known.
    fn close(&mut self, index: usize, block: Option<AssistantContent>, out: &mut Vec<Value>) {
        let Some(open) = self.open.remove(&index) else {
            return;
        };
        let Open {
            output_index,
            id,
            kind,
            text,
        } = open;
        let item = match kind {
            Kind::Message => {
                let length = text.chars().count();
                let annotations = annotations(&self.citations, index, length);
                out.push(self.event(
                    "response.output_text.done",
                    json!({"item_id": id, "output_index": output_index, "content_index": 0, "text": text, "logprobs": []}),
                ));
                for (i, annotation) in annotations.iter().enumerate() {
                    out.push(self.event(
                        "response.output_text.annotation.added",
                        json!({"item_id": id, "output_index": output_index, "content_index": 0, "annotation_index": i, "annotation": annotation}),
                    ));
                }
                let part = output_text(&text, annotations);
                out.push(self.event(
                    "response.content_part.done",
                    json!({"item_id": id, "output_index": output_index, "content_index": 0, "part": part}),
                ));
                json!({"type": "message", "id": id, "status": "completed", "role": "assistant", "content": [part]})
            }
            Kind::Reasoning => {
                let block = block.unwrap_or(AssistantContent::Thinking {
                    text: text.clone(),
                    signature: None,
                });
                let summary = match &block {
                    AssistantContent::RedactedThinking { .. } => Vec::new(),
                    _ if text.is_empty() => Vec::new(),
                    _ => vec![json!({"type": "summary_text", "text": text})],
                };
                if !summary.is_empty() {
                    out.push(self.event(
                        "response.reasoning_summary_text.done",
                        json!({"item_id": id, "output_index": output_index, "summary_index": 0, "text": text}),
                    ));
                    out.push(self.event(
                        "response.reasoning_summary_part.done",
                        json!({"item_id": id, "output_index": output_index, "summary_index": 0, "part": summary[0]}),
                    ));
                }
                let sealed = seal(&block, &self.header.origin.0, &self.header.origin.1);
                json!({"type": "reasoning", "id": id, "summary": summary, "encrypted_content": sealed})
            }
            Kind::Call { call_id, name } => {
                // The text streamed, when it is the call's arguments (so the deltas add up to
                // them), else the arguments as parsed.
                let arguments = match block {
                    Some(AssistantContent::ToolCall(call)) => {
                        let streamed: Option<Value> = serde_json::from_str(&text).ok();
                        if streamed.as_ref() == Some(&call.arguments) {
                            text
                        } else {
                            call.arguments.to_string()
                        }
                    }
                    _ => text,
                };
                out.push(self.event(
                    "response.function_call_arguments.done",
                    json!({"item_id": id, "output_index": output_index, "name": name, "arguments": arguments}),
                ));
                json!({"type": "function_call", "id": id, "status": "completed", "call_id": call_id, "name": name, "arguments": arguments})
            }
        };
        self.done.push(item.clone());
        out.push(self.event(
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        ));
    }

    /// The events for one provider event.
    pub fn encode(&mut self, event: &StreamEvent) -> Vec<Value> {
        let mut out = Vec::new();
        match event {
            StreamEvent::Start => {}
            StreamEvent::TextStart { index } => self.open(*index, Kind::Message, &mut out),
            StreamEvent::TextDelta { index, delta } => {
                self.open(*index, Kind::Message, &mut out);
                if let Some(open) = self.open.get_mut(index) {
                    open.text.push_str(delta);
                    let (id, output_index) = (open.id.clone(), open.output_index);
                    out.push(self.event(
                        "response.output_text.delta",
                        json!({"item_id": id, "output_index": output_index, "content_index": 0, "delta": delta, "logprobs": []}),
                    ));
                }
            }
            StreamEvent::TextEnd { index } => self.close(*index, None, &mut out),
            StreamEvent::ThinkingStart { index } => self.open(*index, Kind::Reasoning, &mut out),
            StreamEvent::ThinkingDelta { index, delta } => {
                self.open(*index, Kind::Reasoning, &mut out);
                if let Some(open) = self.open.get_mut(index) {
                    let first = open.text.is_empty();
                    open.text.push_str(delta);
                    let (id, output_index) = (open.id.clone(), open.output_index);
                    if first {
                        out.push(self.event(
                            "response.reasoning_summary_part.added",
                            json!({"item_id": id, "output_index": output_index, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}),
                        ));
                    }
                    out.push(self.event(
                        "response.reasoning_summary_text.delta",
                        json!({"item_id": id, "output_index": output_index, "summary_index": 0, "delta": delta}),
                    ));
                }
            }
            StreamEvent::ThinkingEnd { index, signature } => {
                let text = self
                    .open
                    .get(index)
                    .map(|o| o.text.clone())
                    .unwrap_or_default();
                let block = AssistantContent::Thinking {
                    text,
                    signature: signature.clone(),
                };
                self.close(*index, Some(block), &mut out);
            }
            StreamEvent::RedactedThinking { index, data } => {
                self.open(*index, Kind::Reasoning, &mut out);
                let block = AssistantContent::RedactedThinking { data: data.clone() };
                self.close(*index, Some(block), &mut out);
            }
            StreamEvent::Citation { citation } => self.citations.push(citation.clone()),
            StreamEvent::ToolCallStart { index, id, name } => self.open(
                *index,
                Kind::Call {
                    call_id: id.clone(),
                    name: name.clone(),
                },
                &mut out,
            ),
            StreamEvent::ToolCallDelta { index, delta } => {
                if let Some(open) = self.open.get_mut(index) {
                    open.text.push_str(delta);
                    let (id, output_index) = (open.id.clone(), open.output_index);
                    out.push(self.event(
                        "response.function_call_arguments.delta",
                        json!({"item_id": id, "output_index": output_index, "delta": delta}),
                    ));
                }
            }
            StreamEvent::ToolCallEnd { index, call } => {
                if !self.open.contains_key(index) {
                    self.open(
                        *index,
                        Kind::Call {
                            call_id: call.id.clone(),
                            name: call.name.clone(),
                        },
                        &mut out,
                    );
                }
                self.close(
                    *index,
                    Some(AssistantContent::ToolCall(call.clone())),
                    &mut out,
                );
            }
            StreamEvent::Done { message } => {
                let open: Vec<usize> = self.open.keys().copied().collect();
                for index in open {
                    let block = message.content.get(index).cloned();
                    self.close(index, block, &mut out);
                }
                let object = self.header.finished_with(message, self.done.clone());
                let kind = if object["status"] == "completed" {
                    "response.completed"
                } else {
                    "response.incomplete"
                };
                out.push(self.event(kind, json!({"response": object})));
            }
            StreamEvent::Error { .. } => {}
        }
        out
    }

    /// `response.failed` for an answer that failed after it began: the items finished so far,
    /// and the error's code (one of the API's, `server_error` for the others, whose own code is
    /// in the extension field `pincer_code`) and message.
    pub fn failed(&mut self, code: &str, message: &str) -> Value {
        const CODES: [&str; 3] = ["server_error", "rate_limit_exceeded", "invalid_prompt"];
        let api_code = if CODES.contains(&code) {
            code
        } else {
            "server_error"
        };
        let mut object = self.header.failed(self.done.clone(), api_code, message);
        if api_code != code {
            object["error"]["pincer_code"] = json!(code);
        }
        self.event("response.failed", json!({"response": object}))
    }
}

#[cfg(test)]
mod tests {
    use pincer_core::ToolCall;

    use super::*;

    fn header() -> Header {
        Header {
            id: "resp_abc".into(),
            model: "amazon-bedrock/m".into(),
            created: 1,
            echo: Echo::default(),
            origin: ("amazon-bedrock".into(), "m".into()),
        }
    }

    #[test]
    fn streamed_items_match_the_final_object() {
        let mut encoder = EventEncoder::new(header());
        let call = ToolCall {
            id: "c1".into(),
            name: "f".into(),
            arguments: json!({"a": 1}),
        };
        let message = AssistantMessage {
            content: vec![
                AssistantContent::Thinking {
                    text: "hm".into(),
                    signature: Some("sig".into()),
                },
                AssistantContent::Text { text: "ok".into() },
                AssistantContent::ToolCall(call.clone()),
            ],
            stop_reason: StopReason::ToolUse,
            ..AssistantMessage::default()
        };
        let mut events = encoder.start();
        for event in [
            StreamEvent::Start,
            StreamEvent::ThinkingDelta {
                index: 0,
                delta: "hm".into(),
            },
            StreamEvent::ThinkingEnd {
                index: 0,
                signature: Some("sig".into()),
            },
            StreamEvent::TextDelta {
                index: 1,
                delta: "ok".into(),
            },
            StreamEvent::TextEnd { index: 1 },
            StreamEvent::ToolCallStart {
                index: 2,
                id: "c1".into(),
                name: "f".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 2,
                delta: "{\"a\":1}".into(),
            },
            StreamEvent::ToolCallEnd { index: 2, call },
            StreamEvent::Done {
                message: message.clone(),
            },
        ] {
            events.extend(encoder.encode(&event));
        }
        let numbers: Vec<u64> = events
            .iter()
            .map(|e| e["sequence_number"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>());
        let done: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "response.output_item.done")
            .map(|e| &e["item"])
            .collect();
        let last = events.last().unwrap();
        assert_eq!(last["type"], "response.completed");
        let output = last["response"]["output"].as_array().unwrap();
        assert_eq!(done.len(), 3);
        for (streamed, final_item) in done.iter().zip(output) {
            assert_eq!(*streamed, final_item);
        }
        assert_eq!(output[2]["arguments"], "{\"a\":1}");
        assert!(
            output[0]["encrypted_content"]
                .as_str()
                .unwrap()
                .starts_with("pincer.v1.")
        );
    }

    #[test]
    fn a_cut_answer_is_incomplete_with_its_reason() {
        let message = AssistantMessage {
            content: vec![AssistantContent::Text { text: "par".into() }],
            stop_reason: StopReason::Length,
            ..AssistantMessage::default()
        };
        let object = header().finished(&message);
        assert_eq!(object["status"], "incomplete");
        assert_eq!(object["incomplete_details"]["reason"], "max_output_tokens");
    }
}
