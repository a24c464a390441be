//! Scenario 1, overhead: chat completions at fixed rates against the zero-delay twin, directly
//! and through each gateway (and Pincer's Responses and Messages doors, `pincer responses` and
//! `pincer messages`), with the same client and the same question; and one embedding through
//! the embeddings door against InvokeModel directly (`embed` rows). The difference at each
//! percentile is what the gateway adds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::contender::Contender;
use crate::floor;
use crate::load::{Stats, Target, fixed_rate};
use crate::oha;
use crate::procs::CpuMeter;
use crate::report::{Report, mib};
use crate::samples::{added_cell, cell, max_cell, ms, quantile_cell};

/// The embedding model of the embeddings rows.
const EMBED_MODEL: &str = "amazon.titan-embed-text-v2:0";

/// Settings of the scenario.
#[derive(Debug, Clone)]
pub(crate) struct Overhead {
    /// Request rates, per second.
    pub(crate) rates: Vec<u32>,
    /// Measured time per rate and target.
    pub(crate) duration: Duration,
    /// The second load generator, and the rates it runs at.
    pub(crate) oha: Option<(PathBuf, Vec<u32>)>,
}

/// Requests answered per second of the gateway's CPU: throughput per core.
fn per_core(stats: &Stats, cpu: f64) -> Option<f64> {
    let cpu_secs = cpu / 100.0 * stats.elapsed.as_secs_f64();
    (cpu_secs > 0.0).then(|| stats.ok as f64 / cpu_secs)
}

fn row(
    mode: &str,
    rate: u32,
    name: &str,
    stats: &mut Stats,
    cpu: Option<f64>,
    rss: Option<f64>,
) -> Vec<String> {
    vec![
        mode.to_owned(),
        rate.to_string(),
        name.to_owned(),
        stats.total.len().to_string(),
        cell(&mut stats.total, 0.5),
        cell(&mut stats.total, 0.9),
        cell(&mut stats.total, 0.99),
        max_cell(&mut stats.total),
        format!("{:.2}", stats.success()),
        cpu.map_or("-".to_owned(), |c| format!("{c:.0}")),
        format!("{:.0}", stats.generator_cpu),
        rss.map_or("-".to_owned(), mib),
    ]
}

fn added_row(
    mode: &str,
    rate: u32,
    name: &str,
    stats: &mut Stats,
    base: &mut Stats,
    cpu: f64,
) -> Vec<String> {
    vec![
        mode.to_owned(),
        rate.to_string(),
        name.to_owned(),
        added_cell(&mut stats.total, &mut base.total, 0.5),
        added_cell(&mut stats.total, &mut base.total, 0.9),
        added_cell(&mut stats.total, &mut base.total, 0.99),
        per_core(stats, cpu).map_or("-".to_owned(), |r| format!("{r:.0}")),
        format!("{:.2}", stats.success()),
    ]
}

/// Rows of a latency table and of its added-latency table.
type Tables = (Vec<Vec<String>>, Vec<Vec<String>>);

/// A gateway's row in the latency table and in the added-latency table.
#[allow(clippy::too_many_arguments)]
fn push_rows(
    tables: &mut Tables,
    mode: &str,
    rate: u32,
    name: &str,
    stats: &mut Stats,
    base: &mut Stats,
    cpu: f64,
    rss: f64,
) {
    tables
        .0
        .push(row(mode, rate, name, stats, Some(cpu), Some(rss)));
    tables.1.push(added_row(mode, rate, name, stats, base, cpu));
}

/// Added latency at `q` (gateway − direct), in microseconds, when both support it.
fn added(stats: &mut Stats, base: &mut Stats, q: f64) -> Option<f64> {
    Some(stats.total.quantile(q)? - base.total.quantile(q)?)
}

/// Gives a gateway up to a minute to finish a backlog (CPU under 5 % of a core for a second).
async fn wait_until_idle(contender: &Contender) {
    for _ in 0..60 {
        let meter = CpuMeter::start(&contender.server);
        tokio::time::sleep(Duration::from_secs(1)).await;
        if meter.percent(&contender.server) < 5.0 {
            return;
        }
    }
}

/// The name of Pincer's chat completions door in the tables; its other doors' names start so.
pub(crate) const PINCER: &str = "pincer";
/// The rate the goals are stated at.
const GOAL_RATE: u32 = 1000;

