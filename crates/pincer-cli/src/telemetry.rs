//! The gateway's OpenTelemetry trace exporter: OTLP over HTTP/protobuf to the endpoint of
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is), `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `gateway.telemetry.otlpEndpoint` (both + `/v1/traces`). Without any, nothing is exported and
//! the gateway makes no spans. Spans are batched on the SDK's own thread (`OTEL_BSP_*` tune
//! it) and flushed when the gateway stops. The W3C trace context (`traceparent`) of a request
//! becomes its span's parent.

use anyhow::{Context, Result};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use pincer_config::options::TelemetryOptions;
use pincer_core::env::EnvVars;

/// Where traces go and under which service name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The URL spans are posted to.
    pub traces_url: String,
    /// `service.name`.
    pub service_name: String,
}

impl Settings {
    /// The settings from the environment and `options`, or `None` when no endpoint is set or
    /// the standard switches turn traces off (`OTEL_SDK_DISABLED=true`,
    /// `OTEL_TRACES_EXPORTER=none`). A protocol other than `http/protobuf` is refused: spans sent
    /// as protobuf over HTTP to a gRPC port would be lost without a word.
    pub fn resolve(options: &TelemetryOptions) -> Result<Option<Self>, String> {
        let var = |name: &str| EnvVars::get_string(name).filter(|v| !v.trim().is_empty());
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
            || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none"))
        {
            return Ok(None);
        }
        for name in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Some(protocol) = var(name) {
                if protocol.trim() != "http/protobuf" {
                    return Err(format!(
                        "{name}={protocol}: Pincer exports traces as http/protobuf only; point it at the receiver's OTLP/HTTP port (4318) and unset {name}"
                    ));
                }
                break;
            }
        }
        Ok(Self::endpoint(options))
    }

    fn endpoint(options: &TelemetryOptions) -> Option<Self> {
        let base = |url: &str| format!("{}/v1/traces", url.trim_end_matches('/'));
        let traces_url = EnvVars::get_string(EnvVars::OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
            .filter(|url| !url.is_empty())
            .or_else(|| {
                EnvVars::get_string(EnvVars::OTEL_EXPORTER_OTLP_ENDPOINT)
                    .filter(|url| !url.is_empty())
                    .map(|url| base(&url))
            })
            .or_else(|| options.otlp_endpoint.as_deref().map(base))?;
        let service_name = EnvVars::get_string(EnvVars::OTEL_SERVICE_NAME)
            .filter(|name| !name.is_empty())
            .or_else(|| options.service_name.clone())
            .unwrap_or_else(|| "pincer".to_owned());
        Some(Self {
            traces_url,
            service_name,
        })
    }
}

/// The exporter while the gateway runs; [`Exporter::shutdown`] flushes what is left.
#[derive(Debug)]
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// Starts exporting to `settings`; the tracer goes to the log subscriber.
    pub fn start(settings: &Settings) -> Result<(Self, SdkTracer)> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(settings.traces_url.clone())
            .build()
            .with_context(|| format!("exporting traces to {}", settings.traces_url))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(settings.service_name.clone())
                    .with_attribute(opentelemetry::KeyValue::new(
                        "service.version",
                        env!("CARGO_PKG_VERSION"),
                    ))
                    .build(),
            )
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let tracer = provider.tracer("pincer-gateway");
        Ok((Self { provider }, tracer))
    }

    /// Exports the spans still queued and stops (blocks until done or timed out).
    pub fn shutdown(self) -> Result<()> {
        self.provider.shutdown().context("flushing the last traces")
    }
}
