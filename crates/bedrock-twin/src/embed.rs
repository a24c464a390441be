//! InvokeModel for the embedding models (`POST /model/{modelId}/invoke`), with each family's body
//! checked as Bedrock checks it: Titan Text Embeddings V2 (`inputText` of 1 to 50,000
//! characters, `dimensions` 256, 512 or 1024, `normalize`, `embeddingTypes`) and Cohere Embed v3
//! (`texts`, at most 96 of at most 2,048 characters, a required `input_type`, `truncate`,
//! `embedding_types`). An unknown key is Bedrock's "extraneous key" error. Vectors are made from
//! the text (the same text, the same vector), unit length, and the input tokens are in the body
//! (Titan) and in Bedrock's `X-Amzn-Bedrock-Input-Token-Count` header (every model).

use serde_json::{Map, Value, json};

use crate::error::AwsError;
use crate::validate::estimate_tokens;

/// Bedrock's header with the input tokens of an InvokeModel call.
pub const INPUT_TOKENS_HEADER: &str = "x-amzn-bedrock-input-token-count";

fn malformed(detail: &str) -> AwsError {
    AwsError::validation(format!(
        "Malformed input request: {detail}, please reformat your input and try again."
    ))
}

fn only(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), AwsError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(malformed(&format!(
            "#: extraneous key [{key}] is not permitted"
        ))),
        None => Ok(()),
    }
}

/// A unit vector of `dimensions` made from `text`.
fn vector(text: &str, dimensions: usize) -> Vec<f64> {
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut out: Vec<f64> = (0..dimensions)
        .map(|i| {
            state = state
                .wrapping_add(0x9e37_79b9_7f4a_7c15 ^ i as u64)
                .wrapping_mul(0xbf58_476d_1ce4_e5b9);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect();
    let norm = out
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    for x in &mut out {
        // Four decimals, as Bedrock's answers round.
        *x = (*x / norm * 10_000.0).round() / 10_000.0;
    }
    out
}

/// The answer body and its input tokens, for `model_id`'s family.
pub fn answer(model_id: &str, body: &Value) -> Result<(Value, u64), AwsError> {
    let Some(body) = body.as_object() else {
        return Err(malformed("#: expected type: JSONObject"));
    };
    if model_id.starts_with("amazon.titan-embed-text-v2") {
        only(
            body,
            &["inputText", "dimensions", "normalize", "embeddingTypes"],
        )?;
        let text = match body.get("inputText") {
            Some(Value::String(text)) => text,
            Some(_) => return Err(malformed("#/inputText: expected type: String")),
            None => return Err(malformed("#: required key [inputText] not found")),
        };
        let chars = text.chars().count();
        if chars == 0 || chars > 50_000 {
            return Err(malformed(&format!(
                "#/inputText: expected length between 1 and 50000, actual: {chars}"
            )));
        }
        let dimensions = match body.get("dimensions") {
            None => 1024,
            Some(v) => match v.as_u64() {
                Some(d @ (256 | 512 | 1024)) => d as usize,
                _ => {
                    return Err(malformed(&format!(
                        "#/dimensions: {v} is not a valid enum value"
                    )));
                }
            },
        };
        let tokens = estimate_tokens(text) as u64;
        let embedding = vector(text, dimensions);
        return Ok((
            json!({"embedding": embedding, "inputTextTokenCount": tokens, "embeddingsByType": {"float": embedding}}),
            tokens,
        ));
    }
    if model_id.starts_with("cohere.embed-english-v3")
        || model_id.starts_with("cohere.embed-multilingual-v3")
    {
        only(
            body,
            &[
                "texts",
                "input_type",
                "images",
                "truncate",
                "embedding_types",
            ],
        )?;
        match body.get("input_type").and_then(Value::as_str) {
            Some(
                "search_document" | "search_query" | "classification" | "clustering" | "image",
            ) => {}
            Some(other) => {
                return Err(malformed(&format!(
                    "#/input_type: {other} is not a valid enum value"
                )));
            }
            None => return Err(malformed("#: required key [input_type] not found")),
        }
        let texts: Vec<&str> = match body.get("texts") {
            Some(Value::Array(texts)) => texts
                .iter()
                .map(|t| {
                    t.as_str()
                        .ok_or_else(|| malformed("#/texts: expected type: String"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(malformed("#/texts: expected type: JSONArray")),
            None => return Err(malformed("#: required key [texts] not found")),
        };
        if texts.len() > 96 {
            return Err(malformed(&format!(
                "#/texts: expected maximum item count: 96, found: {}",
                texts.len()
            )));
        }
        if let Some(long) = texts.iter().find(|t| t.chars().count() > 2048) {
            return Err(malformed(&format!(
                "#/texts: expected maxLength: 2048, actual: {}",
                long.chars().count()
            )));
        }
        let vectors: Vec<Vec<f64>> = texts.iter().map(|t| vector(t, 1024)).collect();
        let tokens: u64 = texts.iter().map(|t| estimate_tokens(t) as u64).sum();
        let by_type = body.get("embedding_types").is_some();
        let answer = if by_type {
            json!({"id": "twin-embed", "response_type": "embeddings_by_type", "embeddings": {"float": vectors}, "texts": texts})
        } else {
            json!({"id": "twin-embed", "response_type": "embeddings_floats", "embeddings": vectors, "texts": texts})
        };
        return Ok((answer, tokens));
    }
    Err(AwsError::validation(format!(
        "The twin has no InvokeModel body for `{model_id}`"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_as_bedrock_checks_them() {
        let titan = "amazon.titan-embed-text-v2:0";
        let (body, tokens) =
            answer(titan, &json!({"inputText": "hello", "dimensions": 256})).unwrap();
        assert_eq!(body["embedding"].as_array().unwrap().len(), 256);
        assert!(tokens > 0);
        assert_eq!(
            answer(titan, &json!({"inputText": "hello"})).unwrap().0["embedding"],
            answer(titan, &json!({"inputText": "hello"})).unwrap().0["embedding"]
        );
        for bad in [
            json!({}),
            json!({"inputText": "x", "dimensions": 300}),
            json!({"inputText": ""}),
            json!({"inputText": "x", "colour": 1}),
        ] {
            assert!(answer(titan, &bad).is_err(), "{bad}");
        }
        let cohere = "cohere.embed-english-v3";
        let (body, _) = answer(cohere, &json!({"texts": ["a", "b"], "input_type": "search_document", "embedding_types": ["float"]})).unwrap();
        assert_eq!(body["embeddings"]["float"].as_array().unwrap().len(), 2);
        let many: Vec<String> = (0..97).map(|i| i.to_string()).collect();
        assert!(
            answer(
                cohere,
                &json!({"texts": many, "input_type": "search_document"})
            )
            .is_err()
        );
        assert!(answer(cohere, &json!({"texts": ["a"]})).is_err());
    }
}
