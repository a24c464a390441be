//! A conversation, provider-neutral: system prompt, user / assistant / tool-result messages,
//! their content blocks, and the tools offered to the model.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What is sent to a model: instructions, history and tools.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The history, oldest first.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
}

/// One message of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    /// Something the user said.
    User {
        /// Text and images.
        content: Vec<UserContent>,
    },
    /// A model's answer.
    Assistant(AssistantMessage),
    /// The result of a tool call, given back to the model.
    ToolResult(ToolResult),
}

impl Message {
    /// A user message of plain text.
    pub fn user_text(text: impl Into<String>) -> Self {
        Message::User {
            content: vec![UserContent::Text { text: text.into() }],
        }
    }
}

/// A block of a user message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UserContent {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image(Image),
}

/// An image, as bytes with their media type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub media_type: String,
    /// The encoded image.
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
}

impl Image {
    /// The media type of `data` read from its first bytes, when it is one of the formats
    /// Bedrock accepts (PNG, JPEG, GIF, WebP). Declared types are not trusted: a file named
    /// `.png` or a `data:image/png` URL may hold anything.
    pub fn sniff(data: &[u8]) -> Option<&'static str> {
        if data.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
            Some("image/png")
        } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
            Some("image/jpeg")
        } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
            Some("image/gif")
        } else if data.len() >= 12 && data.starts_with(b"RIFF") && data.get(8..12) == Some(b"WEBP")
        {
            Some("image/webp")
        } else {
            None
        }
    }
}

/// A model's answer, as it was streamed, with how it ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssistantMessage {
    /// Text, thinking and tool calls, in the order the model produced them.
    pub content: Vec<AssistantContent>,
    /// Provider id that produced it (`amazon-bedrock`).
    pub provider: String,
    /// Model id that produced it; thinking signatures are only replayed to the same model.
    pub model: String,
    /// Why the model stopped.
    pub stop_reason: StopReason,
    /// Tokens used.
    pub usage: crate::usage::Usage,
    /// The error that ended the stream, for a failed or aborted turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AssistantMessage {
    /// All text blocks, concatenated.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|block| match block {
                AssistantContent::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The tool calls, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.content.iter().filter_map(|block| match block {
            AssistantContent::ToolCall(call) => Some(call),
            _ => None,
        })
    }
}

/// A block of an assistant message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AssistantContent {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// Reasoning the model showed.
    Thinking {
        /// The reasoning text.
        text: String,
        /// The provider's signature, replayed with the block on later turns to the same model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// Reasoning the provider encrypted; replayed as is to the same model.
    RedactedThinking {
        /// Opaque data.
        #[serde(with = "base64_bytes")]
        data: Vec<u8>,
    },
    /// A call of one of the offered tools.
    ToolCall(ToolCall),
}

/// A tool call the model made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Id the result must quote.
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Arguments, as JSON.
    pub arguments: Value,
}

/// The result of a tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The id of the call this answers.
    pub tool_call_id: String,
    /// The tool's name.
    pub tool_name: String,
    /// What the tool returned.
    pub content: Vec<ToolResultContent>,
    /// Whether the tool failed.
    #[serde(default)]
    pub is_error: bool,
}

impl ToolResultContent {
    /// Blocks as one text: text as it is, JSON serialized, images as `[image]`, one per line.
    pub fn join_text(blocks: &[ToolResultContent]) -> String {
        blocks
            .iter()
            .map(|c| match c {
                ToolResultContent::Text { text } => text.clone(),
                ToolResultContent::Json { value } => value.to_string(),
                ToolResultContent::Image(_) => "[image]".to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A block of a tool result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolResultContent {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image(Image),
    /// Structured output.
    Json {
        /// The value.
        value: Value,
    },
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Name, as the model will call it.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its arguments.
    pub parameters: Value,
}

/// Why a model stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished (end of turn or a stop sequence).
    #[default]
    Stop,
    /// It hit the output limit or the context window.
    Length,
    /// It wants tool results.
    ToolUse,
    /// A guardrail intervened.
    Guardrail,
    /// The provider's content filter stopped it.
    ContentFiltered,
    /// The stream failed.
    Error,
    /// The caller cancelled it.
    Aborted,
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod image_tests {
    use super::Image;

    #[test]
    fn formats_are_read_from_the_bytes() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0];
        assert_eq!(Image::sniff(&png), Some("image/png"));
        assert_eq!(Image::sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(Image::sniff(b"GIF89a...."), Some("image/gif"));
        assert_eq!(Image::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(Image::sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(Image::sniff(b"hello world"), None);
        assert_eq!(Image::sniff(b""), None);
        assert_eq!(Image::sniff(&png[..4]), None);
    }
}
