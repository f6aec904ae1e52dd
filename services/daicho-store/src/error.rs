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
    /// The database file is damaged: SQLite's own check found faults in
    /// its pages, or a read ran into a page that is not what SQLite wrote
    /// (`SQLITE_CORRUPT`, `SQLITE_NOTADB`). Nothing read from it can be
    /// trusted.
    #[error("the database file is damaged: {0}")]
    Damaged(String),
    /// The operation exists on the other backend only.
    #[error("not available on this backend: {0}")]
    Unsupported(&'static str),
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

/// SQLite's primary result code for a full disk (`SQLITE_FULL`).
const SQLITE_FULL: u32 = 13;
/// SQLite's primary result code for an I/O error (`SQLITE_IOERR`); its
/// extended codes say which operation failed in the bits above the low 8.
const SQLITE_IOERR: u32 = 10;
/// SQLite's primary result code for a damaged page (`SQLITE_CORRUPT`).
const SQLITE_CORRUPT: u32 = 11;
/// SQLite's primary result code for a file that is not a database
/// (`SQLITE_NOTADB`), such as one whose header was overwritten.
const SQLITE_NOTADB: u32 = 26;
/// PostgreSQL's SQLSTATE `53100` disk_full.
const PG_DISK_FULL: &str = "53100";
/// PostgreSQL's SQLSTATE `58030` io_error.
const PG_IO_ERROR: &str = "58030";
/// PostgreSQL's SQLSTATE class `08`, connection exceptions.
const PG_CONNECTION_EXCEPTION: &str = "08";
/// PostgreSQL's SQLSTATEs `57P01` admin_shutdown (also a connection ended
/// by `pg_terminate_backend`), `57P02` crash_shutdown and `57P03`
/// cannot_connect_now (starting or stopping).
const PG_SHUTDOWN: [&str; 3] = ["57P01", "57P02", "57P03"];

impl StoreError {
    /// Whether the database file is damaged ([`StoreError::Damaged`], or
    /// SQLite's `SQLITE_CORRUPT` or `SQLITE_NOTADB` from a query): the
    /// file must be restored, not retried.
    pub fn is_damaged(&self) -> bool {
        let e = match self {
            StoreError::Damaged(_) => return true,
            StoreError::Internal(e)
            | StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e))
            | StoreError::Migrate(sqlx::migrate::MigrateError::ExecuteMigration(e, _)) => e,
            _ => return false,
        };
        let sqlx::Error::Database(db) = e else {
            return false;
        };
        sqlite_primary_code(db.code()).is_some_and(|c| c == SQLITE_CORRUPT || c == SQLITE_NOTADB)
    }

    /// Whether the database cannot store anything now: for lack of room or
    /// an I/O failure of its storage (SQLite's `SQLITE_FULL` and
    /// `SQLITE_IOERR`, PostgreSQL's `53100` and `58030`, `ENOSPC`), or
    /// because the database server cannot be reached (a connection
    /// refused, reset or closed, a server shutting down or ending the
    /// connection: SQLSTATE class `08` and `57P01` to `57P03`, or no
    /// connection within the pool's wait). A condition an operator fixes
    /// and a client waits out, unlike a bug.
    pub fn is_storage_unavailable(&self) -> bool {
        let StoreError::Internal(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Database(db) => {
                let Some(code) = db.code() else {
                    return false;
                };
                match sqlite_primary_code(Some(code.clone())) {
                    Some(primary) => primary == SQLITE_FULL || primary == SQLITE_IOERR,
                    None => {
                        code == PG_DISK_FULL
                            || code == PG_IO_ERROR
                            || code.starts_with(PG_CONNECTION_EXCEPTION)
                            || PG_SHUTDOWN.contains(&code.as_ref())
                    }
                }
            }
            // An I/O error between the driver and the database (the
            // network to PostgreSQL, or a full disk the driver met), or no
            // connection to be had within the pool's wait.
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
            _ => false,
        }
    }
}

/// The primary result code of an SQLite error code (its low 8 bits);
/// `None` for PostgreSQL's five-character SQLSTATEs.
fn sqlite_primary_code(code: Option<std::borrow::Cow<'_, str>>) -> Option<u32> {
    let code = code?;
    // SQLite's codes are numbers below 5 digits; PostgreSQL's SQLSTATEs
    // have five characters.
    match code.parse::<u32>() {
        Ok(n) if code.len() < 5 => Some(n & 0xff),
        _ => None,
    }
}
