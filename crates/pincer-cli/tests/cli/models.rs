//! `pincer models list` and `pincer models status` through the real binary against the twin.

use crate::common::{TestContext, TwinGuard};
use crate::pincer_snapshot;

fn list_json(context: &TestContext, twin: &TwinGuard, extra: &[&str]) -> serde_json::Value {
    let mut command = context.pincer(&["models", "list", "--json"]);
    command.args(extra);
    twin.configure(&mut command);
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn keys(list: &serde_json::Value) -> Vec<String> {
    list["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn seed_quick_setup_then_list() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    for (key, value) in [
        ("models.bedrockDiscovery.enabled", "true"),
        ("models.bedrockDiscovery.region", "us-east-1"),
    ] {
        assert!(
            context
                .pincer(&["config", "set", key, value])
                .status()
                .unwrap()
                .success()
        );
    }
    let mut list = context.pincer(&["models", "list"]);
    twin.configure(&mut list);
    pincer_snapshot!(context, list, tables);
    let mut plain = context.pincer(&["models", "list", "--plain", "--provider", "amazon-bedrock"]);
    twin.configure(&mut plain);
    pincer_snapshot!(context, plain);
}

#[test]
fn json_listing_and_hidden_models() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config("{ models: { bedrockDiscovery: { enabled: true } } }");
    let list = list_json(&context, &twin, &[]);
    let listed = keys(&list);
    assert_eq!(list["count"].as_u64().unwrap() as usize, listed.len());
    assert!(
        listed.contains(&"amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0".to_owned())
    );
    assert!(
        !listed.contains(&"amazon-bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0".to_owned())
    );
    assert!(!listed.iter().any(|k| k.ends_with(":200k")));
    // Embedding models are listed, with their kind.
    let titan = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "amazon.titan-embed-text-v2:0")
        .expect("Titan Text Embeddings V2 is listed");
    assert_eq!(titan["kind"], "embedding");
    let sonnet = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
        .unwrap();
    assert_eq!(sonnet["maxTokens"], 64000);
    assert_eq!(sonnet["reasoning"], true);
    assert_eq!(sonnet["source"], "discovered");
    // Through a `us.` profile, Claude Sonnet 4.5 costs its geographic price.
    assert_eq!(sonnet["cost"]["input"], 3.3);
    assert_eq!(sonnet["sources"]["cost"], "table");
    assert_eq!(sonnet["sources"]["maxTokens"], "bedrock");
    assert_eq!(sonnet["sources"]["contextWindow"], "table");
    // The application profile inherits its base model's modalities and limits.
    let by_id = |id: &str| {
        list["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap()
    };
    let app = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"].as_str().unwrap().starts_with("arn:"))
        .unwrap();
    let base = by_id("us.anthropic.claude-haiku-4-5-20251001-v1:0");
    for field in ["contextWindow", "maxTokens", "input", "reasoning", "cost"] {
        assert_eq!(app[field], base[field], "{field}");
    }
    let all = list_json(&context, &twin, &["--all"]);
    let hidden: Vec<(String, String)> = all["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m.get("hidden").is_some())
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                m["hidden"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        hidden.contains(&(
            "amazon.titan-image-generator-v2:0".to_owned(),
            "no text output".to_owned()
        )),
        "{hidden:?}"
    );
    assert!(
        hidden
            .iter()
            .any(|(id, why)| id.ends_with(":200k") && why == "provisioned throughput only"),
        "{hidden:?}"
    );
}

#[test]
fn manual_and_discovered_merge_field_by_field() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config(
        r#"{
  models: {
    bedrockDiscovery: { enabled: true, providerFilter: ["anthropic"] },
    providers: {
      "amazon-bedrock": { models: [
        { id: "us.anthropic.claude-sonnet-4-5-20250929-v1:0", cost: { input: 2.5 } },
        { id: "custom.model-v1:0", name: "My Custom", contextWindow: 1000, maxTokens: 100 },
      ] },
    },
  },
  agents: { defaults: { model: { primary: "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0" } } },
}"#,
    );
    let list = list_json(&context, &twin, &[]);
    let models = list["models"].as_array().unwrap();
    let both = models
        .iter()
        .find(|m| m["id"] == "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
        .unwrap();
    assert_eq!(both["source"], "both");
    assert_eq!(both["cost"]["input"], 2.5, "manual field wins");
    assert_eq!(
        both["cost"]["output"], 16.5,
        "known (geographic) price kept"
    );
    assert_eq!(both["sources"]["cost"], "config");
    assert_eq!(both["maxTokens"], 64000, "discovered limits kept");
    assert_eq!(both["name"], "Claude Sonnet 4.5", "discovered name kept");
    assert_eq!(both["default"], true);
    let manual = models
        .iter()
        .find(|m| m["id"] == "custom.model-v1:0")
        .unwrap();
    assert_eq!(
        (manual["source"].as_str(), manual["contextWindow"].as_u64()),
        (Some("manual"), Some(1000))
    );
    // The provider filter kept Anthropic models (and the application profile built on one).
    assert!(models.iter().all(|m| {
        let id = m["id"].as_str().unwrap();
        m["source"] == "manual" || id.contains("anthropic") || id.starts_with("arn:")
    }));
    let mut table = context.pincer(&["models", "list", "--provider", "amazon-bedrock"]);
    twin.configure(&mut table);
    pincer_snapshot!(context, table, tables);
}

