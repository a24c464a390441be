//! Sampling values on the wire exactly as the client wrote them.
//!
//! The AWS SDK models `temperature` and `topP` as `f32` and writes their `f64` widening, so a
//! client's `0.2` reaches Bedrock as `0.20000000298023224`. An interceptor rewrites the two
//! numbers of the serialized `inferenceConfig` object to the client's values before the request
//! is signed (the signature then covers what is sent), adjusting `content-length`.

use aws_sdk_bedrockruntime::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_bedrockruntime::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_bedrockruntime::error::BoxError;
use aws_smithy_types::body::SdkBody;

/// The values to write.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sampling {
    /// `inferenceConfig.temperature`.
    pub temperature: Option<f64>,
    /// `inferenceConfig.topP`.
    pub top_p: Option<f64>,
}

impl Sampling {
    /// Whether there is anything to write.
    pub fn is_empty(&self) -> bool {
        self.temperature.is_none() && self.top_p.is_none()
    }
}

/// The interceptor.
#[derive(Debug, Clone)]
pub struct ExactSampling(pub Sampling);

impl Intercept for ExactSampling {
    fn name(&self) -> &'static str {
        "pincer::ExactSampling"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let Some(rewritten) = request
            .body()
            .bytes()
            .and_then(|body| rewrite(body, self.0))
        else {
            return Ok(());
        };
        let length = rewritten.len();
        *request.body_mut() = SdkBody::from(rewritten);
        request
            .headers_mut()
            .insert("content-length", length.to_string());
        Ok(())
    }
}

/// `body` with the numbers of `inferenceConfig.temperature` and `.topP` replaced, or `None` when
/// there is nothing to replace.
pub fn rewrite(body: &[u8], sampling: Sampling) -> Option<Vec<u8>> {
    if sampling.is_empty() {
        return None;
    }
    let key = b"\"inferenceConfig\":";
    let start = find(body, key, 0)? + key.len();
    let end = object_end(body, start)?;
    let mut replacements: Vec<(usize, usize, String)> = Vec::new();
    for (name, value) in [
        ("temperature", sampling.temperature),
        ("topP", sampling.top_p),
    ] {
        let Some(value) = value.and_then(serde_json::Number::from_f64) else {
            continue;
        };
        let field = format!("\"{name}\":");
        if let Some(at) = find(&body[..end], field.as_bytes(), start) {
            let number_start = at + field.len();
            let number_end = number_start
                + body[number_start..end]
                    .iter()
                    .take_while(|b| {
                        b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E')
                    })
                    .count();
            replacements.push((number_start, number_end, value.to_string()));
        }
    }
    if replacements.is_empty() {
        return None;
    }
    replacements.sort_by_key(|r| r.0);
    let mut out = Vec::with_capacity(body.len() + 16);
    let mut at = 0;
    for (from, to, text) in replacements {
        out.extend_from_slice(&body[at..from]);
        out.extend_from_slice(text.as_bytes());
        at = to;
    }
    out.extend_from_slice(&body[at..]);
    Some(out)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The index just past the JSON object that starts at `start` (after whitespace).
fn object_end(body: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in body.iter().enumerate().skip(start) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_values_replace_the_widened_ones() {
        let body = br#"{"messages":[{"content":[{"text":"\"temperature\":0.5 } {"}]}],"inferenceConfig":{"maxTokens":100,"temperature":0.20000000298023224,"topP":0.8999999761581421,"stopSequences":["}"]},"system":[]}"#;
        let out = rewrite(
            body,
            Sampling {
                temperature: Some(0.2),
                top_p: Some(0.9),
            },
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(r#""inferenceConfig":{"maxTokens":100,"temperature":0.2,"topP":0.9,"stopSequences":["}"]}"#), "{text}");
        // Text that looks like the field, inside the messages, is untouched.
        assert!(text.contains(r#"\"temperature\":0.5"#), "{text}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value["inferenceConfig"]["temperature"],
            serde_json::json!(0.2)
        );
        assert_eq!(rewrite(body, Sampling::default()), None);
    }
}
