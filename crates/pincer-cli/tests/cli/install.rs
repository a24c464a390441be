//! What an install puts beside the binary: shell completions that complete (bash runs its
//! script and is asked for completions), and a man page that groff renders without a warning and
//! that documents every command and flag `--help` does.

use std::process::Command;

use crate::common::TestContext;

fn stdout_of(context: &TestContext, args: &[&str]) -> String {
    let output = context.pincer(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// What bash offers after `words` (the last one being completed).
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let program = format!(
        r#"source "{}"
COMP_WORDS=({line})
COMP_CWORD={}
COMP_LINE="{line}"
COMP_POINT=${{#COMP_LINE}}
_pincer pincer "{}" "{}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script.display(),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_commands_and_flags() {
    let context = TestContext::new();
    let script = context.home().join("pincer.bash");
    std::fs::write(&script, stdout_of(&context, &["completions", "bash"])).unwrap();
    assert_eq!(bash_completes(&script, &["pincer", "mo"]), ["models"]);
    assert_eq!(
        bash_completes(&script, &["pincer", "models", "st"]),
        ["status"]
    );
    let flags = bash_completes(&script, &["pincer", "chat", "--max-"]);
    assert!(flags.contains(&"--max-attempts".to_owned()), "{flags:?}");
    assert!(flags.contains(&"--max-tokens".to_owned()), "{flags:?}");
    let shells = bash_completes(&script, &["pincer", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.contains(&shell.to_owned()), "{shells:?}");
    }
}

#[test]
fn every_shell_gets_a_script_naming_the_commands() {
    let context = TestContext::new();
    for (shell, marker) in [
        ("zsh", "#compdef pincer"),
        ("fish", "complete -c pincer"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[pincer]"),
    ] {
        let script = stdout_of(&context, &["completions", shell]);
        assert!(script.contains(marker), "{shell}: {script}");
        for command in ["config", "chat", "models", "gateway", "completions"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let refused = context.pincer(&["completions", "tcsh"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn the_man_page_renders_cleanly_and_documents_every_command() {
    let context = TestContext::new();
    let page = stdout_of(&context, &["man"]);
    assert!(page.contains(".TH pincer 1"), "{page}");
    for section in [
        "PINCER CONFIG SET",
        "PINCER CHAT",
        "PINCER MODELS LIST",
        "PINCER MODELS STATUS",
        "PINCER GATEWAY",
        "PINCER COMPLETIONS",
    ] {
        assert!(page.contains(&format!(".SH \"{section}\"")), "{section}");
    }
    for section in ["CHAT SESSION COMMANDS", "ENVIRONMENT", "FILES"] {
        assert!(
            page.contains(&format!(".SH {section}"))
                || page.contains(&format!(".SH \"{section}\"")),
            "{section}"
        );
    }
    assert!(page.contains("PINCER_GATEWAY_TOKEN") && page.contains("130 interrupted"));
    for flag in ["max\\-attempts", "show\\-secrets", "dry\\-run", "bind"] {
        assert!(page.contains(flag), "{flag} is not in the man page");
    }
    // groff, as man runs it, with every warning on.
    let path = context.home().join("pincer.1");
    std::fs::write(&path, &page).unwrap();
    let groff = Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .arg(&path)
        .output();
    match groff {
        Ok(output) => {
            assert!(output.status.success(), "{output:?}");
            assert!(
                output.stderr.is_empty(),
                "groff warned: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Err(err) => eprintln!("groff is not installed ({err}); the page was not rendered"),
    }
}
