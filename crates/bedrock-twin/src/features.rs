//! The Converse fields around the conversation, checked as Bedrock checks them and acted on:
//!
//! - `guardrailConfig`: identifier and version patterns, the `trace` and
//!   `streamProcessingMode` enums, a guardrail that exists (the twin has one, [`GUARDRAIL_ID`],
//!   versions `DRAFT` and `1`, whose word filter blocks [`DENIED_WORD`]) on a model that takes
//!   guardrails. A blocked input answers with the guardrail's message, stop reason
//!   `guardrail_intervened` and, when traced, the assessment in `metadata.trace.guardrail`;
//! - `serviceTier.type` (`priority`, `default`, `flex`, `reserved`) on a model sold in that tier,
//!   echoed in the metadata; `performanceConfig.latency` (`standard`, `optimized`), echoed as the
//!   latency actually served (standard for a model without the optimized version);
//! - `outputConfig.textFormat`: a `json_schema` whose `schema` is a JSON object in a string, on
//!   a model with structured output, within Anthropic's schema subset (no `maxItems` on arrays,
//!   as in a recorded Bedrock error); the answer is then JSON made from the schema;
//! - `requestMetadata`: at most 16 pairs of Bedrock's lengths and characters;
//! - document blocks: the nine formats, the name rule, 4.5 MB each, five per request, beside a
//!   text block, to a model that reads documents in that format;
//! - Anthropic's `anthropic_beta` in `additionalModelRequestFields`: a list of the beta flags
//!   Bedrock takes ([`BEDROCK_BETAS`]), any other refused, and only on Anthropic's models, which
//!   alone take `top_k`, `anthropic_beta` and `context_management` there;
//! - Anthropic's `tool_choice` in `additionalModelRequestFields` (its `type` is required;
//!   `disable_parallel_tool_use` leaves one tool call), and the rule that, with thinking on, the
//!   assistant turn of the tool loop in progress starts with its thinking.
//!
//! Messages are Bedrock's where a capture or a public report quotes them; where none does (an
//! unsupported tier, too many documents) they follow Bedrock's wording for the nearest rule.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::catalogue::Invocable;
use crate::error::AwsError;

/// `anthropic_beta`, `top_k` and `context_management`: Claude's, with known beta flags.
fn anthropic_fields(req: &Value, model: &Invocable) -> Result<(), AwsError> {
    let Some(fields) = req
        .get("additionalModelRequestFields")
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    for key in ["anthropic_beta", "top_k", "context_management"] {
        if fields.contains_key(key) && model.provider != "Anthropic" {
            return Err(AwsError::validation(format!(
                "Malformed input request: #: extraneous key [{key}] is not permitted, please reformat your input and try again."
            )));
        }
    }
    if let Some(betas) = fields.get("anthropic_beta") {
        let Some(betas) = betas.as_array() else {
            return Err(AwsError::validation(
                "The model returned the following errors: anthropic_beta: Input should be a valid list",
            ));
        };
        for beta in betas {
            match beta.as_str() {
                Some(flag) if BEDROCK_BETAS.contains(&flag) => {}
                _ => {
                    return Err(AwsError::validation(format!(
                        "invalid beta flag: {}",
                        beta.as_str().unwrap_or("(not a string)")
                    )));
                }
            }
        }
    }
    if fields.contains_key("context_management")
        && !fields
            .get("anthropic_beta")
            .and_then(Value::as_array)
            .is_some_and(|b| b.iter().any(|f| f == "context-management-2025-06-27"))
    {
        return Err(AwsError::validation(
            "The model returned the following errors: context_management: Extra inputs are not permitted",
        ));
    }
    Ok(())
}

/// The guardrail the twin has.
pub const GUARDRAIL_ID: &str = "twinguard001";
/// The word its filter blocks.
pub const DENIED_WORD: &str = "forbidden";
/// What it answers instead of a blocked input.
pub const BLOCKED_MESSAGE: &str = "Sorry, the model cannot answer this question.";
/// The `anthropic_beta` flags Bedrock takes for Claude.
pub const BEDROCK_BETAS: [&str; 11] = [
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
];

