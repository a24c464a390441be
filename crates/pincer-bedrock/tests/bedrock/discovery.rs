//! Discovery against the twin's catalogue: every filter rule, paging, provider filters.

use std::time::Duration;

use bedrock_twin::{Twin, TwinConfig};
use pincer_bedrock::discovery::{DiscoveredModel, DiscoveryFilter, discover, discover_paged};

use crate::common::{base_env, setup};

fn find<'a>(models: &'a [DiscoveredModel], base: &str) -> Vec<&'a DiscoveredModel> {
    models.iter().filter(|m| m.base_id == base).collect()
}

#[tokio::test]
async fn invocable_ids_and_hidden_models() {
    let twin = Twin::start(TwinConfig::default()).await.unwrap();
    let setup = setup(&base_env(&twin)).await;
    let models = discover_paged(
        &setup.config,
        "us-east-1",
        &DiscoveryFilter::default(),
        Duration::from_secs(10),
        5,
    )
    .await
    .unwrap();
    // On demand: listed by the base id.
    let haiku = find(&models, "anthropic.claude-3-haiku-20240307-v1:0");
    assert_eq!(haiku[0].id, "anthropic.claude-3-haiku-20240307-v1:0");
    assert!(haiku[0].hidden.is_none());
    // Profile only: listed by the us. profile, never by the base id.
    let sonnet = find(&models, "anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert_eq!(sonnet[0].id, "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert_eq!(
        sonnet[0].input,
        [pincer_core::Modality::Text, pincer_core::Modality::Image],
        "the profile keeps the base model's inputs"
    );
    assert!(
        models
            .iter()
            .all(|m| m.hidden.is_some() || m.id != "anthropic.claude-sonnet-4-5-20250929-v1:0")
    );
    // Provisioned-only variant, legacy, embedding and image models: hidden, with the reason.
    let reasons = |base: &str| {
        find(&models, base)
            .iter()
            .map(|m| m.hidden.clone().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        reasons("anthropic.claude-3-haiku-20240307-v1:0:200k"),
        ["provisioned throughput only"]
    );
    assert_eq!(
        reasons("anthropic.claude-3-7-sonnet-20250219-v1:0"),
        ["legacy"]
    );
    // Embedding models are listed (for `/v1/embeddings`), marked as such.
    assert_eq!(reasons("amazon.titan-embed-text-v2:0"), [""]);
    assert!(
        find(&models, "amazon.titan-embed-text-v2:0")
            .iter()
            .all(|m| m.embedding)
    );
    assert_eq!(
        reasons("amazon.titan-image-generator-v2:0"),
        ["no text output"]
    );
    // The application profile, by ARN, inheriting its base model.
    let app: Vec<_> = models
        .iter()
        .filter(|m| m.id.contains("application-inference-profile"))
        .collect();
    assert_eq!(app.len(), 1);
    assert!(app[0].id.starts_with("arn:aws:bedrock:"));
    assert!(!app[0].input.is_empty());
    // Paging with 5 per page found the same as one page.
    let one_page = discover(
        &setup.config,
        "us-east-1",
        &DiscoveryFilter::default(),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(one_page, models);
    twin.stop().await;
}

#[tokio::test]
async fn profiles_follow_the_region_geography() {
    let twin = Twin::start(TwinConfig::default()).await.unwrap();
    let setup = setup(&base_env(&twin)).await;
    let eu = discover(
        &setup.config,
        "eu-west-1",
        &DiscoveryFilter::default(),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(
        find(&eu, "anthropic.claude-sonnet-4-5-20250929-v1:0")[0].id,
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    );
    // Haiku 4.5 has a us. and a global. profile only: from the EU, the global one.
    assert_eq!(
        find(&eu, "anthropic.claude-haiku-4-5-20251001-v1:0")[0].id,
        "global.anthropic.claude-haiku-4-5-20251001-v1:0"
    );
    let apac = discover(
        &setup.config,
        "ap-southeast-2",
        &DiscoveryFilter::default(),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(
        find(&apac, "amazon.nova-pro-v1:0")[0].id,
        "apac.amazon.nova-pro-v1:0"
    );
    twin.stop().await;
}

#[tokio::test]
async fn provider_filter_matches_names_and_prefixes() {
    let twin = Twin::start(TwinConfig::default()).await.unwrap();
    let setup = setup(&base_env(&twin)).await;
    let by = |filters: &[&str]| {
        let filter =
            DiscoveryFilter::new(&filters.iter().map(|f| f.to_string()).collect::<Vec<_>>());
        let config = setup.config.clone();
        async move {
            discover(&config, "us-east-1", &filter, Duration::from_secs(10))
                .await
                .unwrap()
        }
    };
    let mistral = by(&["mistral"]).await;
    assert!(!mistral.is_empty() && mistral.iter().all(|m| m.provider_name == "Mistral AI"));
    let meta = by(&["META"]).await;
    assert!(!meta.is_empty() && meta.iter().all(|m| m.base_id.starts_with("meta.")));
    let two = by(&["anthropic", "amazon"]).await;
    assert!(
        two.iter()
            .all(|m| m.provider_name == "Anthropic" || m.provider_name == "Amazon")
    );
    assert!(
        two.iter().any(|m| m.provider_name == "Amazon")
            && two.iter().any(|m| m.provider_name == "Anthropic")
    );
    twin.stop().await;
}
