//! A Messages API request → Pincer's conversation and options.
//!
//! `tool_result` blocks of a user turn become tool results, ahead of the turn's other content;
//! `cache_control` markers choose the cache retention (`ttl: "1h"` anywhere: Bedrock's one-hour
//! cache points, else five minutes) while Pincer places the cache points; thinking blocks go
//! back with their signatures (a signature Pincer sealed, when thinking was not displayed,
//! opens into the reasoning and Bedrock's signature). Every rejection names its field.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pincer_core::{
    AssistantContent, AssistantMessage, CacheRetention, Conversation, Document, Guardrail, Image,
    Message, ReasoningLevel, RequestOptions, ResponseFormat, ServiceTier, Tool, ToolCall,
    ToolChoice, ToolResult, ToolResultContent, UserContent,
};
use serde_json::{Value, json};

use crate::types::MessagesRequest;

/// A request field that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct RequestError {
    /// The field, as a path (`messages[0].content[1]`).
    pub param: String,
    /// What is wrong.
    pub message: String,
}

fn reject(param: impl Into<String>, message: impl Into<String>) -> RequestError {
    RequestError {
        param: param.into(),
        message: message.into(),
    }
}

/// What a request asks for, in Pincer's terms.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The conversation.
    pub conversation: Conversation,
    /// Options.
    pub options: RequestOptions,
    /// Whether to stream.
    pub stream: bool,
    /// Whether thinking text is shown (`thinking.display` is not `omitted`); when it is not, a
    /// thinking block carries the reasoning sealed in its signature.
    pub display_thinking: bool,
}

fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_null())
}

fn string(value: &Value, key: &str, at: &str) -> Result<String, RequestError> {
    match field(value, key) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(reject(format!("{at}.{key}"), "must be a string")),
        None => Err(reject(format!("{at}.{key}"), "is required")),
    }
}

fn kind<'a>(block: &'a Value, at: &str) -> Result<&'a str, RequestError> {
    field(block, "type")
        .and_then(Value::as_str)
        .ok_or_else(|| reject(format!("{at}.type"), "is required"))
}

/// Refuses a key `allowed` does not list.
fn only(value: &Value, allowed: &[&str], at: &str) -> Result<(), RequestError> {
    if let Some(object) = value.as_object()
        && let Some(key) = object.keys().find(|k| !allowed.contains(&k.as_str()))
    {
        return Err(reject(
            format!("{at}.{key}"),
            format!("Extra inputs are not permitted: {key}"),
        ));
    }
    Ok(())
}

/// The longest `cache_control.ttl` asked for, checked.
#[derive(Debug, Default)]
struct Caching {
    asked: bool,
    long: bool,
}

impl Caching {
    fn read(&mut self, block: &Value, at: &str) -> Result<(), RequestError> {
        let Some(control) = field(block, "cache_control") else {
            return Ok(());
        };
        let at = format!("{at}.cache_control");
        only(control, &["type", "ttl"], &at)?;
        if field(control, "type").and_then(Value::as_str) != Some("ephemeral") {
            return Err(reject(
                format!("{at}.type"),
                "the only cache type is `ephemeral`",
            ));
        }
        match field(control, "ttl").and_then(Value::as_str) {
            None | Some("5m") => {}
            Some("1h") => self.long = true,
            Some(other) => {
                return Err(reject(
                    format!("{at}.ttl"),
                    format!("`{other}` is not one of 5m, 1h"),
                ));
            }
        }
        self.asked = true;
        Ok(())
    }
}

