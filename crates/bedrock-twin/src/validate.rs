//! Request validation for `Converse` and `ConverseStream`, refusing what Bedrock refuses with
//! Bedrock's status, error type and message text.

use serde_json::Value;

use crate::catalogue::Invocable;
use crate::error::AwsError;

/// Input longer than this many estimated tokens is "too long for the requested model".
pub const CONTEXT_TOKENS: usize = 200_000;

/// What validation learned about a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// `inferenceConfig.maxTokens`, if given.
    pub max_tokens: Option<u32>,
    /// Whether extended thinking / reasoning was asked for.
    pub thinking: bool,
    /// `inferenceConfig.stopSequences`.
    pub stop_sequences: Vec<String>,
}

/// Validates a Converse request body for the model it is sent to.
pub fn check(req: &Value, model: &Invocable) -> Result<Checked, AwsError> {
    let messages = match req.get("messages") {
        None | Some(Value::Null) => {
            return Err(AwsError::validation(
                "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null",
            ));
        }
        Some(Value::Array(m)) => m,
        Some(_) => return Err(serialization()),
    };
    let has_tool_config = req.get("toolConfig").is_some_and(|t| !t.is_null());
    check_tools(req)?;
    check_messages(messages, has_tool_config)?;
    check_capabilities(req, model)?;
    let max_tokens = match req.pointer("/inferenceConfig/maxTokens") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let n = v.as_i64().ok_or_else(serialization)?;
            if n < 1 {
                return Err(AwsError::validation(format!(
                    "1 validation error detected: Value '{n}' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1"
                )));
            }
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            if n > model.max_tokens {
                let limit = model.max_tokens;
                return Err(AwsError::validation(format!(
                    "The maximum tokens you requested exceeds the model limit of {limit}. Try again with a maximum tokens value that is lower than {limit}."
                )));
            }
            Some(n)
        }
    };
    let thinking = thinking_request(req);
    if let Some(budget) = thinking.budget {
        if budget < 1024 {
            return Err(AwsError::validation(
                "The model returned the following errors: thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
            ));
        }
        if let Some(max) = max_tokens
            && budget >= u64::from(max)
        {
            return Err(AwsError::validation(
                "The model returned the following errors: `max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size",
            ));
        }
    }
    if thinking.enabled && forces_tool_use(req) {
        return Err(AwsError::validation(
            "The model returned the following errors: Thinking may not be enabled when tool_choice forces tool use.",
        ));
    }
    if estimate_tokens(&all_text(req)) > CONTEXT_TOKENS {
        return Err(AwsError::validation(
            "The model returned the following errors: Input is too long for requested model.",
        ));
    }
    let stop_sequences = req
        .pointer("/inferenceConfig/stopSequences")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Checked {
        max_tokens,
        thinking: thinking.enabled,
        stop_sequences,
    })
}

fn serialization() -> AwsError {
    AwsError::validation("The request body does not match the Converse request shape.")
}

