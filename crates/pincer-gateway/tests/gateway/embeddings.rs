//! `POST /v1/embeddings` against the twin's InvokeModel: Titan Text Embeddings V2 (one call per
//! text, dimensions), Cohere Embed v3 (96 texts per call), Cohere Embed v4 through its profile
//! and Nova Multimodal Embeddings (their own bodies and dimensions), float and base64 answers, usage from
//! Bedrock's counts, embedding models listed with their kind and refused for chat, and chat
//! models refused for embeddings.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::*;

const TITAN: &str = "amazon-bedrock/amazon.titan-embed-text-v2:0";
const COHERE: &str = "amazon-bedrock/cohere.embed-english-v3";

fn post(gateway: &Gateway, body: Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{}/v1/embeddings", gateway.url))
        .json(&body)
}

async fn embed(gateway: &Gateway, body: Value) -> Value {
    let response = post(gateway, body).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn titan_embeds_each_text_with_the_dimensions_asked() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let body = embed(
        &gateway,
        json!({"model": TITAN, "input": ["one", "two words", "one"], "dimensions": 256}),
    )
    .await;
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], TITAN);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    for (i, item) in data.iter().enumerate() {
        assert_eq!(item["index"], i);
        assert_eq!(item["embedding"].as_array().unwrap().len(), 256);
    }
    assert_eq!(
        data[0]["embedding"], data[2]["embedding"],
        "the same text, the same vector"
    );
    assert_ne!(data[0]["embedding"], data[1]["embedding"]);
    let usage = &body["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(usage["prompt_tokens"], usage["total_tokens"]);
    let sent = gateway.twin.received();
    assert_eq!(sent.len(), 3, "one InvokeModel call per text");
    assert_eq!(
        sent[0],
        json!({"inputText": "one", "normalize": true, "dimensions": 256})
    );
    // base64: little-endian f32s of the same vector.
    let encoded = embed(
        &gateway,
        json!({"model": TITAN, "input": "one", "dimensions": 256, "encoding_format": "base64"}),
    )
    .await;
    let bytes = STANDARD
        .decode(encoded["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let floats: Vec<f32> = bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let expected: Vec<f32> = data[0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(floats, expected);
    // Dimensions the model does not make are refused before any call.
    let calls = gateway.twin.received().len();
    let (status, error) = error_of(
        post(
            &gateway,
            json!({"model": TITAN, "input": "x", "dimensions": 300}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1024, 512, 256"),
        "{error}"
    );
    assert_eq!(gateway.twin.received().len(), calls);
    gateway.stop().await;
}

#[tokio::test]
async fn cohere_embeds_up_to_96_texts_per_call() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let texts: Vec<String> = (0..100).map(|i| format!("text number {i}")).collect();
    let body = embed(&gateway, json!({"model": COHERE, "input": texts})).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 100);
    assert_eq!(body["data"][99]["index"], 99);
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 1024);
    assert!(
        body["usage"]["prompt_tokens"].as_u64().unwrap() >= 100,
        "{}",
        body["usage"]
    );
    let sent = gateway.twin.received();
    assert_eq!(sent.len(), 2, "96 + 4");
    assert_eq!(sent[0]["texts"].as_array().unwrap().len(), 96);
    assert_eq!(sent[0]["input_type"], "search_document");
    gateway.stop().await;
}

#[tokio::test]
async fn kinds_are_listed_and_each_door_takes_its_own() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let models: Value = gateway
        .get("/v1/models")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kind_of = |id: &str| {
        models["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .map(|m| m["kind"].clone())
    };
    assert_eq!(kind_of(TITAN), Some(json!("embedding")), "{models}");
    assert_eq!(kind_of(CLAUDE), Some(json!("chat")));
    let (status, error) = error_of(
        gateway
            .post(json!({"model": TITAN, "messages": [{"role": "user", "content": "x"}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v1/embeddings"),
        "{error}"
    );
    let (status, error) = error_of(
        post(&gateway, json!({"model": CLAUDE, "input": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("chat model"),
        "{error}"
    );
    for (body, param) in [
        (json!({"model": TITAN, "input": [1, 2, 3]}), "input[0]"),
        (json!({"model": TITAN, "input": ""}), "input[0]"),
        (
            json!({"model": TITAN, "input": "x", "encoding_format": "int8"}),
            "encoding_format",
        ),
    ] {
        let (status, error) = error_of(post(&gateway, body.clone()).send().await.unwrap()).await;
        assert_eq!(
            (status, error["error"]["param"].as_str()),
            (400, Some(param)),
            "{body}: {error}"
        );
    }
    assert_eq!(gateway.twin.stream_counts().started, 0);
    gateway.stop().await;
}

#[tokio::test]
async fn cohere_v4_through_its_profile_and_nova_take_their_own_bodies() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let v4 = "amazon-bedrock/us.cohere.embed-v4:0";
    let nova = "amazon-bedrock/amazon.nova-2-multimodal-embeddings-v1:0";
    let body = embed(
        &gateway,
        json!({"model": v4, "input": ["first", "second"], "dimensions": 512}),
    )
    .await;
    assert_eq!(body["model"], v4);
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][1]["embedding"].as_array().unwrap().len(), 512);
    assert!(body["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    let sent = gateway.twin.received();
    assert_eq!(sent.len(), 1, "both texts in one call");
    assert_eq!(sent[0]["output_dimension"], 512);
    assert_eq!(sent[0]["input_type"], "search_document");
    let body = embed(
        &gateway,
        json!({"model": nova, "input": ["one", "two"], "dimensions": 256}),
    )
    .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 256);
    assert_ne!(body["data"][0]["embedding"], body["data"][1]["embedding"]);
    assert!(
        body["usage"]["prompt_tokens"].as_u64().unwrap() > 0,
        "Nova's tokens come from Bedrock's header: {}",
        body["usage"]
    );
    let sent = gateway.twin.received();
    assert_eq!(sent.len(), 3, "one Nova call per text");
    assert_eq!(sent[1]["taskType"], "SINGLE_EMBEDDING");
    assert_eq!(sent[1]["singleEmbeddingParams"]["embeddingDimension"], 256);
    assert_eq!(sent[1]["singleEmbeddingParams"]["text"]["value"], "one");
    // Each family's own dimensions are checked before a call.
    for (model, dimensions, offered) in [
        (v4, 384, "1536, 1024, 512, 256"),
        (nova, 512, "3072, 1024, 384, 256"),
    ] {
        let (status, error) = error_of(
            post(
                &gateway,
                json!({"model": model, "input": "x", "dimensions": dimensions}),
            )
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, 400, "{error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains(offered),
            "{error}"
        );
    }
    assert_eq!(gateway.twin.received().len(), 3);
    gateway.stop().await;
}
