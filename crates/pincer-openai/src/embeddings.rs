//! OpenAI's embeddings API (`POST /v1/embeddings`): the request, and the list of vectors it
//! answers with (floats, or base64 of little-endian `f32`s).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::request::{RequestError, reject};

/// The most inputs one request takes (OpenAI's limit).
pub const MAX_INPUTS: usize = 2048;

/// `POST /v1/embeddings` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsRequest {
    /// An embedding model: `provider/model-id`, or a bare id.
    pub model: String,
    /// A text or a list of texts (token arrays are refused: Bedrock's models take text).
    pub input: Value,
    /// `float` (the default) or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<String>,
    /// The vectors' length, where the model offers several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// An end-user id (accepted; InvokeModel takes no request metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// The texts of a request, checked: at least one, none empty, at most [`MAX_INPUTS`].
pub fn inputs(request: &EmbeddingsRequest) -> Result<Vec<String>, RequestError> {
    let texts: Vec<String> = match &request.input {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(text) => Ok(text.clone()),
                Value::Number(_) | Value::Array(_) => Err(reject(
                    format!("input[{i}]"),
                    "token arrays are not taken: Bedrock's embedding models read text",
                )),
                _ => Err(reject(format!("input[{i}]"), "must be a string")),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(reject("input", "must be a string or a list of strings")),
    };
    if texts.is_empty() {
        return Err(reject("input", "at least one input is required"));
    }
    if texts.len() > MAX_INPUTS {
        return Err(reject(
            "input",
            format!("at most {MAX_INPUTS} inputs per request"),
        ));
    }
    if let Some(i) = texts.iter().position(String::is_empty) {
        return Err(reject(format!("input[{i}]"), "an input cannot be empty"));
    }
    Ok(texts)
}

/// Whether the answer is base64 (else floats); a format that is neither is an error.
pub fn base64_format(request: &EmbeddingsRequest) -> Result<bool, RequestError> {
    match request.encoding_format.as_deref() {
        None | Some("float") => Ok(false),
        Some("base64") => Ok(true),
        Some(other) => Err(reject(
            "encoding_format",
            format!("`{other}` is not one of float, base64"),
        )),
    }
}

/// The answer: `{object: "list", data: [{object: "embedding", index, embedding}], model, usage}`.
pub fn response(vectors: &[Vec<f32>], base64: bool, model: &str, input_tokens: u64) -> Value {
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(STANDARD.encode(bytes))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": input_tokens, "total_tokens": input_tokens},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(value: Value) -> EmbeddingsRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn inputs_are_checked_and_base64_is_little_endian_f32() {
        assert_eq!(
            inputs(&request(json!({"model": "m", "input": "a"}))).unwrap(),
            ["a"]
        );
        for (body, param) in [
            (json!({"model": "m", "input": [1, 2]}), "input[0]"),
            (json!({"model": "m", "input": []}), "input"),
            (json!({"model": "m", "input": ["a", ""]}), "input[1]"),
        ] {
            assert_eq!(inputs(&request(body)).unwrap_err().param, param);
        }
        let out = response(&[vec![1.0, -0.5]], true, "m", 3);
        let bytes = STANDARD
            .decode(out["data"][0]["embedding"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            bytes,
            [1.0f32.to_le_bytes(), (-0.5f32).to_le_bytes()].concat()
        );
        assert_eq!(out["usage"]["prompt_tokens"], 3);
    }
}