/// Converts `request`; `provider` and `model` identify the first model it will be sent to (its
/// assistant turns are attributed to it); `betas` are the `anthropic-beta` flags Bedrock takes.
pub fn convert(
    request: MessagesRequest,
    provider: &str,
    model: &str,
    betas: Vec<String>,
) -> Result<Converted, RequestError> {
    for (key, value) in [
        ("container", &request.container),
        ("mcp_servers", &request.mcp_servers),
    ] {
        if value.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(reject(
                key,
                format!("`{key}` needs Anthropic's server tools, which Bedrock does not run"),
            ));
        }
    }
    if request.messages.is_empty() {
        return Err(reject("messages", "at least one message is required"));
    }
    let mut caching = Caching::default();
    let mut system = match &request.system {
        None => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Array(blocks)) => {
            let mut texts = Vec::new();
            for (i, block) in blocks.iter().enumerate() {
                let at = format!("system[{i}]");
                if kind(block, &at)? != "text" {
                    return Err(reject(
                        format!("{at}.type"),
                        "system blocks are text blocks",
                    ));
                }
                only(block, &["type", "text", "cache_control", "citations"], &at)?;
                caching.read(block, &at)?;
                texts.push(string(block, "text", &at)?);
            }
            Some(texts.join("\n\n"))
        }
        Some(_) => {
            return Err(reject(
                "system",
                "must be a string or a list of text blocks",
            ));
        }
    };
    let mut messages = Vec::with_capacity(request.messages.len());
    let mut names: Vec<(String, String)> = Vec::new();
    for (i, message) in request.messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        only(message, &["role", "content"], &at)?;
        let role = string(message, "role", &at)?;
        let content = field(message, "content")
            .ok_or_else(|| reject(format!("{at}.content"), "is required"))?;
        let blocks: Vec<Value> = match content {
            Value::String(text) => vec![json!({"type": "text", "text": text})],
            Value::Array(blocks) => blocks.clone(),
            _ => {
                return Err(reject(
                    format!("{at}.content"),
                    "must be a string or a list of blocks",
                ));
            }
        };
        match role.as_str() {
            "user" => user_turn(
                &blocks,
                &format!("{at}.content"),
                &names,
                &mut caching,
                &mut messages,
            )?,
            "assistant" => {
                let (content, origin) =
                    assistant_turn(&blocks, &format!("{at}.content"), &mut names, &mut caching)?;
                // Attributed to the model a sealed signature names (its reasoning then goes to
                // that model only), else to the model asked.
                let (provider, model) =
                    origin.unwrap_or_else(|| (provider.to_owned(), model.to_owned()));
                messages.push(Message::Assistant(AssistantMessage {
                    content,
                    provider,
                    model,
                    ..AssistantMessage::default()
                }));
            }
            // Claude Code sends its environment as a system turn inside `messages`; Bedrock has
            // one system prompt, to which it is joined.
            "system" => {
                let mut texts = Vec::new();
                for (j, block) in blocks.iter().enumerate() {
                    let at = format!("{at}.content[{j}]");
                    if kind(block, &at)? != "text" {
                        return Err(reject(
                            format!("{at}.type"),
                            "a system turn holds text blocks",
                        ));
                    }
                    caching.read(block, &at)?;
                    texts.push(string(block, "text", &at)?);
                }
                let text = texts.join("\n\n");
                system = Some(match system.take() {
                    Some(before) if !before.is_empty() => format!("{before}\n\n{text}"),
                    _ => text,
                });
            }
            other => {
                return Err(reject(
                    format!("{at}.role"),
                    format!("`{other}` is not one of user, assistant, system"),
                ));
            }
        }
    }
    let mut tools = Vec::new();
    for (i, tool) in request.tools.iter().flatten().enumerate() {
        let at = format!("tools[{i}]");
        match field(tool, "type").and_then(Value::as_str) {
            None | Some("custom") => {}
            Some(other) => {
                return Err(reject(
                    format!("{at}.type"),
                    format!(
                        "`{other}` is one of Anthropic's server or built-in tools, which Pincer does not run; declare a custom tool with an input_schema"
                    ),
                ));
            }
        }
        only(
            tool,
            &[
                "type",
                "name",
                "description",
                "input_schema",
                "cache_control",
                "strict",
                "defer_loading",
                "input_examples",
            ],
            &at,
        )?;
        caching.read(tool, &at)?;
        tools.push(Tool {
            name: string(tool, "name", &at)?,
            description: field(tool, "description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            parameters: field(tool, "input_schema")
                .cloned()
                .ok_or_else(|| reject(format!("{at}.input_schema"), "is required"))?,
        });
    }
    let (tool_choice, parallel_tool_calls) = match &request.tool_choice {
        None => (ToolChoice::Auto, true),
        Some(choice) => {
            only(
                choice,
                &["type", "name", "disable_parallel_tool_use"],
                "tool_choice",
            )?;
            let parallel = !field(choice, "disable_parallel_tool_use")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let mode = match kind(choice, "tool_choice")? {
                "auto" => ToolChoice::Auto,
                "any" => ToolChoice::Required,
                "none" => ToolChoice::None,
                "tool" => ToolChoice::Named(string(choice, "name", "tool_choice")?),
                other => {
                    return Err(reject(
                        "tool_choice.type",
                        format!("`{other}` is not one of auto, any, tool, none"),
                    ));
                }
            };
            (mode, parallel)
        }
    };
    let output_config = request.output_config.clone().unwrap_or(Value::Null);
    if !output_config.is_null() {
        only(&output_config, &["effort", "format"], "output_config")?;
    }
    let effort = match field(&output_config, "effort").and_then(Value::as_str) {
        None => None,
        Some("low") => Some(ReasoningLevel::Low),
        Some("medium") => Some(ReasoningLevel::Medium),
        Some("high") => Some(ReasoningLevel::High),
        Some("max") => Some(ReasoningLevel::Xhigh),
        Some(other) => {
            return Err(reject(
                "output_config.effort",
                format!("`{other}` is not one of low, medium, high, max"),
            ));
        }
    };
    let mut display_thinking = true;
    let mut reasoning_budget = None;
    let reasoning = match &request.thinking {
        None => ReasoningLevel::Off,
        Some(thinking) => {
            only(thinking, &["type", "budget_tokens", "display"], "thinking")?;
            match field(thinking, "display").and_then(Value::as_str) {
                None | Some("summarized" | "full") => {}
                Some("omitted") => display_thinking = false,
                Some(other) => {
                    return Err(reject(
                        "thinking.display",
                        format!("`{other}` is not one of summarized, omitted"),
                    ));
                }
            }
            match kind(thinking, "thinking")? {
                "disabled" => ReasoningLevel::Off,
                "enabled" => {
                    let budget = field(thinking, "budget_tokens")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| {
                            reject(
                                "thinking.budget_tokens",
                                "an enabled thinking needs its budget_tokens",
                            )
                        })?;
                    if budget < 1024 {
                        return Err(reject("thinking.budget_tokens", "must be at least 1024"));
                    }
                    if budget >= u64::from(request.max_tokens) {
                        return Err(reject(
                            "thinking.budget_tokens",
                            "must be less than max_tokens",
                        ));
                    }
                    reasoning_budget = u32::try_from(budget).ok();
                    effort.unwrap_or(ReasoningLevel::High)
                }
                "adaptive" => effort.unwrap_or(ReasoningLevel::High),
                other => {
                    return Err(reject(
                        "thinking.type",
                        format!("`{other}` is not one of enabled, adaptive, disabled"),
                    ));
                }
            }
        }
    };
    let format = field(&output_config, "format").or(request.output_format.as_ref());
    let response_format = match format {
        None => None,
        Some(format) => {
            let at = if field(&output_config, "format").is_some() {
                "output_config.format"
            } else {
                "output_format"
            };
            only(format, &["type", "schema"], at)?;
            if kind(format, at)? != "json_schema" {
                return Err(reject(
                    format!("{at}.type"),
                    "the only format is `json_schema`",
                ));
            }
            Some(ResponseFormat::JsonSchema {
                name: "output".to_owned(),
                description: None,
                schema: field(format, "schema")
                    .cloned()
                    .ok_or_else(|| reject(format!("{at}.schema"), "is required"))?,
                strict: true,
            })
        }
    };
    let mut metadata = std::collections::BTreeMap::new();
    for (key, value) in request.metadata.iter().flatten() {
        if key != "user_id" {
            return Err(reject(
                format!("metadata.{key}"),
                "the only metadata field is user_id",
            ));
        }
        // Bedrock's requestMetadata takes 256 characters of a small set; an id outside it (Claude
        // Code's is JSON) stays out, with a debug log.
        match value.as_str() {
            Some(id) if request_metadata_value(id) => {
                metadata.insert("user_id".to_owned(), id.to_owned());
            }
            _ => tracing::debug!(
                "metadata.user_id not sent to Bedrock: outside requestMetadata's characters or length"
            ),
        }
    }
    let service_tier = match request.service_tier.as_deref() {
        None | Some("auto") => None,
        Some("standard_only") => Some(ServiceTier::Default),
        Some(other) => {
            return Err(reject(
                "service_tier",
                format!("`{other}` is not one of auto, standard_only"),
            ));
        }
    };
    let mut native_fields = serde_json::Map::new();
    let mut betas = betas;
    if let Some(top_k) = request.top_k {
        native_fields.insert("top_k".to_owned(), json!(top_k));
    }
    if let Some(context) = request.context_management.as_ref().filter(|c| !c.is_null()) {
        native_fields.insert("context_management".to_owned(), context.clone());
        let flag = "context-management-2025-06-27";
        if !betas.iter().any(|b| b == flag) {
            betas.push(flag.to_owned());
        }
    }
    if !betas.is_empty() {
        native_fields.insert("anthropic_beta".to_owned(), json!(betas));
    }
    Ok(Converted {
        conversation: Conversation {
            system,
            messages,
            tools,
        },
        options: RequestOptions {
            max_tokens: Some(request.max_tokens),
            temperature: request.temperature,
            top_p: request.top_p,
            stop: request.stop_sequences.clone().unwrap_or_default(),
            reasoning,
            reasoning_budget,
            tool_choice,
            parallel_tool_calls,
            cache_retention: if caching.long {
                CacheRetention::Long
            } else {
                CacheRetention::Short
            },
            response_format,
            metadata,
            service_tier,
            guardrail: request.guardrail.map(|g| Guardrail {
                identifier: g.identifier,
                version: g.version,
                trace: g.trace,
                stream_processing_mode: g.stream_processing_mode,
            }),
            native_fields,
            ..RequestOptions::default()
        },
        stream: request.stream,
        display_thinking,
    })
}

