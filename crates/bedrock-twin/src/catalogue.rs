//! The model catalogue: foundation models and inference profiles as the control plane lists
//! them, plus the facts the runtime needs (output limits, model access, how a model may be
//! invoked). The built-in catalogue is `data/catalogue.json`; `--catalogue` replaces it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{AwsError, TwinError};

/// Output-token limit used for a model the catalogue gives no limit for.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

const BUILT_IN: &str = include_str!("../data/catalogue.json");

/// On-disk shape of a catalogue file. `modelSummaries` uses the exact shape of a
/// `ListFoundationModels` answer, `inferenceProfileSummaries` that of `ListInferenceProfiles`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogueFile {
    #[serde(default)]
    enable_access_to_all_models_by_default: Option<Value>,
    #[serde(default)]
    model_summaries: Vec<Value>,
    #[serde(default)]
    inference_profile_summaries: Vec<Value>,
    #[serde(default)]
    twin: TwinExtras,
}

/// Twin-only facts stored next to the catalogue (never sent on the wire).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TwinExtras {
    /// Model ids the caller has no access to (`AccessDeniedException`).
    #[serde(default)]
    no_access: Vec<String>,
    /// Output-token limits by model id, for models whose summary has none.
    #[serde(default)]
    max_tokens: HashMap<String, u32>,
    /// Rules a model family enforces, by model id (see [`Rules`]).
    #[serde(default)]
    rules: HashMap<String, Rules>,
}

/// What a model refuses beyond what its summary says: Anthropic's newest models refuse sampling
/// parameters (`sampling: "none"`, answered ``The model returned the following errors:
/// `temperature` is deprecated for this model.``), and the 4.5-era ones refuse `temperature`
/// and `top_p` together (`sampling: "temperature-or-top-p"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rules {
    /// `all` (default), `temperature-or-top-p` or `none`.
    #[serde(default)]
    pub sampling: Option<String>,
    /// Whether the model takes `outputConfig.textFormat` (structured output).
    #[serde(default)]
    pub structured_output: bool,
    /// The service tiers beyond `default` the model is sold in (`priority`, `flex`).
    #[serde(default)]
    pub tiers: Vec<String>,
}

/// The catalogue the twin serves.
#[derive(Debug, Clone)]
pub struct Catalogue {
    enable_access_to_all: Option<Value>,
    models: Vec<Value>,
    profiles: Vec<Value>,
    no_access: HashSet<String>,
    max_tokens: HashMap<String, u32>,
    rules: HashMap<String, Rules>,
}

/// What a runtime model identifier resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocable {
    /// The foundation model that answers.
    pub model_id: String,
    /// Its provider name as listed.
    pub provider: String,
    /// Largest `maxTokens` the model accepts.
    pub max_tokens: u32,
    /// Whether `ConverseStream` is allowed.
    pub streaming: bool,
    /// `inputModalities` (`TEXT`, `IMAGE`, `VIDEO`, `SPEECH`).
    pub input: Vec<String>,
    /// Image formats of `converse.userImageTypesSupported`, when listed.
    pub image_types: Option<Vec<String>>,
    /// `converse.systemRoleSupported` (a model without a `converse` object takes system
    /// prompts).
    pub system_role: bool,
    /// `explicitPromptCaching.isSupported`.
    pub prompt_caching: bool,
    /// Document formats of `converse.userDocumentTypesSupported`, when listed.
    pub document_types: Option<Vec<String>>,
    /// `guardrailsSupported` (true when not listed).
    pub guardrails: bool,
    /// `latencyOptimizationSupported`.
    pub latency_optimized: bool,
    /// The family's rules.
    pub rules: Rules,
}

impl Catalogue {
    /// The built-in catalogue.
    pub fn built_in() -> Result<Self, TwinError> {
        Self::from_json(BUILT_IN, "built-in")
    }

    /// A catalogue with no models and no profiles.
    pub fn empty() -> Self {
        Self {
            enable_access_to_all: None,
            models: Vec::new(),
            profiles: Vec::new(),
            no_access: HashSet::new(),
            max_tokens: HashMap::new(),
            rules: HashMap::new(),
        }
    }