/// Largest document, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 4_718_592;
/// Most documents per request.
pub const MAX_DOCUMENTS: usize = 5;
/// Document formats Converse takes.
pub const DOCUMENT_FORMATS: [&str; 9] = [
    "pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md",
];

/// What the request asked for beyond the conversation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// The guardrail's verdict, when one was applied.
    pub guardrail: Option<Guarded>,
    /// The service tier asked for.
    pub service_tier: Option<String>,
    /// The latency served, when one was asked for.
    pub latency: Option<String>,
    /// The schema of a structured answer.
    pub output_schema: Option<Value>,
    /// One tool call at most.
    pub single_tool: bool,
}

/// A guardrail's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Guarded {
    /// The guardrail's trace, when tracing is on.
    pub trace: Option<Value>,
    /// Whether it blocked the input.
    pub blocked: bool,
}

fn enum_error(value: &str, at: &str, set: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value '{value}' at '{at}' failed to satisfy constraint: Member must satisfy enum value set: [{set}]"
    ))
}

fn pattern_error(value: &str, at: &str, pattern: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value '{value}' at '{at}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
    ))
}

/// Checks the fields around the conversation; `thinking` says whether thinking is on.
pub fn check(req: &Value, model: &Invocable, thinking: bool) -> Result<Features, AwsError> {
    let mut features = Features::default();
    if let Some(config) = req.get("guardrailConfig").filter(|v| !v.is_null()) {
        features.guardrail = Some(guardrail(config, req, model)?);
    }
    if let Some(tier) = req.pointer("/serviceTier/type").and_then(Value::as_str) {
        features.service_tier = Some(service_tier(tier, model)?);
    }
    if let Some(latency) = req
        .pointer("/performanceConfig/latency")
        .and_then(Value::as_str)
    {
        features.latency = Some(match latency {
            "standard" => "standard".to_owned(),
            "optimized" if model.latency_optimized => "optimized".to_owned(),
            // Served by the standard version, and said so in the metadata.
            "optimized" => "standard".to_owned(),
            other => {
                return Err(enum_error(
                    other,
                    "performanceConfig.latency",
                    "optimized, standard",
                ));
            }
        });
    }
    if let Some(config) = req.get("outputConfig").filter(|v| !v.is_null()) {
        features.output_schema = Some(output_config(config, model)?);
    }
    if let Some(metadata) = req.get("requestMetadata").filter(|v| !v.is_null()) {
        request_metadata(metadata)?;
    }
    documents(req, model)?;
    anthropic_fields(req, model)?;
    if let Some(choice) = req.pointer("/additionalModelRequestFields/tool_choice") {
        let kind = choice.get("type").and_then(Value::as_str);
        match kind {
            Some("auto" | "any" | "tool" | "none") => {}
            Some(other) => {
                return Err(AwsError::validation(format!(
                    "The model returned the following errors: tool_choice: Input tag '{other}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
                )));
            }
            None => {
                return Err(AwsError::validation(
                    "The model returned the following errors: tool_choice.type: Field required",
                ));
            }
        }
        features.single_tool = choice
            .get("disable_parallel_tool_use")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    }
    if thinking && model.provider == "Anthropic" {
        thinking_opens_tool_turn(req)?;
    }
    Ok(features)
}

