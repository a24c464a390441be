//! Model references: `provider/model-id`.
//!
//! A reference is split at the **first** `/`: provider ids never contain one, while Bedrock model
//! ids contain `.` and `:` and may themselves contain `/` (inference-profile ARNs), so
//! `amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0` names provider `amazon-bedrock` and model
//! `us.anthropic.claude-opus-4-6-v1:0`.
//!
//! Model ids are checked here, once for every path (config, `--model`, a request's `model`),
//! before they reach a provider: at most [`MAX_MODEL_ID_LEN`] bytes of letters, digits and
//! `. _ - : / @ ~ + = , [ ]` — what Bedrock model ids, inference-profile ARNs and the ids of
//! OpenAI-compatible endpoints are made of (and the twin's `~replay=` paths). Errors quote at most the first 64 characters.

use std::fmt;
use std::str::FromStr;

/// A parsed `provider/model-id` reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelRef {
    provider: String,
    model: String,
}

/// Why a string is not a valid model reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelRefError {
    /// The reference has no `/` at all.
    #[error(
        "`{0}` is not a model reference: expected `provider/model-id`, e.g. `amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0`"
    )]
    MissingSlash(String),
    /// Nothing before the first `/`.
    #[error("`{0}` has an empty provider id before the `/`")]
    EmptyProvider(String),
    /// Nothing after the first `/`.
    #[error("`{0}` has an empty model id after the `/`")]
    EmptyModel(String),
    /// The provider id has characters a provider id cannot have.
    #[error("`{reference}` has an invalid provider id `{provider}`: {reason}")]
    InvalidProvider {
        /// The whole reference.
        reference: String,
        /// The provider part.
        provider: String,
        /// What is wrong with it.
        reason: ProviderIdError,
    },
    /// The model id is too long or has characters no model id has.
    #[error("`{reference}` is not a valid model reference: {reason}")]
    InvalidModel {
        /// The reference, shortened for display.
        reference: String,
        /// What is wrong with the model id.
        reason: ModelIdError,
    },
}

/// The longest model id accepted, in bytes (Bedrock's own limit for `modelId`).
pub const MAX_MODEL_ID_LEN: usize = 2048;

/// Why a string is not a valid model id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModelIdError {
    /// The id is empty.
    #[error("the model id is empty")]
    Empty,
    /// The id is longer than [`MAX_MODEL_ID_LEN`].
    #[error("the model id is {0} bytes long; model ids have at most {MAX_MODEL_ID_LEN}")]
    TooLong(usize),
    /// The id has a character outside the allowed set.
    #[error(
        "the model id contains {0:?}; model ids are made of letters, digits and `. _ - : / @ ~ + = , [ ]`"
    )]
    InvalidChar(char),
}

/// Checks that `id` can be a model id (see the module documentation).
pub fn validate_model_id(id: &str) -> Result<(), ModelIdError> {
    if id.is_empty() {
        return Err(ModelIdError::Empty);
    }
    if id.len() > MAX_MODEL_ID_LEN {
        return Err(ModelIdError::TooLong(id.len()));
    }
    match id.chars().find(|c| {
        !(c.is_ascii_alphanumeric()
            || matches!(
                c,
                '.' | '_' | '-' | ':' | '/' | '@' | '~' | '+' | '=' | ',' | '[' | ']'
            ))
    }) {
        Some(c) => Err(ModelIdError::InvalidChar(c)),
        None => Ok(()),
    }
}

/// `text` shortened to its first 64 characters (with `…` and the full length after), for error
/// messages and logs that quote what a client sent.
pub fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    const SHOWN: usize = 64;
    match text.char_indices().nth(SHOWN) {
        None => text.into(),
        Some((end, _)) => format!("{}… ({} bytes)", &text[..end], text.len()).into(),
    }
}

/// Why a string is not a valid provider id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProviderIdError {
    /// The id is empty.
    #[error("a provider id cannot be empty")]
    Empty,
    /// The id contains a character outside `[A-Za-z0-9._-]`.
    #[error("a provider id may contain only letters, digits, `-`, `_` and `.`")]
    InvalidChar,
}

