//! `POST /v1/embeddings`: OpenAI's embeddings API in front of Bedrock's embedding models
//! (InvokeModel): the texts are checked (`pincer_openai::embeddings`), the model looked up (an
//! embedding model; a chat model is refused), the provider embeds them in the model's own batches
//! and body, and the vectors come back as floats or base64.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use pincer_core::Usage;
use pincer_openai::embeddings::{EmbeddingsRequest, base64_format, inputs, response};
use tokio::time::timeout_at;

use crate::http::accounts::{Access, Charge};
use crate::http::door;
use crate::http::error::GatewayError;
use crate::http::state::SharedState;

/// The handler.
pub async fn create(
    State(state): State<SharedState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let mut model = String::new();
    let mut response = answer(&state, &access, &headers, body, started, &mut model)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    response.extensions_mut().insert(door::Served {
        id: String::new(),
        model,
    });
    response
}

fn bad_request(e: pincer_openai::request::RequestError) -> GatewayError {
    GatewayError::BadRequest {
        message: format!("{}: {}", e.param, e.message),
        param: Some(e.param),
    }
}

async fn answer(
    state: &SharedState,
    access: &Access,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    started: Instant,
    model: &mut String,
) -> Result<Response, GatewayError> {
    let mut record = state.record_embeddings(access, started);
    let parsed = door::json_body(headers, body).and_then(|body| {
        let request: EmbeddingsRequest = door::parse_json(&body)?;
        let texts = inputs(&request).map_err(bad_request)?;
        let base64 = base64_format(&request).map_err(bad_request)?;
        Ok((request, texts, base64))
    });
    let (request, texts, base64) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return Err(door::fail(record, error)),
    };
    let resolved = match state.resolve_model(&request.model) {
        Ok(resolved) => resolved,
        Err(error) => return Err(door::fail(record, error)),
    };
    let key = resolved.reference.to_string();
    record.model(&key, state.catalog().get(&resolved.reference).is_some());
    record.model_key().clone_into(model);
    if !resolved.model.capabilities.embedding {
        let error = GatewayError::BadRequest {
            message: format!(
                "`{key}` is a chat model, not an embedding model; GET /v1/models lists each model's kind"
            ),
            param: Some("model".to_owned()),
        };
        return Err(door::fail(record, error));
    }
    let mut models = vec![resolved];
    if let Err(error) = state.admit(access, &mut models, Charge::Tier(None)).await {
        return Err(door::fail(record, error));
    }
    let resolved = models.swap_remove(0);
    let deadline = tokio::time::Instant::from_std(started) + state.request_timeout;
    let embedded = timeout_at(
        deadline,
        state.runtime.embed(&resolved, texts, request.dimensions),
    )
    .await;
    let embeddings = match embedded {
        Ok(Ok(embeddings)) => embeddings,
        Ok(Err(error)) => return Err(door::fail(record, GatewayError::Upstream(error))),
        Err(_) => {
            return Err(door::fail(
                record,
                door::timeout(state, "no embeddings came"),
            ));
        }
    };
    record.first_output();
    let usage = Usage {
        input: embeddings.input_tokens,
        ..Usage::default()
    };
    record.succeeded(&usage, &resolved.model.tier_prices().serving(None));
    Ok(Json(response(
        &embeddings.vectors,
        base64,
        &key,
        embeddings.input_tokens,
    ))
    .into_response())
}
