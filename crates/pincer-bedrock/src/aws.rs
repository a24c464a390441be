//! Loading the AWS SDK configuration once per process: credentials chain (with its cache, which
//! refreshes temporary credentials before they expire), region, and endpoint overrides from the
//! SDK's standard settings (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, `AWS_ENDPOINT_URL_BEDROCK`).

use std::collections::HashMap;

pub use aws_config::Region;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use pincer_core::env::EnvVars;

use crate::region::{DEFAULT_REGION, RegionSource, region_from_env};

/// Where environment variables are read from: the process, or (in tests) a map handed to both
/// Pincer and the SDK loader, so that no test mutates the process environment.
pub trait Environment: Send + Sync {
    /// The variable's value; unset and empty are both `None`.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        EnvVars::get_string(name)
    }
}

impl Environment for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

/// The loaded SDK configuration and where its region came from.
#[derive(Debug, Clone)]
pub struct AwsSetup {
    /// Shared SDK configuration: build every client from it.
    pub config: SdkConfig,
    /// The region in use.
    pub region: String,
    /// Where the region came from.
    pub region_source: RegionSource,
}

/// Loads the SDK configuration from the process environment; `explicit_region` (from Pincer's
/// config) wins over the environment.
pub async fn load(explicit_region: Option<&str>) -> AwsSetup {
    load_with(
        aws_config::defaults(BehaviorVersion::latest()),
        explicit_region,
        &ProcessEnvironment,
    )
    .await
}

/// Like [`load`], with a prepared loader and the environment it reads.
pub async fn load_with(
    loader: ConfigLoader,
    explicit_region: Option<&str>,
    env: &dyn Environment,
) -> AwsSetup {
    let from_env = region_from_env(explicit_region, env);
    let mut loader = loader;
    if let Some((region, _)) = &from_env {
        loader = loader.region(Region::new(region.clone()));
    }
    let mut config = loader.load().await;
    let (region, region_source) = match (from_env, config.region()) {
        (Some((region, source)), _) => (region, source),
        (None, Some(region)) => (region.to_string(), RegionSource::Sdk),
        (None, None) => {
            config = config
                .into_builder()
                .region(Region::new(DEFAULT_REGION))
                .build();
            (DEFAULT_REGION.to_owned(), RegionSource::Default)
        }
    };
    AwsSetup {
        config,
        region,
        region_source,
    }
}
