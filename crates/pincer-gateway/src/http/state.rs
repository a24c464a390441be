//! What every request handler shares: the config, the catalog, the providers, the token.

use std::sync::Arc;

use pincer_config::Options;
use pincer_core::ModelRef;

use crate::catalog::Catalog;
use crate::http::error::GatewayError;
use crate::providers::Providers;
use crate::resolve::{Resolved, resolve};

/// Shared state.
#[derive(Debug)]
pub struct GatewayState {
    /// The validated config.
    pub options: Options,
    /// The model catalog.
    pub catalog: Catalog,
    /// Providers, built on first use.
    pub providers: Providers,
    /// The token clients must send, if any.
    pub token: Option<String>,
}

/// Shared state, as handlers receive it.
pub type SharedState = Arc<GatewayState>;

impl GatewayState {
    /// Resolves a request's `model`: `provider/id`, a bare id the catalog holds once, or
    /// `default` for `agents.defaults.model.primary`.
    pub fn resolve_model(&self, requested: &str) -> Result<Resolved, GatewayError> {
        let text = if requested == "default" {
            self.options
                .default_model()
                .and_then(|m| m.primary.clone())
                .ok_or_else(|| {
                    GatewayError::ModelNotFound(
                        "`default` names no model: set agents.defaults.model.primary".to_owned(),
                    )
                })?
        } else if requested.contains('/') {
            requested.to_owned()
        } else {
            let matches: Vec<&str> = self
                .catalog
                .entries
                .iter()
                .filter(|e| e.id == requested)
                .map(|e| e.key.as_str())
                .collect();
            match matches.as_slice() {
                [one] => (*one).to_owned(),
                [] => {
                    return Err(GatewayError::ModelNotFound(format!(
                        "model `{requested}` is not in the catalog; GET /v1/models lists them"
                    )));
                }
                many => {
                    return Err(GatewayError::BadRequest {
                        message: format!("model `{requested}` is ambiguous: {}", many.join(", ")),
                        param: Some("model".to_owned()),
                    });
                }
            }
        };
        let reference: ModelRef =
            text.parse()
                .map_err(|e: pincer_core::ModelRefError| GatewayError::BadRequest {
                    message: e.to_string(),
                    param: Some("model".to_owned()),
                })?;
        resolve(&self.options, &reference).map_err(|e| GatewayError::ModelNotFound(e.to_string()))
    }
}
