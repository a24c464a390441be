//! A Responses API request → Pincer's conversation and options.
//!
//! Items are read in order; the assistant's items of one turn (reasoning, message, function
//! calls) become one assistant message, ended by the next user message or function output.
//! Every rejection names the field at fault (`input[2].content[0].image_url`).

use pincer_core::{
    AssistantContent, AssistantMessage, Conversation, Message, RequestOptions, ResponseFormat,
    Tool, ToolCall, ToolChoice, ToolResult, ToolResultContent, UserContent,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::types::{Input, ResponsesRequest};
use crate::request::{RequestError, data_url, file_part, reject};
use crate::types::FileParam;

/// What a request asks for, in Pincer's terms, and what its Response object repeats back.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The conversation.
    pub conversation: Conversation,
    /// Options.
    pub options: RequestOptions,
    /// Whether to stream.
    pub stream: bool,
    /// The request's settings, as the Response object reports them.
    pub echo: Echo,
}

/// The request settings a Response object repeats.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Echo {
    /// `instructions`.
    pub instructions: Option<String>,
    /// `tools`, as sent.
    pub tools: Vec<Value>,
    /// `tool_choice`, as sent (`auto` when absent).
    pub tool_choice: Value,
    /// `parallel_tool_calls`.
    pub parallel_tool_calls: bool,
    /// `temperature`.
    pub temperature: Option<f64>,
    /// `top_p`.
    pub top_p: Option<f64>,
    /// `max_output_tokens`.
    pub max_output_tokens: Option<u32>,
    /// `text`.
    pub text: Value,
    /// `reasoning`.
    pub reasoning: Value,
    /// `metadata`.
    pub metadata: Value,
    /// `user`.
    pub user: Option<String>,
    /// `safety_identifier`.
    pub safety_identifier: Option<String>,
    /// `prompt_cache_key`.
    pub prompt_cache_key: Option<String>,
}

/// The `encrypted_content` of a reasoning item written by `model` of `provider`: see
/// [`pincer_core::sealed`].
pub fn seal(block: &AssistantContent, provider: &str, model: &str) -> Option<String> {
    pincer_core::sealed::seal(block, provider, model)
}

fn unseal(
    encrypted: &str,
    param: &str,
) -> Result<Option<pincer_core::sealed::Opened>, RequestError> {
    pincer_core::sealed::unseal(encrypted).map_err(|why| reject(param, why))
}

