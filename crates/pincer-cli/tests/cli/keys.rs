//! The managed-key flow through the real binaries: `pincer keys` and `pincer usage` on the
//! default SQLite file, and `pincer gateway` replicas sharing a real PostgreSQL server (limits,
//! budgets and revocations hold across them), including the database going down mid-run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pincer_core::env::EnvVars;

use crate::common::{GatewayProcess, TestContext, TwinGuard, http};

const ADMIN: &str = "admin-token-0123456789abcdef";
const NOVA: &str = "amazon-bedrock/us.amazon.nova-micro-v1:0";

fn config_with_token() -> String {
    format!(
        "{{ models: {{ bedrockDiscovery: {{ enabled: true }} }}, gateway: {{ auth: {{ token: \"{ADMIN}\" }} }} }}"
    )
}

fn chat_body() -> String {
    format!(
        r#"{{"model": "{NOVA}", "messages": [{{"role": "user", "content": "a keyed hello"}}]}}"#
    )
}

/// The status of a chat request with `token`.
fn chat(addr: &str, token: &str) -> u16 {
    let response = http(
        addr,
        "POST",
        "/v1/chat/completions",
        Some(token),
        &chat_body(),
    );
    response[9..12].parse().unwrap()
}

/// Filters for what changes between runs: secrets, ids and dates.
fn key_filters(context: &TestContext) -> Vec<(String, String)> {
    let mut filters = context.filters();
    filters.push((r"pincer-sk-[0-9a-f]{48}".to_owned(), "[SECRET]".to_owned()));
    filters.push((r"pincer-sk-[0-9a-f]{6}".to_owned(), "[PREFIX]".to_owned()));
    filters.push((r"key_[0-9a-f]{16}".to_owned(), "[ID]".to_owned()));
    filters.push((
        r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?".to_owned(),
        "[DATE]".to_owned(),
    ));
    filters
}

macro_rules! keys_snapshot {
    ($context:expr, $command:expr) => {{
        let filters = key_filters(&$context);
        let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let rendered = crate::common::run_for_snapshot(&mut $command);
        insta::with_settings!({ filters => filters, prepend_module_to_snapshot => true, omit_expression => true }, {
            insta::assert_snapshot!(rendered);
        });
    }};
}

