//! `pincer keys rotate NAME [--json]`: a new secret, printed once; the old one stops working
//! at once, and the key's id, limits, budget and spend stay.

use anyhow::Result;
use pincer_config::ConfigLocation;
use pincer_store::{StoreError, now_millis};
use serde_json::json;

use super::key_json;
use crate::cli::KeysRotateArgs;
use crate::commands::database::with_store;
use crate::exit::{ExitStatus, UsageError};
use crate::printer::Printer;

/// Rotates the key's secret.
pub fn run(
    location: &ConfigLocation,
    args: &KeysRotateArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let made = with_store(location, async |store| {
        store
            .rotate(&args.key, now_millis())
            .await
            .map_err(|e| match e {
                StoreError::NoSuchKey(_) => UsageError(e.to_string()).into(),
                other => anyhow::Error::from(other),
            })
    })?;
    if args.json {
        printer.outln(&serde_json::to_string_pretty(&json!({
            "key": key_json(&made.key),
            "secret": made.secret.expose(),
        }))?)?;
    } else {
        printer.outln(made.secret.expose())?;
        printer.status(&format!(
            "rotated key `{}` ({}): the old secret no longer works; the one above is shown only now",
            made.key.name, made.key.id
        ));
    }
    Ok(ExitStatus::Success)
}
