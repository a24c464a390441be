//! Scripted, deterministic replies. The reply echoes the last user message; the prompt and the
//! request steer it:
//!
//! - thinking requested in `additionalModelRequestFields` → a reasoning block with a signature
//!   before the text; `twin:redacted` in the prompt → a redacted reasoning block;
//! - tools offered and the prompt names some of them (or says `twin:tools`) → one `toolUse` per
//!   named tool, with input built from the tool's JSON schema, and stop reason `tool_use`;
//! - tool results in the last user turn → a text answer quoting them;
//! - `twin:stop=<reason>` forces a stop reason; `maxTokens` and `stopSequences` cut the text as a
//!   model would (`max_tokens`, `stop_sequence`);
//! - a `cachePoint` → cache write on first sight of the prefix, cache read afterwards;
//! - `twin:images` in the prompt → a first text line describing the images received
//!   (`Images: png 70 bytes`), so a test can see what reached the model.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::faults::Knobs;
use crate::validate::{Checked, all_text, estimate_tokens};

/// Bedrock's stop reasons (`twin:stop=` takes these and any other lower-case name).
pub const STOP_REASONS: [&str; 9] = [
    "model_context_window_exceeded",
    "end_turn",
    "tool_use",
    "max_tokens",
    "stop_sequence",
    "guardrail_intervened",
    "content_filtered",
    "malformed_model_output",
    "malformed_tool_use",
];

/// One content block of a reply, already cut into the deltas it streams as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Text, streamed as these pieces.
    Text(Vec<String>),
    /// Reasoning text pieces and the signature sent after them.
    Reasoning {
        /// Reasoning text pieces.
        pieces: Vec<String>,
        /// Signature.
        signature: String,
    },
    /// Redacted reasoning bytes.
    Redacted(Vec<u8>),
    /// A tool call whose JSON input streams as these pieces.
    ToolUse {
        /// Tool-use id.
        id: String,
        /// Tool name.
        name: String,
        /// Pieces of the JSON input text.
        pieces: Vec<String>,
    },
}

impl Block {
    /// How many deltas this block streams.
    pub fn delta_count(&self) -> usize {
        match self {
            Self::Text(p) | Self::ToolUse { pieces: p, .. } => p.len(),
            Self::Reasoning { pieces, .. } => pieces.len() + 1,
            Self::Redacted(_) => 1,
        }
    }

    /// The block as a complete `Converse` content block.
    pub fn to_content(&self) -> Value {
        match self {
            Self::Text(p) => json!({ "text": p.concat() }),
            Self::Reasoning { pieces, signature } => json!({
                "reasoningContent": { "reasoningText": { "text": pieces.concat(), "signature": signature } }
            }),
            Self::Redacted(bytes) => {
                json!({ "reasoningContent": { "redactedContent": BASE64.encode(bytes) } })
            }
            Self::ToolUse { id, name, pieces } => {
                let input: Value =
                    serde_json::from_str(&pieces.concat()).unwrap_or_else(|_| json!({}));
                json!({ "toolUse": { "toolUseId": id, "name": name, "input": input } })
            }
        }
    }
}

/// Token usage of a reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Input tokens not served from the cache.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Cache read and write tokens, when the request had a `cachePoint`.
    pub cache: Option<(u64, u64)>,
}

impl Usage {
    /// The `usage` object.
    pub fn to_json(self) -> Value {
        let (read, write) = self.cache.unwrap_or((0, 0));
        let mut usage = Map::new();
        usage.insert("inputTokens".into(), self.input.into());
        usage.insert("outputTokens".into(), self.output.into());
        usage.insert(
            "totalTokens".into(),
            (self.input + self.output + read + write).into(),
        );
        if self.cache.is_some() {
            usage.insert("cacheReadInputTokens".into(), read.into());
            usage.insert("cacheWriteInputTokens".into(), write.into());
        }
        Value::Object(usage)
    }
}