fn check_messages(messages: &[Value], has_tool_config: bool) -> Result<(), AwsError> {
    let first_role = messages
        .first()
        .and_then(|m| m.get("role"))
        .and_then(Value::as_str);
    if first_role != Some("user") {
        return Err(AwsError::validation(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        ));
    }
    let mut previous_role = "";
    let mut pending_tool_uses: Vec<String> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if role != "user" && role != "assistant" {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{role}' at 'messages.{}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]",
                i + 1
            )));
        }
        if role == previous_role {
            return Err(AwsError::validation(
                "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
            ));
        }
        previous_role = role;
        let content = message
            .get("content")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if content.is_empty() {
            return Err(AwsError::validation(format!(
                "The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the content field and try again."
            )));
        }
        let mut results: Vec<String> = Vec::new();
        let mut uses: Vec<String> = Vec::new();
        for (j, block) in content.iter().enumerate() {
            if let Some(text) = block.get("text").and_then(Value::as_str)
                && text.trim().is_empty()
            {
                return Err(AwsError::validation(format!(
                    "The text field in the ContentBlock object at messages.{i}.content.{j} is blank. Add text to the text field, and try again."
                )));
            }
            if let Some(tool_use) = block.get("toolUse") {
                if !has_tool_config {
                    return Err(tool_config_required());
                }
                let name = tool_use
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !valid_tool_name(name) {
                    return Err(AwsError::validation(format!(
                        "1 validation error detected: Value at 'messages.{}.member.content.{}.member.toolUse.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
                        i + 1,
                        j + 1
                    )));
                }
                if let Some(id) = tool_use.get("toolUseId").and_then(Value::as_str) {
                    uses.push(id.to_owned());
                }
            }
            if let Some(tool_result) = block.get("toolResult") {
                if !has_tool_config {
                    return Err(tool_config_required());
                }
                if let Some(id) = tool_result.get("toolUseId").and_then(Value::as_str) {
                    results.push(id.to_owned());
                }
            }
        }
        if role == "user" {
            if let Some(unanswered) = pending_tool_uses.iter().find(|id| !results.contains(id)) {
                return Err(AwsError::validation(format!(
                    "The model returned the following errors: messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {unanswered}. Each `tool_use` block must have a corresponding `tool_result` block in the next message."
                )));
            }
            if let Some(stray) = results.iter().find(|id| !pending_tool_uses.contains(id)) {
                return Err(AwsError::validation(format!(
                    "The model returned the following errors: messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: {stray}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                )));
            }
            pending_tool_uses.clear();
        } else {
            pending_tool_uses = uses;
        }
    }
    Ok(())
}

/// What the model's summary and family rules say it refuses: image blocks for a model without
/// `IMAGE` input (or in a format it does not list), a system prompt for a model whose
/// `converse.systemRoleSupported` is false, a `cachePoint` for a model without explicit prompt
/// caching, and the sampling parameters its family refuses.
fn check_capabilities(req: &Value, model: &Invocable) -> Result<(), AwsError> {
    let mut images = Vec::new();
    let mut cache_points = 0;
    collect_blocks(req.get("messages"), &mut images, &mut cache_points);
    collect_blocks(req.get("system"), &mut images, &mut cache_points);
    collect_blocks(req.get("toolConfig"), &mut images, &mut cache_points);
    if !images.is_empty() && !model.input.iter().any(|m| m == "IMAGE") {
        return Err(AwsError::validation(
            "This model doesn't support the image content block that you provided. Try again with a supported content block.",
        ));
    }
    if let Some(types) = &model.image_types
        && let Some(format) = images.iter().find(|f| !types.contains(f))
    {
        return Err(AwsError::validation(format!(
            "This model doesn't support the {format} image format. Try again with a supported format: {}.",
            types.join(", ")
        )));
    }
    if !model.system_role
        && req
            .get("system")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty())
    {
        return Err(AwsError::validation(
            "This model doesn't support system messages. Try again without system messages.",
        ));
    }
    if cache_points > 0 && !model.prompt_caching {
        return Err(AwsError::validation(
            "This model doesn't support the cachePoint content block that you provided. Try again without prompt caching.",
        ));
    }
    let sent = |key: &str| {
        req.pointer(&format!("/inferenceConfig/{key}"))
            .is_some_and(|v| !v.is_null())
    };
    match model.rules.sampling.as_deref() {
        Some("none") => {
            for (key, name) in [("temperature", "temperature"), ("topP", "top_p")] {
                if sent(key) {
                    return Err(AwsError::validation(format!(
                        "The model returned the following errors: `{name}` is deprecated for this model."
                    )));
                }
            }
        }
        Some("temperature-or-top-p") if sent("temperature") && sent("topP") => {
            return Err(AwsError::validation(
                "The model returned the following errors: `temperature` and `top_p` cannot both be specified for this model. Please use only one.",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// The formats of every image block and the number of cache points under `value`.
fn collect_blocks(value: Option<&Value>, images: &mut Vec<String>, cache_points: &mut usize) {
    match value {
        Some(Value::Object(map)) => {
            for (key, v) in map {
                match key.as_str() {
                    "image" => {
                        if let Some(format) = v.get("format").and_then(Value::as_str) {
                            images.push(format.to_owned());
                        }
                    }
                    "cachePoint" => *cache_points += 1,
                    _ => collect_blocks(Some(v), images, cache_points),
                }
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                collect_blocks(Some(item), images, cache_points);
            }
        }
        _ => {}
    }
}

fn tool_config_required() -> AwsError {
    AwsError::validation(
        "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
    )
}

fn check_tools(req: &Value) -> Result<(), AwsError> {
    let tools = req
        .pointer("/toolConfig/tools")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, tool) in tools.iter().enumerate() {
        if let Some(name) = tool.pointer("/toolSpec/name").and_then(Value::as_str)
            && !valid_tool_name(name)
        {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{name}' at 'toolConfig.tools.{}.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
                i + 1
            )));
        }
    }
    Ok(())
}

/// Bedrock's tool-name rule: `[a-zA-Z0-9_-]{1,64}`.
pub fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[derive(Debug, Default)]
struct Thinking {
    enabled: bool,
    budget: Option<u64>,
}

fn thinking_request(req: &Value) -> Thinking {
    let Some(fields) = req.get("additionalModelRequestFields") else {
        return Thinking::default();
    };
    // gpt-oss: `reasoning_effort: "low" | "medium" | "high"`.
    if fields
        .get("reasoning_effort")
        .and_then(Value::as_str)
        .is_some()
    {
        return Thinking {
            enabled: true,
            budget: None,
        };
    }
    for key in ["thinking", "reasoningConfig", "reasoning_config"] {
        let Some(cfg) = fields.get(key) else { continue };
        let enabled = match cfg.get("type").and_then(Value::as_str) {
            Some(t) => t == "enabled" || t == "adaptive",
            None => cfg.get("enabled").and_then(Value::as_bool).unwrap_or(false),
        };
        if enabled {
            let budget = cfg
                .get("budget_tokens")
                .or_else(|| cfg.get("budgetTokens"))
                .and_then(Value::as_u64);
            return Thinking { enabled, budget };
        }
    }
    Thinking::default()
}

fn forces_tool_use(req: &Value) -> bool {
    req.pointer("/toolConfig/toolChoice")
        .is_some_and(|c| c.get("any").is_some() || c.get("tool").is_some())
}

/// Every text of the request (system, messages, tool results), for token estimates.
pub fn all_text(req: &Value) -> String {
    let mut out = String::new();
    collect_text(req.get("system"), &mut out);
    collect_text(req.get("messages"), &mut out);
    out
}

fn collect_text(value: Option<&Value>, out: &mut String) {
    match value {
        Some(Value::Object(map)) => {
            for (key, v) in map {
                if key == "text"
                    && let Some(s) = v.as_str()
                {
                    out.push_str(s);
                    out.push('\n');
                } else {
                    collect_text(Some(v), out);
                }
            }
        }
        Some(Value::Array(items)) => {
            for v in items {
                collect_text(Some(v), out);
            }
        }
        _ => {}
    }
}

/// A rough token estimate: one token per four characters, at least one.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> Invocable {
        Invocable {
            model_id: "m".into(),
            provider: "p".into(),
            max_tokens: 8192,
            streaming: true,
            input: vec!["TEXT".into(), "IMAGE".into()],
            image_types: None,
            system_role: true,
            prompt_caching: true,
            document_types: Some(vec!["pdf".into()]),
            guardrails: true,
            latency_optimized: false,
            rules: Default::default(),
        }
    }

    #[test]
    fn refuses_what_the_model_cannot_take() {
        let image = json!({"role": "user", "content": [{"text": "x"}, {"image": {"format": "png", "source": {"bytes": "AA=="}}}]});
        let text_only = Invocable {
            input: vec!["TEXT".into()],
            ..model()
        };
        let error = check(&json!({"messages": [image.clone()]}), &text_only).unwrap_err();
        assert!(
            error.message.contains("image content block"),
            "{}",
            error.message
        );
        let jpeg_only = Invocable {
            image_types: Some(vec!["jpeg".into()]),
            ..model()
        };
        assert!(check(&json!({"messages": [image]}), &jpeg_only).is_err());
        let no_system = Invocable {
            system_role: false,
            ..model()
        };
        let with_system = json!({"system": [{"text": "be brief"}], "messages": [user("hi")]});
        assert!(
            check(&with_system, &no_system)
                .unwrap_err()
                .message
                .contains("system messages")
        );
        let no_cache = Invocable {
            prompt_caching: false,
            ..model()
        };
        let cached = json!({"system": [{"text": "s"}, {"cachePoint": {"type": "default"}}], "messages": [user("hi")]});
        assert!(
            check(&cached, &no_cache)
                .unwrap_err()
                .message
                .contains("cachePoint")
        );
        let one = Invocable {
            rules: crate::catalogue::Rules {
                sampling: Some("temperature-or-top-p".into()),
                ..Default::default()
            },
            ..model()
        };
        let both =
            json!({"messages": [user("hi")], "inferenceConfig": {"temperature": 0.5, "topP": 0.9}});
        assert!(
            check(&both, &one)
                .unwrap_err()
                .message
                .contains("cannot both be specified")
        );
        let temperature =
            json!({"messages": [user("hi")], "inferenceConfig": {"temperature": 0.5}});
        assert!(check(&temperature, &one).is_ok());
        let none = Invocable {
            rules: crate::catalogue::Rules {
                sampling: Some("none".into()),
                ..Default::default()
            },
            ..model()
        };
        assert!(
            check(&temperature, &none)
                .unwrap_err()
                .message
                .contains("`temperature` is deprecated")
        );
    }

    fn user(text: &str) -> Value {
        json!({"role": "user", "content": [{"text": text}]})
    }

    #[test]
    fn accepts_a_plain_turn() {
        let req = json!({"messages": [user("hi")], "inferenceConfig": {"maxTokens": 100}});
        assert_eq!(check(&req, &model()).unwrap().max_tokens, Some(100));
    }

    #[test]
    fn refuses_consecutive_user_turns() {
        let req = json!({"messages": [user("a"), user("b")]});
        assert!(
            check(&req, &model())
                .unwrap_err()
                .message
                .contains("must alternate")
        );
    }

    #[test]
    fn refuses_empty_content_with_index() {
        let req = json!({"messages": [user("a"), {"role": "assistant", "content": []}]});
        assert!(
            check(&req, &model())
                .unwrap_err()
                .message
                .contains("messages.1 is empty")
        );
    }

    #[test]
    fn refuses_tool_blocks_without_tool_config() {
        let req = json!({"messages": [user("a"),
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "x", "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "1"}]}}]}]});
        assert!(
            check(&req, &model())
                .unwrap_err()
                .message
                .contains("toolConfig field must be defined")
        );
    }

    #[test]
    fn refuses_thinking_budget_not_below_max_tokens() {
        let req = json!({"messages": [user("a")], "inferenceConfig": {"maxTokens": 2000},
            "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 2000}}});
        assert!(
            check(&req, &model())
                .unwrap_err()
                .message
                .contains("budget_tokens")
        );
    }

    #[test]
    fn refuses_max_tokens_above_limit() {
        let req = json!({"messages": [user("a")], "inferenceConfig": {"maxTokens": 9000}});
        assert!(
            check(&req, &model())
                .unwrap_err()
                .message
                .contains("model limit of 8192")
        );
    }

    #[test]
    fn tool_names_follow_bedrock_pattern() {
        assert!(valid_tool_name("get_weather-2"));
        assert!(!valid_tool_name("a.b"));
        assert!(!valid_tool_name(&"x".repeat(65)));
    }
}
