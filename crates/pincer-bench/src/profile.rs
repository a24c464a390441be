//! The profile scenario: where the gateway's CPU goes at a fixed rate. `perf record` samples the
//! gateway process (software clock, so it works on machines without hardware counters) while
//! chat completions arrive at the given rate; the report groups the samples' own (self) time by
//! the component their function belongs to, then lists the hottest functions. Grouping by self
//! time needs no call-graph unwinding, so every sample is attributed.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::contender::Contender;
use crate::load::fixed_rate;
use crate::report::Report;

/// Settings of the scenario.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    /// Requests per second while sampling.
    pub(crate) rate: u32,
    /// How long to sample.
    pub(crate) duration: Duration,
}

/// The component a function (as `perf report` names it) or shared object belongs to.
fn component(object: &str, symbol: &str) -> &'static str {
    let name = symbol
        .trim_start_matches('<')
        .trim_start_matches('&')
        .trim_start_matches("mut ");
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| name.starts_with(p));
    if object.contains("kernel") {
        "kernel (sockets, scheduling)"
    } else if starts(&["aws_", "crc32fast"]) {
        "AWS SDK (smithy orchestrator, event stream, JSON)"
    } else if starts(&[
        "hyper", "http", "axum", "tower", "httparse", "h2::", "bytes::",
    ]) {
        "HTTP (hyper, axum, tower, http)"
    } else if starts(&["tokio", "mio"]) {
        "tokio"
    } else if starts(&["pincer_"]) {
        "Pincer"
    } else if starts(&["serde", "ryu", "itoa"]) {
        "serde"
    } else if starts(&["tracing", "sharded_slab"]) {
        "tracing"
    } else if starts(&["_rjem", "do_rallocx", "tikv_jemalloc"]) {
        "allocator (jemalloc)"
    } else if object.starts_with("libc") || object.starts_with("libm") || object == "[vdso]" {
        "libc (memcpy, clock)"
    } else {
        "other Rust (core, alloc, futures, hashbrown…)"
    }
}

impl Profile {
    /// Samples `contender` under load and writes the tables.
    pub(crate) async fn run(
        &self,
        client: &reqwest::Client,
        contender: &Contender,
        report: &mut Report,
    ) -> Result<()> {
        let work = tempfile::tempdir()?;
        let data = work.path().join("perf.data");
        fixed_rate(
            client,
            &contender.target,
            false,
            self.rate,
            Duration::from_secs(2),
        )
        .await?;
        let mut perf = Command::new("perf")
            .args(["record", "-q", "-e", "cpu-clock", "-F", "999", "-p"])
            .arg(contender.server.pid().to_string())
            .arg("-o")
            .arg(&data)
            .arg("--")
            .args(["sleep", &self.duration.as_secs().to_string()])
            .spawn()
            .context("starting `perf record` (Debian: linux-perf)")?;
        // perf needs a moment to attach.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stats = fixed_rate(
            client,
            &contender.target,
            false,
            self.rate,
            self.duration.saturating_sub(Duration::from_millis(600)),
        )
        .await?;
        let status = perf.wait()?;
        if !status.success() {
            bail!("perf record failed ({status})");
        }
        let rows = read(&data)?;
        let total: f64 = rows.iter().map(|r| r.0).sum();
        report.heading(&format!(
            "Profile: where {}'s CPU goes at {} req/s",
            contender.name, self.rate
        ));
        report.note(&format!(
            "`perf record -e cpu-clock -F 999` on the gateway for {} s while unstreamed chat completions arrived at {} req/s ({} answered); {} samples. Self time (the function the sample was in), in % of the gateway's samples:",
            self.duration.as_secs(),
            self.rate,
            stats.ok,
            rows.iter().map(|r| r.3).sum::<u64>(),
        ));
        let mut groups: Vec<(&'static str, f64)> = Vec::new();
        for (share, object, symbol, _) in &rows {
            let group = component(object, symbol);
            match groups.iter_mut().find(|g| g.0 == group) {
                Some(g) => g.1 += share,
                None => groups.push((group, *share)),
            }
        }
        groups.sort_by(|a, b| b.1.total_cmp(&a.1));
        report.table(
            &["component", "self %"],
            &groups
                .iter()
                .map(|(g, share)| vec![(*g).to_owned(), format!("{:.1}", share / total * 100.0)])
                .collect::<Vec<_>>(),
        );
        report.note("The hottest functions:");
        report.table(
            &["self %", "object", "function"],
            &rows
                .iter()
                .take(20)
                .map(|(share, object, symbol, _)| {
                    let short: String = symbol.chars().take(110).collect();
                    vec![
                        format!("{:.2}", share / total * 100.0),
                        object.clone(),
                        format!("`{}`", short.replace('|', "\\|").replace('`', "'")),
                    ]
                })
                .collect::<Vec<_>>(),
        );
        Ok(())
    }
}

/// `perf report`'s flat profile: (share %, object, symbol, samples) per function, hottest first.
fn read(data: &Path) -> Result<Vec<(f64, String, String, u64)>> {
    let output = Command::new("perf")
        .args([
            "report",
            "--stdio",
            "--no-children",
            "-F",
            "overhead,sample,dso,sym",
        ])
        .args(["--percent-limit", "0", "-i"])
        .arg(data)
        .output()
        .context("running `perf report`")?;
    if !output.status.success() {
        bail!(
            "perf report failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(rows_of(&String::from_utf8_lossy(&output.stdout)))
}

/// The rows of `perf report --stdio -F overhead,sample,dso,sym` output.
fn rows_of(text: &str) -> Vec<(f64, String, String, u64)> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        // `12.34%  567  object  [.] symbol`
        let mut parts = line.split_whitespace();
        let (Some(share), Some(samples), Some(object)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(share) = share.trim_end_matches('%').parse::<f64>() else {
            continue;
        };
        let samples = samples.parse().unwrap_or(0);
        let rest: Vec<&str> = parts.collect();
        let symbol = rest
            .iter()
            .skip_while(|p| p.starts_with('['))
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        rows.push((share, object.to_owned(), symbol, samples));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_rows_are_read_and_grouped_by_component() {
        let text = "# Samples: 3K of event 'cpu-clock'\n#\n\
            \x20   12.50%   500  pincer            [.] aws_smithy_runtime::client::orchestrator::try_op\n\
            \x20    2.00%    80  [kernel.kallsyms]  [k] tcp_sendmsg\n\
            \x20    1.00%    40  pincer            [.] <pincer_openai::X as serde::Serialize>::serialize\n";
        let rows = rows_of(text);
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(rows[0].0, 12.5);
        assert_eq!(rows[0].3, 500);
        assert_eq!(
            rows[0].2,
            "aws_smithy_runtime::client::orchestrator::try_op"
        );
        let groups: Vec<&str> = rows.iter().map(|r| component(&r.1, &r.2)).collect();
        assert!(groups[0].starts_with("AWS SDK"), "{groups:?}");
        assert!(groups[1].starts_with("kernel"), "{groups:?}");
        assert_eq!(groups[2], "Pincer");
    }
}
