//! Fuzz target `chat_request`: a `POST /v1/chat/completions` body (and the same bytes as a
//! `POST /v1/responses` body), through to the Bedrock request.
//!
//! The bytes are the request body. They go through the gateway's own body parser, the model
//! lookup the gateway does for a `provider/model-id` (against a config with no providers, so
//! `amazon-bedrock` and the known-model table decide the model's limits, reasoning style, image
//! input and caching), the conversion to Pincer's conversation, and then both request builders:
//! Bedrock's ConverseStream request and the body of the `openai-completions` provider. All of
//! these are plain functions; only the network call after them (the SDK client sending the
//! request) is left out, and so is the gateway's fetching of remote images, which is off unless
//! configured and needs the network.
//!
//! Errors are expected; a panic is a bug. The Bedrock request, when built, is checked against
//! what Bedrock refuses (the rules `bedrock-twin` enforces), since `pincer_bedrock::request`
//! promises to repair or reject a conversation rather than let Bedrock answer 400:
//! - at least one message, the first from the user, roles alternating, no empty message;
//! - no blank text block and no blank system prompt;
//! - tool names and tool-use ids as Bedrock's patterns allow, `toolConfig` present whenever
//!   tool blocks are, every tool used declared;
//! - every tool use answered in the next message, every tool result answering the previous one;
//! - `maxTokens` within the model's limit, a thinking budget of at least 1024 below `maxTokens`,
//!   and no thinking when the tool choice forces a tool.

#![no_main]

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, SystemContentBlock, Tool as BedrockTool,
};
use libfuzzer_sys::fuzz_target;
use pincer_bedrock::request::{ConverseRequest, build};
use pincer_config::Options;
use pincer_core::{Model, ModelRef, ProviderRequest, ToolChoice};
use pincer_gateway::http::chat::parse_body;
use pincer_runtime::resolve::resolve;
use pincer_openai::request::convert;

/// The model used when the request names none that resolves.
const FALLBACK_MODEL: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";

fuzz_target!(|data: &[u8]| {
    responses(data);
    let request = match parse_body(data) {
        Ok(request) => request,
        Err(error) => {
            drop((error.status(), error.body(), error.to_string()));
            return;
        }
    };
    // The gateway logs the request this way when `gateway.logContents` is on.
    drop(serde_json::to_string(&request));

    let Some(model) = model_for(&request.model) else {
        return;
    };
    let converted = match convert(request, &model.provider, &model.id) {
        Ok(converted) => converted,
        Err(error) => return drop(error.to_string()),
    };
    let request = ProviderRequest {
        model,
        conversation: converted.conversation,
        options: converted.options,
    };
    drop(pincer_openai::provider::body(&request));
    match build(request.clone()) {
        Ok(converse) => check(&request, &converse),
        Err(error) => drop(error.to_string()),
    }
});

/// The model a request's `model` names, as the gateway resolves a `provider/model-id` (a bare
/// id is taken as a Bedrock model id); anything else gets a fixed Bedrock model.
fn model_for(requested: &str) -> Option<Model> {
    let options = Options::default();
    let reference = if requested.contains('/') {
        requested.parse::<ModelRef>()
    } else {
        ModelRef::new("amazon-bedrock", requested)
    };
    let resolved = match reference.map(|r| resolve(&options, &r)) {
        Ok(Ok(resolved)) => resolved,
        _ => resolve(&options, &FALLBACK_MODEL.parse().ok()?).ok()?,
    };
    Some(resolved.model)
}

/// Bedrock's tool-name pattern, `[a-zA-Z0-9_-]{1,64}`.
fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(is_id_byte)
}

