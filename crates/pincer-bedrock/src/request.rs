//! A Pincer conversation → a valid ConverseStream request.
//!
//! Bedrock rejects many conversations real clients produce. This module repairs what it can and
//! reports clearly what it cannot, so that a request never fails with a raw Bedrock 400:
//! - adjacent messages of the same role are merged, tool results are grouped into one user turn
//!   (ahead of any text), and empty messages in the history are dropped;
//! - a tool call without a result gets a synthetic error result; a result for a call that is not
//!   in the preceding turn becomes text;
//! - `toolConfig` is sent whenever the history holds tool blocks, even when no tools are offered;
//! - tool names and call ids are made valid for Bedrock (see `tools`);
//! - thinking blocks are replayed (with their signatures) only to the model that produced them,
//!   first in their turn; when the tool-use turn in progress has no signed thinking (a client
//!   dropped it), the request goes without thinking, as Anthropic's models require;
//! - limits and reasoning are resolved by `reasoning`, cache points placed for models that cache;
//! - documents go only to models that read documents (in the formats they list), at most five,
//!   each within Bedrock's size limit, and a turn with a document always has a text block;
//! - a structured answer goes through `structured`; `parallel_tool_calls: false` becomes
//!   Claude's `disable_parallel_tool_use` where the model has it, and is enforced on the answer
//!   (one tool call at most) elsewhere;
//! - request metadata, the service tier, latency-optimized inference and a guardrail are passed
//!   as Converse's own fields.

use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, AutoToolChoice, CachePointBlock, CachePointType, CacheTtl, ContentBlock,
    ConversationRole, DocumentBlock, DocumentFormat, DocumentSource, GuardrailStreamConfiguration,
    GuardrailStreamProcessingMode, GuardrailTrace, ImageBlock, ImageFormat, ImageSource,
    InferenceConfiguration, Message as BedrockMessage, OutputConfig, PerformanceConfigLatency,
    PerformanceConfiguration, ReasoningContentBlock, ReasoningTextBlock,
    ServiceTier as BedrockServiceTier, ServiceTierType, SpecificToolChoice, SystemContentBlock,
    Tool as BedrockTool, ToolChoice as BedrockToolChoice, ToolConfiguration, ToolInputSchema,
    ToolResultBlock, ToolResultContentBlock, ToolResultStatus, ToolSpecification, ToolUseBlock,
};
use aws_smithy_types::{Blob, Document};
use pincer_core::{
    AssistantContent, CacheRetention, Conversation, Document as PincerDocument, ErrorKind,
    Guardrail, Image, Latency, Message, Model, ProviderError, ProviderRequest, ReasoningLevel,
    ReasoningStyle, RequestOptions, ServiceTier, Tool, ToolChoice, ToolResultContent, UserContent,
};
use serde_json::{Value, json};

use crate::document::to_document;
use crate::reasoning::{self, Inference};
use crate::structured::{self, Plan};
use crate::tools::{ToolNames, bedrock_call_id};

/// Everything a ConverseStream call needs, built and checked.
#[derive(Debug, Clone)]
pub struct ConverseRequest {
    /// Model id (or inference-profile id / ARN).
    pub model_id: String,
    /// System prompt blocks.
    pub system: Vec<SystemContentBlock>,
    /// The conversation, alternating roles, starting with the user.
    pub messages: Vec<BedrockMessage>,
    /// Tools and tool choice.
    pub tool_config: Option<ToolConfiguration>,
    /// Limits and sampling.
    pub inference: InferenceConfiguration,
    /// Reasoning settings and other model-specific fields.
    pub additional_fields: Option<Document>,
    /// How tool names were rewritten, to map them back.
    pub tool_names: ToolNames,
    /// What the reasoning settings resolved to.
    pub resolved: Inference,
    /// Converse's structured output.
    pub output_config: Option<OutputConfig>,
    /// The Bedrock name of the tool that stands in for a structured answer, if one does.
    pub structured_tool: Option<String>,
    /// Whether the answer may hold one tool call at most (enforced on the answer).
    pub single_tool_call: bool,
    /// `requestMetadata`.
    pub request_metadata: std::collections::HashMap<String, String>,
    /// `serviceTier`.
    pub service_tier: Option<BedrockServiceTier>,
    /// `performanceConfig`.
    pub performance: Option<PerformanceConfiguration>,
    /// `guardrailConfig`.
    pub guardrail: Option<GuardrailStreamConfiguration>,
    /// `temperature` and `top_p` as the client wrote them: the SDK carries them as `f32`, which
    /// would put `0.20000000298023224` on the wire for `0.2` (see [`crate::exact`]).
    pub exact_sampling: crate::exact::Sampling,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Image(Image),
    Document(PincerDocument),
    Thinking {
        text: String,
        signature: String,
    },
    Redacted(Vec<u8>),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    ToolResult {
        id: String,
        name: String,
        content: Vec<ToolResultContent>,
        is_error: bool,
    },
}

