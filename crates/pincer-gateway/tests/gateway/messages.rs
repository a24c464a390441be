//! The Messages door (`POST /v1/messages`, `/v1/messages/count_tokens`) against the twin: Anthropic
//! model names, whole and streamed answers with the exact event sequence, thinking with its
//! signature across a tool turn (shown, or omitted and sealed in the signature), cache_control
//! ttl, beta flags (Bedrock's passed on, others dropped), both auth headers, count_tokens through
//! Bedrock's CountTokens, and errors in Anthropic's shape from every layer.

use super::*;

const SONNET_45: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const TOKEN: &str = "messages-door-token-0123456789";

fn post(gateway: &Gateway, path: &str, body: Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{}{path}", gateway.url))
        .header("x-api-key", TOKEN)
        .header("anthropic-version", "2023-06-01")
        .json(&body)
}

async fn message(gateway: &Gateway, body: Value) -> Value {
    let response = post(gateway, "/v1/messages", body).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// `(event name, data)` of a streamed answer; each event's name is its data's `type`.
async fn events(gateway: &Gateway, mut body: Value) -> Vec<(String, Value)> {
    body["stream"] = json!(true);
    let response = post(gateway, "/v1/messages", body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: ").map(str::to_owned))
        .collect();
    let data: Vec<Value> = sse_data(&text)
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(names.len(), data.len(), "{text}");
    for (name, value) in names.iter().zip(&data) {
        assert_eq!(value["type"], name.as_str());
    }
    names.into_iter().zip(data).collect()
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

#[tokio::test]
async fn an_anthropic_model_name_gets_a_whole_message() {
    let gateway = Gateway::start(DISCOVERY_ON, Some(TOKEN)).await;
    let body = message(
        &gateway,
        json!({"model": "claude-sonnet-4-5", "max_tokens": 200, "system": "Be brief.",
               "messages": [user("Hello messages door")]}),
    )
    .await;
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(
        body["model"], "claude-sonnet-4-5",
        "the name the client sent"
    );
    assert!(body["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(body["stop_reason"], "end_turn");
    let text = body["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Hello messages door"), "{body}");
    assert!(body["usage"]["input_tokens"].as_u64().unwrap() > 0);
    assert!(body["usage"]["output_tokens"].as_u64().unwrap() > 0);
    let sent = gateway.twin.received().pop().unwrap();
    assert_eq!(sent["system"][0]["text"], "Be brief.");
    assert_eq!(sent["inferenceConfig"]["maxTokens"], 200);
    // A dated name names the same model; the Bedrock id works too.
    for name in ["claude-sonnet-4-5-20250929", SONNET_45] {
        let body = message(
            &gateway,
            json!({"model": name, "max_tokens": 50, "messages": [user("x")]}),
        )
        .await;
        assert_eq!(body["model"], name);
    }
    gateway.stop().await;
}

#[tokio::test]
async fn a_stream_has_anthropics_event_sequence() {
    let gateway = Gateway::start(DISCOVERY_ON, Some(TOKEN)).await;
    let events = events(
        &gateway,
        json!({"model": "claude-sonnet-4-5", "max_tokens": 200, "messages": [user("one two three four")]}),
    )
    .await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names[..3],
        ["message_start", "ping", "content_block_start"],
        "{names:?}"
    );
    assert_eq!(
        names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"],
        "{names:?}"
    );
    let text: String = events
        .iter()
        .filter(|(n, v)| n == "content_block_delta" && v["delta"]["type"] == "text_delta")
        .map(|(_, v)| v["delta"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "one two three four");
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert!(
        delta["usage"]["output_tokens"].as_u64().unwrap() > 0,
        "{delta}"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn thinking_and_its_signature_survive_a_tool_turn() {
    let gateway = Gateway::start(DISCOVERY_ON, Some(TOKEN)).await;
    let tools = json!([{"name": "get_weather", "description": "Weather in a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    for display in [None, Some("omitted")] {
        let mut thinking = json!({"type": "enabled", "budget_tokens": 2048});
        if let Some(display) = display {
            thinking["display"] = json!(display);
        }
        let question = user("Use get_weather for Paris");
        let events = events(
            &gateway,
            json!({"model": "claude-sonnet-4-5", "max_tokens": 4096, "thinking": thinking, "tools": tools,
                   "messages": [question]}),
        )
        .await;
        let deltas: Vec<&Value> = events
            .iter()
            .filter(|(n, _)| n == "content_block_delta")
            .map(|(_, v)| &v["delta"])
            .collect();
        let kinds: Vec<&str> = deltas.iter().map(|d| d["type"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"signature_delta"), "{kinds:?}");
        assert!(kinds.contains(&"input_json_delta"), "{kinds:?}");
        assert_eq!(
            kinds.contains(&"thinking_delta"),
            display.is_none(),
            "{kinds:?}"
        );
        // The client rebuilds the assistant turn from the events, as the SDKs do.
        let thought: String = deltas
            .iter()
            .filter_map(|d| d["thinking"].as_str())
            .collect();
        let signature = deltas
            .iter()
            .find_map(|d| d["signature"].as_str())
            .unwrap()
            .to_owned();
        let start = events
            .iter()
            .find(|(n, v)| n == "content_block_start" && v["content_block"]["type"] == "tool_use")
            .map(|(_, v)| v["content_block"].clone())
            .unwrap();
        let input: String = deltas
            .iter()
            .filter_map(|d| d["partial_json"].as_str())
            .collect();
        let last = &events[events.len() - 2].1;
        assert_eq!(last["delta"]["stop_reason"], "tool_use");
        let assistant = json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": thought, "signature": signature},
            {"type": "tool_use", "id": start["id"], "name": start["name"], "input": serde_json::from_str::<Value>(&input).unwrap()},
        ]});
        let result = json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": start["id"], "content": "sunny, 21 C"}]});
        let second = message(
            &gateway,
            json!({"model": "claude-sonnet-4-5", "max_tokens": 4096, "thinking": thinking, "tools": tools,
                   "messages": [user("Use get_weather for Paris"), assistant, result]}),
        )
        .await;
        assert_eq!(second["stop_reason"], "end_turn", "{second}");
        let sent = gateway.twin.received().pop().unwrap();
        let opening = &sent["messages"][1]["content"][0]["reasoningContent"]["reasoningText"];
        assert!(
            opening["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{display:?}: {sent}"
        );
        assert!(
            !opening["signature"]
                .as_str()
                .unwrap()
                .starts_with("pincer."),
            "Bedrock gets its own signature back: {sent}"
        );
        assert_eq!(
            sent["additionalModelRequestFields"]["thinking"]["budget_tokens"],
            2048
        );
    }
    gateway.stop().await;
}

#[tokio::test]
async fn betas_bedrock_takes_go_on_and_others_are_dropped() {
    let gateway = Gateway::start(DISCOVERY_ON, Some(TOKEN)).await;
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [user("x")],
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}, "top_k": 5,
        "metadata": {"user_id": "{\"device_id\":\"d\"}"},
        "system": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]});
    let response = post(&gateway, "/v1/messages?beta=true", body)
        .header(
            "anthropic-beta",
            "claude-code-20250219, interleaved-thinking-2025-05-14, per-turn-control-2026-07-01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let sent = gateway.twin.received().pop().unwrap();
    let fields = &sent["additionalModelRequestFields"];
    assert_eq!(
        fields["anthropic_beta"],
        json!([
            "interleaved-thinking-2025-05-14",
            "context-management-2025-06-27"
        ])
    );
    assert_eq!(fields["top_k"], 5);
    assert!(fields["context_management"].is_object());
    assert!(
        sent.get("requestMetadata").is_none(),
        "a JSON user_id is not Bedrock metadata: {sent}"
    );
    // A one-hour ttl gives one-hour cache points.
    let cache_points: Vec<&Value> = sent["system"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b.get("cachePoint"))
        .collect();
    assert!(cache_points.iter().any(|c| c["ttl"] == "1h"), "{sent}");
    gateway.stop().await;
}

#[tokio::test]
async fn count_tokens_is_bedrocks_count_of_the_same_request() {
    let gateway = Gateway::start(DISCOVERY_ON, Some(TOKEN)).await;
    let body = json!({"model": "claude-sonnet-4-5", "system": "Be brief.",
        "messages": [user("count these words please")]});
    let response = post(&gateway, "/v1/messages/count_tokens", body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let counted: Value = response.json().await.unwrap();
    let tokens = counted["input_tokens"].as_u64().unwrap();
    assert!(tokens > 0, "{counted}");
    let sent = gateway.twin.received().pop().unwrap();
    assert_eq!(
        sent["input"]["converse"]["system"][0]["text"], "Be brief.",
        "{sent}"
    );
    // The answer's usage counts the same input.
    let mut create = body;
    create["max_tokens"] = json!(50);
    let answered = message(&gateway, create).await;
    let usage = &answered["usage"];
    assert_eq!(
        usage["input_tokens"].as_u64().unwrap()
            + usage["cache_read_input_tokens"].as_u64().unwrap()
            + usage["cache_creation_input_tokens"].as_u64().unwrap(),
        tokens,
        "{answered}"
    );
    // A model CountTokens does not serve says so, in Anthropic's shape.
    let response = post(
        &gateway,
        "/v1/messages/count_tokens",
        json!({"model": "amazon-bedrock/us.amazon.nova-pro-v1:0", "messages": [user("x")]}),
    )
    .send()
    .await
    .unwrap();
    let (status, error) = error_of(response).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    gateway.stop().await;
}

#[tokio::test]
async fn errors_come_in_anthropics_shape_from_every_layer() {
    let gateway = Gateway::start(DISCOVERY_ON, Some(TOKEN)).await;
    let client = reqwest::Client::new();
    // No token: the auth layer.
    let response = client
        .post(format!("{}/v1/messages", gateway.url))
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [user("x")]}))
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(response).await;
    assert_eq!(
        (status, error["error"]["type"].as_str()),
        (401, Some("authentication_error")),
        "{error}"
    );
    // Bearer works as well as x-api-key.
    let response = client
        .post(format!("{}/v1/messages", gateway.url))
        .bearer_auth(TOKEN)
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [user("x")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for (body, status, kind, needle) in [
        (
            json!({"model": "claude-opus-9", "max_tokens": 10, "messages": [user("x")]}),
            404,
            "not_found_error",
            "claude-opus-9",
        ),
        (
            json!({"model": "claude-sonnet-4-5", "messages": [user("x")]}),
            400,
            "invalid_request_error",
            "max_tokens",
        ),
        (
            json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [user("x")], "frobnicate": 1}),
            400,
            "invalid_request_error",
            "frobnicate",
        ),
        (
            json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [user("x")], "tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
            400,
            "invalid_request_error",
            "tools[0].type",
        ),
        (
            json!({"model": "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0~throttle", "max_tokens": 10, "messages": [user("x")]}),
            429,
            "rate_limit_error",
            "",
        ),
    ] {
        let (got, error) = error_of(
            post(&gateway, "/v1/messages", body.clone())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(got, status, "{body}: {error}");
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["error"]["type"], kind, "{body}: {error}");
        assert!(
            error["error"]["message"].as_str().unwrap().contains(needle),
            "{needle}: {error}"
        );
    }
    let (status, error) = error_of(
        post(
            &gateway,
            "/v1/messages",
            json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [user("x")]}),
        )
        .header("anthropic-version", "1999-01-01")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (status, error["error"]["type"].as_str()),
        (400, Some("invalid_request_error")),
        "{error}"
    );
    // The chat door keeps OpenAI's shape.
    let (status, error) = error_of(
        client
            .post(format!("{}/v1/chat/completions", gateway.url))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(error["error"]["code"].is_string(), "{error}");
    gateway.stop().await;
}
