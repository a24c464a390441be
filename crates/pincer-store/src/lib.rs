//! The managed-key flow's storage: keys (only a SHA-256 of each secret is kept), their model
//! allow-lists, request and token limits and budgets, and the spend of every request — in an
//! embedded SQLite file by default, or in PostgreSQL when several gateway replicas share them.
//!
//! One [`Store`] speaks to either through sqlx's `Any` pool with SQL both accept; only the
//! migrations differ (`migrations/sqlite`, `migrations/postgres`), and they run when the store
//! opens. Counters that limits read (requests and tokens per minute, spend per period) are rows
//! updated atomically in the database, so a limit holds across every replica that shares it.
//! Every function takes the time it acts at, so periods and windows are testable at their
//! boundaries.

mod error;
pub mod keys;
pub mod limits;
pub mod period;
pub mod spend;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use error::StoreError;
pub use keys::{Key, KeySpec, NewKey, SECRET_PREFIX};
pub use limits::{Admission, Refusal};
pub use period::Period;
pub use spend::{GroupBy, SpendRow, UsageRow};

/// Which database a store is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::Url(format!(
                "`{scheme}:` is not a database this gateway speaks; use sqlite://PATH or postgres://USER@HOST/DB"
            ))),
        }
    }
}

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a request waits for a database connection before it is refused with 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A connection pool to the key and spend database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// The SQLite URL of the default database file, `PINCER_HOME/pincer.db`.
    pub fn default_url(pincer_home: &std::path::Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            pincer_home.join("pincer.db").display()
        )
    }

    /// A pool for `url` that connects when first used (a database that is down at start is
    /// not fatal: requests that need it are refused until it answers). Call [`Store::migrate`]
    /// before relying on the tables.
    pub fn lazy(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::of(url)?;
        // A password in the URL is kept out of every log line.
        if let Ok(parsed) = url::Url::parse(url)
            && let Some(password) = parsed.password()
        {
            pincer_core::Secret::new(password);
        }
        if backend == Backend::Sqlite
            && let Some(dir) = sqlite_path(url).and_then(|p| p.parent().map(ToOwned::to_owned))
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(&dir).map_err(|e| {
                StoreError::Url(format!(
                    "cannot create {} for the database: {e}",
                    dir.display()
                ))
            })?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping before every statement (a round trip each): a connection the database
            // dropped fails its statement, is discarded, and the gateway tries once more.
            .test_before_acquire(false)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Readers do not wait for the writer, and another process sharing the
                        // file waits for a lock rather than failing.
                        connection.execute("PRAGMA journal_mode = WAL").await?;
                        connection.execute("PRAGMA synchronous = NORMAL").await?;
                        connection.execute("PRAGMA busy_timeout = 5000").await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy(url)
            .map_err(|e| StoreError::Url(e.to_string()))?;
        Ok(Self { pool, backend })
    }

    /// Opens `url` and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::lazy(url)?;
        store.migrate().await?;
        Ok(store)
    }

    /// Runs the migrations this database has not had yet (versioned; PostgreSQL takes an
    /// advisory lock, so replicas starting together migrate once).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// The database's kind.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// The file of an `sqlite://` URL.
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Unix milliseconds of `time`.
pub fn millis(time: std::time::SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Unix milliseconds now.
pub fn now_millis() -> i64 {
    millis(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend_and_file() {
        assert_eq!(
            sqlite_path("sqlite:///tmp/x/pincer.db?mode=rwc").unwrap(),
            std::path::PathBuf::from("/tmp/x/pincer.db")
        );
        assert!(Backend::of("mysql://x").is_err());
        assert_eq!(Backend::of("postgresql://x").unwrap(), Backend::Postgres);
    }
}
