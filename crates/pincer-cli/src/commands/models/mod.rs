//! `pincer models …`: the catalog (configured ⊕ discovered models) and the model setup.

pub mod list;
pub mod status;

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use pincer_bedrock::aws::{self, AwsSetup, ProcessEnvironment};
use pincer_config::Config;
use pincer_runtime::catalog::{Catalog, CatalogInputs};

use crate::printer::Printer;

/// Deadline of each AWS call made by discovery.
pub(crate) const AWS_DEADLINE: Duration = Duration::from_secs(10);

/// The folder holding the config, used as Pincer's home for the cache.
pub(crate) fn home_of(config_path: &Path) -> std::path::PathBuf {
    pincer_config::location::pincer_home()
        .or_else(|| config_path.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| std::path::PathBuf::from("."))
}

/// Loads the AWS setup and builds the catalog, with a spinner on a terminal.
pub(crate) async fn load_catalog(
    config: &Config,
    config_path: &Path,
    refresh: bool,
    printer: &Printer,
) -> Result<(AwsSetup, Catalog)> {
    load(config, config_path, refresh, false, printer).await
}

/// The catalog a long-running server starts with: a forced discovery that fails leaves the
/// configured models (with a warning) rather than an error.
pub(crate) async fn load_serving_catalog(
    config: &Config,
    config_path: &Path,
    printer: &Printer,
) -> Result<(AwsSetup, Catalog)> {
    load(config, config_path, false, true, printer).await
}

async fn load(
    config: &Config,
    config_path: &Path,
    refresh: bool,
    serving: bool,
    printer: &Printer,
) -> Result<(AwsSetup, Catalog)> {
    let setup = aws::load(config.options.discovery().region.as_deref()).await;
    let spinner = printer.spinner(format!("discovering Bedrock models in {}", setup.region));
    let home = home_of(config_path);
    let inputs = CatalogInputs {
        options: &config.options,
        pincer_home: &home,
        aws: &setup,
        env: &ProcessEnvironment,
        refresh,
        deadline: AWS_DEADLINE,
    };
    let catalog = if serving {
        Ok(Catalog::build_for_serving(inputs).await)
    } else {
        Catalog::build(inputs).await
    };
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let catalog = match catalog {
        Ok(catalog) => catalog,
        Err(err) => {
            for warning in &err.warnings {
                printer.warn(warning);
            }
            return Err(err.into());
        }
    };
    for warning in &catalog.discovery.warnings {
        printer.warn(warning);
    }
    Ok((setup, catalog))
}

/// Renders rows as a left-aligned table with a header.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let width = |text: &str| text.chars().count();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(widths[i] - width(cell) + 2));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}