/// Converts `request`; `provider` and `model` identify the first model it will be sent to (the
/// assistant turns it replays are attributed to it).
pub fn convert(
    request: ResponsesRequest,
    provider: &str,
    model: &str,
) -> Result<Converted, RequestError> {
    refuse_unsupported(&request)?;
    let mut conversation = Conversation {
        system: None,
        messages: Vec::new(),
        tools: Vec::new(),
    };
    let mut system: Vec<String> = request.instructions.iter().cloned().collect();
    let mut turn = Turn::new(provider, model);
    match request.input {
        None => {
            return Err(reject(
                "input",
                "an input (a string or a list of items) is required",
            ));
        }
        Some(Input::Text(text)) => conversation.messages.push(Message::User {
            content: vec![UserContent::Text { text }],
        }),
        Some(Input::Items(items)) => {
            if items.is_empty() {
                return Err(reject("input", "at least one input item is required"));
            }
            for (i, item) in items.into_iter().enumerate() {
                read_item(
                    item,
                    &format!("input[{i}]"),
                    &mut conversation,
                    &mut system,
                    &mut turn,
                )?;
            }
        }
    }
    turn.flush(&mut conversation.messages);
    conversation.system = (!system.is_empty()).then(|| system.join("\n\n"));
    let echo_tools = request.tools.clone().unwrap_or_default();
    for (i, tool) in request.tools.into_iter().flatten().enumerate() {
        conversation
            .tools
            .push(read_tool(tool, &format!("tools[{i}]"))?);
    }
    let tool_choice = match &request.tool_choice {
        None => ToolChoice::Auto,
        Some(Value::String(mode)) => crate::params::tool_choice_mode(mode, "tool_choice")?,
        Some(Value::Object(choice)) => match choice.get("type").and_then(Value::as_str) {
            Some("function") => match choice.get("name").and_then(Value::as_str) {
                Some(name) => ToolChoice::Named(name.to_owned()),
                None => {
                    return Err(reject(
                        "tool_choice.name",
                        "a function tool choice names its function",
                    ));
                }
            },
            other => {
                return Err(reject(
                    "tool_choice.type",
                    format!(
                        "tool choice `{}` is not offered; use auto, none, required or {{type: \"function\", name}}",
                        other.unwrap_or("(none)")
                    ),
                ));
            }
        },
        Some(_) => {
            return Err(reject(
                "tool_choice",
                "tool_choice is a mode (auto, none, required) or {type: \"function\", name}",
            ));
        }
    };
    let reasoning_param = request.reasoning.clone().unwrap_or_default();
    for (key, value) in [
        ("summary", &reasoning_param.summary),
        ("generate_summary", &reasoning_param.generate_summary),
    ] {
        if let Some(value) = value
            && !["auto", "concise", "detailed", "none"].contains(&value.as_str())
        {
            return Err(reject(
                format!("reasoning.{key}"),
                format!("`{value}` is not one of auto, concise, detailed, none"),
            ));
        }
    }
    let reasoning =
        crate::params::reasoning_level(reasoning_param.effort.as_deref(), "reasoning.effort")?;
    let text = request.text.clone().unwrap_or_default();
    if text.verbosity.as_deref().is_some_and(|v| v != "medium") {
        return Err(reject(
            "text.verbosity",
            "Bedrock has no verbosity control; leave it out (or medium)",
        ));
    }
    let response_format = match &text.format {
        None => None,
        Some(format) => read_format(format)?,
    };
    let metadata = crate::params::metadata(
        request.metadata.clone(),
        request.user.clone(),
        request.safety_identifier.clone(),
    )?;
    if let Some(client) = &request.client_metadata {
        tracing::debug!(client_metadata = %client, "client_metadata is not sent to Bedrock");
    }
    let options = RequestOptions {
        max_tokens: request.max_output_tokens,
        temperature: request.temperature,
        top_p: request.top_p,
        stop: Vec::new(),
        reasoning,
        tool_choice,
        cache_retention: crate::params::cache_retention(request.prompt_cache_retention.as_deref())?,
        response_format,
        parallel_tool_calls: request.parallel_tool_calls.unwrap_or(true),
        metadata,
        service_tier: crate::params::service_tier(request.service_tier.as_deref())?,
        latency: crate::params::latency(request.latency.as_deref())?,
        guardrail: request.guardrail.clone().map(crate::params::guardrail),
        ..RequestOptions::default()
    };
    let echo = Echo {
        instructions: request.instructions.clone(),
        tools: echo_tools,
        tool_choice: request.tool_choice.clone().unwrap_or_else(|| json!("auto")),
        parallel_tool_calls: options.parallel_tool_calls,
        temperature: request.temperature,
        top_p: request.top_p,
        max_output_tokens: request.max_output_tokens,
        text: json!({
            "format": text.format.clone().unwrap_or_else(|| json!({"type": "text"})),
            "verbosity": text.verbosity.clone().unwrap_or_else(|| "medium".to_owned()),
        }),
        reasoning: json!({
            "effort": reasoning_param.effort,
            "summary": reasoning_param.summary.or(reasoning_param.generate_summary),
        }),
        metadata: json!(request.metadata.clone().unwrap_or_default()),
        user: request.user.clone(),
        safety_identifier: request.safety_identifier.clone(),
        prompt_cache_key: request.prompt_cache_key.clone(),
    };
    Ok(Converted {
        conversation,
        options,
        stream: request.stream,
        echo,
    })
}