/// Bedrock's tool-use id pattern, `[a-zA-Z0-9_-]+` (at most 64 characters).
fn valid_tool_use_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(is_id_byte)
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Asserts that Bedrock would not refuse `converse` for its shape.
fn check(request: &ProviderRequest, converse: &ConverseRequest) {
    for block in &converse.system {
        if let SystemContentBlock::Text(text) = block {
            assert!(!text.trim().is_empty(), "blank system prompt");
        }
    }
    let declared: Vec<&str> = converse
        .tool_config
        .as_ref()
        .map(|config| config.tools())
        .unwrap_or_default()
        .iter()
        .filter_map(|tool| match tool {
            BedrockTool::ToolSpec(spec) => Some(spec.name()),
            _ => None,
        })
        .collect();
    for name in &declared {
        assert!(valid_tool_name(name), "tool name `{name}`");
    }

    let messages = &converse.messages;
    assert!(!messages.is_empty(), "no messages");
    assert_eq!(messages[0].role(), &ConversationRole::User, "first message");
    let mut pending_uses: Vec<&str> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        if i > 0 {
            assert_ne!(
                message.role(),
                messages[i - 1].role(),
                "messages {i} and {} have the same role",
                i - 1
            );
        }
        let content = message.content();
        assert!(!content.is_empty(), "message {i} is empty");
        let mut uses = Vec::new();
        let mut results = Vec::new();
        for (j, block) in content.iter().enumerate() {
            match block {
                ContentBlock::Text(text) => {
                    assert!(!text.trim().is_empty(), "messages.{i}.content.{j} is blank");
                }
                ContentBlock::ToolUse(tool_use) => {
                    let (id, name) = (tool_use.tool_use_id(), tool_use.name());
                    assert!(valid_tool_name(name), "tool name `{name}`");
                    assert!(valid_tool_use_id(id), "tool-use id `{id}`");
                    assert!(declared.contains(&name), "tool `{name}` is not declared");
                    uses.push(id);
                }
                ContentBlock::ToolResult(result) => {
                    let id = result.tool_use_id();
                    assert!(valid_tool_use_id(id), "tool-use id `{id}`");
                    assert!(!result.content().is_empty(), "empty tool result");
                    results.push(id);
                }
                _ => {}
            }
        }
        if !uses.is_empty() || !results.is_empty() {
            assert!(
                converse.tool_config.is_some(),
                "tool blocks without toolConfig"
            );
        }
        if message.role() == &ConversationRole::User {
            for id in &pending_uses {
                assert!(
                    results.contains(id),
                    "tool use `{id}` unanswered in message {i}"
                );
            }
            for id in &results {
                assert!(
                    pending_uses.contains(id),
                    "stray tool result `{id}` in message {i}"
                );
            }
            pending_uses.clear();
        } else {
            assert!(
                results.is_empty(),
                "tool result in an assistant message {i}"
            );
            pending_uses = uses;
        }
    }
    if let Some(last) = messages.last()
        && last.role() == &ConversationRole::Assistant
        && let Some(ContentBlock::Text(text)) = last.content().last()
    {
        assert_eq!(
            text.trim_end(),
            text,
            "final assistant text ends in whitespace"
        );
    }

    let resolved = &converse.resolved;
    let model_max = request.model.max_tokens.max(1);
    assert!(
        (1..=model_max).contains(&resolved.max_tokens),
        "maxTokens {} for a model limit of {model_max}",
        resolved.max_tokens
    );
    assert_eq!(
        converse.inference.max_tokens(),
        Some(i32::try_from(resolved.max_tokens).unwrap_or(i32::MAX))
    );
    let budget = resolved
        .additional_fields
        .as_ref()
        .and_then(|fields| fields.pointer("/thinking/budget_tokens"))
        .and_then(serde_json::Value::as_u64);
    if let Some(budget) = budget {
        assert!(
            (1024..u64::from(resolved.max_tokens)).contains(&budget),
            "thinking budget {budget} with maxTokens {}",
            resolved.max_tokens
        );
    }
    if matches!(
        request.options.tool_choice,
        ToolChoice::Required | ToolChoice::Named(_)
    ) {
        assert!(!resolved.thinking, "thinking while a tool is forced");
    }
}

/// The same bytes through the Responses door: parse, convert, build the Converse request.
fn responses(data: &[u8]) {
    let Ok(request) = pincer_gateway::http::responses::parse_body(data) else {
        return;
    };
    let Some(model) = model_for(&request.model) else {
        return;
    };
    let Ok(converted) =
        pincer_openai::responses::request::convert(request, &model.provider, &model.id)
    else {
        return;
    };
    let request = ProviderRequest {
        model,
        conversation: converted.conversation,
        options: converted.options,
    };
    match build(request.clone()) {
        Ok(converse) => check(&request, &converse),
        Err(error) => drop(error.to_string()),
    }
}
