//! `pincer chat` through the real binary against the Bedrock twin.

use std::process::Stdio;

use crate::common::{TestContext, TwinGuard, output_with_stdin};
use crate::pincer_snapshot;

const CLAUDE: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";

fn config_with_default(twin: &TwinGuard, primary: &str, fallbacks: &[&str]) -> String {
    // The seed's provider block, with `baseUrl` pointing at the twin (an endpoint override).
    format!(
        r#"{{
  models: {{
    providers: {{
      "amazon-bedrock": {{
        baseUrl: "{}",
        api: "bedrock-converse-stream",
        auth: "aws-sdk",
        models: [{{ id: "us.anthropic.claude-opus-4-6-v1:0", name: "Claude Opus 4.6 (Bedrock)", reasoning: true, input: ["text", "image"], contextWindow: 200000, maxTokens: 8192 }}],
      }},
    }},
  }},
  agents: {{ defaults: {{ model: {{ primary: "{primary}", fallbacks: {fallbacks:?} }} }} }},
}}
"#,
        twin.url()
    )
}

#[test]
fn one_shot_streams_the_answer_and_a_summary() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let mut command = context.pincer(&["chat", "--model", CLAUDE, "-m", "Hello from the test"]);
    twin.configure(&mut command);
    pincer_snapshot!(context, command);
}

#[test]
fn default_model_from_the_seed_config() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config(&config_with_default(
        &twin,
        "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        &[],
    ));
    let mut command = context.pincer(&["chat", "-m", "Which model is this?"]);
    twin.configure(&mut command);
    command.env_remove("AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
    pincer_snapshot!(context, command);
}

#[test]
fn thinking_goes_to_stderr_and_json_has_one_event_per_line() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let mut command = context.pincer(&[
        "chat",
        "--model",
        CLAUDE,
        "--thinking",
        "low",
        "-m",
        "think first",
    ]);
    twin.configure(&mut command);
    pincer_snapshot!(context, command);
    let mut json = context.pincer(&[
        "chat",
        "--model",
        CLAUDE,
        "--thinking",
        "low",
        "--json",
        "-m",
        "think first",
    ]);
    twin.configure(&mut json);
    let output = json.output().unwrap();
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.first().unwrap()["type"], "start");
    assert!(lines.iter().any(|l| l["type"] == "thinking"));
    assert!(lines.iter().any(|l| l["type"] == "text"));
    let done = lines.last().unwrap();
    assert_eq!(done["type"], "done");
    assert!(done["usage"]["output"].as_u64().unwrap() > 0);
    pincer_snapshot!(context, json);
}

#[test]
fn falls_back_when_the_primary_cannot_answer() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    // Claude 3.7 Sonnet by its base id is profile-only: on-demand not supported.
    context.write_config(&config_with_default(
        &twin,
        "amazon-bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0",
        &["amazon-bedrock/us.amazon.nova-micro-v1:0"],
    ));
    let mut command = context.pincer(&["chat", "-m", "fallback please"]);
    twin.configure(&mut command);
    pincer_snapshot!(context, command);
}

#[test]
fn errors_are_one_line_with_advice_and_exit_1() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let mut command = context.pincer(&[
        "chat",
        "--model",
        "amazon-bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0",
        "-m",
        "hi",
    ]);
    twin.configure(&mut command);
    pincer_snapshot!(context, command);
    let mut denied = context.pincer(&[
        "chat",
        "--model",
        "amazon-bedrock/us.does-not-exist-v1:0",
        "-m",
        "hi",
    ]);
    twin.configure(&mut denied);
    pincer_snapshot!(context, denied);
}

#[test]
fn prompt_from_stdin_and_images() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let png = context.home().join("pixel.png");
    std::fs::write(
        &png,
        [
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
        ],
    )
    .unwrap();
    let mut command =
        context.pincer(&["chat", "--model", CLAUDE, "--image", png.to_str().unwrap()]);
    twin.configure(&mut command);
    let output = output_with_stdin(&mut command, b"describe this picture");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("describe this picture")
    );
    let text = context.home().join("notes.txt");
    std::fs::write(&text, "not an image").unwrap();
    let mut bad = context.pincer(&[
        "chat",
        "--model",
        CLAUDE,
        "-m",
        "x",
        "--image",
        text.to_str().unwrap(),
    ]);
    twin.configure(&mut bad);
    pincer_snapshot!(context, bad);
}

#[test]
fn no_model_is_a_usage_error() {
    let context = TestContext::new();
    pincer_snapshot!(context, context.pincer(&["chat", "-m", "hi"]));
}

#[test]
fn a_session_keeps_history_until_exit() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let mut command = context.pincer(&["chat", "--model", CLAUDE, "--interactive"]);
    twin.configure(&mut command);
    let output = output_with_stdin(
        &mut command,
        b"first question\n\nsecond question\n/exit\nnever sent\n",
    );
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout, "first question\nsecond question\n");
    let stderr = String::from_utf8(output.stderr).unwrap();
    // The second turn was sent with the first in its history: more input tokens (fresh, cache
    // read and cache write together).
    let inputs: Vec<u64> = stderr
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| {
            // `[model] IN in · OUT out · cache READ read / WRITE write · …`
            let tail = l.split("] ").nth(1).unwrap();
            let n: Vec<u64> = tail
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect();
            n[0] + n[2] + n[3]
        })
        .collect();
    assert_eq!(inputs.len(), 2, "{stderr}");
    assert!(inputs[1] > inputs[0], "{stderr}");
}

