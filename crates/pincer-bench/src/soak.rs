//! The soak run: the gateway under a steady mix of streamed and plain requests for a bounded
//! time, with one request in `fault_every` carrying an injected fault (a twin fault on the
//! model id, or the client hanging up mid-stream). It checks that every request without a fault
//! succeeded, that every twin fault reached the client as an error, that every hang-up was seen
//! by the gateway (its `cancelled` request counter), and that resident memory and open file
//! descriptors did not grow; the verdict is the exit status. Each figure is what a client
//! observed: a hang-up is the client's own doing, so it is counted against what the gateway
//! reports, never as a surfaced fault.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use futures_util::StreamExt;
use serde_json::json;

use crate::load::PROMPT;
use crate::procs::Server;
use crate::report::{self, Report};
use crate::samples::{Samples, cell};
use crate::setup::{Bins, MODEL, TOKEN};

/// The injected faults, in turn. `disconnect` is the client's: it hangs up after the first
/// chunk; the others are the twin's (`~fault` on the model id).
const FAULTS: [&str; 11] = [
    "throttle",
    "5xx:500",
    "5xx:503",
    "hangup",
    "midstream-modelStreamErrorException:2",
    "midstream-throttlingException:2",
    "midstream-internalServerException:2",
    "midstream-serviceUnavailableException:2",
    "midstream-validationException:2",
    "reset:2",
    "disconnect",
];

/// Allowed growth of resident memory from the end of the warm-up to the end, in percent.
const MAX_RSS_GROWTH: f64 = 10.0;
/// Allowed growth of open file descriptors (connections being closed at the sample instant).
const MAX_FD_GROWTH: usize = 16;

/// The soak run's settings.
#[derive(Debug, Clone)]
pub(crate) struct Soak {
    /// How long to run.
    pub(crate) duration: Duration,
    /// Requests per second.
    pub(crate) rate: u32,
    /// One request in this many carries a fault.
    pub(crate) fault_every: u64,
}

/// What the requests came to.
#[derive(Debug)]
struct Tally {
    ok: u64,
    /// The first few failures of requests without a fault.
    unexpected: Vec<String>,
    unexpected_count: u64,
    faults_surfaced: [u64; FAULTS.len()],
    faults_hidden: Vec<String>,
    /// Hang-ups: streams the client dropped after their first chunk.
    hangups: u64,
    /// Latency of the successful requests.
    latency: Samples,
}

/// What one request came to.
enum Outcome {
    /// A request without a fault answered completely.
    Ok(Duration),
    /// A request without a fault failed.
    Unexpected(String),
    /// An injected twin fault came back as an error.
    Surfaced(usize),
    /// The client hung up after the first chunk, as planned.
    HungUp,
    /// An injected fault came back as a success.
    Hidden(usize, String),
}

/// One sample of the gateway process.
struct Sample {
    at: Duration,
    rss_mib: f64,
    fds: usize,
    sent: u64,
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

async fn one(client: &reqwest::Client, url: &str, stream: bool, fault: Option<usize>) -> Outcome {
    let started = std::time::Instant::now();
    let model = match fault.map(|f| FAULTS[f]) {
        Some(name) if name != "disconnect" => format!("amazon-bedrock/{MODEL}~{name}"),
        _ => format!("amazon-bedrock/{MODEL}"),
    };
    let disconnect = fault.is_some_and(|f| FAULTS[f] == "disconnect");
    let request = client
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(TOKEN)
        .json(&json!({
            "model": model,
            "stream": stream || disconnect,
            "max_tokens": 256,
            "messages": [{"role": "user", "content": PROMPT}],
        }));
    let failed = |why: String| match fault {
        Some(f) if !disconnect => Outcome::Surfaced(f),
        _ => Outcome::Unexpected(why),
    };
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => return failed(format!("{model}: {error}")),
    };
    let status = response.status();
    if disconnect {
        // Hang up at the first chunk; a stream that fails before it is a failure.
        let mut body = response.bytes_stream();
        return match body.next().await {
            Some(Ok(_)) if status.is_success() => Outcome::HungUp,
            other => Outcome::Unexpected(format!(
                "{model} (to be hung up): {status}: {}",
                match other {
                    Some(Ok(_)) => "an error answer".to_owned(),
                    Some(Err(error)) => error.to_string(),
                    None => "an empty body".to_owned(),
                }
            )),
        };
    }
    let body = match response.text().await {
        Ok(body) => body,
        Err(error) => return failed(format!("{model}: reading the body: {error}")),
    };
    let complete = if stream {
        body.trim_end().ends_with("data: [DONE]") && !body.contains("\"error\":")
    } else {
        body.contains("\"choices\"")
    };
    match (status.is_success() && complete, fault) {
        (true, None) => Outcome::Ok(started.elapsed()),
        (true, Some(f)) => Outcome::Hidden(f, format!("{model} (stream: {stream})")),
        (false, Some(f)) => Outcome::Surfaced(f),
        (false, None) => {
            let excerpt: String = body.chars().take(300).collect();
            Outcome::Unexpected(format!("{model} (stream: {stream}): {status}: {excerpt}"))
        }
    }
}

