//! The `bedrock-twin` binary: starts a twin on loopback, prints one line per endpoint
//! (`bedrock-twin listening on URL`, `imds on URL`, `ecs on URL`) and serves until SIGINT or
//! SIGTERM.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bedrock_twin::{AccessKey, Catalogue, Fault, Knobs, Twin, TwinConfig, TwinError};
use clap::Parser;

/// A faithful Amazon Bedrock emulator on loopback (control plane, runtime with event streams,
/// SigV4 and bearer auth, IMDSv2 and ECS credentials, fault injection, capture replay).
///
/// Out of the box it accepts the key pair AKIDTWIN / twin-secret and the bearer token
/// twin-bearer. Per request: `x-twin-fault: NAME[:ARG]` (or a `~NAME[:ARG]` suffix on the model
/// id) injects a fault; `x-twin-deltas`, `x-twin-delta-size`, `x-twin-delay-ms` and
/// `x-twin-zero-delay` shape the reply; `x-twin-replay: PATH` (or model id suffix
/// `~replay=PATH`) answers with the capture at PATH under --vectors, byte for byte.
/// Fault names: throttle, 5xx[:500|503], midstream-<exception>[:N] (throttlingException,
/// modelStreamErrorException, internalServerException, serviceUnavailableException,
/// validationException; after N deltas), reset[:N], stall[:SECS], slow[:MS], fail-first[:N].
#[derive(Debug, Parser)]
#[command(name = "bedrock-twin", version)]
struct Args {
    /// Port of the Bedrock API on 127.0.0.1 (0 picks a free port).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Also serve the Bedrock API over HTTPS on this port (0 picks a free port), with a
    /// self-signed certificate for 127.0.0.1 and localhost.
    #[arg(long)]
    tls_port: Option<u16>,
    /// Write the HTTPS certificate (PEM) to this file, for clients to trust.
    #[arg(long, requires = "tls_port")]
    tls_cert_out: Option<PathBuf>,
    /// Also serve IMDSv2 on this port (0 picks a free port).
    #[arg(long)]
    imds_port: Option<u16>,
    /// Also serve the ECS container-credentials endpoint on this port (0 picks a free port).
    #[arg(long)]
    ecs_port: Option<u16>,
    /// Token the ECS endpoint requires in the Authorization header.
    #[arg(long)]
    ecs_auth_token: Option<String>,
    /// Replace the built-in catalogue with this JSON file (`modelSummaries`,
    /// `inferenceProfileSummaries`, optional `twin.noAccess` and `twin.maxTokens`).
    #[arg(long)]
    catalogue: Option<PathBuf>,
    /// Apply this fault to every request (NAME[:ARG]).
    #[arg(long)]
    fault: Option<String>,
    /// Delay before each streamed delta, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Exact number of text deltas per reply (default: as many as the echoed text needs).
    #[arg(long)]
    deltas: Option<u32>,
    /// Characters per delta.
    #[arg(long, default_value_t = 12)]
    delta_size: usize,
    /// Ignore every configured delay and send each stream in one write (for benchmarks).
    #[arg(long)]
    zero_delay: bool,
    /// Accept this key pair too: ID:SECRET[:SESSION_TOKEN]. Repeatable.
    #[arg(long = "key")]
    keys: Vec<String>,
    /// Accept this bearer token too. Repeatable.
    #[arg(long = "bearer")]
    bearer: Vec<String>,
    /// Allowed clock skew of signatures, in seconds.
    #[arg(long, default_value_t = 300)]
    clock_skew_secs: u64,
    /// Lifetime of IMDS/ECS credentials, in seconds.
    #[arg(long, default_value_t = 21_600)]
    credential_ttl_secs: u64,
    /// Folder of recorded captures for replay.
    #[arg(long, env = "PINCER_VECTORS")]
    vectors: Option<PathBuf>,
}

impl Args {
    fn into_config(self) -> Result<TwinConfig, TwinError> {
        let catalogue = match &self.catalogue {
            Some(path) => Catalogue::from_file(path)?,
            None => Catalogue::built_in()?,
        };
        let mut config = TwinConfig::with_catalogue(catalogue);
        config.port = self.port;
        config.tls_port = self.tls_port;
        config.imds_port = self.imds_port;
        config.ecs_port = self.ecs_port;
        config.ecs_auth_token = self.ecs_auth_token;
        for spec in &self.keys {
            let key = AccessKey::parse(spec).ok_or_else(|| TwinError::InvalidArgument {
                what: "--key",
                value: spec.clone(),
                reason: "expected ID:SECRET[:SESSION_TOKEN]".into(),
            })?;
            config.keys.push(key);
        }
        config.bearer_tokens.extend(self.bearer);
        config.clock_skew = Duration::from_secs(self.clock_skew_secs);
        config.credential_ttl = Duration::from_secs(self.credential_ttl_secs);
        if let Some(spec) = &self.fault {
            let fault: Fault = spec.parse().map_err(|e| TwinError::InvalidArgument {
                what: "--fault",
                value: spec.clone(),
                reason: format!("{e}"),
            })?;
            config.fault = Some(fault);
        }
        config.knobs = Knobs {
            deltas: self.deltas,
            delta_size: self.delta_size.max(1),
            delay: Duration::from_millis(self.delay_ms),
            zero_delay: self.zero_delay,
        };
        config.vectors_dir = self
            .vectors
            .or_else(|| Some(PathBuf::from("../shared/vectors")).filter(|p| p.is_dir()));
        Ok(config)
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&TwinError::Serve(e)),
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(error: &TwinError) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "bedrock-twin: {error}");
    ExitCode::from(2)
}

async fn run(args: Args) -> Result<(), TwinError> {
    // Listen for signals before announcing the endpoints: whoever reads the lines may stop us
    // right away.
    let stopped = stop_signal()?;
    let cert_out = args.tls_cert_out.clone();
    let twin = Twin::start(args.into_config()?).await?;
    if let (Some(path), Some(pem)) = (&cert_out, twin.tls_cert_pem()) {
        std::fs::write(path, pem)?;
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "bedrock-twin listening on {}", twin.url())?;
        if let Some(url) = twin.tls_url() {
            writeln!(out, "tls on {url}")?;
        }
        if let Some(url) = twin.imds_url() {
            writeln!(out, "imds on {url}")?;
        }
        if let Some(url) = twin.ecs_url() {
            writeln!(out, "ecs on {url}")?;
        }
        out.flush()?;
    }
    stopped.await;
    twin.stop().await;
    Ok(())
}

/// Registers SIGTERM and SIGINT handlers now; the future resolves on the first of them.
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, TwinError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}
