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
// An assistant message carries its answer's metadata (citations, trace, tier) inline: a few
// hundred bytes per message of a history, not worth a box and a pointer chase on every turn.
#[allow(clippy::large_enum_variant)]
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
    /// A document (PDF, spreadsheet, text…).
    Document(Document),
}

/// A document, as bytes with its format and a name the model sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// `pdf`, `csv`, `doc`, `docx`, `xls`, `xlsx`, `html`, `txt` or `md`.
    pub format: String,
    /// Its name (the model may quote it; a citation names it).
    pub name: String,
    /// The file's bytes.
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
}

/// The document formats a model can be given.
pub const DOCUMENT_FORMATS: [&str; 9] = [
    "pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md",
];

impl Document {
    /// The format of a document of media type `media_type` (or, failing that, named
    /// `filename`), when it is one of [`DOCUMENT_FORMATS`].
    pub fn format_of(media_type: Option<&str>, filename: Option<&str>) -> Option<&'static str> {
        let by_type = media_type.and_then(|t| {
            Some(
                match t.split(';').next()?.trim().to_ascii_lowercase().as_str() {
                    "application/pdf" => "pdf",
                    "text/csv" => "csv",
                    "application/msword" => "doc",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                        "docx"
                    }
                    "application/vnd.ms-excel" => "xls",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
                    "text/html" => "html",
                    "text/plain" => "txt",
                    "text/markdown" => "md",
                    _ => return None,
                },
            )
        });
        by_type.or_else(|| {
            let extension = filename?.rsplit_once('.')?.1.to_ascii_lowercase();
            DOCUMENT_FORMATS.iter().copied().find(|f| {
                *f == extension
                    || (extension == "htm" && *f == "html")
                    || (extension == "markdown" && *f == "md")
            })
        })
    }

    /// Whether `data` can be a document of `format`, judged by its bytes (a declared type is
    /// not trusted): PDF starts with `%PDF-`, DOCX and XLSX are ZIP archives, DOC and XLS are
    /// OLE compound files, and the text formats are UTF-8.
    pub fn bytes_fit(format: &str, data: &[u8]) -> bool {
        match format {
            "pdf" => data.starts_with(b"%PDF-"),
            "docx" | "xlsx" => data.starts_with(b"PK\x03\x04"),
            "doc" | "xls" => data.starts_with(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
            "csv" | "html" | "txt" | "md" => std::str::from_utf8(data).is_ok(),
            _ => false,
        }
    }

    /// The media type of its format.
    pub fn media_type(&self) -> &'static str {
        match self.format.as_str() {
            "pdf" => "application/pdf",
            "csv" => "text/csv",
            "doc" => "application/msword",
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xls" => "application/vnd.ms-excel",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "html" => "text/html",
            "md" => "text/markdown",
            _ => "text/plain",
        }
    }

    /// `name` as Bedrock accepts a document name: letters, digits, single spaces, `-`, `(`,
    /// `)`, `[` and `]`, without its extension; `document` when nothing is left.
    pub fn clean_name(name: &str) -> String {
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        let mut out = String::with_capacity(stem.len());
        for c in stem.chars() {
            let c = if c.is_ascii_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']') {
                c
            } else {
                ' '
            };
            if !(c == ' ' && (out.is_empty() || out.ends_with(' '))) {
                out.push(c);
            }
        }
        let out = out.trim_end().to_owned();
        if out.is_empty() {
            "document".to_owned()
        } else {
            out
        }
    }
}

/// A citation: where in a source document (or web page) a piece of the answer comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Citation {
    /// The content index of the text block the citation supports.
    pub index: usize,
    /// The source's title (a document's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The quoted source text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_text: Vec<String>,
    /// Where in the source, as the provider gives it (document index and character, page or
    /// chunk range; or a web page's URL and domain).
    pub location: serde_json::Value,
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
    /// Citations of the text, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
    /// The provider's own stop reason, when Pincer's says less (`model_context_window_exceeded`
    /// is [`StopReason::Length`], an unknown reason is [`StopReason::Stop`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_detail: Option<String>,
    /// A guardrail's trace, when one intervened or traced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail_trace: Option<serde_json::Value>,
    /// The service tier that served the answer, when the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
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
                ToolResultContent::Document(d) => format!("[document {}]", d.name),
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
    /// A document.
    Document(Document),
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
