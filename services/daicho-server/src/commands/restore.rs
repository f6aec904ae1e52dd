//! `daicho restore`: a backup back into a data directory, only once it
//! verifies.
//!
//! Everything is checked in a staging directory beside the data directory
//! (`.NAME.restoring`), on a copy of the backup's database: its SHA-256
//! against the manifest, SQLite's check of its pages, and then the export
//! bundle of its entries with the auditor's verifier (`daicho_verify`),
//! against the ledger's verifier key and the backup's last-checkpoint note,
//! which the entries must extend. Only a backup that passes is moved into
//! the data directory; a refused one leaves the data directory as it was,
//! and the staging directory is removed.
//!
//! Into a new (or empty) data directory, the restore writes the database,
//! the public keys, the private keys when `--keys-from` names them, and
//! last-checkpoint files holding the database's newest checkpoint. Into
//! this ledger's own data directory (`--replace-database`), it replaces the
//! database only: the replaced files are renamed, never deleted, and the
//! last-checkpoint files stay, so that the fork guard compares the
//! restored database with what the ledger had signed before.

use std::fs;
use std::io::{BufReader, Write as _};
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use daicho_core::checkpoint::{Checkpoint, CheckpointKeys as _};
use daicho_core::keys::NoteVerifier;
use daicho_store::Store;
use futures_util::TryStreamExt as _;

use super::backup::{sha256_of, BackupDir, Manifest, BACKUP_FORMAT};
use crate::bundle::bundle_stream;
use crate::cli::RestoreConfig;
use crate::data_dir::DataDir;
use crate::keyfile;
use crate::last_checkpoint::LastCheckpointFile;

/// What a verified backup holds.
struct Verified {
    /// The database's newest checkpoint.
    newest: Checkpoint,
    /// Its signed note.
    note: String,
    /// The ledger's current key: the genesis key, or the last it rotated
    /// to (FORMAT.md §8.5).
    current_key: NoteVerifier,
}

/// Restores `--from` into `--data-dir`.
pub async fn restore(cfg: &RestoreConfig) -> anyhow::Result<()> {
    let backup = BackupDir::new(&cfg.from);
    let dir = DataDir::new(&cfg.data_dir);
    let manifest: Manifest = serde_json::from_slice(
        &fs::read(backup.manifest())
            .with_context(|| format!("reading {}", backup.manifest().display()))?,
    )
    .with_context(|| format!("{} is not a backup manifest", backup.manifest().display()))?;
    if manifest.format != BACKUP_FORMAT {
        bail!(
            "{} is a backup of format {:?}; this daicho restores {BACKUP_FORMAT:?}",
            backup.root().display(),
            manifest.format
        );
    }
    let ledger_key = keyfile::read_public(&backup.ledger_vkey())?;
    let target = Target::of(&dir, &ledger_key, cfg)?;

    let staging = staging_dir(&dir)?;
    let result = async {
        let verified = verify(&backup, &manifest, &ledger_key, &staging).await?;
        target.install(&dir, &backup, &staging, &verified, cfg)?;
        anyhow::Ok(verified)
    }
    .await;
    let _ = fs::remove_dir_all(&staging);
    let verified = result?;
    eprintln!(
        "restored {} entries of {} into {}; the backup verifies up to its checkpoint of {} \
         entries",
        verified.newest.size,
        verified.newest.origin,
        dir.root().display(),
        verified.newest.size
    );
    match target {
        Target::New if cfg.keys_from.is_none() => eprintln!(
            "copy the ledger's private keys (ledger.key and admin.key, mode 0600) into {} \
             before starting the service",
            dir.keys_dir().display()
        ),
        Target::New => {}
        Target::Replace => eprintln!(
            "the last-checkpoint files of {} were kept: if the ledger had signed more than the \
             backup holds, the service refuses to start and names the entries that would be \
             lost (docs/OPERATIONS.md, \"When the fork guard fires after a restore\")",
            dir.root().display()
        ),
    }
    Ok(())
}

/// Where the backup goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A data directory that does not exist or is empty.
    New,
    /// The database of this ledger's own data directory.
    Replace,
}