/// An added-latency figure against a goal of `limit` µs: its cell and whether it is met. A
/// negative figure (the direct run slower than the gateway at that percentile) measures the
/// direct run's noise, not the gateway, so it meets nothing.
fn added_goal(added: Option<f64>, limit: f64) -> (Option<String>, Option<bool>) {
    match added {
        Some(v) if v < 0.0 => (
            Some(format!(
                "{} (direct slower: noise, not a measurement)",
                ms(v)
            )),
            None,
        ),
        Some(v) => (Some(ms(v)), Some(v <= limit)),
        None => (None, None),
    }
}

/// The columns of a latency table, then `extra`.
fn header<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["mode", "req/s", "target", "n", "p50", "p90", "p99", "max"];
    all.extend_from_slice(extra);
    all
}

/// `a / b` of two figures either of which may be missing.
fn ratio_of(a: Option<f64>, b: Option<f64>) -> String {
    a.zip(b).map_or("-".to_owned(), |(a, b)| ratio(a, b))
}

/// `a / b`, or `-` when `b` is not positive.
pub(crate) fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.1}×", a / b)
    } else {
        "-".to_owned()
    }
}

impl Overhead {
    /// One fixed-rate run against `contender`: its stats, its CPU use during the run (% of a
    /// core) and its peak RSS afterwards (MiB).
    async fn measure(
        &self,
        client: &reqwest::Client,
        contender: &Contender,
        stream: bool,
        rate: u32,
    ) -> Result<(Stats, f64, f64)> {
        let meter = CpuMeter::start(&contender.server);
        let stats = fixed_rate(client, &contender.target, stream, rate, self.duration).await?;
        let cpu = meter.percent(&contender.server);
        Ok((stats, cpu, contender.server.peak_rss_mib()))
    }

