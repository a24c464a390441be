//! `pincer keys rotate NAME [--json]`: a new secret, printed once; the old one stops working
//! at once, and the key's id, limits, budget and spend stay.

use anyhow::Result;
use pincer_config::ConfigLocation;
use pincer_store::{StoreError, now_millis};

use super::print_new;
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
    let done = format!(
        "rotated key `{}` ({}): the old secret no longer works; the one above is shown only now",
        made.key.name, made.key.id
    );
    print_new(&made, args.json, &done, printer)?;
    Ok(ExitStatus::Success)
}
