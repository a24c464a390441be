//! Admission of a keyed request: its budget for the current period, then its requests and
//! tokens in the current minute. Counters are rows changed by one atomic statement each
//! (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), so replicas sharing the database share
//! them. A minute is a fixed window (`floor(now / 60 s)`); a refused request is told how long
//! until the window or the period ends.
//!
//! What is spent is known only once an answer ends, so requests admitted together may cross a
//! budget or a token limit between them; the overrun is recorded in full, and the next request
//! is refused.

use sqlx::Row;

use crate::{Key, Period, Store, StoreError};

/// One minute, in milliseconds.
pub const MINUTE: i64 = 60_000;

/// Why a key's request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The key's requests per minute are used up.
    Requests {
        /// The limit.
        limit: u64,
        /// Seconds until the window ends.
        retry_after: u64,
    },
    /// The key's tokens per minute are used up.
    Tokens {
        /// The limit.
        limit: u64,
        /// Tokens used in this minute.
        used: u64,
        /// Seconds until the window ends.
        retry_after: u64,
    },
    /// The key's budget for this period is spent.
    Budget {
        /// The budget, in nano-USD.
        budget: i64,
        /// Spent in this period, in nano-USD.
        spent: i64,
        /// The period.
        period: Period,
        /// When the next period starts (Unix milliseconds).
        resets_at: i64,
        /// Seconds until then.
        retry_after: u64,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Requests { limit, retry_after } => write!(
                f,
                "this key's limit of {limit} requests per minute is reached; retry in {retry_after} s"
            ),
            Refusal::Tokens {
                limit,
                used,
                retry_after,
            } => write!(
                f,
                "this key's limit of {limit} tokens per minute is reached ({used} used this minute); retry in {retry_after} s"
            ),
            Refusal::Budget {
                budget,
                spent,
                period,
                resets_at,
                ..
            } => write!(
                f,
                "this key's budget of {} per {period} is spent ({} used); it resets at {}",
                crate::spend::usd(*budget),
                crate::spend::usd(*spent),
                crate::period::rfc3339(*resets_at)
            ),
        }
    }
}

/// Whether a request may go ahead.
pub type Admission = Result<(), Refusal>;

fn seconds_until(end: i64, now: i64) -> u64 {
    u64::try_from((end - now + 999) / 1000).unwrap_or(0).max(1)
}

impl Store {
    /// Admits (and counts) a request of `key` at `now`, or says why not.
    pub async fn admit(&self, key: &Key, now: i64) -> Result<Admission, StoreError> {
        let spent = match (key.budget_nanos, key.period) {
            (Some(_), Some(period)) => self.spent(&key.id, period.bounds(now).0).await?,
            _ => 0,
        };
        self.admit_having_spent(key, spent, now).await
    }

    /// [`Store::admit`] for a key whose spend in the current period was read with it
    /// ([`Store::lookup`]): one statement, and none for a key without rate limits.
    pub async fn admit_having_spent(
        &self,
        key: &Key,
        spent: i64,
        now: i64,
    ) -> Result<Admission, StoreError> {
        if let (Some(budget), Some(period)) = (key.budget_nanos, key.period) {
            let (_, end) = period.bounds(now);
            if spent >= budget {
                return Ok(Err(Refusal::Budget {
                    budget,
                    spent,
                    period,
                    resets_at: end,
                    retry_after: seconds_until(end, now),
                }));
            }
        }
        if key.rpm.is_none() && key.tpm.is_none() {
            return Ok(Ok(()));
        }
        let minute = now - now.rem_euclid(MINUTE);
        let row = sqlx::query(
            "INSERT INTO rate_windows (key_id, minute, requests, tokens) VALUES ($1, $2, 1, 0) \
             ON CONFLICT (key_id, minute) DO UPDATE SET requests = rate_windows.requests + 1 \
             RETURNING requests, tokens",
        )
        .bind(&key.id)
        .bind(minute)
        .fetch_one(self.pool())
        .await?;
        let requests = crate::spend::count(&row, "requests")?;
        let tokens = crate::spend::count(&row, "tokens")?;
        let retry_after = seconds_until(minute + MINUTE, now);
        if let Some(limit) = key.rpm
            && requests > limit
        {
            return Ok(Err(Refusal::Requests { limit, retry_after }));
        }
        if let Some(limit) = key.tpm
            && tokens >= limit
        {
            return Ok(Err(Refusal::Tokens {
                limit,
                used: tokens,
                retry_after,
            }));
        }
        Ok(Ok(()))
    }

    /// What `key_id` spent (nano-USD) in the period that starts at `period_start`.
    pub async fn spent(&self, key_id: &str, period_start: i64) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT nanos FROM budget_spend WHERE key_id = $1 AND period_start = $2")
                .bind(key_id)
                .bind(period_start)
                .fetch_optional(self.pool())
                .await?;
        Ok(match row {
            Some(row) => row.try_get("nanos")?,
            None => 0,
        })
    }

    /// Tokens counted against `key_id` in the minute holding `at`.
    pub async fn tokens_this_minute(&self, key_id: &str, at: i64) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT tokens FROM rate_windows WHERE key_id = $1 AND minute = $2")
            .bind(key_id)
            .bind(at - at.rem_euclid(MINUTE))
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => crate::spend::count(&row, "tokens")?,
            None => 0,
        })
    }
}
