//! Every real ConverseStream capture in `../shared/vectors` is replayed byte for byte by the twin
//! over HTTP, decoded by the SDK, and mapped; the resulting message must hold exactly what the
//! capture holds: text, reasoning and signature, tool-call arguments, stop reason and usage.

use std::path::{Path, PathBuf};

use bedrock_twin::TwinConfig;
use futures_util::StreamExt;
use pincer_core::env::EnvVars;
use pincer_core::{
    AssistantContent, Provider, ProviderRequest, RequestOptions, StopReason, StreamEvent,
};
use serde_json::Value;

use crate::common::{HAIKU3, Harness, ask, fast_options, model};

fn vectors_dir() -> Option<PathBuf> {
    let dir = EnvVars::get_string(EnvVars::PINCER_VECTORS)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"));
    if dir.join("analysis.json").is_file() {
        return Some(dir);
    }
    assert!(
        !EnvVars::is_true(EnvVars::CI),
        "the Bedrock vectors are missing at {}",
        dir.display()
    );
    eprintln!(
        "skipping: no vectors at {} (set PINCER_VECTORS)",
        dir.display()
    );
    None
}

/// What the capture's frames say the message is.
#[derive(Debug, Default)]
struct Expected {
    text: String,
    thinking: String,
    signature: String,
    redacted: bool,
    tools: Vec<(String, Value)>,
}

fn expected_from_frames(events_txt: &str) -> Expected {
    let mut expected = Expected::default();
    let mut tool_blocks: Vec<(i64, String, String)> = Vec::new();
    for line in events_txt.lines() {
        let Some((kind, json)) = line.split_once('\t') else {
            continue;
        };
        let frame: Value = serde_json::from_str(json).unwrap();
        let index = frame["contentBlockIndex"].as_i64().unwrap_or(-1);
        match kind {
            "contentBlockStart" => {
                let tool = &frame["start"]["toolUse"];
                if tool.is_object() && tool["type"] != "server_tool_use" {
                    tool_blocks.push((
                        index,
                        tool["name"].as_str().unwrap().to_owned(),
                        String::new(),
                    ));
                }
            }
            "contentBlockDelta" => {
                let delta = &frame["delta"];
                if let Some(text) = delta["text"].as_str() {
                    expected.text.push_str(text);
                }
                let reasoning = &delta["reasoningContent"];
                if let Some(text) = reasoning["text"].as_str() {
                    expected.thinking.push_str(text);
                }
                if let Some(signature) = reasoning["signature"].as_str() {
                    expected.signature.push_str(signature);
                }
                if reasoning.get("redactedContent").is_some() {
                    expected.redacted = true;
                }
                if let Some(input) = delta["toolUse"]["input"].as_str()
                    && let Some(block) = tool_blocks.iter_mut().find(|b| b.0 == index)
                {
                    block.2.push_str(input);
                }
            }
            _ => {}
        }
    }
    expected.tools = tool_blocks
        .into_iter()
        .map(|(_, name, input)| {
            (
                name,
                if input.is_empty() {
                    serde_json::json!({})
                } else {
                    serde_json::from_str(&input).unwrap()
                },
            )
        })
        .collect();
    expected
}

fn stop_reason(name: &str) -> StopReason {
    match name {
        "end_turn" | "stop_sequence" => StopReason::Stop,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" | "model_context_window_exceeded" => StopReason::Length,
        "guardrail_intervened" => StopReason::Guardrail,
        "content_filtered" => StopReason::ContentFiltered,
        other => panic!("unexpected stop reason {other}"),
    }
}

