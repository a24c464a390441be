//! Replay of recorded Bedrock captures: the response body of a capture under the vectors folder
//! is sent byte for byte. Selected with the header `x-twin-replay: <path relative to the vectors
//! folder>` or with the model id suffix `~replay=<path>`.
//!
//! - `*.bin` files are raw event streams, sent as `application/vnd.amazon.eventstream`;
//! - `*.json` files with top-level `status`, `headers` and `body` are error captures, sent with
//!   that status, those headers and that body;
//! - any other `*.json` file is sent as a `200 application/json` body.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::AwsError;
use crate::stream::EVENT_STREAM_CONTENT_TYPE;

/// Header that selects a capture to replay.
pub const REPLAY_HEADER: &str = "x-twin-replay";

fn refuse(message: String) -> AwsError {
    AwsError::not_found(message)
}

/// Resolves `relative` inside `root`, refusing anything that would leave it.
pub fn locate(root: Option<&Path>, relative: &str) -> Result<PathBuf, AwsError> {
    let root = root.ok_or_else(|| {
        refuse("replay is unavailable: the twin was started without a vectors folder".into())
    })?;
    let rel = Path::new(relative);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(refuse(format!(
            "replay path `{relative}` must be relative and stay inside the vectors folder"
        )));
    }
    let path = root.join(rel);
    if !path.is_file() {
        return Err(refuse(format!(
            "no capture `{relative}` in the vectors folder"
        )));
    }
    Ok(path)
}

/// Serves the capture at `relative`.
pub async fn serve(root: Option<&Path>, relative: &str) -> Result<Response, AwsError> {
    let path = locate(root, relative)?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| refuse(format!("cannot read capture `{relative}`: {e}")))?;
    if path.extension().is_some_and(|e| e == "bin") {
        return Ok((
            [(header::CONTENT_TYPE, EVENT_STREAM_CONTENT_TYPE)],
            Body::from(bytes),
        )
            .into_response());
    }
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes)
        && let (Some(status), Some(body)) = (map.get("status"), map.get("body"))
    {
        let status = status
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(Value::Object(recorded)) = map.get("headers") {
            for (name, value) in recorded {
                if let (Ok(name), Some(Ok(value))) = (
                    HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()),
                    value.as_str().map(HeaderValue::from_str),
                ) && name != header::CONTENT_LENGTH
                {
                    headers.insert(name, value);
                }
            }
        }
        return Ok(response);
    }
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(bytes),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape_the_folder() {
        let root = std::env::temp_dir();
        assert!(locate(Some(&root), "../etc/passwd").is_err());
        assert!(locate(Some(&root), "/etc/passwd").is_err());
        assert!(locate(None, "a.bin").is_err());
    }
}
