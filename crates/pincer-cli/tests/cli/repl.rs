//! `pincer chat` in a real pseudo-terminal: keys are typed into the pty and the screen is read
//! back through a terminal emulator (vt100), as a user would see it. Line editing, history
//! (also across sessions, in `PINCER_HOME`), bracketed paste, continuation lines, the session
//! commands, Ctrl-C at the prompt and during an answer, Ctrl-D, `/save` and `--resume`.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde_json::Value;

use crate::common::{TestContext, TwinGuard};

const HAIKU: &str = "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0";
const HAIKU_35: &str = "amazon-bedrock/anthropic.claude-3-5-haiku-20241022-v1:0";
const ROWS: u16 = 200;
const COLS: u16 = 120;

/// `pincer chat ARGS` on a pty, with the screen it draws.
struct Terminal {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Terminal {
    fn start(context: &TestContext, twin: &TwinGuard, args: &[&str]) -> Self {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_pincer"));
        command.env_clear();
        for (key, value) in [
            ("PATH", "/usr/bin:/bin".to_owned()),
            ("HOME", context.home().display().to_string()),
            ("PINCER_HOME", context.pincer_home().display().to_string()),
            ("TERM", "xterm-256color".to_owned()),
            ("NO_COLOR", "1".to_owned()),
            (
                "AWS_ACCESS_KEY_ID",
                bedrock_twin::DEFAULT_ACCESS_KEY_ID.to_owned(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                bedrock_twin::DEFAULT_SECRET_ACCESS_KEY.to_owned(),
            ),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", twin.url()),
            ("AWS_ENDPOINT_URL_BEDROCK", twin.url()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            (
                "AWS_CONFIG_FILE",
                context.home().join("absent").display().to_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                context.home().join("absent").display().to_string(),
            ),
        ] {
            command.env(key, value);
        }
        command.arg("chat");
        command.args(args);
        command.cwd(context.home());
        let child = pty.slave.spawn_command(command).unwrap();
        drop(pty.slave);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(ROWS).unwrap(),
            NonZeroU16::new(COLS).unwrap(),
            0,
        )));
        let writer = Arc::new(Mutex::new(pty.master.take_writer().unwrap()));
        let mut output = pty.master.try_clone_reader().unwrap();
        let (shown, answer) = (screen.clone(), writer.clone());
        let reader = std::thread::spawn(move || {
            let _master = pty.master;
            let mut buffer = [0u8; 4096];
            while let Ok(n) = output.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let bytes = &buffer[..n];
                let mut parser = shown.lock().unwrap();
                parser.process(bytes);
                // A terminal answers the cursor-position query the line editor makes.
                if bytes.windows(4).any(|w| w == b"\x1b[6n") {
                    let (row, col) = parser.screen().cursor_position();
                    let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                    let _ = answer.lock().unwrap().write_all(reply.as_bytes());
                }
            }
        });
        Self {
            screen,
            writer,
            child,
            reader: Some(reader),
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Types `keys`.
    fn keys(&self, keys: &str) {
        let mut writer = self.writer.lock().unwrap();
        writer.write_all(keys.as_bytes()).unwrap();
        writer.flush().unwrap();
    }

    /// Waits until the screen shows `text` `times` times; returns the screen.
    fn wait_for(&self, text: &str, times: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.contents();
            if screen.matches(text).count() >= times {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {text:?} {times} times:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to exit; its code.
    fn exit_code(mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "still running:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        status.exit_code()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The text of the last user message Bedrock received.
fn last_user_text(twin: &TwinGuard) -> String {
    let received = twin.received();
    let messages = received.last().unwrap()["messages"]
        .as_array()
        .unwrap()
        .clone();
    let user = messages.iter().rev().find(|m| m["role"] == "user").unwrap();
    user["content"][0]["text"].as_str().unwrap().to_owned()
}

/// How many messages the last request carried.
fn last_message_count(twin: &TwinGuard) -> usize {
    twin.received().last().unwrap()["messages"]
        .as_array()
        .unwrap()
        .len()
}

fn config(context: &TestContext) {
    context.write_config(&format!(
        r#"{{ agents: {{ defaults: {{ model: {{ primary: "{HAIKU}" }} }} }} }}"#
    ));
}

/// Waits for the closing line (`[model] N in · N out · …`) of the `n`th answer.
fn answered(terminal: &Terminal, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = terminal.contents();
        let closing = screen
            .lines()
            .filter(|l| l.starts_with("[amazon-bedrock/") && l.contains(" out · cache "))
            .count();
        if closing >= n {
            return;
        }
        assert!(Instant::now() < deadline, "no answer {n}:\n{screen}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_session_is_a_real_line_editor() {
    let context = TestContext::new();
    config(&context);
    let twin = TwinGuard::start();
    let terminal = Terminal::start(&context, &twin, &[]);
    terminal.wait_for("chatting with", 1);

    // Type, answer.
    terminal.keys("first message\r");
    answered(&terminal, 1);
    assert_eq!(last_user_text(&twin), "first message");

    // Up recalls it (never `^[[A`), Backspace edits it.
    terminal.keys("\x1b[A");
    terminal.wait_for("> first message", 2);
    assert!(
        !terminal.contents().contains("^[["),
        "{}",
        terminal.contents()
    );
    terminal.keys(&"\x7f".repeat("message".len()));
    terminal.keys("edited\r");
    answered(&terminal, 2);
    assert_eq!(last_user_text(&twin), "first edited");

    // A pasted block is one message; so is a line continued with a backslash.
    terminal.keys("\x1b[200~line one\nline two\x1b[201~\r");
    answered(&terminal, 3);
    assert_eq!(last_user_text(&twin), "line one\nline two");
    terminal.keys("alpha \\\r");
    terminal.keys("beta\r");
    answered(&terminal, 4);
    assert_eq!(last_user_text(&twin), "alpha \nbeta");
    assert_eq!(
        last_message_count(&twin),
        7,
        "the whole conversation goes up"
    );
    // What is typed ahead, in the same read as the Enter before it, is kept.
    terminal.keys("/help\rtyped ahead\r");
    answered(&terminal, 5);
    assert_eq!(last_user_text(&twin), "typed ahead");

    // Commands are not sent to the model.
    let sent = twin.received().len();
    terminal.keys("/usage\r");
    terminal.wait_for("5 answers · ", 1);
    terminal.keys("/bogus\r");
    terminal.wait_for("/bogus is not a command", 1);
    terminal.keys("/model\r");
    terminal.wait_for(&format!("model: {HAIKU}"), 1);
    assert_eq!(twin.received().len(), sent);

    // Ctrl-C at the prompt drops the line and keeps the session.
    terminal.keys("never sent\x03");
    terminal.wait_for("(Ctrl-D or /exit leaves)", 1);
    assert_eq!(twin.received().len(), sent);

    // Ctrl-C during an answer cancels it; the session goes on.
    terminal.keys(&format!("/model {HAIKU}~slow:300\r"));
    terminal.wait_for("now chatting with", 1);
    terminal.keys("one two three four five six seven eight nine ten eleven twelve\r");
    terminal.wait_for("one two", 2);
    terminal.keys("\x03");
    terminal.wait_for("(cancelled)", 1);

    // Switch model, save, leave with Ctrl-D.
    terminal.keys(&format!("/model {HAIKU_35}\r"));
    terminal.wait_for(&format!("now chatting with {HAIKU_35}"), 1);
    terminal.keys("after the switch\r");
    answered(&terminal, 6);
    assert!(
        twin.received()
            .last()
            .unwrap()
            .to_string()
            .contains("after the switch"),
        "sent to the new model"
    );
    let saved = context.home().join("talk.json");
    terminal.keys("/save talk.json\r");
    terminal.wait_for("saved ", 1);
    terminal.keys("\x04");
    assert_eq!(terminal.exit_code(), 0);

    let file: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(file["model"], HAIKU_35);
    let messages = file["conversation"]["messages"].as_array().unwrap();
    assert!(messages.len() >= 10, "{file}");
    let history = std::fs::read_to_string(context.pincer_home().join("chat_history")).unwrap();
    assert!(history.contains("first edited"), "{history}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(context.pincer_home().join("chat_history"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The next session has the history, and --resume goes on with the saved conversation.
    let count = messages.len();
    let terminal = Terminal::start(&context, &twin, &["--resume", saved.to_str().unwrap()]);
    terminal.wait_for(&format!("resumed {count} messages"), 1);
    terminal.wait_for(&format!("chatting with {HAIKU_35}"), 1);
    terminal.keys("\x1b[A");
    terminal.wait_for("> /save talk.json", 1);
    terminal.keys("\x15after resume\r");
    answered(&terminal, 1);
    assert_eq!(last_user_text(&twin), "after resume");
    assert_eq!(last_message_count(&twin), count + 1);
    terminal.keys("/exit\r");
    assert_eq!(terminal.exit_code(), 0);
}

#[test]
fn a_file_that_is_not_a_saved_conversation_is_refused_with_its_place() {
    let context = TestContext::new();
    config(&context);
    let bad = context.home().join("bad.json");
    std::fs::write(&bad, "{\n  \"pincerChat\": 1,\n  \"model\": 3\n}\n").unwrap();
    let output = context
        .pincer(&["chat", "--resume", bad.to_str().unwrap(), "-m", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.json:3:"), "{stderr}");
}

#[test]
fn piped_sessions_continue_lines_ending_in_a_backslash() {
    let context = TestContext::new();
    config(&context);
    let twin = TwinGuard::start();
    let mut command = context.pincer(&["chat", "-i"]);
    twin.configure(&mut command);
    let output = crate::common::output_with_stdin(&mut command, b"second \\\ncontinued\nthird\n");
    assert!(output.status.success(), "{output:?}");
    let received = twin.received();
    assert_eq!(received.len(), 2, "two messages");
    assert_eq!(
        received[0]["messages"][0]["content"][0]["text"],
        "second \ncontinued"
    );
}