/// Whether Bedrock's `requestMetadata` takes `value`.
fn request_metadata_value(value: &str) -> bool {
    value.chars().count() <= 256
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " :_@$#=/+,-.".contains(c))
}

fn user_turn(
    blocks: &[Value],
    at: &str,
    names: &[(String, String)],
    caching: &mut Caching,
    messages: &mut Vec<Message>,
) -> Result<(), RequestError> {
    let mut content = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        let at = format!("{at}[{j}]");
        caching.read(block, &at)?;
        if kind(block, &at)? == "tool_result" {
            only(
                block,
                &[
                    "type",
                    "tool_use_id",
                    "content",
                    "is_error",
                    "cache_control",
                ],
                &at,
            )?;
            let id = string(block, "tool_use_id", &at)?;
            let parts = match field(block, "content") {
                None => Vec::new(),
                Some(Value::String(text)) => vec![ToolResultContent::Text { text: text.clone() }],
                Some(Value::Array(parts)) => parts
                    .iter()
                    .enumerate()
                    .map(|(k, part)| {
                        let at = format!("{at}.content[{k}]");
                        caching.read(part, &at)?;
                        Ok(match user_block(part, &at)? {
                            UserContent::Text { text } => ToolResultContent::Text { text },
                            UserContent::Image(image) => ToolResultContent::Image(image),
                            UserContent::Document(document) => {
                                ToolResultContent::Document(document)
                            }
                        })
                    })
                    .collect::<Result<_, RequestError>>()?,
                Some(_) => {
                    return Err(reject(
                        format!("{at}.content"),
                        "must be a string or a list of blocks",
                    ));
                }
            };
            messages.push(Message::ToolResult(ToolResult {
                tool_name: names
                    .iter()
                    .find(|(i, _)| *i == id)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default(),
                tool_call_id: id,
                content: parts,
                is_error: field(block, "is_error")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            }));
        } else {
            content.push(user_block(block, &at)?);
        }
    }
    if !content.is_empty() {
        messages.push(Message::User { content });
    }
    Ok(())
}