#[derive(Debug, Clone)]
struct Turn {
    role: Role,
    parts: Vec<Part>,
}

fn invalid(message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorKind::Validation, message)
}

/// Builds the request for `request.model` from `request.conversation`.
///
/// The request is consumed: its texts and images move into the Bedrock request instead of
/// being copied (a 30 MB prompt is held once, not three times).
pub fn build(request: ProviderRequest) -> Result<ConverseRequest, ProviderError> {
    let ProviderRequest {
        model,
        mut conversation,
        mut options,
    } = request;
    let model = &model;
    // The config's settings for the model, where the request names none.
    options.guardrail = options
        .guardrail
        .or_else(|| model.defaults.guardrail.clone());
    options.service_tier = options.service_tier.or(model.defaults.service_tier);
    options.latency = options.latency.or(model.defaults.latency);
    if options.latency == Some(Latency::Optimized)
        && model.capabilities.latency_optimized == Some(false)
    {
        return Err(invalid(format!(
            "{} does not offer latency-optimized inference (Bedrock lists it without it); \
             drop latency: optimized",
            model.id
        )));
    }
    if options.guardrail.is_some() && model.capabilities.guardrails == Some(false) {
        return Err(invalid(format!(
            "{} does not take guardrails (Bedrock lists it without them)",
            model.id
        )));
    }
    let mut output_config = None;
    let mut structured_tool = None;
    match structured::plan(options.response_format.as_ref(), model, &conversation.tools)? {
        Plan::None => {}
        Plan::OutputConfig(config) => output_config = Some(config),
        Plan::Tool(tool) => {
            options.tool_choice = ToolChoice::Named(tool.name.clone());
            structured_tool = Some(tool.name.clone());
            conversation.tools.push(tool);
        }
    }
    let options = &options;
    if conversation.messages.is_empty() {
        return Err(invalid(
            "the conversation has no messages; send at least one user message",
        ));
    }
    if let Some(Message::User { content }) = conversation.messages.last()
        && !content.iter().any(has_content)
    {
        return Err(invalid(
            "the last user message is empty; say something or attach an image",
        ));
    }
    let mut names = ToolNames::default();
    let structured_tool = structured_tool.map(|name| names.bedrock_name(&name));
    let mut turns = Vec::new();
    let Conversation {
        system: system_prompt,
        messages: history,
        tools: offered,
    } = conversation;
    for message in history {
        turns.push(convert_message(message, model, &mut names)?);
    }
    let mut turns = normalize(turns);
    if turns.is_empty() {
        // Every message was empty (e.g. only an assistant turn without content): nothing to send.
        return Err(invalid(
            "every message in the conversation is empty; send at least one user message",
        ));
    }
    pair_tool_calls(&mut turns);
    if turns.first().is_some_and(|t| t.role == Role::Assistant) {
        turns.insert(
            0,
            Turn {
                role: Role::User,
                parts: vec![Part::Text("(conversation continues)".to_owned())],
            },
        );
    }
    if let Some(last) = turns.last_mut().filter(|t| t.role == Role::Assistant) {
        // Bedrock rejects a final assistant turn ending in whitespace.
        if let Some(Part::Text(text)) = last.parts.last_mut() {
            let trimmed = text.trim_end().len();
            text.truncate(trimmed);
        }
        last.parts
            .retain(|p| !matches!(p, Part::Text(t) if t.is_empty()));
    }
    // Anthropic's rule with thinking on: the assistant turn of the tool loop in progress must
    // start with its signed thinking. A client that lost the signature cannot send it; the
    // request then goes without thinking rather than fail.
    let unsigned_tool_turn = unsigned_tool_turn(&turns);
    let history_has_tools = turns
        .iter()
        .flat_map(|t| &t.parts)
        .any(|p| matches!(p, Part::ToolUse { .. } | Part::ToolResult { .. }));
    let tool_config = tool_config(&offered, options, &mut names, &turns, history_has_tools)?;
    let cache = model.prompt_cache && options.cache_retention != CacheRetention::None;
    let cache_point = || {
        let mut point = CachePointBlock::builder().r#type(CachePointType::Default);
        if options.cache_retention == CacheRetention::Long {
            point = point.ttl(CacheTtl::OneHour);
        }
        point.build().map_err(|e| invalid(e.to_string()))
    };
    let mut system = Vec::new();
    if let Some(prompt) = system_prompt.filter(|s| !s.trim().is_empty()) {
        if model.capabilities.system_prompt {
            system.push(SystemContentBlock::Text(prompt));
            if cache {
                system.push(SystemContentBlock::CachePoint(cache_point()?));
            }
        } else if let Some(first) = turns.iter_mut().find(|t| t.role == Role::User) {
            // The model takes no system prompt: it goes first in the first user turn.
            tracing::debug!(model = %model.id, "no system role: the system prompt is folded into the first user turn");
            first.parts.insert(0, Part::Text(format!("{prompt}\n\n")));
        }
    }
    let last_user = turns.iter().rposition(|t| t.role == Role::User);
    let mut messages = Vec::with_capacity(turns.len());
    for (i, mut turn) in turns.into_iter().enumerate() {
        // Bedrock takes a document only beside a text block in the same turn.
        if turn.parts.iter().any(|p| matches!(p, Part::Document(_)))
            && !turn.parts.iter().any(|p| matches!(p, Part::Text(_)))
        {
            turn.parts
                .push(Part::Text("(see the attached document)".to_owned()));
        }
        let mut content = Vec::with_capacity(turn.parts.len() + 1);
        for part in turn.parts {
            content.push(to_block(part, model)?);
        }
        if cache && Some(i) == last_user {
            content.push(ContentBlock::CachePoint(cache_point()?));
        }
        let role = match turn.role {
            Role::User => ConversationRole::User,
            Role::Assistant => ConversationRole::Assistant,
        };
        messages.push(
            BedrockMessage::builder()
                .role(role)
                .set_content(Some(content))
                .build()
                .map_err(|e| invalid(e.to_string()))?,
        );
    }
    check_documents(&messages, model)?;
    let mut resolved = reasoning::resolve(model, options);
    if resolved.thinking
        && unsigned_tool_turn
        && matches!(
            model.reasoning,
            Some(ReasoningStyle::BudgetTokens | ReasoningStyle::AdaptiveEffort)
        )
    {
        tracing::debug!(
            model = %model.id,
            "thinking turned off for this request: the last tool-use turn has no signed thinking to start with (the client did not send the signature back)"
        );
        let without = RequestOptions {
            reasoning: ReasoningLevel::Off,
            ..options.clone()
        };
        resolved = reasoning::resolve(model, &without);
    }
    let inference = InferenceConfiguration::builder()
        .max_tokens(i32::try_from(resolved.max_tokens).unwrap_or(i32::MAX))
        .set_temperature(resolved.temperature.map(|t| t as f32))
        .set_top_p(resolved.top_p.map(|p| p as f32))
        .set_stop_sequences((!options.stop.is_empty()).then(|| options.stop.clone()))
        .build();
    // One tool call at most: Claude's own switch where it has one and the choice is `auto`,
    // else enforced on the answer.
    let mut additional = resolved.additional_fields.clone();
    let mut single_tool_call = false;
    if !options.parallel_tool_calls && tool_config.is_some() && structured_tool.is_none() {
        if model.capabilities.parallel_tool_control && options.tool_choice == ToolChoice::Auto {
            let fields = additional.get_or_insert_with(|| json!({}));
            if let Some(map) = fields.as_object_mut() {
                map.insert(
                    "tool_choice".to_owned(),
                    json!({"type": "auto", "disable_parallel_tool_use": true}),
                );
            }
        }
        single_tool_call = true;
    }
    if let Some((key, _)) = options.native_fields.iter().next() {
        // Fields of Anthropic's own request: only Claude takes them.
        if !model.id.contains("anthropic.") {
            return Err(ProviderError::new(
                ErrorKind::Validation,
                format!(
                    "`{key}` is a field of Anthropic's models, and `{}` is not one",
                    model.id
                ),
            ));
        }
        let fields = additional.get_or_insert_with(|| json!({}));
        if let Some(map) = fields.as_object_mut() {
            for (key, value) in &options.native_fields {
                map.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    Ok(ConverseRequest {
        model_id: model.id.clone(),
        system,
        messages,
        tool_config,
        inference,
        additional_fields: additional.as_ref().map(to_document),
        tool_names: names,
        exact_sampling: crate::exact::Sampling {
            temperature: resolved.temperature,
            top_p: resolved.top_p,
        },
        resolved,
        output_config,
        structured_tool,
        single_tool_call,
        request_metadata: request_metadata(&options.metadata)?,
        service_tier: options.service_tier.map(service_tier).transpose()?,
        performance: options.latency.map(performance).transpose()?,
        guardrail: options.guardrail.as_ref().map(guardrail).transpose()?,
    })
}

/// Bedrock's `requestMetadata`: at most 16 pairs, keys of 1 to 256 and values of up to 256
/// characters, of letters, digits, whitespace and `: _ @ $ # = / + , . -`.
fn request_metadata(
    metadata: &std::collections::BTreeMap<String, String>,
) -> Result<std::collections::HashMap<String, String>, ProviderError> {
    if metadata.len() > 16 {
        return Err(invalid(format!(
            "metadata has {} entries; Bedrock's requestMetadata takes at most 16",
            metadata.len()
        )));
    }
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || c.is_whitespace() || ":_@$#=/+,.-".contains(c);
    for (key, value) in metadata {
        if key.is_empty() || key.chars().count() > 256 || !key.chars().all(allowed) {
            return Err(invalid(format!(
                "metadata key `{key}` is not a Bedrock requestMetadata key (1 to 256 letters, digits, spaces or `:_@$#=/+,.-`)"
            )));
        }
        if value.chars().count() > 256 || !value.chars().all(allowed) {
            return Err(invalid(format!(
                "metadata value of `{key}` is not a Bedrock requestMetadata value (up to 256 letters, digits, spaces or `:_@$#=/+,.-`)"
            )));
        }
    }
    Ok(metadata.clone().into_iter().collect())
}

fn service_tier(tier: ServiceTier) -> Result<BedrockServiceTier, ProviderError> {
    let kind = match tier {
        ServiceTier::Priority => ServiceTierType::Priority,
        ServiceTier::Default => ServiceTierType::Default,
        ServiceTier::Flex => ServiceTierType::Flex,
    };
    BedrockServiceTier::builder()
        .r#type(kind)
        .build()
        .map_err(|e| invalid(e.to_string()))
}

fn performance(latency: Latency) -> Result<PerformanceConfiguration, ProviderError> {
    let latency = match latency {
        Latency::Standard => PerformanceConfigLatency::Standard,
        Latency::Optimized => PerformanceConfigLatency::Optimized,
    };
    Ok(PerformanceConfiguration::builder().latency(latency).build())
}

fn guardrail(guardrail: &Guardrail) -> Result<GuardrailStreamConfiguration, ProviderError> {
    let trace = match guardrail.trace.as_deref() {
        // On unless turned off: a block is explained by its trace.
        Some("disabled") => GuardrailTrace::Disabled,
        None | Some("enabled") => GuardrailTrace::Enabled,
        Some("enabled_full") => GuardrailTrace::EnabledFull,
        Some(other) => {
            return Err(invalid(format!(
                "guardrail trace `{other}` is not one of enabled, disabled, enabled_full"
            )));
        }
    };
    let mode = match guardrail.stream_processing_mode.as_deref() {
        None | Some("sync") => GuardrailStreamProcessingMode::Sync,
        Some("async") => GuardrailStreamProcessingMode::Async,
        Some(other) => {
            return Err(invalid(format!(
                "guardrail streamProcessingMode `{other}` is not one of sync, async"
            )));
        }
    };
    Ok(GuardrailStreamConfiguration::builder()
        .guardrail_identifier(&guardrail.identifier)
        .guardrail_version(&guardrail.version)
        .trace(trace)
        .stream_processing_mode(mode)
        .build())
}

/// The most documents a request may carry.
pub const MAX_DOCUMENTS: usize = 5;

/// Bedrock's size limit for one document, in bytes (4.5 MB), where one applies: PDFs for
/// Claude 4 and later, and PDF and DOCX for Amazon Nova, are exempt.
pub fn document_size_limit(model_id: &str, format: &str) -> Option<usize> {
    let base = crate::known::base_model_id(model_id);
    let claude_4_or_later = base.starts_with("anthropic.claude-")
        && !base.starts_with("anthropic.claude-3")
        && !base.starts_with("anthropic.claude-v")
        && !base.starts_with("anthropic.claude-instant");
    let exempt = (claude_4_or_later && format == "pdf")
        || (base.starts_with("amazon.nova") && matches!(format, "pdf" | "docx"));
    (!exempt).then_some(4_500_000)
}

/// At most [`MAX_DOCUMENTS`] documents in all.
fn check_documents(messages: &[BedrockMessage], model: &Model) -> Result<(), ProviderError> {
    let count = messages
        .iter()
        .flat_map(|m| m.content())
        .filter(|block| matches!(block, ContentBlock::Document(_)))
        .count();
    if count > MAX_DOCUMENTS {
        return Err(invalid(format!(
            "the conversation has {count} documents; `{}` takes at most {MAX_DOCUMENTS} per request",
            model.id
        )));
    }
    Ok(())
}

/// A document block, if `model` reads documents of this format and size.
fn document_block(document: PincerDocument, model: &Model) -> Result<DocumentBlock, ProviderError> {
    if !model.accepts_documents() {
        return Err(invalid(format!(
            "`{}` does not read documents; send the text, or choose a model that reads {}",
            model.id, document.format
        )));
    }
    let formats = &model.capabilities.document_formats;
    if !formats.is_empty() && !formats.contains(&document.format) {
        return Err(invalid(format!(
            "`{}` does not read {} documents; it reads {}",
            model.id,
            document.format,
            formats.join(", ")
        )));
    }
    if let Some(limit) = document_size_limit(&model.id, &document.format)
        && document.data.len() > limit
    {
        return Err(invalid(format!(
            "the document `{}` is {} bytes; Bedrock takes {} documents of at most {limit} bytes for `{}`",
            document.name,
            document.data.len(),
            document.format,
            model.id
        )));
    }
    let format = match document.format.as_str() {
        "pdf" => DocumentFormat::Pdf,
        "csv" => DocumentFormat::Csv,
        "doc" => DocumentFormat::Doc,
        "docx" => DocumentFormat::Docx,
        "xls" => DocumentFormat::Xls,
        "xlsx" => DocumentFormat::Xlsx,
        "html" => DocumentFormat::Html,
        "txt" => DocumentFormat::Txt,
        "md" => DocumentFormat::Md,
        other => {
            return Err(invalid(format!(
                "documents of format `{other}` are not supported"
            )));
        }
    };
    DocumentBlock::builder()
        .format(format)
        .name(PincerDocument::clean_name(&document.name))
        .source(DocumentSource::Bytes(Blob::new(document.data)))
        .build()
        .map_err(|e| invalid(e.to_string()))
}

fn has_content(block: &UserContent) -> bool {
    match block {
        UserContent::Text { text } => !text.trim().is_empty(),
        UserContent::Image(_) | UserContent::Document(_) => true,
    }
}

fn convert_message(
    message: Message,
    model: &Model,
    names: &mut ToolNames,
) -> Result<Turn, ProviderError> {
    Ok(match message {
        Message::User { content } => Turn {
            role: Role::User,
            parts: content
                .into_iter()
                .filter(has_content)
                .map(|block| match block {
                    UserContent::Text { text } => Part::Text(text),
                    UserContent::Image(image) => Part::Image(image),
                    UserContent::Document(document) => Part::Document(document),
                })
                .collect(),
        },
        Message::Assistant(assistant) => {
            let same_model = assistant.provider == model.provider && assistant.model == model.id;
            let parts = assistant
                .content
                .into_iter()
                .filter_map(|block| match block {
                    AssistantContent::Text { text } if !text.trim().is_empty() => {
                        Some(Part::Text(text))
                    }
                    AssistantContent::Thinking {
                        text,
                        signature: Some(signature),
                    } if same_model && !signature.is_empty() && !text.is_empty() => {
                        Some(Part::Thinking { text, signature })
                    }
                    AssistantContent::RedactedThinking { data } if same_model => {
                        Some(Part::Redacted(data))
                    }
                    AssistantContent::ToolCall(call) => Some(Part::ToolUse {
                        id: bedrock_call_id(&call.id),
                        name: names.bedrock_name(&call.name),
                        input: if call.arguments.is_object() {
                            call.arguments
                        } else {
                            json!({})
                        },
                    }),
                    _ => None,
                })
                .collect();
            Turn {
                role: Role::Assistant,
                parts,
            }
        }
        Message::ToolResult(result) => Turn {
            role: Role::User,
            parts: vec![Part::ToolResult {
                id: bedrock_call_id(&result.tool_call_id),
                name: result.tool_name,
                content: result.content,
                is_error: result.is_error,
            }],
        },
    })
}

/// Whether the last assistant turn holds a tool call answered by the final user turn, and does
/// not start with (signed or redacted) thinking.
fn unsigned_tool_turn(turns: &[Turn]) -> bool {
    let Some(i) = turns.iter().rposition(|t| t.role == Role::Assistant) else {
        return false;
    };
    let assistant = &turns[i];
    let answered = turns[i + 1..]
        .iter()
        .any(|t| t.parts.iter().any(|p| matches!(p, Part::ToolResult { .. })));
    answered
        && assistant
            .parts
            .iter()
            .any(|p| matches!(p, Part::ToolUse { .. }))
        && !matches!(
            assistant.parts.first(),
            Some(Part::Thinking { .. } | Part::Redacted(_))
        )
}

/// Drops empty turns and merges adjacent turns of the same role (tool results first).
fn normalize(turns: Vec<Turn>) -> Vec<Turn> {
    let mut out: Vec<Turn> = Vec::with_capacity(turns.len());
    for turn in turns.into_iter().filter(|t| !t.parts.is_empty()) {
        match out.last_mut() {
            Some(last) if last.role == turn.role => last.parts.extend(turn.parts),
            _ => out.push(turn),
        }
    }
    for turn in out.iter_mut() {
        match turn.role {
            Role::User => turn
                .parts
                .sort_by_key(|p| !matches!(p, Part::ToolResult { .. })),
            // Thinking opens an assistant turn, as the model wrote it.
            Role::Assistant => turn
                .parts
                .sort_by_key(|p| !matches!(p, Part::Thinking { .. } | Part::Redacted(_))),
        }
    }
    out
}

/// Makes every tool call answered by the next user turn, and every result answer a call.
fn pair_tool_calls(turns: &mut Vec<Turn>) {
    let mut i = 0;
    while i < turns.len() {
        if turns[i].role == Role::User {
            let calls: Vec<String> = if i > 0 {
                tool_use_ids(&turns[i - 1])
            } else {
                Vec::new()
            };
            orphan_results_to_text(&mut turns[i], &calls);
        } else {
            let calls = tool_use_ids(&turns[i]);
            if !calls.is_empty() {
                if turns.get(i + 1).is_none_or(|t| t.role != Role::User) {
                    turns.insert(
                        i + 1,
                        Turn {
                            role: Role::User,
                            parts: Vec::new(),
                        },
                    );
                }
                let next = &mut turns[i + 1];
                let answered: Vec<String> = next
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::ToolResult { id, .. } => Some(id.clone()),
                        _ => None,
                    })
                    .collect();
                let missing: Vec<Part> = calls
                    .iter()
                    .filter(|id| !answered.contains(id))
                    .map(|id| Part::ToolResult {
                        id: id.clone(),
                        name: String::new(),
                        content: vec![ToolResultContent::Text {
                            text: "No result was provided for this tool call.".to_owned(),
                        }],
                        is_error: true,
                    })
                    .collect();
                next.parts.splice(0..0, missing);
            }
        }
        i += 1;
    }
}

fn tool_use_ids(turn: &Turn) -> Vec<String> {
    turn.parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolUse { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

fn orphan_results_to_text(turn: &mut Turn, calls: &[String]) {
    for part in &mut turn.parts {
        if let Part::ToolResult {
            id, name, content, ..
        } = part
            && !calls.contains(id)
        {
            *part = Part::Text(format!(
                "Result of tool `{name}` (call {id}): {}",
                ToolResultContent::join_text(content)
            ));
        }
    }
    turn.parts
        .sort_by_key(|p| !matches!(p, Part::ToolResult { .. }));
}

fn tool_config(
    offered: &[Tool],
    options: &RequestOptions,
    names: &mut ToolNames,
    turns: &[Turn],
    history_has_tools: bool,
) -> Result<Option<ToolConfiguration>, ProviderError> {
    let choice = &options.tool_choice;
    if (offered.is_empty() || *choice == ToolChoice::None) && !history_has_tools {
        return Ok(None);
    }
    let mut specs = Vec::new();
    let mut declared = Vec::new();
    for tool in offered {
        let name = names.bedrock_name(&tool.name);
        declared.push(name.clone());
        let schema = if tool.parameters.is_object() {
            tool.parameters.clone()
        } else {
            json!({"type": "object"})
        };
        specs.push(spec(
            &name,
            Some(tool.description.as_str()).filter(|d| !d.is_empty()),
            &schema,
        )?);
    }
    // Tools used in the history but not offered now must still be declared.
    for part in turns.iter().flat_map(|t| &t.parts) {
        if let Part::ToolUse { name, .. } = part
            && !declared.contains(name)
        {
            declared.push(name.clone());
            specs.push(spec(
                name,
                Some("(no longer offered)"),
                &json!({"type": "object", "properties": {}}),
            )?);
        }
    }
    if specs.is_empty() {
        return Ok(None);
    }
    let bedrock_choice = match choice {
        ToolChoice::Required if !offered.is_empty() => {
            Some(BedrockToolChoice::Any(AnyToolChoice::builder().build()))
        }
        ToolChoice::Named(name) if offered.iter().any(|t| &t.name == name) => {
            Some(BedrockToolChoice::Tool(
                SpecificToolChoice::builder()
                    .name(names.bedrock_name(name))
                    .build()
                    .map_err(|e| invalid(e.to_string()))?,
            ))
        }
        ToolChoice::Named(name) => {
            return Err(invalid(format!(
                "tool_choice names `{name}`, which is not among the tools offered"
            )));
        }
        _ => Some(BedrockToolChoice::Auto(AutoToolChoice::builder().build())),
    };
    ToolConfiguration::builder()
        .set_tools(Some(specs))
        .set_tool_choice(bedrock_choice)
        .build()
        .map(Some)
        .map_err(|e| invalid(e.to_string()))
}

fn spec(
    name: &str,
    description: Option<&str>,
    schema: &Value,
) -> Result<BedrockTool, ProviderError> {
    ToolSpecification::builder()
        .name(name)
        .set_description(description.map(str::to_owned))
        .input_schema(ToolInputSchema::Json(to_document(schema)))
        .build()
        .map(BedrockTool::ToolSpec)
        .map_err(|e| invalid(e.to_string()))
}

/// An image block, if `model` takes images of this format (a model with no listed inputs is
/// given the benefit of the doubt).
fn image_block(image: Image, model: &Model) -> Result<ImageBlock, ProviderError> {
    if !(model.accepts_images() || model.input.is_empty()) {
        return Err(invalid(format!(
            "`{}` does not accept images; send text only, or choose a model that takes images",
            model.id
        )));
    }
    let (format, name) = match image.media_type.to_ascii_lowercase().as_str() {
        "image/png" => (ImageFormat::Png, "png"),
        "image/jpeg" | "image/jpg" => (ImageFormat::Jpeg, "jpeg"),
        "image/gif" => (ImageFormat::Gif, "gif"),
        "image/webp" => (ImageFormat::Webp, "webp"),
        other => {
            return Err(invalid(format!(
                "images of type `{other}` are not supported; use png, jpeg, gif or webp"
            )));
        }
    };
    let formats = &model.capabilities.image_formats;
    if !formats.is_empty() && !formats.iter().any(|f| f == name) {
        return Err(invalid(format!(
            "`{}` does not accept {name} images; it takes {}",
            model.id,
            formats.join(", ")
        )));
    }
    ImageBlock::builder()
        .format(format)
        .source(ImageSource::Bytes(Blob::new(image.data)))
        .build()
        .map_err(|e| invalid(e.to_string()))
}

fn to_block(part: Part, model: &Model) -> Result<ContentBlock, ProviderError> {
    Ok(match part {
        Part::Text(text) => ContentBlock::Text(text),
        Part::Image(image) => ContentBlock::Image(image_block(image, model)?),
        Part::Document(document) => ContentBlock::Document(document_block(document, model)?),
        Part::Thinking { text, signature } => {
            ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(
                ReasoningTextBlock::builder()
                    .text(text)
                    .signature(signature)
                    .build()
                    .map_err(|e| invalid(e.to_string()))?,
            ))
        }
        Part::Redacted(data) => {
            ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(Blob::new(data)))
        }
        Part::ToolUse { id, name, input } => ContentBlock::ToolUse(
            ToolUseBlock::builder()
                .tool_use_id(id)
                .name(name)
                .input(to_document(&input))
                .build()
                .map_err(|e| invalid(e.to_string()))?,
        ),
        Part::ToolResult {
            id,
            content,
            is_error,
            ..
        } => {
            let mut blocks = Vec::with_capacity(content.len());
            for item in content {
                blocks.push(match item {
                    ToolResultContent::Text { text } if text.is_empty() => continue,
                    ToolResultContent::Text { text } => ToolResultContentBlock::Text(text),
                    ToolResultContent::Json { value } => {
                        ToolResultContentBlock::Json(to_document(&value))
                    }
                    ToolResultContent::Image(image) => {
                        ToolResultContentBlock::Image(image_block(image, model)?)
                    }
                    ToolResultContent::Document(document) => {
                        ToolResultContentBlock::Document(document_block(document, model)?)
                    }
                });
            }
            if blocks.is_empty() {
                blocks.push(ToolResultContentBlock::Text("(empty result)".to_owned()));
            }
            ContentBlock::ToolResult(
                ToolResultBlock::builder()
                    .tool_use_id(id)
                    .set_content(Some(blocks))
                    .set_status(is_error.then_some(ToolResultStatus::Error))
                    .build()
                    .map_err(|e| invalid(e.to_string()))?,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use pincer_core::{AssistantMessage, Conversation, Model, Prices, RequestOptions};

    use super::*;

    fn request(messages: Vec<Message>) -> ProviderRequest {
        ProviderRequest {
            model: Model {
                provider: "amazon-bedrock".into(),
                id: "us.amazon.nova-pro-v1:0".into(),
                name: "Nova Pro".into(),
                reasoning: None,
                input: vec![],
                prices: Prices::default(),
                context_window: 300_000,
                max_tokens: 4096,
                prompt_cache: false,
                capabilities: Default::default(),
                defaults: Default::default(),
            },
            conversation: Conversation {
                messages,
                ..Conversation::default()
            },
            options: RequestOptions::default(),
        }
    }

    #[test]
    fn a_conversation_of_empty_messages_is_refused_not_sent_empty() {
        // Found by the `chat_request` fuzz target: `{"messages": [{"role": "assistant"}]}` built
        // a request with no messages at all, which Bedrock refuses.
        let empty_assistant = Message::Assistant(AssistantMessage::default());
        for messages in [
            vec![empty_assistant.clone()],
            vec![empty_assistant.clone(), empty_assistant],
        ] {
            let error = build(request(messages)).unwrap_err();
            assert_eq!(error.kind, ErrorKind::Validation);
            assert!(error.message.contains("empty"), "{error}");
        }
    }

    #[test]
    fn an_assistant_turn_alone_gets_a_user_turn_before_it() {
        let assistant = Message::Assistant(AssistantMessage {
            content: vec![AssistantContent::Text {
                text: "Hello. ".into(),
            }],
            ..AssistantMessage::default()
        });
        let built = build(request(vec![assistant])).unwrap();
        let roles: Vec<_> = built.messages.iter().map(|m| m.role().clone()).collect();
        assert_eq!(roles, [ConversationRole::User, ConversationRole::Assistant]);
        assert_eq!(
            built.messages[1].content(),
            [ContentBlock::Text("Hello.".into())]
        );
    }
}
