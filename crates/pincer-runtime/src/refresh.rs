//! Background catalog refresh for a long-running [`Runtime`] (the gateway): every `models.bedrockDiscovery.refreshInterval`
//! seconds the catalog is rebuilt off the request path and swapped in whole. A refresh that
//! fails keeps the catalog being served (the failure is logged and counted), so a discovery
//! outage never takes models away from clients.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pincer_bedrock::aws::{AwsSetup, Environment};
use pincer_config::Options;
use tokio::task::JoinHandle;

use crate::catalog::{Catalog, CatalogInputs};
use crate::runtime::Runtime;

/// What a refresh needs, owned so that it can run in its own task.
#[derive(Clone)]
#[allow(missing_debug_implementations)]
pub struct Refresher {
    /// The validated config.
    pub options: Options,
    /// `PINCER_HOME`, for the discovery cache.
    pub pincer_home: PathBuf,
    /// The AWS setup the gateway serves with.
    pub aws: AwsSetup,
    /// The environment the AWS setup was loaded from.
    pub env: Arc<dyn Environment>,
    /// Deadline of each AWS call.
    pub deadline: Duration,
}

impl Refresher {
    /// How often to refresh, or `None` when discovery is off or uncached (`refreshInterval: 0`).
    pub fn interval(&self, catalog: &Catalog) -> Option<Duration> {
        let seconds = self.options.discovery().refresh_interval_secs();
        (catalog.discovery.enabled && seconds > 0).then(|| Duration::from_secs(seconds))
    }

    /// Rebuilds the catalog, bypassing a fresh cache.
    pub async fn refresh(&self) -> Result<Catalog, String> {
        let catalog = Catalog::build(CatalogInputs {
            options: &self.options,
            pincer_home: &self.pincer_home,
            aws: &self.aws,
            env: self.env.as_ref(),
            refresh: true,
            deadline: self.deadline,
        })
        .await
        .map_err(|e| e.to_string())?;
        match &catalog.discovery.error {
            Some(error) => Err(error.clone()),
            None => Ok(catalog),
        }
    }

    /// Starts refreshing `runtime`'s catalog in the background, if discovery is on; `outcome` is
    /// told each result (success, models served). The task runs until aborted.
    pub fn spawn(
        self,
        runtime: Arc<Runtime>,
        outcome: impl Fn(bool, usize) + Send + 'static,
    ) -> Option<JoinHandle<()>> {
        let interval = self.interval(&runtime.catalog())?;
        Some(tokio::spawn(async move {
            let mut ticks =
                tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match self.refresh().await {
                    Ok(catalog) => {
                        let served = catalog.served().count();
                        tracing::info!(models = served, "model catalog refreshed");
                        outcome(true, served);
                        runtime.replace_catalog(catalog);
                    }
                    Err(error) => {
                        let served = runtime.catalog().served().count();
                        tracing::warn!(%error, models = served, "model catalog refresh failed; serving the previous list");
                        outcome(false, served);
                    }
                }
            }
        }))
    }
}
