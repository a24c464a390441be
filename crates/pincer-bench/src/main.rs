//! `pincer-bench`: Pincer's benchmark suite. It starts the Bedrock twin and the gateways under
//! test as separate processes on loopback, drives them from this process, prints a markdown
//! report, and stops everything it started.
//!
//! Scenarios: `overhead` (fixed-rate load, gateway vs. direct), `fidelity` (streaming with
//! spaced deltas), `streams` (concurrent slow streams and memory), `bodies` (memory of large
//! request bodies), `cli` (command timings),
//! `micro` (the criterion results, read back), `profile` (where the gateway's CPU goes, from
//! `perf`); `all` runs them all. `--compare litellm` adds
//! LiteLLM's proxy to scenarios 1–3.

mod bodies;
mod cli;
mod contender;
mod fidelity;
mod floor;
mod keyed;
mod litellm;
mod load;
mod micro;
mod oha;
mod overhead;
mod procs;
mod profile;
mod provenance;
mod report;
mod samples;
mod setup;
mod soak;
mod streams;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};

use crate::contender::Contender;
use crate::load::Target;
use crate::report::Report;
use crate::setup::{Bins, MODEL};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    All,
    Overhead,
    Fidelity,
    Streams,
    Bodies,
    Cli,
    Micro,
    /// The soak run (not part of `all`): steady mixed load with injected faults.
    Soak,
    /// Where the gateway's CPU goes under load (`perf record`; skipped when perf is missing).
    Profile,
    /// Internal: the bare proxy of the floor measurement (`--upstream URL`).
    #[value(hide = true)]
    Proxy,
}

/// Pincer's benchmark suite: gateway overhead, streaming fidelity, concurrency and memory, CLI.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// What to run.
    #[arg(value_enum, default_value = "all")]
    scenarios: Vec<Scenario>,
    /// Folder with release builds of `pincer` and `bedrock-twin`.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Also write the report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Publish the report into this markdown file (BENCHMARKS.md): everything after its
    /// [`MARKER`] line is replaced by the report, whole.
    #[arg(long)]
    publish: Option<PathBuf>,
    /// Request rates of the overhead scenario.
    #[arg(long, value_delimiter = ',', default_values_t = [10, 100, 500, 1000, 2000])]
    rates: Vec<u32>,
    /// Seconds per rate and target in the overhead scenario.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Concurrent stream counts of the streams scenario.
    #[arg(long, value_delimiter = ',', default_values_t = [100, 1000, 5000])]
    streams: Vec<usize>,
    /// Seconds each slow stream lasts.
    #[arg(long, default_value_t = 30)]
    hold: u64,
    /// Streams per target in the fidelity scenario.
    #[arg(long, default_value_t = 100)]
    fidelity_requests: usize,
    /// Body size, in MiB, of the bodies scenario.
    #[arg(long, default_value_t = 31)]
    body_mib: usize,
    /// Requests sent at once in the bodies scenario's second round.
    #[arg(long, default_value_t = 8)]
    bodies_at_once: usize,
    /// Runs per command in the CLI scenario.
    #[arg(long, default_value_t = 20)]
    cli_runs: usize,
    /// Also measure another gateway, in the same run (scenarios 1–3).
    #[arg(long, value_enum)]
    compare: Vec<Compare>,
    /// Criterion's results folder, for the micro-benchmark table.
    #[arg(long, default_value = "target/criterion")]
    criterion_dir: PathBuf,
    /// Upstream of the internal `proxy` mode.
    #[arg(long, hide = true)]
    upstream: Option<String>,
    /// Minutes of the soak run.
    #[arg(long, default_value_t = 10.0)]
    soak_minutes: f64,
    /// Requests per second of the soak run.
    #[arg(long, default_value_t = 50)]
    soak_rate: u32,
    /// One soak request in this many carries an injected fault (20: 5 %).
    #[arg(long, default_value_t = 20)]
    fault_every: u64,
    /// Requests per second of the profile scenario.
    #[arg(long, default_value_t = 1000)]
    profile_rate: u32,
    /// Rates of the overhead runs driven by the second load generator, oha.
    #[arg(long, value_delimiter = ',', default_values_t = [200, 1000])]
    oha_rates: Vec<u32>,
    /// Skip the runs driven by oha.
    #[arg(long)]
    without_oha: bool,
    /// Another build of `pincer` (say, of an earlier commit) to measure beside this one in the
    /// overhead scenario, as `before` (its chat completions door): before/after in one run.
    #[arg(long)]
    before: Option<PathBuf>,
    /// The oha executable to use.
    #[arg(long, env = "OHA")]
    oha: Option<PathBuf>,
    /// The command line as typed (set by `bench/run.sh`), for the report's provenance.
    #[arg(long, env = "PINCER_BENCH_COMMAND", hide = true)]
    command: Option<String>,
    /// Where oha is installed from crates.io when it is not on PATH (or named by `OHA`).
    #[arg(long, default_value = "target/bench/oha")]
    oha_root: PathBuf,
    /// LiteLLM worker processes (its docs advise one per core in production).
    #[arg(long)]
    litellm_workers: Option<usize>,
    /// Virtualenv for LiteLLM (created and installed from PyPI when missing).
    #[arg(long, default_value = "target/bench/litellm-venv")]
    litellm_venv: PathBuf,
}