/// A complete scripted reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Content blocks in order.
    pub blocks: Vec<Block>,
    /// Stop reason.
    pub stop_reason: String,
    /// Usage.
    pub usage: Usage,
    /// `metadata.trace` (a guardrail's), when there is one.
    pub trace: Option<Value>,
    /// The service tier that served the answer, when one was asked for.
    pub service_tier: Option<String>,
    /// The latency served, when one was asked for.
    pub latency: Option<String>,
}

impl Reply {
    /// Applies what the request's fields around the conversation ask for: a guardrail's block
    /// or trace, a structured answer, one tool call at most, and the tier and latency served.
    pub fn apply(&mut self, features: &crate::features::Features, size: usize) {
        if let Some(schema) = &features.output_schema {
            let text = example_input(schema, "").to_string();
            self.blocks
                .retain(|b| matches!(b, Block::Reasoning { .. } | Block::Redacted(_)));
            self.blocks.push(Block::Text(chunk(&text, size)));
            self.stop_reason = "end_turn".to_owned();
        }
        if features.single_tool {
            let mut seen = false;
            self.blocks.retain(|b| {
                let tool = matches!(b, Block::ToolUse { .. });
                let keep = !(tool && seen);
                seen |= tool;
                keep
            });
        }
        if let Some(guarded) = &features.guardrail {
            if guarded.blocked {
                self.blocks = vec![Block::Text(chunk(crate::features::BLOCKED_MESSAGE, size))];
                self.stop_reason = "guardrail_intervened".to_owned();
            }
            self.trace.clone_from(&guarded.trace);
        }
        self.usage.output = self.blocks.iter().map(Block::delta_count).sum::<usize>() as u64;
        self.service_tier.clone_from(&features.service_tier);
        self.latency.clone_from(&features.latency);
    }
}

/// Prompt-cache prefixes seen so far (for cache read vs write).
#[derive(Debug, Default)]
pub struct PromptCache {
    seen: Mutex<HashSet<u64>>,
}

impl PromptCache {
    /// Records a prefix; true when it had been seen before.
    fn hit(&self, key: u64) -> bool {
        self.seen
            .lock()
            .map(|mut s| !s.insert(key))
            .unwrap_or(false)
    }
}

