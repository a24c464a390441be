//! `pincer keys revoke NAME`: the key is refused at once by every gateway sharing the database.

use anyhow::Result;
use pincer_config::ConfigLocation;
use pincer_store::{StoreError, now_millis};

use crate::cli::KeysRevokeArgs;
use crate::commands::database::with_store;
use crate::exit::{ExitStatus, UsageError};
use crate::printer::Printer;

/// Revokes the key.
pub fn run(
    location: &ConfigLocation,
    args: &KeysRevokeArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let key = with_store(location, async |store| {
        store
            .revoke(&args.key, now_millis())
            .await
            .map_err(|e| match e {
                StoreError::NoSuchKey(_) => UsageError(e.to_string()).into(),
                other => anyhow::Error::from(other),
            })
    })?;
    printer.status(&format!(
        "revoked key `{}` ({}); requests with it are refused from now on",
        key.name, key.id
    ));
    Ok(ExitStatus::Success)
}
