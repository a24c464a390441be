//! Model discovery: `ListFoundationModels` and `ListInferenceProfiles` (every page), turned into
//! the models a user can actually invoke from a region.
//!
//! - Kept: streaming, TEXT input and output, ACTIVE lifecycle (the rest is listed only with
//!   `--all`, with the reason it is hidden: a model without TEXT input, such as a speech-only
//!   one, cannot take a Converse text turn).
//! - Invocable ids only: a model with `ON_DEMAND` inference is listed by its base id; a model
//!   invocable only through an inference profile is listed by the system profile of the
//!   region's geography (`us.`, `eu.`, `apac.`, `jp.`, else `global.`), never by a base id that
//!   would fail with "on-demand throughput isn't supported"; provisioned-only variants are
//!   hidden. Application profiles are listed by their ARN. Profiles inherit the base model's
//!   modalities and limits.
//! - `providerFilter` matches, case-insensitively, the provider name or the model-id prefix.
//! - What Bedrock says each model can do (the 2026 `converse` object and its neighbours, which
//!   the SDK's model drops) is read from the raw answer ([`crate::facts`]) and kept with each
//!   model; the catalog merges it with the known-model table and the config.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_bedrock::Client;
use aws_sdk_bedrock::types::{
    FoundationModelLifecycleStatus, FoundationModelSummary, InferenceProfileSummary,
    InferenceProfileType, ModelModality,
};
use pincer_core::{ErrorKind, Modality, ProviderError};
use serde::{Deserialize, Serialize};

use crate::errors::{CallContext, from_control_error};
use crate::facts::{self, BedrockFacts, RawBody};
use crate::region::profile_prefix;

/// One model found by discovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredModel {
    /// The id to invoke: a base model id, a system profile id, or an application-profile ARN.
    pub id: String,
    /// The foundation model behind it.
    pub base_id: String,
    /// Display name.
    pub name: String,
    /// Provider name as Bedrock gives it ("Anthropic", "Mistral AI").
    pub provider_name: String,
    /// Accepted inputs.
    pub input: Vec<Modality>,
    /// Why it is hidden from the default listing, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<String>,
    /// What Bedrock's listing says the model can do.
    #[serde(default)]
    pub facts: BedrockFacts,
    /// For an application inference profile: the id it was made from (a system profile or a
    /// model id), whose price it is billed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_of: Option<String>,
    /// Whether Bedrock lists it with EMBEDDING output (served on `/v1/embeddings`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub embedding: bool,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryFilter {
    /// Lower-cased provider filters; empty keeps every provider.
    pub providers: Vec<String>,
}

impl DiscoveryFilter {
    /// A filter from `providerFilter`.
    pub fn new(providers: &[String]) -> Self {
        Self {
            providers: providers
                .iter()
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty())
                .collect(),
        }
    }

    /// Whether a model of `provider_name` with id `base_id` passes.
    pub fn matches(&self, provider_name: &str, base_id: &str) -> bool {
        if self.providers.is_empty() {
            return true;
        }
        let name = provider_name.to_lowercase();
        let prefix = base_id.split('.').next().unwrap_or_default().to_lowercase();
        self.providers
            .iter()
            .any(|f| name == *f || name.starts_with(f.as_str()) || prefix == *f)
    }
}

fn modalities(list: Option<&[ModelModality]>) -> Vec<Modality> {
    let mut out = Vec::new();
    for modality in list.unwrap_or_default() {
        match modality {
            ModelModality::Text => out.push(Modality::Text),
            ModelModality::Image => out.push(Modality::Image),
            _ => {}
        }
    }
    out
}

