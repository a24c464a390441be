//! `pincer gateway` through the real binary: it listens, answers an OpenAI request, refuses an
//! open address without a token, and stops cleanly on SIGTERM.

use crate::common::{GatewayProcess, TestContext, TwinGuard, http};
use crate::pincer_snapshot;

#[test]
fn serves_chat_completions_until_sigterm() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config("{ models: { bedrockDiscovery: { enabled: true } } }");
    let gateway = GatewayProcess::start(&context, &twin, &[]);
    let response = http(
        &gateway.addr,
        "POST",
        "/v1/chat/completions",
        None,
        r#"{"model": "amazon-bedrock/us.amazon.nova-micro-v1:0", "messages": [{"role": "user", "content": "hi from curl"}]}"#,
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("hi from curl"), "{response}");
    let output = gateway.terminate();
    assert!(output.status.success(), "{output:?}");
    let logs = String::from_utf8(output.stderr).unwrap();
    let access = logs
        .lines()
        .find(|l| l.contains("pincer_gateway::access"))
        .unwrap_or_else(|| panic!("an access log line: {logs}"));
    for field in [
        "method=POST",
        "path=\"/v1/chat/completions\"",
        "status=200",
        "model=\"amazon-bedrock/us.amazon.nova-micro-v1:0\"",
        "latency_ms=",
    ] {
        assert!(access.contains(field), "{field} in {access}");
    }
    assert!(
        !logs.contains("hi from curl"),
        "contents are not logged by default"
    );
    assert!(logs.contains("pincer gateway stopped"), "{logs}");
}

/// A second Pincer whose provider is the first gateway, with the key from the environment.
fn chain_config(api_key: Option<&str>, addr: &str) -> String {
    let key = api_key.map_or(String::new(), |k| format!("apiKey: \"{k}\","));
    format!(
        r#"{{ models: {{ bedrockDiscovery: {{ enabled: false }}, providers: {{ "edge-gw": {{
            baseUrl: "http://{addr}/v1", api: "openai-completions", auth: "api-key", {key}
            models: [{{ id: "amazon-bedrock/us.amazon.nova-micro-v1:0" }}] }} }} }} }}"#
    )
}

#[test]
fn openai_providers_take_their_api_key_from_the_environment() {
    let upstream = TestContext::new();
    let twin = TwinGuard::start();
    upstream.write_config("{ models: { bedrockDiscovery: { enabled: true } } }");
    let token = "chain-token-3f9a";
    let gateway = GatewayProcess::start(&upstream, &twin, &[("PINCER_GATEWAY_TOKEN", token)]);
    let client = TestContext::new();
    let chat = |env: &[(&str, &str)]| {
        let mut command = client.pincer(&[
            "chat",
            "--model",
            "edge-gw/amazon-bedrock/us.amazon.nova-micro-v1:0",
            "-m",
            "through the chain",
        ]);
        command.envs(env.iter().copied());
        command.output().unwrap()
    };

    // `auth: "api-key"` without `apiKey` reads EDGE_GW_API_KEY.
    client.write_config(&chain_config(None, &gateway.addr));
    let output = chat(&[("EDGE_GW_API_KEY", token)]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("through the chain"));
    let missing = chat(&[]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("EDGE_GW_API_KEY"), "{stderr}");

    // `apiKey: "${NAME}"` reads NAME; a wrong key is the gateway's 401.
    client.write_config(&chain_config(Some("${CHAIN_KEY}"), &gateway.addr));
    let output = chat(&[("CHAIN_KEY", token)]);
    assert!(output.status.success(), "{output:?}");
    let wrong = chat(&[("CHAIN_KEY", "not-the-token")]);
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        !stderr.contains("not-the-token"),
        "the key is never echoed: {stderr}"
    );
    assert!(stderr.to_lowercase().contains("token"), "{stderr}");

    let output = gateway.terminate();
    assert!(output.status.success());
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains(token),
        "the gateway never logs its token"
    );
}

#[test]
fn refuses_an_open_address_without_a_token() {
    let context = TestContext::new();
    pincer_snapshot!(
        context,
        context.pincer(&["gateway", "--bind", "0.0.0.0", "--port", "0"])
    );
}

#[test]
fn json_logs_and_contents_only_when_asked() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config(
        "{ models: { bedrockDiscovery: { enabled: true } }, gateway: { logContents: true } }",
    );
    let gateway = GatewayProcess::start(&context, &twin, &[("PINCER_LOG_FORMAT", "json")]);
    let response = http(
        &gateway.addr,
        "POST",
        "/v1/chat/completions",
        None,
        r#"{"model": "amazon-bedrock/us.amazon.nova-micro-v1:0", "messages": [{"role": "user", "content": "log me please"}]}"#,
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let output = gateway.terminate();
    assert!(output.status.success(), "{output:?}");
    let logs = String::from_utf8(output.stderr).unwrap();
    // Every line is one JSON object, the gateway's own status lines included.
    let (json, other): (Vec<&str>, Vec<&str>) = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .partition(|l| l.starts_with('{'));
    assert!(other.is_empty(), "{other:?}");
    let lines: Vec<serde_json::Value> = json
        .into_iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["target"] == "pincer::status"
            && l["fields"]["message"] == "pincer gateway stopped"),
        "{logs}"
    );
    let access = lines
        .iter()
        .find(|l| l["target"] == "pincer_gateway::access")
        .unwrap_or_else(|| panic!("an access log line: {logs}"));
    assert_eq!(access["level"], "INFO", "{access}");
    assert_eq!(access["fields"]["method"], "POST", "{access}");
    assert_eq!(access["fields"]["status"], 200, "{access}");
    assert_eq!(
        access["fields"]["model"], "amazon-bedrock/us.amazon.nova-micro-v1:0",
        "{access}"
    );
    assert!(access["fields"]["latency_ms"].is_number(), "{access}");
    // With gateway.logContents, the request and the answer are logged, tied by the completion id.
    let contents: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["target"] == "pincer_gateway::contents")
        .collect();
    assert_eq!(contents.len(), 2, "{logs}");
    assert!(
        contents[0]["fields"]["request"]
            .as_str()
            .is_some_and(|r| r.contains("log me please")),
        "{logs}"
    );
    assert!(
        contents[1]["fields"]["answer"]
            .as_str()
            .is_some_and(|r| r.contains("log me please")),
        "{logs}"
    );
    assert_eq!(contents[0]["fields"]["id"], contents[1]["fields"]["id"]);
    assert_eq!(
        contents[0]["fields"]["id"], access["fields"]["id"],
        "{logs}"
    );
}

#[test]
fn starts_with_its_configured_models_while_discovery_is_denied() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    twin.set_control_fault(Some(bedrock_twin::Fault::Deny));
    context.write_config(
        r#"{ models: { bedrockDiscovery: { enabled: true },
             providers: { "amazon-bedrock": { api: "bedrock-converse-stream", auth: "aws-sdk",
               models: [{ id: "us.amazon.nova-micro-v1:0", name: "Nova Micro" }] } } } }"#,
    );
    let gateway = GatewayProcess::start(&context, &twin, &[]);
    let response = http(
        &gateway.addr,
        "POST",
        "/v1/chat/completions",
        None,
        r#"{"model": "amazon-bedrock/us.amazon.nova-micro-v1:0", "messages": [{"role": "user", "content": "configured"}]}"#,
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let output = gateway.terminate();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("access_denied"), "{stderr}");
    assert!(stderr.contains("serving the configured models"), "{stderr}");
}
