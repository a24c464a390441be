//! Building an [`AssistantMessage`] from stream events.
//!
//! Providers feed their events through a [`MessageBuilder`] so that `Done` carries the whole
//! message and `Error` the partial one; consumers that only see events can rebuild the message
//! the same way.

use crate::content::{AssistantContent, AssistantMessage, StopReason, ToolCall};
use crate::error::{ErrorKind, ProviderError};
use crate::event::StreamEvent;
use crate::usage::Usage;

/// Accumulates streamed content into a message.
#[derive(Debug, Clone, Default)]
pub struct MessageBuilder {
    message: AssistantMessage,
    /// Raw JSON text of tool calls still streaming, by content index.
    pending_arguments: Vec<(usize, String, String, String)>,
}

impl MessageBuilder {
    /// A builder for a message from `provider`'s `model`.
    pub fn new(provider: &str, model: &str) -> Self {
        Self {
            message: AssistantMessage {
                provider: provider.to_owned(),
                model: model.to_owned(),
                ..AssistantMessage::default()
            },
            pending_arguments: Vec::new(),
        }
    }

    /// The message so far.
    pub fn message(&self) -> &AssistantMessage {
        &self.message
    }

    /// The index the next content block will have.
    pub fn next_index(&self) -> usize {
        self.message.content.len() + self.pending_arguments.len()
    }

    /// Applies one event (terminal events are ignored: use [`finish`](Self::finish) and
    /// [`fail`](Self::fail)).
    pub fn apply(&mut self, event: &StreamEvent) {
        let content = &mut self.message.content;
        match event {
            StreamEvent::TextStart { .. } => content.push(AssistantContent::Text {
                text: String::new(),
            }),
            StreamEvent::TextDelta { delta, .. } => {
                if let Some(AssistantContent::Text { text }) = content.last_mut() {
                    text.push_str(delta);
                }
            }
            StreamEvent::ThinkingStart { .. } => content.push(AssistantContent::Thinking {
                text: String::new(),
                signature: None,
            }),
            StreamEvent::ThinkingDelta { delta, .. } => {
                if let Some(AssistantContent::Thinking { text, .. }) = content.last_mut() {
                    text.push_str(delta);
                }
            }
            StreamEvent::ThinkingEnd { signature, .. } => {
                if let Some(AssistantContent::Thinking {
                    signature: slot, ..
                }) = content.last_mut()
                {
                    slot.clone_from(signature);
                }
            }
            StreamEvent::RedactedThinking { data, .. } => {
                content.push(AssistantContent::RedactedThinking { data: data.clone() })
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                self.pending_arguments
                    .push((*index, id.clone(), name.clone(), String::new()));
            }
            StreamEvent::ToolCallDelta { index, delta } => {
                if let Some(pending) = self.pending_arguments.iter_mut().find(|p| p.0 == *index) {
                    pending.3.push_str(delta);
                }
            }
            StreamEvent::ToolCallEnd { index, call } => {
                self.pending_arguments.retain(|p| p.0 != *index);
                content.push(AssistantContent::ToolCall(call.clone()));
            }
            StreamEvent::Citation { citation } => self.message.citations.push(citation.clone()),
            StreamEvent::TextEnd { .. }
            | StreamEvent::Start
            | StreamEvent::Done { .. }
            | StreamEvent::Error { .. } => {}
        }
    }

    /// Parses the arguments of the tool call streaming at `index` and ends it, returning the
    /// `ToolCallEnd` event, or the error if the JSON is invalid (which is reported, not
    /// swallowed).
    pub fn end_tool_call(&mut self, index: usize) -> Option<Result<StreamEvent, ProviderError>> {
        let (_, id, name, raw) = self
            .pending_arguments
            .iter()
            .find(|p| p.0 == index)?
            .clone();
        let arguments = if raw.trim().is_empty() {
            Ok(serde_json::Value::Object(Default::default()))
        } else {
            serde_json::from_str(&raw)
        };
        Some(match arguments {
            Ok(arguments) => {
                let event = StreamEvent::ToolCallEnd {
                    index,
                    call: ToolCall {
                        id,
                        name,
                        arguments,
                    },
                };
                self.apply(&event);
                Ok(event)
            }
            Err(err) => Err(ProviderError::new(
                ErrorKind::Validation,
                format!("tool call `{name}` ({id}) has invalid JSON arguments: {err}"),
            )),
        })
    }

