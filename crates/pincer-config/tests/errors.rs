//! Every kind of config error, as the user sees it: key path, file:line:column, the offending
//! line underlined, and a hint where there is one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    missing_docs
)] // test code: a panic is a failed test

use pincer_config::validate;

fn error_text(text: &str) -> String {
    validate::parse(text, "config.json5")
        .expect_err("the config should be rejected")
        .to_string()
}

#[test]
fn syntax_error() {
    insta::assert_snapshot!(error_text(
        "{\n  models: {\n    bedrockDiscovery: { enabled: true region: 'x' },\n  },\n}\n"
    ));
}

#[test]
fn unknown_key_with_hint() {
    insta::assert_snapshot!(error_text(
        "{\n  models: {\n    bedrockDiscovery: {\n      enabled: true,\n      refreshIntervl: 60,\n    },\n  },\n}\n"
    ));
}

#[test]
fn unknown_top_level_key_lists_allowed_keys() {
    insta::assert_snapshot!(error_text("{ zzz: 1 }"));
}

#[test]
fn unknown_api_value() {
    insta::assert_snapshot!(error_text(
        "{\n  models: {\n    providers: {\n      'amazon-bedrock': { api: 'bedrock-converse', auth: 'aws-sdk' },\n    },\n  },\n}\n"
    ));
}

#[test]
fn malformed_model_refs() {
    insta::assert_snapshot!(error_text(
        "{\n  agents: { defaults: { model: {\n    primary: 'claude-opus',\n    fallbacks: ['amazon-bedrock/ok', '/missing-provider'],\n  } } },\n}\n"
    ));
}

#[test]
fn negative_and_zero_limits() {
    insta::assert_snapshot!(error_text(
        "{\n  models: {\n    bedrockDiscovery: { defaultMaxTokens: -1, defaultContextWindow: 0 },\n  },\n}\n"
    ));
}

#[test]
fn wrong_type() {
    insta::assert_snapshot!(error_text("{\n  gateway: { port: 'eighty' },\n}\n"));
}

#[test]
fn duplicate_key() {
    insta::assert_snapshot!(error_text(
        "{\n  gateway: { port: 80 },\n  gateway: { port: 81 },\n}\n"
    ));
}

#[test]
fn semantic_problems_are_reported_together() {
    insta::assert_snapshot!(error_text(
        r#"{
  models: {
    providers: {
      "bad/id": { baseUrl: "not a url" },
      openai: { api: "openai-completions", models: [{ id: "gpt" }, { id: "gpt", contextWindow: 10, maxTokens: 20 }] },
    },
    bedrockDiscovery: { region: "US East" },
  },
  gateway: { bind: "everywhere" },
}
"#
    ));
}

#[test]
fn secrets_never_appear_in_errors() {
    let text = "{\n  models: { providers: { openai: { apiKey: 'sk-live-SECRET', api: 'nope' } } },\n  gateway: { auth: { token: 'gw-SECRET' }, port: 'x' },\n}\n";
    let message = error_text(text);
    assert!(!message.contains("SECRET"), "{message}");
    let syntax = error_text("{ gateway: { auth: { token: 'gw-SECRET' } }");
    assert!(!syntax.contains("SECRET"), "{syntax}");
    let wrong_type = error_text("{ models: { providers: { p: { apiKey: 12345678 } } } }");
    assert!(!wrong_type.contains("12345678"), "{wrong_type}");
    insta::assert_snapshot!(message);
}

#[test]
fn top_level_must_be_an_object() {
    insta::assert_snapshot!(error_text("[1, 2]"));
}

#[test]
fn json5_features_are_accepted() {
    let text = "// comment\n/* block */\n{\n  'gateway': { port: 0x1F90, bind: '127.0.0.1', },\n  models: { bedrockDiscovery: { refreshInterval: +60, }, },\n}\n";
    let options = validate::parse(text, "config.json5").unwrap();
    assert_eq!(options.gateway().port(), 8080);
    assert_eq!(options.discovery().refresh_interval_secs(), 60);
    assert_eq!(validate::parse("", "empty").unwrap(), Default::default());
    assert_eq!(
        validate::parse("// only a comment\n", "empty").unwrap(),
        Default::default()
    );
}
