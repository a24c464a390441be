//! `pincer config unset`: removes a value, keeps comments, refuses to break the config.

use crate::common::{SEED_WITH_COMMENTS, TestContext};
use crate::pincer_snapshot;

#[test]
fn removes_a_value_and_keeps_comments() {
    let context = TestContext::new();
    context.write_config(SEED_WITH_COMMENTS);
    pincer_snapshot!(context, context.pincer(&["config", "unset", "agents"]));
    let after = context.read_config();
    assert!(!after.contains("agents"));
    assert!(after.contains("// Pincer config: pasted from the docs."));
    assert!(after.contains("/* the one model we use */"));
    assert!(after.contains("// us-east-1"));
}

#[test]
fn unsetting_what_is_not_set_is_fine() {
    let context = TestContext::new();
    context.write_config(SEED_WITH_COMMENTS);
    pincer_snapshot!(
        context,
        context.pincer(&["config", "unset", "gateway.port"])
    );
    assert_eq!(context.read_config(), SEED_WITH_COMMENTS);
}

#[test]
fn refuses_to_leave_an_invalid_config() {
    let context = TestContext::new();
    context.write_config(SEED_WITH_COMMENTS);
    pincer_snapshot!(
        context,
        context.pincer(&[
            "config",
            "unset",
            r#"models.providers["amazon-bedrock"].models[0].id"#
        ])
    );
    assert_eq!(context.read_config(), SEED_WITH_COMMENTS);
}

#[test]
fn dry_run_prints_without_writing() {
    let context = TestContext::new();
    context.write_config(SEED_WITH_COMMENTS);
    let output = context
        .pincer(&["config", "unset", "agents.defaults", "--dry-run"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        !String::from_utf8(output.stdout)
            .unwrap()
            .contains("primary")
    );
    assert_eq!(context.read_config(), SEED_WITH_COMMENTS);
}