/// A text, image or document block of a user turn (or of a tool result).
fn user_block(block: &Value, at: &str) -> Result<UserContent, RequestError> {
    match kind(block, at)? {
        "text" => {
            only(block, &["type", "text", "cache_control", "citations"], at)?;
            Ok(UserContent::Text {
                text: string(block, "text", at)?,
            })
        }
        "image" => {
            only(block, &["type", "source", "cache_control"], at)?;
            let source = field(block, "source")
                .ok_or_else(|| reject(format!("{at}.source"), "is required"))?;
            let at = format!("{at}.source");
            match kind(source, &at)? {
                "base64" => {
                    let data = STANDARD
                        .decode(string(source, "data", &at)?.trim())
                        .map_err(|e| {
                            reject(format!("{at}.data"), format!("invalid base64: {e}"))
                        })?;
                    let Some(media_type) = Image::sniff(&data) else {
                        return Err(reject(
                            format!("{at}.data"),
                            "not a PNG, JPEG, GIF or WebP image",
                        ));
                    };
                    Ok(UserContent::Image(Image {
                        media_type: media_type.to_owned(),
                        data,
                    }))
                }
                other => Err(reject(
                    format!("{at}.type"),
                    format!("`{other}` image sources are not fetched; send the image as base64"),
                )),
            }
        }
        "document" => {
            only(
                block,
                &[
                    "type",
                    "source",
                    "title",
                    "context",
                    "citations",
                    "cache_control",
                ],
                at,
            )?;
            let source = field(block, "source")
                .ok_or_else(|| reject(format!("{at}.source"), "is required"))?;
            let title = field(block, "title").and_then(Value::as_str);
            let sat = format!("{at}.source");
            let (format, data) = match kind(source, &sat)? {
                "base64" => {
                    let media = string(source, "media_type", &sat)?;
                    let data = STANDARD
                        .decode(string(source, "data", &sat)?.trim())
                        .map_err(|e| {
                            reject(format!("{sat}.data"), format!("invalid base64: {e}"))
                        })?;
                    let format = Document::format_of(Some(&media), title).ok_or_else(|| {
                        reject(
                            format!("{sat}.media_type"),
                            format!("`{media}` is not a document format Bedrock reads"),
                        )
                    })?;
                    (format, data)
                }
                "text" => ("txt", string(source, "data", &sat)?.into_bytes()),
                other => {
                    return Err(reject(
                        format!("{sat}.type"),
                        format!("`{other}` document sources are not offered; send base64 or text"),
                    ));
                }
            };
            if !Document::bytes_fit(format, &data) {
                return Err(reject(
                    format!("{sat}.data"),
                    format!("the data is not a {format} document"),
                ));
            }
            Ok(UserContent::Document(Document {
                format: format.to_owned(),
                name: title.map_or_else(|| format!("document.{format}"), str::to_owned),
                data,
            }))
        }
        other => Err(reject(
            format!("{at}.type"),
            format!(
                "`{other}` blocks are not offered in a user turn; send text, image, document or tool_result"
            ),
        )),
    }
}