fn stdout(context: &TestContext, args: &[&str]) -> String {
    let output = context.pincer(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn keys_and_usage_on_the_default_sqlite_file() {
    let context = TestContext::new();
    context.write_config(&config_with_token());
    keys_snapshot!(
        context,
        context.pincer(&[
            "keys",
            "create",
            "--name",
            "team-a",
            "--models",
            "*nova*",
            "*claude-haiku*",
            "--rpm",
            "60",
            "--tpm",
            "100000",
            "--budget",
            "5",
            "--period",
            "day",
            "--expires",
            "30d",
        ])
    );
    assert!(context.pincer_home().join("pincer.db").exists());
    keys_snapshot!(
        context,
        context.pincer(&["keys", "create", "--name", "team-a"])
    );
    keys_snapshot!(
        context,
        context.pincer(&["keys", "create", "--name", "x", "--expires", "soon"])
    );
    let no_period = context
        .pincer(&["keys", "create", "--name", "x", "--budget", "5"])
        .output()
        .unwrap();
    assert_eq!(no_period.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_period.stderr).contains("--period"));
    keys_snapshot!(context, context.pincer(&["keys", "list"]));
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&context, &["keys", "list", "--json"])).unwrap();
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["keys"][0]["budget_usd"], 5.0);
    assert_eq!(
        listed["keys"][0]["models"],
        serde_json::json!(["*nova*", "*claude-haiku*"])
    );
    assert!(!listed.to_string().contains("secret"));

    // The key at the gateway, then its spend.
    let twin = TwinGuard::start();
    let created: serde_json::Value = serde_json::from_str(&stdout(
        &context,
        &["keys", "create", "--name", "app-b", "--json"],
    ))
    .unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let gateway = GatewayProcess::start(&context, &twin, &[]);
    assert_eq!(chat(&gateway.addr, &secret), 200);
    assert_eq!(chat(&gateway.addr, &secret), 200);
    assert_eq!(chat(&gateway.addr, ADMIN), 200);

    // Rotation: the old secret is refused at once, the new one works.
    let rotated = stdout(&context, &["keys", "rotate", "app-b"]);
    let rotated = rotated.trim();
    assert!(rotated.starts_with("pincer-sk-") && rotated != secret);
    assert_eq!(chat(&gateway.addr, &secret), 401);
    assert_eq!(chat(&gateway.addr, rotated), 200);
    keys_snapshot!(context, context.pincer(&["keys", "revoke", "app-b"]));
    assert_eq!(chat(&gateway.addr, rotated), 401);
    keys_snapshot!(context, context.pincer(&["keys", "revoke", "app-b"]));
    let output = gateway.terminate();
    let logs = String::from_utf8_lossy(&output.stderr);
    for hidden in [secret.as_str(), rotated, ADMIN] {
        assert!(
            !logs.contains(hidden),
            "a secret in the gateway's log: {logs}"
        );
    }
    assert!(logs.contains("keys and spend in sqlite://"), "{logs}");

    // `pincer usage`: the table with its bars, and JSON. The gateway wrote every row before it
    // exited.
    let mut usage = context.pincer(&["usage"]);
    let filters = {
        let mut f = key_filters(&context);
        f.push((r"\$0\.0\d+".to_owned(), "$[COST]".to_owned()));
        f.push((r"█+[▏▎▍▌▋▊▉]?".to_owned(), "[BAR]".to_owned()));
        f.push((r"(\S) {2,}".to_owned(), "$1  ".to_owned()));
        f
    };
    let filters: Vec<(&str, &str)> = filters
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let rendered = crate::common::run_for_snapshot(&mut usage);
    insta::with_settings!({ filters => filters, prepend_module_to_snapshot => true, omit_expression => true }, {
        insta::assert_snapshot!(rendered);
    });
    let by_model: serde_json::Value =
        serde_json::from_str(&stdout(&context, &["usage", "--by", "model", "--json"])).unwrap();
    let rows = by_model["rows"].as_array().unwrap();
    let nova = rows.iter().find(|r| r["model"] == NOVA).unwrap();
    assert_eq!(nova["requests"], 4, "{by_model}");
    assert!(nova["cost_usd"].as_f64().unwrap() > 0.0);
    let by_day: serde_json::Value = serde_json::from_str(&stdout(
        &context,
        &["usage", "--by", "day", "--json", "--since", "1d"],
    ))
    .unwrap();
    assert_eq!(by_day["rows"].as_array().unwrap().len(), 1);
    keys_snapshot!(context, context.pincer(&["usage", "--since", "yesterday"]));
}

