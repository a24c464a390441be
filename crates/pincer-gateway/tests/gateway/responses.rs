//! The Responses door (`POST /v1/responses`) against the twin: whole and streamed answers, the
//! event sequence, reasoning that survives a tool turn through `encrypted_content`, structured
//! output, images, usage, what a stateless gateway refuses, a failure mid-stream, and the
//! OpenAI-shaped answers to unknown routes and wrong methods.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::*;

const SONNET_45: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const HAIKU_45: &str = "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0";

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn post(gateway: &Gateway, body: Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{}/v1/responses", gateway.url))
        .json(&body)
}

async fn respond(gateway: &Gateway, body: Value) -> Value {
    let response = post(gateway, body).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// The events of a streamed answer, each checked: its SSE `event:` name is its `type`.
async fn events(gateway: &Gateway, mut body: Value) -> Vec<Value> {
    body["stream"] = json!(true);
    let response = post(gateway, body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    let events: Vec<Value> = sse_data(&text)
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(names.len(), events.len(), "{text}");
    for (name, event) in names.iter().zip(&events) {
        assert_eq!(event["type"], *name);
    }
    events
}

fn text_of(response: &Value) -> String {
    response["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().unwrap().iter())
        .filter_map(|part| part["text"].as_str())
        .collect()
}

#[tokio::test]
async fn a_string_input_and_instructions_get_a_whole_response() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let body = respond(
        &gateway,
        json!({"model": HAIKU_45, "input": "Hello door", "instructions": "Be brief.", "max_output_tokens": 100, "store": false}),
    )
    .await;
    assert!(body["id"].as_str().unwrap().starts_with("resp_"), "{body}");
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["model"], HAIKU_45);
    assert_eq!(body["instructions"], "Be brief.");
    assert_eq!(body["store"], false);
    assert!(!text_of(&body).is_empty(), "{body}");
    let usage = &body["usage"];
    assert!(usage["input_tokens"].as_u64().unwrap() > 0, "{body}");
    assert!(usage["output_tokens"].as_u64().unwrap() > 0, "{body}");
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap())
    );
    let sent = gateway.twin.received().pop().unwrap();
    assert_eq!(sent["system"][0]["text"], "Be brief.");
    assert_eq!(sent["inferenceConfig"]["maxTokens"], 100);
    gateway.stop().await;
}

