//! Scenario 3, concurrency and memory: N streams held open at once against a twin that sends
//! one delta per second; the gateway's resident memory idle, with all N open, and per stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::contender::Contender;
use crate::load::send;
use crate::overhead::{PINCER, ratio};
use crate::report::{Report, mib};

/// The stream count a goal is stated at.
const GOAL_STREAMS: usize = 1000;
/// Bytes in a MiB.
const MIB: f64 = 1024.0 * 1024.0;

/// Settings of the scenario.
#[derive(Debug, Clone)]
pub(crate) struct Streams {
    /// Concurrent stream counts.
    pub(crate) counts: Vec<usize>,
    /// How long each stream lasts (one delta per second).
    pub(crate) hold: Duration,
}

impl Streams {
    /// Runs it against `contenders` (each in front of a one-delta-per-second twin).
    pub(crate) async fn run(
        &self,
        client: &reqwest::Client,
        contenders: &[Contender],
        report: &mut Report,
    ) -> Result<()> {
        report.heading("3. Concurrency and memory: slow streams held open");
        report.note(&format!(
            "Each stream gets one delta per second for {} s. RSS in MiB: idle (after one request), with all streams open (peak during the hold), and the growth per stream in KiB.",
            self.hold.as_secs()
        ));
        let mut rows = Vec::new();
        // (count, peak, per stream) per contender.
        let mut figures: Vec<Vec<(usize, f64, f64)>> = Vec::new();
        for contender in contenders {
            let mut mine = Vec::new();
            // One request first, so that idle means ready to serve.
            let _ = send(client, &contender.target, false, false).await;
            let idle = contender.server.rss_mib();
            if contender.name == PINCER {
                report.goal(
                    "pincer: idle RSS (after one request)",
                    "≤ 20 MB (19.1 MiB)",
                    Some(format!("{} MiB", mib(idle))),
                    Some(idle * MIB <= 20e6),
                );
            }
            for &count in &self.counts {
                let started = Instant::now();
                let ok = Arc::new(AtomicU64::new(0));
                let mut tasks = Vec::with_capacity(count);
                for _ in 0..count {
                    let client = client.clone();
                    let target = contender.target.clone();
                    let ok = ok.clone();
                    tasks.push(tokio::spawn(async move {
                        if send(&client, &target, true, false).await.ok {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                    }));
                }
                let mut peak: f64 = 0.0;
                while tasks.iter().any(|t| !t.is_finished()) {
                    peak = peak.max(contender.server.rss_mib());
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                for task in tasks {
                    let _ = task.await;
                }
                let ok = ok.load(Ordering::Relaxed);
                let per_stream = (peak - idle).max(0.0) * 1024.0 / count as f64;
                if contender.name == PINCER && count == GOAL_STREAMS {
                    report.goal(
                        &format!("pincer: RSS with {count} streams open"),
                        "≤ 64 MB (61.0 MiB)",
                        Some(format!("{} MiB", mib(peak))),
                        Some(peak * MIB <= 64e6),
                    );
                }
                mine.push((count, peak, per_stream));
                rows.push(vec![
                    contender.name.clone(),
                    count.to_string(),
                    mib(idle),
                    mib(peak),
                    format!("{per_stream:.0}"),
                    format!("{:.2}", ok as f64 / count as f64 * 100.0),
                    format!("{:.1}", started.elapsed().as_secs_f64()),
                ]);
            }
            figures.push(mine);
        }
        report.table(
            &[
                "gateway",
                "streams",
                "idle RSS",
                "RSS with all open",
                "KiB per stream",
                "ok %",
                "wall s",
            ],
            &rows,
        );
        if let [first, others @ ..] = figures.as_slice() {
            let mut ratios = Vec::new();
            for (other, contender) in others.iter().zip(&contenders[1..]) {
                for ((count, peak, per), (_, opeak, oper)) in first.iter().zip(other) {
                    ratios.push(vec![
                        format!("{} / {}", contender.name, contenders[0].name),
                        count.to_string(),
                        ratio(*opeak, *peak),
                        ratio(*oper, *per),
                    ]);
                }
            }
            if !ratios.is_empty() {
                report.note("Memory ratios in the same run:");
                report.table(
                    &["ratio", "streams", "RSS with all open", "per stream"],
                    &ratios,
                );
            }
        }
        Ok(())
    }
}
