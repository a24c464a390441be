//! Embeddings through InvokeModel, in each family's own body: Titan Text Embeddings (V2 and G1),
//! Cohere Embed (v3 and v4) and Nova Multimodal Embeddings (text). Titan and Nova take one text
//! per call and Cohere up to 96; the dimensions a family offers are checked before any call.
//! Titan reports its tokens in the body; for the others Bedrock's `X-Amzn-Bedrock-Input-Token-Count`
//! response header is read (see [`crate::call`]).

use pincer_core::{ErrorKind, ProviderError};
use serde_json::{Value, json};

/// An embedding family's request and answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `amazon.titan-embed-text-v2:0`: 256, 512 or 1024 dimensions.
    TitanV2,
    /// `amazon.titan-embed-text-v1`, `amazon.titan-embed-g1-text-02`: 1536 dimensions.
    TitanV1,
    /// `cohere.embed-english-v3`, `cohere.embed-multilingual-v3`: 1024 dimensions.
    CohereV3,
    /// `cohere.embed-v4:0`: 256, 512, 1024 or 1536 dimensions.
    CohereV4,
    /// `amazon.nova-2-multimodal-embeddings-v1:0`: 256, 384, 1024 or 3072 dimensions.
    Nova,
}

impl Family {
    /// The family of `model_id` (a model or inference-profile id).
    pub fn of(model_id: &str) -> Option<Self> {
        let base = crate::known::base_model_id(model_id);
        Some(match base {
            b if b.starts_with("amazon.titan-embed-text-v2") => Self::TitanV2,
            b if b.starts_with("amazon.titan-embed-text-v1")
                || b.starts_with("amazon.titan-embed-g1-text") =>
            {
                Self::TitanV1
            }
            b if b.starts_with("cohere.embed-english-v3")
                || b.starts_with("cohere.embed-multilingual-v3") =>
            {
                Self::CohereV3
            }
            b if b.starts_with("cohere.embed-v4") => Self::CohereV4,
            b if b.starts_with("amazon.nova-2-multimodal-embeddings") => Self::Nova,
            _ => return None,
        })
    }

    /// The dimensions offered, the default first.
    pub fn dimensions(self) -> &'static [u32] {
        match self {
            Self::TitanV2 => &[1024, 512, 256],
            Self::TitanV1 => &[1536],
            Self::CohereV3 => &[1024],
            Self::CohereV4 => &[1536, 1024, 512, 256],
            Self::Nova => &[3072, 1024, 384, 256],
        }
    }

    /// Texts per call.
    pub fn batch(self) -> usize {
        match self {
            Self::CohereV3 | Self::CohereV4 => 96,
            _ => 1,
        }
    }

    /// The longest text a call takes, in characters, where Bedrock documents one.
    pub fn max_chars(self) -> Option<usize> {
        match self {
            Self::TitanV2 | Self::TitanV1 => Some(50_000),
            Self::CohereV3 => Some(2_048),
            _ => None,
        }
    }

    /// The InvokeModel body for `texts` (at most [`Family::batch`]).
    pub fn body(self, texts: &[String], dimensions: Option<u32>) -> Value {
        match self {
            Self::TitanV2 => {
                let mut body = json!({"inputText": texts[0], "normalize": true});
                if let Some(d) = dimensions {
                    body["dimensions"] = json!(d);
                }
                body
            }
            Self::TitanV1 => json!({"inputText": texts[0]}),
            Self::CohereV3 => {
                json!({"texts": texts, "input_type": "search_document", "embedding_types": ["float"]})
            }
            Self::CohereV4 => {
                let mut body = json!({"texts": texts, "input_type": "search_document", "embedding_types": ["float"]});
                if let Some(d) = dimensions {
                    body["output_dimension"] = json!(d);
                }
                body
            }
            Self::Nova => json!({
                "taskType": "SINGLE_EMBEDDING",
                "singleEmbeddingParams": {
                    "embeddingPurpose": "GENERIC_INDEX",
                    "embeddingDimension": dimensions.unwrap_or(3072),
                    "text": {"truncationMode": "END", "value": texts[0]},
                },
            }),
        }
    }

    /// The vectors of an answer, and the tokens its body reports (Titan's).
    pub fn read(self, body: &Value) -> Result<(Vec<Vec<f32>>, Option<u64>), ProviderError> {
        let vector = |v: &Value| -> Option<Vec<f32>> {
            v.as_array()?
                .iter()
                .map(|x| x.as_f64().map(|f| f as f32))
                .collect()
        };
        let bad = || {
            ProviderError::new(
                ErrorKind::Other,
                "Bedrock's embedding answer has no vectors",
            )
        };
        match self {
            Self::TitanV2 | Self::TitanV1 => {
                let one = body.get("embedding").and_then(vector).ok_or_else(bad)?;
                Ok((
                    vec![one],
                    body.get("inputTextTokenCount").and_then(Value::as_u64),
                ))
            }
            Self::CohereV3 | Self::CohereV4 => {
                let list = body
                    .pointer("/embeddings/float")
                    .or_else(|| body.get("embeddings").filter(|e| e.is_array()))
                    .and_then(Value::as_array)
                    .ok_or_else(bad)?;
                let vectors = list
                    .iter()
                    .map(vector)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(bad)?;
                Ok((vectors, None))
            }
            Self::Nova => {
                let one = body
                    .pointer("/embeddings/0/embedding")
                    .and_then(vector)
                    .ok_or_else(bad)?;
                Ok((vec![one], None))
            }
        }
    }
}

/// Checks `dimensions` against `family`'s, naming what it offers.
pub fn check_dimensions(
    family: Family,
    model: &str,
    dimensions: Option<u32>,
) -> Result<(), ProviderError> {
    match dimensions {
        Some(d) if !family.dimensions().contains(&d) => Err(ProviderError::new(
            ErrorKind::Validation,
            format!(
                "`{model}` makes vectors of {} dimensions, not {d}",
                family
                    .dimensions()
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_family_has_its_own_body() {
        let texts = vec!["hi".to_owned()];
        assert_eq!(
            Family::of("amazon.titan-embed-text-v2:0"),
            Some(Family::TitanV2)
        );
        assert_eq!(Family::of("us.cohere.embed-v4:0"), Some(Family::CohereV4));
        assert_eq!(Family::of("anthropic.claude-3-haiku-20240307-v1:0"), None);
        assert_eq!(
            Family::TitanV2.body(&texts, Some(256)),
            json!({"inputText": "hi", "normalize": true, "dimensions": 256})
        );
        assert_eq!(
            Family::CohereV3.body(&texts, None)["input_type"],
            "search_document"
        );
        assert_eq!(
            Family::Nova.body(&texts, None)["singleEmbeddingParams"]["embeddingDimension"],
            3072
        );
        assert!(check_dimensions(Family::TitanV2, "m", Some(300)).is_err());
        assert!(check_dimensions(Family::CohereV4, "m", Some(512)).is_ok());
        let (vectors, tokens) = Family::CohereV4
            .read(&json!({"embeddings": {"float": [[0.5, 1.0], [0.25, 0.0]]}}))
            .unwrap();
        assert_eq!((vectors.len(), tokens), (2, None));
        let (vectors, tokens) = Family::TitanV2
            .read(&json!({"embedding": [0.5], "inputTextTokenCount": 3}))
            .unwrap();
        assert_eq!((vectors, tokens), (vec![vec![0.5]], Some(3)));
    }
}
