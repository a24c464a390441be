//! Scenario 2, streaming fidelity: the twin spaces its deltas 20 ms apart. Streams go one at a
//! time, alternating between the twin itself and each gateway. For every stream: the time to the
//! first answer text (TTFT), and each later text chunk's offset from that first one compared with
//! the median offset of the same chunk straight from the twin. The twin's own timer jitter shows
//! in the direct streams too, so "added" is the gateway's percentile minus the direct one.

use anyhow::Result;

use crate::contender::Contender;
use crate::load::{Target, send};
use crate::report::Report;
use crate::samples::{Samples, added_cell, cell, max_cell};

/// Settings of the scenario.
#[derive(Debug, Clone)]
pub(crate) struct Fidelity {
    /// Streams per target.
    pub(crate) requests: usize,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// One target's samples, in microseconds: TTFT per stream, and each later chunk's deviation
/// from the direct median (signed).
#[derive(Default)]
struct Figures {
    ttft: Samples,
    deviation: Samples,
    chunks: usize,
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
            "{} streams per target, one at a time, alternating targets. TTFT: time to the first answer text. Chunk lag: each text chunk's offset from the first one, minus the median direct offset of the same chunk. ms, from raw samples (microsecond resolution); n counts the samples, and a percentile with fewer than 10 samples beyond it is not given; added = gateway − direct at the same percentile.",
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
            let mut f = Figures::default();
            for c in streams {
                f.chunks = f.chunks.max(c.len());
                f.ttft.record(c[0]);
                for k in 1..c.len().min(chunks) {
                    let offset = (c[k] - c[0]).as_secs_f64() * 1e6;
                    f.deviation.push(offset - offsets[k]);
                }
            }
            figures.push(f);
        }
        let Some((direct_figures, gateways)) = figures.split_first_mut() else {
            return Ok(());
        };
        let mut rows = Vec::new();
        let mut push = |name: &str, f: &mut Figures, base: Option<&mut Figures>| {
            let mut row = vec![
                name.to_owned(),
                f.ttft.len().to_string(),
                cell(&mut f.ttft, 0.5),
                cell(&mut f.ttft, 0.99),
                max_cell(&mut f.ttft),
            ];
            let (added_ttft, added_lag) = match base {
                Some(base) => (
                    [
                        added_cell(&mut f.ttft, &mut base.ttft, 0.5),
                        added_cell(&mut f.ttft, &mut base.ttft, 0.99),
                    ],
                    [
                        added_cell(&mut f.deviation, &mut base.deviation, 0.5),
                        added_cell(&mut f.deviation, &mut base.deviation, 0.99),
                    ],
                ),
                None => (
                    ["-".to_owned(), "-".to_owned()],
                    ["-".to_owned(), "-".to_owned()],
                ),
            };
            row.extend(added_ttft);
            row.extend([
                f.deviation.len().to_string(),
                cell(&mut f.deviation, 0.5),
                cell(&mut f.deviation, 0.99),
                max_cell(&mut f.deviation),
            ]);
            row.extend(added_lag);
            row.push(f.chunks.to_string());
            rows.push(row);
        };
        push("direct", &mut *direct_figures, None);
        for ((name, _), f) in targets.iter().skip(1).zip(gateways.iter_mut()) {
            push(name, f, Some(&mut *direct_figures));
        }
        report.table(
            &[
                "target",
                "streams",
                "TTFT p50",
                "TTFT p99",
                "TTFT max",
                "added TTFT p50",
                "added TTFT p99",
                "chunk samples",
                "chunk lag p50",
                "chunk lag p99",
                "chunk lag max",
                "added chunk lag p50",
                "added chunk lag p99",
                "text chunks",
            ],
            &rows,
        );
        Ok(())
    }
}
