//! The events a provider yields while a response streams in.
//!
//! Indexes are positions in the assistant message's content, dense and in order of appearance
//! (0, 1, 2 …), whatever numbering the provider's wire format uses.

use crate::content::{AssistantMessage, ToolCall};
use crate::error::ProviderError;

/// One step of a streamed response.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The response started.
    Start,
    /// A text block started.
    TextStart {
        /// Content index.
        index: usize,
    },
    /// More text.
    TextDelta {
        /// Content index.
        index: usize,
        /// The new text.
        delta: String,
    },
    /// A text block ended.
    TextEnd {
        /// Content index.
        index: usize,
    },
    /// A thinking block started.
    ThinkingStart {
        /// Content index.
        index: usize,
    },
    /// More thinking text.
    ThinkingDelta {
        /// Content index.
        index: usize,
        /// The new text.
        delta: String,
    },
    /// A thinking block ended, with its signature if the provider signed it.
    ThinkingEnd {
        /// Content index.
        index: usize,
        /// The signature.
        signature: Option<String>,
    },
    /// A redacted (encrypted) thinking block.
    RedactedThinking {
        /// Content index.
        index: usize,
        /// Opaque data.
        data: Vec<u8>,
    },
    /// A citation of the text block at `citation.index` (it arrives before or with that
    /// block's text).
    Citation {
        /// The citation.
        citation: crate::content::Citation,
    },
    /// A tool call started.
    ToolCallStart {
        /// Content index.
        index: usize,
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
    },
    /// More of the arguments' JSON text.
    ToolCallDelta {
        /// Content index.
        index: usize,
        /// A fragment of JSON.
        delta: String,
    },
    /// A tool call ended; its arguments parsed.
    ToolCallEnd {
        /// Content index.
        index: usize,
        /// The complete call.
        call: ToolCall,
    },
    /// The response completed.
    Done {
        /// The whole message, with stop reason and usage.
        message: AssistantMessage,
    },
    /// The response failed (or was cancelled); what arrived before is kept.
    Error {
        /// What went wrong.
        error: ProviderError,
        /// The message as far as it got, with `stop_reason` `Error` or `Aborted`.
        partial: AssistantMessage,
    },
}
