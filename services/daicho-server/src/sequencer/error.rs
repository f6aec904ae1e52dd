//! What the sequencer's operations refuse or fail with.

use std::path::PathBuf;
use std::sync::Arc;

use daicho_core::event::EventId;
use daicho_core::registry::RegistryError;
use daicho_store::StoreError;

use crate::last_checkpoint::LastCheckpointError;

/// Why the sequencer did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database cannot be read.
    #[error("reading the ledger from the database")]
    Store(#[source] StoreError),
    /// The database file is damaged (SQLite's page check, or a read that
    /// ran into a damaged page): nothing in it is served.
    #[error(
        "refusing to start: the database file is damaged ({0}). Do not start on it and do not \
         delete it: stop, keep the database file with its -wal and -shm files for the \
         investigation, and restore the newest backup with `daicho restore \
         --replace-database` (docs/OPERATIONS.md, \"A damaged database\")."
    )]
    Damaged(String),
    /// The database holds no ledger.
    #[error("the database holds no ledger (no genesis entry); initialise it first")]
    Uninitialised,
    /// [`Sequencer::initialise`](super::Sequencer::initialise) on a database
    /// that already holds a ledger.
    #[error("the database already holds a ledger; refusing to touch it")]
    AlreadyInitialised,
    /// The genesis entry is not a valid genesis for this ledger key.
    #[error("the genesis entry is not one of this ledger key")]
    Genesis(#[source] RegistryError),
    /// The data directory does not hold the ledger's current key: the
    /// database belongs to another ledger, or a rotation of the ledger
    /// key was not installed on this instance.
    #[error(
        "refusing to start: the ledger's current key is {0}, and this data directory does not \
         hold it (keys/ledger.key, keys/ledger.previous.key, keys/ledger.next.key). Either the \
         database is another ledger's, or the ledger key was rotated on another instance and \
         its key files were not copied here (docs/OPERATIONS.md, \"Rotating the ledger key\")."
    )]
    KeyNotHeld(String),
    /// The database contradicts itself (a gap, a checkpoint that does not
    /// match the entries, …): it was changed by something other than daicho,
    /// or its file or log was damaged.
    #[error(
        "refusing to start: the database is inconsistent: {0}. It was changed by something \
         other than daicho, or its file or write-ahead log was damaged. Keep it for the \
         investigation and restore the newest backup with `daicho restore \
         --replace-database` (docs/OPERATIONS.md, \"A damaged database\")."
    )]
    Corrupt(String),
    /// The database is shorter than the last checkpoint this ledger signed.
    #[error(
        "refusing to start: the database holds {db_size} entries, but this ledger already \
         signed a checkpoint of {file_size} entries ({path}). The database was restored from \
         an older copy, lost the end of its write-ahead log (daicho.db-wal), or is not this \
         ledger's database. Restore the newest database (docs/OPERATIONS.md, \"When the fork \
         guard fires after a restore\"); start with --accept-rollback only if losing the \
         entries with seq {db_size} to {last} (inclusive) is intended.",
        last = .file_size - 1
    )]
    RolledBack {
        /// The last-checkpoint file.
        path: PathBuf,
        /// Its size.
        file_size: u64,
        /// The database's size.
        db_size: u64,
    },
    /// The database's first entries are not those the last checkpoint covers.
    #[error(
        "refusing to start: the first {size} entries in the database are not the ones the \
         last checkpoint this ledger signed covers ({path}): this is another ledger's database, \
         or a copy that was changed. Start with --accept-rollback only if replacing the \
         ledger's history is intended."
    )]
    Diverged {
        /// The last-checkpoint file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The last-checkpoint file cannot be read or written.
    #[error(transparent)]
    CheckpointFile(#[from] LastCheckpointError),
}

impl From<StoreError> for StartError {
    /// A damaged file is told apart from a database that cannot be
    /// reached: the one is restored, the other waited for.
    fn from(e: StoreError) -> Self {
        if let StoreError::Damaged(findings) = e {
            StartError::Damaged(findings)
        } else if e.is_damaged() {
            // SQLite's words are in the cause, not in the store's summary.
            let mut detail = String::new();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                if !detail.is_empty() {
                    detail.push_str(": ");
                }
                detail.push_str(&s.to_string());
                source = s.source();
            }
            StartError::Damaged(detail)
        } else {
            StartError::Store(e)
        }
    }
}

/// Why a read of the ledger's past failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The database cannot be read.
    #[error("reading the database")]
    Store(#[from] StoreError),
    /// What is stored does not rebuild.
    #[error("the database is inconsistent: {0}")]
    Corrupt(String),
}

/// Why an append was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The event id is already in the ledger (or earlier in the same group)
    /// with different content. Nothing was appended.
    #[error("event {0} was already appended with different content")]
    Conflict(EventId),
    /// The registry does not authorise an event (or its signature does not
    /// verify). Nothing of the request was appended.
    #[error(transparent)]
    Rejected(RegistryError),
    /// The database or the sequencer failed; whether the group was
    /// committed is unknown, so the submitter retries (retries are
    /// idempotent).
    #[error("the append failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database's storage could not take the group (full, or failing
    /// I/O); as with [`AppendError::Internal`], whether it was committed is
    /// unknown, and the submitter retries once the operator made room.
    #[error("the ledger's storage cannot take writes now")]
    StorageUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The sequencer is shutting down.
    #[error("the sequencer is shutting down")]
    Unavailable,
}

/// The writer task ended abnormally.
#[derive(Debug, thiserror::Error)]
#[error("the sequencer's writer task panicked")]
pub struct ShutdownError;

/// A failure that ends a whole group; every request in it gets
/// [`AppendError::StorageUnavailable`] if the storage could not take it,
/// else [`AppendError::Internal`].
#[derive(Debug, thiserror::Error)]
pub(super) enum GroupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Refused(String),
}

/// One error shared by every request of a failed group.
#[derive(Debug, Clone)]
pub(super) struct SharedError(pub(super) Arc<GroupError>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
