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
