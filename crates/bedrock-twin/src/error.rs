//! Errors: the AWS-shaped error answers the twin sends on the wire ([`AwsError`]) and the
//! errors that stop the twin from starting ([`TwinError`]).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The coral namespace AWS puts after the error name in `x-amzn-ErrorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// Errors raised by Bedrock itself (`com.amazon.bedrock`).
    Bedrock,
    /// Errors raised by the AWS front door, such as authentication (`com.amazon.coral.service`).
    Coral,
}

impl Namespace {
    fn uri(self) -> &'static str {
        match self {
            Self::Bedrock => "http://internal.amazon.com/coral/com.amazon.bedrock/",
            Self::Coral => "http://internal.amazon.com/coral/com.amazon.coral.service/",
        }
    }
}

/// An error answer as Bedrock sends it: a status, the `x-amzn-ErrorType` header and a JSON body
/// `{"message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type} ({status}): {message}")]
pub struct AwsError {
    /// HTTP status.
    pub status: StatusCode,
    /// The error shape name, for example `ValidationException`.
    pub error_type: &'static str,
    /// Where the error comes from.
    pub namespace: Namespace,
    /// The `message` of the JSON body.
    pub message: String,
}

/// Text of Bedrock's answer to an unknown model identifier.
pub const INVALID_MODEL_ID: &str = "The provided model identifier is invalid.";
/// Text of Bedrock's throttling answer.
pub const THROTTLING: &str = "Too many requests, please wait before trying again.";
/// Text of the answer to a key or token that AWS does not know.
pub const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
/// Text of the answer to an expired session token.
pub const EXPIRED_TOKEN: &str = "The security token included in the request is expired";
/// Text of the answer to a model the account has no access to.
pub const NO_MODEL_ACCESS: &str = "You don't have access to the model with the specified model ID.";
/// Text of the answer to a signature that does not match.
pub const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

impl AwsError {
    fn new(
        status: StatusCode,
        error_type: &'static str,
        namespace: Namespace,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error_type,
            namespace,
            message: message.into(),
        }
    }

    /// 400 `ValidationException`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            Namespace::Bedrock,
            message,
        )
    }

    /// 400 `ValidationException` for an unknown model identifier.
    pub fn invalid_model() -> Self {
        Self::validation(INVALID_MODEL_ID)
    }

    /// 404 `ResourceNotFoundException`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            Namespace::Bedrock,
            message,
        )
    }

    /// 429 `ThrottlingException`.
    pub fn throttling() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException",
            Namespace::Bedrock,
            THROTTLING,
        )
    }

    /// 500 `InternalServerException`.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            Namespace::Bedrock,
            "The system encountered an unexpected error during processing. Try your request again.",
        )
    }

    /// 503 `ServiceUnavailableException`.
    pub fn service_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            Namespace::Bedrock,
            "Bedrock is unable to process your request.",
        )
    }

    /// 424 `ModelErrorException`: how `Converse` reports a model that failed mid-answer.
    pub fn model_error() -> Self {
        Self::new(
            StatusCode::FAILED_DEPENDENCY,
            "ModelErrorException",
            Namespace::Bedrock,
            "The model encountered an error while processing the request. Try your request again.",
        )
    }

    /// 403 `AccessDeniedException` for a model without access.
    pub fn no_model_access() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            Namespace::Bedrock,
            NO_MODEL_ACCESS,
        )
    }

    /// 403 `AccessDeniedException` for an action the caller's policy does not allow.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            Namespace::Bedrock,
            message,
        )
    }

    /// 403 `UnrecognizedClientException`.
    pub fn unrecognized_client() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "UnrecognizedClientException",
            Namespace::Coral,
            INVALID_TOKEN,
        )
    }

    /// 403 `InvalidSignatureException`.
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "InvalidSignatureException",
            Namespace::Coral,
            message,
        )
    }

    /// 403 `ExpiredTokenException`.
    pub fn expired_token() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ExpiredTokenException",
            Namespace::Coral,
            EXPIRED_TOKEN,
        )
    }

    /// 403 `MissingAuthenticationTokenException`.
    pub fn missing_authentication() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            Namespace::Coral,
            "Missing Authentication Token",
        )
    }

    /// 400 `IncompleteSignatureException`.
    pub fn incomplete_signature(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "IncompleteSignatureException",
            Namespace::Coral,
            message,
        )
    }

    /// 400 `SerializationException` for a body that is not the expected JSON.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            Namespace::Coral,
            message,
        )
    }

    /// 413 for a request body over Bedrock's request size limit. Only the status is documented;
    /// the error type is the twin's stand-in, and clients must go by the status.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLargeException",
            Namespace::Coral,
            format!("Request size exceeds the maximum of {limit} bytes."),
        )
    }

    /// 404 `UnknownOperationException` for a path the service does not serve.
    pub fn unknown_operation() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            Namespace::Coral,
            "",
        )
    }

    /// The JSON body of this error.
    pub fn body(&self) -> String {
        serde_json::json!({ "message": self.message }).to_string()
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(value) =
            HeaderValue::from_str(&format!("{}:{}", self.error_type, self.namespace.uri()))
        {
            headers.insert("x-amzn-errortype", value);
        }
        response
    }
}

/// Why the twin could not start or load its configuration.
#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    /// A listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The catalogue file could not be read.
    #[error("cannot read catalogue {path}: {source}")]
    CatalogueRead {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The catalogue is not valid JSON of the expected shape.
    #[error("invalid catalogue {path}: {source}")]
    CatalogueParse {
        /// The file (or `built-in`).
        path: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A command-line value could not be understood.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidArgument {
        /// Which option.
        what: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS identity could not be made.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// An I/O error while serving.
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
}
