//! `pincer config set KEY VALUE [--strict-json] [--dry-run]`.
//!
//! The value is parsed as JSON5 and, failing that, taken as a plain string (`us-east-1`), unless
//! `--strict-json`. A value that starts like an object or array but does not parse is an error,
//! not a string. The edit goes through the syntax tree; the whole resulting config is validated
//! before anything is written, and a rejected change leaves the file byte-identical (exit 2).

use anyhow::Result;
use pincer_config::redact::mask_secret_lines;
use pincer_config::store::{self, Update};
use pincer_config::{ConfigError, ConfigLocation, KeyPath, edit, validate};

use super::summary;
use crate::cli::ConfigSetArgs;
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Sets the value at the key path.
pub fn run(
    location: &ConfigLocation,
    args: &ConfigSetArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let path: KeyPath = args.key.parse().map_err(ConfigError::from)?;
    let value = edit::parse_value(&path, &args.value, args.strict_json)?;
    let origin = location.path.display().to_string();
    let apply = |text: &str| -> Result<String, ConfigError> {
        validate::check_syntax(text, &origin)?;
        let new = edit::set(text, &path, &value)?;
        validate::parse(&new, &origin)?;
        Ok(new)
    };
    if args.dry_run {
        let current = store::read(&location.path)?.unwrap_or_default();
        printer.out(&mask_secret_lines(&apply(&current)?))?;
        return Ok(ExitStatus::Success);
    }
    let shown = summary(&path, &value);
    match store::update(&location.path, |text| apply(text).map(Some)) {
        Ok(Update::Written(_)) => printer.status(&format!("set {path} = {shown} in {origin}")),
        Ok(Update::Unchanged | Update::Skipped) => {
            printer.status(&format!("{path} is already {shown}; {origin} is unchanged"));
        }
        Err(err @ ConfigError::Invalid(_)) => {
            return Err(anyhow::Error::new(err).context(format!(
                "rejected `{path}` = {shown}: the config would be invalid; {origin} is unchanged"
            )));
        }
        Err(err) => return Err(err.into()),
    }
    Ok(ExitStatus::Success)
}
