//! The last signed checkpoint, kept beside the keys and outside the
//! database.
//!
//! A database restored from an old backup, or a second copy of it, looks
//! like a perfectly good ledger on its own. The file is the ledger's memory
//! of how far it had already committed itself: start-up refuses a database
//! that does not extend the checkpoint in it. The file is replaced
//! atomically (temporary file, fsync, rename, fsync of the directory), so
//! a crash leaves either the old note or the new one, never a torn one.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use daicho_core::checkpoint::{Checkpoint, CheckpointError};
use daicho_core::keys::NoteVerifier;

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

/// The last-checkpoint file of one ledger.
#[derive(Debug, Clone)]
pub struct LastCheckpointFile {
    path: PathBuf,
}

impl LastCheckpointFile {
    /// The file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> LastCheckpointFile {
        LastCheckpointFile { path: path.into() }
    }

    /// The file [`FILE_NAME`] in a keys directory.
    pub fn in_dir(keys_dir: &Path) -> LastCheckpointFile {
        Self::new(keys_dir.join(FILE_NAME))
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and opens the note under the ledger's key. `None` when there
    /// is no file yet (a ledger that has never been started).
    pub fn read(
        &self,
        ledger_key: &NoteVerifier,
    ) -> Result<Option<(Checkpoint, String)>, LastCheckpointError> {
        let note = match fs::read_to_string(&self.path) {
            Ok(note) => note,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(LastCheckpointError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let cp =
            Checkpoint::open(&note, ledger_key).map_err(|source| LastCheckpointError::Invalid {
                path: self.path.clone(),
                source,
            })?;
        Ok(Some((cp, note)))
    }

    /// Replaces the file's content with `note`, durably. Blocking: call it
    /// from a blocking thread in async code.
    pub fn write(&self, note: &str) -> Result<(), LastCheckpointError> {
        self.write_inner(note)
            .map_err(|source| LastCheckpointError::Write {
                path: self.path.clone(),
                source,
            })
    }

    fn write_inner(&self, note: &str) -> io::Result<()> {
        // Several processes may share a data directory (PostgreSQL), so each
        // write uses a temporary name no other writer uses.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = match self.path.parent() {
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
            fs::rename(&tmp, &self.path)?;
            // The rename is durable only once the directory is.
            File::open(&dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
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
        assert_eq!((read, text), (cp, note));
        // Nothing but the file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let other = NoteSigner::from_seed("example.org/log", [6; 32]).unwrap();
        assert!(matches!(
            file.read(other.verifier()),
            Err(LastCheckpointError::Invalid { .. })
        ));
    }
}
