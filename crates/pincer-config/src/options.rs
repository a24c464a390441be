//! The config file's schema: serde types mirroring the seed document's JSON5 blocks.
//!
//! Every field is optional, so that an empty file is a valid config; defaults live in the
//! accessor methods and in the constants below, and the JSON Schema generated from these types
//! (`pincer.schema.json` at the repository root) carries the same defaults and doc comments.
//! Unknown keys are rejected before these types are even reached (see `validate`), with a hint.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// Default `models.bedrockDiscovery.refreshInterval`, in seconds.
pub const DEFAULT_REFRESH_INTERVAL_SECS: u64 = 3600;
/// Default `models.bedrockDiscovery.defaultContextWindow`, in tokens.
pub const DEFAULT_CONTEXT_WINDOW: u32 = 32_000;
/// Default `models.bedrockDiscovery.defaultMaxTokens`, in tokens.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;
/// Default `gateway.bind`.
pub const DEFAULT_GATEWAY_BIND: &str = "127.0.0.1";
/// Default `gateway.port`.
pub const DEFAULT_GATEWAY_PORT: u16 = 4000;
/// Default `gateway.requestTimeout`, in seconds.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 600;
/// Default `gateway.shutdownTimeout`, in seconds.
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 30;
/// Default `gateway.remoteImages.maxBytes`.
pub const DEFAULT_REMOTE_IMAGE_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// Default `gateway.remoteImages.timeout`, in seconds.
pub const DEFAULT_REMOTE_IMAGE_TIMEOUT_SECS: u64 = 10;
/// Default `gateway.remoteImages.maxImages`.
pub const DEFAULT_REMOTE_IMAGE_MAX_COUNT: u32 = 20;
/// Default `gateway.remoteImages.maxTotalBytes`.
pub const DEFAULT_REMOTE_IMAGE_MAX_TOTAL_BYTES: u64 = 32 * 1024 * 1024;
/// Default `gateway.limits.headerTimeout`, in seconds.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// Default `gateway.limits.bodyTimeout`, in seconds.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 60;
/// Default `gateway.limits.maxRequestBytes`.
pub const DEFAULT_MAX_REQUEST_BYTES: u64 = 32 * 1024 * 1024;
/// Default `gateway.limits.maxConnections`.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10_000;
/// Default `gateway.limits.maxConcurrentRequests`.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: u32 = 1024;

/// Pincer's configuration file (`~/.pincer/config.json5`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "Pincer configuration")]
pub struct Options {
    /// Optional URL or path of this schema, for editors; ignored by Pincer.
    #[serde(rename = "$schema")]
    pub schema: Option<String>,
    /// Model providers and Bedrock model discovery.
    pub models: Option<ModelsOptions>,
    /// Defaults for agents: which model to use.
    pub agents: Option<AgentsOptions>,
    /// The OpenAI-compatible HTTP gateway (`pincer gateway`).
    pub gateway: Option<GatewayOptions>,
}

/// The `models` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelsOptions {
    /// Providers by id (e.g. `amazon-bedrock`); models are referred to as `<provider-id>/<model-id>`.
    pub providers: Option<IndexMap<String, ProviderOptions>>,
    /// Automatic discovery of Bedrock models through `bedrock:ListFoundationModels`.
    pub bedrock_discovery: Option<DiscoveryOptions>,
    /// Other names for models, as clients send them (`"claude-sonnet-4-5":
    /// "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"`); each is a model reference.
    /// Without one, an Anthropic model name (`claude-sonnet-4-5`, dated or not) names the catalog's
    /// Claude model of that name.
    pub aliases: Option<IndexMap<String, String>>,
}

/// The wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// Amazon Bedrock's Converse streaming API, through the AWS SDK.
    BedrockConverseStream,
    /// Any OpenAI-compatible chat-completions endpoint.
    OpenaiCompletions,
}

/// How Pincer authenticates to a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// The AWS SDK default credential chain (env keys, profile, SSO, web identity, ECS, IMDS,
    /// `AWS_BEARER_TOKEN_BEDROCK`).
    AwsSdk,
    /// A static API key sent as a bearer token (`apiKey`).
    ApiKey,
}

