//! `GET /v1/models` and `GET /v1/models/{id}`: the catalog in OpenAI's list shape.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::catalog::CatalogEntry;
use crate::http::error::GatewayError;
use crate::http::state::SharedState;

fn model_object(entry: &CatalogEntry) -> Value {
    json!({
        "id": entry.key,
        "object": "model",
        "created": 0,
        "owned_by": entry.provider,
        "name": entry.name,
        "context_window": entry.context_window,
        "max_tokens": entry.max_tokens,
        "reasoning": entry.reasoning,
        "input": entry.input,
        "cost": entry.cost,
    })
}

/// Lists the models.
pub async fn list(State(state): State<SharedState>) -> Json<Value> {
    let data: Vec<Value> = state
        .catalog
        .entries
        .iter()
        .filter(|e| e.hidden.is_none())
        .map(model_object)
        .collect();
    Json(json!({"object": "list", "data": data}))
}

/// One model, by key (`provider/model-id`; the path may contain `/`).
pub async fn get(
    State(state): State<SharedState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, GatewayError> {
    state
        .catalog
        .entries
        .iter()
        .find(|e| e.key == id || e.id == id)
        .map(|e| Json(model_object(e)))
        .ok_or_else(|| GatewayError::ModelNotFound(format!("model `{id}` is not in the catalog")))
}
