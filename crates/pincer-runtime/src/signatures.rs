//! Reasoning signatures the gateway handed out, for clients that return a model's reasoning on
//! the next turn but not its signature (OpenClaw sends `reasoning_content` back without
//! `reasoning_signature`). Anthropic models refuse a tool-use turn whose thinking is unsigned,
//! so the gateway remembers each signature it issued, keyed by a hash of the reasoning text,
//! and puts it back. The memory is bounded (least recently used entries go first) and holds
//! hashes and signatures only, never the reasoning itself.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;
use pincer_core::{AssistantContent, AssistantMessage, Conversation, Message};
use sha2::{Digest, Sha256};

/// Signatures remembered by default.
pub const DEFAULT_CAPACITY: usize = 8192;

/// The signatures issued, by reasoning text.
#[derive(Debug)]
pub struct Signatures {
    issued: Mutex<LruCache<[u8; 32], String>>,
}

impl Default for Signatures {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

fn key(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl Signatures {
    /// Room for `capacity` signatures (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            issued: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// Remembers the signatures of an answer the gateway sent.
    pub fn remember(&self, message: &AssistantMessage) {
        let Ok(mut issued) = self.issued.lock() else {
            return;
        };
        for block in &message.content {
            if let AssistantContent::Thinking {
                text,
                signature: Some(signature),
            } = block
                && !text.is_empty()
            {
                issued.put(key(text), signature.clone());
            }
        }
    }

    /// Puts back the signature of each unsigned reasoning block of `conversation` that the
    /// gateway issued; returns how many it restored.
    pub fn restore(&self, conversation: &mut Conversation) -> usize {
        let Ok(mut issued) = self.issued.lock() else {
            return 0;
        };
        let mut restored = 0;
        for message in &mut conversation.messages {
            let Message::Assistant(assistant) = message else {
                continue;
            };
            for block in &mut assistant.content {
                if let AssistantContent::Thinking { text, signature } = block
                    && signature.as_deref().is_none_or(str::is_empty)
                    && let Some(known) = issued.get(&key(text))
                {
                    *signature = Some(known.clone());
                    restored += 1;
                }
            }
        }
        if restored > 0 {
            tracing::debug!(
                restored,
                "restored reasoning signatures the client left out"
            );
        }
        restored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thinking(text: &str, signature: Option<&str>) -> AssistantMessage {
        AssistantMessage {
            content: vec![AssistantContent::Thinking {
                text: text.to_owned(),
                signature: signature.map(str::to_owned),
            }],
            ..AssistantMessage::default()
        }
    }

    #[test]
    fn a_signature_comes_back_for_the_same_reasoning_only() {
        let signatures = Signatures::new(2);
        signatures.remember(&thinking("plan A", Some("sig-a")));
        let mut conversation = Conversation {
            messages: vec![
                Message::Assistant(thinking("plan A", None)),
                Message::Assistant(thinking("plan B", None)),
            ],
            ..Conversation::default()
        };
        assert_eq!(signatures.restore(&mut conversation), 1);
        let Message::Assistant(first) = &conversation.messages[0] else {
            unreachable!()
        };
        assert_eq!(
            first.content[0],
            AssistantContent::Thinking {
                text: "plan A".into(),
                signature: Some("sig-a".into())
            }
        );
        let Message::Assistant(second) = &conversation.messages[1] else {
            unreachable!()
        };
        assert!(matches!(
            &second.content[0],
            AssistantContent::Thinking {
                signature: None,
                ..
            }
        ));
    }

    #[test]
    fn the_oldest_signature_goes_first() {
        let signatures = Signatures::new(2);
        for (text, sig) in [("a", "1"), ("b", "2"), ("c", "3")] {
            signatures.remember(&thinking(text, Some(sig)));
        }
        let mut conversation = Conversation {
            messages: vec![
                Message::Assistant(thinking("a", None)),
                Message::Assistant(thinking("c", None)),
            ],
            ..Conversation::default()
        };
        assert_eq!(signatures.restore(&mut conversation), 1);
    }
}