/// Turns the raw listings into invocable models for `region`; `facts` are the fields of the
/// raw `ListFoundationModels` answer the SDK's model lacks, by model id.
pub fn select(
    models: &[FoundationModelSummary],
    profiles: &[InferenceProfileSummary],
    region: &str,
    filter: &DiscoveryFilter,
    facts: &HashMap<String, BedrockFacts>,
) -> Vec<DiscoveredModel> {
    let geography = profile_prefix(region);
    let mut out = Vec::new();
    for model in models {
        let base_id = model.model_id.clone();
        let provider_name = model.provider_name.clone().unwrap_or_default();
        if !filter.matches(&provider_name, &base_id) {
            continue;
        }
        let types: Vec<&str> = model
            .inference_types_supported
            .iter()
            .flatten()
            .map(|t| t.as_str())
            .collect();
        let outputs = model.output_modalities.as_deref().unwrap_or_default();
        let facts = facts.get(&base_id).cloned().unwrap_or_default();
        let input = if facts.input.is_empty() {
            modalities(model.input_modalities.as_deref())
        } else {
            facts.input.clone()
        };
        let mut hidden = None;
        // Embedding models answer InvokeModel, whole: neither text output nor streaming.
        let embedding = outputs.contains(&ModelModality::Embedding);
        if embedding {
            if model
                .model_lifecycle
                .as_ref()
                .is_some_and(|l| l.status == FoundationModelLifecycleStatus::Legacy)
            {
                hidden = Some("legacy".to_owned());
            }
        } else if !outputs.contains(&ModelModality::Text) {
            hidden = Some("no text output".to_owned());
        } else if !input.contains(&Modality::Text) {
            let kinds: Vec<&str> = input.iter().map(|m| m.as_str()).collect();
            hidden = Some(format!(
                "no text input ({} only): not a chat model",
                kinds.join(", ")
            ));
        } else if model.response_streaming_supported != Some(true) {
            hidden = Some("no streaming".to_owned());
        } else if model
            .model_lifecycle
            .as_ref()
            .is_some_and(|l| l.status == FoundationModelLifecycleStatus::Legacy)
        {
            hidden = Some("legacy".to_owned());
        }
        let id = if types.contains(&"ON_DEMAND") {
            base_id.clone()
        } else if types.contains(&"INFERENCE_PROFILE") {
            let wanted = [
                format!("{geography}.{base_id}"),
                format!("global.{base_id}"),
            ];
            match wanted
                .iter()
                .find(|id| profiles.iter().any(|p| &p.inference_profile_id == *id))
            {
                Some(id) => id.clone(),
                None => {
                    hidden.get_or_insert_with(|| format!("no inference profile for {region}"));
                    base_id.clone()
                }
            }
        } else {
            hidden.get_or_insert_with(|| "provisioned throughput only".to_owned());
            base_id.clone()
        };
        out.push(DiscoveredModel {
            id,
            base_id,
            name: model
                .model_name
                .clone()
                .unwrap_or_else(|| model.model_id.clone()),
            provider_name,
            input,
            hidden,
            facts,
            profile_of: None,
            embedding,
        });
    }
    // Application profiles, by ARN, inheriting their base model.
    for profile in profiles
        .iter()
        .filter(|p| p.r#type == InferenceProfileType::Application)
    {
        let base_arn = profile
            .models
            .first()
            .and_then(|m| m.model_arn.as_deref())
            .unwrap_or_default();
        let base_id = base_arn.rsplit('/').next().unwrap_or_default();
        let Some(base) = out.iter().find(|m| m.base_id == base_id).cloned() else {
            continue;
        };
        out.push(DiscoveredModel {
            id: profile.inference_profile_arn.clone(),
            name: profile.inference_profile_name.clone(),
            hidden: base.hidden.clone(),
            profile_of: Some(base.id.clone()),
            ..base
        });
    }
    out
}

/// Inference profiles asked for per page.
pub const PROFILE_PAGE_SIZE: i32 = 1000;

/// Calls both listing APIs (every page) with `deadline` each, and selects.
pub async fn discover(
    config: &SdkConfig,
    region: &str,
    filter: &DiscoveryFilter,
    deadline: Duration,
) -> Result<Vec<DiscoveredModel>, ProviderError> {
    discover_paged(config, region, filter, deadline, PROFILE_PAGE_SIZE).await
}

/// [`discover`] with a chosen page size for `ListInferenceProfiles`.
pub async fn discover_paged(
    config: &SdkConfig,
    region: &str,
    filter: &DiscoveryFilter,
    deadline: Duration,
    page_size: i32,
) -> Result<Vec<DiscoveredModel>, ProviderError> {
    let client = Client::new(config);
    let context = CallContext { model: "", region };
    let timeout = |what: &str| {
        ProviderError::new(
            ErrorKind::Timeout,
            format!("{what} did not answer within {} s", deadline.as_secs_f32()),
        )
    };
    let raw = RawBody::default();
    let models = tokio::time::timeout(
        deadline,
        client
            .list_foundation_models()
            .customize()
            .interceptor(raw.clone())
            .send(),
    )
    .await
    .map_err(|_| timeout("bedrock:ListFoundationModels"))?
    .map_err(|e| from_control_error(&e, "bedrock:ListFoundationModels", context))?
    .model_summaries
    .unwrap_or_default();
    let facts = raw
        .take()
        .map(|body| facts::of_listing(&body))
        .unwrap_or_default();
    let mut profiles = Vec::new();
    for kind in [
        InferenceProfileType::SystemDefined,
        InferenceProfileType::Application,
    ] {
        let mut pages = client
            .list_inference_profiles()
            .type_equals(kind)
            .max_results(page_size)
            .into_paginator()
            .send();
        loop {
            let page = tokio::time::timeout(deadline, pages.next())
                .await
                .map_err(|_| timeout("bedrock:ListInferenceProfiles"))?;
            match page {
                None => break,
                Some(Ok(page)) => {
                    profiles.extend(page.inference_profile_summaries.unwrap_or_default())
                }
                Some(Err(e)) => {
                    return Err(from_control_error(
                        &e,
                        "bedrock:ListInferenceProfiles",
                        context,
                    ));
                }
            }
        }
    }
    Ok(select(&models, &profiles, region, filter, &facts))
}
