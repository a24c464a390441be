//! The second, independent load generator: `oha` (a Rust HTTP load generator from crates.io,
//! its own process). It sends at a fixed rate over a fixed number of connections, and with
//! `--latency-correction` measures each request from the moment it was due, so a request that
//! waited for a free connection counts its wait. The same question goes to the twin directly and
//! through each gateway, as in the overhead scenario; its JSON summary gives the percentiles,
//! and its own CPU is read with GNU `time`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::load::Target;
use crate::samples::TAIL_SAMPLES;

/// The oha release used.
pub(crate) const VERSION: &str = "1.16.0";
/// Connections oha keeps open.
pub(crate) const CONNECTIONS: u32 = 8;

/// The `oha` executable: `given` (`--oha` or `OHA`), one installed earlier into `root`, one on
/// `PATH`, or else one installed from crates.io into `root` (a one-time build of a few minutes).
pub(crate) fn install(given: Option<&Path>, root: &Path) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_owned());
    }
    let installed = root.join("bin/oha");
    if installed.exists() {
        return Ok(installed);
    }
    let on_path = Command::new("oha")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if on_path {
        return Ok(PathBuf::from("oha"));
    }
    crate::report::announce(&format!(
        "installing oha {VERSION} from crates.io into {}",
        root.display()
    ));
    let status = Command::new("cargo")
        .args(["install", "--quiet", "--locked"])
        .arg("--root")
        .arg(root)
        .args(["--version", VERSION, "oha"])
        .status()
        .context("cargo install oha")?;
    if !status.success() {
        bail!("cargo install oha {VERSION} failed");
    }
    Ok(installed)
}

/// What one oha run measured: percentiles in microseconds, as oha computed them.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// Requests answered with a success status.
    pub(crate) ok: u64,
    /// Requests that failed (error statuses and transport errors).
    pub(crate) failed: u64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    /// oha's own CPU, in % of one core.
    pub(crate) cpu: f64,
}

impl Run {
    /// The `q` quantile in µs, when enough samples support it (the rule of [`crate::samples`]).
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let supported = self.ok as f64 * (1.0 - q) >= TAIL_SAMPLES - 1e-9;
        let value = match q {
            0.5 => self.p50,
            0.9 => self.p90,
            0.99 => self.p99,
            _ => return None,
        };
        supported.then_some(value)
    }

    /// The slowest request, in µs.
    pub(crate) fn max(&self) -> f64 {
        self.max
    }

    /// Share of requests that succeeded, in percent.
    pub(crate) fn success(&self) -> f64 {
        let all = self.ok + self.failed;
        if all == 0 {
            return 0.0;
        }
        self.ok as f64 / all as f64 * 100.0
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    summary: Totals,
    latency_percentiles: Percentiles,
    #[serde(default)]
    status_code_distribution: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    error_distribution: std::collections::BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct Totals {
    slowest: Option<f64>,
}

#[derive(Deserialize)]
struct Percentiles {
    p50: Option<f64>,
    p90: Option<f64>,
    p99: Option<f64>,
}

/// Sends `rate` requests per second to `target` for `duration` with oha.
pub(crate) fn run(
    oha: &Path,
    client: &reqwest::Client,
    target: &Target,
    stream: bool,
    rate: u32,
    duration: Duration,
    work: &Path,
) -> Result<Run> {
    let request = target.request(client, stream).build()?;
    let body = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .context("a request body that is not in memory")?;
    let body_file = work.join("oha-body.json");
    std::fs::write(&body_file, body)?;
    let times = work.join("oha-time.txt");
    let mut command = Command::new("/usr/bin/time");
    command
        .args(["-f", "%U %S %e", "-o"])
        .arg(&times)
        .arg(oha)
        .args([
            "--no-tui",
            "--output-format",
            "json",
            "--latency-correction",
        ])
        .args(["-c", &CONNECTIONS.to_string()])
        .args(["-q", &rate.to_string()])
        .args(["-z", &format!("{}s", duration.as_secs().max(1))])
        .args(["-m", "POST", "-D"])
        .arg(&body_file);
    for (name, value) in request.headers() {
        let value = value.to_str().context("a header oha cannot send")?;
        command.args(["-H", &format!("{name}: {value}")]);
    }
    command.arg(request.url().as_str());
    let output = command
        .output()
        .context("running oha under /usr/bin/time")?;
    if !output.status.success() {
        bail!(
            "oha failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let times = std::fs::read_to_string(&times).unwrap_or_default();
    summarize(&output.stdout, &times)
}

/// A run from oha's JSON summary and GNU time's `%U %S %e` line (oha's CPU; 0 when missing).
fn summarize(json: &[u8], times: &str) -> Result<Run> {
    let summary: Summary = serde_json::from_slice(json).context("reading oha's JSON summary")?;
    let cpu = Some(times)
        .and_then(|t| {
            let f: Vec<f64> = t
                .lines()
                .last()?
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            (f.len() == 3 && f[2] > 0.0).then(|| (f[0] + f[1]) / f[2] * 100.0)
        })
        .unwrap_or(0.0);
    let ok = summary
        .status_code_distribution
        .iter()
        .filter(|(code, _)| code.starts_with('2'))
        .map(|(_, n)| n)
        .sum();
    let failed = summary
        .status_code_distribution
        .iter()
        .filter(|(code, _)| !code.starts_with('2'))
        .map(|(_, n)| n)
        .sum::<u64>()
        + summary
            .error_distribution
            .iter()
            // Requests still in flight when the run's time is up are cut off, not failed.
            .filter(|(error, _)| !error.contains("deadline"))
            .map(|(_, n)| n)
            .sum::<u64>();
    let micros = |s: Option<f64>| s.unwrap_or(f64::NAN) * 1e6;
    Ok(Run {
        ok,
        failed,
        p50: micros(summary.latency_percentiles.p50),
        p90: micros(summary.latency_percentiles.p90),
        p99: micros(summary.latency_percentiles.p99),
        max: micros(summary.summary.slowest),
        cpu,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_counts_errors_but_not_requests_cut_off_at_the_deadline() {
        let json = br#"{"summary": {"slowest": 0.004},
            "latencyPercentiles": {"p50": 0.000512, "p90": 0.001, "p99": 0.002},
            "statusCodeDistribution": {"200": 1998, "503": 2},
            "errorDistribution": {"aborted due to deadline": 7, "connection closed": 1}}"#;
        let run = summarize(json, "0.50 0.25 5.00\n").expect("a summary");
        assert_eq!((run.ok, run.failed), (1998, 3));
        assert_eq!(run.quantile(0.5), Some(512.0));
        // 1,998 samples support a p99; the maximum is its own figure.
        assert_eq!(run.quantile(0.99), Some(2000.0));
        assert_eq!(run.max(), 4000.0);
        assert!((run.cpu - 15.0).abs() < 1e-9, "{}", run.cpu);
        let few = summarize(
            br#"{"summary": {}, "latencyPercentiles": {"p50": 0.001, "p99": 0.002},
                "statusCodeDistribution": {"200": 50}}"#,
            "",
        )
        .expect("a summary");
        assert_eq!(few.quantile(0.99), None);
        assert_eq!(few.cpu, 0.0);
    }
}