/// Refuses, naming the field, what the Responses API has and a stateless gateway in front of
/// Bedrock cannot do.
fn refuse_unsupported(request: &ResponsesRequest) -> Result<(), RequestError> {
    if request.store == Some(true) {
        return Err(reject(
            "store",
            "Pincer stores no responses; send store: false (or leave it out) and send the whole conversation each turn",
        ));
    }
    if request.previous_response_id.is_some() {
        return Err(reject(
            "previous_response_id",
            "Pincer stores no responses to continue; send the earlier items in `input` instead",
        ));
    }
    if request.conversation.as_ref().is_some_and(|c| !c.is_null()) {
        return Err(reject(
            "conversation",
            "Pincer stores no conversations; send the earlier items in `input` instead",
        ));
    }
    if request.background == Some(true) {
        return Err(reject(
            "background",
            "background responses need stored state, which Pincer does not keep; stream instead",
        ));
    }
    if request.prompt.as_ref().is_some_and(|p| !p.is_null()) {
        return Err(reject(
            "prompt",
            "stored prompt templates are not offered; send the instructions and input",
        ));
    }
    if request
        .truncation
        .as_deref()
        .is_some_and(|t| t != "disabled")
    {
        return Err(reject(
            "truncation",
            "Pincer never drops input to fit the context window; leave truncation at disabled",
        ));
    }
    if request.top_logprobs.is_some_and(|n| n > 0) {
        return Err(reject(
            "top_logprobs",
            "Bedrock does not return log probabilities",
        ));
    }
    // OpenAI's own defaults for the prompt cache say nothing Bedrock needs told.
    let cache_defaults = request.prompt_cache_options.as_ref().is_some_and(|o| {
        o.as_object().is_some_and(|o| {
            o.iter()
                .all(|(k, v)| (k == "mode" && v == "implicit") || (k == "ttl" && v == "30m"))
        })
    });
    let cache_options = if cache_defaults {
        &None
    } else {
        &request.prompt_cache_options
    };
    for (field, value) in [
        ("context_management", &request.context_management),
        ("moderation", &request.moderation),
        ("prompt_cache_options", cache_options),
    ] {
        let empty = match value {
            None | Some(Value::Null) => true,
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Object(o)) => o.is_empty(),
            Some(_) => false,
        };
        if !empty {
            return Err(reject(
                field,
                format!("`{field}` is not offered in front of Bedrock; leave it out"),
            ));
        }
    }
    for (i, include) in request.include.iter().flatten().enumerate() {
        match include.as_str() {
            // Always included.
            "reasoning.encrypted_content" => {}
            "message.output_text.logprobs" => {
                return Err(reject(
                    format!("include[{i}]"),
                    "Bedrock does not return log probabilities",
                ));
            }
            // Outputs of built-in tools, which Pincer never runs, and input image URLs, which
            // it does not repeat: there is nothing to include.
            "web_search_call.action.sources"
            | "web_search_call.results"
            | "file_search_call.results"
            | "code_interpreter_call.outputs"
            | "computer_call_output.output.image_url"
            | "message.input_image.image_url" => {}
            other => {
                return Err(reject(
                    format!("include[{i}]"),
                    format!("`{other}` is not something a response can include"),
                ));
            }
        }
    }
    Ok(())
}

/// The assistant turn being read: its items accumulate until a user message or a function
/// output ends it.
struct Turn {
    provider: String,
    model: String,
    /// The model a sealed reasoning block of this turn says wrote it.
    origin: Option<(String, String)>,
    blocks: Vec<AssistantContent>,
    /// Tool names by call id, to label function outputs.
    calls: Vec<(String, String)>,
}

impl Turn {
    fn new(provider: &str, model: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            model: model.to_owned(),
            origin: None,
            blocks: Vec::new(),
            calls: Vec::new(),
        }
    }

    fn flush(&mut self, messages: &mut Vec<Message>) {
        if self.blocks.is_empty() {
            return;
        }
        // Attributed to the model that wrote its reasoning when a sealed block says so (its
        // signature then goes to that model only), else to the model asked.
        let (provider, model) = self
            .origin
            .take()
            .unwrap_or_else(|| (self.provider.clone(), self.model.clone()));
        messages.push(Message::Assistant(AssistantMessage {
            content: std::mem::take(&mut self.blocks),
            provider,
            model,
            ..AssistantMessage::default()
        }));
    }
}

