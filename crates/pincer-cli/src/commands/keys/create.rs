//! `pincer keys create --name NAME [--models PATTERN…] [--rpm N] [--tpm N] [--budget USD
//! --period day|week|month] [--expires WHEN] [--json]`.

use anyhow::Result;
use pincer_config::ConfigLocation;
use pincer_store::{KeySpec, Period, now_millis};

use super::{print_new, summary};
use crate::cli::{KeysCreateArgs, PeriodArg};
use crate::commands::database::with_store;
use crate::exit::{ExitStatus, UsageError};
use crate::printer::Printer;

/// Creates the key and prints its secret once.
pub fn run(
    location: &ConfigLocation,
    args: &KeysCreateArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let now = now_millis();
    let spec = spec(args, now)?;
    let made = with_store(location, async |store| {
        store.create_key(&spec, now).await.map_err(|e| match e {
            pincer_store::StoreError::Unavailable(_) | pincer_store::StoreError::Migration(_) => {
                anyhow::Error::from(e)
            }
            other => UsageError(other.to_string()).into(),
        })
    })?;
    let done = format!(
        "created key `{}` ({}): {}\nthe secret above is shown only now: give it to the client as its API key (Authorization: Bearer, or x-api-key)",
        made.key.name,
        made.key.id,
        summary(&made.key)
    );
    print_new(&made, args.json, &done, printer)?;
    Ok(ExitStatus::Success)
}

fn spec(args: &KeysCreateArgs, now: i64) -> Result<KeySpec, UsageError> {
    let budget = match (args.budget, args.period) {
        (Some(usd), Some(period)) => {
            if !usd.is_finite() || usd < 0.0 {
                return Err(UsageError(format!(
                    "--budget {usd}: give an amount of US dollars, 0 or more"
                )));
            }
            let period = match period {
                PeriodArg::Day => Period::Day,
                PeriodArg::Week => Period::Week,
                PeriodArg::Month => Period::Month,
            };
            Some((pincer_store::spend::nanos(usd), period))
        }
        _ => None,
    };
    let expires_at = args
        .expires
        .as_deref()
        .map(|when| pincer_store::period::parse_when(when, now, true))
        .transpose()
        .map_err(|e| UsageError(format!("--expires: {e}")))?;
    Ok(KeySpec {
        name: args.name.clone(),
        models: args.models.clone(),
        rpm: args.rpm,
        tpm: args.tpm,
        budget,
        expires_at,
    })
}
