//! `pincer config unset KEY [--dry-run]`: remove a value, keeping the rest of the file as it is.
//! Unsetting a key that is not set is not an error. The result is validated before writing.

use anyhow::Result;
use pincer_config::redact::mask_secret_lines;
use pincer_config::store::{self, Update};
use pincer_config::{ConfigError, ConfigLocation, KeyPath, edit, validate};

use crate::cli::ConfigUnsetArgs;
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Removes the value at the key path.
pub fn run(
    location: &ConfigLocation,
    args: &ConfigUnsetArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let path: KeyPath = args.key.parse().map_err(ConfigError::from)?;
    let origin = location.path.display().to_string();
    let apply = |text: &str| -> Result<Option<String>, ConfigError> {
        validate::check_syntax(text, &origin)?;
        let Some(new) = edit::unset(text, &path)? else {
            return Ok(None);
        };
        validate::parse(&new, &origin)?;
        Ok(Some(new))
    };
    if args.dry_run {
        let current = store::read(&location.path)?.unwrap_or_default();
        printer.out(&mask_secret_lines(&apply(&current)?.unwrap_or(current)))?;
        return Ok(ExitStatus::Success);
    }
    match store::update(&location.path, apply) {
        Ok(Update::Written(_)) => printer.status(&format!("unset {path} in {origin}")),
        Ok(Update::Unchanged | Update::Skipped) => {
            printer.status(&format!("{path} is not set in {origin}; nothing to do"));
        }
        Err(err @ ConfigError::Invalid(_)) => {
            return Err(anyhow::Error::new(err).context(format!(
                "rejected unsetting `{path}`: the config would be invalid; {origin} is unchanged"
            )));
        }
        Err(err) => return Err(err.into()),
    }
    Ok(ExitStatus::Success)
}