fn field<'a>(item: &'a Value, key: &str) -> Option<&'a Value> {
    item.get(key).filter(|v| !v.is_null())
}

fn string(item: &Value, key: &str, at: &str) -> Result<String, RequestError> {
    match field(item, key) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(reject(format!("{at}.{key}"), "must be a string")),
        None => Err(reject(format!("{at}.{key}"), "is required")),
    }
}

/// Refuses a key `allowed` does not list.
fn only(item: &Value, allowed: &[&str], at: &str) -> Result<(), RequestError> {
    if let Some(object) = item.as_object()
        && let Some(key) = object.keys().find(|k| !allowed.contains(&k.as_str()))
    {
        return Err(reject(
            format!("{at}.{key}"),
            format!("Unrecognized item field: {key}"),
        ));
    }
    Ok(())
}

fn read_item(
    item: Value,
    at: &str,
    conversation: &mut Conversation,
    system: &mut Vec<String>,
    turn: &mut Turn,
) -> Result<(), RequestError> {
    if !item.is_object() {
        return Err(reject(at, "an input item is an object"));
    }
    let kind = match field(&item, "type") {
        None => "message".to_owned(),
        Some(Value::String(kind)) => kind.clone(),
        Some(_) => return Err(reject(format!("{at}.type"), "must be a string")),
    };
    match kind.as_str() {
        "message" => {
            only(
                &item,
                &["type", "role", "content", "id", "status", "phase"],
                at,
            )?;
            let role = string(&item, "role", at)?;
            let content = field(&item, "content")
                .cloned()
                .ok_or_else(|| reject(format!("{at}.content"), "is required"))?;
            match role.as_str() {
                "system" | "developer" => system.push(text_of(&content, &format!("{at}.content"))?),
                "user" => {
                    turn.flush(&mut conversation.messages);
                    conversation.messages.push(Message::User {
                        content: user_parts(&content, &format!("{at}.content"))?,
                    });
                }
                "assistant" => {
                    let text = text_of(&content, &format!("{at}.content"))?;
                    if !text.is_empty() {
                        turn.blocks.push(AssistantContent::Text { text });
                    }
                }
                other => {
                    return Err(reject(
                        format!("{at}.role"),
                        format!("`{other}` is not one of user, assistant, system, developer"),
                    ));
                }
            }
        }
        "reasoning" => {
            only(
                &item,
                &[
                    "type",
                    "id",
                    "summary",
                    "content",
                    "encrypted_content",
                    "status",
                ],
                at,
            )?;
            let sealed = match field(&item, "encrypted_content") {
                Some(Value::String(encrypted)) => {
                    unseal(encrypted, &format!("{at}.encrypted_content"))?
                }
                Some(_) => {
                    return Err(reject(
                        format!("{at}.encrypted_content"),
                        "must be a string",
                    ));
                }
                None => None,
            };
            match sealed {
                Some(opened) => {
                    if opened.origin.is_some() {
                        turn.origin = opened.origin;
                    }
                    turn.blocks.push(opened.block);
                }
                None => {
                    // Reasoning Pincer did not seal (or a client that dropped it): unsigned, it
                    // goes back only if the gateway remembers the signature it gave for that
                    // text; otherwise Bedrock never sees it.
                    let text = summary_text(&item, at)?;
                    if !text.is_empty() {
                        turn.blocks.push(AssistantContent::Thinking {
                            text,
                            signature: None,
                        });
                    }
                }
            }
        }
        "function_call" => {
            only(
                &item,
                &[
                    "type",
                    "id",
                    "call_id",
                    "name",
                    "arguments",
                    "status",
                    "namespace",
                    "caller",
                ],
                at,
            )?;
            let call_id = string(&item, "call_id", at)?;
            let name = string(&item, "name", at)?;
            let arguments = string(&item, "arguments", at)?;
            let arguments = if arguments.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str(&arguments).map_err(|e| {
                    reject(format!("{at}.arguments"), format!("not valid JSON: {e}"))
                })?
            };
            turn.calls.push((call_id.clone(), name.clone()));
            turn.blocks.push(AssistantContent::ToolCall(ToolCall {
                id: call_id,
                name,
                arguments,
            }));
        }
        "function_call_output" => {
            only(
                &item,
                &["type", "id", "call_id", "output", "status", "name"],
                at,
            )?;
            let call_id = string(&item, "call_id", at)?;
            let tool_name = turn
                .calls
                .iter()
                .find(|(id, _)| *id == call_id)
                .map(|(_, name)| name.clone())
                .or_else(|| {
                    field(&item, "name")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            turn.flush(&mut conversation.messages);
            let output = field(&item, "output")
                .cloned()
                .ok_or_else(|| reject(format!("{at}.output"), "is required"))?;
            let content = user_parts(&output, &format!("{at}.output"))?
                .into_iter()
                .map(|part| match part {
                    UserContent::Text { text } => ToolResultContent::Text { text },
                    UserContent::Image(image) => ToolResultContent::Image(image),
                    UserContent::Document(document) => ToolResultContent::Document(document),
                })
                .collect();
            conversation.messages.push(Message::ToolResult(ToolResult {
                tool_call_id: call_id,
                tool_name,
                content,
                is_error: false,
            }));
        }
        "item_reference" => {
            return Err(reject(
                format!("{at}.type"),
                "an item_reference is resolved before conversion; this one was not",
            ));
        }
        other => {
            return Err(reject(
                format!("{at}.type"),
                format!(
                    "`{other}` items are not offered: Pincer runs no built-in tools; send messages, function_call, function_call_output and reasoning items"
                ),
            ));
        }
    }
    Ok(())
}

/// The text of a reasoning item's summary (or content) parts.
fn summary_text(item: &Value, at: &str) -> Result<String, RequestError> {
    let mut text = String::new();
    for key in ["summary", "content"] {
        let Some(parts) = field(item, key) else {
            continue;
        };
        let Some(parts) = parts.as_array() else {
            return Err(reject(format!("{at}.{key}"), "must be a list of parts"));
        };
        for (j, part) in parts.iter().enumerate() {
            let piece = string(part, "text", &format!("{at}.{key}[{j}]"))?;
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&piece);
        }
        if !text.is_empty() {
            break;
        }
    }
    Ok(text)
}

