//! The command-line interface, as clap types. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use pincer_core::ReasoningLevel;

use crate::printer::ColorMode;

const AFTER_HELP: &str = "\
Exit codes: 0 success, 1 runtime failure, 2 usage or config error, 130 interrupted (Ctrl-C).
Config file: $PINCER_CONFIG, else $PINCER_HOME/config.json5 (PINCER_HOME defaults to ~/.pincer).";

/// Pincer: a fast model gateway and CLI for Amazon Bedrock.
#[derive(Debug, Parser)]
#[command(name = "pincer", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file to use instead of $PINCER_CONFIG / ~/.pincer/config.json5.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print no status lines (results and errors still print).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorMode::Auto)]
    pub color: ColorMode,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read and edit the config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Chat with a model: one message with -m (or piped on stdin), else an interactive session.
    Chat(ChatArgs),
    /// List models and check the model setup.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Serve the API (OpenAI chat completions and Responses, Anthropic Messages, embeddings,
    /// models) in front of the catalog.
    Gateway(GatewayArgs),
    /// Manage the gateway's keys: each with its models, limits and budget.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// What was spent through the gateway: requests, tokens and cost by key, model or day.
    Usage(UsageArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout.
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout.
    Man,
}

/// `pincer completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `pincer gateway`
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// Address to listen on (default: `gateway.bind`, else 127.0.0.1). A non-loopback address
    /// requires a token (`gateway.auth.token` or PINCER_GATEWAY_TOKEN).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Port (default: `gateway.port`, else 4000); 0 picks a free port.
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
}

/// `pincer keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; its secret is printed once (only a hash is kept).
    Create(KeysCreateArgs),
    /// List the keys (never their secrets).
    List(KeysListArgs),
    /// Revoke a key: every gateway sharing the database refuses it at once.
    Revoke(KeysRevokeArgs),
    /// Give a key a new secret (printed once); the old secret stops working at once, and its
    /// limits, budget and spend stay.
    Rotate(KeysRotateArgs),
}

/// `pincer keys create`
#[derive(Debug, Args)]
pub struct KeysCreateArgs {
    /// A name for the key (letters, digits, `-`, `_`, `.`), unique among live keys.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Models the key may use, as glob patterns matched against `provider/model-id` or the bare
    /// id (`*claude*`, `amazon-bedrock/amazon.nova-*`); repeatable. Default: every model.
    #[arg(long, value_name = "PATTERN", num_args = 1..)]
    pub models: Vec<String>,
    /// Requests per minute.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rpm: Option<u64>,
    /// Tokens (input, output and cache) per minute.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub tpm: Option<u64>,
    /// Spend allowed per period, in US dollars, at the catalog's prices.
    #[arg(long, value_name = "USD", requires = "period")]
    pub budget: Option<f64>,
    /// When the budget resets (00:00 UTC; weeks start on Monday).
    #[arg(long, value_enum, requires = "budget")]
    pub period: Option<PeriodArg>,
    /// When the key stops working: a date (`2027-01-31`, 00:00 UTC), a time (RFC 3339) or a
    /// span from now (`30d`, `12h`).
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Print the key and its secret as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodArg {
    /// Resets every day.
    Day,
    /// Resets every Monday.
    Week,
    /// Resets on the 1st of every month.
    Month,
}

/// `pincer keys list`
#[derive(Debug, Args)]
pub struct KeysListArgs {
    /// Print `{"count", "keys": [...]}` as JSON.
    #[arg(long)]
    pub json: bool,
    /// Include revoked keys.
    #[arg(long)]
    pub all: bool,
}

/// `pincer keys revoke`
#[derive(Debug, Args)]
pub struct KeysRevokeArgs {
    /// The key's name or id.
    #[arg(value_name = "NAME")]
    pub key: String,
}

/// `pincer keys rotate`
#[derive(Debug, Args)]
pub struct KeysRotateArgs {
    /// The key's name or id.
    #[arg(value_name = "NAME")]
    pub key: String,
    /// Print the key and its new secret as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pincer usage`
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// What to group requests by.
    #[arg(long, value_enum, default_value_t = UsageBy::Key)]
    pub by: UsageBy,
    /// Only requests since: a date (`2026-11-01`, 00:00 UTC), a time (RFC 3339) or a span back
    /// from now (`7d`, `24h`).
    #[arg(long, value_name = "WHEN", default_value = "30d")]
    pub since: String,
    /// Print `{"since", "by", "rows": [...]}` as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UsageBy {
    /// Each key (and the admin token, and tokenless requests).
    Key,
    /// Each model.
    Model,
    /// Each UTC day.
    Day,
}

/// `pincer models …`
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the models: configured ones and those discovered in Bedrock.
    List(ModelsListArgs),
    /// Show the default model, credentials, region and discovery state.
    Status(ModelsStatusArgs),
}

