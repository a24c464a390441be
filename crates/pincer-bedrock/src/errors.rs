//! Bedrock failures → Pincer's error taxonomy.
//!
//! Classification goes by the error's code (`x-amzn-ErrorType` / the SDK's modelled variant)
//! first, and only inside `ValidationException` by Bedrock's message text, which is the only
//! place Bedrock distinguishes "input too long" from "model id invalid" from "use an inference
//! profile". A `ThrottlingException` is throttling whatever its text says ("Too many tokens" is a
//! rate limit, not a context overflow).

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_bedrockruntime::config::http::HttpResponse;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use pincer_core::{ErrorKind, ProviderError};

use crate::region::{profile_fits_region, profile_prefix};

/// Context for turning an error into advice: where and what was called.
#[derive(Debug, Clone, Copy)]
pub struct CallContext<'a> {
    /// The model id called.
    pub model: &'a str,
    /// The region called.
    pub region: &'a str,
}

/// Classifies a service error by its code, message and HTTP status.
pub fn classify(
    code: Option<&str>,
    message: &str,
    status: Option<u16>,
    context: CallContext<'_>,
) -> ProviderError {
    // `x-amzn-ErrorType` may carry a namespace after `:`; event-stream exceptions start lowercase.
    let normalized = code.map(|c| {
        let name = c.split(':').next().unwrap_or(c);
        let mut chars = name.chars();
        chars
            .next()
            .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default()
    });
    let code = normalized.as_deref();
    let kind = match code {
        Some(
            "ThrottlingException" | "ServiceQuotaExceededException" | "TooManyRequestsException",
        ) => ErrorKind::Throttled { retry_after: None },
        Some("AccessDeniedException") => ErrorKind::AccessDenied,
        Some(
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "IncompleteSignatureException"
            | "MissingAuthenticationTokenException"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken",
        ) => ErrorKind::Auth,
        Some("ResourceNotFoundException") => ErrorKind::InvalidModel,
        Some("ModelTimeoutException") => ErrorKind::Timeout,
        Some("ModelStreamErrorException") => ErrorKind::StreamInterrupted,
        Some(
            "InternalServerException"
            | "ServiceUnavailableException"
            | "ModelNotReadyException"
            | "ModelErrorException",
        ) => ErrorKind::ServiceUnavailable,
        Some("ValidationException") => classify_validation(message, context),
        _ => match status {
            Some(429) => ErrorKind::Throttled { retry_after: None },
            Some(408) => ErrorKind::Timeout,
            Some(413) => ErrorKind::RequestTooLarge,
            Some(401) => ErrorKind::Auth,
            Some(403) => ErrorKind::AccessDenied,
            Some(404) => ErrorKind::InvalidModel,
            Some(400) => classify_validation(message, context),
            Some(500..=599) => ErrorKind::ServiceUnavailable,
            _ => ErrorKind::Other,
        },
    };
    let message = if message.is_empty() {
        code.unwrap_or("unknown error").to_owned()
    } else {
        message.to_owned()
    };
    with_hint(ProviderError::new(kind, message), context)
}

