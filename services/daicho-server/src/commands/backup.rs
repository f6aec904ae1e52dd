//! `daicho backup`: an online, consistent backup of an SQLite ledger.
//!
//! A backup is a directory (an operator may tar it; nothing here needs
//! more than a copy of it):
//!
//! ```text
//! OUT/backup.json          the manifest: format, time, origin, sizes, the database's SHA-256
//! OUT/daicho.db            the database as of one commit (SQLite `VACUUM INTO`), without a log
//! OUT/keys/ledger.vkey     the ledger's verifier key (public)
//! OUT/keys/admin.key.pub   the first administrator's verifier key (public)
//! OUT/last-checkpoint      the newest last-checkpoint note when the backup began
//! ```
//!
//! Private keys are never written into a backup: a backup is copied to
//! more places, and kept longer, than a signing key should be. They never
//! change after `init`, so they are copied once, apart (docs/OPERATIONS.md).
//!
//! The last-checkpoint note is read *before* the database is copied, so
//! the copy extends it: the note is written only after its commit, so it
//! never covers more than the database held when it was read. `daicho
//! restore` checks exactly that, with the verifier.
//!
//! The backup is written under `OUT.partial` and renamed to `OUT` once
//! every file is on disk, so a directory named `OUT` is a whole backup.

use std::fs;
use std::io::Read as _;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use daicho_core::checkpoint::CheckpointKeys as _;
use daicho_store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::format_description::well_known::Rfc3339;

use crate::cli::BackupConfig;
use crate::data_dir::{redact, DataDir};
use crate::keyfile;
use crate::last_checkpoint::LastCheckpointFile;

/// The manifest's `format`.
pub const BACKUP_FORMAT: &str = "daicho-backup/v1";

/// The files of one backup directory.
#[derive(Debug, Clone)]
pub struct BackupDir {
    root: PathBuf,
}

impl BackupDir {
    /// The backup directory at `root` (not checked).
    pub fn new(root: impl Into<PathBuf>) -> BackupDir {
        BackupDir { root: root.into() }
    }
    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `OUT/backup.json`.
    pub fn manifest(&self) -> PathBuf {
        self.root.join("backup.json")
    }
    /// `OUT/daicho.db`.
    pub fn database(&self) -> PathBuf {
        self.root.join("daicho.db")
    }
    /// `OUT/keys/ledger.vkey`.
    pub fn ledger_vkey(&self) -> PathBuf {
        self.root.join("keys").join("ledger.vkey")
    }
    /// `OUT/keys/admin.key.pub`.
    pub fn admin_vkey(&self) -> PathBuf {
        self.root.join("keys").join("admin.key.pub")
    }
    /// `OUT/last-checkpoint`.
    pub fn last_checkpoint(&self) -> PathBuf {
        self.root.join(crate::last_checkpoint::FILE_NAME)
    }
}

/// `OUT/backup.json`. It is not signed: `daicho restore` trusts nothing in
/// it that the verifier does not check again (the SHA-256 catches a copy
/// damaged on its way; the sizes are compared with what verifies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`BACKUP_FORMAT`].
    pub format: String,
    /// When the backup was taken (RFC 3339, UTC).
    pub created_at: String,
    /// The ledger's origin (its key name).
    pub origin: String,
    /// The size of the database's newest checkpoint: the entries backed up.
    pub tree_size: u64,
    /// The size of the note in `last-checkpoint`.
    pub last_checkpoint_size: u64,
    /// The SHA-256 of `daicho.db`, in hexadecimal.
    pub database_sha256: String,
}

