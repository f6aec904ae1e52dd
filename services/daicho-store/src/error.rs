//! Errors of the store.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no supported backend or cannot be parsed.
    #[error("unsupported database URL: {0}")]
    BadUrl(String),
    /// A row would repeat a unique key: an event id, a sequence number, a
    /// checkpoint size or a token that is already stored.
    #[error("already stored: {0}")]
    Conflict(String),
    /// A stored row cannot be read back as what this code wrote, which
    /// means the database was changed by something else.
    #[error("corrupt row at seq {seq}: {reason}")]
    Corrupt {
        /// The entry (or checkpoint size) at fault.
        seq: u64,
        /// What does not parse.
        reason: String,
    },
    /// The schema migrations failed.
    #[error("migrating the database schema failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error (connection, I/O, lock timeout).
    #[error("database error")]
    Internal(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // A unique violation is the caller's concern (a repeated key), not a
        // broken database, so it gets its own variant.
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict(db.message().to_owned());
            }
        }
        StoreError::Internal(e)
    }
}
