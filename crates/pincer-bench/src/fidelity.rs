//! Scenario 2, streaming fidelity: the twin spaces its deltas 20 ms apart. Streams go one at a
//! time, alternating between the twin itself and each gateway. For every stream: the time to the
//! first answer text (TTFT), and each later text chunk's offset from that first one compared with
//! the median offset of the same chunk straight from the twin. The twin's own timer jitter shows
//! in the direct streams too, so "added" is the gateway's percentile minus the direct one.

use anyhow::Result;
use hdrhistogram::Histogram;

use crate::contender::Contender;
use crate::load::{Target, histogram, send};
use crate::report::{Report, ms, pct};

/// Settings of the scenario.
#[derive(Debug, Clone)]
pub(crate) struct Fidelity {
    /// Streams per target.
    pub(crate) requests: usize,
}

/// Signed microseconds are recorded shifted by this much (histograms hold positive values).
const SHIFT: f64 = 1_000_000.0;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

struct Figures {
    ttft: Histogram<u64>,
    deviation: Histogram<u64>,
    chunks: usize,
}

fn shifted(h: &Histogram<u64>, q: f64) -> f64 {
    pct(h, q) - SHIFT
}

impl Fidelity {
    /// Runs it against `direct` and `contenders` (in front of a 20 ms-per-delta twin).
    pub(crate) async fn run(
        &self,
        client: &reqwest::Client,
        direct: &Target,
        contenders: &[Contender],
        report: &mut Report,
    ) -> Result<()> {
        report.heading("2. Streaming fidelity: deltas 20 ms apart");
        report.note(&format!(
            "{} streams per target, one at a time, alternating targets. TTFT: time to the first answer text. Chunk lag: each text chunk's offset from the first one, minus the median direct offset of the same chunk. ms; added = gateway − direct at the same percentile.",
            self.requests
        ));
        let targets: Vec<(&str, &Target)> = std::iter::once(("direct", direct))
            .chain(contenders.iter().map(|c| (c.name.as_str(), &c.target)))
            .collect();
        let mut runs: Vec<Vec<Vec<std::time::Duration>>> = vec![Vec::new(); targets.len()];
        for _ in 0..self.requests {
            for (i, (_, target)) in targets.iter().enumerate() {
                let timing = send(client, target, true, true).await;
                if timing.ok && !timing.content_chunks.is_empty() {
                    runs[i].push(timing.content_chunks);
                }
            }
        }
        let chunks = runs[0].iter().map(Vec::len).min().unwrap_or(0);
        let offsets: Vec<f64> = (0..chunks)
            .map(|k| {
                median(
                    &mut runs[0]
                        .iter()
                        .map(|c| (c[k] - c[0]).as_secs_f64() * 1e6)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let mut figures = Vec::new();
        for streams in &runs {
            let mut f = Figures {
                ttft: histogram()?,
                deviation: histogram()?,
                chunks: 0,
            };
            for c in streams {
                f.chunks = f.chunks.max(c.len());
                let _ = f.ttft.record((c[0].as_secs_f64() * 1e6 + SHIFT) as u64);
                for k in 1..c.len().min(chunks) {
                    let offset = (c[k] - c[0]).as_secs_f64() * 1e6;
                    let _ = f
                        .deviation
                        .record((offset - offsets[k] + SHIFT).max(1.0) as u64);
                }
            }
            figures.push(f);
        }
        let direct_figures = &figures[0];
        let mut rows = Vec::new();
        for ((name, _), f) in targets.iter().zip(&figures) {
            let added = |h: &Histogram<u64>, base: &Histogram<u64>, q: f64| {
                if *name == "direct" {
                    "-".to_owned()
                } else {
                    ms(shifted(h, q) - shifted(base, q))
                }
            };
            rows.push(vec![
                (*name).to_owned(),
                ms(shifted(&f.ttft, 0.5)),
                ms(shifted(&f.ttft, 0.99)),
                added(&f.ttft, &direct_figures.ttft, 0.5),
                added(&f.ttft, &direct_figures.ttft, 0.99),
                ms(shifted(&f.deviation, 0.99)),
                added(&f.deviation, &direct_figures.deviation, 0.5),
                added(&f.deviation, &direct_figures.deviation, 0.99),
                f.chunks.to_string(),
            ]);
        }
        report.table(
            &[
                "target",
                "TTFT p50",
                "TTFT p99",
                "added TTFT p50",
                "added TTFT p99",
                "chunk lag p99",
                "added chunk lag p50",
                "added chunk lag p99",
                "text chunks",
            ],
            &rows,
        );
        Ok(())
    }
}
