//! The catalog's capabilities and family rules, obeyed on the request path and checked against
//! the twin, which refuses what Bedrock refuses: sampling parameters a model family rejects, an
//! image for a model that takes none, a cache point where caching is unsupported, a system
//! prompt where the model has no system role. And one catalog on every path: what `/v1/models`
//! advertises is what a request gets.

use super::*;

use bedrock_twin::catalogue::Catalogue;

const OPUS_47: &str = "amazon-bedrock/us.anthropic.claude-opus-4-7";
const SONNET_45: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const NOVA_MICRO: &str = "amazon-bedrock/us.amazon.nova-micro-v1:0";
const LLAMA_33: &str = "amazon-bedrock/us.meta.llama3-3-70b-instruct-v1:0";

/// A 1×1 PNG, as a data URL.
const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// The twin's built-in catalogue with `edit` applied to its JSON.
fn catalogue(edit: impl FnOnce(&mut Value)) -> Catalogue {
    let mut json: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bedrock-twin/data/catalogue.json"
    )))
    .unwrap();
    edit(&mut json);
    Catalogue::from_json(&json.to_string(), "test catalogue").unwrap()
}

async fn gateway_with(catalogue: Catalogue) -> Gateway {
    Gateway::launch(Setup {
        twin: TwinConfig::with_catalogue(catalogue),
        ..Setup::new(DISCOVERY_ON)
    })
    .await
}

fn text(body: &Value) -> &str {
    body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn sampling_parameters_a_family_refuses_are_left_out() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    // Claude Opus 4.7 refuses temperature and top_p; Sonnet 4.5 refuses the two together.
    for (model, sampling) in [
        (OPUS_47, json!({"temperature": 0.2})),
        (OPUS_47, json!({"top_p": 0.9})),
        (SONNET_45, json!({"temperature": 0.2, "top_p": 0.9})),
    ] {
        let mut body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
        body.as_object_mut()
            .unwrap()
            .extend(sampling.as_object().unwrap().clone());
        let response = gateway.post(body).send().await.unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{model} {sampling}: {answer}");
    }
    // The twin enforces the rules: sent as given, Bedrock would refuse them.
    let direct = reqwest::Client::new()
        .post(format!(
            "{}/model/us.anthropic.claude-opus-4-7/converse",
            gateway.twin.url()
        ))
        .bearer_auth(bedrock_twin::DEFAULT_BEARER_TOKEN)
        .json(&json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"temperature": 0.2}}))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 400);
    assert!(
        direct
            .text()
            .await
            .unwrap()
            .contains("`temperature` is deprecated"),
        "the twin refuses temperature for Opus 4.7"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn an_image_for_a_text_only_model_is_refused_before_bedrock() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let before = gateway.twin.stream_counts().invocations;
    let response = gateway
        .post(
            json!({"model": NOVA_MICRO, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": PNG}},
            ]}]}),
        )
        .send()
        .await
        .unwrap();
    refused(response, 400, "does not accept images").await;
    assert_eq!(gateway.twin.stream_counts().invocations, before);
    gateway.stop().await;
}

#[tokio::test]
async fn no_cache_point_goes_to_a_model_without_prompt_caching() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    // A system prompt is where a cache point would go; the twin refuses one for Llama 3.3.
    for model in [LLAMA_33, SONNET_45] {
        let response = gateway
            .post(json!({"model": model, "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "hi"},
            ]}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{model}: {body}");
    }
    gateway.stop().await;
}

#[tokio::test]
async fn a_system_prompt_is_folded_into_the_first_turn_where_there_is_no_system_role() {
    // Bedrock says (converse.systemRoleSupported: false) that this model has no system role.
    let catalogue = catalogue(|json| {
        let models = json["modelSummaries"].as_array_mut().unwrap();
        let model = models
            .iter_mut()
            .find(|m| m["modelId"] == "qwen.qwen3-32b-v1:0")
            .unwrap();
        model["converse"]["systemRoleSupported"] = json!(false);
    });
    let gateway = gateway_with(catalogue).await;
    let response = gateway
        .post(
            json!({"model": "amazon-bedrock/qwen.qwen3-32b-v1:0", "messages": [
                {"role": "system", "content": "SYSTEM-RULES"},
                {"role": "user", "content": "hello"},
            ]}),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    // The twin echoes the last user turn: the system prompt now opens it.
    assert!(text(&body).starts_with("SYSTEM-RULES"), "{body}");
    gateway.stop().await;
}

#[tokio::test]
async fn what_the_catalog_advertises_a_request_gets() {
    // A vision model Pincer's table does not know: only Bedrock's listing says it takes images.
    let catalogue = catalogue(|json| {
        let models = json["modelSummaries"].as_array_mut().unwrap();
        let mut vision = models
            .iter()
            .find(|m| m["modelId"] == "qwen.qwen3-32b-v1:0")
            .unwrap()
            .clone();
        vision["modelId"] = json!("acme.vision-1-v1:0");
        vision["modelArn"] =
            json!("arn:aws:bedrock:us-east-1::foundation-model/acme.vision-1-v1:0");
        vision["modelName"] = json!("Acme Vision 1");
        vision["providerName"] = json!("Acme");
        vision["inputModalities"] = json!(["TEXT", "IMAGE"]);
        vision["converse"]["userImageTypesSupported"] = json!(["png", "jpeg"]);
        vision["converse"]["maxTokensMaximum"] = json!(12345);
        models.push(vision);
    });
    let gateway = gateway_with(catalogue).await;
    let model = "amazon-bedrock/acme.vision-1-v1:0";
    let listed: Value = gateway
        .get(&format!("/v1/models/{model}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["input"], json!(["text", "image"]), "{listed}");
    assert_eq!(listed["max_tokens"], 12345);
    assert!(
        listed["cost"]["input"].is_null(),
        "an unknown model has no price: {listed}"
    );
    let response = gateway
        .post(
            json!({"model": model, "max_tokens": 50000, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "twin:images what is this?"},
                {"type": "image_url", "image_url": {"url": PNG}},
            ]}]}),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    // Accepted (the image was sent) and clamped to the listed limit (the twin refuses more).
    assert_eq!(status, 200, "{body}");
    assert!(text(&body).starts_with("Images: png"), "{body}");
    // An unknown price adds no cost to the metrics.
    let metrics = gateway.metrics().await;
    assert!(
        !metrics.contains(&format!("pincer_cost_usd_total{{model=\"{model}\"}}")),
        "{metrics}"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn gpt_oss_reasons_through_its_own_effort_field() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let response = gateway
        .post(
            json!({"model": "amazon-bedrock/openai.gpt-oss-20b-1:0", "reasoning_effort": "low",
                      "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    // The twin reasons only when the request carries a reasoning setting it knows.
    assert!(
        body["choices"][0]["message"]["reasoning_content"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{body}"
    );
    gateway.stop().await;
}