/// One provider under `models.providers.<id>`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderOptions {
    /// Endpoint URL. For Bedrock, `https://bedrock-runtime.<region>.amazonaws.com` selects the
    /// region; any other URL (VPC endpoint, proxy) is used as the endpoint.
    pub base_url: Option<String>,
    /// The API the provider speaks.
    pub api: Option<Api>,
    /// How to authenticate.
    pub auth: Option<Auth>,
    /// API key for `api-key` auth; `"${NAME}"` reads the environment variable `NAME`. Without
    /// it, `auth: "api-key"` reads `<PROVIDER_ID>_API_KEY` (e.g. `OPENROUTER_API_KEY`). Never
    /// printed by `pincer config get` without `--show-secrets`.
    pub api_key: Option<String>,
    /// Extra HTTP headers sent with every request.
    pub headers: Option<IndexMap<String, String>>,
    /// Models served by this provider.
    pub models: Option<Vec<ModelOptions>>,
    /// A Bedrock guardrail applied to every request to this provider's models (a model's own
    /// `guardrail` and a request's `guardrail` field take precedence).
    pub guardrail: Option<GuardrailOptions>,
    /// Bedrock service tier for this provider's models, unless a model or request says otherwise.
    pub service_tier: Option<ServiceTierOption>,
    /// Bedrock latency mode for this provider's models, unless a model or request says otherwise.
    pub latency: Option<LatencyOption>,
}

/// A Bedrock guardrail (`guardrailConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuardrailOptions {
    /// Guardrail id (`gr-…`, up to 64 characters) or ARN.
    #[schemars(length(min = 1, max = 2048))]
    pub identifier: String,
    /// `DRAFT` or a version number.
    #[schemars(regex(pattern = r"^(([1-9][0-9]{0,7})|(DRAFT))$"))]
    pub version: String,
    /// Whether Bedrock returns the guardrail's trace (it reaches clients in `guardrail_trace`).
    pub trace: Option<GuardrailTrace>,
    /// How a streamed answer is checked: `sync` holds text back until it is checked, `async`
    /// streams first and checks after.
    pub stream_processing_mode: Option<StreamProcessingMode>,
}

/// `guardrail.trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardrailTrace {
    /// Trace on.
    Enabled,
    /// Trace off.
    Disabled,
    /// Trace on, including what passed.
    EnabledFull,
}

impl GuardrailTrace {
    /// Bedrock's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailTrace::Enabled => "enabled",
            GuardrailTrace::Disabled => "disabled",
            GuardrailTrace::EnabledFull => "enabled_full",
        }
    }
}

/// `guardrail.streamProcessingMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StreamProcessingMode {
    /// Check before streaming.
    Sync,
    /// Stream, then check.
    Async,
}

impl StreamProcessingMode {
    /// Bedrock's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamProcessingMode::Sync => "sync",
            StreamProcessingMode::Async => "async",
        }
    }
}

/// A Bedrock service tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceTierOption {
    /// Served first, at a higher price.
    Priority,
    /// Standard.
    Default,
    /// Served when capacity allows, at a lower price.
    Flex,
}

/// Bedrock's `performanceConfig.latency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LatencyOption {
    /// Standard.
    Standard,
    /// Latency-optimized inference, on the models that offer it.
    Optimized,
}

/// An input modality a model accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// Text.
    Text,
    /// Images (png, jpeg, gif, webp).
    Image,
    /// Documents (pdf, csv, doc, docx, xls, xlsx, html, txt, md).
    Document,
    /// Video.
    Video,
    /// Speech or other audio.
    Audio,
}

/// A model entry under `models.providers.<id>.models[]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelOptions {
    /// Model id as the provider knows it (Bedrock: a model id, inference-profile id or ARN).
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Whether the model can reason (extended thinking).
    pub reasoning: Option<bool>,
    /// Accepted input modalities.
    pub input: Option<Vec<InputKind>>,
    /// Prices in USD per 1M tokens.
    pub cost: Option<CostOptions>,
    /// Context window, in tokens.
    #[schemars(range(min = 1))]
    pub context_window: Option<u32>,
    /// Maximum output tokens per response.
    #[schemars(range(min = 1))]
    pub max_tokens: Option<u32>,
    /// A Bedrock guardrail for this model (overrides the provider's).
    pub guardrail: Option<GuardrailOptions>,
    /// Bedrock service tier for this model (overrides the provider's).
    pub service_tier: Option<ServiceTierOption>,
    /// Bedrock latency mode for this model (overrides the provider's).
    pub latency: Option<LatencyOption>,
}

