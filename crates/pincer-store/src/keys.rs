//! Managed keys: created with a random secret shown once, kept as a SHA-256 hash, listed,
//! revoked and rotated. A key is looked up by its secret's hash on every request, so a revoke
//! or a rotation is seen at once by every replica that shares the database.

use globset::{Glob, GlobSet, GlobSetBuilder};
use pincer_core::Secret;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Period, Store, StoreError};

/// What every managed key's secret starts with; a credential with this prefix is always looked
/// up as a key (and refused when no live key has it), never taken for the admin token.
pub const SECRET_PREFIX: &str = "pincer-sk-";

/// What a new key may do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeySpec {
    /// A name for people (unique among live keys).
    pub name: String,
    /// Glob patterns of the models the key may use (`*` any text, `?` one character), matched
    /// against the model's `provider/model-id` and its bare id; empty: every model.
    pub models: Vec<String>,
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens (input, output and cache) per minute.
    pub tpm: Option<u64>,
    /// Spend allowed per period, in nano-USD, with its period.
    pub budget: Option<(i64, Period)>,
    /// When the key stops working (Unix milliseconds).
    pub expires_at: Option<i64>,
}

/// A key as stored (never its secret).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Key {
    /// The key's id (`key_…`), stable across rotations.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The first characters of its secret, to recognise it.
    pub prefix: String,
    /// Model patterns (empty: every model).
    pub models: Vec<String>,
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens per minute.
    pub tpm: Option<u64>,
    /// Budget per period, in nano-USD.
    pub budget_nanos: Option<i64>,
    /// The budget's period.
    pub period: Option<Period>,
    /// Expiry (Unix milliseconds).
    pub expires_at: Option<i64>,
    /// Creation (Unix milliseconds).
    pub created_at: i64,
    /// Last rotation (Unix milliseconds).
    pub rotated_at: Option<i64>,
    /// Revocation (Unix milliseconds).
    pub revoked_at: Option<i64>,
}

/// A key just made (or rotated), with the secret that is shown only now.
#[derive(Debug)]
pub struct NewKey {
    /// The stored key.
    pub key: Key,
    /// Its secret.
    pub secret: Secret,
}

/// Why a key cannot be used now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// Revoked at this time.
    Revoked(i64),
    /// Expired at this time.
    Expired(i64),
}

impl Key {
    /// Whether the key may be used at `now`.
    pub fn usable(&self, now: i64) -> Result<(), Unusable> {
        if let Some(at) = self.revoked_at {
            return Err(Unusable::Revoked(at));
        }
        match self.expires_at {
            Some(at) if at <= now => Err(Unusable::Expired(at)),
            _ => Ok(()),
        }
    }

    /// The key's model filter.
    pub fn models(&self) -> ModelFilter {
        ModelFilter::new(&self.models).unwrap_or_else(|_| ModelFilter::nothing())
    }
}

/// Which models a key may use.
#[derive(Debug, Clone)]
pub struct ModelFilter {
    set: Option<GlobSet>,
}

impl ModelFilter {
    /// The filter of `patterns` (every model when empty).
    pub fn new(patterns: &[String]) -> Result<Self, StoreError> {
        if patterns.is_empty() {
            return Ok(Self { set: None });
        }
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            builder.add(
                Glob::new(pattern)
                    .map_err(|e| StoreError::Invalid(format!("model pattern `{pattern}`: {e}")))?,
            );
        }
        let set = builder
            .build()
            .map_err(|e| StoreError::Invalid(format!("model patterns: {e}")))?;
        Ok(Self { set: Some(set) })
    }

    fn nothing() -> Self {
        Self {
            set: Some(GlobSet::empty()),
        }
    }

    /// Whether the model `key` (`provider/model-id`) is allowed.
    pub fn allows(&self, key: &str) -> bool {
        let Some(set) = &self.set else {
            return true;
        };
        let bare = key.split_once('/').map_or(key, |(_, id)| id);
        set.is_match(key) || set.is_match(bare)
    }

    /// Whether every model is allowed.
    pub fn is_all(&self) -> bool {
        self.set.is_none()
    }
}