#[test]
fn warm_cache_needs_no_network_and_failures_fall_back_to_it() {
    let context = TestContext::new();
    let mut twin = TwinGuard::start();
    context.write_config(
        "{ models: { bedrockDiscovery: { enabled: true, providerFilter: ['amazon'] } } }",
    );
    let first = keys(&list_json(&context, &twin, &[]));
    assert!(!first.is_empty());
    let url = twin.url();
    twin.stop();
    // Warm: the twin is gone, the listing is the same and says nothing.
    let mut warm = context.pincer(&["models", "list", "--json"]);
    twin.configure(&mut warm);
    warm.env("AWS_ENDPOINT_URL_BEDROCK", &url);
    let output = warm.output().unwrap();
    assert!(output.status.success());
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let warm: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(keys(&warm), first);
    // A forced refresh fails: the last good list is used, with a warning naming the cause.
    let mut refresh = context.pincer(&["models", "list", "--plain", "--refresh"]);
    twin.configure(&mut refresh);
    refresh.env("AWS_ENDPOINT_URL_BEDROCK", &url);
    let output = refresh.output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("model discovery failed") && stderr.contains("using the list cached"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().lines().count(),
        first.len()
    );
    // A corrupt cache is ignored with a warning (and, with discovery forced and no twin, an error).
    let cache_dir = context.pincer_home().join("cache");
    for entry in std::fs::read_dir(&cache_dir).unwrap() {
        std::fs::write(entry.unwrap().path(), "{ truncated").unwrap();
    }
    let mut corrupt = context.pincer(&["models", "list", "--plain"]);
    twin.configure(&mut corrupt);
    corrupt.env("AWS_ENDPOINT_URL_BEDROCK", &url);
    let output = corrupt.output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("corrupt discovery cache"), "{stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
}

#[test]
fn refresh_interval_zero_disables_the_cache() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config("{ models: { bedrockDiscovery: { enabled: true, refreshInterval: 0 } } }");
    assert!(!keys(&list_json(&context, &twin, &[])).is_empty());
    assert!(!context.pincer_home().join("cache").exists());
}

#[test]
fn expired_cache_is_refreshed() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config(
        "{ models: { bedrockDiscovery: { enabled: true, providerFilter: ['meta'] } } }",
    );
    list_json(&context, &twin, &[]);
    let file = std::fs::read_dir(context.pincer_home().join("cache"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let fetched = cached["fetchedAt"].as_u64().unwrap();
    cached["fetchedAt"] = (fetched - 7200).into();
    cached["models"] = serde_json::json!([]);
    std::fs::write(&file, cached.to_string()).unwrap();
    // Older than refreshInterval (3600 s): fetched again, so the models are back.
    assert!(!keys(&list_json(&context, &twin, &[])).is_empty());
}

#[test]
fn discovery_is_on_by_default_with_an_instance_role_only() {
    let context = TestContext::new();
    let twin = TwinGuard::start_with(bedrock_twin::TwinConfig {
        imds_port: Some(0),
        ..bedrock_twin::TwinConfig::default()
    });
    // No keys, no profile, nothing in config: only the instance role behind IMDS.
    let instance_role_only = |args: &[&str]| {
        let mut command = context.pincer(args);
        twin.configure(&mut command);
        command
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_EC2_METADATA_DISABLED")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", twin.imds_url())
            .env("AWS_CONFIG_FILE", context.home().join("no-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                context.home().join("no-credentials"),
            );
        command
    };
    let output = instance_role_only(&["models", "list", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(list["count"].as_u64().unwrap() > 10, "{list}");
    let status = instance_role_only(&["models", "status"]).output().unwrap();
    let stdout = String::from_utf8(status.stdout).unwrap();
    assert!(
        stdout.contains("AWS SDK default chain → EC2 instance role (IMDSv2) (temporary)"),
        "{stdout}"
    );
}

#[test]
fn status_probe_and_check() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config(
        r#"{ agents: { defaults: { model: {
  primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0",
  fallbacks: ["amazon-bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0", "amazon-bedrock/meta.llama3-70b-instruct-v1:0"],
} } } }"#,
    );
    let mut status = context.pincer(&["models", "status", "--probe"]);
    twin.configure(&mut status);
    pincer_snapshot!(context, status, tables);
    let mut json = context.pincer(&["models", "status", "--probe", "--json"]);
    twin.configure(&mut json);
    let value: serde_json::Value = serde_json::from_slice(&json.output().unwrap().stdout).unwrap();
    let results: Vec<&str> = value["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["ok", "on-demand not supported", "access denied"]);
    assert_eq!(value["defaultUsable"], true);
    assert_eq!(value["credentials"]["source"]["kind"], "environment-keys");
    // --check fails when the default model is not usable.
    context.write_config(
        r#"{ agents: { defaults: { model: { primary: "amazon-bedrock/us.nope-v1:0" } } } }"#,
    );
    let mut check = context.pincer(&["models", "status", "--check", "--probe"]);
    twin.configure(&mut check);
    pincer_snapshot!(context, check, tables);
}

