//! Pincer stream events → OpenAI responses: a whole `chat.completion`, or streamed
//! `chat.completion.chunk`s.
//!
//! Tool calls get dense indexes in order of appearance (0, 1, …), whatever position the call has
//! among the message's content blocks; reasoning streams as `reasoning_content`, its signature
//! as the extension field `reasoning_signature`, redacted reasoning as `reasoning_redacted`
//! (base64). Citations become `annotations` of the text they support (`url_citation` for web
//! pages, `document_citation` for documents), with character offsets into the message's
//! content. The service tier that served the answer is `service_tier`; a guardrail's trace and
//! Bedrock's own stop reason, where Pincer's `finish_reason` says less, are the extension
//! fields `guardrail_trace` and `stop_reason` of the choice.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pincer_core::{AssistantContent, AssistantMessage, Citation, StopReason, StreamEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::types::{FunctionCall, ToolCallParam, UsageBody};

/// OpenAI's `finish_reason` for a stop reason.
pub fn finish_reason(stop: StopReason) -> &'static str {
    match stop {
        StopReason::Stop | StopReason::Error | StopReason::Aborted => "stop",
        StopReason::Length => "length",
        StopReason::ToolUse => "tool_calls",
        StopReason::Guardrail | StopReason::ContentFiltered => "content_filter",
    }
}

/// A whole response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChatCompletion {
    /// Response id.
    pub id: String,
    /// `chat.completion`.
    pub object: String,
    /// Unix time.
    pub created: u64,
    /// The model key.
    pub model: String,
    /// One choice.
    pub choices: Vec<Choice>,
    /// Tokens.
    pub usage: UsageBody,
    /// The service tier that served the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
}

/// The choice of a whole response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Choice {
    /// Always 0.
    pub index: u32,
    /// The answer.
    pub message: ResponseMessage,
    /// Why it stopped.
    pub finish_reason: String,
    /// Bedrock's own stop reason, where `finish_reason` says less (Pincer extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// The trace of the guardrail that intervened or traced (Pincer extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail_trace: Option<Value>,
}

/// The assistant message of a whole response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResponseMessage {
    /// `assistant`.
    pub role: String,
    /// Text (null when the answer is only tool calls).
    pub content: Option<String>,
    /// Reasoning text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Reasoning signature (Pincer extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_signature: Option<String>,
    /// Redacted reasoning, base64 (Pincer extension); send it back unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_redacted: Option<Vec<String>>,
    /// Tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallParam>>,
    /// Citations of the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Annotation>>,
}

/// A citation of a span of the message's text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Annotation {
    /// A web page (OpenAI's shape).
    UrlCitation {
        /// The span and the page.
        url_citation: UrlCitation,
    },
    /// A document the request carried.
    DocumentCitation {
        /// The span and the source.
        document_citation: DocumentCitation,
    },
}

/// `url_citation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UrlCitation {
    /// First character of the cited span in the content.
    pub start_index: usize,
    /// One past its last character.
    pub end_index: usize,
    /// The page's title.
    pub title: String,
    /// The page's URL.
    pub url: String,
}

/// `document_citation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DocumentCitation {
    /// First character of the cited span in the content.
    pub start_index: usize,
    /// One past its last character.
    pub end_index: usize,
    /// The document's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The quoted source text.
    pub cited_text: String,
    /// Where in the document (Bedrock's location: `documentChar`, `documentPage` or
    /// `documentChunk` with `documentIndex`, `start` and `end`).
    pub location: Value,
}

/// The annotation for `citation`, covering characters `start..end` of the content.
pub fn annotation(citation: &Citation, start: usize, end: usize) -> Annotation {
    if let Some(web) = citation.location.get("web") {
        return Annotation::UrlCitation {
            url_citation: UrlCitation {
                start_index: start,
                end_index: end,
                title: citation.title.clone().unwrap_or_default(),
                url: web
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            },
        };
    }
    Annotation::DocumentCitation {
        document_citation: DocumentCitation {
            start_index: start,
            end_index: end,
            title: citation.title.clone(),
            cited_text: citation.source_text.concat(),
            location: citation.location.clone(),
        },
    }
}

