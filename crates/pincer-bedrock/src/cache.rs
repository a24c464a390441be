//! The discovery cache: discovered models on disk under `PINCER_HOME/cache`, one file per
//! region, account identity and provider filter, so that a warm `pincer models list` makes no
//! network call. The identity is a fingerprint computed without the network (a hash of the access
//! key id or bearer token, or the profile name): no secret is ever written.
//!
//! A corrupt or truncated file is ignored with a warning and rebuilt; writes are atomic
//! (temporary file and rename) with mode 0600 in a 0700 folder.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pincer_core::env::EnvVars;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use pincer_config::store::{create_private_dir, write_atomic};

use crate::aws::Environment;
use crate::discovery::DiscoveredModel;

/// 2: models carry Bedrock's capability facts.
const FORMAT_VERSION: u32 = 2;

/// What a cache file is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// Discovery region.
    pub region: String,
    /// Account identity fingerprint.
    pub identity: String,
    /// Provider filter, lower-cased and sorted.
    pub filter: Vec<String>,
}

impl CacheKey {
    /// A key; the filter is normalised so that order and case do not matter.
    pub fn new(region: &str, identity: &str, filter: &[String]) -> Self {
        let mut filter: Vec<String> = filter.iter().map(|f| f.trim().to_lowercase()).collect();
        filter.sort();
        filter.dedup();
        Self {
            region: region.to_owned(),
            identity: identity.to_owned(),
            filter,
        }
    }

    fn file_name(&self) -> String {
        let text = format!(
            "{}|{}|{}",
            self.region,
            self.identity,
            self.filter.join(",")
        );
        format!(
            "discovery-{}.json",
            &hex(&Sha256::digest(text.as_bytes()))[..16]
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The identity fingerprint for the credentials the environment names, computed offline.
pub fn identity_fingerprint(env: &dyn Environment) -> String {
    let digest = |text: &str| hex(&Sha256::digest(text.as_bytes()))[..16].to_owned();
    if let Some(token) = env.var(EnvVars::AWS_BEARER_TOKEN_BEDROCK) {
        return format!("bearer:{}", digest(&token));
    }
    if let Some(key) = env.var(EnvVars::AWS_ACCESS_KEY_ID) {
        return format!("key:{}", digest(&key));
    }
    if let Some(profile) = env.var(EnvVars::AWS_PROFILE) {
        return format!("profile:{profile}");
    }
    "default-chain".to_owned()
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CacheFile {
    version: u32,
    key: CacheKey,
    fetched_at: u64,
    models: Vec<DiscoveredModel>,
}

/// Models read from the cache, with their age.
#[derive(Debug, Clone)]
pub struct Cached {
    /// The models.
    pub models: Vec<DiscoveredModel>,
    /// How long ago they were fetched.
    pub age: Duration,
}

/// The cache folder.
#[derive(Debug, Clone)]
pub struct DiscoveryCache {
    dir: PathBuf,
}

impl DiscoveryCache {
    /// The cache under Pincer's home folder.
    pub fn new(pincer_home: &Path) -> Self {
        Self {
            dir: pincer_home.join("cache"),
        }
    }

    /// The file for `key`.
    pub fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// Reads the entry for `key`: `Ok(None)` when there is none, `Err(warning)` when the file is
    /// unreadable or corrupt (it will be rebuilt).
    pub fn load(&self, key: &CacheKey) -> Result<Option<Cached>, String> {
        let path = self.path(key);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => {
                return Err(format!(
                    "ignoring the discovery cache {}: {err}",
                    path.display()
                ));
            }
        };
        let file: CacheFile = serde_json::from_str(&text).map_err(|err| {
            format!(
                "ignoring the corrupt discovery cache {} ({err}); it will be rebuilt",
                path.display()
            )
        })?;
        if file.version != FORMAT_VERSION || &file.key != key {
            return Ok(None);
        }
        let fetched = UNIX_EPOCH + Duration::from_secs(file.fetched_at);
        let age = SystemTime::now()
            .duration_since(fetched)
            .unwrap_or_default();
        Ok(Some(Cached {
            models: file.models,
            age,
        }))
    }

    /// Writes the entry for `key`.
    pub fn store(&self, key: &CacheKey, models: &[DiscoveredModel]) -> io::Result<()> {
        create_private_dir(&self.dir)?;
        let fetched_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let file = CacheFile {
            version: FORMAT_VERSION,
            key: key.clone(),
            fetched_at,
            models: models.to_vec(),
        };
        let text = serde_json::to_string(&file).map_err(io::Error::other)?;
        write_atomic(&self.path(key), &self.dir, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn model(id: &str) -> DiscoveredModel {
        DiscoveredModel {
            id: id.into(),
            base_id: id.into(),
            name: id.into(),
            provider_name: "Amazon".into(),
            input: vec![pincer_core::Modality::Text],
            hidden: None,
            facts: Default::default(),
            profile_of: None,
            embedding: false,
        }
    }

    #[test]
    fn stores_loads_and_survives_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiscoveryCache::new(dir.path());
        let key = CacheKey::new(
            "us-east-1",
            "key:abc",
            &["Amazon".into(), "anthropic".into()],
        );
        assert!(cache.load(&key).unwrap().is_none());
        cache
            .store(&key, &[model("amazon.nova-micro-v1:0")])
            .unwrap();
        let cached = cache.load(&key).unwrap().unwrap();
        assert_eq!(cached.models, vec![model("amazon.nova-micro-v1:0")]);
        assert!(cached.age < Duration::from_secs(5));
        // Same filter in another order and case: the same entry.
        assert!(
            cache
                .load(&CacheKey::new(
                    "us-east-1",
                    "key:abc",
                    &["ANTHROPIC".into(), "amazon".into()]
                ))
                .unwrap()
                .is_some()
        );
        // Another region or identity: another entry.
        assert!(
            cache
                .load(&CacheKey::new("eu-west-1", "key:abc", &[]))
                .unwrap()
                .is_none()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(cache.path(&key)).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(dir.path().join("cache"))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700
            );
        }
        fs::write(cache.path(&key), "{\"version\": 2, \"key\": {").unwrap();
        let warning = cache.load(&key).unwrap_err();
        assert!(warning.contains("corrupt"), "{warning}");
        cache.store(&key, &[model("m")]).unwrap();
        assert_eq!(cache.load(&key).unwrap().unwrap().models.len(), 1);
    }

    #[test]
    fn fingerprints_hold_no_secret() {
        let env: HashMap<String, String> =
            [("AWS_ACCESS_KEY_ID".to_owned(), "AKIDSECRETISH".to_owned())]
                .into_iter()
                .collect();
        let fingerprint = identity_fingerprint(&env);
        assert!(fingerprint.starts_with("key:") && !fingerprint.contains("AKIDSECRETISH"));
        let bearer: HashMap<String, String> =
            [("AWS_BEARER_TOKEN_BEDROCK".to_owned(), "tok-123".to_owned())]
                .into_iter()
                .collect();
        assert!(!identity_fingerprint(&bearer).contains("tok-123"));
    }
}