/// Builds the reply to a validated request.
pub fn reply(
    req: &Value,
    model_id: &str,
    checked: &Checked,
    knobs: &Knobs,
    cache: &PromptCache,
) -> Reply {
    let prompt = last_user_text(req);
    let lower = prompt.to_ascii_lowercase();
    let size = knobs.delta_size.max(1);
    let mut blocks = Vec::new();

    if checked.thinking {
        let text = format!(
            "The user wrote {} characters; I will answer by repeating them.",
            prompt.chars().count()
        );
        let signature = BASE64.encode(Sha256::digest(format!("{model_id}\n{text}").as_bytes()));
        blocks.push(Block::Reasoning {
            pieces: chunk(&text, size),
            signature,
        });
    }
    if lower.contains("twin:images") {
        let text = format!("Images: {}\n", describe_images(req));
        blocks.push(Block::Text(chunk(&text, size)));
    }
    if lower.contains("twin:redacted") {
        let bytes = Sha256::digest(prompt.as_bytes()).to_vec();
        blocks.push(Block::Redacted(bytes));
    }

    let tools = requested_tools(req, &lower);
    let mut stop_reason = "end_turn";
    if let Some(results) = tool_results(req) {
        let text = format!("Tool results received: {results}");
        blocks.push(Block::Text(chunk(&text, size)));
    } else if !tools.is_empty() {
        let names: Vec<&str> = tools.iter().map(|(n, _)| n.as_str()).collect();
        // A forced tool call comes without a preamble.
        if req.pointer("/toolConfig/toolChoice/auto").is_some()
            || req.pointer("/toolConfig/toolChoice").is_none()
        {
            blocks.push(Block::Text(chunk(
                &format!("Calling {}.", names.join(", ")),
                size,
            )));
        }
        for (i, (name, schema)) in tools.iter().enumerate() {
            let input = example_input(schema, &prompt).to_string();
            let id = format!(
                "tooluse_twin{:016x}",
                fingerprint(&(prompt.as_str(), name, i))
            );
            blocks.push(Block::ToolUse {
                id,
                name: name.clone(),
                pieces: chunk(&input, size),
            });
        }
        stop_reason = "tool_use";
    } else {
        let (pieces, reason) = echo_pieces(&prompt, checked, knobs);
        blocks.push(Block::Text(pieces));
        stop_reason = reason;
    }

    let mut stop_reason = stop_reason.to_owned();
    // `twin:stop=<reason>`: a reason Bedrock has, or any other (a reason added after the SDK).
    if let Some(forced) = lower.split("twin:stop=").nth(1) {
        let reason: String = forced
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !reason.is_empty() {
            stop_reason = reason;
        }
    }

    let output = blocks.iter().map(Block::delta_count).sum::<usize>() as u64;
    let total_input = estimate_tokens(&all_text(req)) as u64;
    let cache_usage = cache_prefix(req).map(|prefix| {
        let tokens = (estimate_tokens(&prefix) as u64).min(total_input);
        if cache.hit(fingerprint(&(model_id, prefix.as_str()))) {
            (tokens, 0)
        } else {
            (0, tokens)
        }
    });
    let cached = cache_usage.map_or(0, |(r, w)| r + w);
    Reply {
        blocks,
        stop_reason,
        usage: Usage {
            input: total_input.saturating_sub(cached).max(1),
            output,
            cache: cache_usage,
        },
        trace: None,
        service_tier: None,
        latency: None,
    }
}

fn echo_pieces(prompt: &str, checked: &Checked, knobs: &Knobs) -> (Vec<String>, &'static str) {
    let size = knobs.delta_size.max(1);
    let base = if prompt.trim().is_empty() {
        "(no text)"
    } else {
        prompt
    };
    let mut pieces = match knobs.deltas {
        Some(n) => {
            let wanted = (n as usize).saturating_mul(size);
            let text: String = base.chars().cycle().take(wanted).collect();
            chunk(&text, size)
        }
        None => chunk(base, size),
    };
    let mut reason = "end_turn";
    if !checked.stop_sequences.is_empty() {
        let full = pieces.concat();
        if let Some(cut) = checked
            .stop_sequences
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| full.find(s.as_str()))
            .min()
        {
            let kept = full.get(..cut).unwrap_or_default();
            pieces = chunk(kept, size);
            reason = "stop_sequence";
        }
    }
    if let Some(max) = checked.max_tokens {
        let max = max as usize;
        if pieces.len() > max {
            pieces.truncate(max);
            reason = "max_tokens";
        }
    }
    (pieces, reason)
}

/// Cuts text into pieces of `size` characters (one empty piece for empty text).
pub fn chunk(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

fn last_user_text(req: &Value) -> String {
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return String::new();
    };
    let Some(last) = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
    else {
        return String::new();
    };
    last.get("content")
        .and_then(Value::as_array)
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// `format size` of each image in the last user message, or `none`.
fn describe_images(req: &Value) -> String {
    let images: Vec<String> = req
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|messages| {
            messages
                .iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        })
        .and_then(|m| m.get("content").and_then(Value::as_array))
        .into_iter()
        .flatten()
        .filter_map(|block| block.get("image"))
        .map(|image| {
            let format = image.get("format").and_then(Value::as_str).unwrap_or("?");
            let bytes = image
                .pointer("/source/bytes")
                .and_then(Value::as_str)
                .and_then(|b| BASE64.decode(b).ok())
                .map_or(0, |b| b.len());
            format!("{format} {bytes} bytes")
        })
        .collect();
    if images.is_empty() {
        "none".to_owned()
    } else {
        images.join(", ")
    }
}

