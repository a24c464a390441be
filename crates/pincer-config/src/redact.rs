//! Secret redaction: which keys hold secrets, and how they are hidden.
//!
//! A key holds a secret when its name, ignoring case, `-` and `_`, is an authorization or cookie
//! header, or ends in `key`, `token`, `secret`, `password` or `credential(s)` — so `apiKey`,
//! `auth.token` and a `headers["x-api-key"]` entry are hidden, while `maxTokens` is not.

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Whether a key of this name holds a secret.
pub fn is_secret_key(key: &str) -> bool {
    let normalized: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect();
    matches!(
        normalized.as_str(),
        "authorization" | "proxyauthorization" | "cookie" | "setcookie"
    ) || [
        "key",
        "token",
        "secret",
        "password",
        "passwd",
        "credential",
        "credentials",
    ]
    .iter()
    .any(|suffix| normalized.ends_with(suffix))
}

/// `text` with the user information of a URL (`https://user:password@host/…`) replaced by
/// [`REDACTED`], or `None` when it is not a URL with user information.
pub fn redact_url_userinfo(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some(format!("{scheme}://{REDACTED}@{}", &rest[at + 1..]))
}

/// The user information of a URL, if it has any.
fn url_userinfo(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some(&rest[..at])
}

/// Registers every secret `options` holds (API keys, the gateway token, secret headers) for log
/// scrubbing ([`pincer_core::secret::register`]).
pub fn register_secrets(options: &crate::Options) {
    for (_, provider) in options.providers() {
        if let Some(userinfo) = provider.base_url.as_deref().and_then(url_userinfo) {
            pincer_core::secret::register(userinfo);
            if let Some((_, password)) = userinfo.split_once(':') {
                pincer_core::secret::register(password);
            }
        }
        if let Some(key) = &provider.api_key
            && !key.starts_with("${")
        {
            pincer_core::secret::register(key);
        }
        for (name, value) in provider.headers.iter().flatten() {
            if is_secret_key(name) {
                pincer_core::secret::register(value);
            }
        }
    }
    if let Some(token) = options
        .gateway
        .as_ref()
        .and_then(|g| g.auth.as_ref())
        .and_then(|a| a.token.as_deref())
    {
        pincer_core::secret::register(token);
    }
}

/// Replaces every secret in `value` (found under a secret key) with [`REDACTED`].
/// `key` is the name `value` itself sits under, if any.
pub fn redact_value(key: Option<&str>, value: &mut Value) {
    if key.is_some_and(is_secret_key) && !value.is_null() && !value.is_object() && !value.is_array()
    {
        *value = Value::String(REDACTED.to_owned());
        return;
    }
    match value {
        Value::String(text) => {
            if let Some(redacted) = redact_url_userinfo(text) {
                *text = redacted;
            }
        }
        Value::Object(map) => {
            let secret_container = key.is_some_and(is_secret_key);
            for (child_key, child) in map.iter_mut() {
                if secret_container && !child.is_object() && !child.is_array() && !child.is_null() {
                    *child = Value::String(REDACTED.to_owned());
                } else {
                    redact_value(Some(child_key), child);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                redact_value(key, item);
            }
        }
        _ => {}
    }
}

/// Masks, byte for byte, every value written after a secret key (`apiKey: "…"`), so that an
/// error excerpt can quote the file without quoting a secret. Byte offsets stay valid, line
/// breaks stay where they are, and the rest of the text is left readable. A quoted value that
/// continues over several lines (JSON5's `\` line continuation) is masked on every line.
pub fn mask_secret_lines(text: &str) -> String {
    mask_url_userinfo(&mask_line(text))
}

/// Masks, byte for byte, the user information of every URL in `text`.
fn mask_url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        let (head, tail) = rest.split_at(found + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'' | '`') || c.is_whitespace())
            .unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(at) => {
                for c in tail[..at].chars() {
                    out.extend(std::iter::repeat_n('*', c.len_utf8()));
                }
                rest = &tail[at..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

fn mask_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(colon) = rest.find(':') {
        let before = rest[..colon].trim_end();
        let key = before
            .trim_end_matches(['"', '\''])
            .rsplit(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '$')))
            .next()
            .unwrap_or_default();
        out.push_str(&rest[..=colon]);
        rest = &rest[colon + 1..];
        if key.is_empty() || !is_secret_key(key) {
            continue;
        }
        let value_len = value_extent(rest);
        for c in rest[..value_len].chars() {
            if c.is_whitespace() {
                out.push(c);
            } else {
                out.extend(std::iter::repeat_n('*', c.len_utf8()));
            }
        }
        rest = &rest[value_len..];
    }
    out.push_str(rest);
    out
}

