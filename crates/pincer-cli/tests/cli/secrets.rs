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

const BEARER: &str = "secret-bedrock-api-key-4e7b19";

#[test]
fn a_bedrock_api_key_never_appears_at_trace_level_in_any_command() {
    let context = TestContext::new();
    let mut config = bedrock_twin::TwinConfig::default();
    config.bearer_tokens.push(BEARER.to_owned());
    let twin = TwinGuard::start_with(config);
    context.write_config(
        r#"{ models: { bedrockDiscovery: { enabled: true } },
           agents: { defaults: { model: { primary: "amazon-bedrock/us.amazon.nova-micro-v1:0" } } } }"#,
    );
    let bearer_only = |command: &mut std::process::Command| {
        twin.configure(command);
        command
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_BEARER_TOKEN_BEDROCK", BEARER)
            .env("RUST_LOG", "trace");
    };
    let mut outputs = Vec::new();
    for args in [
        &["config", "get"][..],
        &["config", "validate"],
        &["models", "list", "--json"],
        &["models", "status", "--probe", "--json"],
        &["chat", "-m", "hello over a bearer token"],
    ] {
        let mut command = context.pincer(args);
        bearer_only(&mut command);
        let output = command.output().unwrap();
        outputs.push((args.join(" "), text(&output)));
    }
    assert!(
        outputs[4].1.contains("hello over a bearer token"),
        "the chat answered through the bearer token: {}",
        outputs[4].1
    );
    let mut command = context.pincer(&["gateway", "--port", "0"]);
    bearer_only(&mut command);
    let gateway = GatewayProcess::spawn(command);
    let ok = http(
        &gateway.addr,
        "POST",
        "/v1/chat/completions",
        None,
        r#"{"model": "default", "messages": [{"role": "user", "content": "through the gateway"}]}"#,
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let output = gateway.terminate();
    outputs.push(("gateway".to_owned(), text(&output)));
    assert!(
        outputs.iter().all(|(_, o)| o.lines().count() > 10),
        "trace logging was on"
    );
    for (command, output) in &outputs {
        assert!(
            !output.contains(BEARER),
            "`pincer {command}` printed the Bedrock API key:\n{output}"
        );
    }
}

#[test]
fn answers_stay_out_of_trace_logs_without_log_contents() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config(
        r#"{ models: { bedrockDiscovery: { enabled: true } },
           agents: { defaults: { model: { primary: "amazon-bedrock/us.amazon.nova-micro-v1:0" } } } }"#,
    );
    let mut command = context.pincer(&["gateway", "--port", "0"]);
    twin.configure(&mut command);
    command.env("RUST_LOG", "trace");
    let gateway = GatewayProcess::spawn(command);
    // Short enough to travel in one delta (the twin sends 12 characters per delta).
    let marker = "zq-5f2a9c7";
    let body = format!(
        r#"{{"model": "default", "stream": true, "messages": [{{"role": "user", "content": "{marker}"}}]}}"#
    );
    let streamed = http(&gateway.addr, "POST", "/v1/chat/completions", None, &body);
    assert!(
        streamed.contains(marker),
        "the twin echoes the prompt: {streamed}"
    );
    let output = gateway.terminate();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.lines().count() > 50, "trace logging was on");
    assert!(
        !logs.contains(marker),
        "message contents in the log without gateway.logContents:\n{}",
        logs.lines()
            .filter(|l| l.contains(marker))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn multi_line_secrets_and_url_credentials_are_hidden() {
    let context = TestContext::new();
    // A syntax error below an API key that continues over three lines: the excerpt quotes the
    // file, and no line of the key.
    context.write_config(
        "{\n  models: { providers: { p: {\n    api: 'openai-completions',\n    apiKey: 'sk-line-one-0000\\\nsk-line-two-1111\\\nsk-line-three-2222',\n    baseUrl: 'https://proxyuser:proxy-pass-9911@proxy.internal/v1',\n    models: [ { id: 'm' } ] x\n  } } },\n}\n",
    );
    let output = context.pincer(&["config", "validate"]).output().unwrap();
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(2), "{shown}");
    for secret in [
        "sk-line-one-0000",
        "sk-line-two-1111",
        "sk-line-three-2222",
        "proxy-pass-9911",
        "proxyuser",
    ] {
        assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
    }
    context.write_config(
        "{ models: { providers: { p: { api: 'openai-completions', baseUrl: 'https://proxyuser:proxy-pass-9911@proxy.internal/v1' } } } }\n",
    );
    for args in [
        &["config", "get"][..],
        &["config", "get", "models.providers.p.baseUrl"],
        &["config", "get", "models.providers.p", "--json"],
    ] {
        let output = context.pincer(args).output().unwrap();
        let shown = text(&output);
        assert!(output.status.success(), "{shown}");
        assert!(shown.contains("proxy.internal"), "{shown}");
        assert!(
            !shown.contains("proxy-pass-9911") && !shown.contains("proxyuser"),
            "{args:?}: {shown}"
        );
    }
    let output = context
        .pincer(&[
            "config",
            "get",
            "models.providers.p.baseUrl",
            "--show-secrets",
        ])
        .output()
        .unwrap();
    assert!(text(&output).contains("proxy-pass-9911"));
}
