//! The test context: a temporary home folder, and a `pincer` command pointed at it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pincer_core::env::EnvVars;

/// A temporary home with `PINCER_HOME` inside it.
pub struct TestContext {
    pub dir: tempfile::TempDir,
}

impl TestContext {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn pincer_home(&self) -> PathBuf {
        self.home().join(".pincer")
    }

    pub fn config_path(&self) -> PathBuf {
        self.pincer_home().join("config.json5")
    }

    /// `pincer` with a clean environment: only this context's home and PATH.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pincer"));
        command
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env(EnvVars::HOME, self.home())
            .env(EnvVars::PINCER_HOME, self.pincer_home())
            .env("NO_COLOR", "1")
            // Never let the AWS SDK probe the real instance-metadata address or read real AWS
            // files: tests that exercise IMDS point it at the twin on loopback.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.home().join("aws-config-absent"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.home().join("aws-credentials-absent"),
            );
        command
    }

    pub fn pincer(&self, args: &[&str]) -> Command {
        let mut command = self.command();
        command.args(args);
        command
    }

    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.pincer_home()).unwrap();
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn read_config(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap()
    }

    /// Insta filters replacing this context's paths, times and costs with stable placeholders.
    pub fn filters(&self) -> Vec<(String, String)> {
        let home = self.home().to_string_lossy().into_owned();
        vec![
            (regex_escape(&home), "[HOME]".to_owned()),
            (r"\$\d+\.\d+".to_owned(), "$[COST]".to_owned()),
            (
                r"first token \d+ ms".to_owned(),
                "first token [MS] ms".to_owned(),
            ),
            (r"\d+\.\d+ s\b".to_owned(), "[SECS] s".to_owned()),
            (
                r#""(firstTokenMs|elapsedMs)":\d+"#.to_owned(),
                r#""$1":"[MS]""#.to_owned(),
            ),
            (
                r#""costUsd":[0-9.e-]+"#.to_owned(),
                r#""costUsd":"[COST]""#.to_owned(),
            ),
            (
                r"127\.0\.0\.1:\d+".to_owned(),
                "127.0.0.1:[PORT]".to_owned(),
            ),
        ]
    }
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = "\\.+*?()|[]{}^$#&-~".contains(c);
            escape.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

/// A Bedrock twin running on its own runtime for the duration of a test.
pub struct TwinGuard {
    runtime: tokio::runtime::Runtime,
    twin: Option<bedrock_twin::RunningTwin>,
    url_text: String,
}

impl TwinGuard {
    pub fn start() -> Self {
        Self::start_with(bedrock_twin::TwinConfig::default())
    }

    pub fn start_with(config: bedrock_twin::TwinConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let twin = runtime.block_on(bedrock_twin::Twin::start(config)).unwrap();
        let url_text = twin.url().to_owned();
        Self {
            runtime,
            twin: Some(twin),
            url_text,
        }
    }

    pub fn stream_counts(&self) -> bedrock_twin::state::StreamCounts {
        self.twin.as_ref().unwrap().stream_counts()
    }

    /// The last request bodies Bedrock received, oldest first.
    pub fn received(&self) -> Vec<serde_json::Value> {
        self.twin.as_ref().unwrap().received()
    }

    /// Makes discovery (the control plane) fail with `fault` from now on, or recover (`None`).
    pub fn set_control_fault(&self, fault: Option<bedrock_twin::Fault>) {
        self.twin.as_ref().unwrap().set_control_fault(fault);
    }

    pub fn imds_url(&self) -> String {
        self.twin.as_ref().unwrap().imds_url().unwrap().to_owned()
    }

    /// Stops the twin now (later calls see a closed port).
    pub fn stop(&mut self) {
        if let Some(twin) = self.twin.take() {
            self.runtime.block_on(twin.stop());
        }
    }

    pub fn url(&self) -> String {
        self.url_text.clone()
    }

