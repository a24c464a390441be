//! The comparison gateway: LiteLLM's proxy, installed from PyPI into its own virtualenv, set up
//! for the same twin and model, offline (local cost map, no telemetry), with as many worker
//! processes as asked (one per core by default, as its production advice says).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::contender::Contender;
use crate::load::Target;
use crate::procs::Server;
use crate::setup::MODEL;

/// The LiteLLM release compared against.
pub(crate) const VERSION: &str = "1.108.7";
/// Its master key (LiteLLM wants the `sk-` prefix).
const KEY: &str = "sk-bench";

/// The `litellm` executable in `venv`, installed there first if missing.
pub(crate) fn install(venv: &Path) -> Result<PathBuf> {
    let litellm = venv.join("bin/litellm");
    if litellm.exists() {
        return Ok(litellm);
    }
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .status()
        .context("python3 -m venv")?;
    if !status.success() {
        bail!("creating the LiteLLM venv at {} failed", venv.display());
    }
    let status = Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg(format!("litellm[proxy]=={VERSION}"))
        .status()
        .context("pip install litellm")?;
    if !status.success() {
        bail!("pip install litellm[proxy]=={VERSION} failed");
    }
    Ok(litellm)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts LiteLLM's proxy in front of the twin at `twin_url`.
pub(crate) fn start(
    litellm: &Path,
    workers: usize,
    twin_url: &str,
    work: &Path,
) -> Result<Contender> {
    let config = work.join("litellm.yaml");
    std::fs::write(
        &config,
        format!(
            "model_list:\n  - model_name: bench\n    litellm_params:\n      model: bedrock/{MODEL}\n      aws_access_key_id: AKIDTWIN\n      aws_secret_access_key: twin-secret\n      aws_region_name: us-east-1\n      aws_bedrock_runtime_endpoint: {twin_url}\nlitellm_settings:\n  telemetry: false\ngeneral_settings:\n  master_key: {KEY}\n"
        ),
    )?;
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(litellm);
    command
        .arg("--config")
        .arg(&config)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--num_workers",
            &workers.to_string(),
        ])
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_TELEMETRY", "False")
        .env("LITELLM_LOG", "ERROR")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", work);
    let server = Server::start_polling(
        "litellm",
        command,
        &url,
        "/health/liveliness",
        &work.join("litellm.log"),
    )?;
    Ok(Contender {
        name: if workers == 1 {
            "litellm".to_owned()
        } else {
            format!("litellm ×{workers}")
        },
        target: Target::OpenAi {
            url: server.url.clone(),
            model: "bench".to_owned(),
            token: KEY.to_owned(),
        },
        server,
        compared: true,
    })
}