/// Checks that `id` can name a provider: non-empty, only `[A-Za-z0-9._-]`.
pub fn validate_provider_id(id: &str) -> Result<(), ProviderIdError> {
    if id.is_empty() {
        return Err(ProviderIdError::Empty);
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ProviderIdError::InvalidChar);
    }
    Ok(())
}

impl ModelRef {
    /// Builds a reference from its parts, checking both.
    pub fn new(provider: &str, model: &str) -> Result<Self, ModelRefError> {
        format!("{provider}/{model}").parse()
    }

    /// The provider id (before the first `/`).
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The model id (after the first `/`).
    pub fn model(&self) -> &str {
        &self.model
    }
}

impl FromStr for ModelRef {
    type Err = ModelRefError;

    fn from_str(reference: &str) -> Result<Self, Self::Err> {
        let shown = || shorten(reference).into_owned();
        let Some((provider, model)) = reference.split_once('/') else {
            return Err(ModelRefError::MissingSlash(shown()));
        };
        if provider.is_empty() {
            return Err(ModelRefError::EmptyProvider(shown()));
        }
        if model.is_empty() {
            return Err(ModelRefError::EmptyModel(shown()));
        }
        validate_provider_id(provider).map_err(|reason| ModelRefError::InvalidProvider {
            reference: shown(),
            provider: shorten(provider).into_owned(),
            reason,
        })?;
        validate_model_id(model).map_err(|reason| ModelRefError::InvalidModel {
            reference: shown(),
            reason,
        })?;
        Ok(Self {
            provider: provider.to_owned(),
            model: model.to_owned(),
        })
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_slash() {
        let r: ModelRef = "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0"
            .parse()
            .unwrap();
        assert_eq!(r.provider(), "amazon-bedrock");
        assert_eq!(r.model(), "us.anthropic.claude-opus-4-6-v1:0");
        let arn = "amazon-bedrock/arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc";
        let r: ModelRef = arn.parse().unwrap();
        assert_eq!(r.provider(), "amazon-bedrock");
        assert_eq!(
            r.model(),
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc"
        );
        assert_eq!(r.to_string(), arn);
    }

    #[test]
    fn rejects_malformed_references() {
        assert!(matches!(
            "claude".parse::<ModelRef>(),
            Err(ModelRefError::MissingSlash(_))
        ));
        assert!(matches!(
            "/m".parse::<ModelRef>(),
            Err(ModelRefError::EmptyProvider(_))
        ));
        assert!(matches!(
            "p/".parse::<ModelRef>(),
            Err(ModelRefError::EmptyModel(_))
        ));
        assert!(matches!(
            "bad provider/m".parse::<ModelRef>(),
            Err(ModelRefError::InvalidProvider { .. })
        ));
        assert!(matches!(
            "p/a b".parse::<ModelRef>(),
            Err(ModelRefError::InvalidModel {
                reason: ModelIdError::InvalidChar(' '),
                ..
            })
        ));
        assert_eq!(ModelRef::new("p", "m").unwrap().to_string(), "p/m");
    }

    #[test]
    fn model_ids_are_bounded_and_quoted_short() {
        // A 65 KB model id used to reach the AWS SDK, whose URI builder panicked on it.
        let long = format!("amazon-bedrock/{}", "m".repeat(65_000));
        let error = long.parse::<ModelRef>().unwrap_err();
        assert!(
            matches!(
                &error,
                ModelRefError::InvalidModel {
                    reason: ModelIdError::TooLong(65_000),
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().len() < 300, "{error}");
        let fault = "amazon-bedrock/us.amazon.nova-micro-v1:0~midstream-throttlingException:2";
        assert!(fault.parse::<ModelRef>().is_ok());
        assert!(
            format!("p/{}", "a".repeat(MAX_MODEL_ID_LEN))
                .parse::<ModelRef>()
                .is_ok()
        );
        for bad in ["p/a\u{0}b", "p/a\"b", "p/a%2Fb", "p/a?b", "p/a#b"] {
            assert!(bad.parse::<ModelRef>().is_err(), "{bad}");
        }
    }
}
