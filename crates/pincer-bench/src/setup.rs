//! Starting what a scenario measures: the twin with given reply-shaping flags, and a Pincer
//! gateway in front of it with a fresh home, the twin's credentials and endpoints, and a token.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::procs::Server;

/// The model every scenario asks: on demand in the twin's catalogue.
pub(crate) const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
/// The token the bench gateway requires.
pub(crate) const TOKEN: &str = "bench-gateway-token-0001";

/// Where the binaries are.
#[derive(Debug, Clone)]
pub(crate) struct Bins {
    /// `pincer`.
    pub(crate) pincer: PathBuf,
    /// `bedrock-twin`.
    pub(crate) twin: PathBuf,
}

impl Bins {
    /// The binaries in `dir` (a release target folder).
    pub(crate) fn in_dir(dir: &Path) -> Self {
        Self {
            pincer: dir.join("pincer"),
            twin: dir.join("bedrock-twin"),
        }
    }
}

/// Starts a twin with `flags` (e.g. `--zero-delay`).
pub(crate) fn twin(bins: &Bins, flags: &[&str]) -> Result<Server> {
    let mut command = Command::new(&bins.twin);
    command.args(["--port", "0"]).args(flags);
    Server::start("bedrock-twin", command, "bedrock-twin listening on ", None)
}

/// The environment of a Pincer process pointed at `twin_url`, with its home under `work`.
pub(crate) fn pincer_command(bins: &Bins, twin_url: &str, work: &Path) -> Command {
    let mut command = Command::new(&bins.pincer);
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", work)
        .env("PINCER_HOME", work.join("pincer"))
        .env("AWS_ACCESS_KEY_ID", "AKIDTWIN")
        .env("AWS_SECRET_ACCESS_KEY", "twin-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_BEDROCK", twin_url)
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", twin_url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", work.join("aws-config-absent"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            work.join("aws-credentials-absent"),
        );
    command
}

/// Writes the config every bench Pincer uses: discovery on, [`MODEL`] as the default.
pub(crate) fn write_config(work: &Path) -> Result<()> {
    std::fs::create_dir_all(work.join("pincer"))?;
    std::fs::write(
        work.join("pincer/config.json5"),
        format!(
            "{{ models: {{ bedrockDiscovery: {{ enabled: true }} }}, agents: {{ defaults: {{ model: {{ primary: \"amazon-bedrock/{MODEL}\" }} }} }}, gateway: {{ limits: {{ maxConnections: 20000, maxConcurrentRequests: 20000 }} }} }}\n"
        ),
    )?;
    Ok(())
}

/// Starts `pincer gateway` in front of `twin_url`; its logs go to `work/gateway.log`.
pub(crate) fn gateway(bins: &Bins, twin_url: &str, work: &Path) -> Result<Server> {
    write_config(work)?;
    gateway_with(bins, twin_url, work, &[])
}

/// [`gateway`] with a config already written and `envs` added to its environment.
pub(crate) fn gateway_with(
    bins: &Bins,
    twin_url: &str,
    work: &Path,
    envs: &[(&str, &str)],
) -> Result<Server> {
    let mut command = pincer_command(bins, twin_url, work);
    command.envs(envs.iter().copied());
    // The same bearer token the direct requests carry: the twin then does the same work for
    // both paths, and the difference is the gateway's.
    command
        .args(["gateway", "--port", "0"])
        .env("PINCER_GATEWAY_TOKEN", TOKEN)
        .env("AWS_BEARER_TOKEN_BEDROCK", "twin-bearer");
    Server::start(
        "pincer gateway",
        command,
        "pincer gateway listening on ",
        Some(&work.join("gateway.log")),
    )
}
