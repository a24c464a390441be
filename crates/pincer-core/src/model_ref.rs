//! Model references: `provider/model-id`.
//!
//! A reference is split at the **first** `/`: provider ids never contain one, while Bedrock model
//! ids contain `.` and `:` and may themselves contain `/` (inference-profile ARNs), so
//! `amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0` names provider `amazon-bedrock` and model
//! `us.anthropic.claude-opus-4-6-v1:0`.

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
    /// The model id contains whitespace or control characters.
    #[error("`{0}` has whitespace or control characters in its model id")]
    InvalidModel(String),
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
        let Some((provider, model)) = reference.split_once('/') else {
            return Err(ModelRefError::MissingSlash(reference.to_owned()));
        };
        if provider.is_empty() {
            return Err(ModelRefError::EmptyProvider(reference.to_owned()));
        }
        if model.is_empty() {
            return Err(ModelRefError::EmptyModel(reference.to_owned()));
        }
        validate_provider_id(provider).map_err(|reason| ModelRefError::InvalidProvider {
            reference: reference.to_owned(),
            provider: provider.to_owned(),
            reason,
        })?;
        if model.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ModelRefError::InvalidModel(reference.to_owned()));
        }
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
            Err(ModelRefError::InvalidModel(_))
        ));
        assert_eq!(ModelRef::new("p", "m").unwrap().to_string(), "p/m");
    }
}
