//! `pincer config validate`: every problem, with key path and line:column; exit 2 when invalid.

use crate::common::{SEED_WITH_COMMENTS, TestContext};
use crate::pincer_snapshot;

#[test]
fn seed_config_is_valid() {
    let context = TestContext::new();
    context.write_config(SEED_WITH_COMMENTS);
    pincer_snapshot!(context, context.pincer(&["config", "validate"]));
}

#[test]
fn missing_file_is_valid() {
    let context = TestContext::new();
    pincer_snapshot!(context, context.pincer(&["config", "validate"]));
}

#[test]
fn invalid_config_lists_every_problem() {
    let context = TestContext::new();
    context.write_config(
        "{\n  models: {\n    providers: { 'amazon-bedrock': { api: 'bedrock', models: [{ id: 'm', maxTokens: -1 }] } },\n    bedrockDiscovery: { enabled: 'yes', refreshInterval: 60 },\n  },\n  agent: {},\n}\n",
    );
    pincer_snapshot!(context, context.pincer(&["config", "validate"]));
}

#[test]
fn semantic_errors_point_at_the_value() {
    let context = TestContext::new();
    context.write_config("{\n  agents: { defaults: { model: { primary: 'amazon-bedrock', fallbacks: ['a/b', 'nope'] } } },\n}\n");
    pincer_snapshot!(context, context.pincer(&["config", "validate"]));
}

#[test]
fn default_models_are_checked_against_the_catalog() {
    let context = TestContext::new();
    let twin = crate::common::TwinGuard::start();
    context.write_config(
        "{\n  models: { bedrockDiscovery: { enabled: true } },\n  agents: { defaults: { model: {\n    primary: 'amazon-bedrock/us.anthropic.claude-sonet-4-5-20250929-v1:0',\n    fallbacks: ['amazon-bedrock/us.amazon.nova-pro-v1:0'],\n  } } },\n}\n",
    );
    let mut command = context.pincer(&["config", "validate"]);
    twin.configure(&mut command);
    pincer_snapshot!(context, command);
    // With discovery off, a Bedrock model cannot be checked: a warning, not an error.
    context.write_config(
        "{ agents: { defaults: { model: { primary: 'amazon-bedrock/some.model-v1:0' } } } }",
    );
    let mut command = context.pincer(&["config", "validate"]);
    twin.configure(&mut command);
    command.env_remove("AWS_ACCESS_KEY_ID");
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("cannot check")
    );
}
