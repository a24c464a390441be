//! `pincer models list [--json|--plain] [--provider ID] [--all] [--refresh]`.

use anyhow::Result;
use pincer_config::{Config, ConfigLocation};
use pincer_core::Modality;
use pincer_runtime::catalog::{CatalogEntry, Source};
use serde_json::json;

use super::{load_catalog, table};
use crate::cli::ModelsListArgs;
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Lists the catalog.
pub fn run(
    location: &ConfigLocation,
    args: &ModelsListArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let config = Config::load(&location.path)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (_, catalog) =
        runtime.block_on(load_catalog(&config, &location.path, args.refresh, printer))?;
    let entries: Vec<&CatalogEntry> = catalog
        .entries
        .iter()
        .filter(|e| args.all || e.hidden.is_none())
        .filter(|e| args.provider.as_deref().is_none_or(|p| e.provider == p))
        .collect();
    if args.json {
        printer.outln(&serde_json::to_string_pretty(
            &json!({"count": entries.len(), "models": entries}),
        )?)?;
    } else if args.plain {
        let mut out = String::new();
        for entry in &entries {
            out.push_str(&entry.key);
            out.push('\n');
        }
        printer.out(&out)?;
    } else if entries.is_empty() {
        printer.outln(&format!("no models ({})", catalog.discovery.reason))?;
    } else {
        printer.out(&render_table(&entries, args.all))?;
        let mut notes = vec![
            "In: T text, I image, D document, V video, A audio · prices in USD per 1M tokens, ? unknown"
                .to_owned(),
        ];
        if entries.iter().any(|e| e.default) {
            notes.push("* default model (agents.defaults.model.primary)".to_owned());
        }
        for note in notes {
            printer.status(&note);
        }
    }
    Ok(ExitStatus::Success)
}

/// Widest model id shown in the table before it is shortened (the table fits 100 columns).
const ID_WIDTH: usize = 46;

/// A token count in a few characters: `200k`, `1M`, `163.8k`, `8191`.
fn tokens(n: u32) -> String {
    let short = |value: f64, unit: &str| {
        let text = format!("{value:.1}");
        format!("{}{unit}", text.trim_end_matches(".0"))
    };
    if n >= 1_000_000 {
        short(f64::from(n) / 1e6, "M")
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else if n >= 10_000 {
        short(f64::from(n) / 1e3, "k")
    } else {
        n.to_string()
    }
}

/// A price, or `?` when nobody published one: two decimals (three under 0.1), more when the
/// published price has them ($0.135 is not shown as 0.14).
fn price(value: Option<f64>) -> String {
    match value {
        None => "?".to_owned(),
        Some(0.0) => "0".to_owned(),
        Some(v) => {
            let least = if v < 0.1 { 3 } else { 2 };
            (least..=6)
                .map(|decimals| format!("{v:.decimals$}"))
                .find(|text| {
                    text.parse::<f64>()
                        .is_ok_and(|shown| (shown - v).abs() < 1e-9)
                })
                .unwrap_or_else(|| format!("{v:.6}"))
        }
    }
}

/// `id` fitted to [`ID_WIDTH`] characters: an ARN keeps its resource id (`arn:…/abc123`), any
/// other id its start and end. The JSON output always has the whole id.
fn short_id(id: &str) -> String {
    let chars = id.chars().count();
    if chars <= ID_WIDTH {
        return id.to_owned();
    }
    if id.starts_with("arn:")
        && let Some((_, resource)) = id.rsplit_once('/')
        && resource.chars().count() + 6 <= ID_WIDTH
    {
        return format!("arn:…/{resource}");
    }
    let keep = (ID_WIDTH - 1) / 2;
    let head: String = id.chars().take(keep).collect();
    let tail: String = id.chars().skip(chars - (ID_WIDTH - 1 - keep)).collect();
    format!("{head}…{tail}")
}

fn input(entry: &CatalogEntry) -> String {
    entry
        .input
        .iter()
        .map(|m| match m {
            Modality::Text => 'T',
            Modality::Image => 'I',
            Modality::Document => 'D',
            Modality::Video => 'V',
            Modality::Audio => 'A',
        })
        .collect()
}

/// The table, one section per provider (the id column then needs no provider prefix).
fn render_table(entries: &[&CatalogEntry], all: bool) -> String {
    let mut header = vec![
        "Model",
        "In",
        "Context",
        "Max out",
        "Reasoning",
        "In $",
        "Out $",
    ];
    if all {
        header.push("Hidden");
    }
    let mut out = String::new();
    let mut providers: Vec<&str> = entries.iter().map(|e| e.provider.as_str()).collect();
    providers.dedup();
    let mut seen = std::collections::HashSet::new();
    for provider in providers.into_iter().filter(|p| seen.insert(*p)) {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .filter(|e| e.provider == provider)
            .map(|e| row(e, all))
            .collect();
        let sources: std::collections::BTreeSet<&str> = entries
            .iter()
            .filter(|e| e.provider == provider)
            .map(|e| match e.source {
                Source::Manual => "configured",
                Source::Discovered => "discovered",
                Source::Both => "configured and discovered",
            })
            .collect();
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!(
            "{provider} ({}, {})\n",
            plural(rows.len()),
            sources.into_iter().collect::<Vec<_>>().join(", ")
        ));
        out.push_str(&table(&header, &rows));
    }
    out
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 model".to_owned()
    } else {
        format!("{n} models")
    }
}

fn row(entry: &CatalogEntry, all: bool) -> Vec<String> {
    let reasoning = match entry.reasoning_style {
        None if entry.reasoning => "yes",
        None => "-",
        Some(pincer_core::ReasoningStyle::BudgetTokens) => "budget",
        Some(pincer_core::ReasoningStyle::AdaptiveEffort) => "adaptive",
        Some(pincer_core::ReasoningStyle::EffortLevel) => "effort",
        Some(pincer_core::ReasoningStyle::ReasoningEffort) => "effort",
        Some(pincer_core::ReasoningStyle::Always) => "always",
    };
    let mut row = vec![
        format!(
            "{}{}",
            if entry.default { "* " } else { "  " },
            short_id(&entry.id)
        ),
        input(entry),
        tokens(entry.context_window),
        // An embedding model answers with vectors (on `/v1/embeddings`), and its output is not
        // billed.
        if entry.kind == "embedding" {
            "vectors".to_owned()
        } else {
            tokens(entry.max_tokens)
        },
        reasoning.to_owned(),
        price(entry.cost.input),
        if entry.kind == "embedding" {
            "-".to_owned()
        } else {
            price(entry.cost.output)
        },
    ];
    if all {
        row.push(entry.hidden.clone().unwrap_or_default());
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_ids_are_shortened_for_the_table() {
        let arn =
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";
        assert_eq!(short_id(arn), "arn:…/a1b2c3d4e5f6");
        let id = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
        assert_eq!(short_id(id), id);
        let long = "x".repeat(80);
        assert_eq!(short_id(&long).chars().count(), ID_WIDTH);
        assert_eq!(price(None), "?");
        assert_eq!(tokens(163_840), "163.8k");
        assert_eq!(tokens(200_000), "200k");
        assert_eq!(tokens(1_000_000), "1M");
        assert_eq!(tokens(3_500_000), "3.5M");
        assert_eq!(tokens(8191), "8191");
        assert_eq!(price(Some(0.035)), "0.035");
        assert_eq!(price(Some(0.135)), "0.135");
        assert_eq!(price(Some(3.0)), "3.00");
        assert_eq!(price(Some(0.02)), "0.020");
    }
}
