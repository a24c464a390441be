//! Fault injection: chosen per request (`x-twin-fault: NAME[:ARG]` or a `~NAME[:ARG]` suffix on
//! the model id) or for every request (`--fault`). Also the benchmark knobs (reply length,
//! delta size, per-delta delay, zero-delay mode).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use http::HeaderMap;

use crate::error::AwsError;

/// Header that selects a fault for one request.
pub const FAULT_HEADER: &str = "x-twin-fault";
/// Header that separates `fail-first` counters between callers that send the same fault.
pub const FAULT_KEY_HEADER: &str = "x-twin-fault-key";

/// An exception Bedrock can send inside a ConverseStream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamException {
    /// `throttlingException`.
    Throttling,
    /// `modelStreamErrorException`.
    ModelStreamError,
    /// `internalServerException`.
    InternalServer,
    /// `serviceUnavailableException`.
    ServiceUnavailable,
    /// `validationException`.
    Validation,
}

impl StreamException {
    /// All of them.
    pub const ALL: [Self; 5] = [
        Self::Throttling,
        Self::ModelStreamError,
        Self::InternalServer,
        Self::ServiceUnavailable,
        Self::Validation,
    ];

    /// The `:exception-type` header value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Throttling => "throttlingException",
            Self::ModelStreamError => "modelStreamErrorException",
            Self::InternalServer => "internalServerException",
            Self::ServiceUnavailable => "serviceUnavailableException",
            Self::Validation => "validationException",
        }
    }

    /// The JSON payload of the exception frame.
    pub fn payload(self) -> serde_json::Value {
        match self {
            Self::ModelStreamError => serde_json::json!({
                "message": "Model stream error: the model stopped producing output.",
                "originalStatusCode": 424,
                "originalMessage": "The upstream model failed."
            }),
            other => serde_json::json!({ "message": other.as_http_error().message }),
        }
    }

    /// The same failure answered before the stream (used by `Converse`).
    pub fn as_http_error(self) -> AwsError {
        match self {
            Self::Throttling => AwsError::throttling(),
            Self::ModelStreamError => AwsError::model_error(),
            Self::InternalServer => AwsError::internal(),
            Self::ServiceUnavailable => AwsError::service_unavailable(),
            Self::Validation => {
                AwsError::validation("The model returned an invalid response mid-stream.")
            }
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(name))
    }
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 `ThrottlingException` before any stream.
    Throttle,
    /// A 5xx answer before any stream: 500 `InternalServerException` (default) or 503
    /// `ServiceUnavailableException` (`5xx:503`).
    ServerError(u16),
    /// An exception frame after `after` content deltas.
    Midstream {
        /// Which exception.
        exception: StreamException,
        /// How many deltas go out first.
        after: u32,
    },
    /// The connection is dropped after `after` content deltas.
    Reset {
        /// How many deltas go out first.
        after: u32,
    },
    /// No bytes for `secs` seconds after `messageStart`, or after `after` content deltas.
    Stall {
        /// Seconds of silence.
        secs: u64,
        /// Content deltas sent before the silence (`stall:SECS:N`; none by default).
        after: u32,
    },
    /// `ms` milliseconds before every delta.
    Slow {
        /// Delay per delta.
        ms: u64,
    },
    /// The first `failures` requests with the same key get a 429, later ones succeed.
    FailFirst {
        /// How many failures.
        failures: u32,
    },
    /// The connection is closed before any byte of a response.
    Hangup,
    /// 403 `AccessDeniedException`, as for a caller whose IAM policy lacks the action.
    Deny,
    /// The stream ends cleanly after its content, with no `messageStop` and no `metadata`
    /// (`Converse`: an answer without `stopReason`).
    Truncate,
    /// An answer with no content, `end_turn` and zero output tokens.
    Empty,
}

/// A fault name that is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fault `{0}` (expected throttle, 5xx[:500|503], midstream-<exception>[:N], reset[:N], stall[:SECS[:N]], slow[:MS], fail-first[:N], hangup, deny, truncate, empty)"
)]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let bad = || UnknownFault(spec.to_owned());
        let (name, arg) = match spec.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (spec, None),
        };
        let num = |default: u64| -> Result<u64, UnknownFault> {
            arg.map_or(Ok(default), |a| a.parse().map_err(|_| bad()))
        };
        let small = |default: u64| -> Result<u32, UnknownFault> {
            u32::try_from(num(default)?).map_err(|_| bad())
        };
        match name {
            "throttle" => Ok(Self::Throttle),
            "5xx" => match num(500)? {
                500 => Ok(Self::ServerError(500)),
                503 => Ok(Self::ServerError(503)),
                _ => Err(bad()),
            },
            "reset" => Ok(Self::Reset { after: small(1)? }),
            "stall" => {
                // `stall:SECS` or `stall:SECS:AFTER`.
                let (secs, after) = match arg.map(|a| a.split_once(':')) {
                    Some(Some((secs, after))) => (
                        secs.parse().map_err(|_| bad())?,
                        after.parse().map_err(|_| bad())?,
                    ),
                    _ => (num(30)?, 0),
                };
                Ok(Self::Stall { secs, after })
            }
            "slow" => Ok(Self::Slow { ms: num(100)? }),
            "fail-first" => Ok(Self::FailFirst {
                failures: small(1)?,
            }),
            "hangup" => Ok(Self::Hangup),
            "deny" => Ok(Self::Deny),
            "truncate" => Ok(Self::Truncate),
            "empty" => Ok(Self::Empty),
            other => {
                let exception = other
                    .strip_prefix("midstream-")
                    .and_then(StreamException::from_name)
                    .ok_or_else(bad)?;
                Ok(Self::Midstream {
                    exception,
                    after: small(1)?,
                })
            }
        }
    }
}

