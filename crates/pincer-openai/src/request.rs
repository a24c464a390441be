//! An OpenAI chat-completions request → Pincer's conversation and options.
//!
//! Every rejection names the request field at fault (`messages[2].content[1].image_url.url`), so
//! the gateway can answer with OpenAI's error shape and a precise `param`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pincer_core::{
    AssistantContent, AssistantMessage, Conversation, Document, Image, Message, RequestOptions,
    ResponseFormat, Tool, ToolCall, ToolChoice, ToolResult, ToolResultContent, UserContent,
};

use crate::types::{
    ChatCompletionRequest, ChatMessage, Content, ContentPart, FileParam, ResponseFormatParam,
    ToolChoiceParam,
};

/// A request field that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct RequestError {
    /// The field, as a path (`messages[0].content`).
    pub param: String,
    /// What is wrong.
    pub message: String,
}

pub(crate) fn reject(param: impl Into<String>, message: impl Into<String>) -> RequestError {
    RequestError {
        param: param.into(),
        message: message.into(),
    }
}

/// What a request asks for, in Pincer's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// The conversation.
    pub conversation: Conversation,
    /// Options.
    pub options: RequestOptions,
    /// Whether to stream.
    pub stream: bool,
    /// Whether to send a final usage chunk when streaming.
    pub include_usage: bool,
}