    /// Runs it and writes its tables.
    pub(crate) async fn run(
        &self,
        client: &reqwest::Client,
        direct: &Target,
        contenders: &[Contender],
        report: &mut Report,
    ) -> Result<()> {
        report.heading("1. Overhead: fixed-rate requests, zero-delay twin");
        report.note(&format!(
            "Open arrival model; {} s per rate and target; latency to the last byte, ms, with microsecond resolution; n is the number of requests answered completely, and a percentile with fewer than 10 samples beyond it is not given. CPU is the gateway's and gen CPU the load generator's (this process), in % of one core; RSS the gateway's peak, MiB. `bare proxy` forwards bytes without parsing them: the floor any gateway pays for the extra loopback hop on this machine.",
            self.duration.as_secs()
        ));
        // Warm every path: connections, credentials, the catalog.
        for target in std::iter::once(direct).chain(contenders.iter().map(|c| &c.target)) {
            for stream in [false, true] {
                fixed_rate(client, target, stream, 20, Duration::from_secs(1)).await?;
            }
        }
        let (own, compared): (Vec<&Contender>, Vec<&Contender>) =
            contenders.iter().partition(|c| !c.compared);
        let mut tables = (Vec::new(), Vec::new());
        let mut ratios = Vec::new();
        // (stream, rate) → direct stats and Pincer's (added p50, added p99, peak RSS).
        let mut baselines = Vec::new();
        // Phase 1: direct, Pincer and the floor, interleaved at each rate.
        for stream in [false, true] {
            let mode = if stream { "stream" } else { "json" };
            for &rate in &self.rates {
                let mut base = fixed_rate(client, direct, stream, rate, self.duration).await?;
                tables
                    .0
                    .push(row(mode, rate, "direct", &mut base, None, None));
                let mut pincer = (None, None, 0.0);
                let mut floor_per_core = None;
                let mut pincer_per_core = None;
                for contender in &own {
                    let (mut stats, cpu, rss) =
                        self.measure(client, contender, stream, rate).await?;
                    let p50 = added(&mut stats, &mut base, 0.5);
                    let p99 = added(&mut stats, &mut base, 0.99);
                    if contender.name == PINCER {
                        pincer = (p50, p99, rss);
                        pincer_per_core = per_core(&stats, cpu);
                    }
                    if contender.name == floor::NAME {
                        floor_per_core = per_core(&stats, cpu);
                    }
                    if rate == GOAL_RATE && contender.name.starts_with(PINCER) {
                        let (figure, met) = added_goal(p50, 300.0);
                        report.goal(
                            &format!("{} {mode}: added p50 at {rate} req/s", contender.name),
                            "≤ 0.300 ms",
                            figure,
                            met,
                        );
                        let (figure, met) = added_goal(p99, 1000.0);
                        report.goal(
                            &format!("{} {mode}: added p99 at {rate} req/s", contender.name),
                            "≤ 1.000 ms",
                            figure,
                            met,
                        );
                    }
                    push_rows(
                        &mut tables,
                        mode,
                        rate,
                        &contender.name,
                        &mut stats,
                        &mut base,
                        cpu,
                        rss,
                    );
                }
                if rate == GOAL_RATE {
                    let factor = floor_per_core.zip(pincer_per_core).map(|(f, p)| f / p);
                    report.goal(
                        &format!("pincer {mode}: bare proxy's requests per CPU-second / Pincer's at {rate} req/s"),
                        "≤ 2.0×",
                        factor.map(|f| format!("{f:.2}×")),
                        factor.map(|f| f <= 2.0),
                    );
                }
                baselines.push((stream, rate, base, pincer));
            }
        }
        // Embeddings (one vector, unstreamed): InvokeModel on the twin directly, and Pincer's
        // embeddings door in front of it.
        if let (Target::Bedrock { url, .. }, Some(pincer)) =
            (direct, own.iter().find(|c| c.name == PINCER))
            && let Target::OpenAi {
                url: gateway,
                token,
                ..
            } = &pincer.target
        {
            let direct_embed = Target::BedrockEmbed {
                url: url.clone(),
                model: EMBED_MODEL.to_owned(),
            };
            let through = Target::Embeddings {
                url: gateway.clone(),
                model: format!("amazon-bedrock/{EMBED_MODEL}"),
                token: token.clone(),
            };
            fixed_rate(client, &direct_embed, false, 20, Duration::from_secs(1)).await?;
            fixed_rate(client, &through, false, 20, Duration::from_secs(1)).await?;
            for &rate in &self.rates {
                let mut base =
                    fixed_rate(client, &direct_embed, false, rate, self.duration).await?;
                tables
                    .0
                    .push(row("embed", rate, "direct", &mut base, None, None));
                let meter = CpuMeter::start(&pincer.server);
                let mut stats = fixed_rate(client, &through, false, rate, self.duration).await?;
                let cpu = meter.percent(&pincer.server);
                let rss = pincer.server.peak_rss_mib();
                let name = "pincer embeddings";
                push_rows(
                    &mut tables,
                    "embed",
                    rate,
                    name,
                    &mut stats,
                    &mut base,
                    cpu,
                    rss,
                );
            }
        }
        let second = match &self.oha {
            Some((oha, rates)) => Some(self.second_generator(oha, rates, client, direct, &own)?),
            None => None,
        };
        // Phase 2: the compared gateways, from the lowest rate up, after everything else, so
        // that one that saturates cannot slow the others down. A rate where fewer than half
        // of the requests succeed marks it saturated; its higher rates are skipped.
        for contender in &compared {
            for stream in [false, true] {
                let mode = if stream { "stream" } else { "json" };
                let mut saturated = None;
                for (_, rate, base, pincer) in baselines.iter_mut().filter(|b| b.0 == stream) {
                    if let Some(at) = saturated {
                        tables.0.push(vec![
                            mode.to_owned(),
                            rate.to_string(),
                            contender.name.clone(),
                            format!("skipped: saturated at {at} req/s"),
                        ]);
                        continue;
                    }
                    wait_until_idle(contender).await;
                    let (mut stats, cpu, rss) =
                        self.measure(client, contender, stream, *rate).await?;
                    let p50 = added(&mut stats, base, 0.5);
                    let p99 = added(&mut stats, base, 0.99);
                    ratios.push(vec![
                        mode.to_owned(),
                        rate.to_string(),
                        format!("{} / pincer", contender.name),
                        ratio_of(p50, pincer.0),
                        ratio_of(p99, pincer.1),
                        ratio(rss, pincer.2),
                        format!("{:.2}", stats.success()),
                    ]);
                    push_rows(
                        &mut tables,
                        mode,
                        *rate,
                        &contender.name,
                        &mut stats,
                        base,
                        cpu,
                        rss,
                    );
                    if stats.success() < 50.0 {
                        saturated = Some(*rate);
                    }
                }
            }
        }
        let (rows, added_rows) = tables;
        report.table(&header(&["ok %", "CPU %", "gen CPU %", "peak RSS"]), &rows);
        report.note(
            "Added latency (gateway − direct at the same percentile, same run), ms; req per CPU-s is requests answered per second of the gateway's CPU (throughput per core):",
        );
        report.table(
            &[
                "mode",
                "req/s",
                "gateway",
                "p50",
                "p90",
                "p99",
                "req per CPU-s",
                "ok %",
            ],
            &added_rows,
        );
        if let Some((rows, added_rows)) = second {
            report.note(&format!(
                "The same requests from a second, independent load generator: oha {} (its own process; {} connections, fixed rate, `--latency-correction`, so a request that waits for a connection counts its wait), {} s per rate and target. Percentiles are oha's; oha CPU is its own, in % of one core:",
                oha::VERSION,
                oha::CONNECTIONS,
                self.duration.as_secs()
            ));
            report.table(&header(&["ok %", "CPU %", "oha CPU %"]), &rows);
            report.note("Added latency measured by oha (gateway − direct, same run), ms:");
            report.table(
                &["mode", "req/s", "gateway", "p50", "p90", "p99", "ok %"],
                &added_rows,
            );
        }
        if !ratios.is_empty() {
            report.note(
                "Ratios in the same run (compared gateway / Pincer: added latency, peak RSS); ok % is the compared gateway's:",
            );
            report.table(
                &[
                    "mode",
                    "req/s",
                    "ratio",
                    "added p50",
                    "added p99",
                    "peak RSS",
                    "ok %",
                ],
                &ratios,
            );
        }
        Ok(())
    }
}

