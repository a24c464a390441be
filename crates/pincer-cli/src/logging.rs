//! Diagnostic logs on stderr through `tracing`: the filter comes from `PINCER_LOG` (else
//! `RUST_LOG`, else the command's default), the format from `PINCER_LOG_FORMAT` (`text` or
//! `json`). Command output never goes through here; it goes through the [`crate::Printer`].
//!
//! Two things hold whatever filter is asked for:
//! - Targets known to print secrets or message contents are capped at `debug`, below the level
//!   where they do: the AWS SDK's environment loader prints every variable it reads with its
//!   value (`AWS_BEARER_TOKEN_BEDROCK` included) at `trace`, and its event-stream receiver prints
//!   each streamed frame, answer text included. Contents reach the log only through the
//!   gateway's own `logContents` lines.
//! - Every line is scrubbed of the secrets the process knows (see
//!   [`pincer_core::secret::register`]) before it is written.

use std::io::Write;

use pincer_core::env::EnvVars;
use tracing_subscriber::filter::{FilterExt as _, LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Layer;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry};

/// Targets capped at `debug`, with why.
const CAPPED: [(&str, &str); 3] = [
    (
        "aws_runtime::env_config",
        "prints environment values, secrets included",
    ),
    (
        "aws_smithy_http::event_stream",
        "prints streamed frames, answer text included",
    ),
    (
        "aws_smithy_runtime::client::orchestrator",
        "prints deserialized responses",
    ),
];

/// Registers the secrets found in the environment, so that no log line can carry them.
pub fn register_environment_secrets() {
    for name in [
        EnvVars::AWS_SECRET_ACCESS_KEY,
        EnvVars::AWS_SESSION_TOKEN,
        EnvVars::AWS_BEARER_TOKEN_BEDROCK,
        EnvVars::PINCER_GATEWAY_TOKEN,
    ] {
        if let Some(value) = EnvVars::get_string(name) {
            pincer_core::secret::register(&value);
        }
    }
}

/// Installs the subscriber. `default` is the filter used when neither variable is set; `off`
/// logs nothing. An invalid filter falls back to `default`, and the warning is returned.
/// `tracer`, when traces are exported, receives the gateway's spans (`pincer_gateway::otel`)
/// whatever the log filter says.
pub fn init(default: &str, tracer: Option<opentelemetry_sdk::trace::SdkTracer>) -> Option<String> {
    register_environment_secrets();
    let directives = EnvVars::get_string(EnvVars::PINCER_LOG)
        .or_else(|| EnvVars::get_string(EnvVars::RUST_LOG))
        .unwrap_or_else(|| default.to_owned());
    if directives == "off" && tracer.is_none() {
        return None;
    }
    let mut warning = None;
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        warning = Some(format!(
            "ignoring the log filter `{directives}` ({e}); using `{default}`"
        ));
        EnvFilter::new(default)
    });
    let caps = CAPPED.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |caps, (target, _)| caps.with_target(*target, LevelFilter::DEBUG),
    );
    let json = json_format();
    if let Some(format) = EnvVars::get_string(EnvVars::PINCER_LOG_FORMAT)
        && !format.eq_ignore_ascii_case("json")
        && !format.eq_ignore_ascii_case("text")
    {
        warning = Some(format!(
            "ignoring PINCER_LOG_FORMAT=`{format}`: it is `text` or `json`; logging text"
        ));
    }
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = Vec::new();
    layers.push(if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(Scrubbed)
            .with_filter(filter.and(caps))
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(Scrubbed)
            .with_filter(filter.and(caps))
            .boxed()
    });
    if let Some(tracer) = tracer {
        layers.push(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                // Only the conventions' attributes: no timings, code locations, threads.
                .with_tracked_inactivity(false)
                .with_location(false)
                .with_threads(false)
                .with_target(false)
                .with_level(false)
                .with_filter(
                    Targets::new()
                        .with_target(pincer_gateway::http::telemetry::TARGET, LevelFilter::INFO),
                )
                .boxed(),
        );
    }
    // A second call (only possible in tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    warning
}

/// Whether logs are JSON (`PINCER_LOG_FORMAT=json`, in any case).
pub fn json_format() -> bool {
    EnvVars::get_string(EnvVars::PINCER_LOG_FORMAT).is_some_and(|f| f.eq_ignore_ascii_case("json"))
}

/// stderr, scrubbed of registered secrets. The formatter writes each event in one call, so a
/// secret is never split across two writes.
#[derive(Debug, Clone, Copy)]
struct Scrubbed;

impl<'a> MakeWriter<'a> for Scrubbed {
    type Writer = Scrubbed;

    fn make_writer(&'a self) -> Self::Writer {
        Scrubbed
    }
}

impl Write for Scrubbed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(pincer_core::secret::scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
