//! `pincer config validate`: load the config and report every problem, with key paths and
//! line:column; then check the default model and its fallbacks against the model catalog
//! (configured models plus discovery, from its cache when fresh). Exit 0 when valid (a missing
//! file is valid: built-in defaults apply), 2 when not.

use anyhow::Result;
use pincer_bedrock::provider::PROVIDER_ID;
use pincer_config::diagnostic::Diagnostic;
use pincer_config::document::Document;
use pincer_config::error::InvalidConfig;
use pincer_config::redact::mask_secret_lines;
use pincer_config::{Config, ConfigError, ConfigLocation, KeyPath, store};
use pincer_core::ModelRef;
use pincer_gateway::catalog::Catalog;

use crate::commands::models::load_catalog;
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
    if config.options.default_model().is_some() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (_, catalog) =
            runtime.block_on(load_catalog(&config, &location.path, false, printer))?;
        check_models(&config, location, &catalog, printer)?;
    }
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

/// Checks `primary` and `fallbacks` against the catalog: a reference the catalog does not hold
/// is an error when the catalog can know (configured models, or discovery ran), and a warning
/// when it cannot (discovery off).
fn check_models(
    config: &Config,
    location: &ConfigLocation,
    catalog: &Catalog,
    printer: &Printer,
) -> Result<()> {
    let Some(model) = config.options.default_model() else {
        return Ok(());
    };
    let base = KeyPath::root().key("agents").key("defaults").key("model");
    let mut refs: Vec<(KeyPath, &str)> = Vec::new();
    if let Some(primary) = &model.primary {
        refs.push((base.key("primary"), primary));
    }
    for (i, fallback) in model.fallbacks.iter().flatten().enumerate() {
        refs.push((base.key("fallbacks").index(i), fallback));
    }
    let text = store::read(&location.path)?.unwrap_or_default();
    let document = Document::parse(&text).map(|(d, _)| d).ok();
    let mut diagnostics = Vec::new();
    for (path, text_ref) in refs {
        let Ok(reference) = text_ref.parse::<ModelRef>() else {
            continue;
        };
        if catalog.get(&reference).is_some() {
            continue;
        }
        let knowable = reference.provider() != PROVIDER_ID
            || (catalog.discovery.enabled && catalog.discovery.discovered > 0);
        if !knowable {
            printer.warn(&format!(
                "{path}: cannot check `{text_ref}`: model discovery is off ({})",
                catalog.discovery.reason
            ));
            continue;
        }
        let near: Vec<String> = catalog
            .closest(text_ref, 2)
            .iter()
            .map(|e| format!("`{}`", e.key))
            .collect();
        let span = document
            .as_ref()
            .and_then(|d| d.span(&path))
            .map(|s| s.value.clone());
        let mut diagnostic = Diagnostic::new(
            path,
            span,
            format!("`{text_ref}` is not in the model catalog"),
        );
        if !near.is_empty() {
            diagnostic = diagnostic.with_help(format!("did you mean {}?", near.join(" or ")));
        }
        diagnostics.push(diagnostic);
    }
    if diagnostics.is_empty() {
        return Ok(());
    }
    Err(ConfigError::Invalid(Box::new(InvalidConfig {
        origin: location.path.display().to_string(),
        text: mask_secret_lines(&text),
        diagnostics,
    }))
    .into())
}
