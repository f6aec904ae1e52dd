//! Key files: private keys are written 0600 and refused when a group or
//! other user could read them; public keys are the C2SP verifier string.
//!
//! Keys come only from files, never from the command line or the
//! environment, where they would end up in shell histories and process
//! listings.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use daicho_core::keys::{KeyError, NoteSigner, NoteVerifier};
use rand::RngCore as _;

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read, created or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A private key file readable by its group or by others.
    #[error("{path}: private key file has mode {mode:04o}; it must not be readable by group or others (run: chmod 600 {path})")]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold a key of the expected form.
    #[error("{path}: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: KeyError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Generates a new Ed25519 key named `name` from the operating system's
/// randomness.
pub fn generate(name: &str) -> Result<NoteSigner, KeyError> {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    NoteSigner::from_seed(name, seed)
}

/// Writes a private key to a new file with mode 0600; refuses to replace an
/// existing file, because losing a key is not undoable. The file appears
/// whole or not at all (see [`write_new`]).
pub fn write_private(path: &Path, signer: &NoteSigner) -> Result<(), KeyFileError> {
    write_new(path, 0o600, &format!("{}\n", signer.to_secret_string()))
}

/// Writes a public verifier key (world-readable is fine) to a new file.
pub fn write_public(path: &Path, verifier: &NoteVerifier) -> Result<(), KeyFileError> {
    write_new(path, 0o644, &format!("{verifier}\n"))
}

/// Creates `path` holding `text`, durably, refusing to replace a file
/// already there. The text goes to `PATH.partial` first, which is synced
/// and then linked to its name: a crash leaves either no file or the whole
/// key, never a truncated one that a later start would take for a key. A
/// `.partial` file left by a crash is removed first; it never held a key
/// anyone used. The directory is synced last, so that the name is durable
/// before anything signed with the key is written.
pub fn write_new(path: &Path, mode: u32, text: &str) -> Result<(), KeyFileError> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    match fs::remove_file(&partial) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&partial)(e)),
    }
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&partial)
            .map_err(io(&partial))?;
        // The umask can only remove bits, but be explicit about the result.
        f.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io(&partial))?;
        f.write_all(text.as_bytes()).map_err(io(&partial))?;
        f.sync_all().map_err(io(&partial))?;
        // A hard link, unlike a rename, fails when the name is taken.
        fs::hard_link(&partial, path).map_err(io(path))
    })();
    let _ = fs::remove_file(&partial);
    result?;
    sync_dir(path)
}

/// Syncs the directory holding `path`, so that a name created or removed
/// in it survives a crash.
pub fn sync_dir(path: &Path) -> Result<(), KeyFileError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

/// Reads a private key, refusing a file that group or others can read.
pub fn read_private(path: &Path) -> Result<NoteSigner, KeyFileError> {
    let meta = fs::metadata(path).map_err(io(path))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    let text = fs::read_to_string(path).map_err(io(path))?;
    NoteSigner::parse(&text).map_err(|source| KeyFileError::Malformed {
        path: path.to_owned(),
        source,
    })
}

/// Reads a public verifier key.
pub fn read_public(path: &Path) -> Result<NoteVerifier, KeyFileError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    NoteVerifier::parse(&text).map_err(|source| KeyFileError::Malformed {
        path: path.to_owned(),
        source,
    })
}

/// `FILE.pub` beside `FILE`.
pub fn public_path(private: &Path) -> PathBuf {
    let mut s = private.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}
