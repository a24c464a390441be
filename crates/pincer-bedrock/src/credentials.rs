//! Where AWS credentials come from, reported in the seed document's order — and, unlike a check
//! of environment variables alone, naming the provider of the SDK chain that actually supplied
//! them (an EC2 instance role through IMDSv2, an ECS task role, web identity, SSO, a
//! `credential_process`). "Credentials present" means the chain resolved within a short deadline,
//! so an instance role with no environment variables counts: no `AWS_PROFILE=default` workaround.
//!
//! Nothing here prints a secret: the report holds names and flags only.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::credential_feature::AwsCredentialFeature;
use aws_credential_types::provider::ProvideCredentials;
use pincer_core::env::EnvVars;
use serde::Serialize;

use crate::aws::Environment;
use crate::errors::chain;

/// The source as the seed document orders them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum CredentialSource {
    /// `AWS_BEARER_TOKEN_BEDROCK` (a Bedrock API key).
    BearerToken,
    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`.
    EnvironmentKeys,
    /// `AWS_PROFILE`.
    Profile(String),
    /// The rest of the SDK default chain.
    DefaultChain,
}

impl CredentialSource {
    /// How the seed document names it.
    pub fn label(&self) -> String {
        match self {
            CredentialSource::BearerToken => "AWS_BEARER_TOKEN_BEDROCK".to_owned(),
            CredentialSource::EnvironmentKeys => {
                "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY".to_owned()
            }
            CredentialSource::Profile(name) => format!("AWS_PROFILE={name}"),
            CredentialSource::DefaultChain => "AWS SDK default chain".to_owned(),
        }
    }
}

/// What credential resolution found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialReport {
    /// The source in the seed's order.
    pub source: CredentialSource,
    /// The SDK provider that actually supplied credentials (e.g. `EC2 instance role (IMDSv2)`).
    pub provider: Option<String>,
    /// Whether credentials resolved.
    pub present: bool,
    /// Whether they are temporary (carry a session token).
    pub temporary: bool,
    /// When they expire, if they do.
    #[serde(skip)]
    pub expiry: Option<SystemTime>,
    /// Why resolution failed, when it did.
    pub error: Option<String>,
}

/// A human name for the SDK provider that produced credentials, from the features it recorded.
fn provider_name(features: &[AwsCredentialFeature]) -> Option<&'static str> {
    // Most specific first: a profile that assumes a role via SSO records both.
    let names = [
        (
            AwsCredentialFeature::CredentialsImds,
            "EC2 instance role (IMDSv2)",
        ),
        (
            AwsCredentialFeature::CredentialsHttp,
            "container credentials (ECS/EKS endpoint)",
        ),
        (
            AwsCredentialFeature::CredentialsEnvVarsStsWebIdToken,
            "web identity token (environment)",
        ),
        (
            AwsCredentialFeature::CredentialsProfileStsWebIdToken,
            "web identity token (profile)",
        ),
        (
            AwsCredentialFeature::CredentialsStsAssumeRoleWebId,
            "web identity token",
        ),
        (AwsCredentialFeature::CredentialsProfileSso, "SSO (profile)"),
        (AwsCredentialFeature::CredentialsSso, "SSO"),
        (
            AwsCredentialFeature::CredentialsProfileProcess,
            "credential_process (profile)",
        ),
        (
            AwsCredentialFeature::CredentialsProcess,
            "credential_process",
        ),
        (
            AwsCredentialFeature::CredentialsProfileLogin,
            "aws login (profile)",
        ),
        (AwsCredentialFeature::CredentialsLogin, "aws login"),
        (
            AwsCredentialFeature::CredentialsStsAssumeRole,
            "assumed role (profile)",
        ),
        (
            AwsCredentialFeature::CredentialsProfile,
            "shared config/credentials files",
        ),
        (
            AwsCredentialFeature::CredentialsEnvVars,
            "environment variables",
        ),
    ];
    names
        .iter()
        .find(|(feature, _)| features.contains(feature))
        .map(|(_, name)| *name)
}

/// The seed-order source, from the environment alone.
pub fn seed_source(env: &dyn Environment) -> CredentialSource {
    if env.var(EnvVars::AWS_BEARER_TOKEN_BEDROCK).is_some() {
        CredentialSource::BearerToken
    } else if env.var(EnvVars::AWS_ACCESS_KEY_ID).is_some()
        && env.var(EnvVars::AWS_SECRET_ACCESS_KEY).is_some()
    {
        CredentialSource::EnvironmentKeys
    } else if let Some(profile) = env.var(EnvVars::AWS_PROFILE) {
        CredentialSource::Profile(profile)
    } else {
        CredentialSource::DefaultChain
    }
}

/// Resolves `config`'s credentials chain within `deadline` and reports the source.
pub async fn detect(
    config: &SdkConfig,
    env: &dyn Environment,
    deadline: Duration,
) -> CredentialReport {
    let source = seed_source(env);
    let mut report = CredentialReport {
        source,
        provider: None,
        present: false,
        temporary: false,
        expiry: None,
        error: None,
    };
    if report.source == CredentialSource::BearerToken {
        report.present = true;
        report.provider = Some("bearer token (Bedrock API key)".to_owned());
        return report;
    }
    let Some(provider) = config.credentials_provider() else {
        report.error = Some("no credentials provider is configured".to_owned());
        return report;
    };
    match tokio::time::timeout(deadline, provider.provide_credentials()).await {
        Ok(Ok(credentials)) => {
            report.present = true;
            report.temporary = credentials.session_token().is_some();
            report.expiry = credentials.expiry();
            let features = credentials
                .get_property::<Vec<AwsCredentialFeature>>()
                .cloned()
                .unwrap_or_default();
            report.provider = Some(
                provider_name(&features)
                    .unwrap_or("AWS SDK provider")
                    .to_owned(),
            );
        }
        Ok(Err(err)) => report.error = Some(chain(&err)),
        Err(_) => {
            report.error = Some(format!(
                "the credential chain did not answer within {} ms",
                deadline.as_millis()
            ))
        }
    }
    report
}
