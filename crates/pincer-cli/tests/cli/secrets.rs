//! No secret reaches any output, even at the most verbose log level: recognisable secrets (an
//! AWS secret key and session token, a gateway token, a provider API key) go in, every command
//! and a gateway session run with `RUST_LOG=trace`, and all their output is searched.

use std::process::Output;

use crate::common::{GatewayProcess, TestContext, TwinGuard, http};

const KEY_ID: &str = "ASIASECRETSTEST";
const SECRET: &str = "secret-aws-key-7f3c91";
const SESSION: &str = "secret-session-token-5b2e48";
const GATEWAY_TOKEN: &str = "secret-gateway-token-9d1a6c";
const API_KEY: &str = "secret-provider-key-2c8f07";

fn secrets() -> [(&'static str, &'static str); 5] {
    [
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_SESSION_TOKEN", SESSION),
        ("PINCER_GATEWAY_TOKEN", GATEWAY_TOKEN),
        ("RUST_LOG", "trace"),
    ]
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn no_secret_appears_in_any_output_at_trace_level() {
    let context = TestContext::new();
    let mut config = bedrock_twin::TwinConfig::default();
    config
        .keys
        .push(bedrock_twin::AccessKey::new(KEY_ID, SECRET).with_session_token(SESSION));
    let twin = TwinGuard::start_with(config);
    context.write_config(&format!(
        r#"{{ models: {{ bedrockDiscovery: {{ enabled: true }},
             providers: {{ other: {{ api: "openai-completions", baseUrl: "http://127.0.0.1:9/v1", apiKey: "{API_KEY}" }} }} }},
           agents: {{ defaults: {{ model: {{ primary: "amazon-bedrock/us.amazon.nova-micro-v1:0" }} }} }} }}"#
    ));
    let mut outputs = Vec::new();
    for args in [
        &["config", "get"][..],
        &["config", "get", "models.providers.other.apiKey"],
        &["config", "validate"],
        &["models", "list", "--json"],
        &["models", "status", "--probe", "--json"],
        &["chat", "-m", "hello"],
        &["chat", "--model", "other/m", "-m", "unreachable provider"],
    ] {
        let mut command = context.pincer(args);
        twin.configure(&mut command);
        command.envs(secrets());
        let output = command.output().unwrap();
        outputs.push((args.join(" "), text(&output)));
    }
    assert!(
        outputs[5].1.contains("hello"),
        "the chat answered: {}",
        outputs[5].1
    );

    let gateway = GatewayProcess::start(&context, &twin, &secrets());
    let body =
        r#"{"model": "default", "messages": [{"role": "user", "content": "through the gateway"}]}"#;
    let ok = http(
        &gateway.addr,
        "POST",
        "/v1/chat/completions",
        Some(GATEWAY_TOKEN),
        body,
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let wrong = http(
        &gateway.addr,
        "GET",
        "/v1/models",
        Some("not-the-token"),
        "",
    );
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let metrics = http(&gateway.addr, "GET", "/metrics", None, "");
    let output = gateway.terminate();
    assert!(output.status.success());
    let logs = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(logs.lines().count() > 50, "trace logging was on");
    outputs.push(("gateway".to_owned(), format!("{logs}{ok}{wrong}{metrics}")));

    for (command, output) in &outputs {
        for secret in [SECRET, SESSION, GATEWAY_TOKEN, API_KEY] {
            assert!(
                !output.contains(secret),
                "`pincer {command}` printed a secret ({secret}):\n{output}"
            );
        }
    }
}
