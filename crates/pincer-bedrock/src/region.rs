//! Region resolution and inference-profile geography.
//!
//! Region: an explicit setting, then `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's region
//! (as the SDK reads it), then `us-east-1`. A provider `baseUrl` of the standard form
//! `https://bedrock-runtime.<region>.amazonaws.com` names its region; any other URL is an endpoint
//! override (VPC endpoint, proxy, the twin).

use pincer_core::env::EnvVars;

use crate::aws::Environment;

/// The region used when nothing else names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Where the region came from, for `models status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionSource {
    /// Pincer's config (`models.bedrockDiscovery.region` or the provider's `baseUrl`).
    Config,
    /// `AWS_REGION`.
    AwsRegion,
    /// `AWS_DEFAULT_REGION`.
    AwsDefaultRegion,
    /// The AWS SDK's own region chain (the profile's `region`, or instance metadata).
    Sdk,
    /// The built-in default.
    Default,
}

/// The region from explicit config and the environment (the profile is consulted by the SDK
/// loader when this returns `None`).
pub fn region_from_env(
    explicit: Option<&str>,
    env: &dyn Environment,
) -> Option<(String, RegionSource)> {
    if let Some(region) = explicit.filter(|r| !r.is_empty()) {
        return Some((region.to_owned(), RegionSource::Config));
    }
    if let Some(region) = env.var(EnvVars::AWS_REGION) {
        return Some((region, RegionSource::AwsRegion));
    }
    env.var(EnvVars::AWS_DEFAULT_REGION)
        .map(|region| (region, RegionSource::AwsDefaultRegion))
}

/// How a provider's `baseUrl` is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseUrl {
    /// The standard regional endpoint: only its region matters.
    Regional(String),
    /// Any other URL: send requests there.
    Endpoint(String),
}

/// Reads a provider `baseUrl`.
pub fn parse_base_url(url: &str) -> BaseUrl {
    let host = url
        .strip_prefix("https://")
        .map(|rest| rest.split(['/', ':']).next().unwrap_or(rest));
    if let Some(region) = host
        .and_then(|h| h.strip_prefix("bedrock-runtime."))
        .and_then(|h| h.strip_suffix(".amazonaws.com"))
        .filter(|r| !r.is_empty() && !r.contains('.'))
    {
        return BaseUrl::Regional(region.to_owned());
    }
    BaseUrl::Endpoint(url.trim_end_matches('/').to_owned())
}

/// The system inference-profile prefix for a region's geography (`us`, `eu`, `apac`, …).
pub fn profile_prefix(region: &str) -> &'static str {
    match region {
        r if r.starts_with("us-gov-") => "us-gov",
        "ap-northeast-1" | "ap-northeast-3" => "jp",
        r if r.starts_with("us-") || r.starts_with("ca-") => "us",
        r if r.starts_with("eu-") => "eu",
        r if r.starts_with("ap-") => "apac",
        _ => "us",
    }
}

/// Whether a profile-prefixed model id can be called from `region` (e.g. `eu.` from `us-east-1`
/// cannot); `global.` works everywhere. Ids without a geography prefix are always fine.
pub fn profile_fits_region(model_id: &str, region: &str) -> bool {
    let Some((prefix, _)) = model_id.split_once('.') else {
        return true;
    };
    match prefix {
        "global" => true,
        "us" | "eu" | "apac" | "jp" | "us-gov" | "au" | "ca" => {
            prefix == profile_prefix(region) || (prefix == "apac" && profile_prefix(region) == "jp")
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            parse_base_url("https://bedrock-runtime.us-east-1.amazonaws.com"),
            BaseUrl::Regional("us-east-1".into())
        );
        assert_eq!(
            parse_base_url("https://bedrock-runtime.eu-west-3.amazonaws.com/"),
            BaseUrl::Regional("eu-west-3".into())
        );
        assert_eq!(
            parse_base_url("http://127.0.0.1:8787/"),
            BaseUrl::Endpoint("http://127.0.0.1:8787".into())
        );
        assert_eq!(
            parse_base_url("https://vpce-123.bedrock-runtime.us-east-1.vpce.amazonaws.com"),
            BaseUrl::Endpoint(
                "https://vpce-123.bedrock-runtime.us-east-1.vpce.amazonaws.com".into()
            )
        );
    }

    #[test]
    fn profile_geography() {
        assert_eq!(profile_prefix("us-west-2"), "us");
        assert_eq!(profile_prefix("eu-central-1"), "eu");
        assert_eq!(profile_prefix("ap-southeast-2"), "apac");
        assert_eq!(profile_prefix("ap-northeast-1"), "jp");
        assert!(profile_fits_region(
            "us.anthropic.claude-opus-4-6-v1:0",
            "us-east-1"
        ));
        assert!(!profile_fits_region(
            "eu.anthropic.claude-opus-4-6-v1:0",
            "us-east-1"
        ));
        assert!(profile_fits_region(
            "global.anthropic.claude-opus-4-6-v1:0",
            "eu-west-1"
        ));
        assert!(profile_fits_region(
            "anthropic.claude-3-haiku-20240307-v1:0",
            "eu-west-1"
        ));
    }
}
