//! ConverseStream events → Pincer stream events.
//!
//! Bedrock numbers content blocks with its own `contentBlockIndex`, sends text and reasoning
//! without a `contentBlockStart`, and streams tool inputs as partial JSON. The mapper turns that
//! into dense, in-order Pincer blocks: text, thinking (with the signature given at its end),
//! redacted thinking, and tool calls whose arguments are parsed when the block stops (invalid
//! JSON is an error, not silently dropped). Server-side tool blocks (Nova's code interpreter and
//! grounding) and citation deltas are consumed and not surfaced: the client can neither run nor
//! replay them.

use std::collections::HashMap;

use crate::tools::ToolNames;
use aws_sdk_bedrockruntime::types::{
    CacheTtl, ContentBlockDelta, ContentBlockStart, ConverseStreamOutput,
    ReasoningContentBlockDelta, StopReason as BedrockStop, TokenUsage, ToolUseType,
};
use pincer_core::{ErrorKind, MessageBuilder, ProviderError, StopReason, StreamEvent, Usage};

/// What a Bedrock content block turned out to be.
#[derive(Debug, Clone)]
enum Block {
    Text {
        index: usize,
    },
    Thinking {
        index: usize,
        signature: Option<String>,
    },
    Tool {
        index: usize,
    },
    /// Redacted reasoning (emitted whole) or a server-side block: nothing more to emit.
    Done,
}

/// Maps one response's events; feed every event to [`on_event`](Self::on_event), then call
/// [`finish`](Self::finish) when the stream ends or [`fail`](Self::fail) when it breaks.
#[derive(Debug)]
pub struct StreamMapper {
    builder: MessageBuilder,
    blocks: HashMap<i32, Block>,
    started: bool,
    stop: Option<StopReason>,
    usage: Usage,
    /// Maps Bedrock tool names back to the caller's.
    tool_names: ToolNames,
}

impl StreamMapper {
    /// A mapper for a response from `model` of `provider`.
    pub fn new(provider: &str, model: &str) -> Self {
        Self {
            builder: MessageBuilder::new(provider, model),
            blocks: HashMap::new(),
            started: false,
            stop: None,
            usage: Usage::default(),
            tool_names: ToolNames::default(),
        }
    }

    /// Maps tool names back through `names` (the rewrite the request made).
    pub fn with_tool_names(mut self, names: ToolNames) -> Self {
        self.tool_names = names;
        self
    }

