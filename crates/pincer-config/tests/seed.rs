//! The seed document's two JSON5 blocks, pasted verbatim, load and validate.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    missing_docs
)] // test code: a panic is a failed test

use pincer_config::options::{Api, Auth, InputKind};
use pincer_config::validate;

/// `models.bedrockDiscovery` block from the seed document, verbatim.
const SEED_DISCOVERY: &str = r#"{
  models: {
    bedrockDiscovery: {
      enabled: true,
      region: "us-east-1",
      providerFilter: ["anthropic", "amazon"],
      refreshInterval: 3600,
      defaultContextWindow: 32000,
      defaultMaxTokens: 4096,
    },
  },
}
"#;

/// Manual provider block from the seed document, verbatim.
const SEED_PROVIDER: &str = r#"{
  models: {
    providers: {
      "amazon-bedrock": {
        baseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com",
        api: "bedrock-converse-stream",
        auth: "aws-sdk",
        models: [
          {
            id: "us.anthropic.claude-opus-4-6-v1:0",
            name: "Claude Opus 4.6 (Bedrock)",
            reasoning: true,
            input: ["text", "image"],
            cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
            contextWindow: 200000,
            maxTokens: 8192,
          },
        ],
      },
    },
  },
  agents: {
    defaults: {
      model: { primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0" },
    },
  },
}
"#;

#[test]
fn seed_discovery_block_loads() {
    let options = validate::parse(SEED_DISCOVERY, "seed discovery block").unwrap();
    let discovery = options.discovery();
    assert_eq!(discovery.enabled, Some(true));
    assert_eq!(discovery.region.as_deref(), Some("us-east-1"));
    assert_eq!(
        discovery.provider_filter,
        Some(vec!["anthropic".to_owned(), "amazon".to_owned()])
    );
    assert_eq!(discovery.refresh_interval_secs(), 3600);
    assert_eq!(discovery.default_context_window(), 32000);
    assert_eq!(discovery.default_max_tokens(), 4096);
}

#[test]
fn seed_provider_block_loads() {
    let options = validate::parse(SEED_PROVIDER, "seed provider block").unwrap();
    let providers: Vec<_> = options.providers().collect();
    assert_eq!(providers.len(), 1);
    let (id, provider) = providers[0];
    assert_eq!(id, "amazon-bedrock");
    assert_eq!(
        provider.base_url.as_deref(),
        Some("https://bedrock-runtime.us-east-1.amazonaws.com")
    );
    assert_eq!(provider.api, Some(Api::BedrockConverseStream));
    assert_eq!(provider.auth, Some(Auth::AwsSdk));
    let model = &provider.models.as_ref().unwrap()[0];
    assert_eq!(model.id, "us.anthropic.claude-opus-4-6-v1:0");
    assert_eq!(model.name.as_deref(), Some("Claude Opus 4.6 (Bedrock)"));
    assert_eq!(model.reasoning, Some(true));
    assert_eq!(model.input, Some(vec![InputKind::Text, InputKind::Image]));
    assert_eq!(model.cost.unwrap().cache_write, Some(0.0));
    assert_eq!(model.context_window, Some(200000));
    assert_eq!(model.max_tokens, Some(8192));
    let primary = options.default_model().unwrap().primary.as_deref().unwrap();
    assert_eq!(primary, "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0");
    let reference: pincer_core::ModelRef = primary.parse().unwrap();
    assert_eq!(reference.model(), model.id);
}

#[test]
fn the_seed_blocks_are_the_seed_documents_text() {
    // When the seed document is at hand, the constants above must match it byte for byte.
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seed/amazon-bedrock.en.md");
    let Ok(text) = std::fs::read_to_string(&seed) else {
        assert!(
            !pincer_core::env::EnvVars::is_true(pincer_core::env::EnvVars::CI),
            "the seed document is missing at {}",
            seed.display()
        );
        return;
    };
    assert!(text.contains(&format!("```json5\n{SEED_DISCOVERY}```")));
    assert!(text.contains(&format!("```json5\n{SEED_PROVIDER}```")));
}
