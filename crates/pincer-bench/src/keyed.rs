//! Keyed gateways: Pincer serving a managed key (with a rate limit, a token limit and a budget,
//! so every admission statement and every spend write runs), its keys and spend in SQLite (the
//! default file in its home) or in a PostgreSQL server of its own (Debian's packages, started
//! with `scripts/postgres` on loopback and stopped with the run). Measured beside the keyless
//! gateway, they show what a key adds to a request.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::contender::Contender;
use crate::load::Target;
use crate::setup::{self, Bins, MODEL};

/// The row name of the gateway with its keys in SQLite.
pub(crate) const SQLITE: &str = "pincer keyed sqlite";
/// The row name of the gateway with its keys in PostgreSQL.
pub(crate) const POSTGRES: &str = "pincer keyed postgres";

/// A PostgreSQL server of the bench's own, stopped (and its folder removed) on drop.
#[derive(Debug)]
pub(crate) struct Postgres {
    dir: PathBuf,
    /// Its URL.
    pub(crate) url: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres")
}

impl Postgres {
    /// Starts one in `dir`, or says why not (PostgreSQL not installed).
    pub(crate) fn start(dir: &Path) -> Result<Self> {
        let output = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir)
            .output()
            .context("running scripts/postgres")?;
        if !output.status.success() {
            bail!(
                "scripts/postgres start: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(Self {
            dir: dir.to_owned(),
            url: String::from_utf8(output.stdout)?.trim().to_owned(),
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

/// A gateway in front of `twin_url` with its home in `work` and its keys in `database` (the
/// home's SQLite file when `None`), called with a managed key.
pub(crate) fn start(
    name: &str,
    bins: &Bins,
    twin_url: &str,
    work: &Path,
    database: Option<&str>,
) -> Result<Contender> {
    setup::write_config(work)?;
    let mut create = setup::pincer_command(bins, twin_url, work);
    create.args([
        "keys",
        "create",
        "--name",
        "bench",
        "--rpm",
        "1000000000",
        "--tpm",
        "1000000000000",
        "--budget",
        "1000000",
        "--period",
        "month",
    ]);
    let mut envs = Vec::new();
    if let Some(url) = database {
        envs.push(("PINCER_DATABASE_URL", url));
    }
    create.envs(envs.iter().copied());
    let output = create.output().context("pincer keys create")?;
    if !output.status.success() {
        bail!(
            "pincer keys create: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let secret = String::from_utf8(output.stdout)?.trim().to_owned();
    let server = setup::gateway_with(bins, twin_url, work, &envs)?;
    let target = Target::OpenAi {
        url: server.url.clone(),
        model: format!("amazon-bedrock/{MODEL}"),
        token: secret,
    };
    Ok(Contender {
        name: name.to_owned(),
        server,
        target,
        compared: false,
    })
}
