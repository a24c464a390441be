//! `pincer models list [--json|--plain] [--provider ID] [--all] [--refresh]`.

use anyhow::Result;
use pincer_config::{Config, ConfigLocation};
use pincer_core::Modality;
use pincer_gateway::catalog::{CatalogEntry, Source};
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
        let mut header = vec![
            "Model",
            "Name",
            "Input",
            "Context",
            "Max out",
            "Reasoning",
            "Price in/out",
            "Source",
        ];
        if args.all {
            header.push("Hidden");
        }
        let rows: Vec<Vec<String>> = entries.iter().map(|e| row(e, args.all)).collect();
        printer.out(&table(&header, &rows))?;
        if entries.iter().any(|e| e.default) {
            printer.status("* default model (agents.defaults.model.primary)");
        }
    }
    Ok(ExitStatus::Success)
}

fn tokens(n: u32) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn price(value: f64) -> String {
    if value == 0.0 {
        "0".to_owned()
    } else if value < 0.1 {
        format!("{value:.3}")
    } else {
        format!("{value:.2}")
    }
}

fn row(entry: &CatalogEntry, all: bool) -> Vec<String> {
    let input = entry
        .input
        .iter()
        .map(|m| match m {
            Modality::Text => "text",
            Modality::Image => "image",
        })
        .collect::<Vec<_>>()
        .join("+");
    let reasoning = match entry.reasoning_style {
        None => "-",
        Some(pincer_core::ReasoningStyle::BudgetTokens) => "budget",
        Some(pincer_core::ReasoningStyle::AdaptiveEffort) => "adaptive",
        Some(pincer_core::ReasoningStyle::EffortLevel) => "effort",
        Some(pincer_core::ReasoningStyle::Always) => "always",
    };
    let source = match entry.source {
        Source::Manual => "manual",
        Source::Discovered => "discovered",
        Source::Both => "both",
    };
    let mut row = vec![
        format!("{}{}", if entry.default { "* " } else { "" }, entry.key),
        entry.name.clone(),
        input,
        tokens(entry.context_window),
        tokens(entry.max_tokens),
        reasoning.to_owned(),
        format!("${}/${}", price(entry.cost.input), price(entry.cost.output)),
        source.to_owned(),
    ];
    if all {
        row.push(entry.hidden.clone().unwrap_or_default());
    }
    row
}
