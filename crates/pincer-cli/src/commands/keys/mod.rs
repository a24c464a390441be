//! `pincer keys create|list|revoke|rotate`: managed gateway keys, in the database the gateway
//! uses (`crate::commands::database`). A secret is printed once, on stdout, when a key is made
//! or rotated; everything else shows only its prefix.

pub mod create;
pub mod list;
pub mod revoke;
pub mod rotate;

use pincer_store::Key;
use pincer_store::period::rfc3339;
use pincer_store::spend::usd;
use serde_json::{Value, json};

/// A key as JSON (what `--json` prints): times in RFC 3339, the budget in US dollars.
pub(crate) fn key_json(key: &Key) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "models": key.models,
        "rpm": key.rpm,
        "tpm": key.tpm,
        "budget_usd": key.budget_nanos.map(|n| n as f64 / 1e9),
        "period": key.period,
        "expires_at": key.expires_at.map(rfc3339),
        "created_at": rfc3339(key.created_at),
        "rotated_at": key.rotated_at.map(rfc3339),
        "revoked_at": key.revoked_at.map(rfc3339),
    })
}

/// Prints a key just made or rotated: its secret alone on stdout (or, with `json`, the key and
/// its secret), and `done` on stderr.
pub(crate) fn print_new(
    made: &pincer_store::NewKey,
    json: bool,
    done: &str,
    printer: &crate::printer::Printer,
) -> anyhow::Result<()> {
    if json {
        printer.outln(&serde_json::to_string_pretty(&json!({
            "key": key_json(&made.key),
            "secret": made.secret.expose(),
        }))?)?;
    } else {
        printer.outln(made.secret.expose())?;
        printer.status(done);
    }
    Ok(())
}

/// What a key may do, in a few words: `models *claude* · 60 rpm · $5.00/day`.
pub(crate) fn summary(key: &Key) -> String {
    let mut parts = Vec::new();
    parts.push(if key.models.is_empty() {
        "every model".to_owned()
    } else {
        format!("models {}", key.models.join(" "))
    });
    if let Some(rpm) = key.rpm {
        parts.push(format!("{rpm} rpm"));
    }
    if let Some(tpm) = key.tpm {
        parts.push(format!("{tpm} tpm"));
    }
    if let (Some(budget), Some(period)) = (key.budget_nanos, key.period) {
        parts.push(format!("{}/{period}", usd(budget)));
    }
    if let Some(at) = key.expires_at {
        parts.push(format!("expires {}", rfc3339(at)));
    }
    parts.join(" · ")
}
