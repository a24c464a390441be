//! The whole Converse surface through the gateway: structured answers, every chat-completions
//! parameter (honoured, or refused naming it), guardrails, service tiers and latency, documents
//! and citations, every stop reason and stream end, thinking through clients that drop the
//! signature, and redacted reasoning carried both ways. The twin checks each Bedrock field as
//! Bedrock does, and `RunningTwin::received` shows what Bedrock would have received.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::*;

const HAIKU_45: &str = "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA_PRO: &str = "amazon-bedrock/us.amazon.nova-pro-v1:0";
const NOVA_MICRO: &str = "amazon-bedrock/us.amazon.nova-micro-v1:0";
const HAIKU_35: &str = "amazon-bedrock/anthropic.claude-3-5-haiku-20241022-v1:0";
const SONNET_45: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/// A tiny PDF, enough for the format checks.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

/// The last body Bedrock received.
fn last_received(gateway: &Gateway) -> Value {
    gateway.twin.received().pop().expect("a Converse request")
}

async fn answer(gateway: &Gateway, body: Value) -> Value {
    let response = gateway.post(body).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// The chunks of a streamed answer (without `[DONE]`).
async fn chunks(gateway: &Gateway, mut body: Value) -> Vec<Value> {
    body["stream"] = json!(true);
    let response = gateway.post(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let data = sse_data(&response.text().await.unwrap());
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "{data:?}");
    data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

fn vectors_dir() -> Option<PathBuf> {
    use pincer_core::env::EnvVars;
    let dir = EnvVars::get_string(EnvVars::PINCER_VECTORS)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"));
    if dir.join("INDEX.md").is_file() {
        return Some(dir);
    }
    // CI has the captures beside the repository: their absence there is a failure.
    assert!(
        !EnvVars::is_true(EnvVars::CI),
        "the Bedrock vectors are missing at {}",
        dir.display()
    );
    None
}

async fn with_vectors(dir: PathBuf) -> Gateway {
    Gateway::launch(Setup {
        twin: TwinConfig {
            vectors_dir: Some(dir),
            ..TwinConfig::default()
        },
        ..Setup::new(DISCOVERY_ON)
    })
    .await
}

#[tokio::test]
async fn a_json_schema_becomes_bedrock_structured_output_and_the_answer_is_that_json() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city", "days"], "additionalProperties": false});
    let body = answer(
        &gateway,
        json!({"model": HAIKU_45, "messages": [user("Plan a trip")],
            "response_format": {"type": "json_schema", "json_schema": {"name": "trip", "schema": schema, "strict": true}}}),
    )
    .await;
    let sent = last_received(&gateway);
    let format = &sent["outputConfig"]["textFormat"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["structure"]["jsonSchema"]["name"], "trip");
    let sent_schema: Value = serde_json::from_str(
        format["structure"]["jsonSchema"]["schema"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sent_schema, schema);
    let content: Value =
        serde_json::from_str(body["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert!(
        content["city"].is_string() && content["days"].is_i64(),
        "{content}"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");

    // A keyword outside Bedrock's subset is refused by Pincer, naming where it is.
    let error = refused(
        gateway
            .post(json!({"model": HAIKU_45, "messages": [user("x")],
                "response_format": {"type": "json_schema", "json_schema": {"name": "t", "schema": {"type": "object", "properties": {"tags": {"type": "array", "maxItems": 3}}}}}}))
            .send()
            .await
            .unwrap(),
        400,
        "maxItems",
    )
    .await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains(".properties.tags"),
        "{error}"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn a_model_without_structured_output_answers_through_a_forced_tool() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    for format in [
        json!({"type": "json_schema", "json_schema": {"name": "verdict", "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}}}),
        json!({"type": "json_object"}),
    ] {
        let body = answer(
            &gateway,
            json!({"model": NOVA_MICRO, "messages": [user("Is it fine?")], "response_format": format}),
        )
        .await;
        let sent = last_received(&gateway);
        assert!(sent.get("outputConfig").is_none(), "{sent}");
        let tool = sent["toolConfig"]["toolChoice"]["tool"]["name"]
            .as_str()
            .unwrap();
        assert_eq!(sent["toolConfig"]["tools"][0]["toolSpec"]["name"], tool);
        let message = &body["choices"][0]["message"];
        assert!(message.get("tool_calls").is_none(), "{body}");
        let content: Value = serde_json::from_str(message["content"].as_str().unwrap()).unwrap();
        assert!(content.is_object(), "{content}");
        assert_eq!(body["choices"][0]["finish_reason"], "stop", "{body}");
    }
    // The forced tool needs the tool choice: the request's own tools cannot come along.
    refused(
        gateway
            .post(json!({"model": NOVA_MICRO, "messages": [user("x")], "response_format": {"type": "json_object"},
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}))
            .send()
            .await
            .unwrap(),
        400,
        "structured answer cannot be combined",
    )
    .await;
    gateway.stop().await;
}

#[tokio::test]
async fn parameters_bedrock_cannot_honour_are_refused_by_name() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let cases = [
        (json!({"n": 2}), "n"),
        (json!({"logprobs": true}), "logprobs"),
        (json!({"top_logprobs": 3}), "top_logprobs"),
        (json!({"logit_bias": {"50256": -100}}), "logit_bias"),
        (json!({"presence_penalty": 0.5}), "presence_penalty"),
        (json!({"frequency_penalty": -0.5}), "frequency_penalty"),
        (json!({"store": true}), "store"),
        (json!({"modalities": ["text", "audio"]}), "modalities"),
        (
            json!({"audio": {"voice": "alloy", "format": "mp3"}}),
            "audio",
        ),
        (json!({"verbosity": "high"}), "verbosity"),
        (json!({"web_search_options": {}}), "web_search_options"),
        (json!({"functions": [{"name": "f"}]}), "functions"),
        (json!({"service_tier": "scale"}), "service_tier"),
        (json!({"frobnicate": 1}), "frobnicate"),
    ];
    for (extra, param) in cases {
        let mut body = json!({"model": CLAUDE, "messages": [user("hi")]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, error) = error_of(gateway.post(body).send().await.unwrap()).await;
        assert_eq!(status, 400, "{param}: {error}");
        assert_eq!(error["error"]["param"], param, "{error}");
        assert_eq!(error["error"]["type"], "invalid_request_error", "{error}");
    }
    // A field a message does not have is named with its path.
    let (status, error) = error_of(
        gateway
            .post(json!({"model": CLAUDE, "messages": [{"role": "user", "content": "hi", "colour": "red"}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, &error["error"]["param"]),
        (400, &json!("messages[0].colour"))
    );
    // Neutral values pass; `seed` and `prediction` are hints a server may ignore.
    let neutral = json!({"model": CLAUDE, "messages": [user("hi")], "n": 1, "logprobs": false,
        "presence_penalty": 0, "frequency_penalty": 0, "store": false, "modalities": ["text"],
        "verbosity": "medium", "seed": 7, "prediction": {"type": "content", "content": "hi"},
        "prompt_cache_key": "k"});
    answer(&gateway, neutral).await;
    assert_eq!(
        gateway.twin.stream_counts().invocations,
        1,
        "only the neutral request reached Bedrock"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn sampling_values_reach_bedrock_exactly() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    answer(
        &gateway,
        json!({"model": HAIKU, "messages": [user("hi")], "temperature": 0.2, "top_p": 0.95}),
    )
    .await;
    let sent = last_received(&gateway);
    // f32 would have sent 0.20000000298023224 and 0.949999988079071.
    assert_eq!(sent["inferenceConfig"]["temperature"].as_f64(), Some(0.2));
    assert_eq!(sent["inferenceConfig"]["topP"].as_f64(), Some(0.95));
    gateway.stop().await;
}

#[tokio::test]
async fn user_and_metadata_become_request_metadata() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    answer(
        &gateway,
        json!({"model": CLAUDE, "messages": [user("hi")], "user": "user-42",
            "safety_identifier": "sid-7", "metadata": {"team": "search", "run": "a/b"}}),
    )
    .await;
    assert_eq!(
        last_received(&gateway)["requestMetadata"],
        json!({"run": "a/b", "safety_identifier": "sid-7", "team": "search", "user": "user-42"})
    );
    // Bedrock's character rule, checked before the call.
    refused(
        gateway
            .post(json!({"model": CLAUDE, "messages": [user("hi")], "metadata": {"team": "a&b"}}))
            .send()
            .await
            .unwrap(),
        400,
        "requestMetadata",
    )
    .await;
    gateway.stop().await;
}

#[tokio::test]
async fn service_tiers_go_both_ways_and_price_the_answer() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let body = answer(
        &gateway,
        json!({"model": NOVA_PRO, "messages": [user("hi")], "service_tier": "flex"}),
    )
    .await;
    assert_eq!(
        last_received(&gateway)["serviceTier"],
        json!({"type": "flex"})
    );
    assert_eq!(body["service_tier"], "flex", "{body}");
    // Streamed, the tier is on the last chunk.
    let streamed = chunks(
        &gateway,
        json!({"model": NOVA_PRO, "messages": [user("hi")], "service_tier": "priority"}),
    )
    .await;
    assert!(
        streamed.iter().any(|c| c["service_tier"] == "priority"),
        "{streamed:?}"
    );
    // `auto` leaves the choice to Bedrock: no field sent.
    answer(
        &gateway,
        json!({"model": NOVA_PRO, "messages": [user("hi")], "service_tier": "auto"}),
    )
    .await;
    assert!(last_received(&gateway).get("serviceTier").is_none());
    // A tier the model is not sold in is Bedrock's 400, passed on.
    refused(
        gateway
            .post(json!({"model": HAIKU, "messages": [user("hi")], "service_tier": "flex"}))
            .send()
            .await
            .unwrap(),
        400,
        "service tier",
    )
    .await;
    gateway.stop().await;
}

const PRICED_TIERS: &str = r#"{
  models: {
    bedrockDiscovery: { enabled: true },
    providers: { "amazon-bedrock": { models: [
      { id: "us.amazon.nova-pro-v1:0", cost: { input: 0.8, output: 3.2, cacheRead: 0.2, cacheWrite: 0.8,
        flex: { input: 0.4, output: 1.6, cacheRead: 0.1, cacheWrite: 0.4 } } },
    ] } },
  },
}"#;

#[tokio::test]
async fn an_answer_is_priced_in_the_tier_that_served_it() {
    let gateway = Gateway::start(PRICED_TIERS, None).await;
    let cost = || async {
        metric(
            &gateway.metrics().await,
            &format!("pincer_cost_usd_total{{model=\"{NOVA_PRO}\"}}"),
        )
        .unwrap_or(0.0)
    };
    // Prompts of one length, each new to the cache: the same tokens every time.
    let request = |tier: Option<&str>| {
        let prompt = format!(
            "hello there {}",
            tier.unwrap_or("standard").chars().next().unwrap_or('s')
        );
        let mut body = json!({"model": NOVA_PRO, "messages": [user(&prompt)]});
        if let Some(tier) = tier {
            body["service_tier"] = json!(tier);
        }
        body
    };
    let standard_body = answer(&gateway, request(None)).await;
    let standard = cost().await;
    let flex_body = answer(&gateway, request(Some("flex"))).await;
    let flex = cost().await - standard;
    assert_eq!(
        standard_body["usage"], flex_body["usage"],
        "same tokens both times"
    );
    assert!(standard > 0.0, "{standard}");
    assert!(
        (flex / standard - 0.5).abs() < 1e-9,
        "standard {standard}, flex {flex}"
    );
    // The table knows only Nova Pro's priority input price: a priority answer's cost is
    // unknown, and adds nothing rather than the standard price.
    let before = cost().await;
    answer(&gateway, request(Some("priority"))).await;
    assert_eq!(cost().await, before);
    gateway.stop().await;
}

#[tokio::test]
async fn latency_optimized_inference_is_asked_for_where_the_model_has_it() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    answer(
        &gateway,
        json!({"model": HAIKU_35, "messages": [user("hi")], "latency": "optimized"}),
    )
    .await;
    assert_eq!(
        last_received(&gateway)["performanceConfig"],
        json!({"latency": "optimized"})
    );
    // Bedrock lists Claude Haiku 4.5 without it: refused before the call.
    let calls = gateway.twin.stream_counts().invocations;
    refused(
        gateway
            .post(json!({"model": HAIKU_45, "messages": [user("hi")], "latency": "optimized"}))
            .send()
            .await
            .unwrap(),
        400,
        "latency-optimized",
    )
    .await;
    assert_eq!(gateway.twin.stream_counts().invocations, calls);
    refused(
        gateway
            .post(json!({"model": HAIKU_35, "messages": [user("hi")], "latency": "fastest"}))
            .send()
            .await
            .unwrap(),
        400,
        "latency",
    )
    .await;
    gateway.stop().await;
}

const GUARDED: &str = r#"{
  models: {
    bedrockDiscovery: { enabled: true },
    providers: { "amazon-bedrock": { guardrail: { identifier: "twinguard001", version: "1" } } },
  },
}"#;

#[tokio::test]
async fn a_configured_guardrail_blocks_as_content_filter_with_its_trace() {
    let gateway = Gateway::start(GUARDED, None).await;
    let body = answer(
        &gateway,
        json!({"model": CLAUDE, "messages": [user("Tell me the forbidden recipe")]}),
    )
    .await;
    let sent = last_received(&gateway);
    assert_eq!(
        sent["guardrailConfig"]["guardrailIdentifier"],
        "twinguard001"
    );
    assert_eq!(sent["guardrailConfig"]["guardrailVersion"], "1");
    assert_eq!(sent["guardrailConfig"]["trace"], "enabled");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "content_filter", "{body}");
    assert_eq!(
        choice["message"]["content"],
        bedrock_twin::features::BLOCKED_MESSAGE
    );
    assert_eq!(
        choice["guardrail_trace"]["inputAssessment"]["twinguard001"]["wordPolicy"]["customWords"]
            [0]["action"],
        "BLOCKED",
        "{body}"
    );
    // Streamed: the last chunk says the same.
    let streamed = chunks(
        &gateway,
        json!({"model": CLAUDE, "messages": [user("forbidden, please")]}),
    )
    .await;
    let last = streamed
        .iter()
        .find(|c| c["choices"][0]["finish_reason"].is_string())
        .unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "content_filter");
    assert!(last["choices"][0]["guardrail_trace"].is_object(), "{last}");
    // An ordinary question passes the guardrail.
    let fine = answer(
        &gateway,
        json!({"model": CLAUDE, "messages": [user("Hello")]}),
    )
    .await;
    assert_eq!(fine["choices"][0]["finish_reason"], "stop");
    // A request may name another guardrail; one that does not exist is Bedrock's 400.
    refused(
        gateway
            .post(json!({"model": CLAUDE, "messages": [user("Hello")],
                "guardrail": {"identifier": "abc123def456", "version": "DRAFT"}}))
            .send()
            .await
            .unwrap(),
        400,
        "does not exist",
    )
    .await;
    assert_eq!(
        last_received(&gateway)["guardrailConfig"]["guardrailIdentifier"],
        "abc123def456"
    );
    refused(
        gateway
            .post(json!({"model": CLAUDE, "messages": [user("Hello")],
                "guardrail": {"identifier": "twinguard001", "version": "1", "trace": "verbose"}}))
            .send()
            .await
            .unwrap(),
        400,
        "trace",
    )
    .await;
    gateway.stop().await;
}

fn file_part(name: &str, media_type: &str, data: &[u8]) -> Value {
    json!({"type": "file", "file": {"filename": name, "file_data": format!("data:{media_type};base64,{}", STANDARD.encode(data))}})
}

#[tokio::test]
async fn file_parts_become_document_blocks_the_model_can_read() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    answer(
        &gateway,
        json!({"model": HAIKU_45, "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Summarize"}, file_part("Q3 report (final).pdf", "application/pdf", PDF)]}]}),
    )
    .await;
    let sent = last_received(&gateway);
    let document = sent["messages"][0]["content"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|b| b.get("document"))
        .unwrap()
        .clone();
    assert_eq!(document["format"], "pdf");
    assert_eq!(document["name"], "Q3 report (final)");
    assert_eq!(
        STANDARD
            .decode(document["source"]["bytes"].as_str().unwrap())
            .unwrap(),
        PDF
    );
    // Nova Pro reads docx; Claude Haiku 4.5 reads pdf only, by Bedrock's listing.
    let docx = b"PK\x03\x04 word/document.xml";
    answer(
        &gateway,
        json!({"model": NOVA_PRO, "messages": [{"role": "user", "content": [file_part("notes.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx)]}]}),
    )
    .await;
    let calls = gateway.twin.stream_counts().invocations;
    for (model, part, needle) in [
        (
            HAIKU_45,
            file_part(
                "notes.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                docx,
            ),
            "docx",
        ),
        (
            NOVA_MICRO,
            file_part("a.pdf", "application/pdf", PDF),
            "document",
        ),
        (
            HAIKU_45,
            file_part("fake.pdf", "application/pdf", b"not a pdf"),
            "not a pdf",
        ),
        (
            HAIKU_45,
            json!({"type": "file", "file": {"file_id": "file-abc"}}),
            "file_id",
        ),
    ] {
        refused(
            gateway
                .post(json!({"model": model, "messages": [{"role": "user", "content": [{"type": "text", "text": "read"}, part]}]}))
                .send()
                .await
                .unwrap(),
            400,
            needle,
        )
        .await;
    }
    let six: Vec<Value> = (0..6)
        .map(|i| file_part(&format!("d{i}.pdf"), "application/pdf", PDF))
        .collect();
    refused(
        gateway
            .post(json!({"model": HAIKU_45, "messages": [{"role": "user", "content": six}]}))
            .send()
            .await
            .unwrap(),
        400,
        "5",
    )
    .await;
    assert_eq!(
        gateway.twin.stream_counts().invocations,
        calls,
        "refused before any call"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn bedrock_citations_reach_the_client_as_annotations() {
    let Some(dir) = vectors_dir() else { return };
    let gateway = with_vectors(dir).await;
    let model = "amazon-bedrock/us.anthropic.claude-sonnet-5~replay=langchain-aws/test_citations[document0]@48c597fc.0.response.bin";
    for stream in [false, true] {
        let request = json!({"model": model, "messages": [user("What does the document say?")]});
        let annotations: Vec<Value> = if stream {
            chunks(&gateway, request)
                .await
                .iter()
                .flat_map(|c| {
                    c["choices"][0]["delta"]["annotations"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .collect()
        } else {
            answer(&gateway, request).await["choices"][0]["message"]["annotations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        assert!(!annotations.is_empty(), "stream={stream}: no annotations");
        for annotation in &annotations {
            assert_eq!(annotation["type"], "document_citation", "{annotation}");
            let citation = &annotation["document_citation"];
            assert!(
                citation["cited_text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                "{annotation}"
            );
            assert!(
                citation["end_index"].as_u64() > citation["start_index"].as_u64(),
                "{annotation}"
            );
            assert!(
                citation["location"]["documentChar"].is_object(),
                "{annotation}"
            );
        }
    }
    gateway.stop().await;
}

#[tokio::test]
async fn redacted_reasoning_goes_to_the_client_and_comes_back() {
    let Some(dir) = vectors_dir() else { return };
    let gateway = with_vectors(dir).await;
    let replayed = "amazon-bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0~replay=pydantic-ai/test_bedrock_model_thinking_part_redacted_stream@93e9403f.0.response.bin";
    let body = answer(
        &gateway,
        json!({"model": replayed, "messages": [user("hi")]}),
    )
    .await;
    let redacted = body["choices"][0]["message"]["reasoning_redacted"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!redacted.is_empty(), "{body}");
    let streamed: Vec<Value> = chunks(
        &gateway,
        json!({"model": replayed, "messages": [user("hi")]}),
    )
    .await
    .iter()
    .filter_map(|c| {
        c["choices"][0]["delta"]["reasoning_redacted"]
            .as_array()
            .cloned()
    })
    .flatten()
    .collect();
    assert_eq!(streamed, redacted);
    // Sent back on the next turn of the same model, it reaches Bedrock as it came.
    let model = "amazon-bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0";
    let content = body["choices"][0]["message"]["content"].clone();
    answer(
        &gateway,
        json!({"model": model, "reasoning_effort": "low", "messages": [user("hi"),
            {"role": "assistant", "content": content, "reasoning_redacted": redacted},
            user("and then?")]}),
    )
    .await;
    let sent = last_received(&gateway);
    let returned: Vec<&Value> = sent["messages"][1]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b.pointer("/reasoningContent/redactedContent"))
        .collect();
    assert_eq!(returned, redacted.iter().collect::<Vec<_>>(), "{sent}");
    gateway.stop().await;
}

#[tokio::test]
async fn every_stop_reason_is_mapped() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    for (reason, finish, detail) in [
        ("end_turn", "stop", None),
        ("stop_sequence", "stop", Some("stop_sequence")),
        ("max_tokens", "length", None),
        (
            "model_context_window_exceeded",
            "length",
            Some("model_context_window_exceeded"),
        ),
        ("tool_use", "tool_calls", None),
        ("guardrail_intervened", "content_filter", None),
        ("content_filtered", "content_filter", None),
        ("a_reason_from_2027", "stop", Some("a_reason_from_2027")),
    ] {
        let prompt = format!("say hi twin:stop={reason}");
        let body = answer(
            &gateway,
            json!({"model": CLAUDE, "messages": [user(&prompt)]}),
        )
        .await;
        let choice = &body["choices"][0];
        assert_eq!(choice["finish_reason"], finish, "{reason}: {body}");
        assert_eq!(choice["stop_reason"].as_str(), detail, "{reason}: {body}");
        let streamed = chunks(
            &gateway,
            json!({"model": CLAUDE, "messages": [user(&prompt)]}),
        )
        .await;
        let last = streamed
            .iter()
            .find(|c| c["choices"][0]["finish_reason"].is_string())
            .unwrap();
        assert_eq!(
            last["choices"][0]["finish_reason"], finish,
            "{reason} streamed"
        );
    }
    gateway.stop().await;
}

#[tokio::test]
async fn malformed_output_and_broken_stream_ends_are_errors_never_answers() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    // Malformed output comes after the text has streamed: an error, not an answer.
    for reason in ["malformed_model_output", "malformed_tool_use"] {
        let prompt = format!("x twin:stop={reason}");
        let (status, error) = error_of(
            gateway
                .post(json!({"model": CLAUDE, "messages": [user(&prompt)]}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 502, "{reason}: {error}");
        assert!(
            error["error"]["message"].as_str().unwrap().contains(reason),
            "{error}"
        );
        let streamed = sse_data(
            &gateway
                .post(json!({"model": CLAUDE, "stream": true, "messages": [user(&prompt)]}))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        assert!(
            streamed
                .iter()
                .any(|d| d.contains("\"error\"") && d.contains(reason)),
            "{streamed:?}"
        );
        assert!(
            !streamed
                .iter()
                .any(|d| d.contains("finish_reason\":\"stop")),
            "{streamed:?}"
        );
    }
    // A stream that stops without `messageStop`, and an empty `end_turn`: errors, never answers.
    for fault in ["truncate", "empty"] {
        let (status, error) = error_of(
            gateway
                .post(json!({"model": format!("{CLAUDE}~{fault}"), "messages": [user("hello")]}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 502, "{fault}: {error}");
        assert_eq!(
            error["error"]["code"], "stream_interrupted",
            "{fault}: {error}"
        );
    }
    gateway.stop().await;
}

/// An empty answer is a retryable failure before any output: the default model's fallback
/// answers instead. After output has gone out (a truncated stream), nothing can be retried.
#[tokio::test]
async fn an_empty_answer_falls_back_before_any_output() {
    let config = format!(
        r#"{{ models: {{ bedrockDiscovery: {{ enabled: true }} }},
             agents: {{ defaults: {{ model: {{ primary: "{CLAUDE}~empty", fallbacks: ["{HAIKU}"] }} }} }} }}"#
    );
    let gateway = Gateway::start(&config, None).await;
    let body = answer(
        &gateway,
        json!({"model": "default", "messages": [user("hello")]}),
    )
    .await;
    assert_eq!(body["model"], HAIKU, "{body}");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("hello")
    );
    gateway.stop().await;
}

#[tokio::test]
async fn parallel_tool_calls_false_leaves_one_call() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let tool = |name: &str| json!({"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}});
    let calls = |body: &Value| {
        body["choices"][0]["message"]["tool_calls"]
            .as_array()
            .map_or(0, Vec::len)
    };
    for model in [SONNET_45, NOVA_MICRO] {
        let request = |parallel: Option<bool>| {
            let mut body = json!({"model": model, "messages": [user("Use get_weather and get_time")],
                "tools": [tool("get_weather"), tool("get_time")]});
            if let Some(parallel) = parallel {
                body["parallel_tool_calls"] = json!(parallel);
            }
            body
        };
        assert_eq!(calls(&answer(&gateway, request(None)).await), 2, "{model}");
        let one = answer(&gateway, request(Some(false))).await;
        assert_eq!(calls(&one), 1, "{model}: {one}");
        assert_eq!(one["choices"][0]["finish_reason"], "tool_calls");
        let sent = last_received(&gateway);
        let switch = &sent["additionalModelRequestFields"]["tool_choice"];
        if model == SONNET_45 {
            // Claude's own switch.
            assert_eq!(
                *switch,
                json!({"type": "auto", "disable_parallel_tool_use": true})
            );
        } else {
            assert!(switch.is_null(), "{sent}");
        }
    }
    gateway.stop().await;
}

/// OpenClaw's tool loop with thinking on: the reasoning comes back, its signature does not.
#[tokio::test]
async fn thinking_survives_a_client_that_drops_the_signature() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let first = answer(
        &gateway,
        json!({"model": SONNET_45, "reasoning_effort": "low", "tools": tools,
            "messages": [user("Use get_weather for Paris")]}),
    )
    .await;
    let message = &first["choices"][0]["message"];
    let reasoning = message["reasoning_content"].as_str().unwrap().to_owned();
    assert!(message["reasoning_signature"].is_string());
    let call = message["tool_calls"][0].clone();
    // What OpenClaw sends next: reasoning_content, no reasoning_signature.
    let next = |reasoning: &str| {
        json!({"model": SONNET_45, "reasoning_effort": "low", "tools": tools, "messages": [
            user("Use get_weather for Paris"),
            {"role": "assistant", "content": message["content"], "reasoning_content": reasoning, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21 C"},
        ]})
    };
    let second = answer(&gateway, next(&reasoning)).await;
    assert_eq!(second["choices"][0]["finish_reason"], "stop", "{second}");
    let sent = last_received(&gateway);
    // The signature the gateway issued went back with the reasoning, and thinking stayed on.
    let opening = &sent["messages"][1]["content"][0]["reasoningContent"]["reasoningText"];
    assert_eq!(opening["text"], reasoning.as_str());
    assert_eq!(opening["signature"], message["reasoning_signature"]);
    assert!(
        sent["additionalModelRequestFields"]["thinking"].is_object(),
        "{sent}"
    );

    // Reasoning the gateway never signed (another gateway's, or edited): thinking goes off for
    // that request, rather than Bedrock refusing it.
    let third = answer(&gateway, next("a plan I made up")).await;
    assert_eq!(third["choices"][0]["finish_reason"], "stop", "{third}");
    let sent = last_received(&gateway);
    assert!(
        sent.get("additionalModelRequestFields")
            .is_none_or(|f| f.get("thinking").is_none()),
        "{sent}"
    );
    assert!(
        sent["messages"][1]["content"][0]
            .get("reasoningContent")
            .is_none(),
        "{sent}"
    );
    gateway.stop().await;
}

const CONFIGURED_SETTINGS: &str = r#"{
  models: {
    bedrockDiscovery: { enabled: true },
    providers: { "amazon-bedrock": {
      serviceTier: "priority",
      models: [
        { id: "us.amazon.nova-pro-v1:0", serviceTier: "flex" },
        { id: "anthropic.claude-3-5-haiku-20241022-v1:0", latency: "optimized" },
      ],
    } },
  },
}"#;

#[tokio::test]
async fn the_config_sets_tier_and_latency_per_model_and_a_request_overrides_them() {
    let gateway = Gateway::start(CONFIGURED_SETTINGS, None).await;
    // The model's own setting wins over its provider's.
    answer(
        &gateway,
        json!({"model": NOVA_PRO, "messages": [user("hi")]}),
    )
    .await;
    assert_eq!(
        last_received(&gateway)["serviceTier"],
        json!({"type": "flex"})
    );
    // The request's wins over both.
    answer(
        &gateway,
        json!({"model": NOVA_PRO, "messages": [user("hi")], "service_tier": "default"}),
    )
    .await;
    assert_eq!(
        last_received(&gateway)["serviceTier"],
        json!({"type": "default"})
    );
    // Claude 3.5 Haiku: the provider's tier (which Bedrock does not sell it in: its 400,
    // passed on) and the model's latency.
    refused(
        gateway
            .post(json!({"model": HAIKU_35, "messages": [user("hi")]}))
            .send()
            .await
            .unwrap(),
        400,
        "priority service tier",
    )
    .await;
    let sent = last_received(&gateway);
    assert_eq!(sent["performanceConfig"], json!({"latency": "optimized"}));
    answer(
        &gateway,
        json!({"model": HAIKU_35, "messages": [user("hi")], "service_tier": "default", "latency": "standard"}),
    )
    .await;
    assert_eq!(
        last_received(&gateway)["performanceConfig"],
        json!({"latency": "standard"})
    );
    gateway.stop().await;
}
