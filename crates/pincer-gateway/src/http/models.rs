//! `GET /v1/models` and `GET /v1/models/{id}`: the catalog in OpenAI's list shape, with Pincer's
//! model facts (limits, reasoning, inputs, prices) as extra fields.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use schemars::JsonSchema;
use serde::Serialize;

use crate::http::accounts::Access;
use crate::http::error::GatewayError;
use crate::http::state::SharedState;
use pincer_runtime::catalog::CatalogEntry;

/// One model.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ModelObject {
    /// `provider/model-id`, as `model` in requests.
    pub id: String,
    /// Always `model`.
    pub object: &'static str,
    /// Always 0 (unknown).
    pub created: u64,
    /// The provider id.
    pub owned_by: String,
    /// Display name.
    pub name: String,
    /// Context window, in tokens.
    pub context_window: u32,
    /// Largest answer, in tokens.
    pub max_tokens: u32,
    /// Whether the model reasons.
    pub reasoning: bool,
    /// Accepted inputs: `text`, `image`, `document`, `video`, `audio`.
    pub input: Vec<String>,
    /// Prices in USD per million tokens; `null` where no price is known (unknown, not zero).
    pub cost: ModelPrices,
    /// `chat`, or `embedding` (for `POST /v1/embeddings`).
    pub kind: &'static str,
}

/// Prices in USD per million tokens; `null` is an unknown price.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelPrices {
    /// Input tokens.
    pub input: Option<f64>,
    /// Output tokens.
    pub output: Option<f64>,
    /// Tokens read from the prompt cache.
    pub cache_read: Option<f64>,
    /// Tokens written to the prompt cache.
    pub cache_write: Option<f64>,
}

/// The list.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ModelList {
    /// Always `list`.
    pub object: &'static str,
    /// The models.
    pub data: Vec<ModelObject>,
}

fn model_object(entry: &CatalogEntry) -> ModelObject {
    ModelObject {
        kind: entry.kind,
        id: entry.key.clone(),
        object: "model",
        created: 0,
        owned_by: entry.provider.clone(),
        name: entry.name.clone(),
        context_window: entry.context_window,
        max_tokens: entry.max_tokens,
        reasoning: entry.reasoning,
        input: entry.input.iter().map(|m| m.as_str().to_owned()).collect(),
        cost: ModelPrices {
            input: entry.cost.input,
            output: entry.cost.output,
            cache_read: entry.cost.cache_read,
            cache_write: entry.cost.cache_write,
        },
    }
}

/// Lists the models (a managed key sees only those it may use).
pub async fn list(
    State(state): State<SharedState>,
    Extension(access): Extension<Access>,
) -> Json<ModelList> {
    let catalog = state.catalog();
    let filter = access.models();
    Json(ModelList {
        object: "list",
        data: catalog
            .served()
            .filter(|e| filter.as_ref().is_none_or(|f| f.allows(&e.key)))
            .map(model_object)
            .collect(),
    })
}

/// One model, by key (`provider/model-id`; the path may contain `/`) or bare id.
pub async fn get(
    State(state): State<SharedState>,
    Extension(access): Extension<Access>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ModelObject>, GatewayError> {
    // A rejected path (`%FF` is not UTF-8 once decoded) is an error in OpenAI's shape too, not
    // axum's plain-text one.
    let Path(id) = id.map_err(|rejection| GatewayError::BadRequest {
        message: rejection.body_text(),
        param: Some("id".to_owned()),
    })?;
    let catalog = state.catalog();
    let filter = access.models();
    let allowed = |e: &&CatalogEntry| filter.as_ref().is_none_or(|f| f.allows(&e.key));
    catalog
        .served()
        .filter(allowed)
        .find(|e| e.key == id)
        .or_else(|| catalog.served().filter(allowed).find(|e| e.id == id))
        .map(|e| Json(model_object(e)))
        .ok_or_else(|| GatewayError::ModelNotFound(format!("model `{id}` is not in the catalog")))
}
