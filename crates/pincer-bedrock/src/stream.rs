//! ConverseStream events → Pincer stream events.
//!
//! Bedrock numbers content blocks with its own `contentBlockIndex`, sends text and reasoning
//! without a `contentBlockStart`, and streams tool inputs as partial JSON. The mapper turns that
//! into dense, in-order Pincer blocks: text, thinking (with the signature given at its end),
//! redacted thinking, and tool calls whose arguments are parsed when the block stops (invalid
//! JSON is an error, not silently dropped). Citation deltas become [`StreamEvent::Citation`]s of
//! the text block they open. Server-side tool blocks (Nova's code interpreter and grounding) are
//! consumed and not surfaced: the client can neither run nor replay them.
//!
//! How the answer ends is checked, never assumed: every stop reason is mapped (and Bedrock's own
//! name kept where Pincer's says less), `malformed_model_output` and `malformed_tool_use` are
//! errors, and so are a stream that closes without `messageStop` and an empty `end_turn` with
//! no output token — all retryable before the first byte. A guardrail's trace and the service
//! tier that served the answer reach the message.

use std::collections::HashMap;

use crate::tools::ToolNames;
use aws_sdk_bedrockruntime::types::{
    CacheTtl, ContentBlockDelta, ContentBlockStart, ConverseStreamOutput,
    ReasoningContentBlockDelta, StopReason as BedrockStop, TokenUsage, ToolUseType,
};
use pincer_core::{
    Citation, ErrorKind, MessageBuilder, ProviderError, StopReason, StreamEvent, Usage,
};

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
    /// The structured-answer tool's call, streamed as text.
    Structured {
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
    /// Bedrock's stop reason, when Pincer's says less.
    stop_detail: Option<String>,
    /// A malformed-output stop, reported as an error at the end.
    malformed: Option<String>,
    /// The tool standing in for a structured answer (its call becomes the text).
    structured_tool: Option<String>,
    /// One tool call at most (`parallel_tool_calls: false` on a model without the switch).
    single_tool_call: bool,
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
            stop_detail: None,
            malformed: None,
            structured_tool: None,
            single_tool_call: false,
        }
    }

    /// Keeps the first tool call of the answer only, dropping (and logging) the others.
    pub fn with_single_tool_call(mut self, single: bool) -> Self {
        self.single_tool_call = single;
        self
    }

    /// Turns calls of the Bedrock tool `name` (the stand-in for a structured answer on a model
    /// without structured output) into the answer's text, and their `tool_use` stop into a plain
    /// stop.
    pub fn with_structured_tool(mut self, name: Option<String>) -> Self {
        self.structured_tool = name;
        self
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
                        if self.structured_tool.as_deref() == Some(tool.name.as_str()) =>
                    {
                        let index = self.builder.next_index();
                        self.blocks
                            .insert(bedrock_index, Block::Structured { index });
                        self.emit(StreamEvent::TextStart { index }, &mut out);
                    }
                    Some(ContentBlockStart::ToolUse(tool))
                        if self.single_tool_call
                            && tool.r#type != Some(ToolUseType::ServerToolUse)
                            && self
                                .blocks
                                .values()
                                .any(|b| matches!(b, Block::Tool { .. }))
                            || self.single_tool_call
                                && self.builder.message().tool_calls().next().is_some() =>
                    {
                        tracing::debug!(tool = %tool.name, "a second tool call dropped: parallel_tool_calls is false");
                        self.blocks.insert(bedrock_index, Block::Done);
                    }
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
                    Some(Block::Structured { index }) => {
                        self.emit(StreamEvent::TextEnd { index }, &mut out)
                    }
                    Some(Block::Done) | None => {}
                }
                self.blocks.insert(stop.content_block_index, Block::Done);
            }
            ConverseStreamOutput::MessageStop(stop) => {
                let reason = stop.stop_reason;
                if matches!(
                    reason,
                    BedrockStop::MalformedModelOutput | BedrockStop::MalformedToolUse
                ) {
                    self.malformed = Some(reason.as_str().to_owned());
                }
                let mut mapped = map_stop_reason(&reason);
                if mapped == StopReason::ToolUse
                    && self.structured_tool.is_some()
                    && self.builder.message().tool_calls().next().is_none()
                {
                    mapped = StopReason::Stop;
                }
                if stop_needs_detail(&reason) {
                    self.stop_detail = Some(reason.as_str().to_owned());
                }
                if let Some(fields) = &stop.additional_model_response_fields {
                    tracing::debug!(fields = ?fields, "additional model response fields");
                }
                self.stop = Some(mapped);
            }
            ConverseStreamOutput::Metadata(metadata) => {
                if let Some(usage) = metadata.usage {
                    self.set_usage(&usage);
                }
                let trace = metadata
                    .trace
                    .as_ref()
                    .and_then(|t| t.guardrail.as_ref())
                    .map(crate::trace::guardrail_json);
                if let Some(trace) = &trace {
                    tracing::info!(target: "pincer_bedrock::guardrail", trace = %trace, "guardrail trace");
                }
                let tier = metadata
                    .service_tier
                    .as_ref()
                    .map(|t| t.r#type.as_str().to_owned());
                if let Some(performance) = &metadata.performance_config {
                    tracing::debug!(latency = ?performance.latency, "latency served");
                }
                if let Some(metrics) = &metadata.metrics {
                    tracing::debug!(latency_ms = metrics.latency_ms, "Bedrock's latency");
                }
                self.builder.annotate(None, trace, tier);
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
            // With a stand-in tool for a structured answer, the answer is the tool's input:
            // text beside it (a preamble) is not part of it.
            ContentBlockDelta::Text(text) if self.structured_tool.is_some() => {
                tracing::debug!(
                    chars = text.len(),
                    "text beside a structured answer left out"
                );
            }
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
            ContentBlockDelta::ToolUse(tool) => match self.blocks.get(&bedrock_index) {
                Some(Block::Tool { index }) => {
                    let index = *index;
                    self.emit(
                        StreamEvent::ToolCallDelta {
                            index,
                            delta: tool.input,
                        },
                        out,
                    );
                }
                Some(Block::Structured { index }) => {
                    let index = *index;
                    if !tool.input.is_empty() {
                        self.emit(
                            StreamEvent::TextDelta {
                                index,
                                delta: tool.input,
                            },
                            out,
                        );
                    }
                }
                _ => {}
            },
            ContentBlockDelta::Citation(citation) => {
                // A citation opens the text block it supports.
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
                self.emit(
                    StreamEvent::Citation {
                        citation: citation_of(index, citation),
                    },
                    out,
                );
            }
            // Server-tool results and images are not surfaced (see the module doc).
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

    /// Ends a stream that closed normally: `Done`; or an error if Bedrock never said why it
    /// stopped, stopped on malformed output, or ended its turn having said nothing at all.
    pub fn finish(mut self) -> StreamEvent {
        if let Some(reason) = self.malformed.take() {
            let error = ProviderError::new(
                ErrorKind::MalformedOutput,
                format!("the model's output was malformed (Bedrock stop reason `{reason}`)"),
            );
            return self.fail(error);
        }
        match self.stop {
            Some(stop) => {
                let empty = self.builder.message().content.is_empty() && self.usage.output == 0;
                if empty && stop == StopReason::Stop {
                    let error = ProviderError::new(
                        ErrorKind::StreamInterrupted,
                        "Bedrock ended the turn with no content and no output token",
                    );
                    return self.fail(error);
                }
                let detail = self.stop_detail.take();
                self.builder.annotate(detail, None, None);
                StreamEvent::Done {
                    message: self.builder.finish(stop, self.usage),
                }
            }
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

/// Whether Bedrock's stop reason says more than Pincer's: its own name is kept beside it.
fn stop_needs_detail(reason: &BedrockStop) -> bool {
    !matches!(
        reason,
        BedrockStop::EndTurn
            | BedrockStop::MaxTokens
            | BedrockStop::ToolUse
            | BedrockStop::GuardrailIntervened
            | BedrockStop::ContentFiltered
    )
}

/// A citation delta as a Pincer citation of the text block at `index`.
fn citation_of(index: usize, delta: aws_sdk_bedrockruntime::types::CitationsDelta) -> Citation {
    use aws_sdk_bedrockruntime::types::CitationLocation;
    let range = |kind: &str, document: Option<i32>, start: Option<i32>, end: Option<i32>| serde_json::json!({kind: {"documentIndex": document, "start": start, "end": end}});
    let location = match delta.location {
        Some(CitationLocation::DocumentChar(l)) => {
            range("documentChar", l.document_index, l.start, l.end)
        }
        Some(CitationLocation::DocumentPage(l)) => {
            range("documentPage", l.document_index, l.start, l.end)
        }
        Some(CitationLocation::DocumentChunk(l)) => {
            range("documentChunk", l.document_index, l.start, l.end)
        }
        Some(CitationLocation::Web(l)) => {
            serde_json::json!({"web": {"url": l.url, "domain": l.domain}})
        }
        Some(CitationLocation::SearchResultLocation(l)) => serde_json::json!({
            "searchResult": {"searchResultIndex": l.search_result_index, "start": l.start, "end": l.end}
        }),
        Some(other) => serde_json::json!({"unknown": format!("{other:?}")}),
        None => serde_json::Value::Null,
    };
    Citation {
        index,
        title: delta.title.or(delta.source),
        source_text: delta
            .source_content
            .into_iter()
            .flatten()
            .filter_map(|c| c.text)
            .collect(),
        location,
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
