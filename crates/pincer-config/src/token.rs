//! The gateway token: what makes a token acceptable, and where it comes from
//! (`PINCER_GATEWAY_TOKEN`, else `gateway.auth.token`).
//!
//! One rule serves the config validator, `config set` and the environment variable: a token is
//! at least [`MIN_TOKEN_LEN`] visible ASCII characters. An empty or blank token is an error,
//! never "no token": otherwise `token: ""` would quietly turn authentication off.

use pincer_core::Secret;
use pincer_core::env::EnvVars;

use crate::options::Options;

/// The shortest gateway token accepted, in characters.
pub const MIN_TOKEN_LEN: usize = 16;

/// Why a token is refused, or `None` when it is acceptable.
pub fn token_problem(token: &str) -> Option<String> {
    if token.trim().is_empty() {
        return Some(
            "the gateway token is empty; an empty token would turn authentication off (remove the key to run without a token on loopback)".to_owned(),
        );
    }
    if let Some(c) = token.chars().find(|c| !c.is_ascii_graphic()) {
        let what = if c.is_whitespace() {
            "whitespace".to_owned()
        } else {
            format!("the character {c:?}")
        };
        return Some(format!(
            "the gateway token contains {what}; use only visible ASCII characters (it travels in an HTTP header)"
        ));
    }
    let length = token.chars().count();
    if length < MIN_TOKEN_LEN {
        return Some(format!(
            "the gateway token is {length} characters long; use at least {MIN_TOKEN_LEN} (e.g. `openssl rand -hex 32`)"
        ));
    }
    None
}

/// A token from `PINCER_GATEWAY_TOKEN` that breaks the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not usable: {reason}", EnvVars::PINCER_GATEWAY_TOKEN)]
pub struct TokenError {
    /// What is wrong with it.
    pub reason: String,
}

/// The token gateway clients must send: `PINCER_GATEWAY_TOKEN` when it is set (even to an empty
/// value, which is refused), else `gateway.auth.token` (already checked by validation).
pub fn gateway_token(options: &Options) -> Result<Option<Secret>, TokenError> {
    if let Some(value) = EnvVars::get_raw(EnvVars::PINCER_GATEWAY_TOKEN) {
        let value = value.into_string().map_err(|_| TokenError {
            reason: "it is not UTF-8".to_owned(),
        })?;
        if let Some(reason) = token_problem(&value) {
            return Err(TokenError { reason });
        }
        return Ok(Some(Secret::new(value)));
    }
    Ok(options
        .gateway
        .as_ref()
        .and_then(|g| g.auth.as_ref())
        .and_then(|a| a.token.as_deref())
        .filter(|token| token_problem(token).is_none())
        .map(Secret::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_sixteen_visible_characters_or_more() {
        for bad in [
            "",
            "   ",
            "\t\n",
            "short",
            "fifteen-chars-x",
            "has a space in it!",
            "tab\tinside-a-long-token",
        ] {
            assert!(token_problem(bad).is_some(), "{bad:?}");
        }
        for good in ["0123456789abcdef", "a-much-longer-token-with-symbols-!@#$%"] {
            assert_eq!(token_problem(good), None, "{good:?}");
        }
    }
}