/// Prices in USD per 1M tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CostOptions {
    /// Input tokens.
    #[schemars(range(min = 0))]
    pub input: Option<f64>,
    /// Output tokens.
    #[schemars(range(min = 0))]
    pub output: Option<f64>,
    /// Tokens read from the prompt cache.
    #[schemars(range(min = 0))]
    pub cache_read: Option<f64>,
    /// Tokens written to the prompt cache.
    #[schemars(range(min = 0))]
    pub cache_write: Option<f64>,
    /// Prices of Bedrock's `priority` service tier (answers served in it are priced so).
    pub priority: Option<TierCostOptions>,
    /// Prices of Bedrock's `flex` service tier.
    pub flex: Option<TierCostOptions>,
}

/// Prices of one service tier, in USD per 1M tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierCostOptions {
    /// Input tokens.
    #[schemars(range(min = 0))]
    pub input: Option<f64>,
    /// Output tokens.
    #[schemars(range(min = 0))]
    pub output: Option<f64>,
    /// Tokens read from the prompt cache.
    #[schemars(range(min = 0))]
    pub cache_read: Option<f64>,
    /// Tokens written to the prompt cache.
    #[schemars(range(min = 0))]
    pub cache_write: Option<f64>,
}

/// The `models.bedrockDiscovery` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscoveryOptions {
    /// Turn discovery on or off. Default: on when AWS credentials are present (any source of the
    /// SDK chain, including an instance role).
    pub enabled: Option<bool>,
    /// Region to discover in. Default: `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `us-east-1`.
    pub region: Option<String>,
    /// Keep only models whose provider name or id prefix matches one of these, case-insensitively
    /// (e.g. `anthropic`, `amazon`, `mistral`).
    pub provider_filter: Option<Vec<String>>,
    /// How long discovered models are cached, in seconds; `0` disables the cache.
    #[schemars(extend("default" = DEFAULT_REFRESH_INTERVAL_SECS))]
    pub refresh_interval: Option<u64>,
    /// Context window for discovered models Pincer knows nothing about.
    #[schemars(range(min = 1), extend("default" = DEFAULT_CONTEXT_WINDOW))]
    pub default_context_window: Option<u32>,
    /// Maximum output tokens for discovered models Pincer knows nothing about.
    #[schemars(range(min = 1), extend("default" = DEFAULT_MAX_TOKENS))]
    pub default_max_tokens: Option<u32>,
}

impl DiscoveryOptions {
    /// `refreshInterval`, defaulted.
    pub fn refresh_interval_secs(&self) -> u64 {
        self.refresh_interval
            .unwrap_or(DEFAULT_REFRESH_INTERVAL_SECS)
    }

    /// `defaultContextWindow`, defaulted.
    pub fn default_context_window(&self) -> u32 {
        self.default_context_window
            .unwrap_or(DEFAULT_CONTEXT_WINDOW)
    }

    /// `defaultMaxTokens`, defaulted.
    pub fn default_max_tokens(&self) -> u32 {
        self.default_max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)
    }
}

/// The `agents` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentsOptions {
    /// Settings every agent starts from.
    pub defaults: Option<AgentDefaults>,
}

/// The `agents.defaults` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentDefaults {
    /// The model used when none is named.
    pub model: Option<AgentModel>,
}

/// The `agents.defaults.model` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentModel {
    /// The default model, as `provider/model-id`.
    pub primary: Option<String>,
    /// Models tried in order when the primary fails before answering, each `provider/model-id`.
    pub fallbacks: Option<Vec<String>>,
}

/// The `gateway` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayOptions {
    /// Address to listen on. A non-loopback address requires `auth.token`.
    #[schemars(extend("default" = DEFAULT_GATEWAY_BIND))]
    pub bind: Option<String>,
    /// TCP port to listen on; `0` picks a free port.
    #[schemars(extend("default" = DEFAULT_GATEWAY_PORT))]
    pub port: Option<u16>,
    /// Client authentication.
    pub auth: Option<GatewayAuthOptions>,
    /// Seconds a request may wait for its first output (streaming) or its whole answer
    /// (non-streaming) before it fails with 504.
    #[schemars(range(min = 1), extend("default" = DEFAULT_REQUEST_TIMEOUT_SECS))]
    pub request_timeout: Option<u64>,
    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM before the gateway exits.
    #[schemars(range(min = 0), extend("default" = DEFAULT_SHUTDOWN_TIMEOUT_SECS))]
    pub shutdown_timeout: Option<u64>,
    /// Whether request logs include message contents (off: only sizes, model and status).
    #[schemars(extend("default" = false))]
    pub log_contents: Option<bool>,
    /// Fetching `image_url`s that are `http(s)` URLs rather than `data:` URLs.
    pub remote_images: Option<RemoteImageOptions>,
    /// Limits that protect the gateway from slow, large or too many requests.
    pub limits: Option<LimitOptions>,
    /// Traces exported with OpenTelemetry (off unless an endpoint is set here or in
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub telemetry: Option<TelemetryOptions>,
    /// Where managed keys, their limits and the spend of every request are kept.
    pub database: Option<DatabaseOptions>,
}

