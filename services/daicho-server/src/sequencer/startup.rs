//! Start-up: writing the genesis into an empty database, and rebuilding
//! the in-memory ledger from the database under the checks of the
//! last-checkpoint file before the writer starts.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use daicho_core::checkpoint::{Checkpoint, CheckpointKeys as _};
use daicho_core::entry::Recorded;
use daicho_core::event::SignedEvent;
use daicho_core::keys::{NoteSigner, NoteVerifier};
use daicho_core::ledger::Ledger;
use daicho_core::merkle::Tree;
use daicho_core::registry::{Registry, RegistryError};
use daicho_store::{Store, StoreError};
use tokio::sync::{mpsc, watch};

use super::background::{checkpoint_wal, record_checkpoints};
use super::error::StartError;
use super::writer::{Health, Writer};
use super::{read, snapshot_of, Inner, Sequencer, SequencerConfig, WriterHealth};
use crate::last_checkpoint::LastCheckpointFile;

impl Sequencer {
    /// Writes the genesis entry (and its checkpoint, in the database and in
    /// the last-checkpoint file) into an empty database. The genesis must
    /// name `signer` as the ledger key.
    pub async fn initialise(
        store: &Store,
        signer: &NoteSigner,
        genesis: SignedEvent,
        cfg: &SequencerConfig,
    ) -> Result<(), StartError> {
        Registry::from_genesis(&genesis, Some(signer.verifier())).map_err(StartError::Genesis)?;
        let mut tx = store.begin_sequencing().await?;
        if tx.size().await? != 0 {
            return Err(StartError::AlreadyInitialised);
        }
        let (ledger, appended) =
            Ledger::create(genesis, (cfg.clock)()).map_err(StartError::Genesis)?;
        let cp = ledger.checkpoint();
        let note = cp.sign(signer);
        tx.insert(&[appended], Some((cp.size, &note))).await?;
        tx.commit().await?;
        LastCheckpointFile::new(&cfg.last_checkpoint).write(&note)?;
        Ok(())
    }

    /// Loads the ledger from the store, checks it against the
    /// last-checkpoint file and starts the writer task.
    pub async fn start(
        store: Store,
        signer: NoteSigner,
        cfg: SequencerConfig,
    ) -> Result<Sequencer, StartError> {
        let mut keys = vec![signer];
        for k in cfg.extra_keys.iter().cloned() {
            if !keys.iter().any(|h| h.verifier() == k.verifier()) {
                keys.push(k);
            }
        }
        // Before anything is read: a damaged page could otherwise be read
        // as entries (SQLite keeps no checksum of a page's content), and
        // the tree built from them served. PostgreSQL checks its own pages.
        store.check_integrity().await?;
        let loaded = load(&store).await.map_err(|e| match e {
            LoadError::Store(e) => StartError::from(e),
            LoadError::Empty => StartError::Uninitialised,
            LoadError::Genesis(e) => StartError::Genesis(e),
            LoadError::Corrupt(s) => StartError::Corrupt(s),
        })?;
        signers(&keys, loaded.ledger.registry()).map_err(StartError::KeyNotHeld)?;
        let file = LastCheckpointFile::new(&cfg.last_checkpoint);
        check_against_file(&loaded.ledger, &file, cfg.accept_rollback)?;
        // The database extends the file (checked above), so a file that
        // cannot be brought up to date only lags, as it may after any
        // crash: the service starts and serves reads on a full disk, and
        // the recorder writes the file with the next commit.
        if let Err(e) = file.write(&loaded.note) {
            tracing::warn!(error = %e, "could not update the last-checkpoint file at start");
        }
        let (recorder, notes) = watch::channel(loaded.note.clone());
        let recorder_task = tokio::spawn(record_checkpoints(file, notes));
        let (committed, commits) = watch::channel(());
        let wal_task = tokio::spawn(checkpoint_wal(store.clone(), commits));

        let ledger = Arc::new(RwLock::new(loaded.ledger));
        let registry = Arc::new(read(&ledger).registry().clone());
        let published = Arc::new(RwLock::new(Arc::new(snapshot_of(
            &ledger,
            registry.clone(),
            loaded.note.clone(),
        ))));
        let (queue, rx) = mpsc::channel(cfg.queue_depth.max(1));
        let health = Arc::new(RwLock::new(WriterHealth::Ok));
        let writer = Writer {
            store: store.clone(),
            keys,
            ledger,
            registry,
            last_signed: loaded.checkpoint,
            note: loaded.note,
            health: Health::InStep,
            recorder,
            committed,
            clock: cfg.clock.clone(),
            max_group_entries: cfg.max_group_entries.max(1),
            published: published.clone(),
            reported: health.clone(),
            committed_entries: cfg.committed_entries.clone(),
        };
        let handle = tokio::spawn(async move {
            writer.run(rx).await;
            // The writer is gone, and with it the recorder's sender: the
            // recorder writes the last note and ends, and so does the log
            // checkpointer.
            let _ = recorder_task.await;
            let _ = wal_task.await;
        });
        Ok(Sequencer {
            inner: Arc::new(Inner {
                queue,
                closing: AtomicBool::new(false),
                published,
                health,
                writer: tokio::sync::Mutex::new(Some(handle)),
                store,
                clock: cfg.clock,
            }),
        })
    }
}

