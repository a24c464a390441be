//! Hot-path micro-benchmarks (criterion): Bedrock stream events → OpenAI SSE chunks, an OpenAI
//! request → a Bedrock Converse request, and loading a config file.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStopEvent, ConversationRole,
    ConverseStreamMetadataEvent, ConverseStreamMetrics, ConverseStreamOutput, MessageStartEvent,
    MessageStopEvent, StopReason, TokenUsage,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pincer_bedrock::stream::StreamMapper;
use pincer_core::ProviderRequest;
use pincer_openai::request::convert;
use pincer_openai::response::ChunkEncoder;
use pincer_openai::types::ChatCompletionRequest;

const DELTAS: usize = 100;

fn events() -> Vec<ConverseStreamOutput> {
    let mut events = vec![ConverseStreamOutput::MessageStart(
        MessageStartEvent::builder()
            .role(ConversationRole::Assistant)
            .build()
            .unwrap(),
    )];
    for i in 0..DELTAS {
        events.push(ConverseStreamOutput::ContentBlockDelta(
            ContentBlockDeltaEvent::builder()
                .content_block_index(0)
                .delta(ContentBlockDelta::Text(format!("word{i} and some more ")))
                .build()
                .unwrap(),
        ));
    }
    events.push(ConverseStreamOutput::ContentBlockStop(
        ContentBlockStopEvent::builder()
            .content_block_index(0)
            .build()
            .unwrap(),
    ));
    events.push(ConverseStreamOutput::MessageStop(
        MessageStopEvent::builder()
            .stop_reason(StopReason::EndTurn)
            .build()
            .unwrap(),
    ));
    events.push(ConverseStreamOutput::Metadata(
        ConverseStreamMetadataEvent::builder()
            .usage(
                TokenUsage::builder()
                    .input_tokens(20)
                    .output_tokens(DELTAS as i32)
                    .total_tokens(20 + DELTAS as i32)
                    .build()
                    .unwrap(),
            )
            .metrics(
                ConverseStreamMetrics::builder()
                    .latency_ms(5)
                    .build()
                    .unwrap(),
            )
            .build(),
    ));
    events
}

/// Every event through the Bedrock stream mapper and the OpenAI chunk encoder, to SSE text.
fn stream_to_sse(c: &mut Criterion) {
    let events = events();
    let mut group = c.benchmark_group("stream_event_to_sse_chunk");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("text_stream", |b| {
        b.iter_batched(
            || events.clone(),
            |events| {
                let mut mapper =
                    StreamMapper::new("amazon-bedrock", "anthropic.claude-3-haiku-20240307-v1:0");
                let mut encoder = ChunkEncoder::new("chatcmpl-1", "amazon-bedrock/m", 0);
                let mut bytes = 0;
                for event in events {
                    for mapped in mapper.on_event(event).unwrap() {
                        if let Some(chunk) = encoder.encode(&mapped) {
                            bytes += serde_json::to_string(&chunk).unwrap().len();
                        }
                    }
                }
                if let Some(chunk) = encoder.encode(&mapper.finish()) {
                    bytes += serde_json::to_string(&chunk).unwrap().len();
                }
                black_box(bytes)
            },
            criterion::BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn chat_request() -> String {
    let mut messages = vec![serde_json::json!({"role": "system", "content": "You are terse."})];
    for i in 0..10 {
        messages.push(serde_json::json!({"role": "user", "content": format!("question {i}: what is the weather like in city {i}?")}));
        messages.push(serde_json::json!({"role": "assistant", "content": format!("answer {i}: mild and dry.")}));
    }
    messages.push(serde_json::json!({"role": "user", "content": "and tomorrow?"}));
    serde_json::json!({
        "model": "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0",
        "messages": messages,
        "max_tokens": 512,
        "temperature": 0.3,
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    })
    .to_string()
}

/// Parse an OpenAI request, convert it, and build the Bedrock Converse request.
fn request_to_converse(c: &mut Criterion) {
    let body = chat_request();
    let model = pincer_core::Model {
        provider: "amazon-bedrock".to_owned(),
        id: "anthropic.claude-3-haiku-20240307-v1:0".to_owned(),
        name: "Claude 3 Haiku".to_owned(),
        reasoning: None,
        input: vec![pincer_core::Modality::Text, pincer_core::Modality::Image],
        prices: pincer_core::Prices::default(),
        context_window: 200_000,
        max_tokens: 4096,
        prompt_cache: false,
        capabilities: pincer_core::Capabilities::default(),
        defaults: pincer_core::RequestDefaults::default(),
    };
    c.bench_function("openai_request_to_converse", |b| {
        b.iter(|| {
            let request: ChatCompletionRequest = serde_json::from_str(black_box(&body)).unwrap();
            let converted = convert(request, &model.provider, &model.id).unwrap();
            let built = pincer_bedrock::request::build(ProviderRequest {
                model: model.clone(),
                conversation: converted.conversation,
                options: converted.options,
            })
            .unwrap();
            black_box(built)
        });
    });
}

/// The check that refuses a field the chat-completions API does not have (a second pass over
/// the body, beside the typed parse that `openai_request_to_converse` measures).
fn unknown_field_scan(c: &mut Criterion) {
    let body = chat_request();
    c.bench_function("openai_unknown_field_scan", |b| {
        b.iter(|| {
            black_box(pincer_openai::types::unknown_field(black_box(
                body.as_bytes(),
            )))
        });
    });
}

const CONFIG: &str = r#"// A config as the seed document writes it.
{
  models: {
    bedrockDiscovery: { enabled: true, region: "us-east-1", providerFilter: ["anthropic", "amazon"], refreshInterval: 3600, defaultContextWindow: 32000, defaultMaxTokens: 4096 },
    providers: {
      "amazon-bedrock": {
        baseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com",
        api: "bedrock-converse-stream",
        auth: "aws-sdk",
        models: [
          { id: "us.anthropic.claude-opus-4-6-v1:0", name: "Claude Opus 4.6 (Bedrock)", reasoning: true, input: ["text", "image"], cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, contextWindow: 200000, maxTokens: 8192 },
        ],
      },
    },
  },
  agents: { defaults: { model: { primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0", fallbacks: ["amazon-bedrock/us.amazon.nova-pro-v1:0"] } } },
  gateway: { bind: "127.0.0.1", port: 4000 },
}
"#;

/// Parse and validate a config file.
fn config_load(c: &mut Criterion) {
    c.bench_function("config_load", |b| {
        b.iter(|| {
            black_box(pincer_config::validate::parse(black_box(CONFIG), "config.json5").unwrap())
        });
    });
}

criterion_group!(
    benches,
    stream_to_sse,
    request_to_converse,
    unknown_field_scan,
    config_load
);
criterion_main!(benches);