    /// Points `command` at the twin with its default keys, through the SDK's standard variables.
    pub fn configure(&self, command: &mut Command) {
        command
            .env("AWS_ACCESS_KEY_ID", bedrock_twin::DEFAULT_ACCESS_KEY_ID)
            .env(
                "AWS_SECRET_ACCESS_KEY",
                bedrock_twin::DEFAULT_SECRET_ACCESS_KEY,
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", self.url())
            .env("AWS_ENDPOINT_URL_BEDROCK", self.url())
            .env("AWS_EC2_METADATA_DISABLED", "true");
    }
}

impl Drop for TwinGuard {
    fn drop(&mut self) {
        if let Some(twin) = self.twin.take() {
            self.runtime.block_on(twin.stop());
        }
    }
}

/// Runs `command` with `input` on its stdin and collects its output.
pub fn output_with_stdin(command: &mut Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a command and renders its exit code, stdout and stderr for a snapshot.
pub fn run_for_snapshot(command: &mut Command) -> String {
    let output = command.output().unwrap();
    format!(
        "success: {}\nexit_code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}",
        output.status.success(),
        output
            .status
            .code()
            .map_or("signal".to_owned(), |c| c.to_string()),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    )
}

/// Snapshots a command's exit code, stdout and stderr, with the context's paths filtered.
#[macro_export]
macro_rules! pincer_snapshot {
    ($context:expr, $command:expr, tables) => {{
        // Tables: latencies vary, and with them column widths; compare cells, not alignment.
        let mut filters = $context.filters();
        filters.push((r"\d+ ms\b".to_owned(), "[MS] ms".to_owned()));
        filters.push((r"\d+ s old".to_owned(), "[AGE] s old".to_owned()));
        filters.push((r"(\S) {2,}".to_owned(), "$1  ".to_owned()));
        let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let rendered = $crate::common::run_for_snapshot(&mut $command);
        insta::with_settings!({ filters => filters, prepend_module_to_snapshot => true, omit_expression => true }, {
            insta::assert_snapshot!(rendered);
        });
    }};
    ($context:expr, $command:expr) => {{
        let filters = $context.filters();
        let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let rendered = $crate::common::run_for_snapshot(&mut $command);
        insta::with_settings!({ filters => filters, prepend_module_to_snapshot => true, omit_expression => true }, {
            insta::assert_snapshot!(rendered);
        });
    }};
}

/// The seed document's provider block, as a user would paste it, with comments added.
pub const SEED_WITH_COMMENTS: &str = r#"// Pincer config: pasted from the docs.
{
  models: {
    providers: {
      "amazon-bedrock": {
        baseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com", // us-east-1
        api: "bedrock-converse-stream",
        auth: "aws-sdk",
        /* the one model we use */
        models: [
          {
            id: "us.anthropic.claude-opus-4-6-v1:0",
            name: "Claude Opus 4.6 (Bedrock)",
            reasoning: true,
            input: ["text", "image"],
            cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
            contextWindow: 200000,
            maxTokens: 8192,
          },
        ],
      },
    },
  },
  agents: {
    defaults: {
      model: { primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0" },
    },
  },
}
"#;

/// Sends one HTTP/1.1 request over a fresh connection and returns the raw response.
pub fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// A `pincer gateway` child process; killed on drop if a test did not stop it. Its stderr is
/// read as it comes (a verbose log would otherwise fill the pipe and stall the gateway).
pub struct GatewayProcess {
    child: Option<std::process::Child>,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
    pub addr: String,
}

impl GatewayProcess {
    pub fn start(context: &TestContext, twin: &TwinGuard, envs: &[(&str, &str)]) -> Self {
        let mut command = context.pincer(&["gateway", "--port", "0"]);
        twin.configure(&mut command);
        command.envs(envs.iter().copied());
        Self::spawn(command)
    }

    /// Spawns `command` (a `pincer gateway` command) and waits until it listens.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Drain stderr from the start: a verbose log written before the address would fill
        // the pipe, and the gateway would never print the address.
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut all = Vec::new();
            let _ = std::io::Read::read_to_end(&mut err, &mut all);
            all
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("pincer gateway listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Self {
            child: Some(child),
            stderr: Some(stderr),
            addr,
        }
    }

    /// Sends SIGTERM and returns the output (stderr holds the logs).
    pub fn terminate(mut self) -> std::process::Output {
        let child = self.child.take().unwrap();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut output = child.wait_with_output().unwrap();
        if let Some(stderr) = self.stderr.take() {
            output.stderr = stderr.join().unwrap();
        }
        output
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The folder of recorded Bedrock responses (`$PINCER_VECTORS`, else `../shared/vectors`);
/// `None` (the test skips) when it is missing, a failure under `CI=true`.
#[allow(clippy::print_stderr)] // the skip is said where the test output shows it
pub fn vectors_dir() -> Option<PathBuf> {
    let dir = EnvVars::get_string(EnvVars::PINCER_VECTORS)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"));
    if dir.join("INDEX.md").is_file() {
        return Some(dir);
    }
    assert!(
        !EnvVars::is_true(EnvVars::CI),
        "the Bedrock vectors are missing at {}",
        dir.display()
    );
    eprintln!(
        "skipping: no vectors at {} (set PINCER_VECTORS)",
        dir.display()
    );
    None
}

/// The February-2026 `ListFoundationModels` capture (135 summaries, 2026 shape).
pub const LISTING_2026: &str = "ruby_llm/models_refresh_models_output_structure_returns_models_with_consistent_structure@a8f66182.2.response.json";
