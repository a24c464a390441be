//! The `bedrock-twin` binary: endpoint lines on stdout, SDK traffic, clean exit on SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use aws_config::retry::RetryConfig;

use crate::common::{MODEL, control_with, default_credentials, runtime_with, user};

const BIN: &str = env!("CARGO_BIN_EXE_bedrock-twin");

#[tokio::test]
async fn binary_prints_endpoints_serves_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .args([
            "--port",
            "0",
            "--imds-port",
            "0",
            "--ecs-port",
            "0",
            "--key",
            "AKIDEXTRA:extra-secret",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("bedrock-twin listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let imds = lines.next().unwrap().unwrap();
    assert!(imds.starts_with("imds on http://127.0.0.1:"), "{imds}");
    let ecs = lines.next().unwrap().unwrap();
    assert!(ecs.starts_with("ecs on http://127.0.0.1:"), "{ecs}");
    assert!(url.starts_with("http://127.0.0.1:"));

    let listed = control_with(&url, default_credentials())
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    assert!(!listed.model_summaries().is_empty());
    let extra =
        aws_credential_types::Credentials::new("AKIDEXTRA", "extra-secret", None, None, "t");
    let out = runtime_with(&url, extra, RetryConfig::disabled())
        .converse()
        .model_id(MODEL)
        .messages(user("from the binary"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.output().unwrap().as_message().unwrap().content()[0]
            .as_text()
            .unwrap(),
        "from the binary"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn catalogue_file_replaces_the_built_in_one() {
    let dir = std::env::temp_dir().join(format!("twin-catalogue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("catalogue.json");
    std::fs::write(
        &file,
        r#"{"modelSummaries": [{"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/acme.one-v1:0",
            "modelId": "acme.one-v1:0", "modelName": "One", "providerName": "Acme",
            "inputModalities": ["TEXT"], "outputModalities": ["TEXT"], "responseStreamingSupported": true,
            "customizationsSupported": [], "inferenceTypesSupported": ["ON_DEMAND"],
            "modelLifecycle": {"status": "ACTIVE"}}],
            "inferenceProfileSummaries": []}"#,
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--catalogue"])
        .arg(&file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("bedrock-twin listening on ")
        .unwrap()
        .to_owned();
    let listed = control_with(&url, default_credentials())
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = listed
        .model_summaries()
        .iter()
        .map(|m| m.model_id())
        .collect();
    assert_eq!(ids, ["acme.one-v1:0"]);
    let profiles = control_with(&url, default_credentials())
        .list_inference_profiles()
        .send()
        .await
        .unwrap();
    assert!(profiles.inference_profile_summaries().is_empty());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_documents_every_option() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--port",
        "--imds-port",
        "--ecs-port",
        "--catalogue",
        "--fault",
        "--delay-ms",
        "--deltas",
        "--delta-size",
        "--zero-delay",
        "--key",
        "--bearer",
        "--vectors",
        "x-twin-replay",
        "x-twin-fault",
    ] {
        assert!(help.contains(option), "--help lacks {option}");
    }
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let out = Command::new(BIN)
        .args(["--port", "0", "--fault", "explode"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown fault"));
}