/// Converts `request`; `provider` and `model` identify the model it will be sent to (assistant
/// turns replayed with a reasoning signature are attributed to it, so their signatures go to
/// that model only).
pub fn convert(
    request: ChatCompletionRequest,
    provider: &str,
    model: &str,
) -> Result<Converted, RequestError> {
    if request.messages.is_empty() {
        return Err(reject("messages", "at least one message is required"));
    }
    refuse_unsupported(&request)?;
    let mut system: Vec<String> = Vec::new();
    let mut messages = Vec::with_capacity(request.messages.len());
    // Tool names by call id, to label tool results.
    let mut call_names: Vec<(String, String)> = Vec::new();
    for (i, message) in request.messages.into_iter().enumerate() {
        let at = format!("messages[{i}]");
        match message {
            ChatMessage::System { content, .. } | ChatMessage::Developer { content, .. } => {
                system.push(text_only(content, &format!("{at}.content"))?);
            }
            ChatMessage::User { content, .. } => messages.push(Message::User {
                content: user_content(content, &at)?,
            }),
            ChatMessage::Assistant {
                content,
                reasoning_content,
                reasoning_signature,
                reasoning_redacted,
                tool_calls,
                audio,
                function_call,
                ..
            } => {
                if audio.is_some() {
                    return Err(reject(format!("{at}.audio"), "audio is not offered"));
                }
                if function_call.is_some() {
                    return Err(reject(
                        format!("{at}.function_call"),
                        "function_call is deprecated; send tool_calls",
                    ));
                }
                let mut blocks = Vec::new();
                for (j, data) in reasoning_redacted.into_iter().flatten().enumerate() {
                    let data = STANDARD.decode(data.trim()).map_err(|e| {
                        reject(
                            format!("{at}.reasoning_redacted[{j}]"),
                            format!("invalid base64: {e}"),
                        )
                    })?;
                    blocks.push(AssistantContent::RedactedThinking { data });
                }
                if let Some(reasoning) = reasoning_content.filter(|r| !r.is_empty()) {
                    blocks.push(AssistantContent::Thinking {
                        text: reasoning,
                        signature: reasoning_signature,
                    });
                }
                if let Some(content) = content {
                    let text = text_only(content, &format!("{at}.content"))?;
                    if !text.is_empty() {
                        blocks.push(AssistantContent::Text { text });
                    }
                }
                for (j, call) in tool_calls.into_iter().flatten().enumerate() {
                    let param = format!("{at}.tool_calls[{j}].function.arguments");
                    let arguments = if call.function.arguments.trim().is_empty() {
                        serde_json::json!({})
                    } else {
                        serde_json::from_str(&call.function.arguments)
                            .map_err(|e| reject(&param, format!("not valid JSON: {e}")))?
                    };
                    call_names.push((call.id.clone(), call.function.name.clone()));
                    blocks.push(AssistantContent::ToolCall(ToolCall {
                        id: call.id,
                        name: call.function.name,
                        arguments,
                    }));
                }
                messages.push(Message::Assistant(AssistantMessage {
                    content: blocks,
                    provider: provider.to_owned(),
                    model: model.to_owned(),
                    ..AssistantMessage::default()
                }));
            }
            ChatMessage::Tool {
                tool_call_id,
                content,
            } => {
                let tool_name = call_names
                    .iter()
                    .find(|(id, _)| *id == tool_call_id)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default();
                let content = match content {
                    Content::Text(text) => vec![ToolResultContent::Text { text }],
                    Content::Parts(parts) => user_content(Content::Parts(parts), &at)?
                        .into_iter()
                        .map(|part| match part {
                            UserContent::Text { text } => ToolResultContent::Text { text },
                            UserContent::Image(image) => ToolResultContent::Image(image),
                            UserContent::Document(document) => {
                                ToolResultContent::Document(document)
                            }
                        })
                        .collect(),
                };
                messages.push(Message::ToolResult(ToolResult {
                    tool_call_id,
                    tool_name,
                    content,
                    is_error: false,
                }));
            }
        }
    }
    let mut tools = Vec::new();
    for (i, tool) in request.tools.into_iter().flatten().enumerate() {
        if tool.kind != "function" {
            return Err(reject(
                format!("tools[{i}].type"),
                format!("`{}` tools are not supported; use `function`", tool.kind),
            ));
        }
        tools.push(Tool {
            name: tool.function.name,
            description: tool.function.description.unwrap_or_default(),
            parameters: tool
                .function
                .parameters
                .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}})),
        });
    }
    let tool_choice = match request.tool_choice {
        None => ToolChoice::Auto,
        Some(ToolChoiceParam::Mode(mode)) => crate::params::tool_choice_mode(&mode, "tool_choice")?,
        Some(ToolChoiceParam::Named { function, .. }) => ToolChoice::Named(function.name),
    };
    let reasoning =
        crate::params::reasoning_level(request.reasoning_effort.as_deref(), "reasoning_effort")?;
    let response_format = match request.response_format {
        None | Some(ResponseFormatParam::Text) => None,
        Some(ResponseFormatParam::JsonObject) => Some(ResponseFormat::JsonObject),
        Some(ResponseFormatParam::JsonSchema { json_schema }) => {
            let schema = json_schema.schema.ok_or_else(|| {
                reject(
                    "response_format.json_schema.schema",
                    "a json_schema response format needs its schema",
                )
            })?;
            Some(ResponseFormat::JsonSchema {
                name: json_schema.name,
                description: json_schema.description,
                schema,
                strict: json_schema.strict.unwrap_or(false),
            })
        }
    };
    let metadata =
        crate::params::metadata(request.metadata, request.user, request.safety_identifier)?;
    let service_tier = crate::params::service_tier(request.service_tier.as_deref())?;
    let cache_retention =
        crate::params::cache_retention(request.prompt_cache_retention.as_deref())?;
    let latency = crate::params::latency(request.latency.as_deref())?;
    Ok(Converted {
        conversation: Conversation {
            system: (!system.is_empty()).then(|| system.join("\n\n")),
            messages,
            tools,
        },
        options: RequestOptions {
            max_tokens: request.max_completion_tokens.or(request.max_tokens),
            temperature: request.temperature,
            top_p: request.top_p,
            stop: request.stop.map(|s| s.into_vec()).unwrap_or_default(),
            reasoning,
            tool_choice,
            cache_retention,
            response_format,
            parallel_tool_calls: request.parallel_tool_calls.unwrap_or(true),
            metadata,
            service_tier,
            latency,
            guardrail: request.guardrail.map(crate::params::guardrail),
            ..RequestOptions::default()
        },
        stream: request.stream,
        include_usage: request.stream_options.is_some_and(|o| o.include_usage),
    })
}

