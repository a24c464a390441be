//! Scenario 1, overhead: chat completions at fixed rates against the zero-delay twin, directly
//! and through each gateway, with the same client and the same question. The difference at each
//! percentile is what the gateway adds.

use std::time::Duration;

use anyhow::Result;

use crate::contender::Contender;
use crate::load::{Stats, Target, fixed_rate};
use crate::procs::CpuMeter;
use crate::report::{Report, mib, ms, pct};

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

/// `a / b`, or `-` when `b` is not positive.
pub(crate) fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.1}×", a / b)
    } else {
        "-".to_owned()
    }
}

impl Overhead {
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
                fixed_rate(client, target, stream, 100, Duration::from_secs(1)).await?;
            }
        }
        let mut rows = Vec::new();
        let mut added = Vec::new();
        let mut ratios = Vec::new();
        for stream in [false, true] {
            let mode = if stream { "stream" } else { "json" };
            for &rate in &self.rates {
                let base = fixed_rate(client, direct, stream, rate, self.duration).await?;
                rows.push(row(mode, rate, "direct", &base, None, None));
                // (added p50, added p99, peak RSS) per contender, for the ratios.
                let mut figures: Vec<(f64, f64, f64, f64)> = Vec::new();
                for contender in contenders {
                    let meter = CpuMeter::start(&contender.server);
                    let stats =
                        fixed_rate(client, &contender.target, stream, rate, self.duration).await?;
                    let cpu = meter.percent(&contender.server);
                    let rss = contender.server.peak_rss_mib();
                    rows.push(row(
                        mode,
                        rate,
                        &contender.name,
                        &stats,
                        Some(cpu),
                        Some(rss),
                    ));
                    figures.push((
                        pct(&stats.total, 0.5) - pct(&base.total, 0.5),
                        pct(&stats.total, 0.99) - pct(&base.total, 0.99),
                        rss,
                        stats.success(),
                    ));
                    added.push(vec![
                        mode.to_owned(),
                        rate.to_string(),
                        contender.name.clone(),
                        ms(pct(&stats.total, 0.5) - pct(&base.total, 0.5)),
                        ms(pct(&stats.total, 0.9) - pct(&base.total, 0.9)),
                        ms(pct(&stats.total, 0.99) - pct(&base.total, 0.99)),
                        format!("{:.2}", stats.success()),
                    ]);
                }
                if let [(p50, p99, rss, _), others @ ..] = figures.as_slice() {
                    for ((o50, o99, orss, ok), contender) in others.iter().zip(&contenders[1..]) {
                        if contender.name == "bare proxy" {
                            continue;
                        }
                        ratios.push(vec![
                            mode.to_owned(),
                            rate.to_string(),
                            format!("{} / {}", contender.name, contenders[0].name),
                            ratio(*o50, *p50),
                            ratio(*o99, *p99),
                            ratio(*orss, *rss),
                            format!("{ok:.2}"),
                        ]);
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
        Ok(())
    }
}