fn guardrail(config: &Value, req: &Value, model: &Invocable) -> Result<Guarded, AwsError> {
    let identifier = config
        .get("guardrailIdentifier")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let version = config
        .get("guardrailVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let id_ok = {
        let bare = identifier
            .rsplit_once(":guardrail/")
            .map_or(identifier, |(prefix, id)| {
                if prefix.starts_with("arn:aws") {
                    id
                } else {
                    ""
                }
            });
        !bare.is_empty()
            && identifier.len() <= 2048
            && bare
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if !id_ok {
        return Err(pattern_error(
            identifier,
            "guardrailConfig.guardrailIdentifier",
            "(([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))",
        ));
    }
    let version_ok = version == "DRAFT"
        || (!version.is_empty()
            && version.len() <= 8
            && !version.starts_with('0')
            && version.bytes().all(|b| b.is_ascii_digit()));
    if !version_ok {
        return Err(pattern_error(
            version,
            "guardrailConfig.guardrailVersion",
            "(([1-9][0-9]{0,7})|(DRAFT))",
        ));
    }
    let trace = config
        .get("trace")
        .and_then(Value::as_str)
        .unwrap_or("disabled");
    if !matches!(trace, "enabled" | "disabled" | "enabled_full") {
        return Err(enum_error(
            trace,
            "guardrailConfig.trace",
            "enabled, disabled, enabled_full",
        ));
    }
    if let Some(mode) = config.get("streamProcessingMode").and_then(Value::as_str)
        && !matches!(mode, "sync" | "async")
    {
        return Err(enum_error(
            mode,
            "guardrailConfig.streamProcessingMode",
            "sync, async",
        ));
    }
    let bare = identifier.rsplit('/').next().unwrap_or(identifier);
    if bare != GUARDRAIL_ID || !(version == "DRAFT" || version == "1") {
        return Err(AwsError::validation(
            "The guardrail identifier or version provided in the request does not exist.",
        ));
    }
    if !model.guardrails {
        return Err(AwsError::validation(
            "This model doesn't support guardrails. Try again without guardrailConfig.",
        ));
    }
    let text = crate::validate::all_text(req);
    let blocked = text.to_lowercase().contains(DENIED_WORD);
    let total = text.chars().count();
    let assessment = if blocked {
        json!({
            "wordPolicy": {"customWords": [{"match": DENIED_WORD, "action": "BLOCKED", "detected": true}]},
            "invocationMetrics": {
                "guardrailCoverage": {"textCharacters": {"guarded": total, "total": total}},
                "guardrailProcessingLatency": 120,
                "usage": {"wordPolicyUnits": 1, "contentPolicyUnits": 1, "topicPolicyUnits": 0, "sensitiveInformationPolicyUnits": 0}
            }
        })
    } else {
        json!({
            "invocationMetrics": {
                "guardrailCoverage": {"textCharacters": {"guarded": total, "total": total}},
                "guardrailProcessingLatency": 80,
                "usage": {"wordPolicyUnits": 1, "contentPolicyUnits": 1, "topicPolicyUnits": 0, "sensitiveInformationPolicyUnits": 0}
            }
        })
    };
    let trace = (trace != "disabled").then(|| {
        let mut guardrail = json!({
            "inputAssessment": {GUARDRAIL_ID: assessment},
        });
        if blocked {
            guardrail["actionReason"] = json!("Guardrail blocked.");
        }
        json!({"guardrail": guardrail})
    });
    Ok(Guarded { trace, blocked })
}

fn service_tier(tier: &str, model: &Invocable) -> Result<String, AwsError> {
    match tier {
        "default" => Ok(tier.to_owned()),
        "reserved" => Err(AwsError::validation("Reservation not found.")),
        "priority" | "flex" if model.rules.tiers.iter().any(|t| t == tier) => Ok(tier.to_owned()),
        "priority" | "flex" => Err(AwsError::validation(format!(
            "The {tier} service tier isn't supported for this model. Try again with a supported service tier."
        ))),
        other => Err(enum_error(
            other,
            "serviceTier.type",
            "priority, default, flex, reserved",
        )),
    }
}

fn output_config(config: &Value, model: &Invocable) -> Result<Value, AwsError> {
    let kind = config
        .pointer("/textFormat/type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind != "json_schema" {
        return Err(enum_error(
            kind,
            "outputConfig.textFormat.type",
            "json_schema",
        ));
    }
    let definition = config
        .pointer("/textFormat/structure/jsonSchema")
        .ok_or_else(|| {
            AwsError::validation(
                "1 validation error detected: Value null at 'outputConfig.textFormat.structure' failed to satisfy constraint: Member must not be null",
            )
        })?;
    let name = definition
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(pattern_error(
            name,
            "outputConfig.textFormat.structure.jsonSchema.name",
            "[a-zA-Z0-9_-]{1,64}",
        ));
    }
    let text = definition
        .get("schema")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let schema: Value = serde_json::from_str(text).map_err(|_| {
        AwsError::validation(
            "The JSON schema provided in outputConfig is not valid JSON. Fix the schema and try again.",
        )
    })?;
    if !schema.is_object() {
        return Err(AwsError::validation(
            "The JSON schema provided in outputConfig must be a JSON object.",
        ));
    }
    if !model.rules.structured_output {
        return Err(AwsError::validation(
            "This model doesn't support structured outputs. Try again without outputConfig.",
        ));
    }
    if model.provider == "Anthropic"
        && let Some(keyword) = unsupported_keyword(&schema)
    {
        return Err(AwsError::validation(format!(
            "The model returned the following errors: output_config.format.schema: For '{}' type, property '{}' is not supported",
            keyword.0, keyword.1
        )));
    }
    Ok(schema)
}

