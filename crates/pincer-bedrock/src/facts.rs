//! What Bedrock's own model listing says a model can do.
//!
//! Since 2026 each summary of a `ListFoundationModels` answer carries a `converse` object
//! (`maxTokensMaximum`, `maxTokensDefault`, `reasoningSupported`,
//! `additionalRequestFieldsSchema` with the thinking-budget range, `systemRoleSupported`,
//! `userImageTypesSupported`, `userDocumentTypesSupported`, `userVideoTypesSupported`), and
//! `explicitPromptCaching`, `guardrailsSupported`, `latencyOptimizationSupported` and
//! `modelFamily` beside it. The SDK's model (aws-sdk-bedrock 1.166) has none of these fields and
//! drops them while deserializing, so discovery keeps the raw answer (an interceptor copies the
//! body before the SDK parses it, see [`RawBody`]) and reads them here. A field Bedrock does not
//! send is `None`, never a guess.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_bedrock::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_bedrock::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_bedrock::error::BoxError;
use pincer_core::{BudgetRange, Modality};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One model's facts from the listing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BedrockFacts {
    /// `inputModalities`, all of them (`SPEECH` is [`Modality::Audio`]).
    #[serde(default)]
    pub input: Vec<Modality>,
    /// `converse.maxTokensMaximum`: the largest `maxTokens` Bedrock accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_maximum: Option<u32>,
    /// `converse.maxTokensDefault`: the `maxTokens` Bedrock uses when none is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_default: Option<u32>,
    /// Whether `converse.reasoningSupported` is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_supported: Option<bool>,
    /// The thinking-budget range of `additionalRequestFieldsSchema`
    /// (`reasoningConfig.budgetTokens`, when it is an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_budget: Option<BudgetRange>,
    /// `converse.systemRoleSupported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_role_supported: Option<bool>,
    /// `converse.userImageTypesSupported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_types: Option<Vec<String>>,
    /// `converse.userDocumentTypesSupported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_types: Option<Vec<String>>,
    /// `converse.userVideoTypesSupported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_types: Option<Vec<String>>,
    /// `explicitPromptCaching.isSupported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_caching: Option<bool>,
    /// `guardrailsSupported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrails: Option<bool>,
    /// `latencyOptimizationSupported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_optimized: Option<bool>,
    /// `modelFamily`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

impl BedrockFacts {
    /// Whether the answer had a `converse` object for this model.
    pub fn has_converse(&self) -> bool {
        self.max_tokens_maximum.is_some() || self.system_role_supported.is_some()
    }
}

fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    value.and_then(Value::as_array).map(|items| {
        items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect()
    })
}