fn classify_validation(message: &str, context: CallContext<'_>) -> ErrorKind {
    let lower = message.to_lowercase();
    if lower.contains("on-demand throughput isn") || lower.contains("on-demand throughput is not") {
        let model = message
            .split("model ID ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or(context.model);
        return ErrorKind::OnDemandNotSupported {
            profile_id: Some(format!("{}.{model}", profile_prefix(context.region))),
        };
    }
    if lower.contains("provided model identifier is invalid") {
        return ErrorKind::InvalidModel;
    }
    let overflow = [
        "input is too long",
        "too many total text bytes",
        "input tokens exceeded",
        "prompt is too long",
        "too many input tokens",
        "exceeds the context window",
        "context length",
        "maximum context length",
    ];
    if overflow.iter().any(|needle| lower.contains(needle)) {
        return ErrorKind::ContextOverflow;
    }
    ErrorKind::Validation
}

fn with_hint(error: ProviderError, context: CallContext<'_>) -> ProviderError {
    let hint = match &error.kind {
        ErrorKind::AccessDenied => Some(format!(
            "enable access to `{}` in the Amazon Bedrock console (Model access) for region {}, and check the IAM policy allows bedrock:InvokeModelWithResponseStream",
            context.model, context.region
        )),
        ErrorKind::OnDemandNotSupported {
            profile_id: Some(profile),
        } => Some(format!("call it through the inference profile `{profile}`")),
        ErrorKind::InvalidModel if !profile_fits_region(context.model, context.region) => {
            Some(format!(
                "`{}` is an inference profile for another geography; it cannot be called from {} (use the `{}.` profile, or set the region)",
                context.model,
                context.region,
                profile_prefix(context.region)
            ))
        }
        ErrorKind::InvalidModel => Some(format!(
            "check the model id; `pincer models list` shows the ids invocable in {}",
            context.region
        )),
        ErrorKind::ContextOverflow => {
            Some("shorten the conversation or use a model with a larger context window".to_owned())
        }
        ErrorKind::RequestTooLarge => Some(
            "the prompt is too large for Bedrock to accept: send fewer or smaller images and documents, or a shorter conversation"
                .to_owned(),
        ),
        ErrorKind::Throttled { .. } => Some(
            "Bedrock is rate limiting this account; retry later or request a quota increase"
                .to_owned(),
        ),
        _ => None,
    };
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// Classifies an SDK error of any Bedrock operation.
pub fn from_sdk_error<E>(err: &SdkError<E, HttpResponse>, context: CallContext<'_>) -> ProviderError
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let status = Some(service.raw().status().as_u16());
            classify(
                inner.code(),
                inner.message().unwrap_or_default(),
                status,
                context,
            )
        }
        SdkError::TimeoutError(_) => {
            ProviderError::new(ErrorKind::Timeout, "the request to Bedrock timed out")
        }
        SdkError::DispatchFailure(failure) => {
            if let Some(credentials) = find_source::<CredentialsError>(err) {
                return auth_error(credentials);
            }
            if failure.is_timeout() {
                ProviderError::new(ErrorKind::Timeout, "connecting to Bedrock timed out")
            } else {
                transport(
                    ErrorKind::ServiceUnavailable,
                    "could not reach Bedrock",
                    err,
                )
            }
        }
        SdkError::ResponseError(_) => transport(
            ErrorKind::StreamInterrupted,
            "the connection to Bedrock was lost before the answer began",
            err,
        ),
        _ => match find_source::<CredentialsError>(err) {
            Some(credentials) => auth_error(credentials),
            None => ProviderError::new(ErrorKind::Other, chain(err)),
        },
    }
}

/// A transport failure: a short, stable `message` for the caller, the detail (socket errors,
/// `os error 104`) in the log only.
pub fn transport(
    kind: ErrorKind,
    message: &'static str,
    err: &(dyn StdError + 'static),
) -> ProviderError {
    tracing::warn!(target: "pincer_bedrock::transport", detail = %chain(err), "{message}");
    ProviderError::new(kind, message)
}

/// Classifies a control-plane error (discovery), naming the permission on access denied.
pub fn from_control_error<E>(
    err: &SdkError<E, HttpResponse>,
    permission: &str,
    context: CallContext<'_>,
) -> ProviderError
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    with_permission_hint(from_sdk_error(err, context), permission)
}

/// On access denied, names the IAM permission the call needed.
pub fn with_permission_hint(mut error: ProviderError, permission: &str) -> ProviderError {
    if error.kind == ErrorKind::AccessDenied {
        error.hint = Some(format!(
            "the credentials in use are not allowed `{permission}`; add it to their IAM policy (or attach AmazonBedrockFullAccess)"
        ));
    }
    error
}

fn auth_error(error: &CredentialsError) -> ProviderError {
    let message = match error {
        CredentialsError::CredentialsNotLoaded(_) => "no AWS credentials were found".to_owned(),
        CredentialsError::ProviderTimedOut(_) => "resolving AWS credentials timed out".to_owned(),
        other => format!("AWS credentials could not be loaded: {}", chain(other)),
    };
    ProviderError::new(ErrorKind::Auth, message).with_hint(
        "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or AWS_BEARER_TOKEN_BEDROCK, or run where an instance/task role is available; `pincer models status` shows what was tried",
    )
}