/// The first `(type, keyword)` of `schema` outside Anthropic's structured-output subset.
fn unsupported_keyword(schema: &Value) -> Option<(String, String)> {
    match schema {
        Value::Object(map) => {
            let kind = map.get("type").and_then(Value::as_str).unwrap_or_default();
            let refused: &[&str] = match kind {
                "array" => &["maxItems", "uniqueItems", "contains"],
                "string" => &["minLength", "maxLength"],
                "number" | "integer" => &[
                    "minimum",
                    "maximum",
                    "multipleOf",
                    "exclusiveMinimum",
                    "exclusiveMaximum",
                ],
                _ => &[],
            };
            if let Some(key) = refused.iter().find(|k| map.contains_key(**k)) {
                return Some((kind.to_owned(), (*key).to_owned()));
            }
            map.values().find_map(unsupported_keyword)
        }
        Value::Array(items) => items.iter().find_map(unsupported_keyword),
        _ => None,
    }
}

fn request_metadata(metadata: &Value) -> Result<(), AwsError> {
    let Some(pairs) = metadata.as_object() else {
        return Err(AwsError::validation(
            "The request body does not match the Converse request shape.",
        ));
    };
    if pairs.len() > 16 {
        return Err(AwsError::validation(
            "1 validation error detected: Value at 'requestMetadata' failed to satisfy constraint: Member must have length less than or equal to 16",
        ));
    }
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || c.is_whitespace() || ":_@$#=/+,.-".contains(c);
    for (key, value) in pairs {
        let value = value.as_str().unwrap_or_default();
        if key.is_empty() || key.chars().count() > 256 || !key.chars().all(allowed) {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{key}' at 'requestMetadata' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length between 1 and 256, Member must satisfy regular expression pattern: [a-zA-Z0-9\\s:_@$#=/+,-.]{{1,256}}]"
            )));
        }
        if value.chars().count() > 256 || !value.chars().all(allowed) {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value at 'requestMetadata.{key}' failed to satisfy constraint: Map values must satisfy constraint: [Member must have length less than or equal to 256, Member must satisfy regular expression pattern: [a-zA-Z0-9\\s:_@$#=/+,-.]{{0,256}}]"
            )));
        }
    }
    Ok(())
}

/// Bedrock's document-name rule.
fn valid_document_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains("  ")
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || c.is_whitespace()
                || matches!(c, '-' | '(' | ')' | '[' | ']')
        })
}