fn count(value: Option<&Value>) -> Option<u32> {
    value
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

fn modality(name: &str) -> Option<Modality> {
    Some(match name {
        "TEXT" => Modality::Text,
        "IMAGE" => Modality::Image,
        "VIDEO" => Modality::Video,
        "SPEECH" | "AUDIO" => Modality::Audio,
        "DOCUMENT" => Modality::Document,
        _ => return None,
    })
}

/// The budget range in an `additionalRequestFieldsSchema` (a JSON text), when it gives one as
/// an integer range (`reasoningConfig.budgetTokens: {type: integer, minimum, maximum}`).
fn budget_range(schema: Option<&Value>) -> Option<BudgetRange> {
    let schema: Value = serde_json::from_str(schema?.as_str()?).ok()?;
    let budget = schema.pointer("/reasoningConfig/budgetTokens")?;
    if budget.get("type").and_then(Value::as_str) != Some("integer") {
        return None;
    }
    Some(BudgetRange {
        min: count(budget.get("minimum"))?,
        max: count(budget.get("maximum"))?,
    })
}

/// The facts of one model summary (a JSON object of a `ListFoundationModels` answer).
pub fn of_summary(summary: &Value) -> BedrockFacts {
    let converse = summary.get("converse").filter(|c| c.is_object());
    let field = |name: &str| converse.and_then(|c| c.get(name));
    BedrockFacts {
        input: summary
            .get("inputModalities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(modality)
            .collect(),
        max_tokens_maximum: count(field("maxTokensMaximum")),
        max_tokens_default: count(field("maxTokensDefault")),
        reasoning_supported: converse
            .map(|c| c.get("reasoningSupported").is_some_and(Value::is_object)),
        reasoning_budget: budget_range(field("additionalRequestFieldsSchema")),
        system_role_supported: field("systemRoleSupported").and_then(Value::as_bool),
        image_types: strings(field("userImageTypesSupported")),
        document_types: strings(field("userDocumentTypesSupported")),
        video_types: strings(field("userVideoTypesSupported")),
        prompt_caching: summary
            .pointer("/explicitPromptCaching/isSupported")
            .and_then(Value::as_bool),
        guardrails: summary.get("guardrailsSupported").and_then(Value::as_bool),
        latency_optimized: summary
            .get("latencyOptimizationSupported")
            .and_then(Value::as_bool),
        family: summary
            .get("modelFamily")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// The facts of every model of a raw `ListFoundationModels` answer, by model id.
pub fn of_listing(body: &[u8]) -> HashMap<String, BedrockFacts> {
    let Ok(listing) = serde_json::from_slice::<Value>(body) else {
        return HashMap::new();
    };
    listing
        .get("modelSummaries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|summary| {
            let id = summary.get("modelId")?.as_str()?;
            Some((id.to_owned(), of_summary(summary)))
        })
        .collect()
}

/// An SDK interceptor that keeps a copy of the response body of the operation it is attached
/// to, as Bedrock sent it (read after the SDK has read it into memory, before its deserializer
/// has dropped anything).
#[derive(Debug, Clone, Default)]
pub struct RawBody(Arc<Mutex<Option<Vec<u8>>>>);

impl RawBody {
    /// The body kept, if any.
    pub fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().ok().and_then(|mut body| body.take())
    }
}

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "pincer::RawBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.response().body().bytes()
            && let Ok(mut body) = self.0.lock()
        {
            *body = Some(bytes.to_vec());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_2026_fields_and_leaves_missing_ones_unknown() {
        let summary = json!({
            "modelId": "anthropic.claude-haiku-4-5-20251001-v1:0",
            "inputModalities": ["TEXT", "IMAGE"],
            "converse": {
                "maxTokensMaximum": 64000, "maxTokensDefault": 64000,
                "reasoningSupported": {"embedded": false},
                "additionalRequestFieldsSchema": "{\"reasoningConfig\":{\"budgetTokens\":{\"type\":\"integer\",\"default\":2048,\"minimum\":1024,\"maximum\":63999}}}",
                "systemRoleSupported": true,
                "userImageTypesSupported": ["jpeg", "png"], "userDocumentTypesSupported": ["pdf"], "userVideoTypesSupported": []
            },
            "explicitPromptCaching": {"isSupported": true},
            "guardrailsSupported": true, "latencyOptimizationSupported": false, "modelFamily": "Claude Haiku"
        });
        let facts = of_summary(&summary);
        assert_eq!(facts.max_tokens_maximum, Some(64000));
        assert_eq!(
            facts.reasoning_budget,
            Some(BudgetRange {
                min: 1024,
                max: 63999
            })
        );
        assert_eq!(
            facts.document_types.as_deref(),
            Some(&["pdf".to_owned()][..])
        );
        assert_eq!(facts.prompt_caching, Some(true));
        assert_eq!(facts.input, [Modality::Text, Modality::Image]);
        let old =
            of_summary(&json!({"modelId": "m", "inputModalities": ["SPEECH"], "converse": null}));
        assert_eq!(old.max_tokens_maximum, None);
        assert_eq!(old.system_role_supported, None);
        assert_eq!(old.reasoning_supported, None);
        assert_eq!(old.input, [Modality::Audio]);
        assert!(!old.has_converse());
    }
}
