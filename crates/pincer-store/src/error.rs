//! What can go wrong with the store, kept apart from the refusals a limit makes.

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL cannot be used.
    #[error("gateway.database.url: {0}")]
    Url(String),
    /// The database cannot be reached or answered with an error.
    #[error("the key and spend database is unavailable: {0}")]
    Unavailable(String),
    /// The schema could not be brought up to date.
    #[error("the key and spend database could not be migrated: {0}")]
    Migration(String),
    /// A live key already has this name.
    #[error("a key named `{0}` already exists (revoke it or choose another name)")]
    NameTaken(String),
    /// No live key has this name or id.
    #[error("no live key is named `{0}` (see `pincer keys list`)")]
    NoSuchKey(String),
    /// A key's settings are not usable.
    #[error("{0}")]
    Invalid(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}
