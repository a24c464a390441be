//! Inputs that used to slip through: empty tokens, model ids too long for the SDK, comment-only
//! values, byte-order marks and bytes that are not UTF-8, absurdly deep key paths, a default
//! model `config set` took but `config validate` refused, secrets written into a file others
//! can read, and prompts over Bedrock's request limit.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use crate::common::{TestContext, TwinGuard, output_with_stdin};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `pincer config set KEY VALUE` and asserts it is refused (exit 2) with `needle` in its
/// message and the file left byte-identical.
fn refused_set(context: &TestContext, key: &str, value: &str, needle: &str) -> String {
    let before = std::fs::read(context.config_path()).unwrap();
    let output = context
        .pincer(&["config", "set", key, value])
        .output()
        .unwrap();
    let message = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{key} = {value:?}: {message}"
    );
    assert!(message.contains(needle), "{key} = {value:?}: {message}");
    assert_eq!(
        std::fs::read(context.config_path()).unwrap(),
        before,
        "the file changed"
    );
    message
}

#[test]
fn an_empty_or_short_gateway_token_is_an_error_everywhere() {
    let context = TestContext::new();
    context.write_config("{\n  gateway: { auth: { token: \"\" }, bind: \"0.0.0.0\" },\n}\n");
    let output = context.pincer(&["config", "validate"]).output().unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("gateway.auth.token"), "{message}");
    assert!(
        message.contains("config.json5:2:29"),
        "line:column: {message}"
    );
    // The gateway refuses to start on it (it does not count as "a token is set").
    let output = context
        .pincer(&["gateway", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the gateway token is empty"),
        "{}",
        stderr(&output)
    );

    context.write_config("{ gateway: { port: 4000 } }\n");
    for (value, needle) in [
        ("", "empty"),
        ("   ", "empty"),
        ("short-token", "at least 16"),
        ("has a space in it, sixteen+", "whitespace"),
    ] {
        refused_set(&context, "gateway.auth.token", value, needle);
    }
    // From the environment: set but empty, or too short, is refused too.
    for value in ["", "short"] {
        let output = context
            .pincer(&["gateway", "--port", "0"])
            .env("PINCER_GATEWAY_TOKEN", value)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{value:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("PINCER_GATEWAY_TOKEN"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn a_model_id_too_long_for_any_model_exits_2_with_a_short_message() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let model = format!("amazon-bedrock/us.{}", "m".repeat(65_000));
    let mut command = context.pincer(&["chat", "--model", &model, "-m", "hi"]);
    twin.configure(&mut command);
    let output = command.output().unwrap();
    let message = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        &message[..message.len().min(2000)]
    );
    assert!(message.contains("at most 2048"), "{message}");
    assert!(message.len() < 1000, "{} bytes of error", message.len());
    assert_eq!(twin.stream_counts().invocations, 0, "it reached Bedrock");
}

#[test]
fn a_value_that_is_only_a_comment_is_refused() {
    let context = TestContext::new();
    context.write_config("{ models: { bedrockDiscovery: { region: 'us-east-1' } } }\n");
    for value in ["// x", "/* c */"] {
        refused_set(
            &context,
            "models.bedrockDiscovery.region",
            value,
            "only a comment",
        );
    }
}

#[test]
fn a_byte_order_mark_is_accepted_and_kept_and_bytes_that_are_not_utf8_are_located() {
    let context = TestContext::new();
    std::fs::create_dir_all(context.pincer_home()).unwrap();
    std::fs::write(
        context.config_path(),
        "\u{feff}{\n  gateway: { port: 4000 }, // comment\n}\n",
    )
    .unwrap();
    let output = context.pincer(&["config", "validate"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let output = context
        .pincer(&["config", "set", "gateway.port", "4001"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let written = std::fs::read_to_string(context.config_path()).unwrap();
    assert_eq!(
        written,
        "\u{feff}{\n  gateway: { port: 4001 }, // comment\n}\n"
    );
    // A syntax error is placed as an editor shows it (the mark takes no column).
    std::fs::write(context.config_path(), "\u{feff}{ gateway: { port: } }\n").unwrap();
    let output = context.pincer(&["config", "validate"]).output().unwrap();
    assert!(
        stderr(&output).contains("config.json5:1:"),
        "{}",
        stderr(&output)
    );

    std::fs::write(
        context.config_path(),
        b"{\n  gateway: { bind: \"caf\xe9\" },\n}\n",
    )
    .unwrap();
    for args in [
        &["config", "validate"][..],
        &["config", "get"],
        &["config", "set", "gateway.port", "1"],
    ] {
        let output = context.pincer(args).output().unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains("not UTF-8"), "{message}");
        assert!(
            message.contains("offset 25 (line 2, column 24)"),
            "{message}"
        );
    }
}

#[test]
fn absurdly_deep_key_paths_are_refused_quickly_naming_the_key_path() {
    let context = TestContext::new();
    context.write_config("{\n  models: {\n    bedrockDiscovery: { enabled: true },\n  },\n}\n");
    let deep = format!("models.{}", ["a"; 400].join("."));
    let message = refused_set(&context, &deep, "1", "invalid key path");
    assert!(message.contains("deeper than 32 segments"), "{message}");
    assert!(
        !message.contains("config.json5"),
        "it blames the file: {message}"
    );
    // A path at the limit is an ordinary unknown key, refused by validation, not by a slow edit.
    let limit = format!("models.{}", ["a"; 31].join("."));
    let started = std::time::Instant::now();
    refused_set(&context, &limit, "1", "unknown key");
    eprintln!("a 32-segment set took {:?}", started.elapsed());
}

#[test]
fn config_set_and_config_validate_apply_one_rule_to_the_default_model() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config("{ models: { bedrockDiscovery: { enabled: true } } }\n");
    let mut set = context.pincer(&[
        "config",
        "set",
        "agents.defaults.model.primary",
        "amazon-bedrock/us.anthropic.claude-opus-9-v1:0",
    ]);
    twin.configure(&mut set);
    let before = context.read_config();
    let output = set.output().unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("is not in the model catalog"), "{message}");
    assert_eq!(context.read_config(), before);
    // The same text written by hand is refused by `config validate` for the same reason.
    context.write_config(
        "{ models: { bedrockDiscovery: { enabled: true } }, agents: { defaults: { model: { primary: 'amazon-bedrock/us.anthropic.claude-opus-9-v1:0' } } } }\n",
    );
    let mut validate = context.pincer(&["config", "validate"]);
    twin.configure(&mut validate);
    let output = validate.output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is not in the model catalog"));
    // A model the catalog holds is accepted by both.
    context.write_config("{ models: { bedrockDiscovery: { enabled: true } } }\n");
    let mut set = context.pincer(&[
        "config",
        "set",
        "agents.defaults.model.primary",
        "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]);
    twin.configure(&mut set);
    let output = set.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn writing_a_secret_into_a_file_others_can_read_makes_it_private() {
    let context = TestContext::new();
    context.write_config("{ gateway: { port: 4000 } }\n");
    let mode = |context: &TestContext| {
        std::fs::metadata(context.config_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    std::fs::set_permissions(
        context.config_path(),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    // Not a secret: the mode is the user's choice and stays.
    let output = context
        .pincer(&["config", "set", "gateway.port", "4001"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(mode(&context), 0o644);
    let output = context
        .pincer(&[
            "config",
            "set",
            "gateway.auth.token",
            "a-token-long-enough-0123",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode(&context), 0o600);
    assert!(stderr(&output).contains("mode 0644"), "{}", stderr(&output));
    assert!(stderr(&output).contains("now 0600"), "{}", stderr(&output));
}

#[test]
fn a_prompt_over_bedrocks_request_limit_is_a_clear_error() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    let mut command = context.pincer(&[
        "chat",
        "--model",
        "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]);
    twin.configure(&mut command);
    // 21 MiB on stdin: Bedrock takes 20 MB at most.
    let output = output_with_stdin(&mut command, &vec![b'x'; 21 << 20]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("request_too_large"), "{message}");
    assert!(message.contains("prompt is too large"), "{message}");
}
