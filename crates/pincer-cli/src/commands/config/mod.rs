//! `pincer config …`: read and edit the config file.

pub mod get;
mod models_check;
pub mod path;
pub mod schema;
pub mod set;
pub mod unset;
pub mod validate;

pub(crate) use models_check::check_default_models;
use pincer_config::KeyPath;
use pincer_config::redact::{REDACTED, is_secret_key, redact_value};
use serde_json::Value;

/// Renders a value for display: strings bare, everything else as (pretty) JSON, unless `json`.
pub(crate) fn render_value(value: &Value, json: bool) -> String {
    match value {
        Value::String(text) if !json => text.clone(),
        _ => serde_json::to_string_pretty(value).unwrap_or_default(),
    }
}

/// The value as it may be shown: secrets under `path` replaced.
pub(crate) fn displayable(path: &KeyPath, value: &Value, show_secrets: bool) -> Value {
    let mut value = value.clone();
    if !show_secrets {
        redact_value(path.last_key(), &mut value);
    }
    value
}

/// A one-line, secret-safe rendering of a value for status messages.
pub(crate) fn summary(path: &KeyPath, value: &Value) -> String {
    if path.last_key().is_some_and(is_secret_key) && !value.is_object() && !value.is_array() {
        return REDACTED.to_owned();
    }
    let mut value = value.clone();
    redact_value(path.last_key(), &mut value);
    let text = serde_json::to_string(&value).unwrap_or_default();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}
