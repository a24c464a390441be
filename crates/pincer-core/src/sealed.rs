//! Reasoning sealed into one opaque string, for clients that keep no state and hand back only
//! what a field of their API carries: the Responses API's `encrypted_content`, or the Messages
//! API's `signature` when thinking is not displayed. The string holds the reasoning text and
//! Bedrock's signature (or redacted reasoning), so that the next turn sends Bedrock exactly what
//! it signed; it is not encrypted, only wrapped, and Bedrock checks the signature.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::content::AssistantContent;

/// The prefix of every sealed string.
pub const PREFIX: &str = "pincer.v1.";

#[derive(Debug, Serialize, Deserialize)]
struct Sealed {
    /// The provider and model that wrote it: a signature is only worth sending to its model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redacted: Option<String>,
}

/// What a sealed string holds: the block and the provider and model that wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    /// The thinking or redacted thinking.
    pub block: AssistantContent,
    /// `(provider, model)` of the model that wrote it, when recorded.
    pub origin: Option<(String, String)>,
}

/// `block` (thinking or redacted thinking), written by `model` of `provider`, sealed; other
/// blocks have nothing to seal.
pub fn seal(block: &AssistantContent, provider: &str, model: &str) -> Option<String> {
    let origin = (!model.is_empty()).then(|| (provider.to_owned(), model.to_owned()));
    let sealed = match block {
        AssistantContent::Thinking { text, signature } => Sealed {
            origin,
            text: Some(text.clone()),
            signature: signature.clone(),
            redacted: None,
        },
        AssistantContent::RedactedThinking { data } => Sealed {
            origin,
            text: None,
            signature: None,
            redacted: Some(STANDARD.encode(data)),
        },
        _ => return None,
    };
    let json = serde_json::to_vec(&sealed).ok()?;
    Some(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json)))
}

/// What `text` holds; `None` for a string Pincer did not seal, an error (why) for one with
/// Pincer's prefix that does not open.
pub fn unseal(text: &str) -> Result<Option<Opened>, String> {
    let Some(body) = text.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    let bad = |why: String| format!("not reasoning Pincer handed out: {why}");
    let json = URL_SAFE_NO_PAD
        .decode(body.trim())
        .map_err(|e| bad(e.to_string()))?;
    let sealed: Sealed = serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))?;
    let block = match (sealed.redacted, sealed.text) {
        (Some(data), _) => AssistantContent::RedactedThinking {
            data: STANDARD.decode(data).map_err(|e| bad(e.to_string()))?,
        },
        (None, text) => AssistantContent::Thinking {
            text: text.unwrap_or_default(),
            signature: sealed.signature,
        },
    };
    Ok(Some(Opened {
        block,
        origin: sealed.origin,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinking_and_redacted_thinking_come_back_as_they_went() {
        for block in [
            AssistantContent::Thinking {
                text: "plan".into(),
                signature: Some("sig".into()),
            },
            AssistantContent::RedactedThinking {
                data: vec![0, 1, 255],
            },
        ] {
            let opened = unseal(&seal(&block, "amazon-bedrock", "m").unwrap())
                .unwrap()
                .unwrap();
            assert_eq!(opened.block, block);
            assert_eq!(opened.origin, Some(("amazon-bedrock".into(), "m".into())));
        }
        assert_eq!(unseal("EqQBCkYIBxgCKkBopaque").unwrap(), None);
        assert!(unseal("pincer.v1.!!").is_err());
    }
}
