//! `pincer config validate`: load the config and report every problem, with key paths and
//! line:column; then check the default model and its fallbacks against the model catalog
//! (configured models plus discovery, from its cache when fresh). Exit 0 when valid (a missing
//! file is valid: built-in defaults apply), 2 when not.

use anyhow::Result;
use pincer_config::{Config, ConfigLocation, store};

use super::check_default_models;
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Validates the config file.
pub fn run(location: &ConfigLocation, printer: &Printer) -> Result<ExitStatus> {
    let config = Config::load(&location.path)?;
    let path = location.path.display();
    if !config.exists {
        printer.outln(&format!(
            "no config file at {path}; built-in defaults apply"
        ))?;
        return Ok(ExitStatus::Success);
    }
    let text = store::read(&location.path)?.unwrap_or_default();
    check_default_models(&config, &location.path, &text, printer)?;
    let providers = config.options.providers().count();
    let models: usize = config
        .options
        .providers()
        .map(|(_, p)| p.models.as_ref().map_or(0, Vec::len))
        .sum();
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    printer.outln(&format!(
        "{path} is valid ({}, {})",
        plural(providers, "provider"),
        plural(models, "model")
    ))?;
    Ok(ExitStatus::Success)
}
