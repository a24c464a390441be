//! The control plane (`bedrock`): `ListFoundationModels` with its filters,
//! `GetFoundationModel`, `ListInferenceProfiles` with `type` filtering and
//! `maxResults`/`nextToken` paging, and `GetInferenceProfile`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use crate::catalogue::{str_field, string_list};
use crate::error::AwsError;
use crate::state::AppState;

type Params = Query<HashMap<String, String>>;

/// `GET /foundation-models`.
pub(crate) async fn list_foundation_models(
    State(state): State<Arc<AppState>>,
    Query(params): Params,
) -> Result<Json<Value>, AwsError> {
    state.streams.listed();
    let catalogue = &state.catalogue;
    let by_provider = params.get("byProvider").map(|p| p.to_ascii_lowercase());
    let by_output = params.get("byOutputModality");
    let by_inference = params.get("byInferenceType");
    let by_customization = params.get("byCustomizationType");
    let summaries: Vec<Value> = catalogue
        .models()
        .iter()
        .filter(|m| {
            by_provider.as_deref().is_none_or(|wanted| {
                let name = str_field(m, "providerName").unwrap_or_default();
                let prefix = str_field(m, "modelId")
                    .and_then(|id| id.split('.').next())
                    .unwrap_or_default();
                name.eq_ignore_ascii_case(wanted) || prefix.eq_ignore_ascii_case(wanted)
            })
        })
        .filter(|m| list_has(m, "outputModalities", by_output))
        .filter(|m| list_has(m, "inferenceTypesSupported", by_inference))
        .filter(|m| list_has(m, "customizationsSupported", by_customization))
        .cloned()
        .collect();
    let mut body = Map::new();
    if let Some(flag) = catalogue.enable_access_to_all() {
        body.insert("enableAccessToAllModelsByDefault".into(), flag.clone());
    }
    body.insert("modelSummaries".into(), Value::Array(summaries));
    Ok(Json(Value::Object(body)))
}

fn list_has(model: &Value, key: &str, wanted: Option<&String>) -> bool {
    wanted.is_none_or(|w| string_list(model, key).iter().any(|v| v == w))
}

/// `GET /foundation-models/{modelIdentifier}`.
pub(crate) async fn get_foundation_model(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AwsError> {
    let model = state
        .catalogue
        .find_model(&id)
        .ok_or_else(|| AwsError::not_found(format!("Could not find model identifier {id}.")))?;
    Ok(Json(json!({ "modelDetails": model })))
}

/// `GET /inference-profiles`.
pub(crate) async fn list_inference_profiles(
    State(state): State<Arc<AppState>>,
    Query(params): Params,
) -> Result<Json<Value>, AwsError> {
    let type_equals = params.get("type");
    if let Some(t) = type_equals
        && t != "SYSTEM_DEFINED"
        && t != "APPLICATION"
    {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{t}' at 'typeEquals' failed to satisfy constraint: Member must satisfy enum value set: [SYSTEM_DEFINED, APPLICATION]"
        )));
    }
    let max_results = match params.get("maxResults") {
        None => 1000,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(AwsError::validation(format!(
                    "1 validation error detected: Value '{raw}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 1000"
                )));
            }
        },
    };
    let start = match params.get("nextToken") {
        None => 0,
        Some(token) => decode_token(token)
            .ok_or_else(|| AwsError::validation("The nextToken provided is invalid."))?,
    };
    let matching: Vec<&Value> = state
        .catalogue
        .profiles()
        .iter()
        .filter(|p| type_equals.is_none_or(|t| str_field(p, "type") == Some(t.as_str())))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max_results)
        .map(|p| (*p).clone())
        .collect();
    let end = start.saturating_add(page.len());
    let mut body = Map::new();
    body.insert("inferenceProfileSummaries".into(), Value::Array(page));
    if end < matching.len() {
        body.insert("nextToken".into(), Value::String(encode_token(end)));
    }
    Ok(Json(Value::Object(body)))
}

/// `GET /inference-profiles/{inferenceProfileIdentifier}`.
pub(crate) async fn get_inference_profile(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AwsError> {
    state.streams.profile_looked_up();
    let profile = state.catalogue.find_profile(&id).ok_or_else(|| {
        AwsError::not_found(format!("The inference profile {id} does not exist."))
    })?;
    Ok(Json(profile.clone()))
}

fn encode_token(offset: usize) -> String {
    BASE64.encode(format!("twin-page:{offset}"))
}

fn decode_token(token: &str) -> Option<usize> {
    let raw = BASE64.decode(token).ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.strip_prefix("twin-page:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip() {
        assert_eq!(decode_token(&encode_token(17)), Some(17));
        assert_eq!(decode_token("garbage"), None);
    }
}
