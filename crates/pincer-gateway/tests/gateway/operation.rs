//! Running the gateway: metrics, the OpenAPI document, request limits and timeouts, fallbacks,
//! the background catalog refresh and the shutdown grace period.

use super::*;

#[tokio::test]
async fn metrics_count_requests_tokens_cost_and_errors() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let ask = |stream: bool| {
        gateway.post(json!({"model": CLAUDE, "stream": stream, "messages": [{"role": "user", "content": "count me"}]}))
    };
    assert_eq!(ask(false).send().await.unwrap().status(), 200);
    let streamed = ask(true).send().await.unwrap();
    assert_eq!(streamed.status(), 200);
    streamed.text().await.unwrap();
    let missing = gateway
        .post(json!({"model": "amazon-bedrock/us.nope-v1:0", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let response = gateway.get("/metrics").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    let ok = format!("pincer_requests_total{{model=\"{CLAUDE}\",status=\"200\",outcome=\"ok\"}}");
    assert_eq!(metric(&text, &ok), Some(2.0), "{text}");
    for stream in ["true", "false"] {
        let count = format!(
            "pincer_request_duration_seconds_count{{model=\"{CLAUDE}\",stream=\"{stream}\"}}"
        );
        assert_eq!(metric(&text, &count), Some(1.0), "{count}\n{text}");
    }
    let ttft = format!("pincer_time_to_first_token_seconds_count{{model=\"{CLAUDE}\"}}");
    assert_eq!(metric(&text, &ttft), Some(2.0), "{text}");
    let input = format!("pincer_tokens_total{{model=\"{CLAUDE}\",kind=\"input\"}}");
    let output = format!("pincer_tokens_total{{model=\"{CLAUDE}\",kind=\"output\"}}");
    assert!(metric(&text, &input).unwrap() > 0.0);
    assert!(metric(&text, &output).unwrap() > 0.0);
    // Claude Sonnet 4.5 has known prices, so the answers cost something.
    let cost = format!("pincer_cost_usd_total{{model=\"{CLAUDE}\"}}");
    assert!(metric(&text, &cost).unwrap() > 0.0, "{text}");
    // The unknown model is counted as an error, under the one label for unlisted models.
    assert_eq!(
        metric(
            &text,
            "pincer_errors_total{model=\"unlisted\",kind=\"invalid_model\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(metric(&text, "pincer_active_streams "), Some(0.0));
    assert!(metric(&text, "pincer_catalog_models ").unwrap() > 5.0);
    assert!(text.trim_end().ends_with("# EOF"));
    gateway.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_with_resolvable_schemas() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let doc: Value = gateway
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/chat/completions",
        "/v1/models",
        "/v1/models/{id}",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is described");
    }
    let chat = &doc["paths"]["/v1/chat/completions"]["post"]["responses"];
    for status in [
        "200", "400", "401", "403", "404", "408", "413", "415", "429", "500", "502", "503", "504",
    ] {
        assert!(chat[status].is_object(), "status {status} is described");
    }
    // Every reference points at a component that exists.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 10);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} resolves"
        );
    }
    let request = &doc["components"]["schemas"]["ChatCompletionRequest"];
    assert!(request["properties"]["messages"].is_object());
    assert!(request["properties"]["stream_options"].is_object());
    gateway.stop().await;
}

/// The OpenAPI document, from a running gateway.
async fn openapi(gateway: &Gateway) -> Value {
    gateway
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Whether `value` has every property `schema` (a component of `doc`) requires.
fn has_required(doc: &Value, component: &str, value: &Value) -> bool {
    doc["components"]["schemas"][component]["required"]
        .as_array()
        .unwrap()
        .iter()
        .all(|name| value.get(name.as_str().unwrap()).is_some())
}

// Found by schemathesis: the `text/event-stream` schema was `{"type": "string"}`, which OpenAPI
// 3.1 tools such as schemathesis read as the schema of each event, an object (`data`,
// `event`), so every streamed answer violated it and nothing checked its chunks. It now describes each event, its `data` as JSON of a chunk or an error, or
// `[DONE]`.
#[tokio::test]
async fn the_stream_schema_describes_each_event_of_a_real_stream() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let doc = openapi(&gateway).await;
    let event = &doc["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]["text/event-stream"]
        ["schema"];
    assert_eq!(event["type"], "object", "{event}");
    assert_eq!(event["required"], json!(["data"]), "{event}");
    let data = &event["properties"]["data"];
    assert_eq!(data["type"], "string", "{data}");
    let choices = data["anyOf"].as_array().unwrap();
    let documented: Vec<&str> = choices
        .iter()
        .filter(|c| c["contentMediaType"] == "application/json")
        .filter_map(|c| c["contentSchema"]["$ref"].as_str())
        .collect();
    assert_eq!(
        documented,
        [
            "#/components/schemas/ChatCompletionChunk",
            "#/components/schemas/ErrorBody"
        ]
    );
    assert!(choices.iter().any(|c| c["const"] == "[DONE]"), "{data}");

    // Every event of a real stream, an answer and a failure after streaming began, is one of
    // the documented kinds.
    for model in [
        HAIKU.to_owned(),
        format!("{HAIKU}~midstream-modelStreamErrorException:2"),
    ] {
        let response = gateway
            .post(
                json!({"model": model, "stream": true, "stream_options": {"include_usage": true},
                "messages": [{"role": "user", "content": "an answer in several chunks"}]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body = response.text().await.unwrap();
        for line in body
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(':'))
        {
            let data = line.strip_prefix("data: ").expect("only `data:` fields");
            if data == "[DONE]" {
                continue;
            }
            let value: Value = serde_json::from_str(data).unwrap();
            assert!(
                has_required(&doc, "ChatCompletionChunk", &value)
                    || has_required(&doc, "ErrorBody", &value),
                "{model}: {data}"
            );
        }
    }
    gateway.stop().await;
}

// Found by schemathesis: it leaves out path values with `/` unless the parameter's example
// shows one, and the model ids it learnt from `GET /v1/models` all have one, so its generation
// of `/v1/models/{id}` failed a health check. The parameter now has a served id as example.
#[tokio::test]
async fn the_model_id_parameter_has_a_served_example_with_a_slash() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let doc = openapi(&gateway).await;
    let id = &doc["paths"]["/v1/models/{id}"]["get"]["parameters"][0];
    let example = id["example"].as_str().unwrap();
    assert!(example.contains('/'), "{id}");
    let response = gateway
        .get(&format!("/v1/models/{example}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let model: Value = response.json().await.unwrap();
    assert_eq!(model["id"], example);
    gateway.stop().await;
}

// The request examples (which schemathesis sends first) are requests a gateway with a default
// model answers, whole and streamed; `messages` needs at least one message.
#[tokio::test]
async fn the_documented_request_examples_are_answered() {
    let config = format!(
        r#"{{ models: {{ bedrockDiscovery: {{ enabled: true }} }},
             agents: {{ defaults: {{ model: {{ primary: "{HAIKU}" }} }} }} }}"#
    );
    let gateway = Gateway::start(&config, None).await;
    let doc = openapi(&gateway).await;
    let body =
        &doc["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"];
    let examples = body["examples"].as_object().unwrap();
    assert_eq!(examples.len(), 2);
    for (name, example) in examples {
        let value = example["value"].clone();
        let response = gateway.post(value.clone()).send().await.unwrap();
        assert_eq!(response.status(), 200, "{name}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let text = response.text().await.unwrap();
        if value["stream"] == true {
            assert!(kind.starts_with("text/event-stream"), "{name}: {kind}");
            assert!(text.contains("data: [DONE]"), "{name}: {text}");
        } else {
            assert!(kind.starts_with("application/json"), "{name}: {kind}");
            let answer: Value = serde_json::from_str(&text).unwrap();
            assert!(has_required(&doc, "ChatCompletion", &answer), "{text}");
        }
    }
    let request = &doc["components"]["schemas"]["ChatCompletionRequest"];
    assert_eq!(
        request["properties"]["messages"]["minItems"], 1,
        "{request}"
    );
    gateway.stop().await;
}

// A model id that is not UTF-8 once decoded was axum's plain-text 400, a status and content
// type the document did not declare. It is an OpenAI-shaped 400, and declared.
#[tokio::test]
async fn an_undecodable_model_id_is_an_openai_error() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let response = gateway.get("/v1/models/%FF%FE").send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "invalid_request_error", "{error}");
    assert_eq!(error["error"]["param"], "id", "{error}");
    let doc = openapi(&gateway).await;
    let declared = &doc["paths"]["/v1/models/{id}"]["get"]["responses"]["400"];
    assert_eq!(
        declared["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn bad_bodies_get_clear_openai_errors() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let raw = |content_type: &'static str, body: Vec<u8>| {
        reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", gateway.url))
            .header("content-type", content_type)
            .body(body)
    };
    let too_large = raw("application/json", vec![b' '; BODY_LIMIT + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 413);
    let error: Value = too_large.json().await.unwrap();
    assert_eq!(error["error"]["code"], "request_too_large", "{error}");

    refused(
        raw("text/plain", b"{}".to_vec()).send().await.unwrap(),
        415,
        "application/json",
    )
    .await;
    refused(
        raw("application/json", b"{\"model\": \"\xff\"}".to_vec())
            .send()
            .await
            .unwrap(),
        400,
        "UTF-8",
    )
    .await;

    let wrong_type = gateway
        .post(json!({"model": CLAUDE, "messages": [{"role": "user", "content": 5}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 400);
    let error: Value = wrong_type.json().await.unwrap();
    assert_eq!(error["error"]["param"], "messages[0]", "{error}");

    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let nested = raw("application/json", deep.into_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(nested.status(), 400);
    // Deep nesting inside a field that takes any JSON (tool parameters).
    let deep_schema = format!(
        r#"{{"model": "{CLAUDE}", "messages": [{{"role": "user", "content": "x"}}],
            "tools": [{{"type": "function", "function": {{"name": "f", "parameters": {}{}}}}}]}}"#,
        r#"{"a":"#.repeat(5_000),
        "}".repeat(5_000)
    );
    refused(
        raw("application/json", deep_schema.into_bytes())
            .send()
            .await
            .unwrap(),
        400,
        "recursion limit",
    )
    .await;

    // Each of these is refused with a 4xx that says what and where.
    let not_an_image = "data:image/png;base64,aGVsbG8gd29ybGQ=";
    let cases = [
        (
            json!({"model": CLAUDE, "max_tokens": 1_000_000_000_000u64, "messages": [{"role": "user", "content": "x"}]}),
            "max_tokens",
        ),
        (
            json!({"model": CLAUDE, "max_tokens": -1, "messages": [{"role": "user", "content": "x"}]}),
            "max_tokens",
        ),
        (
            json!({"model": CLAUDE, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": not_an_image}}]}]}),
            "image",
        ),
        (
            json!({"model": CLAUDE, "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:text/plain;base64,aGVsbG8="}}]}]}),
            "image",
        ),
        (
            json!({"model": CLAUDE, "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@not base64@@"}}]}]}),
            "base64",
        ),
    ];
    // A max_tokens above the model's limit (but a valid number) is clamped to the limit.
    let above_limit = gateway
        .post(json!({"model": CLAUDE, "max_tokens": 4_000_000, "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(above_limit.status(), 200);
    for (body, needle) in cases {
        refused(gateway.post(body).send().await.unwrap(), 400, needle).await;
    }
    gateway.stop().await;
}

#[tokio::test]
async fn upstream_failures_map_to_502_and_504() {
    let config =
        r#"{ models: { bedrockDiscovery: { enabled: true } }, gateway: { requestTimeout: 1 } }"#;
    let gateway = Gateway::start(config, None).await;
    let reset = gateway
        .post(json!({"model": format!("{HAIKU}~reset:0"), "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 502);
    let error: Value = reset.json().await.unwrap();
    assert_eq!(error["error"]["type"], "api_error", "{error}");

    for stream in [false, true] {
        let started = std::time::Instant::now();
        let stalled = gateway
            .post(json!({"model": format!("{HAIKU}~stall:30"), "stream": stream, "messages": [{"role": "user", "content": "x"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(stalled.status(), 504, "stream: {stream}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let error: Value = stalled.json().await.unwrap();
        assert_eq!(error["error"]["code"], "timeout", "{error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("gateway.requestTimeout")
        );
    }
    let text = gateway.metrics().await;
    let timeouts = "pincer_errors_total{model=\"unlisted\",kind=\"timeout\"}";
    assert_eq!(metric(&text, timeouts), Some(2.0), "{text}");
    gateway.stop().await;
}

#[tokio::test]
async fn the_default_model_falls_back_before_any_output() {
    let config = format!(
        r#"{{ models: {{ bedrockDiscovery: {{ enabled: true }} }},
             agents: {{ defaults: {{ model: {{ primary: "{HAIKU}~5xx:503", fallbacks: ["{CLAUDE}"] }} }} }} }}"#
    );
    let gateway = Gateway::start(&config, None).await;
    for stream in [false, true] {
        let response = gateway
            .post(json!({"model": "default", "stream": stream, "messages": [{"role": "user", "content": "fall back"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "stream: {stream}");
        let body = response.text().await.unwrap();
        assert!(body.contains(CLAUDE), "answered by the fallback: {body}");
    }
    // Naming a model other than the primary does not fall back.
    let direct = gateway
        .post(json!({"model": format!("{HAIKU}~throttle"), "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 429);
    let text = gateway.metrics().await;
    let fallbacks = format!("pincer_fallbacks_total{{model=\"{HAIKU}~5xx:503\"}}");
    assert_eq!(metric(&text, &fallbacks), Some(2.0), "{text}");
    gateway.stop().await;
}

#[tokio::test]
async fn the_catalog_refreshes_in_the_background_not_per_request() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let before = gateway.twin.stream_counts().listings;
    for _ in 0..5 {
        assert_eq!(
            gateway.get("/v1/models").send().await.unwrap().status(),
            200
        );
    }
    assert_eq!(
        gateway.twin.stream_counts().listings,
        before,
        "listing models makes no discovery call"
    );
    gateway.stop().await;

    let config = "{ models: { bedrockDiscovery: { enabled: true, refreshInterval: 1 } } }";
    let gateway = Gateway::start(config, None).await;
    let before = gateway.twin.stream_counts().listings;
    let mut refreshed = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        refreshed = metric(
            &gateway.metrics().await,
            "pincer_catalog_refreshes_total{outcome=\"ok\"}",
        );
        if refreshed.is_some() {
            break;
        }
    }
    assert!(refreshed.unwrap_or(0.0) >= 1.0, "a refresh ran");
    assert!(gateway.twin.stream_counts().listings > before);
    assert!(gateway.state.catalog().served().count() > 5);
    gateway.stop().await;
}

#[tokio::test]
async fn shutdown_drains_or_cuts_after_the_grace_period() {
    // Nothing in flight: serving ends at once, drained.
    let mut gateway = Gateway::start(DISCOVERY_ON, None).await;
    assert_eq!(gateway.shut_down().await, Stopped::Drained);
    gateway.stop().await;

    // A stream that outlives the grace period is cut when it runs out.
    let mut gateway =
        Gateway::start_with_grace(DISCOVERY_ON, None, Duration::from_millis(300)).await;
    let slow = gateway
        .post(json!({"model": format!("{HAIKU}~slow:400"), "stream": true, "messages": [{"role": "user", "content": "one two three four five six seven eight nine ten"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), 200);
    let started = std::time::Instant::now();
    assert_eq!(gateway.shut_down().await, Stopped::GraceElapsed);
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(slow);
    gateway.stop().await;

    // A short stream in flight at the signal finishes within the grace period.
    let mut gateway = Gateway::start_with_grace(DISCOVERY_ON, None, Duration::from_secs(10)).await;
    let short = gateway
        .post(json!({"model": format!("{HAIKU}~slow:50"), "stream": true, "messages": [{"role": "user", "content": "short answer"}]}))
        .send()
        .await
        .unwrap();
    let stopping = tokio::spawn(async move {
        let stopped = gateway.shut_down().await;
        (gateway, stopped)
    });
    let body = short.text().await.unwrap();
    assert!(body.contains("[DONE]"), "the stream in flight completed");
    let (gateway, stopped) = stopping.await.unwrap();
    assert_eq!(stopped, Stopped::Drained);
    gateway.stop().await;
}