/// The stored hash of a secret.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer)
        .map_err(|e| StoreError::Invalid(format!("no randomness for a key: {e}")))?;
    Ok(hex(&buffer))
}

/// A fresh secret (192 random bits) and its display prefix.
fn fresh_secret() -> Result<(Secret, String), StoreError> {
    let secret = format!("{SECRET_PREFIX}{}", random_hex(24)?);
    let prefix = secret[..SECRET_PREFIX.len() + 6].to_owned();
    Ok((Secret::new(secret), prefix))
}

/// `SELECT` of every stored column of a key, then `$tail`.
macro_rules! select_keys {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, prefix, models, rpm, tpm, budget_nanos, period, expires_at, created_at, rotated_at, revoked_at FROM keys ",
            $tail
        )
    };
}

/// A key found by its secret, with what it spent in its budget's current period (0 without a
/// budget), read in the same statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The key.
    pub key: Key,
    /// Spent in the current period, in nano-USD.
    pub spent: i64,
}

fn key_of(row: &AnyRow) -> Result<Key, StoreError> {
    let models: String = row.try_get("models")?;
    let period: Option<String> = row.try_get("period")?;
    let unsigned = |column: &str| -> Result<Option<u64>, StoreError> {
        Ok(row
            .try_get::<Option<i64>, _>(column)?
            .map(|n| u64::try_from(n).unwrap_or(0)))
    };
    Ok(Key {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        models: serde_json::from_str(&models).unwrap_or_default(),
        rpm: unsigned("rpm")?,
        tpm: unsigned("tpm")?,
        budget_nanos: row.try_get("budget_nanos")?,
        period: period.as_deref().map(Period::parse).transpose()?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        rotated_at: row.try_get("rotated_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn signed(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// Checks a key name: 1–64 letters, digits, `-`, `_` or `.`.
fn check_name(name: &str) -> Result<(), StoreError> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fine {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "key name `{name}`: use 1 to 64 letters, digits, `-`, `_` or `.`"
        )))
    }
}

