//! Request parameters both OpenAI doors (chat completions and Responses) take alike: reasoning
//! effort, service tier, cache retention, latency, metadata, tool-choice modes and the guardrail
//! extension. Each value is checked here, once, and a bad one names its field.

use std::collections::BTreeMap;

use pincer_core::{CacheRetention, Guardrail, Latency, ReasoningLevel, ServiceTier, ToolChoice};

use crate::request::{RequestError, reject};
use crate::types::GuardrailParam;

/// `reasoning_effort` (chat) or `reasoning.effort` (Responses), found at `param`.
pub fn reasoning_level(effort: Option<&str>, param: &str) -> Result<ReasoningLevel, RequestError> {
    Ok(match effort {
        None | Some("none") => ReasoningLevel::Off,
        Some("minimal") => ReasoningLevel::Minimal,
        Some("low") => ReasoningLevel::Low,
        Some("medium") => ReasoningLevel::Medium,
        Some("high") => ReasoningLevel::High,
        Some("xhigh") => ReasoningLevel::Xhigh,
        Some(other) => {
            return Err(reject(
                param,
                format!("`{other}` is not one of none, minimal, low, medium, high, xhigh"),
            ));
        }
    })
}

/// `metadata` (at most 16 pairs), with `user` and `safety_identifier` added: Bedrock's
/// `requestMetadata`.
pub fn metadata(
    metadata: Option<BTreeMap<String, String>>,
    user: Option<String>,
    safety_identifier: Option<String>,
) -> Result<BTreeMap<String, String>, RequestError> {
    let mut metadata = metadata.unwrap_or_default();
    for (key, value) in [("user", user), ("safety_identifier", safety_identifier)] {
        if let Some(value) = value {
            if metadata.get(key).is_some_and(|given| *given != value) {
                return Err(reject(
                    format!("metadata.{key}"),
                    format!("`metadata.{key}` and `{key}` differ; send one of them"),
                ));
            }
            metadata.insert(key.to_owned(), value);
        }
    }
    // Bedrock's limit, with `user` and `safety_identifier` counted.
    if metadata.len() > 16 {
        return Err(reject(
            "metadata",
            "metadata takes at most 16 key-value pairs, `user` and `safety_identifier` included",
        ));
    }
    Ok(metadata)
}

/// `service_tier`: OpenAI's `auto` is Bedrock's choice; the others are Bedrock's tiers.
pub fn service_tier(tier: Option<&str>) -> Result<Option<ServiceTier>, RequestError> {
    Ok(match tier {
        None | Some("auto") => None,
        Some("default") => Some(ServiceTier::Default),
        Some("flex") => Some(ServiceTier::Flex),
        Some("priority") => Some(ServiceTier::Priority),
        Some(other) => {
            return Err(reject(
                "service_tier",
                format!(
                    "service_tier `{other}` is not one of auto, default, flex, priority (Bedrock's tiers)"
                ),
            ));
        }
    })
}

/// `prompt_cache_retention`.
pub fn cache_retention(retention: Option<&str>) -> Result<CacheRetention, RequestError> {
    Ok(match retention {
        None | Some("in-memory" | "in_memory") => CacheRetention::Short,
        // Bedrock's longest retention is one hour.
        Some("24h") => CacheRetention::Long,
        Some(other) => {
            return Err(reject(
                "prompt_cache_retention",
                format!("prompt_cache_retention `{other}` is not one of in-memory, 24h"),
            ));
        }
    })
}

/// The `latency` extension field.
pub fn latency(latency: Option<&str>) -> Result<Option<Latency>, RequestError> {
    Ok(match latency {
        None => None,
        Some("standard") => Some(Latency::Standard),
        Some("optimized") => Some(Latency::Optimized),
        Some(other) => {
            return Err(reject(
                "latency",
                format!("latency `{other}` is not one of standard, optimized"),
            ));
        }
    })
}

/// A `tool_choice` given as a mode, found at `param`.
pub fn tool_choice_mode(mode: &str, param: &str) -> Result<ToolChoice, RequestError> {
    Ok(match mode {
        "auto" => ToolChoice::Auto,
        "none" => ToolChoice::None,
        "required" => ToolChoice::Required,
        other => {
            return Err(reject(
                param,
                format!("`{other}` is not one of auto, none, required"),
            ));
        }
    })
}

/// The `guardrail` extension field.
pub fn guardrail(g: GuardrailParam) -> Guardrail {
    Guardrail {
        identifier: g.identifier,
        version: g.version,
        trace: g.trace,
        stream_processing_mode: g.stream_processing_mode,
    }
}
