//! Loading the AWS SDK configuration once per process: credentials chain (with its cache, which
//! refreshes temporary credentials before they expire), region, and endpoint overrides from the
//! SDK's standard settings (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, `AWS_ENDPOINT_URL_BEDROCK`).

use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::region::{DEFAULT_REGION, RegionSource, region_from_env};

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

/// Loads the SDK configuration; `explicit_region` (from Pincer's config) wins over the environment.
pub async fn load(explicit_region: Option<&str>) -> AwsSetup {
    let from_env = region_from_env(explicit_region);
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some((region, _)) = &from_env {
        loader = loader.region(Region::new(region.clone()));
    }
    let mut config = loader.load().await;
    let (region, region_source) = match (from_env, config.region()) {
        (Some((region, source)), _) => (region, source),
        (None, Some(region)) => (region.to_string(), RegionSource::Profile),
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
