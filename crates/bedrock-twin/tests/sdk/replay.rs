//! Every recorded event stream in the vectors folder, replayed over HTTP, decodes with the
//! official SDK into the event sequence recorded next to it (`*.events.txt`).

use std::path::{Path, PathBuf};

use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;

use crate::common::{MODEL, collect, runtime, start, user};

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            captures(&path, out);
        } else if path.extension().is_some_and(|e| e == "bin") {
            out.push(path);
        }
    }
}

fn expected_events(bin: &Path) -> Vec<String> {
    let name = bin.file_name().unwrap().to_string_lossy();
    let events = bin.with_file_name(format!("{}.events.txt", name.trim_end_matches(".bin")));
    std::fs::read_to_string(&events)
        .unwrap_or_else(|e| panic!("{}: {e}", events.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_capture_replays_and_decodes() {
    let Some(root) = crate::common::vectors_dir() else {
        eprintln!("skipping: vectors folder not found (set PINCER_VECTORS)");
        return;
    };
    let mut bins = Vec::new();
    captures(&root, &mut bins);
    bins.sort();
    assert!(bins.len() >= 30, "found only {} captures", bins.len());
    let twin = start().await;
    let client = runtime(&twin);
    let mut failures = Vec::new();
    for bin in &bins {
        let relative = bin
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let header = relative.clone();
        let out = client
            .converse_stream()
            .model_id(MODEL)
            .messages(user("replay"))
            .customize()
            .mutate_request(move |req| {
                req.headers_mut().insert("x-twin-replay", header.clone());
            })
            .send()
            .await
            .unwrap_or_else(|e| panic!("{relative}: {e:?}"));
        let got = collect(out).await;
        let want = expected_events(bin);
        if got.events != want {
            failures.push(format!(
                "{relative}\n  want {want:?}\n  got  {:?}",
                got.events
            ));
        }
        if let Some(err) = &got.error
            && !err.starts_with("exception:")
        {
            failures.push(format!("{relative}: transport error {err}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} captures differ:\n{}",
        failures.len(),
        bins.len(),
        failures.join("\n")
    );
    println!("replayed {} captures", bins.len());
    twin.stop().await;
}

#[tokio::test]
async fn error_captures_and_model_id_form() {
    let Some(_) = crate::common::vectors_dir() else {
        eprintln!("skipping: vectors folder not found (set PINCER_VECTORS)");
        return;
    };
    let twin = start().await;
    let client = runtime(&twin);
    let err = client
        .converse()
        .model_id(MODEL)
        .messages(user("x"))
        .customize()
        .mutate_request(|req| {
            req.headers_mut().insert(
                "x-twin-replay",
                "newrelic-python-agent/_mock_external_bedrock_server_converse.responses_1.response.json",
            );
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    assert_eq!(
        err.message(),
        Some("The security token included in the request is invalid.")
    );
    let out = client
        .converse_stream()
        .model_id("x~replay=pydantic-ai/test_bedrock_model_stream@bc1406b5.0.response.bin")
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    let got = collect(out).await;
    assert!(
        got.text.starts_with("The capital of France is Paris."),
        "{}",
        got.text
    );
    let missing = client
        .converse_stream()
        .model_id(MODEL)
        .messages(user("x"))
        .customize()
        .mutate_request(|req| {
            req.headers_mut().insert("x-twin-replay", "../outside.bin");
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
    twin.stop().await;
}