    /// Records what the provider said about the answer beyond its content: its own stop reason,
    /// a guardrail's trace, the service tier that served it.
    pub fn annotate(
        &mut self,
        stop_detail: Option<String>,
        guardrail_trace: Option<serde_json::Value>,
        service_tier: Option<String>,
    ) {
        if stop_detail.is_some() {
            self.message.stop_detail = stop_detail;
        }
        if guardrail_trace.is_some() {
            self.message.guardrail_trace = guardrail_trace;
        }
        if service_tier.is_some() {
            self.message.service_tier = service_tier;
        }
    }

    /// Completes the message.
    pub fn finish(mut self, stop_reason: StopReason, usage: Usage) -> AssistantMessage {
        self.message.stop_reason = stop_reason;
        self.message.usage = usage;
        self.message
    }

    /// Ends the message with an error, keeping what arrived. Empty blocks and unfinished tool
    /// calls are dropped so the partial message can be replayed safely.
    pub fn fail(mut self, error: &ProviderError, usage: Usage) -> AssistantMessage {
        self.message.stop_reason = if error.kind == ErrorKind::Aborted {
            StopReason::Aborted
        } else {
            StopReason::Error
        };
        self.message.usage = usage;
        self.message.error = Some(error.to_string());
        self.message.content.retain(|block| match block {
            AssistantContent::Text { text } => !text.is_empty(),
            AssistantContent::Thinking { text, .. } => !text.is_empty(),
            _ => true,
        });
        self.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_text_thinking_and_tool_calls() {
        let mut builder = MessageBuilder::new("p", "m");
        let events = [
            StreamEvent::ThinkingStart { index: 0 },
            StreamEvent::ThinkingDelta {
                index: 0,
                delta: "hmm".into(),
            },
            StreamEvent::ThinkingEnd {
                index: 0,
                signature: Some("sig".into()),
            },
            StreamEvent::TextStart { index: 1 },
            StreamEvent::TextDelta {
                index: 1,
                delta: "Hel".into(),
            },
            StreamEvent::TextDelta {
                index: 1,
                delta: "lo".into(),
            },
            StreamEvent::TextEnd { index: 1 },
            StreamEvent::ToolCallStart {
                index: 2,
                id: "t1".into(),
                name: "get".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 2,
                delta: "{\"a\":".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 2,
                delta: " 1}".into(),
            },
        ];
        for event in &events {
            builder.apply(event);
        }
        assert_eq!(builder.next_index(), 3);
        let end = builder.end_tool_call(2).unwrap().unwrap();
        assert_eq!(
            end,
            StreamEvent::ToolCallEnd {
                index: 2,
                call: ToolCall {
                    id: "t1".into(),
                    name: "get".into(),
                    arguments: json!({"a": 1})
                }
            }
        );
        let message = builder.finish(
            StopReason::ToolUse,
            Usage {
                input: 1,
                output: 2,
                ..Usage::default()
            },
        );
        assert_eq!(message.text(), "Hello");
        assert_eq!(message.tool_calls().count(), 1);
        assert_eq!(
            message.content[0],
            AssistantContent::Thinking {
                text: "hmm".into(),
                signature: Some("sig".into())
            }
        );
        assert_eq!(message.stop_reason, StopReason::ToolUse);
    }

    #[test]
    fn invalid_tool_json_is_reported() {
        let mut builder = MessageBuilder::new("p", "m");
        builder.apply(&StreamEvent::ToolCallStart {
            index: 0,
            id: "t".into(),
            name: "f".into(),
        });
        builder.apply(&StreamEvent::ToolCallDelta {
            index: 0,
            delta: "{\"a\": ".into(),
        });
        let err = builder.end_tool_call(0).unwrap().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Validation);
        assert!(err.message.contains("invalid JSON arguments"), "{err}");
    }

    #[test]
    fn failure_keeps_partial_content_and_drops_empty_blocks() {
        let mut builder = MessageBuilder::new("p", "m");
        builder.apply(&StreamEvent::TextStart { index: 0 });
        builder.apply(&StreamEvent::TextDelta {
            index: 0,
            delta: "partial".into(),
        });
        builder.apply(&StreamEvent::ThinkingStart { index: 1 });
        builder.apply(&StreamEvent::ToolCallStart {
            index: 2,
            id: "t".into(),
            name: "f".into(),
        });
        let error = ProviderError::new(ErrorKind::Aborted, "cancelled");
        let message = builder.fail(&error, Usage::default());
        assert_eq!(
            message.content,
            vec![AssistantContent::Text {
                text: "partial".into()
            }]
        );
        assert_eq!(message.stop_reason, StopReason::Aborted);
    }
}
