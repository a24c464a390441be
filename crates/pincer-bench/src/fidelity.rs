//! Scenario 2, streaming fidelity: the twin spaces its deltas 20 ms apart; for each gateway the
//! added time to the first answer text, and how late each later chunk arrives compared with the
//! same chunk straight from the twin (a gateway that buffers shows up here).

use std::time::Duration;

use anyhow::Result;

use crate::contender::Contender;
use crate::load::{Target, histogram, micros, send};
use crate::report::{Report, ms, pct};

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
            "{} streams per target, one at a time. Added time to first text (TTFT) against the median direct TTFT; added per-chunk delay: each chunk's offset from the stream's first text chunk, minus the median direct offset of the same chunk. ms.",
            self.requests
        ));
        let mut direct_runs = Vec::new();
        for _ in 0..self.requests {
            let timing = send(client, direct, true, true).await;
            if timing.ok && !timing.content_chunks.is_empty() {
                direct_runs.push(timing.content_chunks);
            }
        }
        let chunks = direct_runs.iter().map(Vec::len).min().unwrap_or(0);
        let direct_ttft = median(
            &mut direct_runs
                .iter()
                .map(|c| c[0].as_secs_f64() * 1e6)
                .collect::<Vec<_>>(),
        );
        let direct_offsets: Vec<f64> = (0..chunks)
            .map(|k| {
                median(
                    &mut direct_runs
                        .iter()
                        .map(|c| (c[k] - c[0]).as_secs_f64() * 1e6)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let mut rows = vec![vec![
            "direct".to_owned(),
            ms(direct_ttft),
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            chunks.to_string(),
        ]];
        for contender in contenders {
            let mut ttft = histogram()?;
            let mut per_chunk = histogram()?;
            let mut seen = 0;
            for _ in 0..self.requests {
                let timing = send(client, &contender.target, true, true).await;
                if !timing.ok || timing.content_chunks.is_empty() {
                    continue;
                }
                let c = &timing.content_chunks;
                seen = seen.max(c.len());
                let _ = ttft.record(micros(
                    c[0].saturating_sub(Duration::from_secs_f64(direct_ttft / 1e6)),
                ));
                for k in 1..c.len().min(chunks) {
                    let offset = (c[k] - c[0]).as_secs_f64() * 1e6;
                    let _ = per_chunk.record((offset - direct_offsets[k]).max(1.0) as u64);
                }
            }
            rows.push(vec![
                contender.name.clone(),
                ms(direct_ttft + pct(&ttft, 0.5)),
                ms(pct(&ttft, 0.5)),
                ms(pct(&ttft, 0.99)),
                ms(pct(&per_chunk, 0.5)),
                ms(pct(&per_chunk, 0.99)),
                seen.to_string(),
            ]);
        }
        report.table(
            &[
                "target",
                "TTFT p50",
                "added TTFT p50",
                "added TTFT p99",
                "added per-chunk p50",
                "added per-chunk p99",
                "text chunks",
            ],
            &rows,
        );
        Ok(())
    }
}
