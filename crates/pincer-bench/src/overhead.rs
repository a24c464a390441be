//! Scenario 1, overhead: chat completions at fixed rates against the zero-delay twin, directly
//! and through each gateway (and Pincer's Responses and Messages doors, `pincer responses` and
//! `pincer messages`), with the same client and the same question; and one embedding through
//! the embeddings door against InvokeModel directly (`embed` rows). The difference at each
//! percentile is what the gateway adds.

use std::time::Duration;

use anyhow::Result;

use crate::contender::Contender;
use crate::load::{Stats, Target, fixed_rate};
use crate::procs::CpuMeter;
use crate::report::{Report, mib, ms, pct};

/// The embedding model of the embeddings rows.
const EMBED_MODEL: &str = "amazon.titan-embed-text-v2:0";

/// Settings of the scenario.
#[derive(Debug, Clone)]
pub(crate) struct Overhead {
    /// Request rates, per second.
    pub(crate) rates: Vec<u32>,
    /// Measured time per rate and target.
    pub(crate) duration: Duration,
}

fn row(
    mode: &str,
    rate: u32,
    name: &str,
    stats: &Stats,
    cpu: Option<f64>,
    rss: Option<f64>,
) -> Vec<String> {
    vec![
        mode.to_owned(),
        rate.to_string(),
        name.to_owned(),
        ms(pct(&stats.total, 0.5)),
        ms(pct(&stats.total, 0.9)),
        ms(pct(&stats.total, 0.99)),
        ms(stats.total.max() as f64),
        format!("{:.2}", stats.success()),
        cpu.map_or("-".to_owned(), |c| format!("{c:.0}")),
        rss.map_or("-".to_owned(), mib),
    ]
}

fn stats_row(mode: &str, rate: u32, name: &str, stats: &Stats, cpu: f64, rss: f64) -> Vec<String> {
    row(mode, rate, name, stats, Some(cpu), Some(rss))
}

fn added_row(mode: &str, rate: u32, name: &str, stats: &Stats, base: &Stats) -> Vec<String> {
    vec![
        mode.to_owned(),
        rate.to_string(),
        name.to_owned(),
        ms(pct(&stats.total, 0.5) - pct(&base.total, 0.5)),
        ms(pct(&stats.total, 0.9) - pct(&base.total, 0.9)),
        ms(pct(&stats.total, 0.99) - pct(&base.total, 0.99)),
        format!("{:.2}", stats.success()),
    ]
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
        report.heading("1. Overhead: fixed-rate chat completions, zero-delay twin");
        report.note(&format!(
            "Open arrival model; {} s per rate and target; latency to the last byte, ms. CPU is the gateway's, in % of one core; RSS its peak, MiB. `bare proxy` forwards bytes without parsing them: the floor any gateway pays for the extra loopback hop on this machine.",
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
        let mut rows = Vec::new();
        let mut added = Vec::new();
        let mut ratios = Vec::new();
        // (mode, rate) → direct stats and Pincer's (added p50, added p99, peak RSS).
        let mut baselines = Vec::new();
        // Phase 1: direct, Pincer and the floor, interleaved at each rate.
        for stream in [false, true] {
            let mode = if stream { "stream" } else { "json" };
            for &rate in &self.rates {
                let base = fixed_rate(client, direct, stream, rate, self.duration).await?;
                rows.push(row(mode, rate, "direct", &base, None, None));
                let mut pincer = (0.0, 0.0, 0.0);
                for contender in &own {
                    let (stats, cpu, rss) = self.measure(client, contender, stream, rate).await?;
                    if contender.name == "pincer" {
                        pincer = (
                            pct(&stats.total, 0.5) - pct(&base.total, 0.5),
                            pct(&stats.total, 0.99) - pct(&base.total, 0.99),
                            rss,
                        );
                    }
                    rows.push(stats_row(mode, rate, &contender.name, &stats, cpu, rss));
                    added.push(added_row(mode, rate, &contender.name, &stats, &base));
                }
                baselines.push((stream, rate, base, pincer));
            }
        }
        // Embeddings (one vector, unstreamed): InvokeModel on the twin directly, and Pincer's
        // embeddings door in front of it.
        if let (Target::Bedrock { url, .. }, Some(pincer)) =
            (direct, own.iter().find(|c| c.name == "pincer"))
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
                let base = fixed_rate(client, &direct_embed, false, rate, self.duration).await?;
                rows.push(row("embed", rate, "direct", &base, None, None));
                let meter = CpuMeter::start(&pincer.server);
                let stats = fixed_rate(client, &through, false, rate, self.duration).await?;
                let cpu = meter.percent(&pincer.server);
                let rss = pincer.server.peak_rss_mib();
                rows.push(stats_row(
                    "embed",
                    rate,
                    "pincer embeddings",
                    &stats,
                    cpu,
                    rss,
                ));
                added.push(added_row("embed", rate, "pincer embeddings", &stats, &base));
            }
        }
        // Phase 2: the compared gateways, from the lowest rate up, after everything else, so
        // that one that saturates cannot slow the others down. A rate where fewer than half
        // of the requests succeed marks it saturated; its higher rates are skipped.
        for contender in &compared {
            for stream in [false, true] {
                let mode = if stream { "stream" } else { "json" };
                let mut saturated = None;
                for (_, rate, base, pincer) in baselines.iter().filter(|b| b.0 == stream) {
                    if let Some(at) = saturated {
                        rows.push(vec![
                            mode.to_owned(),
                            rate.to_string(),
                            contender.name.clone(),
                            format!("skipped: saturated at {at} req/s"),
                        ]);
                        continue;
                    }
                    wait_until_idle(contender).await;
                    let (stats, cpu, rss) = self.measure(client, contender, stream, *rate).await?;
                    rows.push(stats_row(mode, *rate, &contender.name, &stats, cpu, rss));
                    added.push(added_row(mode, *rate, &contender.name, &stats, base));
                    ratios.push(vec![
                        mode.to_owned(),
                        rate.to_string(),
                        format!("{} / pincer", contender.name),
                        ratio(pct(&stats.total, 0.5) - pct(&base.total, 0.5), pincer.0),
                        ratio(pct(&stats.total, 0.99) - pct(&base.total, 0.99), pincer.1),
                        ratio(rss, pincer.2),
                        format!("{:.2}", stats.success()),
                    ]);
                    if stats.success() < 50.0 {
                        saturated = Some(*rate);
                    }
                }
            }
        }
        report.table(
            &[
                "mode", "req/s", "target", "p50", "p90", "p99", "max", "ok %", "CPU %", "peak RSS",
            ],
            &rows,
        );
        report.note("Added latency (gateway − direct at the same percentile, same run), ms:");
        report.table(
            &["mode", "req/s", "gateway", "p50", "p90", "p99", "ok %"],
            &added,
        );
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
