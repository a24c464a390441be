//! The spend of every request — caller, model, door, tokens, cost, latency, outcome and request
//! id, never its contents — written in batches, with each keyed answer's tokens added to its
//! minute and its cost to its budget period in the same transaction; and the reports `pincer
//! usage` prints.

use sqlx::Row;

use crate::limits::MINUTE;
use crate::{Period, Store, StoreError};

/// The caller of requests made with the admin token.
pub const ADMIN: &str = "(admin)";
/// The caller of requests to a gateway without a token.
pub const ANONYMOUS: &str = "(none)";

/// One request, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendRow {
    /// When it ended (Unix milliseconds).
    pub at: i64,
    /// The key's id, for a keyed request.
    pub key_id: Option<String>,
    /// The key's name, [`ADMIN`] or [`ANONYMOUS`].
    pub caller: String,
    /// The key's budget period, when it has a budget.
    pub period: Option<Period>,
    /// The model's catalog key (empty before one was resolved).
    pub model: String,
    /// The front door (`chat`, `responses`, `messages`, `embeddings`, …).
    pub door: String,
    /// Input tokens (not from or to the cache).
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Tokens read from the prompt cache.
    pub cache_read: u64,
    /// Tokens written to the prompt cache.
    pub cache_write: u64,
    /// The cost in nano-USD, `None` when the model's price is unknown.
    pub cost_nanos: Option<i64>,
    /// Milliseconds from the request to its end.
    pub latency_ms: u64,
    /// `ok`, `error` or `cancelled`.
    pub outcome: String,
    /// The HTTP status the client received.
    pub status: u16,
    /// The request id (`x-request-id`).
    pub request_id: Option<String>,
}

impl SpendRow {
    /// Every token the request used.
    pub fn tokens(&self) -> u64 {
        self.input + self.output + self.cache_read + self.cache_write
    }
}

/// nano-USD of `usd`.
pub fn nanos(usd: f64) -> i64 {
    // Saturating: a cost beyond i64 nano-USD (9 billion USD) is not a real answer.
    (usd * 1e9).round() as i64
}

/// `nanos` as dollars, to the precision that matters.
pub fn usd(nanos: i64) -> String {
    let dollars = nanos as f64 / 1e9;
    if nanos != 0 && dollars.abs() < 0.01 {
        format!("${dollars:.6}")
    } else {
        format!("${dollars:.2}")
    }
}

/// A count column (`BIGINT`, never negative) as `u64`.
pub(crate) fn count(row: &sqlx::any::AnyRow, column: &str) -> Result<u64, StoreError> {
    Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// How `pincer usage` groups requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// By key name (admin and tokenless callers by their labels).
    Key,
    /// By model.
    Model,
    /// By UTC day.
    Day,
}

/// One group of a usage report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UsageRow {
    /// The key name, model or day (`YYYY-MM-DD`).
    pub group: String,
    /// Requests.
    pub requests: u64,
    /// Requests that did not end `ok`.
    pub failed: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cache read tokens.
    pub cache_read_tokens: u64,
    /// Cache write tokens.
    pub cache_write_tokens: u64,
    /// Known cost, in nano-USD.
    pub cost_nanos: i64,
    /// Requests that used tokens of a model whose price is unknown (their cost is not in
    /// `cost_nanos`).
    pub unpriced: u64,
}

