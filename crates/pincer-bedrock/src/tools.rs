//! Tool names and call ids as Bedrock accepts them, and back.
//!
//! Bedrock requires tool names matching `[a-zA-Z0-9_-]{1,64}` and tool-use ids matching
//! `[a-zA-Z0-9_-]+`. Names from other providers (`web.search`, 80-character MCP names) and ids
//! from other providers (`call_abc.123`) are rewritten on the way in, uniquely and
//! deterministically, and tool names are mapped back on the way out so the caller sees its own
//! names.

use std::collections::HashMap;

const MAX_NAME: usize = 64;

/// The mapping between callers' tool names and the names sent to Bedrock.
#[derive(Debug, Clone, Default)]
pub struct ToolNames {
    to_bedrock: HashMap<String, String>,
    to_caller: HashMap<String, String>,
}

impl ToolNames {
    /// The Bedrock name for `name`, allocating one on first use.
    pub fn bedrock_name(&mut self, name: &str) -> String {
        if let Some(existing) = self.to_bedrock.get(name) {
            return existing.clone();
        }
        let mut candidate = sanitize(name, MAX_NAME);
        if candidate != name || candidate.is_empty() || self.to_caller.contains_key(&candidate) {
            let mut attempt = 0u32;
            while candidate.is_empty() || self.to_caller.contains_key(&candidate) {
                attempt += 1;
                let suffix = format!("_{:08x}", fnv1a(&format!("{name}#{attempt}")));
                candidate = format!(
                    "{}{suffix}",
                    truncate(&sanitize(name, MAX_NAME), MAX_NAME - suffix.len())
                );
            }
        }
        self.to_bedrock.insert(name.to_owned(), candidate.clone());
        self.to_caller.insert(candidate.clone(), name.to_owned());
        candidate
    }

    /// The caller's name for a name Bedrock returned.
    pub fn caller_name(&self, bedrock_name: &str) -> String {
        self.to_caller
            .get(bedrock_name)
            .cloned()
            .unwrap_or_else(|| bedrock_name.to_owned())
    }
}

/// A tool-use id Bedrock accepts: invalid characters replaced; an id that had to change gets a
/// hash of the original so two different ids never collide.
pub fn bedrock_call_id(id: &str) -> String {
    let clean = sanitize(id, 64);
    if clean == id && !clean.is_empty() {
        clean
    } else {
        format!("{}_{:08x}", truncate(&clean, 55), fnv1a(id))
    }
}

fn sanitize(text: &str, max: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    truncate(&cleaned, max).to_owned()
}

fn truncate(text: &str, max: usize) -> &str {
    &text[..text.len().min(max)]
}

/// 32-bit FNV-1a: a small, stable hash (not for security).
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    #[test]
    fn names_are_normalised_and_mapped_back() {
        let mut names = ToolNames::default();
        assert_eq!(names.bedrock_name("get_weather"), "get_weather");
        let dotted = names.bedrock_name("web.search");
        assert!(valid(&dotted) && dotted != "web.search", "{dotted}");
        let long = "mcp__server__".to_owned() + &"x".repeat(80);
        let short = names.bedrock_name(&long);
        assert!(valid(&short), "{short}");
        assert_eq!(names.caller_name(&short), long);
        assert_eq!(names.caller_name(&dotted), "web.search");
        // A caller name that collides with a rewritten one stays distinct.
        let clash = names.bedrock_name("web_search");
        assert_ne!(clash, dotted);
        assert!(valid(&clash));
        assert_eq!(names.bedrock_name("web.search"), dotted);
    }

    #[test]
    fn call_ids_are_valid_and_distinct() {
        assert_eq!(bedrock_call_id("tooluse_abc-1"), "tooluse_abc-1");
        let a = bedrock_call_id("call.1");
        let b = bedrock_call_id("call_1");
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
        assert!(!bedrock_call_id("").is_empty());
    }
}