#[test]
fn ctrl_c_cancels_and_exits_130() {
    use std::io::Read;

    let context = TestContext::new();
    let twin = TwinGuard::start();
    let model = "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0~slow:300";
    let mut command = context.pincer(&[
        "chat",
        "--model",
        model,
        "-m",
        "one two three four five six seven eight nine ten",
    ]);
    twin.configure(&mut command);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the answer has started streaming.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    let answer = format!("{}{rest}", first[0] as char);
    assert!(
        answer.len() < 49,
        "a partial answer was expected: {answer:?}"
    );
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("(cancelled)")
    );
    // The upstream stream was abandoned, not read to its end.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while twin.stream_counts().abandoned == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            twin.stream_counts()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(twin.stream_counts().completed, 0);
}

#[test]
fn a_misspelt_model_gets_suggestions() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let mut command = context.pincer(&[
        "chat",
        "--model",
        "amazon-bedrock/us.anthropic.claude-sonet-4-5-20250929-v1:0",
        "-m",
        "hi",
    ]);
    twin.configure(&mut command);
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("invalid_model"), "{stderr}");
    assert!(
        stderr
            .contains("did you mean `amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0`"),
        "{stderr}"
    );
}

#[test]
fn retry_budget_and_stall_timeout_are_flags() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let run = |model: &str, extra: &[&str]| {
        let mut command = context.pincer(&["chat", "--model", model, "-m", "hi"]);
        command.args(extra);
        twin.configure(&mut command);
        command.output().unwrap()
    };
    // Throttled answers first: one attempt is not enough; four outlast three failures. (The
    // twin counts failures per fault, so each case uses its own.)
    let once = run(
        "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0~fail-first:2",
        &["--max-attempts", "1"],
    );
    assert_eq!(once.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&once.stderr).contains("throttled"));
    let thrice = run(
        "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0~fail-first:2",
        &["--max-attempts", "3"],
    );
    assert!(
        thrice.status.success(),
        "{}",
        String::from_utf8_lossy(&thrice.stderr)
    );
    // A stream that stalls fails after the given silence.
    let stalled = run(
        "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0~stall:30",
        &["--stall-timeout", "1"],
    );
    assert_eq!(stalled.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&stalled.stderr).contains("timeout"),
        "{}",
        String::from_utf8_lossy(&stalled.stderr)
    );
}

#[test]
fn upstream_faults_are_retried_before_output_and_reported_after_it() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let haiku = "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0";
    let run = |fault: &str| {
        let before = twin.stream_counts().invocations;
        let mut command = context.pincer(&[
            "chat",
            "--model",
            &format!("{haiku}~{fault}"),
            "--max-attempts",
            "3",
            "-m",
            "a fairly long prompt whose answer streams in several deltas",
        ]);
        twin.configure(&mut command);
        let output = command.output().unwrap();
        let attempts = twin.stream_counts().invocations - before;
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            attempts,
        )
    };
    // Before any output: every attempt of the budget is used, then a typed error.
    for (fault, message) in [
        ("throttle", "throttled"),
        ("5xx:500", "unavailable"),
        ("5xx:503", "unavailable"),
        ("hangup", "could not reach Bedrock"),
    ] {
        let (code, stdout, stderr, attempts) = run(fault);
        assert_eq!(code, Some(1), "{fault}: {stderr}");
        assert_eq!(attempts, 3, "{fault}");
        assert!(stdout.trim().is_empty(), "{fault}: {stdout}");
        assert!(stderr.contains(message), "{fault}: {stderr}");
    }
    // After output: the partial answer stays on stdout, the error follows, no retry.
    for (fault, message) in [
        ("midstream-modelStreamErrorException:2", "interrupted"),
        ("midstream-throttlingException:2", "throttled"),
        ("midstream-internalServerException:2", "unavailable"),
        ("midstream-serviceUnavailableException:2", "unavailable"),
        ("midstream-validationException:2", "invalid"),
        ("reset:2", "interrupted"),
    ] {
        let (code, stdout, stderr, attempts) = run(fault);
        assert_eq!(code, Some(1), "{fault}: {stderr}");
        assert_eq!(attempts, 1, "{fault}");
        assert!(stdout.contains("a fairly"), "{fault}: {stdout}");
        assert!(stderr.to_lowercase().contains(message), "{fault}: {stderr}");
    }
}

#[test]
fn chat_never_waits_on_or_fails_with_discovery() {
    use bedrock_twin::Fault;
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config(&format!(
        r#"{{ models: {{ bedrockDiscovery: {{ enabled: true }} }},
             agents: {{ defaults: {{ model: {{ primary: "{CLAUDE}" }} }} }} }}"#
    ));
    for fault in [
        Fault::Deny,
        Fault::ServerError(503),
        Fault::Throttle,
        Fault::Stall { secs: 30, after: 0 },
    ] {
        twin.set_control_fault(Some(fault));
        let started = std::time::Instant::now();
        let mut command = context.pincer(&["chat", "-m", "still answering"]);
        twin.configure(&mut command);
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{fault:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("still answering"));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{fault:?}"
        );
    }
    assert_eq!(twin.stream_counts().listings, 0);
}