#[tokio::test]
async fn a_streamed_response_has_the_event_sequence_clients_expect() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let events = events(
        &gateway,
        json!({"model": HAIKU_45, "input": [{"role": "user", "content": [{"type": "input_text", "text": "one two three four"}]}]}),
    )
    .await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types[..2],
        ["response.created", "response.in_progress"],
        "{types:?}"
    );
    assert_eq!(types.last(), Some(&"response.completed"), "{types:?}");
    for expected in [
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ] {
        assert!(types.contains(&expected), "{expected}: {types:?}");
    }
    let numbers: Vec<u64> = events
        .iter()
        .map(|e| e["sequence_number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>());
    let deltas: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    let completed = &events.last().unwrap()["response"];
    assert_eq!(deltas, text_of(completed));
    assert!(completed["usage"]["output_tokens"].as_u64().unwrap() > 0);
    // Every item id of the stream is the final object's.
    let streamed: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "response.output_item.done")
        .map(|e| &e["item"])
        .collect();
    assert_eq!(
        streamed,
        completed["output"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>()
    );
    gateway.stop().await;
}

#[tokio::test]
async fn reasoning_survives_a_tool_turn_in_encrypted_content() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let tools = json!([{"type": "function", "name": "get_weather", "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let question = json!({"role": "user", "content": "Use get_weather for Paris"});
    let events = events(
        &gateway,
        json!({"model": SONNET_45, "input": [question], "tools": tools, "reasoning": {"effort": "low", "summary": "auto"},
               "include": ["reasoning.encrypted_content"], "store": false}),
    )
    .await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for expected in [
        "response.reasoning_summary_text.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
    ] {
        assert!(types.contains(&expected), "{expected}: {types:?}");
    }
    let first = &events.last().unwrap()["response"];
    let output = first["output"].as_array().unwrap();
    let reasoning = output.iter().find(|i| i["type"] == "reasoning").unwrap();
    assert!(
        reasoning["encrypted_content"]
            .as_str()
            .unwrap()
            .starts_with("pincer.v1."),
        "{reasoning}"
    );
    let call = output
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap();
    assert_eq!(call["name"], "get_weather");
    let arguments: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert!(arguments["city"].is_string(), "{arguments}");

    // The next turn sends the output items back, as stateless clients do, with the tool's output.
    let mut input = vec![question.clone()];
    input.extend(output.iter().cloned());
    input.push(json!({"type": "function_call_output", "call_id": call["call_id"], "output": "sunny, 21 C"}));
    let second = respond(
        &gateway,
        json!({"model": SONNET_45, "input": input, "tools": tools, "reasoning": {"effort": "low"}, "store": false}),
    )
    .await;
    assert_eq!(second["status"], "completed", "{second}");
    assert!(!text_of(&second).is_empty(), "{second}");
    let sent = gateway.twin.received().pop().unwrap();
    let assistant = &sent["messages"][1]["content"];
    let thought = &assistant[0]["reasoningContent"]["reasoningText"];
    assert_eq!(thought["text"], reasoning["summary"][0]["text"], "{sent}");
    assert!(
        thought["signature"].as_str().is_some_and(|s| !s.is_empty()),
        "{sent}"
    );
    let used = assistant
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b.get("toolUse").is_some())
        .unwrap();
    assert_eq!(used["toolUse"]["toolUseId"], call["call_id"], "{sent}");
    assert_eq!(
        sent["messages"][2]["content"][0]["toolResult"]["content"][0]["text"],
        "sunny, 21 C"
    );
    assert!(
        sent["additionalModelRequestFields"]["thinking"].is_object(),
        "{sent}"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn a_json_schema_text_format_is_bedrock_structured_output() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false});
    let body = respond(
        &gateway,
        json!({"model": HAIKU_45, "input": "Pick a city",
               "text": {"format": {"type": "json_schema", "name": "pick", "schema": schema, "strict": true}}}),
    )
    .await;
    let sent = gateway.twin.received().pop().unwrap();
    assert_eq!(
        sent["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["name"],
        "pick"
    );
    let answer: Value = serde_json::from_str(&text_of(&body)).unwrap();
    assert!(answer["city"].is_string(), "{answer}");
    assert_eq!(body["text"]["format"]["name"], "pick");
    gateway.stop().await;
}

#[tokio::test]
async fn images_and_files_reach_bedrock_as_blocks() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let pdf = STANDARD.encode(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n");
    respond(
        &gateway,
        json!({"model": SONNET_45, "input": [{"role": "user", "content": [
            {"type": "input_text", "text": "What is in these?"},
            {"type": "input_image", "image_url": format!("data:image/png;base64,{PNG}"), "detail": "auto"},
            {"type": "input_file", "filename": "report.pdf", "file_data": format!("data:application/pdf;base64,{pdf}")},
        ]}]}),
    )
    .await;
    let sent = gateway.twin.received().pop().unwrap();
    let content = &sent["messages"][0]["content"];
    assert_eq!(content[1]["image"]["format"], "png", "{sent}");
    assert_eq!(content[2]["document"]["format"], "pdf", "{sent}");
    gateway.stop().await;
}

#[tokio::test]
async fn what_a_stateless_gateway_cannot_do_is_refused_in_openai_shape() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    for (body, param) in [
        (
            json!({"model": HAIKU_45, "input": "x", "store": true}),
            "store",
        ),
        (
            json!({"model": HAIKU_45, "input": "x", "previous_response_id": "resp_1"}),
            "previous_response_id",
        ),
        (
            json!({"model": HAIKU_45, "input": "x", "tools": [{"type": "web_search"}]}),
            "tools[0].type",
        ),
        (
            json!({"model": HAIKU_45, "input": [{"type": "item_reference", "id": "msg_1"}]}),
            "input[0].id",
        ),
        (json!({"model": HAIKU_45}), "input"),
    ] {
        let (status, error) = error_of(post(&gateway, body.clone()).send().await.unwrap()).await;
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"]["param"], param, "{body}: {error}");
        assert_eq!(error["error"]["type"], "invalid_request_error");
    }
    // A field the API does not have.
    let (status, error) = error_of(
        post(
            &gateway,
            json!({"model": HAIKU_45, "input": "x", "frobnicate": 1}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("frobnicate"),
        "{error}"
    );
    // An unknown model is the OpenAI 404.
    let (status, error) = error_of(
        post(&gateway, json!({"model": "no-such-model", "input": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["code"], "model_not_found");
    assert_eq!(
        gateway.twin.stream_counts().started,
        0,
        "nothing reached Bedrock"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn a_failure_after_output_began_is_a_response_failed_event() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let model =
        "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0~midstream-throttlingException:2";
    let events = events(
        &gateway,
        json!({"model": model, "input": "one two three four five six seven eight"}),
    )
    .await;
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.failed", "{events:?}");
    assert_eq!(last["response"]["status"], "failed");
    assert_eq!(
        last["response"]["error"]["code"], "rate_limit_exceeded",
        "{last}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "response.output_text.delta"),
        "the partial answer came first"
    );
    let metrics = gateway.metrics().await;
    assert_eq!(
        metric(&metrics, "pincer_active_streams "),
        Some(0.0),
        "{metrics}"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_openai_shape() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/v1/no-such-route", gateway.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(response).await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["code"], "unknown_url");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("POST /v1/no-such-route"),
        "{error}"
    );

    for (method, path, allow) in [
        (reqwest::Method::GET, "/v1/responses", "POST"),
        (reqwest::Method::GET, "/v1/chat/completions", "POST"),
        (reqwest::Method::DELETE, "/v1/models", "GET"),
    ] {
        let response = client
            .request(method.clone(), format!("{}{path}", gateway.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let (status, error) = error_of(response).await;
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(error["error"]["code"], "method_not_allowed", "{error}");
    }
    // The OpenAPI document describes the door.
    let document: Value = gateway
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["paths"]["/v1/responses"]["post"].is_object());
    assert!(document["components"]["schemas"]["ResponsesRequest"].is_object());
    gateway.stop().await;
}