impl Target {
    /// Decides, before anything is written, whether the data directory can
    /// take the backup.
    fn of(dir: &DataDir, ledger_key: &NoteVerifier, cfg: &RestoreConfig) -> anyhow::Result<Target> {
        let empty = match fs::read_dir(dir.root()) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.root().display())),
        };
        if empty {
            if cfg.replace_database {
                bail!(
                    "{} holds no ledger whose database could be replaced; leave out \
                     --replace-database to restore into a new directory",
                    dir.root().display()
                );
            }
            return Ok(Target::New);
        }
        if !dir.ledger_vkey().exists() {
            bail!(
                "{} is neither empty nor a data directory of this ledger; restore into a new \
                 directory",
                dir.root().display()
            );
        }
        let own = keyfile::read_public(&dir.ledger_vkey())?;
        if own != *ledger_key {
            bail!(
                "{} is the data directory of another ledger ({own}); the backup is of \
                 {ledger_key}",
                dir.root().display()
            );
        }
        if !cfg.replace_database {
            bail!(
                "{} already holds this ledger; stop its service and pass --replace-database to \
                 replace its database with the backup's",
                dir.root().display()
            );
        }
        if cfg.keys_from.is_some() {
            bail!("--keys-from is for a new data directory; this one has its keys");
        }
        Ok(Target::Replace)
    }

    /// Moves the verified database (and, into a new directory, the keys and
    /// the last-checkpoint files) into the data directory.
    fn install(
        self,
        dir: &DataDir,
        backup: &BackupDir,
        staging: &Path,
        verified: &Verified,
        cfg: &RestoreConfig,
    ) -> anyhow::Result<()> {
        let database = staging.join("daicho.db");
        match self {
            Target::New => {
                // Read before anything is written, so that a wrong key
                // directory leaves nothing behind.
                let private = cfg
                    .keys_from
                    .as_deref()
                    .map(|keys| private_keys(keys, backup, &verified.current_key))
                    .transpose()?;
                for d in [dir.root().to_owned(), dir.keys_dir()] {
                    fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(&d)
                        .with_context(|| format!("creating {}", d.display()))?;
                }
                let admin_vkey = keyfile::public_path(&dir.admin_key());
                for (from, to) in [
                    (backup.ledger_vkey(), dir.ledger_vkey()),
                    (backup.admin_vkey(), admin_vkey),
                ] {
                    let text = fs::read_to_string(&from)
                        .with_context(|| format!("reading {}", from.display()))?;
                    keyfile::write_new(&to, 0o644, &text)?;
                }
                if let Some((ledger, admin)) = private {
                    keyfile::write_private(&dir.ledger_key(), &ledger)?;
                    keyfile::write_private(&dir.admin_key(), &admin)?;
                }
                fs::rename(&database, dir.sqlite_path()).with_context(|| {
                    format!("moving the database to {}", dir.sqlite_path().display())
                })?;
                keyfile::sync_dir(&dir.sqlite_path())?;
                LastCheckpointFile::new(dir.last_checkpoint()).write(&verified.note)?;
            }
            Target::Replace => {
                let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
                for suffix in ["", "-wal", "-shm"] {
                    let mut old = dir.sqlite_path().into_os_string();
                    old.push(suffix);
                    let old = PathBuf::from(old);
                    if old.exists() {
                        // A log left beside the restored database would be
                        // applied to it: it goes with the file it belongs to.
                        let mut kept = dir.sqlite_path().into_os_string();
                        kept.push(format!(".replaced-{stamp}{suffix}"));
                        fs::rename(&old, &kept)
                            .with_context(|| format!("moving {} aside", old.display()))?;
                        eprintln!(
                            "kept the replaced {} as {}",
                            old.display(),
                            Path::new(&kept).display()
                        );
                    }
                }
                fs::rename(&database, dir.sqlite_path()).with_context(|| {
                    format!("moving the database to {}", dir.sqlite_path().display())
                })?;
                keyfile::sync_dir(&dir.sqlite_path())?;
            }
        }
        Ok(())
    }
}

/// The private keys in `keys` (`ledger.key`, `admin.key`): the ledger's
/// current key (`current`, the genesis key until a rotation), and the
/// administrator key whose verifier key the backup holds.
fn private_keys(
    keys: &Path,
    backup: &BackupDir,
    current: &NoteVerifier,
) -> anyhow::Result<(daicho_core::keys::NoteSigner, daicho_core::keys::NoteSigner)> {
    let ledger = keyfile::read_private(&keys.join("ledger.key"))?;
    let admin = keyfile::read_private(&keys.join("admin.key"))?;
    if ledger.verifier() != current {
        bail!(
            "the ledger key in {} is not the ledger's current key {current}: after a rotation, \
             the copy of the keys must hold the new ledger.key (docs/OPERATIONS.md, \"Rotating \
             the ledger key\")",
            keys.display()
        );
    }
    if *admin.verifier() != keyfile::read_public(&backup.admin_vkey())? {
        bail!(
            "the private key in {} is not the one whose verifier key is {}",
            keys.display(),
            backup.admin_vkey().display()
        );
    }
    Ok((ledger, admin))
}