impl Store {
    /// Creates a key at `now`; its secret is returned once and only its hash is stored.
    pub async fn create_key(&self, spec: &KeySpec, now: i64) -> Result<NewKey, StoreError> {
        check_name(&spec.name)?;
        ModelFilter::new(&spec.models)?;
        if let Some((nanos, _)) = spec.budget
            && nanos < 0
        {
            return Err(StoreError::Invalid(
                "a budget cannot be negative".to_owned(),
            ));
        }
        if let Some(at) = spec.expires_at
            && at <= now
        {
            return Err(StoreError::Invalid(format!(
                "the expiry {} is not in the future",
                crate::period::rfc3339(at)
            )));
        }
        let (secret, prefix) = fresh_secret()?;
        let id = format!("key_{}", random_hex(8)?);
        let models = serde_json::to_string(&spec.models).unwrap_or_else(|_| "[]".to_owned());
        let result = sqlx::query(
            "INSERT INTO keys (id, name, secret_hash, prefix, models, rpm, tpm, budget_nanos, period, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(&spec.name)
        .bind(hash(secret.expose()))
        .bind(&prefix)
        .bind(models)
        .bind(signed(spec.rpm))
        .bind(signed(spec.tpm))
        .bind(spec.budget.map(|(n, _)| n))
        .bind(spec.budget.map(|(_, p)| p.as_str().to_owned()))
        .bind(spec.expires_at)
        .bind(now)
        .execute(self.pool())
        .await;
        match result {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::NameTaken(spec.name.clone()));
            }
            Err(e) => return Err(e.into()),
        }
        let key = self
            .key_by_id(&id)
            .await?
            .ok_or_else(|| StoreError::Unavailable("the new key was not stored".to_owned()))?;
        Ok(NewKey { key, secret })
    }

    /// Every key, live ones first, then by name.
    pub async fn list_keys(&self) -> Result<Vec<Key>, StoreError> {
        let rows = sqlx::query(select_keys!(
            "ORDER BY (revoked_at IS NOT NULL), name, created_at"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(key_of).collect()
    }

    /// The key with this id.
    pub async fn key_by_id(&self, id: &str) -> Result<Option<Key>, StoreError> {
        let row = sqlx::query(select_keys!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(key_of).transpose()
    }

    /// The key whose secret is `secret` (revoked and expired ones included: the caller says
    /// why it is refused).
    pub async fn key_by_secret(&self, secret: &str) -> Result<Option<Key>, StoreError> {
        let row = sqlx::query(select_keys!("WHERE secret_hash = $1"))
            .bind(hash(secret))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(key_of).transpose()
    }

    /// The key whose secret is `secret` and what it spent in the budget period holding `now`,
    /// in one round trip (what the gateway does on every keyed request).
    pub async fn lookup(&self, secret: &str, now: i64) -> Result<Option<Found>, StoreError> {
        let row = sqlx::query(
            "SELECT k.id, k.name, k.prefix, k.models, k.rpm, k.tpm, k.budget_nanos, k.period, k.expires_at, k.created_at, k.rotated_at, k.revoked_at, \
               CAST(COALESCE(b.nanos, 0) AS BIGINT) AS spent \
             FROM keys k LEFT JOIN budget_spend b ON b.key_id = k.id AND b.period_start = \
               (CASE k.period WHEN 'day' THEN CAST($2 AS BIGINT) WHEN 'week' THEN CAST($3 AS BIGINT) WHEN 'month' THEN CAST($4 AS BIGINT) ELSE CAST(-1 AS BIGINT) END) \
             WHERE k.secret_hash = $1",
        )
        .bind(hash(secret))
        .bind(Period::Day.bounds(now).0)
        .bind(Period::Week.bounds(now).0)
        .bind(Period::Month.bounds(now).0)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(|row| {
                Ok(Found {
                    key: key_of(row)?,
                    spent: row.try_get("spent")?,
                })
            })
            .transpose()
    }

    /// The live key named (or with the id) `which`.
    async fn live(&self, which: &str) -> Result<Key, StoreError> {
        let row = sqlx::query(select_keys!(
            "WHERE (name = $1 OR id = $1) AND revoked_at IS NULL"
        ))
        .bind(which)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(key_of)
            .transpose()?
            .ok_or_else(|| StoreError::NoSuchKey(which.to_owned()))
    }

    /// Revokes the live key named (or with the id) `which` at `now`.
    pub async fn revoke(&self, which: &str, now: i64) -> Result<Key, StoreError> {
        let key = self.live(which).await?;
        sqlx::query("UPDATE keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(&key.id)
            .execute(self.pool())
            .await?;
        Ok(Key {
            revoked_at: Some(now),
            ..key
        })
    }

    /// Gives the live key `which` a new secret at `now`; the old secret stops working at once.
    /// Its id, name, limits, budget and spend stay.
    pub async fn rotate(&self, which: &str, now: i64) -> Result<NewKey, StoreError> {
        let key = self.live(which).await?;
        let (secret, prefix) = fresh_secret()?;
        let done = sqlx::query(
            "UPDATE keys SET secret_hash = $1, prefix = $2, rotated_at = $3 WHERE id = $4 AND revoked_at IS NULL",
        )
        .bind(hash(secret.expose()))
        .bind(&prefix)
        .bind(now)
        .bind(&key.id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchKey(which.to_owned()));
        }
        Ok(NewKey {
            key: Key {
                prefix,
                rotated_at: Some(now),
                ..key
            },
            secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_the_key_or_the_bare_id() {
        let filter = ModelFilter::new(&[
            "*claude-haiku*".to_owned(),
            "amazon-bedrock/amazon.nova-lite-v1:0".to_owned(),
        ])
        .unwrap();
        assert!(filter.allows("amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"));
        assert!(filter.allows("amazon-bedrock/amazon.nova-lite-v1:0"));
        assert!(!filter.allows("amazon-bedrock/amazon.nova-pro-v1:0"));
        assert!(ModelFilter::new(&[]).unwrap().allows("anything/at-all"));
        assert!(ModelFilter::new(&["[".to_owned()]).is_err());
        let (secret, prefix) = fresh_secret().unwrap();
        assert!(
            secret.expose().starts_with(SECRET_PREFIX)
                && secret.expose().len() == SECRET_PREFIX.len() + 48
        );
        assert!(secret.expose().starts_with(&prefix));
        assert_eq!(hash("x").len(), 64);
    }
}
