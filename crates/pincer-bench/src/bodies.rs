//! Scenario 4, large request bodies: what one request of `size` MiB (a long prompt, as an
//! inline image or document would be) costs the gateway in memory at its peak, what several at
//! once cost, and whether the memory goes back afterwards.
//!
//! The body is over Bedrock's 20 MB request limit, so the twin refuses it with 413 after the
//! gateway has done all its work (read, parse, convert, build and send the Bedrock request):
//! the gateway's peak is what is measured, not the answer.

use std::time::Duration;

use anyhow::Result;

use crate::contender::Contender;
use crate::report::{Report, mib};

/// Settings of the scenario.
#[derive(Debug, Clone)]
pub(crate) struct Bodies {
    /// Body size in MiB.
    pub(crate) size_mib: usize,
    /// Requests sent at once in the second round.
    pub(crate) concurrent: usize,
}

impl Bodies {
    /// Runs it against Pincer's gateway (the first contender).
    pub(crate) async fn run(
        &self,
        client: &reqwest::Client,
        contenders: &[Contender],
        report: &mut Report,
    ) -> Result<()> {
        let Some(pincer) = contenders.first() else {
            return Ok(());
        };
        let crate::load::Target::OpenAi { url, model, token } = &pincer.target else {
            return Ok(());
        };
        report.heading("4. Large request bodies: peak memory and what comes back");
        let prompt = "x".repeat(self.size_mib << 20);
        let body = serde_json::to_vec(&serde_json::json!({
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
        }))?;
        drop(prompt);
        let body_mib = body.len() as f64 / f64::from(1 << 20);
        report.note(&format!(
            "One request with a {body_mib:.1} MiB body, then {} at once; RSS in MiB of the gateway process: before, its peak (VmHWM, sampled by the kernel), and 5 s after the last answer. \"Per request\" is (peak − before) / (requests × body size).",
            self.concurrent
        ));
        let send = |body: Vec<u8>| {
            let request = client
                .post(format!("{url}/v1/chat/completions"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body);
            async move {
                request
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }
        };
        // A small request first, so that "before" means ready to serve.
        let _ = crate::load::send(client, &pincer.target, false, false).await;
        let mut rows = Vec::new();
        for requests in [1, self.concurrent] {
            let before = pincer.server.rss_mib();
            let reset = pincer.server.reset_peak_rss();
            let statuses: Vec<u16> =
                futures_util::future::join_all((0..requests).map(|_| send(body.clone()))).await;
            let peak = pincer.server.peak_rss_mib();
            tokio::time::sleep(Duration::from_secs(5)).await;
            let after = pincer.server.rss_mib();
            let refused = statuses.iter().filter(|s| **s == 413).count();
            rows.push(vec![
                requests.to_string(),
                mib(before),
                mib(peak),
                mib(after),
                format!(
                    "{:.1}×",
                    (peak - before).max(0.0) / (requests as f64 * body_mib)
                ),
                format!("{refused}/{requests}"),
                if reset { "this round" } else { "since start" }.to_owned(),
            ]);
        }
        report.table(
            &[
                "requests at once",
                "RSS before",
                "peak RSS",
                "RSS 5 s after",
                "per request",
                "413 from Bedrock",
                "peak of",
            ],
            &rows,
        );
        Ok(())
    }
}