fn documents(req: &Value, model: &Invocable) -> Result<(), AwsError> {
    let messages = req
        .get("messages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut count = 0;
    for message in messages {
        let content = message
            .get("content")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut has_document = false;
        let has_text = content.iter().any(|b| b.get("text").is_some());
        for document in content.iter().filter_map(|b| b.get("document")) {
            has_document = true;
            count += 1;
            let format = document
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !DOCUMENT_FORMATS.contains(&format) {
                return Err(enum_error(
                    format,
                    "messages.member.content.member.document.format",
                    "pdf, csv, doc, docx, xls, xlsx, html, txt, md",
                ));
            }
            let name = document
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !valid_document_name(name) {
                return Err(AwsError::validation(
                    "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character.",
                ));
            }
            let bytes = document
                .pointer("/source/bytes")
                .and_then(Value::as_str)
                .and_then(|b| BASE64.decode(b).ok())
                .map_or(0, |b| b.len());
            if bytes > MAX_DOCUMENT_BYTES {
                return Err(AwsError::validation(format!(
                    "The document {name} is {bytes} bytes; a document can be at most {MAX_DOCUMENT_BYTES} bytes (4.5 MB)."
                )));
            }
            match &model.document_types {
                Some(types) if types.is_empty() => {
                    return Err(AwsError::validation(
                        "This model doesn't support the document content block that you provided. Try again with a supported content block.",
                    ));
                }
                Some(types) if !types.iter().any(|t| t == format) => {
                    return Err(AwsError::validation(format!(
                        "This model doesn't support the {format} document format. Try again with a supported format: {}.",
                        types.join(", ")
                    )));
                }
                _ => {}
            }
        }
        if has_document && !has_text {
            return Err(AwsError::validation(
                "A message that includes a document must also include a text block. Add a text block to the message and try again.",
            ));
        }
    }
    if count > MAX_DOCUMENTS {
        return Err(AwsError::validation(format!(
            "The request includes {count} documents; you can include up to {MAX_DOCUMENTS} documents in a request."
        )));
    }
    Ok(())
}

/// With thinking on, the last assistant turn that holds a tool use, answered by the tool
/// results of the turn after it, must start with a reasoning block.
fn thinking_opens_tool_turn(req: &Value) -> Result<(), AwsError> {
    let messages = req
        .get("messages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let Some(i) = messages
        .iter()
        .rposition(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
    else {
        return Ok(());
    };
    let content = |m: &Value| {
        m.get("content")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let assistant = content(&messages[i]);
    let uses_tools = assistant.iter().any(|b| b.get("toolUse").is_some());
    let answered = messages[i + 1..]
        .iter()
        .any(|m| content(m).iter().any(|b| b.get("toolResult").is_some()));
    if !(uses_tools && answered) {
        return Ok(());
    }
    let first = assistant.first();
    if first.is_some_and(|b| b.get("reasoningContent").is_some()) {
        return Ok(());
    }
    let found = match first {
        Some(b) if b.get("toolUse").is_some() => "tool_use",
        Some(b) if b.get("text").is_some() => "text",
        _ => "text",
    };
    Err(AwsError::validation(format!(
        "The model returned the following errors: messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claude() -> Invocable {
        Invocable {
            model_id: "anthropic.claude-haiku-4-5-20251001-v1:0".into(),
            provider: "Anthropic".into(),
            max_tokens: 64000,
            streaming: true,
            input: vec!["TEXT".into(), "IMAGE".into()],
            image_types: None,
            system_role: true,
            prompt_caching: true,
            document_types: Some(vec!["pdf".into()]),
            guardrails: true,
            latency_optimized: false,
            rules: crate::catalogue::Rules {
                structured_output: true,
                ..Default::default()
            },
        }
    }

    fn user(text: &str) -> Value {
        json!({"role": "user", "content": [{"text": text}]})
    }

    #[test]
    fn a_tool_turn_without_its_thinking_is_refused_when_thinking_is_on() {
        let req = json!({"messages": [
            user("weather?"),
            {"role": "assistant", "content": [{"text": "Calling."}, {"toolUse": {"toolUseId": "t1", "name": "w", "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}]}}]},
        ]});
        let error = check(&req, &claude(), true).unwrap_err();
        assert!(
            error.message.contains("messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text`"),
            "{}",
            error.message
        );
        assert!(check(&req, &claude(), false).is_ok());
        let mut signed = req.clone();
        signed["messages"][1]["content"]
            .as_array_mut()
            .unwrap()
            .insert(
                0,
                json!({"reasoningContent": {"reasoningText": {"text": "t", "signature": "s"}}}),
            );
        assert!(check(&signed, &claude(), true).is_ok());
    }

    #[test]
    fn guardrails_are_checked_and_block_the_denied_word() {
        let with = |config: Value, text: &str| json!({"messages": [user(text)], "guardrailConfig": config});
        let ok = json!({"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "1", "trace": "enabled"});
        let verdict = check(&with(ok.clone(), "a forbidden topic"), &claude(), false)
            .unwrap()
            .guardrail
            .unwrap();
        assert!(verdict.blocked);
        assert_eq!(
            verdict.trace.unwrap()["guardrail"]["inputAssessment"][GUARDRAIL_ID]["wordPolicy"]["customWords"]
                [0]["match"],
            DENIED_WORD
        );
        assert!(
            !check(&with(ok, "hello"), &claude(), false)
                .unwrap()
                .guardrail
                .unwrap()
                .blocked
        );
        let bad_version = json!({"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "v1"});
        assert!(
            check(&with(bad_version, "x"), &claude(), false)
                .unwrap_err()
                .message
                .contains("guardrailVersion")
        );
        let missing = json!({"guardrailIdentifier": "abc123", "guardrailVersion": "DRAFT"});
        assert!(
            check(&with(missing, "x"), &claude(), false)
                .unwrap_err()
                .message
                .contains("does not exist")
        );
        let bad_trace = json!({"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "DRAFT", "trace": "on"});
        assert!(
            check(&with(bad_trace, "x"), &claude(), false)
                .unwrap_err()
                .message
                .contains("enum value set")
        );
    }

    #[test]
    fn tiers_latency_and_schemas_follow_the_model() {
        let tier = |t: &str| json!({"messages": [user("x")], "serviceTier": {"type": t}});
        assert_eq!(
            check(&tier("default"), &claude(), false)
                .unwrap()
                .service_tier
                .as_deref(),
            Some("default")
        );
        assert!(
            check(&tier("flex"), &claude(), false)
                .unwrap_err()
                .message
                .contains("flex service tier")
        );
        assert_eq!(
            check(&tier("reserved"), &claude(), false)
                .unwrap_err()
                .message,
            "Reservation not found."
        );
        let mut flex = claude();
        flex.rules.tiers = vec!["flex".into()];
        assert!(check(&tier("flex"), &flex, false).is_ok());
        let fast = json!({"messages": [user("x")], "performanceConfig": {"latency": "optimized"}});
        assert_eq!(
            check(&fast, &claude(), false).unwrap().latency.as_deref(),
            Some("standard")
        );
        let schema = |s: &str| json!({"messages": [user("x")], "outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"name": "answer", "schema": s}}}}});
        assert!(
            check(
                &schema(r#"{"type":"object","properties":{"a":{"type":"string"}}}"#),
                &claude(),
                false
            )
            .unwrap()
            .output_schema
            .is_some()
        );
        let error = check(
            &schema(r#"{"type":"object","properties":{"a":{"type":"array","maxItems":3}}}"#),
            &claude(),
            false,
        )
        .unwrap_err();
        assert!(
            error
                .message
                .contains("For 'array' type, property 'maxItems' is not supported"),
            "{}",
            error.message
        );
        let mut plain = claude();
        plain.rules.structured_output = false;
        assert!(
            check(&schema(r#"{"type":"object"}"#), &plain, false)
                .unwrap_err()
                .message
                .contains("structured outputs")
        );
    }

    #[test]
    fn documents_follow_bedrock_rules() {
        let doc = |name: &str, format: &str, text: bool| {
            let mut content = vec![
                json!({"document": {"name": name, "format": format, "source": {"bytes": "JVBERi0="}}}),
            ];
            if text {
                content.push(json!({"text": "summarize"}));
            }
            json!({"messages": [{"role": "user", "content": content}]})
        };
        assert!(check(&doc("report", "pdf", true), &claude(), false).is_ok());
        assert!(
            check(&doc("report", "pdf", false), &claude(), false)
                .unwrap_err()
                .message
                .contains("text block")
        );
        assert!(
            check(&doc("report.pdf", "pdf", true), &claude(), false)
                .unwrap_err()
                .message
                .contains("file name")
        );
        assert!(
            check(&doc("report", "docx", true), &claude(), false)
                .unwrap_err()
                .message
                .contains("docx document format")
        );
        assert!(
            check(&doc("report", "rtf", true), &claude(), false)
                .unwrap_err()
                .message
                .contains("enum value set")
        );
    }

    #[test]
    fn claude_tool_choice_needs_its_type() {
        let req = |choice: Value| json!({"messages": [user("x")], "additionalModelRequestFields": {"tool_choice": choice}});
        assert!(
            check(
                &req(json!({"disable_parallel_tool_use": true})),
                &claude(),
                false
            )
            .unwrap_err()
            .message
            .contains("tool_choice.type: Field required")
        );
        assert!(
            check(
                &req(json!({"type": "auto", "disable_parallel_tool_use": true})),
                &claude(),
                false
            )
            .unwrap()
            .single_tool
        );
    }
}
