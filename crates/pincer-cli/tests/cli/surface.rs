//! `pincer chat` with the rest of Converse: documents (`--file`), guardrails, service tiers,
//! and application inference profiles named by ARN.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::common::{TestContext, TwinGuard};

const HAIKU_45: &str = "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA_PRO: &str = "amazon-bedrock/us.amazon.nova-pro-v1:0";
const PROFILE_ARN: &str =
    "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/tw1nappprof1";

fn text(output: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_file_goes_to_the_model_as_a_document() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let pdf = context.home().join("Annual report.pdf");
    let bytes = b"%PDF-1.7\n%%EOF\n";
    std::fs::write(&pdf, bytes).unwrap();
    let mut command = context.pincer(&[
        "chat",
        "--model",
        HAIKU_45,
        "--file",
        pdf.to_str().unwrap(),
        "-m",
        "Summarize it",
    ]);
    twin.configure(&mut command);
    let output = command.output().unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let sent = twin.received().pop().unwrap();
    let document = sent["messages"][0]["content"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|b| b.get("document"))
        .cloned()
        .unwrap();
    assert_eq!(document["format"], "pdf");
    assert_eq!(document["name"], "Annual report");
    assert_eq!(
        STANDARD
            .decode(document["source"]["bytes"].as_str().unwrap())
            .unwrap(),
        bytes
    );

    // Not a document format, or not what its name says: a usage error before any call.
    let calls = twin.stream_counts().invocations;
    for (name, data, needle) in [
        (
            "notes.rtf",
            &b"{\\rtf1}"[..],
            "not a document Bedrock reads",
        ),
        ("fake.pdf", &b"hello"[..], "is not a pdf document"),
    ] {
        let path = context.home().join(name);
        std::fs::write(&path, data).unwrap();
        let mut command = context.pincer(&[
            "chat",
            "--model",
            HAIKU_45,
            "--file",
            path.to_str().unwrap(),
            "-m",
            "read",
        ]);
        twin.configure(&mut command);
        let output = command.output().unwrap();
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    // A model that reads no documents.
    let mut command = context.pincer(&[
        "chat",
        "--model",
        "amazon-bedrock/us.amazon.nova-micro-v1:0",
        "--file",
        pdf.to_str().unwrap(),
        "-m",
        "read",
    ]);
    twin.configure(&mut command);
    let output = command.output().unwrap();
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("document"), "{stderr}");
    assert_eq!(twin.stream_counts().invocations, calls);
}

#[test]
fn chat_says_when_a_guardrail_stopped_the_answer() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config(
        r#"{ models: { providers: { "amazon-bedrock": { guardrail: { identifier: "twinguard001", version: "DRAFT" } } } } }"#,
    );
    let mut command = context.pincer(&[
        "chat",
        "--model",
        HAIKU_45,
        "-m",
        "Explain the forbidden technique",
    ]);
    twin.configure(&mut command);
    let output = command.output().unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), bedrock_twin::features::BLOCKED_MESSAGE);
    assert!(
        stderr.contains("a guardrail stopped the answer"),
        "{stderr}"
    );
    // `--json` carries the trace.
    let mut command = context.pincer(&[
        "chat",
        "--json",
        "--model",
        HAIKU_45,
        "-m",
        "forbidden again",
    ]);
    twin.configure(&mut command);
    let output = command.output().unwrap();
    let (stdout, _) = text(&output);
    let done: Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["type"] == "done")
        .unwrap();
    assert_eq!(done["stopReason"], "guardrail");
    assert!(
        done["guardrailTrace"]["inputAssessment"]["twinguard001"].is_object(),
        "{done}"
    );
}

#[test]
fn a_service_tier_is_asked_for_and_reported() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let mut command = context.pincer(&[
        "chat",
        "--model",
        NOVA_PRO,
        "--service-tier",
        "flex",
        "-m",
        "hi",
    ]);
    twin.configure(&mut command);
    let output = command.output().unwrap();
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        twin.received().pop().unwrap()["serviceTier"],
        serde_json::json!({"type": "flex"})
    );
    assert!(stderr.contains("flex tier"), "{stderr}");
    // The table has no complete flex price for Nova Pro: no cost is shown, rather than a wrong one.
    assert!(!stderr.contains('$'), "{stderr}");
}

/// An application profile named by ARN, with discovery off: its base model is asked of
/// `GetInferenceProfile` once, and the profile then reasons, caches and is priced as Claude
/// Haiku 4.5.
#[test]
fn an_application_profile_is_described_as_its_base_model() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config(&format!(
        r#"{{ models: {{ bedrockDiscovery: {{ enabled: false }},
             providers: {{ "amazon-bedrock": {{ models: [{{ id: "{PROFILE_ARN}" }}] }} }} }} }}"#
    ));
    let list = |context: &TestContext| {
        let mut command = context.pincer(&["models", "list", "--json"]);
        twin.configure(&mut command);
        let output = command.output().unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        let models: Value = serde_json::from_str(&stdout).unwrap();
        models["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == PROFILE_ARN)
            .cloned()
            .unwrap()
    };
    let entry = list(&context);
    assert_eq!(entry["contextWindow"], 200_000, "{entry}");
    assert_eq!(entry["maxTokens"], 64_000, "{entry}");
    assert_eq!(entry["reasoning"], true, "{entry}");
    assert_eq!(entry["promptCache"], true, "{entry}");
    assert_eq!(entry["cost"]["input"], 1.0, "{entry}");
    assert_eq!(twin.stream_counts().profile_lookups, 1);
    // Remembered: the next run asks nothing.
    list(&context);
    assert_eq!(twin.stream_counts().profile_lookups, 1);

    // A chat through the profile gets thinking, as the base model does.
    let model = format!("amazon-bedrock/{PROFILE_ARN}");
    let mut command = context.pincer(&[
        "chat",
        "--json",
        "--thinking",
        "low",
        "--model",
        &model,
        "-m",
        "hello",
    ]);
    twin.configure(&mut command);
    let output = command.output().unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains(r#""type":"thinking""#), "{stdout}");
    let sent = twin.received().pop().unwrap();
    assert!(
        sent["additionalModelRequestFields"]["thinking"].is_object(),
        "{sent}"
    );
    assert_eq!(twin.stream_counts().profile_lookups, 1);
}

/// `--model` naming a profile nobody has seen: chat learns it before the first turn.
#[test]
fn chat_learns_a_profile_named_on_the_command_line() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config("{ models: { bedrockDiscovery: { enabled: false } } }");
    let model = format!("amazon-bedrock/{PROFILE_ARN}");
    for _ in 0..2 {
        let mut command = context.pincer(&[
            "chat",
            "--json",
            "--thinking",
            "low",
            "--model",
            &model,
            "-m",
            "hello",
        ]);
        twin.configure(&mut command);
        let output = command.output().unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        assert!(stdout.contains(r#""type":"thinking""#), "{stdout}");
    }
    assert_eq!(twin.stream_counts().profile_lookups, 1);
}