/// The ledger as loaded from the database, with the checkpoint stored for
/// its size.
pub(super) struct Loaded {
    pub(super) ledger: Ledger,
    pub(super) checkpoint: Checkpoint,
    pub(super) note: String,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database holds no ledger")]
    Empty,
    #[error("the genesis entry: {0}")]
    Genesis(RegistryError),
    #[error("{0}")]
    Corrupt(String),
}

/// The keys a checkpoint is signed with under `registry`: the current
/// ledger key, then the previous one if `keys` holds it (a rotation's
/// overlap, FORMAT.md §8.5). Refused when `keys` lacks the current key,
/// with that key in words.
pub(super) fn signers<'a>(
    keys: &'a [NoteSigner],
    registry: &Registry,
) -> Result<Vec<&'a NoteSigner>, String> {
    let held = |v: &NoteVerifier| keys.iter().find(|k| k.verifier() == v);
    let current = held(registry.ledger_key()).ok_or_else(|| registry.ledger_key().to_string())?;
    let mut out = vec![current];
    out.extend(registry.previous_ledger_key().and_then(held));
    Ok(out)
}

/// Rebuilds the ledger from the store: the tree from the leaf hashes, the
/// head, the registry from the registry entries, and the checkpoint stored
/// for that size, which must open under the ledger key for its size and
/// match the tree. Whether this instance holds that key is the caller's
/// check.
pub(super) async fn load(store: &Store) -> Result<Loaded, LoadError> {
    let leaves = store.leaf_hashes(0).await?;
    let Some(&last) = leaves.last() else {
        return Err(LoadError::Empty);
    };
    let size = leaves.len() as u64;
    let tree = Tree::from_leaves(leaves);
    let head = store
        .entry(size - 1)
        .await?
        .ok_or_else(|| LoadError::Corrupt(format!("entry {} vanished", size - 1)))?;
    if head.hash != last || head.entry.hash() != last {
        return Err(LoadError::Corrupt(format!(
            "the hash of entry {} does not match the entry",
            size - 1
        )));
    }
    let events = store.registry_events().await?;
    let registry = rebuild_registry(&events, size - 1, None)?;
    let note = store
        .checkpoint_at(size)
        .await?
        .ok_or_else(|| LoadError::Corrupt(format!("no signed checkpoint for the size {size}")))?;
    let checkpoint = registry
        .open_checkpoint(&note)
        .map_err(|e| LoadError::Corrupt(format!("the checkpoint for size {size}: {e}")))?;
    if checkpoint.size != size || checkpoint.root != tree.root() {
        return Err(LoadError::Corrupt(format!(
            "the checkpoint stored for size {size} does not match the entries"
        )));
    }
    Ok(Loaded {
        ledger: Ledger::restore(registry, tree, head.entry),
        checkpoint,
        note,
    })
}

/// The registry after the registry entries with seq up to `upto`. The
/// genesis is checked against `genesis_key` if given; later entries were
/// authorised when they were appended and are only applied.
pub(super) fn rebuild_registry(
    events: &[Recorded],
    upto: u64,
    genesis_key: Option<&NoteVerifier>,
) -> Result<Registry, LoadError> {
    let Some(genesis) = events.first().filter(|e| e.entry.seq == 0) else {
        return Err(LoadError::Corrupt("entry 0 is not a genesis entry".into()));
    };
    let mut registry =
        Registry::from_genesis(&genesis.event, genesis_key).map_err(LoadError::Genesis)?;
    for e in events[1..].iter().take_while(|e| e.entry.seq <= upto) {
        registry
            .apply(e.entry.seq, &e.event)
            .map_err(|err| LoadError::Corrupt(format!("registry entry {}: {err}", e.entry.seq)))?;
    }
    Ok(registry)
}

/// Refuses a database that does not extend the last-checkpoint file,
/// unless the operator accepts it.
fn check_against_file(
    ledger: &Ledger,
    file: &LastCheckpointFile,
    accept_rollback: bool,
) -> Result<(), StartError> {
    let Some((cp, _)) = file.read_for_start(ledger.registry(), accept_rollback)? else {
        // `initialise` writes the file, so on SQLite a missing file means it
        // was lost; but an instance that joins a shared PostgreSQL ledger
        // starts without one, so a missing file is accepted and written.
        tracing::warn!(path = %file.path().display(), "no last-checkpoint file; writing one");
        return Ok(());
    };
    let size = ledger.size();
    let refusal = if cp.size > size {
        Some(StartError::RolledBack {
            path: file.path().to_owned(),
            file_size: cp.size,
            db_size: size,
        })
    } else if ledger.tree().root_at(cp.size).ok() != Some(cp.root) {
        Some(StartError::Diverged {
            path: file.path().to_owned(),
            size: cp.size,
        })
    } else {
        None
    };
    match refusal {
        Some(e) if accept_rollback => {
            tracing::warn!(error = %e, "starting anyway: the operator accepted the rollback");
            Ok(())
        }
        Some(e) => Err(e),
        None => Ok(()),
    }
}