/// Refuses, naming the field, what OpenAI's API has and Bedrock cannot do.
fn refuse_unsupported(request: &ChatCompletionRequest) -> Result<(), RequestError> {
    if request.n.is_some_and(|n| n != 1) {
        return Err(reject(
            "n",
            "only one choice per request is offered (n: 1); send the request again for another",
        ));
    }
    if request.logprobs == Some(true) || request.top_logprobs.is_some_and(|n| n > 0) {
        let field = if request.logprobs == Some(true) {
            "logprobs"
        } else {
            "top_logprobs"
        };
        return Err(reject(field, "Bedrock does not return log probabilities"));
    }
    if request.logit_bias.as_ref().is_some_and(|b| !b.is_empty()) {
        return Err(reject("logit_bias", "Bedrock takes no token biases"));
    }
    for (field, value) in [
        ("presence_penalty", request.presence_penalty),
        ("frequency_penalty", request.frequency_penalty),
    ] {
        if value.is_some_and(|v| v != 0.0) {
            return Err(reject(
                field,
                "Bedrock's Converse API takes no repetition penalties; leave it at 0",
            ));
        }
    }
    if request.store == Some(true) {
        return Err(reject(
            "store",
            "Pincer stores no completions; send store: false or leave it out",
        ));
    }
    if let Some(modalities) = &request.modalities
        && let Some(other) = modalities.iter().find(|m| *m != "text")
    {
        return Err(reject(
            "modalities",
            format!("only text output is offered, not `{other}`"),
        ));
    }
    if request.audio.is_some() {
        return Err(reject("audio", "audio output is not offered"));
    }
    if request.verbosity.as_deref().is_some_and(|v| v != "medium") {
        return Err(reject(
            "verbosity",
            "Bedrock has no verbosity control; leave it out (or medium)",
        ));
    }
    if request.web_search_options.is_some() {
        return Err(reject("web_search_options", "web search is not offered"));
    }
    if request.functions.is_some() {
        return Err(reject("functions", "functions is deprecated; send tools"));
    }
    if request.function_call.is_some() {
        return Err(reject(
            "function_call",
            "function_call is deprecated; send tool_choice",
        ));
    }
    if request.seed.is_some() {
        tracing::debug!(
            "seed ignored: Bedrock has no seed, and OpenAI does not guarantee determinism either"
        );
    }
    Ok(())
}

fn text_only(content: Content, param: &str) -> Result<String, RequestError> {
    match content {
        Content::Text(text) => Ok(text),
        Content::Parts(parts) => parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| match part {
                ContentPart::Text { text } | ContentPart::Refusal { refusal: text } => Ok(text),
                ContentPart::ImageUrl { .. } | ContentPart::File { .. } => Err(reject(
                    format!("{param}[{i}]"),
                    "images and files are only accepted in user and tool messages",
                )),
                ContentPart::InputAudio { .. } => Err(reject(
                    format!("{param}[{i}]"),
                    "audio input is not offered",
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|texts| texts.join("")),
    }
}

fn user_content(content: Content, at: &str) -> Result<Vec<UserContent>, RequestError> {
    match content {
        Content::Text(text) => Ok(vec![UserContent::Text { text }]),
        Content::Parts(parts) => parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| match part {
                ContentPart::Text { text } | ContentPart::Refusal { refusal: text } => {
                    Ok(UserContent::Text { text })
                }
                ContentPart::ImageUrl { image_url } => {
                    data_url(&image_url.url, &format!("{at}.content[{i}].image_url.url"))
                        .map(UserContent::Image)
                }
                ContentPart::File { file } => {
                    file_part(file, &format!("{at}.content[{i}].file")).map(UserContent::Document)
                }
                ContentPart::InputAudio { .. } => Err(reject(
                    format!("{at}.content[{i}]"),
                    "audio input is not offered",
                )),
            })
            .collect(),
    }
}

/// A `file` content part as a document: its bytes from `file_data` (a `data:` URL or plain
/// base64), its format from the media type or the file name, checked against the bytes.
pub fn file_part(file: FileParam, param: &str) -> Result<Document, RequestError> {
    if file.file_id.is_some() && file.file_data.is_none() {
        return Err(reject(
            format!("{param}.file_id"),
            "`file_id` names an uploaded file, and Pincer takes no uploads: send the file inline as file_data",
        ));
    }
    let Some(data) = file.file_data else {
        return Err(reject(
            format!("{param}.file_data"),
            "the file's data is missing",
        ));
    };
    let (media_type, encoded) = match data.strip_prefix("data:") {
        Some(rest) => {
            let Some((header, encoded)) = rest.split_once(',') else {
                return Err(reject(
                    format!("{param}.file_data"),
                    "a data: URL needs a `,` before its data",
                ));
            };
            let Some(media_type) = header.strip_suffix(";base64") else {
                return Err(reject(
                    format!("{param}.file_data"),
                    "only base64 data: URLs are accepted",
                ));
            };
            (Some(media_type.to_owned()), encoded.to_owned())
        }
        None => (None, data),
    };
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|e| reject(format!("{param}.file_data"), format!("invalid base64: {e}")))?;
    let format = Document::format_of(media_type.as_deref(), file.filename.as_deref())
        .or_else(|| bytes.starts_with(b"%PDF-").then_some("pdf"))
        .ok_or_else(|| {
            reject(
                param,
                format!(
                    "cannot tell the file's format (media type {}, name {}); send pdf, csv, doc, docx, xls, xlsx, html, txt or md",
                    media_type.as_deref().unwrap_or("none"),
                    file.filename.as_deref().unwrap_or("none")
                ),
            )
        })?;
    if !Document::bytes_fit(format, &bytes) {
        return Err(reject(
            format!("{param}.file_data"),
            format!("the data is not a {format} document"),
        ));
    }
    Ok(Document {
        format: format.to_owned(),
        name: file
            .filename
            .unwrap_or_else(|| format!("document.{format}")),
        data: bytes,
    })
}