/// Texts of the tool results in the last message, if it carries any.
fn tool_results(req: &Value) -> Option<String> {
    let last = req.get("messages")?.as_array()?.last()?;
    let results: Vec<String> = last
        .get("content")?
        .as_array()?
        .iter()
        .filter_map(|b| b.get("toolResult"))
        .map(|r| {
            r.get("content")
                .and_then(Value::as_array)
                .map(|parts| {
                    parts
                        .iter()
                        .map(|p| match (p.get("text"), p.get("json")) {
                            (Some(Value::String(t)), _) => t.clone(),
                            (_, Some(j)) => j.to_string(),
                            _ => "(non-text result)".to_owned(),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        })
        .collect();
    (!results.is_empty()).then(|| results.join("; "))
}

/// Tools the prompt asks for: those it names, or all of them with `twin:tools`.
fn requested_tools(req: &Value, lower_prompt: &str) -> Vec<(String, Value)> {
    let Some(tools) = req.pointer("/toolConfig/tools").and_then(Value::as_array) else {
        return Vec::new();
    };
    let all = lower_prompt.contains("twin:tools");
    // A tool choice forces a call: of the named tool, or (`any`) of the first one.
    let choice = req.pointer("/toolConfig/toolChoice");
    let forced = choice
        .and_then(|c| c.pointer("/tool/name"))
        .and_then(Value::as_str);
    let any = choice.is_some_and(|c| c.get("any").is_some());
    let named: Vec<(String, Value)> = tools
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let spec = t.get("toolSpec")?;
            let name = spec.get("name")?.as_str()?;
            let schema = spec
                .pointer("/inputSchema/json")
                .cloned()
                .unwrap_or(Value::Null);
            let wanted = match forced {
                Some(forced) => name == forced,
                None => all || lower_prompt.contains(&name.to_ascii_lowercase()) || (any && i == 0),
            };
            wanted.then(|| (name.to_owned(), schema))
        })
        .collect();
    named
}

/// The value `twin:arg:NAME=VALUE;` in the prompt gives a string property (up to `;` or the end
/// of the prompt), so that a test can have a client's tool run something real.
fn prompt_arg(prompt: &str, name: &str) -> Option<String> {
    let marker = format!("twin:arg:{name}=");
    let start = prompt.find(&marker)? + marker.len();
    let rest = &prompt[start..];
    Some(rest.split(';').next().unwrap_or(rest).trim().to_owned())
}

/// An input object satisfying a tool's JSON schema (required properties, or all of them); a
/// string property takes its value from `twin:arg:NAME=VALUE;` in `prompt` when it is there.
fn example_input(schema: &Value, prompt: &str) -> Value {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return json!({});
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Map::new();
    for (name, prop) in props {
        if !required.is_empty() && !required.contains(&name.as_str()) {
            continue;
        }
        let value = match prompt_arg(prompt, name) {
            Some(given) if prop.get("type").and_then(Value::as_str) == Some("string") => {
                Value::String(given)
            }
            _ => example_value(name, prop, prompt),
        };
        out.insert(name.clone(), value);
    }
    Value::Object(out)
}

fn example_value(name: &str, prop: &Value, prompt: &str) -> Value {
    if let Some(first) = prop
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    match prop.get("type").and_then(Value::as_str) {
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        Some("array") => json!([]),
        Some("object") => example_input(prop, prompt),
        _ => Value::String(format!("twin-{name}")),
    }
}

/// The serialized request up to its last `cachePoint`, if it has one.
pub(crate) fn cache_prefix(req: &Value) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut prefix = None;
    let sections = [
        req.get("system"),
        req.pointer("/toolConfig/tools"),
        req.get("messages"),
    ];
    for section in sections.into_iter().flatten() {
        scan_cache_points(section, &mut parts, &mut prefix);
    }
    prefix
}

fn scan_cache_points(value: &Value, parts: &mut Vec<String>, prefix: &mut Option<String>) {
    match value {
        Value::Array(items) => {
            for item in items {
                scan_cache_points(item, parts, prefix);
            }
        }
        Value::Object(map) if map.contains_key("cachePoint") => {
            *prefix = Some(parts.concat());
        }
        Value::Object(map) if map.contains_key("content") => {
            if let Some(content) = map.get("content") {
                scan_cache_points(content, parts, prefix);
            }
        }
        other => parts.push(other.to_string()),
    }
}

fn fingerprint<T: Hash>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_can_give_a_tool_its_string_arguments() {
        let schema = json!({"type": "object", "properties": {"cmd": {"type": "string"}, "n": {"type": "integer"}}});
        let prompt = "Use exec_command to run twin:arg:cmd=echo hi; then tell me";
        assert_eq!(
            example_input(&schema, prompt),
            json!({"cmd": "echo hi", "n": 1})
        );
        assert_eq!(example_input(&schema, "no args")["cmd"], "twin-cmd");
    }

    fn req(text: &str) -> Value {
        json!({"messages": [{"role": "user", "content": [{"text": text}]}]})
    }

    #[test]
    fn echoes_in_several_deltas() {
        let r = reply(
            &req("hello there, twin"),
            "m",
            &Checked::default(),
            &Knobs::default(),
            &PromptCache::default(),
        );
        assert_eq!(r.stop_reason, "end_turn");
        match &r.blocks[0] {
            Block::Text(p) => {
                assert!(p.len() > 1);
                assert_eq!(p.concat(), "hello there, twin");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn max_tokens_cuts_the_reply() {
        let checked = Checked {
            max_tokens: Some(1),
            ..Checked::default()
        };
        let r = reply(
            &req("a long enough prompt to need several deltas"),
            "m",
            &checked,
            &Knobs::default(),
            &PromptCache::default(),
        );
        assert_eq!(r.stop_reason, "max_tokens");
        assert_eq!(r.usage.output, 1);
    }

    #[test]
    fn exact_delta_count_knob() {
        let knobs = Knobs {
            deltas: Some(7),
            delta_size: 3,
            ..Knobs::default()
        };
        let r = reply(
            &req("xy"),
            "m",
            &Checked::default(),
            &knobs,
            &PromptCache::default(),
        );
        assert_eq!(r.blocks[0].delta_count(), 7);
    }

    #[test]
    fn named_tools_are_called() {
        let mut q = req("use get_weather and get_time please");
        q["toolConfig"] = json!({"tools": [
            {"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}},
            {"toolSpec": {"name": "get_time", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
            {"toolSpec": {"name": "unused", "inputSchema": {"json": {}}}}
        ]});
        let r = reply(
            &q,
            "m",
            &Checked::default(),
            &Knobs::default(),
            &PromptCache::default(),
        );
        assert_eq!(r.stop_reason, "tool_use");
        let calls: Vec<_> = r
            .blocks
            .iter()
            .filter(|b| matches!(b, Block::ToolUse { .. }))
            .collect();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            calls[0].to_content()["toolUse"]["input"],
            json!({"city": "twin-city"})
        );
    }

    #[test]
    fn cache_point_writes_then_reads() {
        let mut q = req("question");
        q["system"] =
            json!([{"text": "a long system prompt"}, {"cachePoint": {"type": "default"}}]);
        let cache = PromptCache::default();
        let first = reply(&q, "m", &Checked::default(), &Knobs::default(), &cache);
        let second = reply(&q, "m", &Checked::default(), &Knobs::default(), &cache);
        let (r1, w1) = first.usage.cache.unwrap();
        let (r2, w2) = second.usage.cache.unwrap();
        assert_eq!((r1, r2), (0, w1));
        assert!(w1 > 0);
        assert_eq!(w2, 0);
    }
}