impl Soak {
    /// Runs the soak against a fresh twin and gateway; returns whether it passed.
    pub(crate) async fn run(&self, bins: &Bins, report: &mut Report) -> Result<bool> {
        let twin = crate::setup::twin(bins, &["--delay-ms", "2", "--deltas", "8"])?;
        let work = tempfile::tempdir()?;
        let gateway = crate::setup::gateway(bins, &twin.url, work.path())?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(usize::MAX)
            .timeout(Duration::from_secs(120))
            .build()?;
        let idle_rss = gateway.rss_mib();
        let idle_fds = open_fds(gateway.pid());
        report::announce(&format!(
            "soak: {} s at {} req/s, one request in {} faulty",
            self.duration.as_secs(),
            self.rate,
            self.fault_every
        ));
        let tally = Arc::new(Mutex::new(Tally {
            ok: 0,
            unexpected: Vec::new(),
            unexpected_count: 0,
            faults_surfaced: [0; FAULTS.len()],
            faults_hidden: Vec::new(),
            hangups: 0,
            latency: Samples::default(),
        }));
        let count = (f64::from(self.rate) * self.duration.as_secs_f64()).round() as u64;
        let period = Duration::from_secs_f64(1.0 / f64::from(self.rate.max(1)));
        let start = tokio::time::Instant::now();
        let sample_every = Duration::from_secs(5);
        let mut next_sample = start;
        let mut samples = Vec::new();
        let mut tasks = Vec::new();
        for i in 0..count {
            let at = start + period.mul_f64(i as f64);
            tokio::time::sleep_until(at).await;
            if tokio::time::Instant::now() >= next_sample {
                samples.push(Sample {
                    at: start.elapsed(),
                    rss_mib: gateway.rss_mib(),
                    fds: open_fds(gateway.pid()),
                    sent: i,
                });
                next_sample += sample_every;
            }
            let fault = (i % self.fault_every == self.fault_every - 1)
                .then(|| usize::try_from(i / self.fault_every).unwrap_or(0) % FAULTS.len());
            let (client, url, tally) = (client.clone(), gateway.url.clone(), tally.clone());
            tasks.push(tokio::spawn(async move {
                let outcome = one(&client, &url, i % 2 == 0, fault).await;
                if let Ok(mut tally) = tally.lock() {
                    match outcome {
                        Outcome::Ok(latency) => {
                            tally.ok += 1;
                            tally.latency.record(latency);
                        }
                        Outcome::Unexpected(why) => {
                            tally.unexpected_count += 1;
                            if tally.unexpected.len() < 5 {
                                tally.unexpected.push(why);
                            }
                        }
                        Outcome::Surfaced(f) => tally.faults_surfaced[f] += 1,
                        Outcome::HungUp => tally.hangups += 1,
                        Outcome::Hidden(f, what) => {
                            tally.faults_hidden.push(format!("{}: {what}", FAULTS[f]));
                        }
                    }
                }
            }));
            // Finished tasks are dropped as we go, so the list stays short.
            if tasks.len() > 4096 {
                tasks.retain(|t: &tokio::task::JoinHandle<()>| !t.is_finished());
            }
        }
        for task in tasks {
            let _ = task.await;
        }
        let elapsed = start.elapsed();
        // Let connections the clients closed be closed on the server's side too.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let end_rss = gateway.rss_mib();
        let end_fds = open_fds(gateway.pid());
        let metrics = scrape(&client, &gateway).await;
        let active = metric(&metrics, "pincer_active_streams ", |_| true);
        // No `cancelled` series means none, once the page could be read at all.
        let cancelled = (!metrics.is_empty()).then(|| {
            metric(&metrics, "pincer_requests_total{", |l| {
                l.contains("outcome=\"cancelled\"")
            })
            .unwrap_or(0.0)
        });
        // Every task has finished: the tally has one owner left.
        let mut tally = Arc::try_unwrap(tally)
            .map_err(|_| anyhow::anyhow!("a request task outlived the run"))?
            .into_inner()
            .map_err(|_| anyhow::anyhow!("a request task panicked"))?;
        // Memory is compared from the end of the warm-up: the first tenth of the run, at least
        // ten seconds, when allocator pools and connection pools have reached their size.
        let warm_up = (self.duration / 10).max(Duration::from_secs(10));
        let warm = samples
            .iter()
            .find(|s| s.at >= warm_up)
            .or(samples.last())
            .map_or((end_rss, end_fds), |s| (s.rss_mib, s.fds));
        let growth = (end_rss - warm.0) / warm.0 * 100.0;
        let faults: u64 = tally.faults_surfaced.iter().sum();

        report.heading("Soak");
        report.note(&format!(
            "{} s at {} req/s (half streamed), one request in {} with an injected fault; twin deltas 2 ms apart.",
            elapsed.as_secs(),
            self.rate,
            self.fault_every
        ));
        let (p50, p99) = (
            cell(&mut tally.latency, 0.5),
            cell(&mut tally.latency, 0.99),
        );
        report.table(
            &[
                "requests",
                "ok",
                "unexpected errors",
                "twin faults surfaced",
                "twin faults hidden",
                "hang-ups",
                "seen by the gateway",
                "n",
                "p50 ms",
                "p99 ms",
            ],
            &[vec![
                count.to_string(),
                tally.ok.to_string(),
                tally.unexpected_count.to_string(),
                faults.to_string(),
                tally.faults_hidden.len().to_string(),
                tally.hangups.to_string(),
                cancelled.map_or("unknown".to_owned(), |c| format!("{c:.0}")),
                tally.latency.len().to_string(),
                p50,
                p99,
            ]],
        );
        report.table(
            &["twin fault", "reached the client as an error"],
            &FAULTS
                .iter()
                .zip(tally.faults_surfaced)
                .filter(|(f, _)| **f != "disconnect")
                .map(|(f, n)| vec![(*f).to_owned(), n.to_string()])
                .collect::<Vec<_>>(),
        );
        report.table(
            &["gateway", "idle", "after warm-up", "end", "growth"],
            &[
                vec![
                    "RSS MiB".to_owned(),
                    report::mib(idle_rss),
                    report::mib(warm.0),
                    report::mib(end_rss),
                    format!("{growth:+.1} %"),
                ],
                vec![
                    "open fds".to_owned(),
                    idle_fds.to_string(),
                    warm.1.to_string(),
                    end_fds.to_string(),
                    format!("{:+}", end_fds as i64 - warm.1 as i64),
                ],
            ],
        );
        report.table(
            &["t s", "sent", "RSS MiB", "fds"],
            &samples
                .iter()
                .filter(|s| s.at.as_secs() % 60 < 5)
                .map(|s| {
                    vec![
                        s.at.as_secs().to_string(),
                        s.sent.to_string(),
                        report::mib(s.rss_mib),
                        s.fds.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        );
        let mut failures = Vec::new();
        if tally.unexpected_count > 0 {
            failures.push(format!(
                "{} requests without a fault failed, e.g. {:?}",
                tally.unexpected_count, tally.unexpected
            ));
        }
        if !tally.faults_hidden.is_empty() {
            failures.push(format!(
                "faults answered as successes: {:?}",
                tally.faults_hidden.iter().take(5).collect::<Vec<_>>()
            ));
        }
        if growth > MAX_RSS_GROWTH {
            failures.push(format!(
                "resident memory grew {growth:.1} % (limit {MAX_RSS_GROWTH} %)"
            ));
        }
        if end_fds > warm.1 + MAX_FD_GROWTH {
            failures.push(format!("open fds grew from {} to {end_fds}", warm.1));
        }
        if cancelled != Some(tally.hangups as f64) {
            failures.push(format!(
                "the client hung up {} times; the gateway counted {cancelled:?} cancelled requests",
                tally.hangups
            ));
        }
        if active != Some(0.0) {
            failures.push(format!("active streams at the end: {active:?}"));
        }
        if failures.is_empty() {
            report.note("Verdict: **pass**.");
        } else {
            report.note(&format!("Verdict: **fail**: {}.", failures.join("; ")));
        }
        drop(twin);
        Ok(failures.is_empty())
    }
}

/// The gateway's `/metrics` page (empty when it cannot be read).
async fn scrape(client: &reqwest::Client, gateway: &Server) -> String {
    let answer = client
        .get(format!("{}/metrics", gateway.url))
        .bearer_auth(TOKEN)
        .send()
        .await;
    match answer {
        Ok(answer) => answer.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The sum of the samples on lines that start with `prefix` and pass `keep`, if there are any.
fn metric(page: &str, prefix: &str, keep: impl Fn(&str) -> bool) -> Option<f64> {
    let values: Vec<f64> = page
        .lines()
        .filter(|l| l.starts_with(prefix) && keep(l))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}