/// Length in bytes of the value at the start of `text` (after optional whitespace): a quoted
/// string through its closing quote (or the end of the line), else up to `,`, `}`, `]`.
fn value_extent(text: &str) -> usize {
    let start = text.len() - text.trim_start().len();
    let mut chars = text[start..].char_indices();
    match chars.next() {
        Some((_, quote @ ('"' | '\''))) => {
            let mut escaped = false;
            for (i, c) in chars {
                if escaped {
                    // `\` + line break continues the string on the next line.
                    escaped = c == '\r';
                } else if c == '\\' {
                    escaped = true;
                } else if c == quote {
                    return start + i + c.len_utf8();
                } else if c == '\n' || c == '\r' {
                    // An unterminated string ends with its line.
                    return start + i;
                }
            }
            text.len()
        }
        Some(_) => text[start..]
            .find([',', '}', ']', '\n', '\r'])
            .map_or(text.len(), |i| start + i),
        None => text.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn knows_secret_keys() {
        for key in [
            "apiKey",
            "token",
            "x-api-key",
            "Authorization",
            "client_secret",
            "password",
            "AWS_SESSION_TOKEN",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "maxTokens",
            "defaultMaxTokens",
            "id",
            "baseUrl",
            "keys",
            "input",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn redacts_nested_secrets() {
        let mut value = json!({
            "providers": {"p": {"apiKey": "sk-123", "headers": {"x-api-key": "k", "x-trace": "t"}, "models": [{"maxTokens": 5}]}},
            "gateway": {"auth": {"token": "tok"}},
        });
        redact_value(None, &mut value);
        assert_eq!(
            value,
            json!({
                "providers": {"p": {"apiKey": REDACTED, "headers": {"x-api-key": REDACTED, "x-trace": "t"}, "models": [{"maxTokens": 5}]}},
                "gateway": {"auth": {"token": REDACTED}},
            })
        );
        let mut bare = json!("sk-123");
        redact_value(Some("apiKey"), &mut bare);
        assert_eq!(bare, json!(REDACTED));
    }

    #[test]
    fn redacts_the_user_information_of_urls() {
        let mut value = json!({"baseUrl": "https://user:pw-123@proxy.internal:8443/v1?x=@y", "other": "not a url @ all"});
        redact_value(None, &mut value);
        assert_eq!(
            value,
            json!({"baseUrl": "https://[redacted]@proxy.internal:8443/v1?x=@y", "other": "not a url @ all"})
        );
        assert_eq!(redact_url_userinfo("https://host/a@b"), None);
        let text = "{ baseUrl: 'https://user:pw-123@host/v1' }";
        let masked = mask_secret_lines(text);
        assert_eq!(masked, "{ baseUrl: 'https://***********@host/v1' }");
        assert_eq!(
            redact_url_userinfo("http://token@host").as_deref(),
            Some("http://[redacted]@host")
        );
    }

    #[test]
    fn masks_secret_values_in_text_keeping_offsets() {
        let text = "{\n  apiKey: \"sk-é1\",\n  'token': 'abc', maxTokens: 5,\n  baseUrl: \"https://x\"\n}\n";
        let masked = mask_secret_lines(text);
        assert_eq!(masked.len(), text.len());
        assert!(!masked.contains("sk-"));
        assert!(!masked.contains("abc"));
        assert!(masked.contains("baseUrl: \"https://x\""));
        assert!(masked.contains("maxTokens: 5,"), "{masked}");
        let continued = "{\n  apiKey: \"sk-first\\\nsk-second\\\r\nsk-third\",\n  api: 'x',\n}\n";
        let masked = mask_secret_lines(continued);
        assert_eq!(masked.len(), continued.len());
        assert_eq!(masked.lines().count(), continued.lines().count());
        for part in ["sk-first", "sk-second", "sk-third"] {
            assert!(!masked.contains(part), "{part} in {masked}");
        }
        assert!(masked.contains("api: 'x'"), "{masked}");
        let one_line = "{ apiKey: 'sk-1', api: 'nope', token: \"t\\\"x\" }";
        assert_eq!(
            mask_line(one_line),
            "{ apiKey: ******, api: 'nope', token: ****** }"
        );
    }
}
