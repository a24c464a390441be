//! Load generation with an open arrival model: request `i` is sent at `start + i / rate`
//! whether or not earlier ones have answered, so a slow server shows up as queueing in the
//! latencies instead of silently lowering the rate. Each request records its latency to the
//! last byte, and streamed ones the arrival time of every body chunk that carries text.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use futures_util::StreamExt;
use serde_json::json;

use crate::procs::CpuMeter;
use crate::samples::Samples;

/// Who a request goes to, in its own protocol, asking the same thing.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// Bedrock's runtime API on the twin (bearer auth), `Converse` or `ConverseStream`.
    Bedrock {
        /// Base URL.
        url: String,
        /// Model id.
        model: String,
    },
    /// An OpenAI-compatible gateway, `/v1/chat/completions`.
    OpenAi {
        /// Base URL (without `/v1`).
        url: String,
        /// Model as the gateway names it.
        model: String,
        /// The gateway's bearer token.
        token: String,
    },
    /// Bedrock's InvokeModel on the twin, with a Titan Text Embeddings V2 body.
    BedrockEmbed {
        /// Base URL.
        url: String,
        /// Embedding model id.
        model: String,
    },
    /// Pincer's embeddings door, `/v1/embeddings`.
    Embeddings {
        /// Base URL (without `/v1`).
        url: String,
        /// Model as the gateway names it.
        model: String,
        /// The gateway's bearer token.
        token: String,
    },
    /// Pincer's Messages door, `/v1/messages`.
    Messages {
        /// Base URL (without `/v1`).
        url: String,
        /// Model as the gateway names it.
        model: String,
        /// The gateway's token, sent as `x-api-key`.
        token: String,
    },
    /// Pincer's Responses door, `/v1/responses`.
    Responses {
        /// Base URL (without `/v1`).
        url: String,
        /// Model as the gateway names it.
        model: String,
        /// The gateway's bearer token.
        token: String,
    },
}

/// The prompt every request sends.
pub(crate) const PROMPT: &str = "Benchmark request: answer with this sentence.";

impl Target {
    pub(crate) fn request(
        &self,
        client: &reqwest::Client,
        stream: bool,
    ) -> reqwest::RequestBuilder {
        match self {
            Target::Bedrock { url, model } => {
                let action = if stream {
                    "converse-stream"
                } else {
                    "converse"
                };
                client
                    .post(format!("{url}/model/{model}/{action}"))
                    .bearer_auth("twin-bearer")
                    .json(&json!({
                        "messages": [{"role": "user", "content": [{"text": PROMPT}]}],
                        "inferenceConfig": {"maxTokens": 256},
                    }))
            }
            Target::OpenAi { url, model, token } => client
                .post(format!("{url}/v1/chat/completions"))
                .bearer_auth(token)
                .json(&json!({
                    "model": model,
                    "stream": stream,
                    "max_tokens": 256,
                    "messages": [{"role": "user", "content": PROMPT}],
                })),
            Target::BedrockEmbed { url, model } => client
                .post(format!("{url}/model/{model}/invoke"))
                .bearer_auth("twin-bearer")
                .json(&json!({"inputText": PROMPT, "normalize": true})),
            Target::Embeddings { url, model, token } => client
                .post(format!("{url}/v1/embeddings"))
                .bearer_auth(token)
                .json(&json!({"model": model, "input": PROMPT, "encoding_format": "float"})),
            Target::Messages { url, model, token } => client
                .post(format!("{url}/v1/messages"))
                .header("x-api-key", token)
                .header("anthropic-version", "2023-06-01")
                .json(&json!({
                    "model": model,
                    "stream": stream,
                    "max_tokens": 256,
                    "messages": [{"role": "user", "content": PROMPT}],
                })),
            Target::Responses { url, model, token } => client
                .post(format!("{url}/v1/responses"))
                .bearer_auth(token)
                .json(&json!({
                    "model": model,
                    "stream": stream,
                    "max_output_tokens": 256,
                    "input": PROMPT,
                })),
        }
    }
}

