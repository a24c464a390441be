//! InvokeModel for the embedding models (`POST /model/{modelId}/invoke`), with each family's body
//! checked as Bedrock checks it: Titan Text Embeddings V2 (`inputText` of 1 to 50,000
//! characters, `dimensions` 256, 512 or 1024, `normalize`, `embeddingTypes`) and Cohere Embed v3
//! (`texts`, at most 96 of at most 2,048 characters, a required `input_type`, `truncate`,
//! `embedding_types`), Cohere Embed v4 (the same texts, `output_dimension`, `truncate` of
//! `NONE`/`LEFT`/`RIGHT`) and Nova Multimodal Embeddings (`SINGLE_EMBEDDING` of one text with
//! its purpose, dimension and truncation mode). An unknown key is Bedrock's "extraneous key" error. Vectors are made from
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

fn only(body: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), AwsError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(malformed(&format!(
            "{path}: extraneous key [{key}] is not permitted"
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
            "#",
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
            "#",
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
        let texts =
            cohere_texts(body)?.ok_or_else(|| malformed("#: required key [texts] not found"))?;
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
    if model_id.starts_with("cohere.embed-v4") {
        return cohere_v4(body);
    }
    if model_id.starts_with("amazon.nova-2-multimodal-embeddings") {
        return nova(body);
    }
    Err(AwsError::validation(format!(
        "The twin has no InvokeModel body for `{model_id}`"
    )))
}

/// `field` of `body` as a string from `allowed`, if present.
fn one_of<'a>(
    body: &'a Map<String, Value>,
    path: &str,
    field: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, AwsError> {
    match body.get(field) {
        None => Ok(None),
        Some(Value::String(v)) if allowed.contains(&v.as_str()) => Ok(Some(v)),
        Some(v) => Err(malformed(&format!(
            "{path}/{field}: {v} is not a valid enum value"
        ))),
    }
}

/// Cohere's `texts`, if sent: strings, at most 96.
fn cohere_texts(body: &Map<String, Value>) -> Result<Option<Vec<&str>>, AwsError> {
    let texts: Vec<&str> = match body.get("texts") {
        Some(Value::Array(texts)) => texts
            .iter()
            .map(|t| {
                t.as_str()
                    .ok_or_else(|| malformed("#/texts: expected type: String"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(malformed("#/texts: expected type: JSONArray")),
        None => return Ok(None),
    };
    if texts.len() > 96 {
        return Err(malformed(&format!(
            "#/texts: expected maximum item count: 96, found: {}",
            texts.len()
        )));
    }
    Ok(Some(texts))
}

/// Cohere Embed v4: `texts` (at most 96), `images` or `inputs`, a required `input_type`,
/// `embedding_types`, `output_dimension` (256, 512, 1024, 1536; 1536 by default), `max_tokens`
/// and `truncate` (`NONE`, `LEFT`, `RIGHT`: v3's `START`/`END` are refused). The answer is
/// always by type.
fn cohere_v4(body: &Map<String, Value>) -> Result<(Value, u64), AwsError> {
    only(
        body,
        "#",
        &[
            "texts",
            "images",
            "inputs",
            "input_type",
            "embedding_types",
            "output_dimension",
            "max_tokens",
            "truncate",
        ],
    )?;
    if one_of(
        body,
        "#",
        "input_type",
        &[
            "search_document",
            "search_query",
            "classification",
            "clustering",
        ],
    )?
    .is_none()
    {
        return Err(malformed("#: required key [input_type] not found"));
    }
    one_of(body, "#", "truncate", &["NONE", "LEFT", "RIGHT"])?;
    let dimensions = match body.get("output_dimension") {
        None => 1536,
        Some(v) => match v.as_u64() {
            Some(d @ (256 | 512 | 1024 | 1536)) => d as usize,
            _ => {
                return Err(malformed(&format!(
                    "#/output_dimension: {v} is not a valid enum value"
                )));
            }
        },
    };
    let types: Vec<&str> = match body.get("embedding_types") {
        None => vec!["float"],
        Some(Value::Array(types)) => types
            .iter()
            .map(|t| match t.as_str() {
                Some(t @ ("float" | "int8" | "uint8" | "binary" | "ubinary")) => Ok(t),
                _ => Err(malformed(&format!(
                    "#/embedding_types: {t} is not a valid enum value"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(malformed("#/embedding_types: expected type: JSONArray")),
    };
    if types.iter().any(|t| *t != "float") {
        return Err(AwsError::validation(
            "The twin makes float embeddings only".to_owned(),
        ));
    }
    let texts = match cohere_texts(body)? {
        Some(texts) => texts,
        None if body.contains_key("images") || body.contains_key("inputs") => {
            return Err(AwsError::validation(
                "The twin embeds texts only".to_owned(),
            ));
        }
        None => {
            return Err(AwsError::validation(
                "Malformed input request: one of texts, images or inputs is required".to_owned(),
            ));
        }
    };
    let vectors: Vec<Vec<f64>> = texts.iter().map(|t| vector(t, dimensions)).collect();
    let tokens: u64 = texts.iter().map(|t| estimate_tokens(t) as u64).sum();
    Ok((
        json!({"id": "twin-embed", "response_type": "embeddings_by_type", "embeddings": {"float": vectors}, "texts": texts}),
        tokens,
    ))
}

/// Nova Multimodal Embeddings, synchronous: `taskType` `SINGLE_EMBEDDING` and
/// `singleEmbeddingParams` with a required `embeddingPurpose`, `embeddingDimension` (3072, 1024,
/// 384, 256; 3072 by default) and exactly one modality, here `text` with a required
/// `truncationMode` (`START`, `END`, `NONE`) and `value`. The answer lists one `TEXT` embedding
/// and, when the text was cut, its `truncatedCharLength`; it carries no token count.
fn nova(body: &Map<String, Value>) -> Result<(Value, u64), AwsError> {
    only(
        body,
        "#",
        &["schemaVersion", "taskType", "singleEmbeddingParams"],
    )?;
    if let Some(v) = body.get("schemaVersion")
        && v.as_str() != Some("nova-multimodal-embed-v1")
    {
        return Err(malformed(&format!(
            "#/schemaVersion: {v} is not a valid enum value"
        )));
    }
    match body.get("taskType").and_then(Value::as_str) {
        Some("SINGLE_EMBEDDING") => {}
        Some("SEGMENTED_EMBEDDING") => {
            return Err(AwsError::validation(
                "SEGMENTED_EMBEDDING is only supported through StartAsyncInvoke".to_owned(),
            ));
        }
        Some(other) => {
            return Err(malformed(&format!(
                "#/taskType: {other} is not a valid enum value"
            )));
        }
        None => return Err(malformed("#: required key [taskType] not found")),
    }
    let Some(params) = body.get("singleEmbeddingParams").and_then(Value::as_object) else {
        return Err(malformed(
            "#: required key [singleEmbeddingParams] not found",
        ));
    };
    const PATH: &str = "#/singleEmbeddingParams";
    only(
        params,
        PATH,
        &[
            "embeddingPurpose",
            "embeddingDimension",
            "text",
            "image",
            "audio",
            "video",
        ],
    )?;
    if one_of(
        params,
        PATH,
        "embeddingPurpose",
        &[
            "GENERIC_INDEX",
            "GENERIC_RETRIEVAL",
            "TEXT_RETRIEVAL",
            "IMAGE_RETRIEVAL",
            "VIDEO_RETRIEVAL",
            "DOCUMENT_RETRIEVAL",
            "AUDIO_RETRIEVAL",
            "CLASSIFICATION",
            "CLUSTERING",
        ],
    )?
    .is_none()
    {
        return Err(malformed(&format!(
            "{PATH}: required key [embeddingPurpose] not found"
        )));
    }
    let dimensions = match params.get("embeddingDimension") {
        None => 3072,
        Some(v) => match v.as_u64() {
            Some(d @ (3072 | 1024 | 384 | 256)) => d as usize,
            _ => {
                return Err(malformed(&format!(
                    "{PATH}/embeddingDimension: {v} is not a valid enum value"
                )));
            }
        },
    };
    let modalities = ["text", "image", "audio", "video"]
        .iter()
        .filter(|m| params.contains_key(**m))
        .count();
    if modalities != 1 {
        return Err(AwsError::validation(format!(
            "Malformed input request: {PATH} must contain exactly one of text, image, audio or video, found {modalities}"
        )));
    }
    let Some(text) = params.get("text").and_then(Value::as_object) else {
        return Err(AwsError::validation("The twin embeds text only".to_owned()));
    };
    let text_path = format!("{PATH}/text");
    only(text, &text_path, &["truncationMode", "value", "source"])?;
    let Some(mode) = one_of(
        text,
        &text_path,
        "truncationMode",
        &["START", "END", "NONE"],
    )?
    else {
        return Err(malformed(&format!(
            "{text_path}: required key [truncationMode] not found"
        )));
    };
    let value = match text.get("value") {
        Some(Value::String(v)) => v.as_str(),
        Some(_) => {
            return Err(malformed(&format!(
                "{text_path}/value: expected type: String"
            )));
        }
        None => {
            return Err(malformed(&format!(
                "{text_path}: required key [value] not found"
            )));
        }
    };
    // 8K tokens of context; past it NONE fails and START/END keep the other end.
    const MAX_TOKENS: usize = 8192;
    let tokens = estimate_tokens(value);
    let (kept, truncated) = if tokens > MAX_TOKENS {
        if mode == "NONE" {
            return Err(AwsError::validation(format!(
                "Input text is {tokens} tokens, longer than the model's 8192; set truncationMode to START or END"
            )));
        }
        let keep = value.chars().count() * MAX_TOKENS / tokens;
        let kept: String = if mode == "END" {
            value.chars().take(keep).collect()
        } else {
            let skip = value.chars().count() - keep;
            value.chars().skip(skip).collect()
        };
        (kept, true)
    } else {
        (value.to_owned(), false)
    };
    let mut item = json!({"embeddingType": "TEXT", "embedding": vector(&kept, dimensions)});
    if truncated {
        item["truncatedCharLength"] = json!(kept.chars().count());
    }
    Ok((json!({"embeddings": [item]}), estimate_tokens(&kept) as u64))
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

    #[test]
    fn cohere_v4_takes_its_own_dimensions_and_truncation() {
        let v4 = "cohere.embed-v4:0";
        let (body, tokens) = answer(
            v4,
            &json!({"texts": ["a", "b"], "input_type": "search_query", "output_dimension": 256, "truncate": "RIGHT"}),
        )
        .unwrap();
        assert_eq!(body["response_type"], "embeddings_by_type");
        assert_eq!(
            body["embeddings"]["float"][1].as_array().unwrap().len(),
            256
        );
        assert!(tokens > 0);
        let (body, _) = answer(v4, &json!({"texts": ["a"], "input_type": "clustering"})).unwrap();
        assert_eq!(
            body["embeddings"]["float"][0].as_array().unwrap().len(),
            1536
        );
        for bad in [
            json!({"texts": ["a"]}),
            json!({"texts": ["a"], "input_type": "image"}),
            json!({"texts": ["a"], "input_type": "search_query", "truncate": "END"}),
            json!({"texts": ["a"], "input_type": "search_query", "output_dimension": 384}),
            json!({"texts": ["a"], "input_type": "search_query", "dimensions": 256}),
            json!({"input_type": "search_query"}),
        ] {
            assert!(answer(v4, &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nova_takes_one_text_with_purpose_dimension_and_truncation() {
        let nova = "amazon.nova-2-multimodal-embeddings-v1:0";
        let request = |params: Value| json!({"taskType": "SINGLE_EMBEDDING", "singleEmbeddingParams": params});
        let (body, tokens) = answer(
            nova,
            &request(json!({"embeddingPurpose": "GENERIC_INDEX", "embeddingDimension": 384, "text": {"truncationMode": "END", "value": "hello"}})),
        )
        .unwrap();
        assert_eq!(body["embeddings"][0]["embeddingType"], "TEXT");
        assert_eq!(
            body["embeddings"][0]["embedding"].as_array().unwrap().len(),
            384
        );
        assert!(body["embeddings"][0].get("truncatedCharLength").is_none());
        assert!(tokens > 0);
        let long = "word ".repeat(20_000);
        let (body, _) = answer(
            nova,
            &request(json!({"embeddingPurpose": "TEXT_RETRIEVAL", "text": {"truncationMode": "START", "value": long}})),
        )
        .unwrap();
        assert_eq!(
            body["embeddings"][0]["embedding"].as_array().unwrap().len(),
            3072
        );
        assert!(
            body["embeddings"][0]["truncatedCharLength"]
                .as_u64()
                .unwrap()
                < 100_000
        );
        for bad in [
            json!({"singleEmbeddingParams": {}}),
            json!({"taskType": "SEGMENTED_EMBEDDING", "singleEmbeddingParams": {}}),
            request(json!({"text": {"truncationMode": "END", "value": "x"}})),
            request(
                json!({"embeddingPurpose": "SEARCH", "text": {"truncationMode": "END", "value": "x"}}),
            ),
            request(
                json!({"embeddingPurpose": "GENERIC_INDEX", "embeddingDimension": 512, "text": {"truncationMode": "END", "value": "x"}}),
            ),
            request(json!({"embeddingPurpose": "GENERIC_INDEX", "text": {"value": "x"}})),
            request(
                json!({"embeddingPurpose": "GENERIC_INDEX", "text": {"truncationMode": "NONE", "value": long}}),
            ),
            request(json!({"embeddingPurpose": "GENERIC_INDEX"})),
            request(
                json!({"embeddingPurpose": "GENERIC_INDEX", "text": {"truncationMode": "END", "value": "x"}, "image": {}}),
            ),
        ] {
            assert!(answer(nova, &bad).is_err(), "{bad}");
        }
    }
}