/// `(provider, model)` of the model that wrote a turn.
type Origin = (String, String);

fn assistant_turn(
    blocks: &[Value],
    at: &str,
    names: &mut Vec<(String, String)>,
    caching: &mut Caching,
) -> Result<(Vec<AssistantContent>, Option<Origin>), RequestError> {
    let mut content = Vec::new();
    let mut origin = None;
    for (j, block) in blocks.iter().enumerate() {
        let at = format!("{at}[{j}]");
        caching.read(block, &at)?;
        match kind(block, &at)? {
            "text" => {
                only(block, &["type", "text", "cache_control", "citations"], &at)?;
                let text = string(block, "text", &at)?;
                if !text.is_empty() {
                    content.push(AssistantContent::Text { text });
                }
            }
            "thinking" => {
                only(
                    block,
                    &["type", "thinking", "signature", "cache_control"],
                    &at,
                )?;
                let text = string(block, "thinking", &at)?;
                let signature = field(block, "signature").and_then(Value::as_str);
                let opened = match signature {
                    Some(signature) => pincer_core::sealed::unseal(signature)
                        .map_err(|why| reject(format!("{at}.signature"), why))?,
                    None => None,
                };
                match opened {
                    Some(opened) => {
                        if opened.origin.is_some() {
                            origin = opened.origin;
                        }
                        content.push(opened.block);
                    }
                    None => content.push(AssistantContent::Thinking {
                        text,
                        signature: signature.map(str::to_owned),
                    }),
                }
            }
            "redacted_thinking" => {
                only(block, &["type", "data"], &at)?;
                let data = STANDARD
                    .decode(string(block, "data", &at)?.trim())
                    .map_err(|e| reject(format!("{at}.data"), format!("invalid base64: {e}")))?;
                content.push(AssistantContent::RedactedThinking { data });
            }
            "tool_use" => {
                only(
                    block,
                    &["type", "id", "name", "input", "cache_control", "caller"],
                    &at,
                )?;
                let id = string(block, "id", &at)?;
                let name = string(block, "name", &at)?;
                names.push((id.clone(), name.clone()));
                content.push(AssistantContent::ToolCall(ToolCall {
                    id,
                    name,
                    arguments: field(block, "input").cloned().unwrap_or_else(|| json!({})),
                }));
            }
            other => {
                return Err(reject(
                    format!("{at}.type"),
                    format!("`{other}` blocks are not offered in an assistant turn"),
                ));
            }
        }
    }
    Ok((content, origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_json(value: Value) -> Result<Converted, RequestError> {
        convert(
            serde_json::from_value(value).unwrap(),
            "amazon-bedrock",
            "m",
            Vec::new(),
        )
    }

    #[test]
    fn a_tool_turn_with_thinking_maps_block_by_block() {
        let converted = convert_json(json!({
            "model": "claude-sonnet-4-5", "max_tokens": 4096,
            "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
            "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "look it up", "signature": "sig"},
                    {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Paris"}},
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "sunny"},
                    {"type": "text", "text": "and tomorrow?"},
                ]},
            ],
        }))
        .unwrap();
        let c = &converted.conversation;
        assert_eq!(c.system.as_deref(), Some("be brief"));
        assert_eq!(c.messages.len(), 4, "{:?}", c.messages);
        assert!(matches!(&c.messages[2], Message::ToolResult(r) if r.tool_name == "get_weather"));
        assert!(matches!(&c.messages[3], Message::User { .. }));
        let o = &converted.options;
        assert_eq!(o.reasoning_budget, Some(2048));
        assert_eq!(o.cache_retention, CacheRetention::Long);
        assert!(!o.parallel_tool_calls);
    }

    #[test]
    fn bad_fields_are_named() {
        for (body, param) in [
            (
                json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "https://x"}}]}]}),
                "messages[0].content[0].source.type",
            ),
            (
                json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
                "tools[0].type",
            ),
            (
                json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}], "thinking": {"type": "enabled", "budget_tokens": 500}}),
                "thinking.budget_tokens",
            ),
            (
                json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "2h"}}]}]}),
                "messages[0].content[0].cache_control.ttl",
            ),
            (
                json!({"model": "m", "max_tokens": 10, "messages": []}),
                "messages",
            ),
        ] {
            assert_eq!(
                convert_json(body.clone()).unwrap_err().param,
                param,
                "{body}"
            );
        }
    }

    #[test]
    fn claude_codes_fields_go_on_to_bedrock() {
        let converted = convert(
            serde_json::from_value(json!({
                "model": "m", "max_tokens": 100, "system": "base",
                "messages": [{"role": "user", "content": "x"},
                             {"role": "system", "content": [{"type": "text", "text": "# Environment"}]}],
                "thinking": {"type": "adaptive", "display": "omitted"},
                "output_config": {"effort": "medium"},
                "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
                "metadata": {"user_id": "{\"device_id\":\"abc\"}"},
            }))
            .unwrap(),
            "amazon-bedrock",
            "m",
            vec!["interleaved-thinking-2025-05-14".to_owned()],
        )
        .unwrap();
        assert!(!converted.display_thinking);
        assert_eq!(
            converted.conversation.system.as_deref(),
            Some("base\n\n# Environment")
        );
        assert_eq!(converted.conversation.messages.len(), 1);
        let o = converted.options;
        assert_eq!(o.reasoning, ReasoningLevel::Medium);
        assert!(
            o.metadata.is_empty(),
            "a JSON user_id is not requestMetadata"
        );
        assert_eq!(
            o.native_fields["anthropic_beta"],
            json!([
                "interleaved-thinking-2025-05-14",
                "context-management-2025-06-27"
            ])
        );
        assert!(o.native_fields["context_management"].is_object());
    }
}
