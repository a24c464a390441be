//! `pincer usage [--by key|model|day] [--since WHEN] [--json]`: requests, tokens and cost
//! recorded by the gateway, grouped, with a bar per group (its share of the largest) so the
//! big spenders stand out. Costs of models with an unknown price are not counted as zero: the
//! requests that had them are counted and marked.

use anyhow::Result;
use pincer_config::ConfigLocation;
use pincer_store::period::{parse_when, rfc3339};
use pincer_store::spend::usd;
use pincer_store::{GroupBy, UsageRow, now_millis};
use serde_json::json;

use crate::cli::{UsageArgs, UsageBy};
use crate::commands::database::with_store;
use crate::commands::models::table;
use crate::exit::{ExitStatus, UsageError};
use crate::printer::Printer;

/// The widest bar, in characters.
const BAR: usize = 20;

/// Prints the report.
pub fn run(location: &ConfigLocation, args: &UsageArgs, printer: &Printer) -> Result<ExitStatus> {
    let since = parse_when(&args.since, now_millis(), false)
        .map_err(|e| UsageError(format!("--since: {e}")))?;
    let by = match args.by {
        UsageBy::Key => GroupBy::Key,
        UsageBy::Model => GroupBy::Model,
        UsageBy::Day => GroupBy::Day,
    };
    let rows = with_store(location, async |store| Ok(store.usage(by, since).await?))?;
    let by_name = match by {
        GroupBy::Key => "key",
        GroupBy::Model => "model",
        GroupBy::Day => "day",
    };
    if args.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    by_name: r.group,
                    "requests": r.requests,
                    "failed": r.failed,
                    "input_tokens": r.input_tokens,
                    "output_tokens": r.output_tokens,
                    "cache_read_tokens": r.cache_read_tokens,
                    "cache_write_tokens": r.cache_write_tokens,
                    "cost_usd": r.cost_nanos as f64 / 1e9,
                    "unpriced_requests": r.unpriced,
                })
            })
            .collect();
        printer.outln(&serde_json::to_string_pretty(
            &json!({"since": rfc3339(since), "by": by_name, "rows": rows}),
        )?)?;
        return Ok(ExitStatus::Success);
    }
    if rows.is_empty() {
        printer.outln(&format!("no requests recorded since {}", rfc3339(since)))?;
        return Ok(ExitStatus::Success);
    }
    printer.out(&render(&rows, by_name))?;
    let unpriced: u64 = rows.iter().map(|r| r.unpriced).sum();
    printer.status(&format!(
        "since {} · bars: share of the largest cost",
        rfc3339(since)
    ));
    if unpriced > 0 {
        printer.status(&format!(
            "+? marks {unpriced} requests to models whose price is unknown: their cost is not in Cost"
        ));
    }
    Ok(ExitStatus::Success)
}

/// The table, with a total row when there is more than one group.
fn render(rows: &[UsageRow], by: &str) -> String {
    // Bars follow cost; when nothing had a known cost, they follow requests.
    let measure = |r: &UsageRow| {
        if rows.iter().any(|r| r.cost_nanos > 0) {
            r.cost_nanos as f64
        } else {
            r.requests as f64
        }
    };
    let largest = rows.iter().map(measure).fold(0.0, f64::max);
    let mut cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| line(r.group.clone(), r, bar(measure(r), largest)))
        .collect();
    if rows.len() > 1 {
        let total = rows.iter().fold(
            UsageRow {
                group: "total".to_owned(),
                requests: 0,
                failed: 0,
                input_tokens: 0,
                output_tokens: 0,
                cache_read_tokens: 0,
                cache_write_tokens: 0,
                cost_nanos: 0,
                unpriced: 0,
            },
            |mut t, r| {
                t.requests += r.requests;
                t.failed += r.failed;
                t.input_tokens += r.input_tokens;
                t.output_tokens += r.output_tokens;
                t.cache_read_tokens += r.cache_read_tokens;
                t.cache_write_tokens += r.cache_write_tokens;
                t.cost_nanos += r.cost_nanos;
                t.unpriced += r.unpriced;
                t
            },
        );
        cells.push(line("total".to_owned(), &total, String::new()));
    }
    let heading = match by {
        "key" => "Key",
        "model" => "Model",
        _ => "Day",
    };
    table(
        &[
            heading,
            "Requests",
            "Failed",
            "In",
            "Out",
            "Cache r/w",
            "Cost",
            "",
        ],
        &cells,
    )
}

fn line(group: String, r: &UsageRow, bar: String) -> Vec<String> {
    let mut cost = usd(r.cost_nanos);
    if r.unpriced > 0 {
        cost.push_str(" +?");
    }
    vec![
        group,
        r.requests.to_string(),
        r.failed.to_string(),
        r.input_tokens.to_string(),
        r.output_tokens.to_string(),
        format!("{}/{}", r.cache_read_tokens, r.cache_write_tokens),
        cost,
        bar,
    ]
}

/// A bar of `value` against `largest`, in eighths of a character.
fn bar(value: f64, largest: f64) -> String {
    if largest <= 0.0 || value <= 0.0 {
        return String::new();
    }
    let eighths = ((value / largest) * (BAR * 8) as f64).round().max(1.0) as usize;
    let mut out = "█".repeat(eighths / 8);
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    out.push_str(PARTS[eighths % 8]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_shares_of_the_largest() {
        assert_eq!(bar(1.0, 1.0), "█".repeat(BAR));
        assert_eq!(bar(0.5, 1.0), "█".repeat(BAR / 2));
        assert_eq!(bar(1.0, 160.0), "▏");
        assert_eq!(bar(0.0, 1.0), "");
    }
}