#[tokio::test]
async fn every_capture_maps_to_the_recorded_message() {
    let Some(dir) = vectors_dir() else { return };
    let analysis: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("analysis.json")).unwrap()).unwrap();
    let index = std::fs::read_to_string(dir.join("INDEX.md")).unwrap();
    let config = TwinConfig {
        vectors_dir: Some(dir.clone()),
        ..TwinConfig::default()
    };
    let harness = Harness::with(config, fast_options()).await;
    let mut checked = 0;
    let mut rows_checked = 0;
    for entry in analysis.as_array().unwrap() {
        for interaction in entry["interactions"].as_array().into_iter().flatten() {
            let Some(bin) = interaction["bin"].as_str() else {
                continue;
            };
            let es = &interaction["es"];
            let events_txt =
                std::fs::read_to_string(dir.join(bin.replace(".bin", ".events.txt"))).unwrap();
            let expected = expected_from_frames(&events_txt);
            let mut m = model(HAIKU3);
            m.id = format!("{HAIKU3}~replay={bin}");
            let request = ProviderRequest {
                model: m,
                conversation: ask("replay"),
                options: RequestOptions::default(),
            };
            let events: Vec<StreamEvent> = harness.provider.stream(request).collect().await;
            if events_txt.lines().any(|l| l.starts_with("exception:")) {
                // A capture ending in an exception frame: a typed error, the text before it kept.
                let Some(StreamEvent::Error { error, partial }) = events.last() else {
                    panic!("{bin}: {:?}", events.last())
                };
                assert_eq!(
                    error.kind,
                    pincer_core::ErrorKind::StreamInterrupted,
                    "{bin}"
                );
                assert_eq!(partial.text(), expected.text, "{bin}: partial text");
                checked += 1;
                continue;
            }
            let Some(StreamEvent::Done { message }) = events.last() else {
                panic!("{bin}: {:?}", events.last())
            };
            assert_eq!(message.text(), expected.text, "{bin}: text");
            let thinking: String = message
                .content
                .iter()
                .filter_map(|b| match b {
                    AssistantContent::Thinking { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(thinking, expected.thinking, "{bin}: thinking");
            let signature: String = message
                .content
                .iter()
                .filter_map(|b| match b {
                    AssistantContent::Thinking { signature, .. } => signature.as_deref(),
                    _ => None,
                })
                .collect();
            assert_eq!(signature, expected.signature, "{bin}: signature");
            assert_eq!(
                message
                    .content
                    .iter()
                    .any(|b| matches!(b, AssistantContent::RedactedThinking { .. })),
                expected.redacted,
                "{bin}: redacted"
            );
            let tools: Vec<(String, Value)> = message
                .tool_calls()
                .map(|c| (c.name.clone(), c.arguments.clone()))
                .collect();
            assert_eq!(tools, expected.tools, "{bin}: tool calls");
            let stops = es["stops"].as_array().unwrap();
            assert_eq!(
                message.stop_reason,
                stop_reason(stops[0].as_str().unwrap()),
                "{bin}: stop"
            );
            let usage = &es["usage"];
            let count = |key: &str| usage[key].as_u64().unwrap_or(0);
            assert_eq!(
                message.usage.input,
                count("inputTokens"),
                "{bin}: input tokens"
            );
            assert_eq!(
                message.usage.output,
                count("outputTokens"),
                "{bin}: output tokens"
            );
            assert_eq!(
                message.usage.cache_read,
                count("cacheReadInputTokens"),
                "{bin}: cache read"
            );
            assert_eq!(
                message.usage.cache_write,
                count("cacheWriteInputTokens"),
                "{bin}: cache write"
            );
            // The same figures as the capture's row in INDEX.md (`stop=end_turn in13/out82`).
            let file = bin.rsplit('/').next().unwrap();
            // `name@blob.N.response.bin` is the row of `name@blob.yaml` (or `.yml`, `.json`, …).
            let stem = file.split(".response").next().unwrap();
            let stem = stem
                .rsplit_once('.')
                .filter(|(_, n)| n.chars().all(|c| c.is_ascii_digit()))
                .map_or(stem, |(s, _)| s);
            let stem = format!("`{stem}.");
            if let Some(row) = index
                .lines()
                .find(|line| line.starts_with('|') && line.contains(&stem))
            {
                let figures = format!("in{}/out{}", message.usage.input, message.usage.output);
                assert!(
                    row.contains(&figures),
                    "{bin}: INDEX.md row lacks {figures}: {row}"
                );
                let stop = stops[0].as_str().unwrap();
                assert!(
                    row.contains(&format!("stop={stop}")),
                    "{bin}: INDEX.md row lacks stop={stop}"
                );
                rows_checked += 1;
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked, 37,
        "every capture with an event stream was checked"
    );
    assert!(
        rows_checked >= 30,
        "only {rows_checked} captures matched an INDEX.md row"
    );
    harness.stop().await;
}