/// The name of the `--before` build in the tables.
const BEFORE: &str = "before";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Compare {
    Litellm,
}

fn wants(args: &Args, scenario: Scenario) -> bool {
    let in_all = scenario != Scenario::Soak && args.scenarios.contains(&Scenario::All);
    in_all || args.scenarios.contains(&scenario)
}

/// Pincer's gateway, and the compared ones, in front of the twin at `twin_url`.
fn contenders(
    bins: &Bins,
    litellm: Option<(&std::path::Path, usize)>,
    twin_url: &str,
    work: &std::path::Path,
) -> Result<Vec<Contender>> {
    let server = setup::gateway(bins, twin_url, work)?;
    let target = Target::OpenAi {
        url: server.url.clone(),
        model: format!("amazon-bedrock/{MODEL}"),
        token: setup::TOKEN.to_owned(),
    };
    let mut all = vec![Contender {
        name: "pincer".to_owned(),
        server,
        target,
        compared: false,
    }];
    if let Some((litellm, workers)) = litellm {
        all.push(litellm::start(litellm, workers, twin_url, work)?);
    }
    Ok(all)
}

async fn run(args: Args) -> Result<Report> {
    let bins = Bins::in_dir(&args.bin_dir);
    for binary in [&bins.pincer, &bins.twin] {
        anyhow::ensure!(
            binary.exists(),
            "{} is missing: build with `cargo build --release -p pincer-cli -p bedrock-twin`",
            binary.display()
        );
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .timeout(Duration::from_secs(120))
        .build()?;
    // Fixed-rate runs give up on a request after 10 s, so that a saturated gateway's backlog
    // ends as failures instead of stretching the run without bound.
    let short_client = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .timeout(Duration::from_secs(10))
        .build()?;
    let litellm = if args.compare.contains(&Compare::Litellm) {
        Some(litellm::install(&args.litellm_venv)?)
    } else {
        None
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = args.litellm_workers.unwrap_or(cores).max(1);
    let litellm = litellm.as_deref().map(|path| (path, workers));
    let oha = if args.without_oha || !wants(&args, Scenario::Overhead) {
        None
    } else {
        Some((
            oha::install(args.oha.as_deref(), &args.oha_root)?,
            args.oha_rates.clone(),
        ))
    };
    let mut report = Report::default();
    report.heading("Run");
    report.note(&provenance::describe(args.command.as_deref()));
    report.heading("Machine");
    report.note(&format!(
        "{cores} cores ({}); load generator, twin and gateway share them.",
        provenance::cpu_model()
    ));
    if litellm.is_some() {
        report.note(&format!(
            "Compared: LiteLLM proxy {} ({workers} worker process{}, one per core unless `--litellm-workers` says otherwise; local cost map, no telemetry). Every LiteLLM figure below used this setting.",
            litellm::VERSION,
            if workers == 1 { "" } else { "es" },
        ));
    }

    if wants(&args, Scenario::Overhead)
        || wants(&args, Scenario::Cli)
        || wants(&args, Scenario::Profile)
    {
        let twin = setup::twin(&bins, &["--zero-delay", "--deltas", "8"])?;
        let direct = Target::Bedrock {
            url: twin.url.clone(),
            model: MODEL.to_owned(),
        };
        if wants(&args, Scenario::Overhead) {
            let work = tempfile::tempdir()?;
            let mut contenders = contenders(&bins, litellm, &twin.url, work.path())?;
            contenders.push(floor::start(&twin.url)?);
            let mut befores = Vec::new();
            // The Responses door of a second Pincer gateway (its own process, so that its CPU
            // and memory are its own), measured with the same question.
            let responses_work = tempfile::tempdir()?;
            let server = setup::gateway(&bins, &twin.url, responses_work.path())?;
            let target = Target::Responses {
                url: server.url.clone(),
                model: format!("amazon-bedrock/{MODEL}"),
                token: setup::TOKEN.to_owned(),
            };
            contenders.push(Contender {
                name: "pincer responses".to_owned(),
                server,
                target,
                compared: false,
            });
            if let Some(before) = &args.before {
                let before_work = tempfile::tempdir()?;
                let before_bins = Bins {
                    pincer: before.clone(),
                    twin: bins.twin.clone(),
                };
                let server = setup::gateway(&before_bins, &twin.url, before_work.path())?;
                let target = Target::OpenAi {
                    url: server.url.clone(),
                    model: format!("amazon-bedrock/{MODEL}"),
                    token: setup::TOKEN.to_owned(),
                };
                contenders.insert(
                    1,
                    Contender {
                        name: BEFORE.to_owned(),
                        server,
                        target,
                        compared: false,
                    },
                );
                befores.push(before_work);
            }
            // And its Messages door, the same way.
            let messages_work = tempfile::tempdir()?;
            let server = setup::gateway(&bins, &twin.url, messages_work.path())?;
            let target = Target::Messages {
                url: server.url.clone(),
                model: format!("amazon-bedrock/{MODEL}"),
                token: setup::TOKEN.to_owned(),
            };
            contenders.push(Contender {
                name: "pincer messages".to_owned(),
                server,
                target,
                compared: false,
            });
            // The chat door with a managed key, its keys and spend in SQLite, then in
            // PostgreSQL (when installed).
            let sqlite_work = tempfile::tempdir()?;
            contenders.push(keyed::start(
                keyed::SQLITE,
                &bins,
                &twin.url,
                sqlite_work.path(),
                None,
            )?);
            let postgres_work = tempfile::tempdir()?;
            let postgres = match keyed::Postgres::start(&postgres_work.path().join("postgres")) {
                Ok(postgres) => {
                    contenders.push(keyed::start(
                        keyed::POSTGRES,
                        &bins,
                        &twin.url,
                        postgres_work.path(),
                        Some(&postgres.url),
                    )?);
                    Some(postgres)
                }
                Err(error) => {
                    report.note(&format!("`{}` not measured: {error:#}", keyed::POSTGRES));
                    None
                }
            };
            overhead::Overhead {
                rates: args.rates.clone(),
                duration: Duration::from_secs(args.seconds),
                oha: oha.clone(),
            }
            .run(&short_client, &direct, &contenders, &mut report)
            .await?;
            // The gateways stop before the database they use.
            drop(contenders);
            drop(postgres);
        }
        if wants(&args, Scenario::Profile) {
            let work = tempfile::tempdir()?;
            let contenders = contenders(&bins, None, &twin.url, work.path())?;
            if let Some(pincer) = contenders.first() {
                let profile = profile::Profile {
                    rate: args.profile_rate,
                    duration: Duration::from_secs(args.seconds.max(3)),
                };
                if let Err(error) = profile.run(&short_client, pincer, &mut report).await {
                    report.heading("Profile");
                    report.note(&format!("Not measured: {error:#}."));
                }
            }
        }
        if wants(&args, Scenario::Cli) {
            cli::Cli {
                runs: args.cli_runs,
            }
            .run(&bins, &twin.url, &mut report)?;
        }
    }
    if wants(&args, Scenario::Fidelity) {
        let twin = setup::twin(&bins, &["--delay-ms", "20", "--deltas", "20"])?;
        let direct = Target::Bedrock {
            url: twin.url.clone(),
            model: MODEL.to_owned(),
        };
        let work = tempfile::tempdir()?;
        let contenders = contenders(&bins, litellm, &twin.url, work.path())?;
        fidelity::Fidelity {
            requests: args.fidelity_requests,
        }
        .run(&client, &direct, &contenders, &mut report)
        .await?;
    }
    if wants(&args, Scenario::Streams) {
        let deltas = args.hold.max(1).to_string();
        let twin = setup::twin(&bins, &["--delay-ms", "1000", "--deltas", &deltas])?;
        let work = tempfile::tempdir()?;
        let contenders = contenders(&bins, litellm, &twin.url, work.path())?;
        streams::Streams {
            counts: args.streams.clone(),
            hold: Duration::from_secs(args.hold),
        }
        .run(&client, &contenders, &mut report)
        .await?;
    }
    if wants(&args, Scenario::Bodies) {
        let twin = setup::twin(&bins, &["--zero-delay"])?;
        let work = tempfile::tempdir()?;
        let contenders = contenders(&bins, None, &twin.url, work.path())?;
        bodies::Bodies {
            size_mib: args.body_mib,
            concurrent: args.bodies_at_once,
        }
        .run(&client, &contenders, &mut report)
        .await?;
    }
    if wants(&args, Scenario::Micro) {
        micro::report(&args.criterion_dir, &mut report)?;
    }
    if wants(&args, Scenario::Soak) {
        let passed = soak::Soak {
            duration: Duration::from_secs_f64(args.soak_minutes.max(0.1) * 60.0),
            rate: args.soak_rate.max(1),
            fault_every: args.fault_every.max(2),
        }
        .run(&bins, &mut report)
        .await?;
        report.failed |= !passed;
    }
    report.goals();
    Ok(report)
}

/// The line of a published file after which the report goes.
const MARKER: &str = "<!-- Everything below this line is the output of the command it names, pasted whole by `--publish`. -->";

/// The part of `path` up to and including its [`MARKER`] line.
fn prose_of(path: &std::path::Path) -> Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let at = text
        .find(MARKER)
        .with_context(|| format!("{} has no line `{MARKER}`", path.display()))?;
    Ok(text[..at + MARKER.len()].to_owned())
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.scenarios == [Scenario::Proxy] {
        let upstream = args.upstream.context("proxy needs --upstream")?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(floor::serve(upstream));
    }
    let out = args.out.clone();
    let publish = args.publish.clone();
    // Checked before the run, so that a wrong file does not cost a whole run.
    let prose = publish.as_deref().map(prose_of).transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let report = runtime.block_on(run(args))?;
    if let Some(out) = out {
        std::fs::write(&out, report.text())
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if let (Some(path), Some(prose)) = (publish, prose) {
        std::fs::write(&path, format!("{prose}\n{}", report.text()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    anyhow::ensure!(!report.failed, "a check of the run failed (see the report)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishing_keeps_the_prose_up_to_the_marker_and_needs_the_marker() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("BENCHMARKS.md");
        std::fs::write(&path, format!("# Prose\n\n{MARKER}\nold report\n")).expect("written");
        assert_eq!(
            prose_of(&path).expect("the prose"),
            format!("# Prose\n\n{MARKER}")
        );
        std::fs::write(&path, "# No marker\n").expect("written");
        let error = prose_of(&path).expect_err("no marker").to_string();
        assert!(error.contains("has no line"), "{error}");
    }
}
