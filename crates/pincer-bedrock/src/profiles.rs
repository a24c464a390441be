//! Application inference profiles the user names by ARN (in the config or `--model`): the
//! foundation model each one routes to, asked of `GetInferenceProfile` once and kept in
//! `PINCER_HOME/cache/profiles.json`. A profile's model is fixed when the profile is made, so
//! the answer never goes stale; a profile that is deleted fails at call time like any model.
//!
//! Knowing the base model is what lets such a profile keep its limits, reasoning style, prompt
//! caching and prices (priced as the system profile it was copied from, when it spans a
//! geography).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_bedrock::Client;
use pincer_config::store::{create_private_dir, write_atomic};
use pincer_core::ProviderError;
use serde::{Deserialize, Serialize};

use crate::errors::{CallContext, from_control_error};
use crate::region::profile_prefix;

/// What a profile routes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileBase {
    /// The foundation model id (`anthropic.claude-haiku-4-5-20251001-v1:0`).
    pub model: String,
    /// The id it is priced as: the foundation model, or the geographic profile
    /// (`us.anthropic…`) when the profile spans several regions of one geography.
    pub priced_as: String,
}

/// Whether `id` is an application inference profile ARN.
pub fn is_application_profile(id: &str) -> bool {
    id.starts_with("arn:") && id.contains(":application-inference-profile/")
}

/// The region of an ARN (`arn:aws:bedrock:<region>:…`).
fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// The base of a profile from the ARNs of the models it routes to.
pub fn base_of(model_arns: &[&str]) -> Option<ProfileBase> {
    let first = model_arns.first()?;
    let (_, model) = first.rsplit_once("foundation-model/")?;
    let geographies: Vec<&str> = model_arns
        .iter()
        .filter_map(|arn| arn_region(arn))
        .map(profile_prefix)
        .collect();
    let priced_as = match geographies.first() {
        Some(geo) if model_arns.len() > 1 && geographies.iter().all(|g| g == geo) => {
            format!("{geo}.{model}")
        }
        _ => model.to_owned(),
    };
    Some(ProfileBase {
        model: model.to_owned(),
        priced_as,
    })
}

/// The profiles learned so far, by ARN.
#[derive(Debug, Clone, Default)]
pub struct ProfileBases {
    path: Option<PathBuf>,
    known: BTreeMap<String, ProfileBase>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    profiles: BTreeMap<String, ProfileBase>,
}

impl ProfileBases {
    /// The profiles remembered under `pincer_home` (none when the file is missing or unreadable:
    /// it is only a cache).
    pub fn load(pincer_home: &Path) -> Self {
        let path = pincer_home.join("cache").join("profiles.json");
        let known = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<File>(&text).ok())
            .map(|f| f.profiles)
            .unwrap_or_default();
        Self {
            path: Some(path),
            known,
        }
    }

    /// What `arn` routes to, if known.
    pub fn get(&self, arn: &str) -> Option<&ProfileBase> {
        self.known.get(arn)
    }

    /// Records what `arn` routes to (kept in memory; [`learn`](Self::learn) writes the file).
    pub fn insert(&mut self, arn: &str, base: ProfileBase) {
        self.known.insert(arn.to_owned(), base);
    }

    /// Asks Bedrock about each application profile of `ids` not known yet (one
    /// `GetInferenceProfile` each, in the profile's own region, within `deadline`), and writes
    /// what it learned. Returns a warning per profile it could not learn; such a profile is
    /// still callable, described by the defaults.
    pub async fn learn<'a>(
        &mut self,
        config: &SdkConfig,
        ids: impl IntoIterator<Item = &'a str>,
        deadline: Duration,
    ) -> Vec<String> {
        let mut warnings = Vec::new();
        let mut learned = false;
        let wanted: Vec<&str> = ids
            .into_iter()
            .filter(|id| is_application_profile(id) && !self.known.contains_key(*id))
            .collect();
        for arn in wanted {
            match fetch(config, arn, deadline).await {
                Ok(base) => {
                    tracing::debug!(profile = arn, model = %base.model, "learned an application profile's model");
                    self.known.insert(arn.to_owned(), base);
                    learned = true;
                }
                Err(error) => warnings.push(format!(
                    "could not look up application profile {arn} ({error}); its limits and prices are unknown"
                )),
            }
        }
        if learned && let Err(error) = self.save() {
            warnings.push(format!("could not write the profile cache: {error}"));
        }
        warnings
    }

    fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let text = serde_json::to_string_pretty(&File {
            profiles: self.known.clone(),
        })
        .map_err(std::io::Error::other)?;
        write_atomic(path, dir, &text)
    }
}

async fn fetch(
    config: &SdkConfig,
    arn: &str,
    deadline: Duration,
) -> Result<ProfileBase, ProviderError> {
    let region = arn_region(arn).unwrap_or("us-east-1").to_owned();
    let mut builder = aws_sdk_bedrock::config::Builder::from(config);
    // The profile lives in the region its ARN names, whatever region Pincer calls.
    if config.endpoint_url().is_none() {
        builder = builder.region(aws_config::Region::new(region.clone()));
    }
    let client = Client::from_conf(builder.build());
    let context = CallContext {
        model: arn,
        region: &region,
    };
    let answer = tokio::time::timeout(
        deadline,
        client
            .get_inference_profile()
            .inference_profile_identifier(arn)
            .send(),
    )
    .await
    .map_err(|_| {
        ProviderError::new(
            pincer_core::ErrorKind::Timeout,
            format!(
                "bedrock:GetInferenceProfile did not answer within {} s",
                deadline.as_secs_f32()
            ),
        )
    })?
    .map_err(|e| from_control_error(&e, "bedrock:GetInferenceProfile", context))?;
    let arns: Vec<&str> = answer
        .models()
        .iter()
        .filter_map(|m| m.model_arn())
        .collect();
    base_of(&arns).ok_or_else(|| {
        ProviderError::new(
            pincer_core::ErrorKind::InvalidModel,
            format!("application profile {arn} names no foundation model"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_priced_as_what_it_was_made_from() {
        let one = base_of(&[
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
        ])
        .unwrap();
        assert_eq!(one.model, "anthropic.claude-haiku-4-5-20251001-v1:0");
        assert_eq!(one.priced_as, one.model);
        let geo = base_of(&[
            "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-lite-v1:0",
            "arn:aws:bedrock:eu-central-1::foundation-model/amazon.nova-lite-v1:0",
        ])
        .unwrap();
        assert_eq!(geo.priced_as, "eu.amazon.nova-lite-v1:0");
        assert!(base_of(&["arn:aws:bedrock:us-east-1::custom-model/x"]).is_none());
        assert!(is_application_profile(
            "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/tw1nappprof1"
        ));
        assert!(!is_application_profile("us.amazon.nova-lite-v1:0"));
    }

    #[test]
    fn what_is_learned_survives_a_restart() {
        let home = tempfile::tempdir().unwrap();
        let mut bases = ProfileBases::load(home.path());
        assert!(bases.get("arn:x").is_none());
        bases.insert(
            "arn:x",
            ProfileBase {
                model: "m".into(),
                priced_as: "m".into(),
            },
        );
        bases.save().unwrap();
        let again = ProfileBases::load(home.path());
        assert_eq!(again.get("arn:x").unwrap().model, "m");
    }
}