/// The `gateway.database` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatabaseOptions {
    /// `sqlite://PATH` (one machine) or `postgres://USER:PASSWORD@HOST:PORT/DB` (replicas that
    /// share keys, limits and spend). Default: the SQLite file `PINCER_HOME/pincer.db`.
    /// `PINCER_DATABASE_URL` overrides it. A password in it is never printed.
    #[schemars(regex(pattern = r"^(sqlite|postgres|postgresql):"))]
    pub url: Option<String>,
}

/// The `gateway.telemetry` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TelemetryOptions {
    /// Base URL of an OTLP/HTTP receiver (traces go to `{otlpEndpoint}/v1/traces`, protobuf);
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` take precedence.
    #[schemars(regex(pattern = r"^https?://"))]
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the exported spans (`OTEL_SERVICE_NAME` takes precedence).
    #[schemars(extend("default" = "pincer"))]
    pub service_name: Option<String>,
}

/// The `gateway.limits` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitOptions {
    /// Seconds a client has to send a request's headers (also how long an idle keep-alive
    /// connection stays open); the connection is closed after.
    #[schemars(range(min = 1), extend("default" = DEFAULT_HEADER_TIMEOUT_SECS))]
    pub header_timeout: Option<u64>,
    /// Seconds a client has to send a request's whole body; 408 after.
    #[schemars(range(min = 1), extend("default" = DEFAULT_BODY_TIMEOUT_SECS))]
    pub body_timeout: Option<u64>,
    /// Largest request body accepted, in bytes (images and documents travel inline); 413 above.
    #[schemars(range(min = 1024), extend("default" = DEFAULT_MAX_REQUEST_BYTES))]
    pub max_request_bytes: Option<u64>,
    /// Open client connections; further connections wait in the listen queue until one closes.
    #[schemars(range(min = 1), extend("default" = DEFAULT_MAX_CONNECTIONS))]
    pub max_connections: Option<u32>,
    /// API requests being read, converted or waiting for their first output at once (a
    /// streamed answer leaves the count once it starts); more are refused at once with 503 and
    /// `retry-after`.
    #[schemars(range(min = 1), extend("default" = DEFAULT_MAX_CONCURRENT_REQUESTS))]
    pub max_concurrent_requests: Option<u32>,
}

impl LimitOptions {
    /// `headerTimeout`, defaulted.
    pub fn header_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.header_timeout.unwrap_or(DEFAULT_HEADER_TIMEOUT_SECS))
    }

    /// `bodyTimeout`, defaulted.
    pub fn body_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.body_timeout.unwrap_or(DEFAULT_BODY_TIMEOUT_SECS))
    }

    /// `maxRequestBytes`, defaulted.
    pub fn max_request_bytes(&self) -> usize {
        usize::try_from(self.max_request_bytes.unwrap_or(DEFAULT_MAX_REQUEST_BYTES))
            .unwrap_or(usize::MAX)
    }

    /// `maxConnections`, defaulted.
    pub fn max_connections(&self) -> usize {
        self.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS) as usize
    }

    /// `maxConcurrentRequests`, defaulted.
    pub fn max_concurrent_requests(&self) -> usize {
        self.max_concurrent_requests
            .unwrap_or(DEFAULT_MAX_CONCURRENT_REQUESTS) as usize
    }
}

impl GatewayOptions {
    /// `bind`, defaulted.
    pub fn bind(&self) -> &str {
        self.bind.as_deref().unwrap_or(DEFAULT_GATEWAY_BIND)
    }

    /// `port`, defaulted.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_GATEWAY_PORT)
    }

    /// `requestTimeout`, defaulted.
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECS))
    }

    /// `shutdownTimeout`, defaulted.
    pub fn shutdown_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(
            self.shutdown_timeout
                .unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT_SECS),
        )
    }

    /// `remoteImages`, or its defaults (off) when absent.
    pub fn remote_images(&self) -> RemoteImageOptions {
        self.remote_images.clone().unwrap_or_default()
    }

    /// `database.url`, if set.
    pub fn database_url(&self) -> Option<&str> {
        self.database.as_ref()?.url.as_deref()
    }

    /// `limits`, or their defaults when absent.
    pub fn limits(&self) -> LimitOptions {
        self.limits.clone().unwrap_or_default()
    }
}

/// The `gateway.remoteImages` section. Off by default: when on, the gateway fetches URLs its
/// clients name, so it refuses loopback, link-local (the instance-metadata address), private
/// and other non-public addresses, and bounds size and time.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteImageOptions {
    /// Whether to fetch remote images at all.
    #[schemars(extend("default" = false))]
    pub enabled: Option<bool>,
    /// Largest image fetched, in bytes.
    #[schemars(range(min = 1), extend("default" = DEFAULT_REMOTE_IMAGE_MAX_BYTES))]
    pub max_bytes: Option<u64>,
    /// Seconds a fetch may take.
    #[schemars(range(min = 1), extend("default" = DEFAULT_REMOTE_IMAGE_TIMEOUT_SECS))]
    pub timeout: Option<u64>,
    /// Most remote images one request may name; 400 above.
    #[schemars(range(min = 1), extend("default" = DEFAULT_REMOTE_IMAGE_MAX_COUNT))]
    pub max_images: Option<u32>,
    /// Most bytes the remote images of one request may add up to; 400 above.
    #[schemars(range(min = 1), extend("default" = DEFAULT_REMOTE_IMAGE_MAX_TOTAL_BYTES))]
    pub max_total_bytes: Option<u64>,
    /// Hosts (names or IP addresses) exempt from the address check, for images served inside
    /// your own network. Each one lets the gateway reach that host for its clients.
    pub allow_hosts: Option<Vec<String>>,
}

impl RemoteImageOptions {
    /// `enabled`, defaulted.
    pub fn enabled(&self) -> bool {
        self.enabled.unwrap_or(false)
    }

    /// `maxBytes`, defaulted.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes.unwrap_or(DEFAULT_REMOTE_IMAGE_MAX_BYTES)
    }

    /// `timeout`, defaulted.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout.unwrap_or(DEFAULT_REMOTE_IMAGE_TIMEOUT_SECS))
    }

    /// `maxImages`, defaulted.
    pub fn max_images(&self) -> usize {
        self.max_images.unwrap_or(DEFAULT_REMOTE_IMAGE_MAX_COUNT) as usize
    }

    /// `maxTotalBytes`, defaulted.
    pub fn max_total_bytes(&self) -> u64 {
        self.max_total_bytes
            .unwrap_or(DEFAULT_REMOTE_IMAGE_MAX_TOTAL_BYTES)
    }
}

/// The `gateway.auth` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayAuthOptions {
    /// Bearer token clients must send (`Authorization: Bearer <token>`): at least 16 visible
    /// ASCII characters. `PINCER_GATEWAY_TOKEN` overrides it. Never printed without
    /// `--show-secrets`.
    pub token: Option<String>,
}

impl Options {
    /// `models.bedrockDiscovery`, or its defaults when absent.
    pub fn discovery(&self) -> DiscoveryOptions {
        self.models
            .as_ref()
            .and_then(|models| models.bedrock_discovery.clone())
            .unwrap_or_default()
    }

    /// `gateway`, or its defaults when absent.
    pub fn gateway(&self) -> GatewayOptions {
        self.gateway.clone().unwrap_or_default()
    }

    /// The configured providers, in file order.
    pub fn providers(&self) -> impl Iterator<Item = (&str, &ProviderOptions)> {
        self.models
            .iter()
            .filter_map(|models| models.providers.as_ref())
            .flat_map(|providers| providers.iter().map(|(id, p)| (id.as_str(), p)))
    }

    /// The configured alias for `name`, if any.
    pub fn alias(&self, name: &str) -> Option<&str> {
        self.models
            .as_ref()?
            .aliases
            .as_ref()?
            .get(name)
            .map(String::as_str)
    }

    /// `agents.defaults.model`, if set.
    pub fn default_model(&self) -> Option<&AgentModel> {
        self.agents.as_ref()?.defaults.as_ref()?.model.as_ref()
    }
}