/// The text of a system, developer or assistant message: a string, or text parts.
fn text_of(content: &Value, at: &str) -> Result<String, RequestError> {
    match content {
        Value::String(text) => Ok(text.clone()),
        Value::Array(parts) => {
            let mut text = String::new();
            for (j, part) in parts.iter().enumerate() {
                let at = format!("{at}[{j}]");
                match field(part, "type").and_then(Value::as_str) {
                    Some("input_text" | "output_text" | "text") => {
                        text.push_str(&string(part, "text", &at)?);
                    }
                    Some("refusal") => text.push_str(&string(part, "refusal", &at)?),
                    Some(other) => {
                        return Err(reject(
                            format!("{at}.type"),
                            format!(
                                "`{other}` parts are only accepted in user messages and function outputs"
                            ),
                        ));
                    }
                    None => return Err(reject(format!("{at}.type"), "is required")),
                }
            }
            Ok(text)
        }
        _ => Err(reject(at, "must be a string or a list of parts")),
    }
}

/// The parts of a user message or a function output: text, images (`data:` URLs; the gateway
/// inlines remote ones first when its policy allows) and files.
fn user_parts(content: &Value, at: &str) -> Result<Vec<UserContent>, RequestError> {
    match content {
        Value::String(text) => Ok(vec![UserContent::Text { text: text.clone() }]),
        Value::Array(parts) => parts
            .iter()
            .enumerate()
            .map(|(j, part)| {
                let at = format!("{at}[{j}]");
                match field(part, "type").and_then(Value::as_str) {
                    Some("input_text" | "output_text" | "text") => Ok(UserContent::Text {
                        text: string(part, "text", &at)?,
                    }),
                    Some("input_image") => {
                        only(part, &["type", "image_url", "file_id", "detail"], &at)?;
                        if field(part, "file_id").is_some() {
                            return Err(reject(
                                format!("{at}.file_id"),
                                "`file_id` names an uploaded file, and Pincer takes no uploads: send the image as a data: URL in image_url",
                            ));
                        }
                        let url = string(part, "image_url", &at)?;
                        data_url(&url, &format!("{at}.image_url")).map(UserContent::Image)
                    }
                    Some("input_file") => {
                        only(part, &["type", "file_data", "file_id", "filename", "file_url", "detail"], &at)?;
                        if field(part, "file_url").is_some() {
                            return Err(reject(
                                format!("{at}.file_url"),
                                "files are not fetched by URL; send the file inline as file_data",
                            ));
                        }
                        let file = FileParam {
                            file_data: field(part, "file_data").and_then(Value::as_str).map(str::to_owned),
                            file_id: field(part, "file_id").and_then(Value::as_str).map(str::to_owned),
                            filename: field(part, "filename").and_then(Value::as_str).map(str::to_owned),
                        };
                        file_part(file, &at).map(UserContent::Document)
                    }
                    Some(other) => Err(reject(
                        format!("{at}.type"),
                        format!("`{other}` parts are not offered; send input_text, input_image or input_file"),
                    )),
                    None => Err(reject(format!("{at}.type"), "is required")),
                }
            })
            .collect(),
        _ => Err(reject(at, "must be a string or a list of parts")),
    }
}

