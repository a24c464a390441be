//! `pincer config get`: values as written, secrets redacted, unset vs unknown keys.

use crate::common::TestContext;
use crate::pincer_snapshot;

const WITH_SECRETS: &str = r#"{
  models: {
    providers: {
      openai: {
        baseUrl: "https://api.openai.com/v1",
        api: "openai-completions",
        apiKey: "sk-live-ABCDEF123456",
        headers: { "x-api-key": "hdr-SECRET-1", "x-team": "blue" },
        models: [{ id: "gpt-5", maxTokens: 16000 }],
      },
    },
    bedrockDiscovery: { region: "eu-west-1", providerFilter: ["anthropic"] },
  },
  gateway: { auth: { token: "gw-SECRET-2-0123456789" } },
}
"#;

#[test]
fn whole_config_is_redacted() {
    let context = TestContext::new();
    context.write_config(WITH_SECRETS);
    pincer_snapshot!(context, context.pincer(&["config", "get"]));
}

#[test]
fn show_secrets_reveals_them() {
    let context = TestContext::new();
    context.write_config(WITH_SECRETS);
    let output = context
        .pincer(&[
            "config",
            "get",
            "models.providers.openai.apiKey",
            "--show-secrets",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "sk-live-ABCDEF123456\n"
    );
}

#[test]
fn no_secret_in_any_get_output() {
    let context = TestContext::new();
    context.write_config(WITH_SECRETS);
    for key in [
        None,
        Some("models"),
        Some("models.providers"),
        Some("models.providers.openai"),
        Some("models.providers.openai.apiKey"),
        Some("models.providers.openai.headers"),
        Some(r#"models.providers.openai.headers["x-api-key"]"#),
        Some("gateway"),
        Some("gateway.auth.token"),
    ] {
        for json in [false, true] {
            let mut command = context.pincer(&["config", "get"]);
            command.args(key);
            if json {
                command.arg("--json");
            }
            let output = command.output().unwrap();
            assert!(output.status.success(), "{key:?}: {output:?}");
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            for secret in ["ABCDEF123456", "SECRET-1", "SECRET-2"] {
                assert!(!all.contains(secret), "{key:?} leaked {secret}: {all}");
            }
        }
    }
}

#[test]
fn scalars_print_bare_or_as_json() {
    let context = TestContext::new();
    context.write_config(WITH_SECRETS);
    pincer_snapshot!(
        context,
        context.pincer(&["config", "get", "models.bedrockDiscovery.region"])
    );
    pincer_snapshot!(
        context,
        context.pincer(&["config", "get", "models.bedrockDiscovery.region", "--json"])
    );
    pincer_snapshot!(
        context,
        context.pincer(&[
            "config",
            "get",
            "models.providers.openai.models[0].maxTokens"
        ])
    );
    pincer_snapshot!(
        context,
        context.pincer(&[
            "config",
            "get",
            "models.bedrockDiscovery.providerFilter",
            "--json"
        ])
    );
}

#[test]
fn unset_known_key_exits_1_with_its_default() {
    let context = TestContext::new();
    pincer_snapshot!(
        context,
        context.pincer(&[
            "config",
            "get",
            "models.bedrockDiscovery.defaultContextWindow"
        ])
    );
}

#[test]
fn unknown_key_exits_2_with_a_hint() {
    let context = TestContext::new();
    context.write_config(WITH_SECRETS);
    pincer_snapshot!(
        context,
        context.pincer(&["config", "get", "models.bedrokDiscovery.region"])
    );
}

#[test]
fn malformed_key_path_exits_2() {
    let context = TestContext::new();
    pincer_snapshot!(
        context,
        context.pincer(&["config", "get", "models..region"])
    );
}

#[test]
fn syntax_error_in_file_exits_2_with_location() {
    let context = TestContext::new();
    context.write_config("{\n  gateway: { port: 80 \n  apiKey: 'sk-NOPE' }\n");
    pincer_snapshot!(context, context.pincer(&["config", "get", "gateway.port"]));
}
