//! `pincer config set`: JSON5 values with a string fallback, comment-preserving edits, whole-file
//! validation before writing, and a byte-identical file when a change is rejected.

use crate::common::{SEED_WITH_COMMENTS, TestContext};
use crate::pincer_snapshot;

#[test]
fn seed_quick_setup_creates_a_private_file() {
    let context = TestContext::new();
    pincer_snapshot!(
        context,
        context.pincer(&["config", "set", "models.bedrockDiscovery.enabled", "true"])
    );
    pincer_snapshot!(
        context,
        context.pincer(&[
            "config",
            "set",
            "models.bedrockDiscovery.region",
            "us-east-1"
        ])
    );
    insta::assert_snapshot!(context.read_config());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(context.config_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(context.pincer_home())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }
}

#[test]
fn edits_keep_comments_order_and_formatting() {
    let context = TestContext::new();
    context.write_config(SEED_WITH_COMMENTS);
    for (key, value) in [
        ("models.bedrockDiscovery.enabled", "true"),
        (
            r#"models.providers["amazon-bedrock"].models[0].maxTokens"#,
            "16384",
        ),
        (
            "models.providers.amazon-bedrock.baseUrl",
            "https://bedrock-runtime.eu-west-1.amazonaws.com",
        ),
        (
            "agents.defaults.model.fallbacks",
            r#"["amazon-bedrock/us.amazon.nova-pro-v1:0"]"#,
        ),
    ] {
        let output = context
            .pincer(&["config", "set", key, value])
            .output()
            .unwrap();
        assert!(output.status.success(), "{key}: {output:?}");
    }
    let after = context.read_config();
    // Everything outside the edited values is as the user wrote it.
    let expected = SEED_WITH_COMMENTS
        .replace("maxTokens: 8192", "maxTokens: 16384")
        .replace(
            "\"https://bedrock-runtime.us-east-1.amazonaws.com\", // us-east-1",
            "\"https://bedrock-runtime.eu-west-1.amazonaws.com\", // us-east-1",
        );
    let (head, _) = after.split_once("  agents:").unwrap();
    let (expected_head, _) = expected.split_once("  agents:").unwrap();
    assert_eq!(
        head.replace(
            "    bedrockDiscovery: {\n      enabled: true,\n    },\n",
            ""
        ),
        expected_head
    );
    insta::assert_snapshot!(after);
}

