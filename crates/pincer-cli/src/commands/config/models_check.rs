//! The one rule for the default model and its fallbacks: they must be in the model catalog
//! (when the catalog can know), for `config validate` and `config set` alike.

use std::path::Path;

use anyhow::Result;
use pincer_bedrock::provider::PROVIDER_ID;
use pincer_config::diagnostic::Diagnostic;
use pincer_config::document::Document;
use pincer_config::error::InvalidConfig;
use pincer_config::redact::mask_secret_lines;
use pincer_config::{Config, ConfigError, KeyPath};
use pincer_core::ModelRef;

use crate::commands::models::load_catalog;
use crate::printer::Printer;

/// Checks `agents.defaults.model` (`primary` and `fallbacks`) of `config`, whose text is `text`
/// at `path`, against the model catalog: a reference the catalog does not hold is an error when
/// the catalog can know (configured models, or discovery ran), and a warning when it cannot
/// (discovery off, or failing: a catalog that cannot be loaded says nothing about the config).
/// `config validate` and `config set` both apply this one rule.
pub(crate) fn check_default_models(
    config: &Config,
    path: &Path,
    text: &str,
    printer: &Printer,
) -> Result<()> {
    let Some(model) = config.options.default_model() else {
        return Ok(());
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let catalog = match runtime.block_on(load_catalog(config, path, false, printer)) {
        Ok((_, catalog)) => catalog,
        Err(error) => {
            printer.warn(&format!(
                "cannot check agents.defaults.model against the model catalog: {error:#}"
            ));
            return Ok(());
        }
    };
    let base = KeyPath::root().key("agents").key("defaults").key("model");
    let mut refs: Vec<(KeyPath, &str)> = Vec::new();
    if let Some(primary) = &model.primary {
        refs.push((base.key("primary"), primary));
    }
    for (i, fallback) in model.fallbacks.iter().flatten().enumerate() {
        refs.push((base.key("fallbacks").index(i), fallback));
    }
    let document = Document::parse(text).map(|(d, _)| d).ok();
    let mut diagnostics = Vec::new();
    for (key, text_ref) in refs {
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
                "{key}: cannot check `{text_ref}`: model discovery is off ({})",
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
            .and_then(|d| d.span(&key))
            .map(|s| s.value.clone());
        let mut diagnostic = Diagnostic::new(
            key,
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
        origin: path.display().to_string(),
        text: mask_secret_lines(text),
        diagnostics,
    }))
    .into())
}