/// The SHA-256 of a file, in hexadecimal, read in blocks.
pub fn sha256_of(path: &Path) -> anyhow::Result<String> {
    let mut file = fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Writes the backup of `--data-dir` to `--out`.
pub async fn backup(cfg: &BackupConfig) -> anyhow::Result<()> {
    let dir = DataDir::new(&cfg.data_dir);
    let url = dir.database_url(cfg.database_url.as_deref());
    let Some(db_path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(PathBuf::from)
    else {
        bail!(
            "{} is not an SQLite database: back up a PostgreSQL ledger with pg_dump and the \
             data directory's keys/ and last-checkpoint (docs/OPERATIONS.md, \"Backup and \
             restore\")",
            redact(&url)
        );
    };
    if !dir.is_initialised() || !db_path.exists() {
        bail!(
            "{} holds no initialised ledger (no {} or no {})",
            dir.root().display(),
            dir.ledger_key().display(),
            db_path.display()
        );
    }
    if cfg.out.exists() {
        bail!(
            "{} already exists; a backup goes to a new directory",
            cfg.out.display()
        );
    }
    let mut partial = cfg.out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    if partial.exists() {
        // Left by a backup that was interrupted; it never was a backup.
        fs::remove_dir_all(&partial).with_context(|| format!("removing {}", partial.display()))?;
    }
    let result = write(&dir, &url, &partial).await;
    match result {
        Ok(manifest) => {
            fs::rename(&partial, &cfg.out).with_context(|| {
                format!("renaming {} to {}", partial.display(), cfg.out.display())
            })?;
            keyfile::sync_dir(&cfg.out)?;
            eprintln!(
                "backed up {} entries of {} (last checkpoint file: {} entries) to {}",
                manifest.tree_size,
                manifest.origin,
                manifest.last_checkpoint_size,
                cfg.out.display()
            );
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

/// Writes every file of the backup into `out` and returns its manifest.
async fn write(dir: &DataDir, url: &str, out: &Path) -> anyhow::Result<Manifest> {
    let ledger_key = keyfile::read_public(&dir.ledger_vkey())?;
    // Which key signs a checkpoint of each size, from the registry entries
    // (FORMAT.md §8.5); an online read, like the copy below.
    let registry = {
        let store = Store::open(url)
            .await
            .with_context(|| format!("opening the database {}", redact(url)))?;
        let registry = crate::sequencer::stored_registry(&store, &ledger_key).await;
        store.close().await;
        registry.context("reading the ledger's key registry")?
    };
    // First the note, then the database: see the module's documentation.
    let Some((saved, note)) = LastCheckpointFile::new(dir.last_checkpoint())
        .read(&registry)
        .context("reading the last-checkpoint files")?
    else {
        bail!(
            "{} holds no last-checkpoint file; start the service once on it (docs/OPERATIONS.md, \
             \"The fork guard at start-up\") before backing it up",
            dir.root().display()
        );
    };
    let backup = BackupDir::new(out);
    for d in [out.to_owned(), out.join("keys")] {
        // The database holds personal data and token hashes.
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&d)
            .with_context(|| format!("creating {}", d.display()))?;
    }

    let store = Store::open(url)
        .await
        .with_context(|| format!("opening the database {}", redact(url)))?;
    let copied = store.backup_into(&backup.database()).await;
    store.close().await;
    copied.context("copying the database (VACUUM INTO)")?;
    fs::File::open(backup.database())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", backup.database().display()))?;

    // The copy is checked as restore will check it, cheaply: sound pages,
    // and a newest checkpoint of this ledger that covers the note.
    let copy = Store::open(&format!("sqlite://{}", backup.database().display())).await?;
    let checked = async {
        copy.check_integrity().await?;
        anyhow::Ok(copy.latest_checkpoint().await?)
    }
    .await;
    copy.close().await;
    let Some(latest) = checked? else {
        bail!("the copied database holds no checkpoint");
    };
    let cp = registry
        .open_checkpoint(&latest.note)
        .context("the copied database's newest checkpoint is not this ledger's")?;
    if cp.size < saved.size {
        bail!(
            "the copied database holds {} entries, fewer than the last checkpoint file's {}: \
             the service's database is behind its last-checkpoint file; see docs/OPERATIONS.md, \
             \"The fork guard at start-up\"",
            cp.size,
            saved.size
        );
    }

    fs::copy(dir.ledger_vkey(), backup.ledger_vkey())
        .with_context(|| format!("copying {}", dir.ledger_vkey().display()))?;
    let admin_vkey = keyfile::public_path(&dir.admin_key());
    fs::copy(&admin_vkey, backup.admin_vkey())
        .with_context(|| format!("copying {}", admin_vkey.display()))?;
    fs::write(backup.last_checkpoint(), &note)
        .with_context(|| format!("writing {}", backup.last_checkpoint().display()))?;
    let manifest = Manifest {
        format: BACKUP_FORMAT.to_owned(),
        created_at: time::OffsetDateTime::now_utc().format(&Rfc3339)?,
        origin: ledger_key.name().to_owned(),
        tree_size: cp.size,
        last_checkpoint_size: saved.size,
        database_sha256: sha256_of(&backup.database())?,
    };
    let mut json = serde_json::to_string_pretty(&manifest)?;
    json.push('\n');
    fs::write(backup.manifest(), json)
        .with_context(|| format!("writing {}", backup.manifest().display()))?;
    for f in [
        backup.ledger_vkey(),
        backup.admin_vkey(),
        backup.last_checkpoint(),
        backup.manifest(),
    ] {
        fs::File::open(&f)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("syncing {}", f.display()))?;
    }
    keyfile::sync_dir(&backup.ledger_vkey())?;
    keyfile::sync_dir(&backup.manifest())?;
    Ok(manifest)
}