/// A new staging directory beside the data directory (on its file system,
/// so that the database is renamed into place, not copied).
fn staging_dir(dir: &DataDir) -> anyhow::Result<PathBuf> {
    let root = dir.root();
    let name = root
        .file_name()
        .ok_or_else(|| anyhow!("{} names no directory", root.display()))?;
    let parent = match root.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut staging_name = std::ffi::OsString::from(".");
    staging_name.push(name);
    staging_name.push(".restoring");
    let staging = parent.join(staging_name);
    if staging.exists() {
        // Left by a restore that was interrupted; nothing in it was used.
        fs::remove_dir_all(&staging).with_context(|| format!("removing {}", staging.display()))?;
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&staging)
        .with_context(|| format!("creating {}", staging.display()))?;
    Ok(staging)
}

/// Copies the backup's database into `staging` and verifies it (see the
/// module's documentation).
async fn verify(
    backup: &BackupDir,
    manifest: &Manifest,
    ledger_key: &NoteVerifier,
    staging: &Path,
) -> anyhow::Result<Verified> {
    let refused = |why: String| anyhow!("refusing the backup {}: {why}", backup.root().display());
    let database = staging.join("daicho.db");
    fs::copy(backup.database(), &database)
        .with_context(|| format!("copying {}", backup.database().display()))?;
    let sha256 = sha256_of(&database)?;
    if sha256 != manifest.database_sha256 {
        return Err(refused(format!(
            "daicho.db has the SHA-256 {sha256}, but the manifest says {}: the file was changed \
             or damaged after the backup was taken",
            manifest.database_sha256
        )));
    }
    let saved = fs::read_to_string(backup.last_checkpoint())
        .with_context(|| format!("reading {}", backup.last_checkpoint().display()))?;
    let store = Store::open(&format!("sqlite://{}", database.display()))
        .await
        .map_err(|e| refused(format!("its database does not open: {e:#}")))?;
    let bundle = staging.join("bundle.jsonl");
    let written = async {
        store
            .check_integrity()
            .await
            .map_err(|e| refused(format!("{e}")))?;
        let latest = store
            .latest_checkpoint()
            .await?
            .ok_or_else(|| refused("its database holds no checkpoint".into()))?;
        // Which key signs a checkpoint of each size (FORMAT.md §8.5); the
        // entries it is read from are verified below with the rest.
        let registry = crate::sequencer::stored_registry(&store, ledger_key)
            .await
            .map_err(|e| refused(format!("its key registry: {e:#}")))?;
        let mut out = std::io::BufWriter::new(fs::File::create(&bundle)?);
        let mut stream = Box::pin(bundle_stream(store.clone(), ledger_key, latest.size));
        while let Some(chunk) = stream.try_next().await? {
            out.write_all(&chunk)?;
        }
        out.flush()?;
        anyhow::Ok((latest, registry))
    }
    .await;
    store.close().await;
    let (latest, registry) = written?;
    let saved_cp = registry.open_checkpoint(&saved).map_err(|e| {
        refused(format!(
            "its last-checkpoint note is not signed by the ledger key for its size: {e}"
        ))
    })?;

    // The auditor's checks, run as `daicho-verify BUNDLE --ledger-key
    // keys/ledger.vkey --since last-checkpoint` runs them.
    let mut options = daicho_verify::Options::new(ledger_key.clone());
    options.since.push(daicho_verify::SavedCheckpoint {
        name: backup.last_checkpoint().display().to_string(),
        note: saved,
    });
    let report = tokio::task::spawn_blocking({
        let bundle = bundle.clone();
        move || {
            let file = fs::File::open(&bundle)?;
            daicho_verify::verify_reader(BufReader::new(file), &options)
        }
    })
    .await
    .context("the verification thread panicked")??;
    if !report.ok {
        return Err(refused(format!(
            "its entries do not verify against the ledger key {ledger_key} and its \
             last-checkpoint note of {} entries:\n{report}",
            saved_cp.size
        )));
    }
    let newest = registry
        .open_checkpoint(&latest.note)
        .map_err(|e| refused(format!("its newest checkpoint: {e}")))?;
    if newest.size != manifest.tree_size {
        return Err(refused(format!(
            "its database's newest checkpoint covers {} entries, but the manifest says {}",
            newest.size, manifest.tree_size
        )));
    }
    Ok(Verified {
        newest,
        note: latest.note,
        current_key: registry.ledger_key().clone(),
    })
}