fn read_tool(tool: Value, at: &str) -> Result<Tool, RequestError> {
    match field(&tool, "type").and_then(Value::as_str) {
        Some("function") => {
            only(
                &tool,
                &[
                    "type",
                    "name",
                    "description",
                    "parameters",
                    "strict",
                    "defer_loading",
                ],
                at,
            )?;
            Ok(Tool {
                name: string(&tool, "name", at)?,
                description: field(&tool, "description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                parameters: field(&tool, "parameters")
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            })
        }
        Some(other) => Err(reject(
            format!("{at}.type"),
            format!(
                "`{other}` tools are not offered: Pincer runs no built-in tools; declare a `function` tool"
            ),
        )),
        None => Err(reject(format!("{at}.type"), "is required")),
    }
}

fn read_format(format: &Value) -> Result<Option<ResponseFormat>, RequestError> {
    match field(format, "type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(ResponseFormat::JsonObject)),
        Some("json_schema") => {
            only(
                format,
                &["type", "name", "schema", "description", "strict"],
                "text.format",
            )?;
            let schema = field(format, "schema").cloned().ok_or_else(|| {
                reject(
                    "text.format.schema",
                    "a json_schema format needs its schema",
                )
            })?;
            Ok(Some(ResponseFormat::JsonSchema {
                name: string(format, "name", "text.format")?,
                description: field(format, "description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                schema,
                strict: field(format, "strict")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            }))
        }
        Some(other) => Err(reject(
            "text.format.type",
            format!("`{other}` is not one of text, json_object, json_schema"),
        )),
        None => Err(reject("text.format.type", "is required")),
    }
}

/// Replaces each `item_reference` of the input by the item `held` returns for its id (the output
/// items a gateway keeps for clients that refer to them instead of sending them back), with its
/// size in bytes. An id it does not hold, an id referred to twice, or references that together
/// come to more than `limit` bytes are errors naming the item: a small body cannot make a large
/// request.
pub fn resolve_references(
    request: &mut ResponsesRequest,
    held: impl Fn(&str) -> Option<(Value, usize)>,
    limit: usize,
) -> Result<(), RequestError> {
    let Some(Input::Items(items)) = &mut request.input else {
        return Ok(());
    };
    let mut seen: Vec<String> = Vec::new();
    let mut total = 0usize;
    for (i, item) in items.iter_mut().enumerate() {
        if item.get("type").and_then(Value::as_str) != Some("item_reference") {
            continue;
        }
        let Some(id) = item.get("id").and_then(Value::as_str).map(str::to_owned) else {
            return Err(reject(
                format!("input[{i}].id"),
                "an item_reference names an item id",
            ));
        };
        if seen.contains(&id) {
            return Err(reject(
                format!("input[{i}].id"),
                format!("item `{id}` is referred to twice"),
            ));
        }
        match held(&id) {
            Some((found, size)) => {
                total = total.saturating_add(size);
                if total > limit {
                    return Err(reject(
                        format!("input[{i}].id"),
                        format!(
                            "the items referred to come to more than the {limit} bytes a request may hold"
                        ),
                    ));
                }
                *item = found;
            }
            None => {
                return Err(reject(
                    format!("input[{i}].id"),
                    format!(
                        "item `{id}` is not held by this gateway (it keeps recent output items in memory only); send the item itself, as clients do with store: false"
                    ),
                ));
            }
        }
        seen.push(id);
    }
    Ok(())
}

/// The remote image URLs of a request's input, with their fields, for the gateway to inline
/// (`input[2].content[0].image_url`).
pub fn remote_images(request: &mut ResponsesRequest) -> Vec<(String, &mut String)> {
    let mut out = Vec::new();
    let Some(Input::Items(items)) = &mut request.input else {
        return out;
    };
    for (i, item) in items.iter_mut().enumerate() {
        let Some(object) = item.as_object_mut() else {
            continue;
        };
        for (key, value) in object.iter_mut() {
            let Value::Array(parts) = value else {
                continue;
            };
            if key != "content" && key != "output" {
                continue;
            }
            for (j, part) in parts.iter_mut().enumerate() {
                if part.get("type").and_then(Value::as_str) != Some("input_image") {
                    continue;
                }
                if let Some(Value::String(url)) = part.get_mut("image_url")
                    && !url.starts_with("data:")
                {
                    out.push((format!("input[{i}].{key}[{j}].image_url"), url));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_json(value: Value) -> Result<Converted, RequestError> {
        let request: ResponsesRequest = serde_json::from_value(value).unwrap();
        convert(request, "amazon-bedrock", "m")
    }

    #[test]
    fn one_turn_of_items_is_one_assistant_message() {
        let converted = convert_json(json!({
            "model": "m",
            "instructions": "be brief",
            "input": [
                {"role": "developer", "content": "no emoji"},
                {"role": "user", "content": [{"type": "input_text", "text": "weather?"}]},
                {"type": "reasoning", "id": "rs_1", "summary": [],
                 "encrypted_content": seal(&AssistantContent::Thinking { text: "think".into(), signature: Some("sig".into()) }, "amazon-bedrock", "m").unwrap()},
                {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
            ],
        }))
        .unwrap();
        let c = converted.conversation;
        assert_eq!(c.system.as_deref(), Some("be brief\n\nno emoji"));
        assert_eq!(c.messages.len(), 3);
        let Message::Assistant(assistant) = &c.messages[1] else {
            panic!("{:?}", c.messages[1]);
        };
        assert_eq!(
            assistant.content[0],
            AssistantContent::Thinking {
                text: "think".into(),
                signature: Some("sig".into())
            }
        );
        assert!(
            matches!(&assistant.content[1], AssistantContent::ToolCall(call) if call.arguments["city"] == "Paris")
        );
        let Message::ToolResult(result) = &c.messages[2] else {
            panic!("{:?}", c.messages[2]);
        };
        assert_eq!(result.tool_name, "get_weather");
    }

    #[test]
    fn redacted_reasoning_survives_the_round_trip() {
        let block = AssistantContent::RedactedThinking {
            data: vec![0, 1, 2, 255],
        };
        let sealed = seal(&block, "amazon-bedrock", "other-model").unwrap();
        assert_eq!(unseal(&sealed, "x").unwrap().unwrap().block, block);
        // Not Pincer's: read as the summary, unsigned.
        assert_eq!(unseal("gAAAAopaque", "x").unwrap(), None);
        assert!(unseal("pincer.v1.!!", "input[0].encrypted_content").is_err());
    }

    #[test]
    fn what_a_stateless_gateway_cannot_do_is_refused_by_name() {
        for (body, param) in [
            (json!({"model": "m", "input": "hi", "store": true}), "store"),
            (
                json!({"model": "m", "input": "hi", "previous_response_id": "resp_1"}),
                "previous_response_id",
            ),
            (
                json!({"model": "m", "input": [{"type": "item_reference", "id": "x"}]}),
                "input[0].type",
            ),
            (
                json!({"model": "m", "input": "hi", "tools": [{"type": "web_search"}]}),
                "tools[0].type",
            ),
            (
                json!({"model": "m", "input": "hi", "truncation": "auto"}),
                "truncation",
            ),
            (
                json!({"model": "m", "input": "hi", "include": ["message.output_text.logprobs"]}),
                "include[0]",
            ),
            (
                json!({"model": "m", "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]}),
                "input[0].content[0].file_id",
            ),
            (
                json!({"model": "m", "input": [{"role": "user", "content": "x", "colour": 1}]}),
                "input[0].colour",
            ),
            (
                json!({"model": "m", "input": "hi", "text": {"format": {"type": "json_schema", "name": "x"}}}),
                "text.format.schema",
            ),
        ] {
            let error = convert_json(body.clone()).unwrap_err();
            assert_eq!(error.param, param, "{body}: {error}");
        }
    }

    #[test]
    fn item_references_are_replaced_by_the_items_held() {
        let mut request: ResponsesRequest = serde_json::from_value(json!({"model": "m", "input": [
            {"role": "user", "content": "hi"},
            {"type": "item_reference", "id": "msg_1"},
            {"type": "item_reference", "id": "msg_gone"},
        ]}))
        .unwrap();
        let held = |id: &str| {
            (id == "msg_1").then(|| (json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hello"}]}), 80))
        };
        let error = resolve_references(&mut request, held, 1000).unwrap_err();
        assert_eq!(error.param, "input[2].id");
        // The same item twice, or more than the limit, is refused.
        let mut twice: ResponsesRequest = serde_json::from_value(json!({"model": "m", "input": [
            {"type": "item_reference", "id": "msg_1"}, {"type": "item_reference", "id": "msg_1"},
        ]}))
        .unwrap();
        assert!(
            resolve_references(&mut twice, held, 1000)
                .unwrap_err()
                .message
                .contains("twice")
        );
        let mut big: ResponsesRequest = serde_json::from_value(json!({"model": "m", "input": [
            {"type": "item_reference", "id": "msg_1"},
        ]}))
        .unwrap();
        assert!(resolve_references(&mut big, held, 10).is_err());
        let Some(Input::Items(items)) = &request.input else {
            panic!()
        };
        assert_eq!(items[1]["role"], "assistant");
    }

    #[test]
    fn structured_output_and_options_map() {
        let converted = convert_json(json!({
            "model": "m", "input": "hi", "store": false, "max_output_tokens": 50,
            "reasoning": {"effort": "low", "summary": "auto"},
            "text": {"format": {"type": "json_schema", "name": "city", "strict": true,
                     "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}},
            "tool_choice": {"type": "function", "name": "f"}, "service_tier": "flex",
            "metadata": {"app": "x"}, "user": "u1",
        }))
        .unwrap();
        let o = converted.options;
        assert_eq!(o.max_tokens, Some(50));
        assert_eq!(o.reasoning, pincer_core::ReasoningLevel::Low);
        assert!(matches!(
            o.response_format,
            Some(ResponseFormat::JsonSchema { strict: true, .. })
        ));
        assert_eq!(o.tool_choice, ToolChoice::Named("f".into()));
        assert_eq!(o.service_tier, Some(pincer_core::ServiceTier::Flex));
        assert_eq!(o.metadata.get("user").map(String::as_str), Some("u1"));
        assert_eq!(
            converted.echo.tool_choice,
            json!({"type": "function", "name": "f"})
        );
    }
}