/// The annotations of `message`: each citation covers the text block it supports.
fn annotations(message: &AssistantMessage) -> Vec<Annotation> {
    let mut spans: HashMap<usize, (usize, usize)> = HashMap::new();
    let mut offset = 0;
    for (index, block) in message.content.iter().enumerate() {
        if let AssistantContent::Text { text } = block {
            let length = text.chars().count();
            spans.insert(index, (offset, offset + length));
            offset += length;
        }
    }
    message
        .citations
        .iter()
        .filter_map(|c| spans.get(&c.index).map(|(s, e)| annotation(c, *s, *e)))
        .collect()
}

/// A whole response from a finished message.
pub fn completion(
    message: &AssistantMessage,
    id: &str,
    model: &str,
    created: u64,
) -> ChatCompletion {
    let mut reasoning = String::new();
    let mut signature = None;
    let mut redacted = Vec::new();
    let mut calls = Vec::new();
    for block in &message.content {
        match block {
            AssistantContent::Thinking {
                text,
                signature: sig,
            } => {
                reasoning.push_str(text);
                if sig.is_some() {
                    signature.clone_from(sig);
                }
            }
            AssistantContent::ToolCall(call) => calls.push(ToolCallParam {
                id: call.id.clone(),
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: call.name.clone(),
                    arguments: call.arguments.to_string(),
                },
            }),
            AssistantContent::RedactedThinking { data } => redacted.push(STANDARD.encode(data)),
            AssistantContent::Text { .. } => {}
        }
    }
    let text = message.text();
    let annotations = annotations(message);
    ChatCompletion {
        id: id.to_owned(),
        object: "chat.completion".to_owned(),
        created,
        model: model.to_owned(),
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: "assistant".to_owned(),
                content: (!text.is_empty() || calls.is_empty()).then_some(text),
                reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                reasoning_signature: signature,
                reasoning_redacted: (!redacted.is_empty()).then_some(redacted),
                tool_calls: (!calls.is_empty()).then_some(calls),
                annotations: (!annotations.is_empty()).then_some(annotations),
            },
            finish_reason: finish_reason(message.stop_reason).to_owned(),
            stop_reason: message.stop_detail.clone(),
            guardrail_trace: message.guardrail_trace.clone(),
        }],
        usage: message.usage.into(),
        service_tier: message.service_tier.clone(),
    }
}

/// One streamed chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChatCompletionChunk {
    /// Response id (the same in every chunk).
    pub id: String,
    /// `chat.completion.chunk`.
    pub object: String,
    /// Unix time.
    pub created: u64,
    /// The model key.
    pub model: String,
    /// One choice, or none in the final usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// Usage, in the final chunk when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageBody>,
    /// The service tier that served the answer, in the last content chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
}

/// The choice of a chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChunkChoice {
    /// Always 0.
    pub index: u32,
    /// What is new.
    pub delta: Delta,
    /// Set in the last content chunk.
    pub finish_reason: Option<String>,
    /// Bedrock's own stop reason, in the last content chunk (Pincer extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// A guardrail's trace, in the last content chunk (Pincer extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail_trace: Option<Value>,
}

/// What a chunk adds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Delta {
    /// `assistant`, in the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// More text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// More reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// The reasoning's signature (Pincer extension), when it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_signature: Option<String>,
    /// Redacted reasoning blocks, base64 (Pincer extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_redacted: Option<Vec<String>>,
    /// Tool-call fragments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// Citations of text that has ended, with their spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Annotation>>,
}

/// A fragment of a tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolCallDelta {
    /// Dense index of the call in this response.
    pub index: usize,
    /// Call id, in the first fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function`, in the first fragment.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name (first fragment) and argument text.
    pub function: FunctionDelta,
}

/// Function fragment of a tool-call delta.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionDelta {
    /// Name, in the first fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// More argument text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

