//! Scenario 4, the command line: wall time (median of N runs) and peak resident memory (GNU
//! `time`) of `pincer --version`, a warm and a cold `pincer models list`, and a one-shot
//! `pincer chat -m hi`, against the zero-delay twin.

use std::path::Path;

use crate::samples::{Samples, cell, max_cell, ms};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::report::Report;
use crate::setup::{Bins, pincer_command, write_config};

/// Settings of the scenario.
#[derive(Debug, Clone)]
pub(crate) struct Cli {
    /// Runs per command.
    pub(crate) runs: usize,
}

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    /// Remove the discovery cache before each run.
    cold: bool,
}

const CASES: [Case; 4] = [
    Case {
        name: "pincer --version",
        args: &["--version"],
        cold: false,
    },
    Case {
        name: "pincer models list (warm)",
        args: &["models", "list"],
        cold: false,
    },
    Case {
        name: "pincer models list (cold)",
        args: &["models", "list"],
        cold: true,
    },
    Case {
        name: "pincer chat -m hi",
        args: &["chat", "-m", "hi"],
        cold: false,
    },
];

fn run_once(mut command: Command) -> Result<f64> {
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(elapsed)
}

/// Peak RSS in MiB of one run, measured by GNU time's `%M`.
fn peak_rss(bins: &Bins, twin_url: &str, work: &Path, args: &[&str]) -> Result<f64> {
    let out = work.join("time.out");
    let pincer = pincer_command(bins, twin_url, work);
    let mut command = Command::new("/usr/bin/time");
    command.env_clear();
    for (key, value) in pincer.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command
        .args(["-f", "%M", "-o"])
        .arg(&out)
        .arg(&bins.pincer)
        .args(args);
    run_once(command)?;
    let kib: f64 = std::fs::read_to_string(&out)?
        .trim()
        .parse()
        .context("reading GNU time's output")?;
    Ok(kib / 1024.0)
}

impl Cli {
    /// Runs it against the twin at `twin_url`.
    pub(crate) fn run(&self, bins: &Bins, twin_url: &str, report: &mut Report) -> Result<()> {
        let work = tempfile::tempdir()?;
        write_config(work.path())?;
        let cache = work.path().join("pincer/cache");
        // Fill the discovery cache once.
        let mut warmup = pincer_command(bins, twin_url, work.path());
        warmup.args(["models", "list"]);
        run_once(warmup)?;
        report.heading("4. CLI: wall time and peak memory");
        report.note(&format!(
            "{} runs of each command; wall time in ms (median only with at least 20 runs); peak RSS from GNU time, MiB.",
            self.runs
        ));
        let mut rows = Vec::new();
        for case in &CASES {
            let mut times = Samples::default();
            for _ in 0..self.runs {
                if case.cold && cache.exists() {
                    std::fs::remove_dir_all(&cache)?;
                }
                let mut command = pincer_command(bins, twin_url, work.path());
                command.args(case.args);
                times.push(run_once(command)? * 1000.0);
            }
            if case.cold && cache.exists() {
                std::fs::remove_dir_all(&cache)?;
            }
            let rss = peak_rss(bins, twin_url, work.path(), case.args)?;
            rows.push(vec![
                case.name.to_owned(),
                times.len().to_string(),
                cell(&mut times, 0.5),
                times.min().map_or("–".to_owned(), ms),
                max_cell(&mut times),
                format!("{rss:.1}"),
            ]);
        }
        report.table(
            &[
                "command",
                "n",
                "median ms",
                "min ms",
                "max ms",
                "peak RSS MiB",
            ],
            &rows,
        );
        Ok(())
    }
}