fn oha_added(run: &oha::Run, base: &oha::Run, q: f64) -> String {
    quantile_cell(run.quantile(q).zip(base.quantile(q)).map(|(a, b)| a - b), q)
}

fn oha_row(mode: &str, rate: u32, name: &str, run: &oha::Run, cpu: Option<f64>) -> Vec<String> {
    vec![
        mode.to_owned(),
        rate.to_string(),
        name.to_owned(),
        run.ok.to_string(),
        quantile_cell(run.quantile(0.5), 0.5),
        quantile_cell(run.quantile(0.9), 0.9),
        quantile_cell(run.quantile(0.99), 0.99),
        ms(run.max()),
        format!("{:.2}", run.success()),
        cpu.map_or("-".to_owned(), |c| format!("{c:.0}")),
        format!("{:.0}", run.cpu),
    ]
}

impl Overhead {
    /// The overhead runs again, driven by oha: its rows and its added-latency rows.
    fn second_generator(
        &self,
        oha: &Path,
        rates: &[u32],
        client: &reqwest::Client,
        direct: &Target,
        own: &[&Contender],
    ) -> Result<Tables> {
        let work = tempfile::tempdir()?;
        let mut rows = Vec::new();
        let mut added_rows = Vec::new();
        for stream in [false, true] {
            let mode = if stream { "stream" } else { "json" };
            for &rate in rates {
                let base = oha::run(
                    oha,
                    client,
                    direct,
                    stream,
                    rate,
                    self.duration,
                    work.path(),
                )?;
                rows.push(oha_row(mode, rate, "direct", &base, None));
                for contender in own {
                    let meter = CpuMeter::start(&contender.server);
                    let run = oha::run(
                        oha,
                        client,
                        &contender.target,
                        stream,
                        rate,
                        self.duration,
                        work.path(),
                    )?;
                    let cpu = meter.percent(&contender.server);
                    rows.push(oha_row(mode, rate, &contender.name, &run, Some(cpu)));
                    added_rows.push(vec![
                        mode.to_owned(),
                        rate.to_string(),
                        contender.name.clone(),
                        oha_added(&run, &base, 0.5),
                        oha_added(&run, &base, 0.9),
                        oha_added(&run, &base, 0.99),
                        format!("{:.2}", run.success()),
                    ]);
                }
            }
        }
        Ok((rows, added_rows))
    }
}
