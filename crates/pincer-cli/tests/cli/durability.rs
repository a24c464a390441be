//! Concurrent writers never lose an update, and a writer killed at any moment leaves the old
//! file or the new one, never a torn one.

use std::process::Stdio;

use crate::common::TestContext;

#[test]
fn twenty_parallel_sets_all_land() {
    let context = TestContext::new();
    context.write_config("// shared by twenty writers\n{\n  models: { providers: {} },\n}\n");
    let children: Vec<_> = (0..20)
        .map(|i| {
            context
                .pincer(&[
                    "config",
                    "set",
                    &format!("models.providers.p{i}.baseUrl"),
                    &format!("http://127.0.0.1:{}/v1", 9000 + i),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = context.read_config();
    assert!(text.starts_with("// shared by twenty writers\n"));
    let options = pincer_config::validate::parse(&text, "config").unwrap();
    let mut ids: Vec<_> = options
        .providers()
        .map(|(id, p)| (id.to_owned(), p.base_url.clone().unwrap()))
        .collect();
    ids.sort();
    let mut expected: Vec<_> = (0..20)
        .map(|i| (format!("p{i}"), format!("http://127.0.0.1:{}/v1", 9000 + i)))
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
}

#[test]
fn killed_writers_leave_old_or_new_file() {
    use std::os::unix::process::ExitStatusExt;

    let context = TestContext::new();
    // A large file makes each write take long enough for kills to land mid-way.
    let padding: String = (0..20_000)
        .map(|i| format!("// padding line {i}\n"))
        .collect();
    let original = format!("// keep me\n{padding}{{\n  gateway: {{ port: 1 }},\n}}\n");
    context.write_config(&original);
    // How long one uninterrupted write takes here; kills then land from before the lock to
    // after the rename, spread across that time.
    let started = std::time::Instant::now();
    let full = context
        .pincer(&["config", "set", "gateway.port", "1"])
        .status()
        .unwrap();
    assert!(full.success());
    let full_write = started.elapsed();
    let mut killed = 0;
    let mut changed = 0;
    let mut previous_port = 1u32;
    for round in 0..200u32 {
        let port = 1000 + round;
        let mut child = context
            .pincer(&["config", "set", "gateway.port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full_write.mul_f64(f64::from(round % 13) / 10.0));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.signal().is_some() {
            killed += 1;
        }
        let text = context.read_config();
        let options = pincer_config::validate::parse(&text, "config")
            .unwrap_or_else(|err| panic!("round {round}: torn config: {err}"));
        let now = u32::from(options.gateway().port());
        assert!(
            now == previous_port || now == port,
            "round {round}: port {now}, expected {previous_port} or {port}"
        );
        assert!(
            text.starts_with("// keep me\n// padding line 0\n"),
            "round {round}: comments lost"
        );
        assert!(
            text.contains("// padding line 19999\n"),
            "round {round}: comments lost"
        );
        if now != previous_port {
            changed += 1;
        }
        previous_port = now;
    }
    eprintln!("{killed} of 200 writers killed, {changed} changes landed");
    assert!(killed > 0, "no writer was killed while running");
    assert!(
        changed > 0,
        "no writer got to write: the test never let one finish"
    );
    // The next writer cleans up whatever the killed ones left behind.
    let output = context
        .pincer(&["config", "set", "gateway.port", "2000"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let leftovers: Vec<_> = std::fs::read_dir(context.pincer_home())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
