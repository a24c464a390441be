//! `pincer config set KEY VALUE [--strict-json] [--dry-run]`.
//!
//! The value is parsed as JSON5 and, failing that, taken as a plain string (`us-east-1`), unless
//! `--strict-json`. A value that starts like an object or array but does not parse is an error,
//! not a string. The edit goes through the syntax tree; the whole resulting config is validated
//! before anything is written, and a rejected change leaves the file byte-identical (exit 2).
//! A change to the default model or its fallbacks is also checked against the model catalog,
//! by the same rule as `config validate`. Writing a secret into a file that others can read
//! tightens the file to mode 0600, and says so.

use anyhow::Result;
use pincer_config::redact::{mask_secret_lines, redact_value};
use pincer_config::store::{self, Update};
use pincer_config::{Config, ConfigError, ConfigLocation, KeyPath, edit, validate};

use super::{check_default_models, summary};
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
    let shown = summary(&path, &value);
    let rejected = |err: anyhow::Error| {
        err.context(format!(
            "rejected `{path}` = {shown}: the config would be invalid; {origin} is unchanged"
        ))
    };
    // The catalog check may call Bedrock, so it runs on the would-be text before the writers'
    // lock is taken; the locked write then validates again.
    let current = store::read(&location.path)?.unwrap_or_default();
    let new = apply(&current).map_err(|err| match err {
        err @ ConfigError::Invalid(_) => rejected(err.into()),
        err => err.into(),
    })?;
    let before = validate::parse(&current, &origin).ok();
    let after = validate::parse(&new, &origin)?;
    if before.as_ref().and_then(|o| o.default_model()) != after.default_model() {
        let config = Config {
            options: after,
            exists: true,
        };
        check_default_models(&config, &location.path, &new, printer).map_err(rejected)?;
    }
    if args.dry_run {
        printer.out(&mask_secret_lines(&new))?;
        return Ok(ExitStatus::Success);
    }
    let mut redacted = value.clone();
    redact_value(path.last_key(), &mut redacted);
    let secret = redacted != value;
    match store::update_with(&location.path, secret, |text| apply(text).map(Some)) {
        Ok((Update::Written(_), tightened)) => {
            printer.status(&format!("set {path} = {shown} in {origin}"));
            if let Some(mode) = tightened {
                printer.warn(&format!(
                    "{origin} was readable by others (mode {mode:04o}) and now holds a secret; its mode is now 0600"
                ));
            }
        }
        Ok((Update::Unchanged | Update::Skipped, _)) => {
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
