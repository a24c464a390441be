//! Background catalog refresh for a long-running [`Runtime`] (the gateway): every `models.bedrockDiscovery.refreshInterval`
//! seconds the catalog is rebuilt off the request path and swapped in whole. A refresh that
//! fails keeps the catalog being served (the failure is logged and counted), so a discovery
//! outage never takes models away from clients; after a failure (the one at start included)
//! the next try comes sooner: [`Refresher::first_retry`], doubled after each failure, never
//! later than the interval or [`MAX_RETRY`]. A gateway that started while discovery was down
//! is serving (and ready) minutes after it comes back, not an interval later.

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
    /// The wait after a failed discovery ([`FIRST_RETRY`] in the gateway).
    pub first_retry: Duration,
}

/// The first wait after a failed discovery.
pub const FIRST_RETRY: Duration = Duration::from_secs(5);

/// The longest wait between two tries after failures.
pub const MAX_RETRY: Duration = Duration::from_secs(300);

/// The wait before the next refresh, after `failures` failed ones in a row.
pub fn next_wait(interval: Duration, first_retry: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return interval;
    }
    let factor = 2u32.checked_pow(failures - 1).unwrap_or(u32::MAX);
    first_retry
        .checked_mul(factor)
        .unwrap_or(MAX_RETRY)
        .min(MAX_RETRY)
        .min(interval)
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
        // A catalog built while discovery failed is retried soon, as a failed refresh is.
        let mut failures = u32::from(runtime.catalog().discovery.error.is_some());
        Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(next_wait(interval, self.first_retry, failures)).await;
                match self.refresh().await {
                    Ok(catalog) => {
                        failures = 0;
                        let served = catalog.served().count();
                        tracing::info!(models = served, "model catalog refreshed");
                        outcome(true, served);
                        runtime.replace_catalog(catalog);
                    }
                    Err(error) => {
                        failures = failures.saturating_add(1);
                        let served = runtime.catalog().served().count();
                        let retry = next_wait(interval, self.first_retry, failures);
                        tracing::warn!(%error, models = served, retry_secs = retry.as_secs_f64(), "model catalog refresh failed; serving the previous list");
                        outcome(false, served);
                    }
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_retry_sooner_then_back_off_to_the_interval() {
        let hour = Duration::from_secs(3600);
        assert_eq!(next_wait(hour, FIRST_RETRY, 0), hour);
        assert_eq!(next_wait(hour, FIRST_RETRY, 1), Duration::from_secs(5));
        assert_eq!(next_wait(hour, FIRST_RETRY, 3), Duration::from_secs(20));
        assert_eq!(next_wait(hour, FIRST_RETRY, 40), MAX_RETRY);
        let minute = Duration::from_secs(60);
        assert_eq!(next_wait(minute, FIRST_RETRY, 10), minute);
    }
}