/// An empty database on the test PostgreSQL server, or `None` outside `scripts/test` (a failure
/// under `CI=true`).
#[allow(clippy::print_stderr)] // the skip is said where the test output shows it
fn postgres_database() -> Option<String> {
    let Some(admin) = EnvVars::get_string("PINCER_TEST_POSTGRES_URL") else {
        assert!(
            !EnvVars::is_true(EnvVars::CI),
            "PINCER_TEST_POSTGRES_URL is unset: scripts/test starts PostgreSQL"
        );
        eprintln!("skipped: PINCER_TEST_POSTGRES_URL is unset (scripts/test sets it)");
        return None;
    };
    let name = format!(
        "pincer_cli_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let created = std::process::Command::new("psql")
        .args([
            admin.as_str(),
            "-q",
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .status()
        .unwrap();
    assert!(created.success());
    let (base, _) = admin.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}

/// Polls `check` for up to 10 s.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < Duration::from_secs(10), "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_replicas_share_limits_budgets_and_revocations_through_postgres() {
    let Some(database) = postgres_database() else {
        return;
    };
    let context = TestContext::new();
    context.write_config(&config_with_token());
    let env = [(EnvVars::PINCER_DATABASE_URL, database.as_str())];
    let create = |args: &[&str]| {
        let mut command = context.pincer(&[&["keys", "create", "--json"], args].concat());
        command.envs(env);
        let output = command.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let made: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        made["secret"].as_str().unwrap().to_owned()
    };
    let limited = create(&["--name", "limited", "--rpm", "4"]);
    let thrifty = create(&[
        "--name", "thrifty", "--budget", "0.000001", "--period", "month",
    ]);
    let doomed = create(&["--name", "doomed"]);
    let twin = TwinGuard::start();
    let a = GatewayProcess::start(&context, &twin, &env);
    let b = GatewayProcess::start(&context, &twin, &env);

    // 4 requests a minute in all: two on each replica, then both refuse.
    assert_eq!(
        [
            chat(&a.addr, &limited),
            chat(&b.addr, &limited),
            chat(&a.addr, &limited),
            chat(&b.addr, &limited)
        ],
        [200; 4]
    );
    assert_eq!(chat(&a.addr, &limited), 429);
    assert_eq!(chat(&b.addr, &limited), 429);

    // A budget spent through one replica is spent on the other.
    assert_eq!(chat(&a.addr, &thrifty), 200);
    eventually("replica B sees the budget spent on A", || {
        chat(&b.addr, &thrifty) == 429
    });
    let refusal = http(
        &b.addr,
        "POST",
        "/v1/chat/completions",
        Some(&thrifty),
        &chat_body(),
    );
    assert!(
        refusal.contains("insufficient_quota") && refusal.contains("per month is spent"),
        "{refusal}"
    );

    // A revoke is seen by both at once.
    assert_eq!((chat(&a.addr, &doomed), chat(&b.addr, &doomed)), (200, 200));
    let mut revoke = context.pincer(&["keys", "revoke", "doomed"]);
    revoke.envs(env);
    assert!(revoke.status().unwrap().success());
    assert_eq!((chat(&a.addr, &doomed), chat(&b.addr, &doomed)), (401, 401));

    let (a, b) = (a.terminate(), b.terminate());
    assert!(a.status.success() && b.status.success());
    let mut usage = context.pincer(&["usage", "--json"]);
    usage.envs(env);
    let usage: serde_json::Value = serde_json::from_slice(&usage.output().unwrap().stdout).unwrap();
    let requests = |name: &str| {
        usage["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == name)
            .map_or(0, |r| r["requests"].as_u64().unwrap())
    };
    // Every request of both replicas is in the one database, refused ones included.
    assert_eq!(requests("limited"), 6, "{usage}");
    assert_eq!(requests("doomed"), 2, "{usage}");
}

/// A PostgreSQL server of this test's own (`scripts/postgres`), stopped and removed on drop.
struct OwnPostgres {
    dir: PathBuf,
    url: String,
}

impl OwnPostgres {
    fn script() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres")
    }

    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("pincer-pg-{}", std::process::id()));
        let output = std::process::Command::new("bash")
            .arg(Self::script())
            .arg("start")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let url = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        Self { dir, url }
    }

    fn run(&self, command: &str) {
        let status = std::process::Command::new("bash")
            .arg(Self::script())
            .arg(command)
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(status.success(), "scripts/postgres {command}");
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(Self::script())
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

#[test]
fn a_database_down_mid_run_refuses_keyed_requests_and_loses_no_spend() {
    if postgres_database().is_none() {
        return;
    }
    let postgres = OwnPostgres::start();
    let context = TestContext::new();
    context.write_config(&config_with_token());
    let env = [(EnvVars::PINCER_DATABASE_URL, postgres.url.as_str())];
    let mut create = context.pincer(&["keys", "create", "--name", "steady"]);
    create.envs(env);
    let output = create.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let secret = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let twin = TwinGuard::start();
    let gateway = GatewayProcess::start(&context, &twin, &env);
    assert_eq!(chat(&gateway.addr, &secret), 200);

    postgres.run("down");
    // A keyed request cannot be metered: refused with a clear 503, never served unmetered.
    let refused = http(
        &gateway.addr,
        "POST",
        "/v1/chat/completions",
        Some(&secret),
        &chat_body(),
    );
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("key database is unavailable"), "{refused}");
    assert!(
        refused.to_lowercase().contains("retry-after: 2"),
        "{refused}"
    );
    // The admin token needs no key lookup; its spend waits for the database.
    assert_eq!(chat(&gateway.addr, ADMIN), 200);

    postgres.run("up");
    eventually("keyed requests are served again", || {
        chat(&gateway.addr, &secret) == 200
    });
    let output = gateway.terminate();
    assert!(output.status.success(), "{output:?}");
    let mut usage = context.pincer(&["usage", "--json"]);
    usage.envs(env);
    let usage: serde_json::Value = serde_json::from_slice(&usage.output().unwrap().stdout).unwrap();
    let rows = usage["rows"].as_array().unwrap();
    let requests = |name: &str| {
        rows.iter()
            .find(|r| r["key"] == name)
            .map_or(0, |r| r["requests"].as_u64().unwrap())
    };
    assert_eq!(
        requests("(admin)"),
        1,
        "the admin request made while the database was down: {usage}"
    );
    assert!(requests("steady") >= 2, "{usage}");
}