    /// Parses a catalogue from JSON text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, TwinError> {
        let file: CatalogueFile =
            serde_json::from_str(text).map_err(|source| TwinError::CatalogueParse {
                path: origin.to_owned(),
                source,
            })?;
        Ok(Self {
            enable_access_to_all: file.enable_access_to_all_models_by_default,
            models: file.model_summaries,
            profiles: file.inference_profile_summaries,
            no_access: file.twin.no_access.into_iter().collect(),
            max_tokens: file.twin.max_tokens,
            rules: file.twin.rules,
        }
        .with_derived_profiles())
    }

    /// Reads a catalogue file.
    pub fn from_file(path: &Path) -> Result<Self, TwinError> {
        let text = std::fs::read_to_string(path).map_err(|source| TwinError::CatalogueRead {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// The `enableAccessToAllModelsByDefault` field of `ListFoundationModels`, if any.
    pub fn enable_access_to_all(&self) -> Option<&Value> {
        self.enable_access_to_all.as_ref()
    }

    /// All model summaries, in catalogue order.
    pub fn models(&self) -> &[Value] {
        &self.models
    }

    /// All inference profile summaries, in catalogue order.
    pub fn profiles(&self) -> &[Value] {
        &self.profiles
    }

    /// Finds a model by id or ARN.
    pub fn find_model(&self, id: &str) -> Option<&Value> {
        let id = id
            .rsplit_once("foundation-model/")
            .map_or(id, |(_, rest)| rest);
        self.models
            .iter()
            .find(|m| str_field(m, "modelId") == Some(id))
    }

    /// Finds an inference profile by id or ARN.
    pub fn find_profile(&self, id: &str) -> Option<&Value> {
        self.profiles.iter().find(|p| {
            str_field(p, "inferenceProfileId") == Some(id)
                || str_field(p, "inferenceProfileArn") == Some(id)
        })
    }

    /// The model CountTokens counts for `id`: a foundation model only. An inference-profile id
    /// (`us.…`, `global.…`, an ARN) is refused as Bedrock refuses it, with the message it gives
    /// for a model it does not count.
    pub fn count_target(&self, id: &str) -> Result<Invocable, AwsError> {
        let unsupported =
            || AwsError::validation("The provided model doesn't support counting tokens.");
        if self.find_profile(id).is_some() || id.starts_with("arn:") {
            return Err(unsupported());
        }
        let model = self.find_model(id).ok_or_else(AwsError::invalid_model)?;
        self.invocable(model)
    }

    /// Resolves the model identifier of a runtime call (model id, model ARN, profile id or
    /// profile ARN) the way Bedrock does, refusing what Bedrock refuses. `region` is the region
    /// the call was signed for, when known: a geographic profile (`us.`, `eu.`, `apac.`) called
    /// from outside its geography is an invalid model identifier, as on Bedrock.
    pub fn resolve_invocation(
        &self,
        id: &str,
        region: Option<&str>,
    ) -> Result<Invocable, AwsError> {
        if let Some(profile) = self.find_profile(id) {
            if let (Some(region), Some(profile_id)) =
                (region, str_field(profile, "inferenceProfileId"))
                && !in_geography(profile_id, region)
            {
                return Err(AwsError::invalid_model());
            }
            let target = profile_target(profile).ok_or_else(AwsError::invalid_model)?;
            let model = self
                .find_model(target)
                .ok_or_else(AwsError::invalid_model)?;
            return self.invocable(model);
        }
        let model = self.find_model(id).ok_or_else(AwsError::invalid_model)?;
        let types = string_list(model, "inferenceTypesSupported");
        if !types.iter().any(|t| t == "ON_DEMAND") {
            let model_id = str_field(model, "modelId").unwrap_or(id);
            if types.iter().any(|t| t == "INFERENCE_PROFILE") {
                return Err(AwsError::validation(format!(
                    "Invocation of model ID {model_id} with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model."
                )));
            }
            return Err(AwsError::validation(
                "The provided model doesn't support on-demand throughput.",
            ));
        }
        self.invocable(model)
    }

    /// The embedding model InvokeModel calls for `id` (a model id, or a profile that routes to
    /// one): an existing model with EMBEDDING output the account may use.
    pub fn embedding_model(&self, id: &str) -> Result<String, AwsError> {
        let target = match self.find_profile(id) {
            Some(profile) => profile_target(profile)
                .map(str::to_owned)
                .ok_or_else(AwsError::invalid_model)?,
            None => id.to_owned(),
        };
        let model = self
            .find_model(&target)
            .ok_or_else(AwsError::invalid_model)?;
        let model_id = str_field(model, "modelId").unwrap_or_default().to_owned();
        if self.no_access.contains(&model_id) {
            return Err(AwsError::no_model_access());
        }
        if !string_list(model, "outputModalities")
            .iter()
            .any(|m| m == "EMBEDDING")
        {
            return Err(AwsError::validation(
                "The twin serves InvokeModel for embedding models only; chat models answer Converse.",
            ));
        }
        Ok(model_id)
    }

    fn invocable(&self, model: &Value) -> Result<Invocable, AwsError> {
        let model_id = str_field(model, "modelId").unwrap_or_default().to_owned();
        if self.no_access.contains(&model_id) {
            return Err(AwsError::no_model_access());
        }
        if !string_list(model, "outputModalities")
            .iter()
            .any(|m| m == "TEXT")
        {
            return Err(AwsError::validation(
                "This action doesn't support the model that you provided. Try again with a supported text or chat model.",
            ));
        }
        let listed = model
            .pointer("/converse/maxTokensMaximum")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok());
        let max_tokens = listed
            .or_else(|| self.max_tokens.get(&model_id).copied())
            .unwrap_or(DEFAULT_MAX_TOKENS);
        Ok(Invocable {
            provider: str_field(model, "providerName")
                .unwrap_or_default()
                .to_owned(),
            streaming: model
                .get("responseStreamingSupported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            max_tokens,
            input: string_list(model, "inputModalities"),
            image_types: model
                .pointer("/converse/userImageTypesSupported")
                .and_then(Value::as_array)
                .map(|types| {
                    types
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                }),
            document_types: model
                .pointer("/converse/userDocumentTypesSupported")
                .and_then(Value::as_array)
                .map(|types| {
                    types
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                }),
            guardrails: model
                .get("guardrailsSupported")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            latency_optimized: model
                .get("latencyOptimizationSupported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            system_role: model
                .pointer("/converse/systemRoleSupported")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            prompt_caching: model
                .pointer("/explicitPromptCaching/isSupported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            rules: self.rules.get(&model_id).cloned().unwrap_or_default(),
            model_id,
        })
    }
}

impl Catalogue {
    /// A catalogue that lists models with no inference profiles (a `ListFoundationModels`
    /// capture, loaded with `--catalogue`) gets the system profiles Bedrock would have for the
    /// models it can invoke only through one: `us.`, `eu.`, `apac.` and `global.`, each routing
    /// to the model. A catalogue that lists profiles is served as it is.
    fn with_derived_profiles(mut self) -> Self {
        if !self.profiles.is_empty() {
            return self;
        }
        for model in &self.models {
            let types = string_list(model, "inferenceTypesSupported");
            if !types.iter().any(|t| t == "INFERENCE_PROFILE") {
                continue;
            }
            let Some(model_id) = str_field(model, "modelId") else {
                continue;
            };
            let name = str_field(model, "modelName").unwrap_or(model_id);
            for (prefix, label, region) in [
                ("us", "US", "us-east-1"),
                ("eu", "EU", "eu-central-1"),
                ("apac", "APAC", "ap-northeast-1"),
                ("global", "Global", "us-east-1"),
            ] {
                let id = format!("{prefix}.{model_id}");
                self.profiles.push(serde_json::json!({
                    "inferenceProfileName": format!("{label} {name}"),
                    "description": format!("Routes requests to {name}."),
                    "createdAt": "2026-02-01T00:00:00+00:00",
                    "updatedAt": "2026-02-01T00:00:00+00:00",
                    "inferenceProfileArn": format!("arn:aws:bedrock:{region}:111122223333:inference-profile/{id}"),
                    "models": [{"modelArn": format!("arn:aws:bedrock:{region}::foundation-model/{model_id}")}],
                    "inferenceProfileId": id,
                    "status": "ACTIVE",
                    "type": "SYSTEM_DEFINED",
                }));
            }
        }
        self
    }
}

/// Whether a system profile's geography prefix admits calls signed for `region`.
fn in_geography(profile_id: &str, region: &str) -> bool {
    let Some((prefix, _)) = profile_id.split_once('.') else {
        return true;
    };
    let region_prefix = match prefix {
        "us" => "us-",
        "eu" => "eu-",
        "apac" => "ap-",
        "ca" => "ca-",
        "jp" => "ap-northeast-",
        "au" => "ap-southeast-",
        "us-gov" => "us-gov-",
        _ => return true,
    };
    region.starts_with(region_prefix) && !(prefix == "us" && region.starts_with("us-gov-"))
}

/// A string field of a JSON object.
pub(crate) fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// A list-of-strings field of a JSON object (missing or null is empty).
pub(crate) fn string_list(value: &Value, key: &str) -> Vec<String> {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The foundation model an inference profile routes to (its first model's id).
fn profile_target(profile: &Value) -> Option<&str> {
    profile
        .get("models")
        .and_then(Value::as_array)
        .and_then(|models| models.first())
        .and_then(|m| str_field(m, "modelArn"))
        .and_then(|arn| arn.rsplit_once("foundation-model/"))
        .map(|(_, model)| model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_covers_the_discovery_cases() {
        let c = Catalogue::built_in().unwrap();
        let providers: HashSet<_> = c
            .models()
            .iter()
            .filter_map(|m| str_field(m, "providerName"))
            .collect();
        for p in ["Mistral AI", "Meta", "Amazon", "DeepSeek", "Anthropic"] {
            assert!(providers.contains(p), "{p}");
        }
        for prefix in ["us.", "eu.", "apac.", "global."] {
            assert!(
                c.profiles()
                    .iter()
                    .any(|p| str_field(p, "inferenceProfileId")
                        .is_some_and(|id| id.starts_with(prefix))),
                "{prefix}"
            );
        }
        assert!(
            c.profiles()
                .iter()
                .any(|p| str_field(p, "type") == Some("APPLICATION"))
        );
        assert!(
            c.models()
                .iter()
                .any(|m| m.pointer("/modelLifecycle/status") == Some(&Value::from("LEGACY")))
        );
    }

    #[test]
    fn profile_only_model_is_refused_by_base_id() {
        let c = Catalogue::built_in().unwrap();
        let err = c
            .resolve_invocation("anthropic.claude-sonnet-4-20250514-v1:0", None)
            .unwrap_err();
        assert!(
            err.message
                .contains("with on-demand throughput isn't supported")
        );
        let ok = c
            .resolve_invocation(
                "us.anthropic.claude-sonnet-4-20250514-v1:0",
                Some("us-west-2"),
            )
            .unwrap();
        assert_eq!(ok.model_id, "anthropic.claude-sonnet-4-20250514-v1:0");
        assert_eq!(ok.max_tokens, 65536);
    }

    #[test]
    fn geographic_profiles_stay_in_their_geography() {
        let c = Catalogue::built_in().unwrap();
        let eu = "eu.anthropic.claude-sonnet-4-20250514-v1:0";
        assert!(c.resolve_invocation(eu, Some("eu-west-1")).is_ok());
        assert!(c.resolve_invocation(eu, None).is_ok());
        let err = c.resolve_invocation(eu, Some("us-east-1")).unwrap_err();
        assert_eq!(err.message, crate::error::INVALID_MODEL_ID);
        let global = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
        assert!(c.resolve_invocation(global, Some("ap-south-1")).is_ok());
    }

    #[test]
    fn unknown_and_denied_models() {
        let c = Catalogue::built_in().unwrap();
        assert_eq!(
            c.resolve_invocation("us.does-not-exist-model-v1:0", None)
                .unwrap_err()
                .message,
            crate::error::INVALID_MODEL_ID
        );
        assert_eq!(
            c.resolve_invocation("meta.llama3-70b-instruct-v1:0", None)
                .unwrap_err()
                .error_type,
            "AccessDeniedException"
        );
        assert!(
            c.resolve_invocation("amazon.titan-embed-text-v2:0", None)
                .is_err()
        );
    }
}
