//! Secrets: a string that never shows in `Debug` or `Display`, and the process-wide list of
//! secret values that log output is scrubbed of.
//!
//! A [`Secret`] is how a token or API key travels through Pincer: code that needs the value asks
//! for it with [`Secret::expose`], so every use is visible in a search. Every secret Pincer
//! learns (from the environment or the config) is also [`register`]ed, and the log writer
//! replaces each registered value with `[redacted]` before a line leaves the process — a second
//! line of defence for libraries that log more than they should at `trace` level.

use std::fmt;
use std::sync::{Arc, RwLock};

/// What a hidden value is shown as.
pub const REDACTED: &str = "[redacted]";

/// Values shorter than this are not scrubbed from logs: a two-letter "secret" would blank out
/// every word that contains it, and no credential is that short.
const MIN_SCRUBBED_LEN: usize = 6;

/// A secret string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps `value` and registers it for log scrubbing.
    pub fn new(value: impl Into<String>) -> Self {
        let value: String = value.into();
        register(&value);
        Self(Arc::from(value))
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

static REGISTERED: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds `value` (and each of its lines, for a value that spans several) to the values log
/// output is scrubbed of.
pub fn register(value: &str) {
    let mut values: Vec<&str> = vec![value.trim()];
    if value.contains('\n') {
        values.extend(value.lines().map(str::trim));
    }
    let Ok(mut registered) = REGISTERED.write() else {
        return;
    };
    for value in values {
        if value.len() >= MIN_SCRUBBED_LEN && !registered.iter().any(|v| v == value) {
            registered.push(value.to_owned());
        }
    }
    // Longest first, so a secret that contains another is replaced whole.
    registered.sort_by_key(|v| std::cmp::Reverse(v.len()));
}

/// `text` with every registered secret replaced by [`REDACTED`]; borrowed when it holds none.
pub fn scrub(text: &str) -> std::borrow::Cow<'_, str> {
    let Ok(registered) = REGISTERED.read() else {
        return text.into();
    };
    let mut out = std::borrow::Cow::Borrowed(text);
    for value in registered.iter() {
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), REDACTED).into();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_its_value() {
        let secret = Secret::new("sk-live-0123456789");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert_eq!(secret.to_string(), "[redacted]");
        assert_eq!(secret.expose(), "sk-live-0123456789");
    }

    #[test]
    fn scrubs_registered_values_and_each_line_of_a_multiline_one() {
        register("first-line-secret\nsecond-line-secret");
        let text = "a first-line-secret b second-line-secret c";
        assert_eq!(scrub(text), "a [redacted] b [redacted] c");
        assert!(matches!(
            scrub("nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
        register("abc");
        assert_eq!(scrub("abc"), "abc", "too short to scrub");
    }
}