    fn start(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start);
        }
    }

    fn emit(&mut self, event: StreamEvent, out: &mut Vec<StreamEvent>) {
        self.builder.apply(&event);
        out.push(event);
    }

    /// Maps one Bedrock event to zero or more Pincer events.
    pub fn on_event(
        &mut self,
        event: ConverseStreamOutput,
    ) -> Result<Vec<StreamEvent>, ProviderError> {
        let mut out = Vec::new();
        self.start(&mut out);
        match event {
            ConverseStreamOutput::MessageStart(_) => {}
            ConverseStreamOutput::ContentBlockStart(start) => {
                let bedrock_index = start.content_block_index;
                match start.start {
                    Some(ContentBlockStart::ToolUse(tool))
                        if tool.r#type != Some(ToolUseType::ServerToolUse) =>
                    {
                        let index = self.builder.next_index();
                        self.blocks.insert(bedrock_index, Block::Tool { index });
                        let name = self.tool_names.caller_name(&tool.name);
                        self.emit(
                            StreamEvent::ToolCallStart {
                                index,
                                id: tool.tool_use_id,
                                name,
                            },
                            &mut out,
                        );
                    }
                    _ => {
                        self.blocks.insert(bedrock_index, Block::Done);
                    }
                }
            }
            ConverseStreamOutput::ContentBlockDelta(delta) => {
                let bedrock_index = delta.content_block_index;
                let Some(delta) = delta.delta else {
                    return Ok(out);
                };
                self.on_delta(bedrock_index, delta, &mut out);
            }
            ConverseStreamOutput::ContentBlockStop(stop) => {
                match self.blocks.get(&stop.content_block_index).cloned() {
                    Some(Block::Text { index }) => {
                        self.emit(StreamEvent::TextEnd { index }, &mut out)
                    }
                    Some(Block::Thinking { index, signature }) => {
                        self.emit(StreamEvent::ThinkingEnd { index, signature }, &mut out);
                    }
                    Some(Block::Tool { index }) => {
                        if let Some(end) = self.builder.end_tool_call(index) {
                            out.push(end?);
                        }
                    }
                    Some(Block::Done) | None => {}
                }
                self.blocks.insert(stop.content_block_index, Block::Done);
            }
            ConverseStreamOutput::MessageStop(stop) => {
                self.stop = Some(map_stop_reason(&stop.stop_reason));
            }
            ConverseStreamOutput::Metadata(metadata) => {
                if let Some(usage) = metadata.usage {
                    self.set_usage(&usage);
                }
            }
            _ => {}
        }
        Ok(out)
    }

    fn on_delta(
        &mut self,
        bedrock_index: i32,
        delta: ContentBlockDelta,
        out: &mut Vec<StreamEvent>,
    ) {
        match delta {
            ContentBlockDelta::Text(text) => {
                let index = match self.blocks.get(&bedrock_index) {
                    Some(Block::Text { index }) => *index,
                    Some(_) => return,
                    None => {
                        let index = self.builder.next_index();
                        self.blocks.insert(bedrock_index, Block::Text { index });
                        self.emit(StreamEvent::TextStart { index }, out);
                        index
                    }
                };
                if !text.is_empty() {
                    self.emit(StreamEvent::TextDelta { index, delta: text }, out);
                }
            }
            ContentBlockDelta::ReasoningContent(reasoning) => {
                self.on_reasoning(bedrock_index, reasoning, out)
            }
            ContentBlockDelta::ToolUse(tool) => {
                if let Some(Block::Tool { index }) = self.blocks.get(&bedrock_index) {
                    let index = *index;
                    self.emit(
                        StreamEvent::ToolCallDelta {
                            index,
                            delta: tool.input,
                        },
                        out,
                    );
                }
            }
            // Citations, server-tool results and images are not surfaced (see the module doc).
            _ => {}
        }
    }

    fn on_reasoning(
        &mut self,
        bedrock_index: i32,
        reasoning: ReasoningContentBlockDelta,
        out: &mut Vec<StreamEvent>,
    ) {
        if let ReasoningContentBlockDelta::RedactedContent(blob) = reasoning {
            let index = self.builder.next_index();
            self.blocks.insert(bedrock_index, Block::Done);
            self.emit(
                StreamEvent::RedactedThinking {
                    index,
                    data: blob.into_inner(),
                },
                out,
            );
            return;
        }
        let index = match self.blocks.get(&bedrock_index) {
            Some(Block::Thinking { index, .. }) => *index,
            Some(_) => return,
            None => {
                let index = self.builder.next_index();
                self.blocks.insert(
                    bedrock_index,
                    Block::Thinking {
                        index,
                        signature: None,
                    },
                );
                self.emit(StreamEvent::ThinkingStart { index }, out);
                index
            }
        };
        match reasoning {
            ReasoningContentBlockDelta::Text(text) if !text.is_empty() => {
                self.emit(StreamEvent::ThinkingDelta { index, delta: text }, out);
            }
            ReasoningContentBlockDelta::Signature(signature) => {
                if let Some(Block::Thinking {
                    signature: slot, ..
                }) = self.blocks.get_mut(&bedrock_index)
                {
                    slot.get_or_insert_with(String::new).push_str(&signature);
                }
            }
            _ => {}
        }
    }

    fn set_usage(&mut self, usage: &TokenUsage) {
        let count = |n: i32| u64::try_from(n).unwrap_or(0);
        self.usage = Usage {
            input: count(usage.input_tokens),
            output: count(usage.output_tokens),
            cache_read: usage.cache_read_input_tokens.map_or(0, count),
            cache_write: usage.cache_write_input_tokens.map_or(0, count),
            cache_write_long: 0,
        };
        self.usage.cache_write_long = usage
            .cache_details
            .iter()
            .flatten()
            .filter(|detail| detail.ttl == CacheTtl::OneHour)
            .map(|detail| count(detail.input_tokens))
            .sum();
    }

    /// Ends a stream that closed normally: `Done`, or an interruption if Bedrock never said why
    /// it stopped.
    pub fn finish(self) -> StreamEvent {
        match self.stop {
            Some(stop) => StreamEvent::Done {
                message: self.builder.finish(stop, self.usage),
            },
            None => {
                let error = ProviderError::new(
                    ErrorKind::StreamInterrupted,
                    "the stream ended before Bedrock sent messageStop",
                );
                self.fail(error)
            }
        }
    }

    /// Ends a stream with an error, keeping the partial message.
    pub fn fail(self, error: ProviderError) -> StreamEvent {
        let partial = self.builder.fail(&error, self.usage);
        StreamEvent::Error { error, partial }
    }
}

/// Bedrock's stop reasons in Pincer's terms.
pub fn map_stop_reason(reason: &BedrockStop) -> StopReason {
    match reason {
        BedrockStop::EndTurn | BedrockStop::StopSequence => StopReason::Stop,
        BedrockStop::MaxTokens | BedrockStop::ModelContextWindowExceeded => StopReason::Length,
        BedrockStop::ToolUse => StopReason::ToolUse,
        BedrockStop::GuardrailIntervened => StopReason::Guardrail,
        BedrockStop::ContentFiltered => StopReason::ContentFiltered,
        BedrockStop::MalformedModelOutput | BedrockStop::MalformedToolUse => StopReason::Error,
        _ => StopReason::Stop,
    }
}
