//! `pincer config get [KEY] [--json] [--show-secrets]`: print a value from the file as written
//! (defaults are not filled in), secrets redacted.
//!
//! The file only has to be valid JSON5, not a valid config, so a broken config can be inspected.
//! An unset key that the schema knows exits 1 (and names its default); a key the schema does not
//! know exits 2 with a "did you mean".

use anyhow::Result;
use pincer_config::document::Document;
use pincer_config::schema::SchemaWalker;
use pincer_config::{ConfigError, ConfigLocation, KeyPath, store};
use serde_json::Value;

use super::{displayable, render_value};
use crate::cli::ConfigGetArgs;
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Prints the value at the key path.
pub fn run(
    location: &ConfigLocation,
    args: &ConfigGetArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let path: KeyPath = match &args.key {
        Some(key) => key.parse().map_err(ConfigError::from)?,
        None => KeyPath::root(),
    };
    let text = store::read(&location.path)?.unwrap_or_default();
    let (document, _) = Document::parse(&text).map_err(|err| ConfigError::Syntax {
        origin: location.path.display().to_string(),
        text: pincer_config::redact::mask_secret_lines(&text),
        span: err.span,
        message: err.message,
    })?;
    let root = match document.value {
        Value::Null => Value::Object(Default::default()),
        value => value,
    };
    let Some(value) = lookup(&root, &path) else {
        let walker = SchemaWalker::default();
        return match walker.lookup(&path) {
            Err((unknown, suggestion)) => Err(ConfigError::UnknownKey {
                path: unknown,
                help: suggestion.map(|s| format!("did you mean `{s}`?")),
            }
            .into()),
            Ok(schema) => {
                let default = walker
                    .resolve(schema)
                    .get("default")
                    .or_else(|| schema.get("default"))
                    .map(|d| format!(" (default: {d})"))
                    .unwrap_or_default();
                printer.warn(&format!(
                    "`{path}` is not set in {}{default}",
                    location.path.display()
                ));
                Ok(ExitStatus::Failure)
            }
        };
    };
    let shown = displayable(&path, value, args.show_secrets);
    printer.outln(&render_value(&shown, args.json))?;
    Ok(ExitStatus::Success)
}

/// The value at `path`; an all-digit key segment indexes arrays.
fn lookup<'a>(root: &'a Value, path: &KeyPath) -> Option<&'a Value> {
    path.segments()
        .iter()
        .try_fold(root, |value, segment| match value {
            Value::Object(map) => map.get(&segment.object_key()),
            Value::Array(items) => items.get(segment.as_index()?),
            _ => None,
        })
}
