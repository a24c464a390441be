//! `pincer keys list [--json] [--all]`: the keys, never their secrets.

use anyhow::Result;
use pincer_config::ConfigLocation;
use pincer_store::now_millis;
use pincer_store::period::rfc3339;
use serde_json::json;

use super::{key_json, summary};
use crate::cli::KeysListArgs;
use crate::commands::database::with_store;
use crate::commands::models::table;
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Lists the keys.
pub fn run(
    location: &ConfigLocation,
    args: &KeysListArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let keys = with_store(location, async |store| Ok(store.list_keys().await?))?;
    let keys: Vec<_> = keys
        .into_iter()
        .filter(|k| args.all || k.revoked_at.is_none())
        .collect();
    if args.json {
        let keys: Vec<_> = keys.iter().map(key_json).collect();
        printer.outln(&serde_json::to_string_pretty(
            &json!({"count": keys.len(), "keys": keys}),
        )?)?;
        return Ok(ExitStatus::Success);
    }
    if keys.is_empty() {
        printer.outln("no keys (create one with `pincer keys create --name NAME`)")?;
        return Ok(ExitStatus::Success);
    }
    let now = now_millis();
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|key| {
            let state = match key.usable(now) {
                Ok(()) => "live".to_owned(),
                Err(pincer_store::keys::Unusable::Revoked(_)) => "revoked".to_owned(),
                Err(pincer_store::keys::Unusable::Expired(_)) => "expired".to_owned(),
            };
            vec![
                key.name.clone(),
                format!("{}…", key.prefix),
                state,
                rfc3339(key.created_at)[..10].to_owned(),
                summary(key),
            ]
        })
        .collect();
    printer.out(&table(
        &["Name", "Secret", "State", "Created", "May"],
        &rows,
    ))?;
    Ok(ExitStatus::Success)
}
