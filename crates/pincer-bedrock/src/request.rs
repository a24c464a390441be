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
//! - thinking blocks are replayed (with their signatures) only to the model that produced them;
//! - limits and reasoning are resolved by `reasoning`, cache points placed for models that cache.

use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, AutoToolChoice, CachePointBlock, CachePointType, CacheTtl, ContentBlock,
    ConversationRole, ImageBlock, ImageFormat, ImageSource, InferenceConfiguration,
    Message as BedrockMessage, ReasoningContentBlock, ReasoningTextBlock, SpecificToolChoice,
    SystemContentBlock, Tool as BedrockTool, ToolChoice as BedrockToolChoice, ToolConfiguration,
    ToolInputSchema, ToolResultBlock, ToolResultContentBlock, ToolResultStatus, ToolSpecification,
    ToolUseBlock,
};
use aws_smithy_types::{Blob, Document};
use pincer_core::{
    AssistantContent, CacheRetention, Conversation, ErrorKind, Image, Message, Model,
    ProviderError, ProviderRequest, RequestOptions, Tool, ToolChoice, ToolResultContent,
    UserContent,
};
use serde_json::{Value, json};

use crate::document::to_document;
use crate::reasoning::{self, Inference};
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
        conversation,
        options,
    } = request;
    let model = &model;
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
    for (i, turn) in turns.into_iter().enumerate() {
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
    let resolved = reasoning::resolve(model, options);
    let inference = InferenceConfiguration::builder()
        .max_tokens(i32::try_from(resolved.max_tokens).unwrap_or(i32::MAX))
        .set_temperature(resolved.temperature)
        .set_top_p(resolved.top_p)
        .set_stop_sequences((!options.stop.is_empty()).then(|| options.stop.clone()))
        .build();
    Ok(ConverseRequest {
        model_id: model.id.clone(),
        system,
        messages,
        tool_config,
        inference,
        additional_fields: resolved.additional_fields.as_ref().map(to_document),
        tool_names: names,
        resolved,
    })
}

fn has_content(block: &UserContent) -> bool {
    match block {
        UserContent::Text { text } => !text.trim().is_empty(),
        UserContent::Image(_) => true,
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

/// Drops empty turns and merges adjacent turns of the same role (tool results first).
fn normalize(turns: Vec<Turn>) -> Vec<Turn> {
    let mut out: Vec<Turn> = Vec::with_capacity(turns.len());
    for turn in turns.into_iter().filter(|t| !t.parts.is_empty()) {
        match out.last_mut() {
            Some(last) if last.role == turn.role => last.parts.extend(turn.parts),
            _ => out.push(turn),
        }
    }
    for turn in out.iter_mut().filter(|t| t.role == Role::User) {
        turn.parts
            .sort_by_key(|p| !matches!(p, Part::ToolResult { .. }));
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