/// Decodes a `data:image/…;base64,…` URL. Remote URLs are refused: fetching them would make the
/// gateway request arbitrary addresses on a client's behalf.
pub fn data_url(url: &str, param: &str) -> Result<Image, RequestError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(reject(
            param,
            "remote image URLs are not fetched unless the gateway enables gateway.remoteImages; send the image as a data: URL (data:image/png;base64,…)",
        ));
    };
    let Some((header, data)) = rest.split_once(',') else {
        return Err(reject(param, "a data: URL needs a `,` before its data"));
    };
    let Some(media_type) = header.strip_suffix(";base64") else {
        return Err(reject(param, "only base64 data: URLs are accepted"));
    };
    if !media_type.starts_with("image/") {
        return Err(reject(
            param,
            format!("`{media_type}` is not an image type"),
        ));
    }
    let data = STANDARD
        .decode(data.trim())
        .map_err(|e| reject(param, format!("invalid base64: {e}")))?;
    // The bytes decide the format; a declared type that disagrees is corrected.
    let Some(actual) = Image::sniff(&data) else {
        return Err(reject(
            param,
            format!("the data is not a PNG, JPEG, GIF or WebP image (declared `{media_type}`)"),
        ));
    };
    Ok(Image {
        media_type: actual.to_owned(),
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: serde_json::Value) -> ChatCompletionRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn converts_a_full_request() {
        let request = parse(json!({
            "model": "default",
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_completion_tokens": 300,
            "stop": "END",
            "reasoning_effort": "low",
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [{"type": "text", "text": "Use tools."}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "Weather?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                ]},
                {"role": "assistant", "content": null, "reasoning_content": "hmm", "reasoning_signature": "sig",
                 "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "21C"},
            ],
        }));
        let converted = convert(request, "amazon-bedrock", "m").unwrap();
        assert!(converted.stream && converted.include_usage);
        assert_eq!(
            converted.conversation.system.as_deref(),
            Some("Be brief.\n\nUse tools.")
        );
        assert_eq!(converted.options.max_tokens, Some(300));
        assert_eq!(converted.options.stop, vec!["END".to_owned()]);
        assert_eq!(
            converted.options.reasoning,
            pincer_core::ReasoningLevel::Low
        );
        assert_eq!(
            converted.options.tool_choice,
            ToolChoice::Named("get_weather".into())
        );
        let messages = &converted.conversation.messages;
        let Message::User { content } = &messages[0] else {
            panic!()
        };
        assert!(
            matches!(&content[1], UserContent::Image(Image { media_type, data }) if media_type == "image/png" && data.starts_with(&[0x89, b'P']))
        );
        let Message::Assistant(assistant) = &messages[1] else {
            panic!()
        };
        assert_eq!(
            assistant.content[0],
            AssistantContent::Thinking {
                text: "hmm".into(),
                signature: Some("sig".into())
            }
        );
        assert!(
            matches!(&assistant.content[1], AssistantContent::ToolCall(call) if call.arguments == json!({"city": "Paris"}))
        );
        assert_eq!(assistant.model, "m");
        let Message::ToolResult(result) = &messages[2] else {
            panic!()
        };
        assert_eq!(result.tool_name, "get_weather");
    }

    #[test]
    fn rejections_name_the_field() {
        let cases = [
            (json!({"model": "m", "messages": []}), "messages"),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]}),
                "messages[0].content[0].image_url.url",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:text/plain;base64,aGk="}}]}]}),
                "messages[0].content[0].image_url.url",
            ),
            (
                json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{bad"}}]}]}),
                "messages[0].tool_calls[0].function.arguments",
            ),
            (
                json!({"model": "m", "reasoning_effort": "extreme", "messages": [{"role": "user", "content": "x"}]}),
                "reasoning_effort",
            ),
            (
                json!({"model": "m", "tool_choice": "sometimes", "messages": [{"role": "user", "content": "x"}]}),
                "tool_choice",
            ),
        ];
        for (body, param) in cases {
            let err = convert(parse(body), "p", "m").unwrap_err();
            assert_eq!(err.param, param, "{err}");
        }
    }
}