/// The whole February-2026 listing, served by the twin (with the system profiles Bedrock has
/// for its profile-only models): every chat model gets its own limits (from Bedrock's answer or
/// the known-model table, never the seed's defaults), no price is invented, and models that
/// cannot take a text turn are hidden with their reason. The snapshot is the model-by-model
/// record of what Pincer reports.
#[test]
fn every_chat_model_of_the_2026_listing_has_its_own_limits_and_no_invented_price() {
    let Some(vectors) = crate::common::vectors_dir() else {
        return;
    };
    let catalogue =
        bedrock_twin::catalogue::Catalogue::from_file(&vectors.join(crate::common::LISTING_2026))
            .unwrap();
    let twin = TwinGuard::start_with(bedrock_twin::TwinConfig::with_catalogue(catalogue));
    let context = TestContext::new();
    context.write_config("{ models: { bedrockDiscovery: { enabled: true } } }");
    let all = list_json(&context, &twin, &["--all"]);
    let models = all["models"].as_array().unwrap();
    let mut lines = Vec::new();
    let mut chat = 0;
    for m in models {
        let id = m["id"].as_str().unwrap();
        let source = |field: &str| m["sources"][field].as_str().unwrap_or("unknown").to_owned();
        let price = |field: &str| match m["cost"][field].as_f64() {
            Some(p) => format!("{p}"),
            None => "?".to_owned(),
        };
        let hidden = m["hidden"].as_str();
        lines.push(format!(
            "{id} | ctx {} ({}) | out {} ({}) | ${}/{} ({}) | {}",
            m["contextWindow"],
            source("contextWindow"),
            m["maxTokens"],
            source("maxTokens"),
            price("input"),
            price("output"),
            source("cost"),
            hidden.unwrap_or("listed"),
        ));
        for field in ["input", "output", "cacheRead", "cacheWrite"] {
            assert_ne!(
                m["cost"][field].as_f64(),
                Some(0.0),
                "{id}: a price of $0 ({field})"
            );
        }
        if hidden.is_none() && m["kind"] != "embedding" {
            chat += 1;
            for field in ["contextWindow", "maxTokens"] {
                assert_ne!(
                    source(field),
                    "default",
                    "{id}: {field} fell back to the default"
                );
            }
        }
    }
    assert!(chat >= 60, "only {chat} chat models listed");
    let hidden_as = |id: &str| {
        models
            .iter()
            .find(|m| m["id"] == id)
            .and_then(|m| m["hidden"].as_str())
            .map(str::to_owned)
    };
    let sonic = hidden_as("amazon.nova-2-sonic-v1:0").expect("Nova 2 Sonic is hidden");
    assert!(sonic.contains("no text input"), "{sonic}");
    let price_of = |id: &str| {
        models
            .iter()
            .find(|m| m["id"] == id)
            .map(|m| m["cost"]["input"].clone())
    };
    // Each Llama 3.1 size has its own price; Mistral Large 3 is not priced as 2402.
    assert_eq!(
        price_of("meta.llama3-1-8b-instruct-v1:0"),
        Some(serde_json::json!(0.22))
    );
    assert_eq!(
        price_of("meta.llama3-1-405b-instruct-v1:0"),
        Some(serde_json::json!(2.4))
    );
    assert_ne!(
        price_of("us.mistral.mistral-large-3-675b-instruct"),
        price_of("mistral.mistral-large-2402-v1:0")
    );
    insta::assert_snapshot!(lines.join("\n"));
}