/// `pincer models list`
#[derive(Debug, Args)]
pub struct ModelsListArgs {
    /// Print `{"count", "models": [...]}` as JSON.
    #[arg(long, conflicts_with = "plain")]
    pub json: bool,
    /// Print only the model keys (`provider/model-id`), one per line.
    #[arg(long)]
    pub plain: bool,
    /// Only models of this provider id.
    #[arg(long, value_name = "ID")]
    pub provider: Option<String>,
    /// Include discovered models that are hidden (no streaming, no text output, legacy,
    /// provisioned only), with the reason.
    #[arg(long)]
    pub all: bool,
    /// Refresh discovery even if the cache is fresh.
    #[arg(long)]
    pub refresh: bool,
}

/// `pincer models status`
#[derive(Debug, Args)]
pub struct ModelsStatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Send a minimal request to each configured model, in parallel, and report the outcome.
    #[arg(long)]
    pub probe: bool,
    /// Exit 1 when the default model is unusable.
    #[arg(long)]
    pub check: bool,
}

/// `pincer chat`
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The message to send (one turn). Without it, the message is read from stdin when piped,
    /// and an interactive session starts on a terminal.
    #[arg(short, long, value_name = "TEXT")]
    pub message: Option<String>,
    /// Model as `provider/model-id`; default: `agents.defaults.model.primary` (then its fallbacks).
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub model: Option<String>,
    /// System prompt.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Reasoning effort, for models that reason (shown dimmed on stderr).
    #[arg(long, value_enum, default_value_t = ReasoningLevel::Off)]
    pub thinking: ReasoningLevel,
    /// Attach an image (png, jpeg, gif, webp); repeatable.
    #[arg(long, value_name = "PATH")]
    pub image: Vec<std::path::PathBuf>,
    /// Attach a document (pdf, csv, doc, docx, xls, xlsx, html, txt, md; at most 5 of 4.5 MB
    /// each), for models that read documents; repeatable.
    #[arg(long, value_name = "PATH")]
    pub file: Vec<std::path::PathBuf>,
    /// Bedrock service tier (default: the config's, else Bedrock's standard tier).
    #[arg(long, value_enum, value_name = "TIER")]
    pub service_tier: Option<ServiceTierArg>,
    /// Output token limit (clamped to the model's).
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f64>,
    /// Print one JSON event per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Attempts per request, the first included; throttling, 5xx and connection errors are
    /// retried with jittered exponential backoff, only before any output.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub max_attempts: u32,
    /// Seconds without a stream event before the answer fails with a timeout.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub stall_timeout: u64,
    /// Hold a session even when stdin is not a terminal (one message per line).
    #[arg(short, long, conflicts_with = "message")]
    pub interactive: bool,
    /// Continue a conversation saved with `/save FILE` (its model, unless --model names one).
    #[arg(long, value_name = "FILE")]
    pub resume: Option<std::path::PathBuf>,
}

/// `--service-tier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServiceTierArg {
    /// Served first, at a higher price.
    Priority,
    /// Standard.
    Default,
    /// Served when capacity allows, at a lower price.
    Flex,
}

/// `pincer config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the config file's path.
    Path,
    /// Print a value (the whole config without a key path). Secrets are redacted.
    Get(ConfigGetArgs),
    /// Set a value, keeping the file's comments and formatting.
    Set(ConfigSetArgs),
    /// Remove a value.
    Unset(ConfigUnsetArgs),
    /// Check the config file and report every problem.
    Validate,
    /// Print the config's JSON Schema.
    Schema,
}

/// `pincer config get`
#[derive(Debug, Args)]
pub struct ConfigGetArgs {
    /// Key path, e.g. `models.bedrockDiscovery.region` or `models.providers["amazon-bedrock"].baseUrl`.
    pub key: Option<String>,
    /// Print JSON (strings quoted).
    #[arg(long)]
    pub json: bool,
    /// Print secrets (API keys, tokens) instead of redacting them.
    #[arg(long)]
    pub show_secrets: bool,
}

/// `pincer config set`
#[derive(Debug, Args)]
pub struct ConfigSetArgs {
    /// Key path, e.g. `models.bedrockDiscovery.enabled`.
    pub key: String,
    /// Value, parsed as JSON5 (`true`, `3600`, `["anthropic"]`, `{id: "m"}`); anything else is
    /// taken as a plain string.
    #[arg(allow_hyphen_values = true)]
    pub value: String,
    /// Require the value to be strict JSON; do not fall back to a plain string.
    #[arg(long)]
    pub strict_json: bool,
    /// Print the resulting file instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
}

/// `pincer config unset`
#[derive(Debug, Args)]
pub struct ConfigUnsetArgs {
    /// Key path to remove.
    pub key: String,
    /// Print the resulting file instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
}
