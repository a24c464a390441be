//! The key and spend database every command that needs it opens the same way:
//! `PINCER_DATABASE_URL`, else `gateway.database.url`, else the SQLite file
//! `PINCER_HOME/pincer.db`.

use anyhow::{Context, Result};
use pincer_config::{Config, ConfigLocation};
use pincer_core::env::EnvVars;
use pincer_store::Store;

use crate::commands::models::home_of;

/// The database URL for `config` at `location`.
pub(crate) fn url(config: &Config, location: &ConfigLocation) -> String {
    EnvVars::get(EnvVars::PINCER_DATABASE_URL)
        .and_then(|v| v.into_string().ok())
        .or_else(|| config.options.gateway().database_url().map(str::to_owned))
        .unwrap_or_else(|| Store::default_url(&home_of(&location.path)))
}

/// Loads the config, opens its database (migrating it) on a runtime of its own, and runs
/// `work` with the store.
pub(crate) fn with_store<T>(
    location: &ConfigLocation,
    work: impl AsyncFnOnce(&Store) -> Result<T>,
) -> Result<T> {
    let config = Config::load(&location.path)?;
    let url = url(&config, location);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = Store::open(&url)
            .await
            .with_context(|| format!("opening the key database ({})", shown(&url)))?;
        let result = work(&store).await;
        store.close().await;
        result
    })
}

/// `url` with its password hidden, for messages.
pub(crate) fn shown(url: &str) -> String {
    pincer_config::redact::redact_url_userinfo(url).unwrap_or_else(|| url.to_owned())
}