#[test]
fn values_are_json5_with_a_string_fallback() {
    let context = TestContext::new();
    let cases = [
        ("models.bedrockDiscovery.enabled", "false"),
        ("models.bedrockDiscovery.refreshInterval", "0"),
        (
            "models.bedrockDiscovery.providerFilter",
            "['anthropic', 'amazon',]",
        ),
        ("models.bedrockDiscovery.region", "eu-central-1"),
        (
            "models.providers.local.models",
            "[{id: 'llama3:8b', input: ['text']}]",
        ),
        (
            "models.providers.local.baseUrl",
            "http://127.0.0.1:11434/v1",
        ),
        ("models.providers.local.api", "openai-completions"),
        ("gateway.bind", "\"0.0.0.0\""),
    ];
    for (key, value) in cases {
        let output = context
            .pincer(&["config", "set", key, value])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{key}={value}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    pincer_snapshot!(context, context.pincer(&["config", "get", "--json"]));
}

#[test]
fn strict_json_refuses_the_string_fallback() {
    let context = TestContext::new();
    pincer_snapshot!(
        context,
        context.pincer(&[
            "config",
            "set",
            "models.bedrockDiscovery.region",
            "us-east-1",
            "--strict-json"
        ])
    );
    assert!(!context.config_path().exists());
    let output = context
        .pincer(&[
            "config",
            "set",
            "models.bedrockDiscovery.region",
            "\"us-east-1\"",
            "--strict-json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
}

#[test]
fn broken_structured_value_is_an_error_not_a_string() {
    let context = TestContext::new();
    pincer_snapshot!(
        context,
        context.pincer(&[
            "config",
            "set",
            "models.bedrockDiscovery.providerFilter",
            "['anthropic'"
        ])
    );
}

#[test]
fn rejected_changes_leave_the_file_byte_identical() {
    let context = TestContext::new();
    context.write_config(SEED_WITH_COMMENTS);
    let before = std::fs::read(context.config_path()).unwrap();
    let rejected = [
        ("models.bedrockDiscovery.refreshInterval", "-5"),
        ("models.bedrockDiscovery.enabeld", "true"),
        ("models.providers.amazon-bedrock.api", "bedrock"),
        ("agents.defaults.model.primary", "no-slash"),
        (
            "models.providers.amazon-bedrock.models[0].maxTokens",
            "500000",
        ),
        ("models.providers.amazon-bedrock.models[5].id", "gap"),
        ("models.providers.amazon-bedrock.baseUrl.x", "1"),
        ("gateway.port", "70000"),
        ("gateway", "[]"),
    ];
    for (key, value) in rejected {
        let output = context
            .pincer(&["config", "set", key, value])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{key}={value}: {output:?}");
        assert_eq!(
            std::fs::read(context.config_path()).unwrap(),
            before,
            "{key}={value} changed the file"
        );
    }
    pincer_snapshot!(
        context,
        context.pincer(&[
            "config",
            "set",
            "models.bedrockDiscovery.refreshInterval",
            "-5"
        ])
    );
    pincer_snapshot!(
        context,
        context.pincer(&["config", "set", "models.bedrockDiscovery.enabeld", "true"])
    );
}

#[test]
fn set_on_a_broken_file_is_refused() {
    let context = TestContext::new();
    context.write_config("{ gateway: { port: 80 ");
    pincer_snapshot!(
        context,
        context.pincer(&["config", "set", "gateway.port", "81"])
    );
    assert_eq!(context.read_config(), "{ gateway: { port: 80 ");
}

#[test]
fn secrets_are_not_echoed() {
    let context = TestContext::new();
    pincer_snapshot!(
        context,
        context.pincer(&[
            "config",
            "set",
            "models.providers.openai.apiKey",
            "sk-live-TOPSECRET"
        ])
    );
    pincer_snapshot!(
        context,
        context
            .pincer(&[
                "config",
                "set",
                "gateway.auth.token",
                "--dry-run",
                "gw-TOPSECRET-0123456789"
            ])
            .arg("--quiet")
    );
}

#[test]
fn dry_run_prints_the_result_without_writing() {
    let context = TestContext::new();
    context.write_config(SEED_WITH_COMMENTS);
    let output = context
        .pincer(&["config", "set", "gateway.port", "9000", "--dry-run"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(printed.contains("port: 9000"));
    assert!(printed.contains("/* the one model we use */"));
    assert_eq!(context.read_config(), SEED_WITH_COMMENTS);
}

#[test]
fn json_files_keep_quoted_keys() {
    let context = TestContext::new();
    context.write_config("{\n  \"gateway\": {\n    \"port\": 80\n  }\n}\n");
    let output = context
        .pincer(&[
            "config",
            "set",
            "gateway.auth.token",
            "t0k-0123456789abcdef",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(context.read_config());
}

#[test]
fn symlinked_config_is_written_through() {
    let context = TestContext::new();
    let real = context.home().join("dotfiles-config.json5");
    std::fs::write(&real, "{ gateway: { port: 80 } }\n").unwrap();
    std::fs::create_dir_all(context.pincer_home()).unwrap();
    std::os::unix::fs::symlink(&real, context.config_path()).unwrap();
    let output = context
        .pincer(&["config", "set", "gateway.port", "81"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(
        std::fs::symlink_metadata(context.config_path())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        "{ gateway: { port: 81 } }\n"
    );
}
