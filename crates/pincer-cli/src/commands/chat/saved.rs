//! A conversation saved by `/save` and read back by `pincer chat --resume`: JSON holding the
//! model it was held with and the conversation (system prompt, messages with their reasoning
//! signatures, images and documents as base64), written whole or not at all.

use std::path::Path;

use anyhow::{Context, Result};
use pincer_core::Conversation;
use serde::{Deserialize, Serialize};

use crate::exit::UsageError;

/// The format's version.
const VERSION: u32 = 1;

/// The file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Saved {
    /// The format's version.
    pub pincer_chat: u32,
    /// The model the conversation was held with (`provider/model-id`).
    pub model: String,
    /// The conversation.
    pub conversation: Conversation,
}

impl Saved {
    /// A file for `conversation` held with `model`.
    pub(super) fn new(model: String, conversation: Conversation) -> Self {
        Self {
            pincer_chat: VERSION,
            model,
            conversation,
        }
    }

    /// Reads `path`; a file that is not a saved conversation is a usage error naming the line
    /// and column.
    pub(super) fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the conversation {}", path.display()))?;
        let saved: Self = serde_json::from_str(&text).map_err(|e| {
            UsageError(format!(
                "{}:{}:{}: not a conversation saved by pincer chat: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        if saved.pincer_chat != VERSION {
            return Err(UsageError(format!(
                "{}: saved by a newer pincer (format {}, this one reads {VERSION})",
                path.display(),
                saved.pincer_chat
            ))
            .into());
        }
        Ok(saved)
    }

    /// Writes `path` whole or not at all (a temporary file beside it, renamed over it), readable
    /// by its owner only.
    pub(super) fn store(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        pincer_config::store::write_atomic(path, dir, &text)
            .with_context(|| format!("writing {}", path.display()))
    }
}