impl Target {
    /// Whether a body chunk carries answer text: a `contentBlockDelta` event frame, or an SSE
    /// chunk with `delta.content`.
    fn carries_text(&self, bytes: &[u8]) -> bool {
        let needle: &[u8] = match self {
            Target::Bedrock { .. } => b"contentBlockDelta",
            Target::OpenAi { .. } => b"\"content\":\"",
            Target::Responses { .. } => b"response.output_text.delta",
            Target::Messages { .. } => b"text_delta",
            Target::BedrockEmbed { .. } | Target::Embeddings { .. } => b"embedding",
        };
        bytes.windows(needle.len()).any(|w| w == needle)
    }
}

/// One request's timings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timing {
    /// Whether it answered 200 with a complete body.
    pub(crate) ok: bool,
    /// To the last byte.
    pub(crate) total: Duration,
    /// Arrival of each body chunk that carries answer text, from the start.
    pub(crate) content_chunks: Vec<Duration>,
}

/// Sends one request and reads the whole answer.
pub(crate) async fn send(
    client: &reqwest::Client,
    target: &Target,
    stream: bool,
    keep_chunks: bool,
) -> Timing {
    let started = Instant::now();
    let mut timing = Timing::default();
    let Ok(response) = target.request(client, stream).send().await else {
        timing.total = started.elapsed();
        return timing;
    };
    let status_ok = response.status().is_success();
    let mut body = response.bytes_stream();
    let mut failed = false;
    let mut tail = Vec::new();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => {
                let at = started.elapsed();
                if keep_chunks && target.carries_text(&bytes) {
                    timing.content_chunks.push(at);
                }
                // Keep the end of the body to check that a stream completed.
                tail.extend_from_slice(&bytes);
                if tail.len() > 256 {
                    tail.drain(..tail.len() - 256);
                }
            }
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    timing.total = started.elapsed();
    let complete = match target {
        Target::OpenAi { .. } if stream => tail.windows(6).any(|w| w == b"[DONE]"),
        Target::Responses { .. } if stream => tail.windows(18).any(|w| w == b"response.completed"),
        _ => true,
    };
    timing.ok = status_ok && !failed && complete;
    timing
}

/// What a run measured: every latency, kept whole.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stats {
    /// Latency to the last byte of each request answered completely.
    pub(crate) total: Samples,
    /// Requests sent.
    pub(crate) sent: u64,
    /// Requests answered completely.
    pub(crate) ok: u64,
    /// Wall time of the run.
    pub(crate) elapsed: Duration,
    /// CPU the load generator itself used during the run, in % of one core.
    pub(crate) generator_cpu: f64,
}

impl Stats {
    fn record(&mut self, timing: &Timing) {
        self.sent += 1;
        if timing.ok {
            self.ok += 1;
            self.total.record(timing.total);
        }
    }

    /// Share of requests answered completely, in percent.
    pub(crate) fn success(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        self.ok as f64 / self.sent as f64 * 100.0
    }
}

/// Sends `rate` requests per second for `duration` (open model) and gathers the timings.
pub(crate) async fn fixed_rate(
    client: &reqwest::Client,
    target: &Target,
    stream: bool,
    rate: u32,
    duration: Duration,
) -> Result<Stats> {
    let count = (f64::from(rate) * duration.as_secs_f64()).round() as u64;
    let period = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let stats = Arc::new(Mutex::new(Stats::default()));
    let generator = CpuMeter::own();
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for i in 0..count {
        let at = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(at).await;
        let client = client.clone();
        let target = target.clone();
        let stats = stats.clone();
        tasks.push(tokio::spawn(async move {
            let timing = send(&client, &target, stream, false).await;
            if let Ok(mut stats) = stats.lock() {
                stats.record(&timing);
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let mut stats = stats
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    stats.elapsed = start.elapsed();
    stats.generator_cpu = generator.own_percent();
    Ok(stats)
}
