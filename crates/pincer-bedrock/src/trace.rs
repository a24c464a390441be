//! A guardrail's trace (ConverseStream `metadata.trace.guardrail`) as JSON, so that it can
//! reach the client (in an extension field of the answer) and the log: which policy of which
//! guardrail found what, and what it did. The field names are Bedrock's.

use aws_sdk_bedrockruntime::types::{GuardrailAssessment, GuardrailTraceAssessment};
use serde_json::{Map, Value, json};

/// The trace as JSON (`modelOutput`, `inputAssessment`, `outputAssessments`, `actionReason`).
pub fn guardrail_json(trace: &GuardrailTraceAssessment) -> Value {
    let mut out = Map::new();
    if let Some(model_output) = &trace.model_output {
        out.insert("modelOutput".into(), json!(model_output));
    }
    if let Some(input) = &trace.input_assessment {
        let assessments: Map<String, Value> = input
            .iter()
            .map(|(id, a)| (id.clone(), assessment(a)))
            .collect();
        out.insert("inputAssessment".into(), Value::Object(assessments));
    }
    if let Some(outputs) = &trace.output_assessments {
        let assessments: Map<String, Value> = outputs
            .iter()
            .map(|(id, list)| {
                (
                    id.clone(),
                    Value::Array(list.iter().map(assessment).collect()),
                )
            })
            .collect();
        out.insert("outputAssessments".into(), Value::Object(assessments));
    }
    if let Some(reason) = &trace.action_reason {
        out.insert("actionReason".into(), json!(reason));
    }
    Value::Object(out)
}

fn assessment(a: &GuardrailAssessment) -> Value {
    let mut out = Map::new();
    if let Some(topics) = &a.topic_policy {
        let topics: Vec<Value> = topics
            .topics
            .iter()
            .map(|t| json!({"name": t.name, "type": t.r#type.as_str(), "action": t.action.as_str(), "detected": t.detected}))
            .collect();
        out.insert("topicPolicy".into(), json!({"topics": topics}));
    }
    if let Some(content) = &a.content_policy {
        let filters: Vec<Value> = content
            .filters
            .iter()
            .map(|f| {
                json!({"type": f.r#type.as_str(), "confidence": f.confidence.as_str(),
                       "filterStrength": f.filter_strength.as_ref().map(|s| s.as_str()),
                       "action": f.action.as_str(), "detected": f.detected})
            })
            .collect();
        out.insert("contentPolicy".into(), json!({"filters": filters}));
    }
    if let Some(words) = &a.word_policy {
        let custom: Vec<Value> = words
            .custom_words
            .iter()
            .map(|w| json!({"match": w.r#match, "action": w.action.as_str(), "detected": w.detected}))
            .collect();
        let managed: Vec<Value> = words
            .managed_word_lists
            .iter()
            .map(|w| json!({"match": w.r#match, "type": w.r#type.as_str(), "action": w.action.as_str(), "detected": w.detected}))
            .collect();
        out.insert(
            "wordPolicy".into(),
            json!({"customWords": custom, "managedWordLists": managed}),
        );
    }
    if let Some(sensitive) = &a.sensitive_information_policy {
        let pii: Vec<Value> = sensitive
            .pii_entities
            .iter()
            .map(|p| json!({"match": p.r#match, "type": p.r#type.as_str(), "action": p.action.as_str(), "detected": p.detected}))
            .collect();
        let regexes: Vec<Value> = sensitive
            .regexes
            .iter()
            .map(|r| json!({"name": r.name, "match": r.r#match, "regex": r.regex, "action": r.action.as_str(), "detected": r.detected}))
            .collect();
        out.insert(
            "sensitiveInformationPolicy".into(),
            json!({"piiEntities": pii, "regexes": regexes}),
        );
    }
    if let Some(grounding) = &a.contextual_grounding_policy {
        let filters: Vec<Value> = grounding
            .filters
            .iter()
            .flatten()
            .map(|f| {
                json!({"type": f.r#type.as_str(), "threshold": f.threshold, "score": f.score,
                       "action": f.action.as_str(), "detected": f.detected})
            })
            .collect();
        out.insert(
            "contextualGroundingPolicy".into(),
            json!({"filters": filters}),
        );
    }
    Value::Object(out)
}