impl Store {
    /// Writes `rows` in one transaction, adding keyed answers' tokens to their minute and their
    /// cost to their budget period.
    pub async fn record(&self, rows: &[SpendRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        // A batch's tokens per key and minute, and its cost per key and period, are summed
        // first: one upsert each, however many requests the batch holds.
        let mut tokens: std::collections::BTreeMap<(&str, i64), u64> = Default::default();
        let mut costs: std::collections::BTreeMap<(&str, i64), i64> = Default::default();
        for row in rows {
            let Some(key_id) = row.key_id.as_deref() else {
                continue;
            };
            if row.tokens() > 0 {
                *tokens
                    .entry((key_id, row.at - row.at.rem_euclid(MINUTE)))
                    .or_default() += row.tokens();
            }
            if let (Some(period), Some(cost)) = (row.period, row.cost_nanos)
                && cost > 0
            {
                *costs.entry((key_id, period.bounds(row.at).0)).or_default() += cost;
            }
        }
        let mut tx = self.pool().begin().await?;
        // Rows in multi-row INSERTs, 500 at a time (14 parameters each: 7,000, under SQLite's
        // limit of 32,766).
        for chunk in rows.chunks(500) {
            // `$N` placeholders, numbered here: both databases read them (sqlx's `Any` query
            // builder would write `?`, which PostgreSQL does not).
            let mut sql = String::from(
                "INSERT INTO requests (at, key_id, caller, model, door, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_nanos, latency_ms, outcome, status, request_id) VALUES ",
            );
            for i in 0..chunk.len() {
                let first = i * 14;
                sql.push_str(if i == 0 { "(" } else { ", (" });
                let placeholders: Vec<String> =
                    (1..=14).map(|n| format!("${}", first + n)).collect();
                sql.push_str(&placeholders.join(", "));
                sql.push(')');
            }
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                insert = insert
                    .bind(row.at)
                    .bind(row.key_id.clone())
                    .bind(row.caller.clone())
                    .bind(row.model.clone())
                    .bind(row.door.clone())
                    .bind(signed(row.input))
                    .bind(signed(row.output))
                    .bind(signed(row.cache_read))
                    .bind(signed(row.cache_write))
                    .bind(row.cost_nanos)
                    .bind(signed(row.latency_ms))
                    .bind(row.outcome.clone())
                    .bind(i64::from(row.status))
                    .bind(row.request_id.clone());
            }
            insert.execute(&mut *tx).await?;
        }
        for ((key_id, minute), count) in tokens {
            sqlx::query(
                "INSERT INTO rate_windows (key_id, minute, requests, tokens) VALUES ($1, $2, 0, $3) \
                 ON CONFLICT (key_id, minute) DO UPDATE SET tokens = rate_windows.tokens + $3",
            )
            .bind(key_id)
            .bind(minute)
            .bind(signed(count))
            .execute(&mut *tx)
            .await?;
        }
        for ((key_id, period_start), cost) in costs {
            sqlx::query(
                "INSERT INTO budget_spend (key_id, period_start, nanos) VALUES ($1, $2, $3) \
                 ON CONFLICT (key_id, period_start) DO UPDATE SET nanos = budget_spend.nanos + $3",
            )
            .bind(key_id)
            .bind(period_start)
            .bind(cost)
            .execute(&mut *tx)
            .await?;
        }
        // Minutes older than an hour are read by nothing.
        let newest = rows.iter().map(|r| r.at).max().unwrap_or_default();
        sqlx::query("DELETE FROM rate_windows WHERE minute < $1")
            .bind(newest - 60 * MINUTE)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest `limit` requests, newest first.
    pub async fn recent(&self, limit: u32) -> Result<Vec<SpendRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, key_id, caller, model, door, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_nanos, latency_ms, outcome, status, request_id \
             FROM requests ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SpendRow {
                    at: row.try_get("at")?,
                    key_id: row.try_get("key_id")?,
                    caller: row.try_get("caller")?,
                    period: None,
                    model: row.try_get("model")?,
                    door: row.try_get("door")?,
                    input: count(row, "input_tokens")?,
                    output: count(row, "output_tokens")?,
                    cache_read: count(row, "cache_read_tokens")?,
                    cache_write: count(row, "cache_write_tokens")?,
                    cost_nanos: row.try_get("cost_nanos")?,
                    latency_ms: count(row, "latency_ms")?,
                    outcome: row.try_get("outcome")?,
                    status: u16::try_from(row.try_get::<i64, _>("status")?).unwrap_or(0),
                    request_id: row.try_get("request_id")?,
                })
            })
            .collect()
    }

    /// Requests since `since` (Unix milliseconds), grouped `by`, largest cost first (days in
    /// order).
    pub async fn usage(&self, by: GroupBy, since: i64) -> Result<Vec<UsageRow>, StoreError> {
        let group = match by {
            GroupBy::Key => "caller",
            GroupBy::Model => "model",
            GroupBy::Day => "CAST(at / 86400000 AS BIGINT)",
        };
        let order = match by {
            GroupBy::Day => "grp",
            _ => "cost DESC, requests DESC, grp",
        };
        let sql = format!(
            "SELECT CAST({group} AS TEXT) AS grp, \
               COUNT(*) AS requests, \
               CAST(SUM(CASE WHEN outcome = 'ok' THEN 0 ELSE 1 END) AS BIGINT) AS failed, \
               CAST(SUM(input_tokens) AS BIGINT) AS input, \
               CAST(SUM(output_tokens) AS BIGINT) AS output, \
               CAST(SUM(cache_read_tokens) AS BIGINT) AS cache_read, \
               CAST(SUM(cache_write_tokens) AS BIGINT) AS cache_write, \
               CAST(COALESCE(SUM(cost_nanos), 0) AS BIGINT) AS cost, \
               CAST(SUM(CASE WHEN cost_nanos IS NULL AND input_tokens + output_tokens + cache_read_tokens + cache_write_tokens > 0 THEN 1 ELSE 0 END) AS BIGINT) AS unpriced \
             FROM requests WHERE at >= $1 GROUP BY {group} ORDER BY {order}"
        );
        // `group` and `order` are fixed texts chosen by `by`, never input.
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(since)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let group: String = row.try_get("grp")?;
                let group = match by {
                    GroupBy::Day => group
                        .parse::<i64>()
                        .map(|day| crate::period::utc_date(day * 86_400_000).to_string())
                        .unwrap_or(group),
                    _ => group,
                };
                Ok(UsageRow {
                    group,
                    requests: count(row, "requests")?,
                    failed: count(row, "failed")?,
                    input_tokens: count(row, "input")?,
                    output_tokens: count(row, "output")?,
                    cache_read_tokens: count(row, "cache_read")?,
                    cache_write_tokens: count(row, "cache_write")?,
                    cost_nanos: row.try_get("cost")?,
                    unpriced: count(row, "unpriced")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact_in_nano_dollars() {
        assert_eq!(nanos(0.000_000_25), 250);
        assert_eq!(nanos(5.0), 5_000_000_000);
        assert_eq!(usd(5_000_000_000), "$5.00");
        assert_eq!(usd(2_500), "$0.000003");
        assert_eq!(usd(0), "$0.00");
    }
}