fn find_source<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// An error and its causes on one line.
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut current = err.source();
    while let Some(cause) = current {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        current = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: CallContext<'static> = CallContext {
        model: "anthropic.claude-3-7-sonnet-20250219-v1:0",
        region: "us-east-1",
    };

    fn kind(code: &str, message: &str, status: u16) -> ErrorKind {
        classify(Some(code), message, Some(status), CONTEXT).kind
    }

    #[test]
    fn throttling_is_never_context_overflow() {
        assert_eq!(
            kind(
                "ThrottlingException",
                "Too many tokens, please wait before trying again.",
                429
            ),
            ErrorKind::Throttled { retry_after: None }
        );
        assert_eq!(
            kind(
                "ThrottlingException",
                "Too many requests, please wait before trying again.",
                429
            ),
            ErrorKind::Throttled { retry_after: None }
        );
    }

    #[test]
    fn validation_messages_are_told_apart() {
        assert_eq!(
            kind(
                "ValidationException",
                "The model returned the following errors: Input is too long for requested model.",
                400
            ),
            ErrorKind::ContextOverflow
        );
        assert_eq!(
            kind(
                "ValidationException",
                "The model returned the following errors: too many total text bytes: 10000002 > 9000000",
                400
            ),
            ErrorKind::ContextOverflow
        );
        assert_eq!(
            kind(
                "ValidationException",
                "The model returned the following errors: Input Tokens Exceeded: Number of input tokens exceeds maximum length.",
                400
            ),
            ErrorKind::ContextOverflow
        );
        assert_eq!(
            kind(
                "ValidationException",
                "The provided model identifier is invalid.",
                400
            ),
            ErrorKind::InvalidModel
        );
        assert_eq!(
            kind(
                "ValidationException",
                "The content field in the Message object at messages.1 is empty.",
                400
            ),
            ErrorKind::Validation
        );
        for apostrophe in ["'", "\u{2019}"] {
            let message = format!(
                "Invocation of model ID anthropic.claude-3-7-sonnet-20250219-v1:0 with on-demand throughput isn{apostrophe}t supported. Retry your request with the ID or ARN of an inference profile that contains this model."
            );
            let error = classify(
                Some("ValidationException"),
                &message,
                Some(400),
                CallContext {
                    model: "x",
                    region: "eu-west-1",
                },
            );
            assert_eq!(
                error.kind,
                ErrorKind::OnDemandNotSupported {
                    profile_id: Some("eu.anthropic.claude-3-7-sonnet-20250219-v1:0".into())
                }
            );
            assert!(
                error
                    .to_string()
                    .contains("eu.anthropic.claude-3-7-sonnet-20250219-v1:0")
            );
        }
    }

    #[test]
    fn profiles_of_another_geography_are_explained() {
        let context = CallContext {
            model: "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
            region: "us-east-1",
        };
        let error = classify(
            Some("ValidationException"),
            "The provided model identifier is invalid.",
            Some(400),
            context,
        );
        assert_eq!(error.kind, ErrorKind::InvalidModel);
        let hint = error.hint.unwrap();
        assert!(
            hint.contains("another geography") && hint.contains("`us.`"),
            "{hint}"
        );
    }

    #[test]
    fn discovery_access_denied_names_the_permission() {
        let denied = classify(
            Some("AccessDeniedException"),
            "User: arn:aws:iam::123:user/x is not authorized to perform: bedrock:ListFoundationModels",
            Some(403),
            CONTEXT,
        );
        let error = with_permission_hint(denied, "bedrock:ListFoundationModels");
        assert_eq!(error.kind, ErrorKind::AccessDenied);
        assert!(
            error
                .to_string()
                .contains("not allowed `bedrock:ListFoundationModels`"),
            "{error}"
        );
        let throttled = classify(Some("ThrottlingException"), "slow down", Some(429), CONTEXT);
        assert_eq!(with_permission_hint(throttled.clone(), "x"), throttled);
    }

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            kind(
                "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/",
                "You don't have access to the model with the specified model ID.",
                403
            ),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            kind(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                403
            ),
            ErrorKind::Auth
        );
        assert_eq!(
            kind(
                "ExpiredTokenException",
                "The security token included in the request is expired",
                403
            ),
            ErrorKind::Auth
        );
        assert_eq!(
            kind(
                "InvalidSignatureException",
                "The request signature we calculated does not match",
                403
            ),
            ErrorKind::Auth
        );
        assert_eq!(
            kind("ServiceUnavailableException", "", 503),
            ErrorKind::ServiceUnavailable
        );
        assert_eq!(kind("ModelTimeoutException", "", 408), ErrorKind::Timeout);
        assert_eq!(
            classify(None, "", Some(502), CONTEXT).kind,
            ErrorKind::ServiceUnavailable
        );
        let denied = classify(
            Some("AccessDeniedException"),
            "You don't have access",
            Some(403),
            CONTEXT,
        );
        assert!(
            denied.hint.as_deref().unwrap().contains("Model access"),
            "{denied}"
        );
    }
}
