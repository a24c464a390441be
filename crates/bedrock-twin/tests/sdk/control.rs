//! Control plane through `aws-sdk-bedrock`.

use aws_sdk_bedrock::error::ProvideErrorMetadata;
use aws_sdk_bedrock::types::{
    FoundationModelLifecycleStatus, InferenceProfileType, InferenceType, ModelCustomization,
    ModelModality,
};

use crate::common::{control, start};

#[tokio::test]
async fn lists_every_model_with_real_shapes() {
    let twin = start().await;
    let out = control(&twin)
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    let models = out.model_summaries();
    assert!(models.len() >= 20, "{}", models.len());
    let legacy = models.iter().find(|m| {
        m.model_lifecycle().map(|l| l.status()) == Some(&FoundationModelLifecycleStatus::Legacy)
    });
    assert!(legacy.is_some());
    let providers: Vec<&str> = models.iter().filter_map(|m| m.provider_name()).collect();
    for p in ["Mistral AI", "Meta", "Amazon", "DeepSeek"] {
        assert!(providers.contains(&p), "{p}");
    }
    let embed = models
        .iter()
        .find(|m| m.model_id() == "amazon.titan-embed-text-v2:0")
        .unwrap();
    assert_eq!(embed.output_modalities(), [ModelModality::Embedding]);
    assert_eq!(embed.response_streaming_supported(), Some(false));
    twin.stop().await;
}

#[tokio::test]
async fn filters_like_bedrock() {
    let twin = start().await;
    let client = control(&twin);
    let by_provider = client
        .list_foundation_models()
        .by_provider("mistral")
        .send()
        .await
        .unwrap();
    assert!(!by_provider.model_summaries().is_empty());
    assert!(
        by_provider
            .model_summaries()
            .iter()
            .all(|m| m.provider_name() == Some("Mistral AI"))
    );
    let images = client
        .list_foundation_models()
        .by_output_modality(ModelModality::Image)
        .send()
        .await
        .unwrap();
    assert!(!images.model_summaries().is_empty());
    assert!(
        images
            .model_summaries()
            .iter()
            .all(|m| m.output_modalities().contains(&ModelModality::Image))
    );
    let profile_only = client
        .list_foundation_models()
        .by_inference_type(InferenceType::Provisioned)
        .send()
        .await
        .unwrap();
    assert!(profile_only.model_summaries().iter().all(|m| {
        m.inference_types_supported()
            .contains(&InferenceType::Provisioned)
    }));
    assert!(!profile_only.model_summaries().is_empty());
    let tunable = client
        .list_foundation_models()
        .by_customization_type(ModelCustomization::FineTuning)
        .send()
        .await
        .unwrap();
    assert!(!tunable.model_summaries().is_empty());
    assert!(tunable.model_summaries().len() < by_provider.model_summaries().len() + 30);
    twin.stop().await;
}

#[tokio::test]
async fn gets_one_model_by_id_and_arn() {
    let twin = start().await;
    let client = control(&twin);
    let by_id = client
        .get_foundation_model()
        .model_identifier("anthropic.claude-sonnet-4-20250514-v1:0")
        .send()
        .await
        .unwrap();
    let details = by_id.model_details().unwrap();
    assert_eq!(
        details.inference_types_supported(),
        [InferenceType::from("INFERENCE_PROFILE")]
    );
    let by_arn = client
        .get_foundation_model()
        .model_identifier(details.model_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_arn.model_details().unwrap().model_id(),
        details.model_id()
    );
    let missing = client
        .get_foundation_model()
        .model_identifier("nobody.nothing-v1:0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
    twin.stop().await;
}

#[tokio::test]
async fn pages_and_filters_inference_profiles() {
    let twin = start().await;
    let client = control(&twin);
    let all = client.list_inference_profiles().send().await.unwrap();
    let total = all.inference_profile_summaries().len();
    assert!(all.next_token().is_none());
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = client
            .list_inference_profiles()
            .max_results(5)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.inference_profile_summaries().len() <= 5);
        seen.extend(
            page.inference_profile_summaries()
                .iter()
                .map(|p| p.inference_profile_id().to_owned()),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), total);
    assert_eq!(pages, total.div_ceil(5));
    let paginated: Vec<_> = client
        .list_inference_profiles()
        .max_results(4)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(paginated.len(), total);
    for prefix in ["us.", "eu.", "apac.", "global."] {
        assert!(seen.iter().any(|id| id.starts_with(prefix)), "{prefix}");
    }
    let apps = client
        .list_inference_profiles()
        .type_equals(InferenceProfileType::Application)
        .send()
        .await
        .unwrap();
    assert_eq!(apps.inference_profile_summaries().len(), 1);
    let system = client
        .list_inference_profiles()
        .type_equals(InferenceProfileType::SystemDefined)
        .send()
        .await
        .unwrap();
    assert_eq!(system.inference_profile_summaries().len(), total - 1);
    let bad = client
        .list_inference_profiles()
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Some("ValidationException"));
    twin.stop().await;
}

#[tokio::test]
async fn gets_profiles_by_id_and_arn_with_nanosecond_timestamps() {
    let twin = start().await;
    let client = control(&twin);
    let app = client
        .get_inference_profile()
        .inference_profile_identifier("tw1nappprof1")
        .send()
        .await
        .unwrap();
    assert_eq!(app.r#type(), &InferenceProfileType::Application);
    assert_eq!(app.created_at().unwrap().subsec_nanos(), 680_622_107);
    let by_arn = client
        .get_inference_profile()
        .inference_profile_identifier(app.inference_profile_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.inference_profile_id(), "tw1nappprof1");
    let system = client
        .get_inference_profile()
        .inference_profile_identifier("eu.anthropic.claude-sonnet-4-20250514-v1:0")
        .send()
        .await
        .unwrap();
    assert_eq!(system.models().len(), 3);
    let missing = client
        .get_inference_profile()
        .inference_profile_identifier("xx.nothing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
    twin.stop().await;
}

#[tokio::test]
async fn replacement_catalogue_is_served() {
    let catalogue = bedrock_twin::Catalogue::from_json(
        r#"{"modelSummaries": [{"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/acme.tiny-v1:0",
            "modelId": "acme.tiny-v1:0", "modelName": "Tiny", "providerName": "Acme",
            "inputModalities": ["TEXT"], "outputModalities": ["TEXT"], "responseStreamingSupported": true,
            "customizationsSupported": [], "inferenceTypesSupported": ["ON_DEMAND"],
            "modelLifecycle": {"status": "ACTIVE"}}]}"#,
        "test",
    )
    .unwrap();
    let twin = crate::common::start_with(|c| c.catalogue = catalogue).await;
    let out = control(&twin)
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    assert_eq!(out.model_summaries().len(), 1);
    assert_eq!(out.model_summaries()[0].provider_name(), Some("Acme"));
    let reply = crate::common::runtime(&twin)
        .converse()
        .model_id("acme.tiny-v1:0")
        .messages(crate::common::user("hello acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply.output().unwrap().as_message().unwrap().content()[0]
            .as_text()
            .unwrap(),
        "hello acme"
    );
    twin.stop().await;
}
