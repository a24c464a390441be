//! Every environment variable Pincer reads, in one place.
//!
//! Code never spells a variable's name as a string literal: it names a constant here, so that a
//! search for the constant finds every reader, and tests refer to the same constants.

use std::ffi::OsString;

/// Names of the environment variables Pincer reads, each documented with its effect.
#[derive(Debug)]
pub struct EnvVars;

impl EnvVars {
    /// Path of the config file. Overrides `PINCER_HOME/config.json5`.
    pub const PINCER_CONFIG: &'static str = "PINCER_CONFIG";
    /// Pincer's home folder (config, caches). Defaults to `~/.pincer`.
    pub const PINCER_HOME: &'static str = "PINCER_HOME";
    /// The user's home folder, used to find `~/.pincer`.
    pub const HOME: &'static str = "HOME";
    /// When set to `1`, tests rewrite committed generated files (JSON Schema, README reference)
    /// instead of failing when they drift.
    pub const PINCER_UPDATE_GENERATED: &'static str = "PINCER_UPDATE_GENERATED";
    /// Folder of recorded Bedrock responses used by tests. Defaults to `../shared/vectors`.
    pub const PINCER_VECTORS: &'static str = "PINCER_VECTORS";
    /// Token gateway clients must send; overrides `gateway.auth.token`.
    pub const PINCER_GATEWAY_TOKEN: &'static str = "PINCER_GATEWAY_TOKEN";
    /// URL of the key and spend database (`sqlite://PATH` or `postgres://…`); overrides
    /// `gateway.database.url`.
    pub const PINCER_DATABASE_URL: &'static str = "PINCER_DATABASE_URL";
    /// Log filter in `tracing` syntax (e.g. `info`, `pincer_gateway=debug`); the gateway logs
    /// requests at `info` by default, other commands log nothing unless asked.
    pub const PINCER_LOG: &'static str = "PINCER_LOG";
    /// Base URL of an OTLP/HTTP receiver; traces go to `{base}/v1/traces`.
    pub const OTEL_EXPORTER_OTLP_ENDPOINT: &'static str = "OTEL_EXPORTER_OTLP_ENDPOINT";
    /// The whole URL traces are posted to (before the base URL).
    pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &'static str =
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    /// `service.name` of the exported spans.
    pub const OTEL_SERVICE_NAME: &'static str = "OTEL_SERVICE_NAME";
    /// Log filter used when `PINCER_LOG` is unset.
    pub const RUST_LOG: &'static str = "RUST_LOG";
    /// Log format: `text` (default) or `json`.
    pub const PINCER_LOG_FORMAT: &'static str = "PINCER_LOG_FORMAT";
    /// AWS region (highest precedence after Pincer's own config).
    pub const AWS_REGION: &'static str = "AWS_REGION";
    /// AWS region, when `AWS_REGION` is unset.
    pub const AWS_DEFAULT_REGION: &'static str = "AWS_DEFAULT_REGION";
    /// Bedrock API key, sent as a bearer token.
    pub const AWS_BEARER_TOKEN_BEDROCK: &'static str = "AWS_BEARER_TOKEN_BEDROCK";
    /// Static AWS access key id.
    pub const AWS_ACCESS_KEY_ID: &'static str = "AWS_ACCESS_KEY_ID";
    /// Static AWS secret access key.
    pub const AWS_SECRET_ACCESS_KEY: &'static str = "AWS_SECRET_ACCESS_KEY";
    /// Session token for temporary AWS credentials.
    pub const AWS_SESSION_TOKEN: &'static str = "AWS_SESSION_TOKEN";
    /// Named AWS profile.
    pub const AWS_PROFILE: &'static str = "AWS_PROFILE";
    /// Disables the EC2 instance metadata service when `true`.
    pub const AWS_EC2_METADATA_DISABLED: &'static str = "AWS_EC2_METADATA_DISABLED";
    /// Set to `true` by CI: tests that would skip for a missing fixture fail instead.
    pub const CI: &'static str = "CI";

    /// Reads a variable; an unset or empty variable is `None`.
    #[allow(clippy::disallowed_methods)]
    pub fn get(name: &str) -> Option<OsString> {
        std::env::var_os(name).filter(|value| !value.is_empty())
    }

    /// Reads a variable, empty or not; only an unset variable is `None`. For variables whose
    /// empty value must be an error rather than "unset" (a token).
    #[allow(clippy::disallowed_methods)]
    pub fn get_raw(name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }

    /// Reads a variable as UTF-8 text; unset, empty or non-UTF-8 values are `None`.
    pub fn get_string(name: &str) -> Option<String> {
        Self::get(name).and_then(|value| value.into_string().ok())
    }

    /// Whether a variable is set to a true-ish value (`1`, `true`, `yes`, `on`).
    pub fn is_true(name: &str) -> bool {
        Self::get_string(name).is_some_and(|value| {
            matches!(
                value.to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        })
    }
}