/// Per-key counters for `fail-first`.
#[derive(Debug, Default)]
pub struct FailCounters {
    seen: Mutex<HashMap<String, u32>>,
}

impl FailCounters {
    /// Counts one request under `key`; true while it should still fail.
    pub fn should_fail(&self, key: &str, failures: u32) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        let count = seen.entry(key.to_owned()).or_insert(0);
        *count = count.saturating_add(1);
        *count <= failures
    }
}

/// Applies the faults that answer before any body: throttle, 5xx, deny and fail-first.
/// (`hangup` is answered by [`hangup`]: it has no response at all.)
pub fn pre_response(fault: Fault, counters: &FailCounters, key: &str) -> Result<(), AwsError> {
    match fault {
        Fault::Throttle => Err(AwsError::throttling()),
        Fault::Deny => Err(AwsError::access_denied(
            "User: arn:aws:iam::123456789012:user/twin is not authorized to perform this action \
             because no identity-based policy allows it",
        )),
        Fault::ServerError(503) => Err(AwsError::service_unavailable()),
        Fault::ServerError(_) => Err(AwsError::internal()),
        Fault::FailFirst { failures } if counters.should_fail(key, failures) => {
            Err(AwsError::throttling())
        }
        _ => Ok(()),
    }
}

/// A "response" that closes the connection before its status line is written: the body fails
/// on its first poll, so the server drops the connection with nothing flushed.
pub fn hangup() -> axum::response::Response {
    let failing = futures_util::stream::iter([Err::<bytes::Bytes, std::io::Error>(
        std::io::Error::other("connection closed by fault injection"),
    )]);
    axum::response::IntoResponse::into_response(axum::body::Body::from_stream(failing))
}

/// Reads the fault header of a request.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<Fault>, AwsError> {
    match headers.get(FAULT_HEADER).and_then(|v| v.to_str().ok()) {
        None => Ok(None),
        Some(spec) => spec
            .trim()
            .parse()
            .map(Some)
            .map_err(|e: UnknownFault| AwsError::validation(e.to_string())),
    }
}

/// Knobs that shape scripted replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knobs {
    /// Exact number of text deltas in a reply (default: as many as the echo needs).
    pub deltas: Option<u32>,
    /// Characters per delta.
    pub delta_size: usize,
    /// Delay before each delta.
    pub delay: Duration,
    /// Ignore every configured delay (not faults) and send the stream in one write.
    pub zero_delay: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            deltas: None,
            delta_size: 12,
            delay: Duration::ZERO,
            zero_delay: false,
        }
    }
}

impl Knobs {
    /// Applies the per-request knob headers (`x-twin-deltas`, `x-twin-delta-size`,
    /// `x-twin-delay-ms`, `x-twin-zero-delay`) over these defaults.
    #[must_use]
    pub fn with_headers(mut self, headers: &HeaderMap) -> Self {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(n) = get("x-twin-deltas").and_then(|v| v.parse().ok()) {
            self.deltas = Some(n);
        }
        if let Some(n) = get("x-twin-delta-size").and_then(|v| v.parse::<usize>().ok()) {
            self.delta_size = n.max(1);
        }
        if let Some(ms) = get("x-twin-delay-ms").and_then(|v| v.parse().ok()) {
            self.delay = Duration::from_millis(ms);
        }
        if let Some(v) = get("x-twin-zero-delay") {
            self.zero_delay = matches!(v, "1" | "true" | "yes");
        }
        self
    }

    /// The delay actually applied before each delta.
    pub fn effective_delay(&self) -> Duration {
        if self.zero_delay {
            Duration::ZERO
        } else {
            self.delay
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_names_parse() {
        assert_eq!("throttle".parse::<Fault>().unwrap(), Fault::Throttle);
        assert_eq!("5xx:503".parse::<Fault>().unwrap(), Fault::ServerError(503));
        assert_eq!(
            "midstream-throttlingException:3".parse::<Fault>().unwrap(),
            Fault::Midstream {
                exception: StreamException::Throttling,
                after: 3
            }
        );
        assert_eq!(
            "fail-first:2".parse::<Fault>().unwrap(),
            Fault::FailFirst { failures: 2 }
        );
        assert_eq!("hangup".parse::<Fault>().unwrap(), Fault::Hangup);
        assert_eq!("deny".parse::<Fault>().unwrap(), Fault::Deny);
        assert!("midstream-bogus".parse::<Fault>().is_err());
        assert!("stall:x".parse::<Fault>().is_err());
        assert_eq!(
            "stall:5:2".parse::<Fault>().unwrap(),
            Fault::Stall { secs: 5, after: 2 }
        );
        assert_eq!(
            "stall".parse::<Fault>().unwrap(),
            Fault::Stall { secs: 30, after: 0 }
        );
    }

    #[test]
    fn fail_first_counts_per_key() {
        let c = FailCounters::default();
        assert!(c.should_fail("a", 2));
        assert!(c.should_fail("a", 2));
        assert!(!c.should_fail("a", 2));
        assert!(c.should_fail("b", 2));
    }
}
