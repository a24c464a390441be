//! The error taxonomy every provider maps its failures to, so callers can act on a kind rather
//! than on message text: retry a `Throttled`, switch to the named profile on
//! `OnDemandNotSupported`, tell the user where to enable model access on `AccessDenied`.

use std::time::Duration;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Rate or token quota exceeded; retry later.
    Throttled {
        /// How long the provider asked to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The input does not fit the model's context window.
    ContextOverflow,
    /// The account has no access to this model (enable it in the console).
    AccessDenied,
    /// The model cannot be invoked on demand; use the named inference profile.
    OnDemandNotSupported {
        /// The inference-profile id to use instead, when known.
        profile_id: Option<String>,
    },
    /// The model id is unknown to the provider.
    InvalidModel,
    /// Credentials are missing, expired or not recognised.
    Auth,
    /// The request was rejected as malformed.
    Validation,
    /// The request is larger than the provider accepts (HTTP 413): too large a prompt, image
    /// or document.
    RequestTooLarge,
    /// The provider failed or is unavailable (5xx); retryable.
    ServiceUnavailable,
    /// The stream broke after it started (reset, mid-stream exception), or ended without an
    /// answer (no stop reason, or nothing at all).
    StreamInterrupted,
    /// The model produced output it could not finish validly (Bedrock's
    /// `malformed_model_output` and `malformed_tool_use`); another attempt may succeed.
    MalformedOutput,
    /// No answer, or no event, within the deadline.
    Timeout,
    /// A guardrail blocked the request or response.
    Guardrail,
    /// The provider's content filter blocked the response.
    ContentFiltered,
    /// The caller cancelled.
    Aborted,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// A short, stable name (`throttled`, `context_overflow`, …) for logs, JSON and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::Throttled { .. } => "throttled",
            ErrorKind::ContextOverflow => "context_overflow",
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::OnDemandNotSupported { .. } => "on_demand_not_supported",
            ErrorKind::InvalidModel => "invalid_model",
            ErrorKind::Auth => "auth",
            ErrorKind::Validation => "validation",
            ErrorKind::RequestTooLarge => "request_too_large",
            ErrorKind::ServiceUnavailable => "service_unavailable",
            ErrorKind::StreamInterrupted => "stream_interrupted",
            ErrorKind::MalformedOutput => "malformed_output",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Guardrail => "guardrail",
            ErrorKind::ContentFiltered => "content_filtered",
            ErrorKind::Aborted => "aborted",
            ErrorKind::Other => "other",
        }
    }

    /// Whether trying again (before any output) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ErrorKind::Throttled { .. }
                | ErrorKind::ServiceUnavailable
                | ErrorKind::Timeout
                | ErrorKind::StreamInterrupted
                | ErrorKind::MalformedOutput
        )
    }

    /// Whether another model (a fallback) may succeed where this one failed.
    pub fn allows_fallback(&self) -> bool {
        self.is_retryable()
            || matches!(
                self,
                ErrorKind::AccessDenied
                    | ErrorKind::OnDemandNotSupported { .. }
                    | ErrorKind::InvalidModel
                    | ErrorKind::ContextOverflow
            )
    }
}

/// A provider failure: its kind, the provider's message, and advice for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}{}: {message}{}",
    kind.as_str(),
    retried.map(|r| format!(" after {} attempts", r.attempts)).unwrap_or_default(),
    hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
)]
pub struct ProviderError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The provider's message (never containing secrets).
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The retries already spent on this request, when the provider retried it.
    pub retried: Option<Retried>,
}

/// Retries a provider already made before giving up, so a client can be told not to pile its
/// own on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retried {
    /// Calls made, the first included.
    pub attempts: u32,
    /// The wait the provider would have made before another attempt.
    pub next_backoff: Duration,
}

impl ProviderError {
    /// An error of `kind` with the provider's `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
            retried: None,
        }
    }

    /// The same error, noting the retries spent on it.
    pub fn with_retried(mut self, retried: Option<Retried>) -> Self {
        self.retried = retried;
        self
    }

    /// The same error with advice.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}
