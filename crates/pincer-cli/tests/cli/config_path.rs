//! `pincer config path`: `$PINCER_CONFIG`, else `$PINCER_HOME/config.json5`, else `~/.pincer`.

use pincer_core::env::EnvVars;

use crate::common::TestContext;

fn stdout(command: &mut std::process::Command) -> String {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn resolves_in_documented_order() {
    let context = TestContext::new();
    let home = context.home().display().to_string();

    let mut default = context.pincer(&["config", "path"]);
    default.env_remove(EnvVars::PINCER_HOME);
    assert_eq!(
        stdout(&mut default),
        format!("{home}/.pincer/config.json5\n")
    );

    let mut pincer_home = context.pincer(&["config", "path"]);
    pincer_home.env(EnvVars::PINCER_HOME, context.home().join("ph"));
    assert_eq!(
        stdout(&mut pincer_home),
        format!("{home}/ph/config.json5\n")
    );

    let mut explicit = context.pincer(&["config", "path"]);
    explicit.env(
        EnvVars::PINCER_CONFIG,
        context.home().join("elsewhere.json5"),
    );
    assert_eq!(stdout(&mut explicit), format!("{home}/elsewhere.json5\n"));

    let mut flag = context.pincer(&["--config", "/tmp/x.json5", "config", "path"]);
    flag.env(
        EnvVars::PINCER_CONFIG,
        context.home().join("elsewhere.json5"),
    );
    assert_eq!(stdout(&mut flag), "/tmp/x.json5\n");
}

#[test]
fn pincer_config_file_is_used_for_reads_and_writes() {
    let context = TestContext::new();
    let file = context.home().join("custom.json5");
    let mut set = context.pincer(&["config", "set", "gateway.port", "8080"]);
    set.env(EnvVars::PINCER_CONFIG, &file);
    assert!(set.status().unwrap().success());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("port: 8080")
    );
    assert!(!context.config_path().exists());
}