/// Turns events into chunks for one streamed response.
#[derive(Debug, Clone)]
pub struct ChunkEncoder {
    id: String,
    model: String,
    created: u64,
    role_sent: bool,
    /// Dense tool-call index by content index.
    tools: HashMap<usize, usize>,
    /// Characters of content sent so far.
    sent_chars: usize,
    /// Where each text block started, by content index.
    text_starts: HashMap<usize, usize>,
    /// Citations waiting for the end of their text block.
    pending_citations: Vec<Citation>,
}

impl ChunkEncoder {
    /// An encoder for response `id` from `model`.
    pub fn new(id: &str, model: &str, created: u64) -> Self {
        Self {
            id: id.to_owned(),
            model: model.to_owned(),
            created,
            role_sent: false,
            tools: HashMap::new(),
            sent_chars: 0,
            text_starts: HashMap::new(),
            pending_citations: Vec::new(),
        }
    }

    fn chunk(&mut self, mut delta: Delta, finish_reason: Option<String>) -> ChatCompletionChunk {
        if !self.role_sent {
            self.role_sent = true;
            delta.role = Some("assistant".to_owned());
        }
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason,
                stop_reason: None,
                guardrail_trace: None,
            }],
            usage: None,
            service_tier: None,
        }
    }

    /// The chunk for one event, if it carries anything for the client. Terminal events give the
    /// finishing chunk; use [`usage_chunk`](Self::usage_chunk) after it when usage was asked for.
    pub fn encode(&mut self, event: &StreamEvent) -> Option<ChatCompletionChunk> {
        let delta = match event {
            StreamEvent::Start => Delta::default(),
            StreamEvent::TextStart { index } => {
                self.text_starts.insert(*index, self.sent_chars);
                return None;
            }
            StreamEvent::TextDelta { delta, .. } => {
                self.sent_chars += delta.chars().count();
                Delta {
                    content: Some(delta.clone()),
                    ..Delta::default()
                }
            }
            StreamEvent::Citation { citation } => {
                self.pending_citations.push(citation.clone());
                return None;
            }
            StreamEvent::TextEnd { index } => {
                let start = self.text_starts.get(index).copied()?;
                let (mine, rest): (Vec<Citation>, Vec<Citation>) = self
                    .pending_citations
                    .drain(..)
                    .partition(|c| c.index == *index);
                self.pending_citations = rest;
                if mine.is_empty() {
                    return None;
                }
                Delta {
                    annotations: Some(
                        mine.iter()
                            .map(|c| annotation(c, start, self.sent_chars))
                            .collect(),
                    ),
                    ..Delta::default()
                }
            }
            StreamEvent::RedactedThinking { data, .. } => Delta {
                reasoning_redacted: Some(vec![STANDARD.encode(data)]),
                ..Delta::default()
            },
            StreamEvent::ThinkingDelta { delta, .. } => Delta {
                reasoning_content: Some(delta.clone()),
                ..Delta::default()
            },
            StreamEvent::ThinkingEnd {
                signature: Some(signature),
                ..
            } => Delta {
                reasoning_signature: Some(signature.clone()),
                ..Delta::default()
            },
            StreamEvent::ToolCallStart { index, id, name } => {
                let dense = self.tools.len();
                self.tools.insert(*index, dense);
                Delta {
                    tool_calls: Some(vec![ToolCallDelta {
                        index: dense,
                        id: Some(id.clone()),
                        kind: Some("function".to_owned()),
                        function: FunctionDelta {
                            name: Some(name.clone()),
                            arguments: Some(String::new()),
                        },
                    }]),
                    ..Delta::default()
                }
            }
            StreamEvent::ToolCallDelta { index, delta } => {
                let dense = *self.tools.get(index)?;
                Delta {
                    tool_calls: Some(vec![ToolCallDelta {
                        index: dense,
                        id: None,
                        kind: None,
                        function: FunctionDelta {
                            name: None,
                            arguments: Some(delta.clone()),
                        },
                    }]),
                    ..Delta::default()
                }
            }
            StreamEvent::Done { message } => {
                let mut chunk = self.chunk(
                    Delta::default(),
                    Some(finish_reason(message.stop_reason).to_owned()),
                );
                if let Some(choice) = chunk.choices.first_mut() {
                    choice.stop_reason.clone_from(&message.stop_detail);
                    choice.guardrail_trace.clone_from(&message.guardrail_trace);
                }
                chunk.service_tier.clone_from(&message.service_tier);
                return Some(chunk);
            }
            _ => return None,
        };
        Some(self.chunk(delta, None))
    }

    /// The final chunk with usage and no choices (`stream_options.include_usage`).
    pub fn usage_chunk(&self, usage: pincer_core::Usage) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices: Vec::new(),
            usage: Some(usage.into()),
            service_tier: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pincer_core::{ToolCall, Usage};
    use serde_json::json;

    #[test]
    fn tool_calls_get_dense_indexes_in_order() {
        let mut encoder = ChunkEncoder::new("chatcmpl-1", "amazon-bedrock/m", 1);
        let events = [
            StreamEvent::Start,
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                delta: "Let me check.".into(),
            },
            StreamEvent::ToolCallStart {
                index: 1,
                id: "a".into(),
                name: "one".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                delta: "{\"x\":".into(),
            },
            StreamEvent::ToolCallStart {
                index: 2,
                id: "b".into(),
                name: "two".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 2,
                delta: "{}".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                delta: "1}".into(),
            },
        ];
        let chunks: Vec<_> = events.iter().filter_map(|e| encoder.encode(e)).collect();
        assert_eq!(
            chunks[0].choices[0].delta.role.as_deref(),
            Some("assistant")
        );
        assert!(
            chunks[1..]
                .iter()
                .all(|c| c.choices[0].delta.role.is_none())
        );
        let indexes: Vec<usize> = chunks
            .iter()
            .flat_map(|c| {
                c.choices[0]
                    .delta
                    .tool_calls
                    .iter()
                    .flatten()
                    .map(|t| t.index)
            })
            .collect();
        assert_eq!(indexes, [0, 0, 1, 1, 0]);
        let message = AssistantMessage {
            stop_reason: StopReason::ToolUse,
            ..AssistantMessage::default()
        };
        let last = encoder.encode(&StreamEvent::Done { message }).unwrap();
        assert_eq!(last.choices[0].finish_reason.as_deref(), Some("tool_calls"));
        let usage = encoder.usage_chunk(Usage {
            input: 3,
            output: 4,
            cache_read: 10,
            cache_write: 2,
            cache_write_long: 0,
        });
        assert!(usage.choices.is_empty());
        let body = serde_json::to_value(&usage).unwrap();
        assert_eq!(
            body["usage"],
            json!({"prompt_tokens": 15, "completion_tokens": 4, "total_tokens": 19, "prompt_tokens_details": {"cached_tokens": 10}})
        );
    }

    #[test]
    fn whole_response_carries_reasoning_and_calls() {
        let message = AssistantMessage {
            content: vec![
                AssistantContent::Thinking {
                    text: "hmm".into(),
                    signature: Some("sig".into()),
                },
                AssistantContent::Text {
                    text: "Calling.".into(),
                },
                AssistantContent::ToolCall(ToolCall {
                    id: "a".into(),
                    name: "f".into(),
                    arguments: json!({"q": 1}),
                }),
            ],
            stop_reason: StopReason::ToolUse,
            ..AssistantMessage::default()
        };
        let body = serde_json::to_value(completion(&message, "id", "m", 7)).unwrap();
        assert_eq!(body["choices"][0]["message"]["reasoning_content"], "hmm");
        assert_eq!(body["choices"][0]["message"]["reasoning_signature"], "sig");
        assert_eq!(
            body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
            "{\"q\":1}"
        );
        assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
        for (stop, reason) in [
            (StopReason::Length, "length"),
            (StopReason::Guardrail, "content_filter"),
            (StopReason::ContentFiltered, "content_filter"),
        ] {
            assert_eq!(finish_reason(stop), reason);
        }
    }
}
