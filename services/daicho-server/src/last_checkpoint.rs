//! The last signed checkpoint, kept outside the database in two files: one
//! beside the keys (`DIR/keys/last-checkpoint`) and a copy beside the
//! SQLite database (`DIR/last-checkpoint`).
//!
//! A database restored from an old backup, or a second copy of it, looks
//! like a perfectly good ledger on its own. The files are the ledger's
//! memory of how far it had already committed itself: start-up refuses a
//! database that does not extend the newest checkpoint in them. There are
//! two so that deleting or losing one does not disarm the check: start-up
//! compares the database with whichever is present and newest, and then
//! writes both again. Each file is replaced atomically (temporary file,
//! fsync, rename, fsync of the directory), so a crash leaves either the old
//! note or the new one, never a torn one.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use daicho_core::checkpoint::{Checkpoint, CheckpointError, CheckpointKeys};

/// The file's name inside the keys directory.
pub const FILE_NAME: &str = "last-checkpoint";

/// Why the file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LastCheckpointError {
    /// The file exists but cannot be read.
    #[error("reading {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file does not hold a checkpoint signed by this ledger's key.
    #[error("{path} does not hold a checkpoint signed by this ledger's key")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why the note was refused.
        #[source]
        source: CheckpointError,
    },
    /// Both files hold checkpoints of the same size with different roots:
    /// two histories were signed with this ledger's key.
    #[error(
        "{path} and {copy} hold different checkpoints of the same size {size}: \
         the ledger's key signed two histories"
    )]
    Disagree {
        /// The file beside the keys.
        path: PathBuf,
        /// The copy.
        copy: PathBuf,
        /// The size both checkpoints claim.
        size: u64,
    },
    /// The new note could not be made durable.
    #[error("writing {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// The last-checkpoint files of one ledger: the file and its copy.
#[derive(Debug, Clone)]
pub struct LastCheckpointFile {
    path: PathBuf,
    copy: PathBuf,
}

/// A note read from one file and opened under the ledger's key.
type Read = Option<(Checkpoint, String)>;

impl LastCheckpointFile {
    /// The file at `path` and its copy: when `path` is in a directory named
    /// `keys`, the copy is [`FILE_NAME`] in the directory above it (the
    /// data directory, beside the SQLite database); otherwise it is
    /// `PATH.copy`.
    pub fn new(path: impl Into<PathBuf>) -> LastCheckpointFile {
        let path = path.into();
        let copy = match path.parent() {
            Some(keys) if keys.file_name().is_some_and(|n| n == "keys") => keys
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join(FILE_NAME),
            _ => {
                let mut copy = path.as_os_str().to_owned();
                copy.push(".copy");
                PathBuf::from(copy)
            }
        };
        LastCheckpointFile { path, copy }
    }

    /// The file [`FILE_NAME`] in a keys directory.
    pub fn in_dir(keys_dir: &Path) -> LastCheckpointFile {
        Self::new(keys_dir.join(FILE_NAME))
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where its copy is.
    pub fn copy_path(&self) -> &Path {
        &self.copy
    }

    /// Reads both files, opens their notes under the ledger's key and
    /// returns the newer one. `None` when neither file exists (a ledger
    /// that has never been started, or an instance joining a shared
    /// database). One missing file is logged and the other one is used.
    pub fn read(&self, ledger_key: &impl CheckpointKeys) -> Result<Read, LastCheckpointError> {
        let file = read_one(&self.path, ledger_key)?;
        let copy = read_one(&self.copy, ledger_key)?;
        match (file, copy) {
            (None, None) => Ok(None),
            (Some(only), None) | (None, Some(only)) => {
                tracing::warn!(
                    file = %self.path.display(),
                    copy = %self.copy.display(),
                    "one of the two last-checkpoint files is missing; checking the database \
                     against the other and writing both again"
                );
                Ok(Some(only))
            }
            (Some(a), Some(b)) if a.0.size == b.0.size && a.0 != b.0 => {
                Err(LastCheckpointError::Disagree {
                    path: self.path.clone(),
                    copy: self.copy.clone(),
                    size: a.0.size,
                })
            }
            (Some(a), Some(b)) => Ok(Some(if b.0.size > a.0.size { b } else { a })),
        }
    }

    /// [`Self::read`] for start-up's guard. With `accept_rollback`, files
    /// that cannot be read or opened do not stop the start: the error is
    /// logged, and the guard goes on as if there were no files, so that
    /// both are written again from the database.
    pub fn read_for_start(
        &self,
        ledger_key: &impl CheckpointKeys,
        accept_rollback: bool,
    ) -> Result<Read, LastCheckpointError> {
        match self.read(ledger_key) {
            Err(e) if accept_rollback && !matches!(e, LastCheckpointError::Write { .. }) => {
                tracing::error!(
                    error = %e,
                    "STARTING WITHOUT THE FORK GUARD: the last-checkpoint files are unusable \
                     and the operator passed --accept-rollback; both are replaced with the \
                     database's checkpoint"
                );
                Ok(None)
            }
            other => other,
        }
    }

    /// Replaces the content of both files with `note`, durably. Blocking:
    /// call it from a blocking thread in async code.
    pub fn write(&self, note: &str) -> Result<(), LastCheckpointError> {
        for path in [&self.path, &self.copy] {
            write_one(path, note).map_err(|source| LastCheckpointError::Write {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// Reads one file and opens its note; `None` when it does not exist.
fn read_one(path: &Path, ledger_key: &impl CheckpointKeys) -> Result<Read, LastCheckpointError> {
    let note = match fs::read_to_string(path) {
        Ok(note) => note,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(LastCheckpointError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    let cp = ledger_key
        .open_checkpoint(&note)
        .map_err(|source| LastCheckpointError::Invalid {
            path: path.to_owned(),
            source,
        })?;
    Ok(Some((cp, note)))
}

/// Replaces one file's content with `note`, durably.
fn write_one(path: &Path, note: &str) -> io::Result<()> {
    // Several processes may share a data directory (PostgreSQL), so each
    // write uses a temporary name no other writer uses.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{FILE_NAME}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(note.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename is durable only once the directory is.
        File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use daicho_core::keys::NoteSigner;

    #[test]
    fn a_note_written_is_read_back_and_opened() {
        let dir = tempfile::tempdir().unwrap();
        let file = LastCheckpointFile::in_dir(dir.path());
        let signer = NoteSigner::from_seed("example.org/log", [5; 32]).unwrap();
        assert!(file.read(signer.verifier()).unwrap().is_none());
        let cp = Checkpoint {
            origin: "example.org/log".into(),
            size: 3,
            root: daicho_core::Digest([9; 32]),
        };
        let note = cp.sign(&signer);
        file.write(&note).unwrap();
        file.write(&note).unwrap();
        let (read, text) = file.read(signer.verifier()).unwrap().unwrap();
        assert_eq!((read, text), (cp, note.clone()));
        // Nothing but the file and its copy is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
        assert_eq!(fs::read_to_string(file.copy_path()).unwrap(), note);
        let other = NoteSigner::from_seed("example.org/log", [6; 32]).unwrap();
        assert!(matches!(
            file.read(other.verifier()),
            Err(LastCheckpointError::Invalid { .. })
        ));
    }
}
