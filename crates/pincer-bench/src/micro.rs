//! Scenario 5, the hot path: the criterion micro-benchmarks (`benches/hot_path.rs`, run by
//! `bench/run.sh` before this program) read back from criterion's own result files.

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use crate::report::Report;

fn read(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Writes the table of every benchmark under `criterion_dir`.
pub(crate) fn report(criterion_dir: &Path, report: &mut Report) -> Result<()> {
    report.heading("5. Hot path micro-benchmarks (criterion)");
    let mut rows = Vec::new();
    let mut stack = vec![criterion_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() || path.file_name().is_some_and(|n| n == "report") {
                continue;
            }
            let (Some(estimates), Some(benchmark)) = (
                read(&path.join("new/estimates.json")),
                read(&path.join("new/benchmark.json")),
            ) else {
                stack.push(path);
                continue;
            };
            let median_ns = estimates["median"]["point_estimate"]
                .as_f64()
                .unwrap_or(0.0);
            let name = benchmark["full_id"].as_str().unwrap_or("?").to_owned();
            let throughput = benchmark["throughput"]["Elements"]
                .as_f64()
                .filter(|_| median_ns > 0.0)
                .map_or("-".to_owned(), |n| {
                    format!("{:.2} M/s", n / median_ns * 1e3)
                });
            // Criterion's samples: each one times a batch of iterations.
            let samples = read(&path.join("new/sample.json"))
                .and_then(|s| s["times"].as_array().map(Vec::len))
                .map_or("?".to_owned(), |n| n.to_string());
            let iterations = read(&path.join("new/sample.json"))
                .and_then(|s| {
                    s["iters"]
                        .as_array()
                        .map(|i| i.iter().filter_map(serde_json::Value::as_f64).sum::<f64>())
                })
                .map_or("?".to_owned(), |n| format!("{n:.0}"));
            rows.push(vec![
                name,
                samples,
                iterations,
                format!("{:.2}", median_ns / 1000.0),
                throughput,
            ]);
        }
    }
    if rows.is_empty() {
        report.note("No criterion results: run `cargo bench -p pincer-bench` (bench/run.sh does).");
        return Ok(());
    }
    rows.sort();
    report.note(
        "Criterion's median per iteration, µs, over its samples (each sample times a batch of iterations); throughput in elements (stream events) per second.",
    );
    report.table(
        &[
            "benchmark",
            "samples",
            "iterations",
            "median µs",
            "throughput",
        ],
        &rows,
    );
    Ok(())
}
