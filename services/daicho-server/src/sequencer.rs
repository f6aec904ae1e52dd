//! The append path: one writer task that sequences events with group
//! commit, and snapshots that readers use concurrently (issue 3, points 2,
//! 3 and 8).
//!
//! Requests reach the writer through a channel. Each time round, the writer
//! takes every request waiting (up to a configured number of entries), takes
//! the database's single-writer lock, catches up with whatever another
//! process appended, stages every request on the in-memory ledger (each
//! behind a savepoint, so one bad atomic batch does not spoil the others),
//! writes all rows and one signed checkpoint in one transaction, commits
//! (one fsync for the whole group) and only then answers each request with
//! receipts. A separate task keeps the last-checkpoint file beside the keys
//! up to date with the newest signed checkpoint.
//!
//! Architecture Invariant: no fork, ever. A checkpoint is signed only after
//! a consistency proof from the last checkpoint this process signed (or
//! found at start-up) to the new tree has been verified; and start-up
//! refuses a database that does not extend the last-checkpoint file.
//!
//! The in-memory ledger is a cache of the database. After any database
//! error it is rebuilt from the database under the writer lock, because an
//! error on commit does not say whether the commit happened.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use daicho_core::checkpoint::Checkpoint;
use daicho_core::entry::Entry;
use daicho_core::event::{EventId, HashedEvent, SignedEvent};
use daicho_core::keys::{NoteSigner, NoteVerifier, PublicKey};
use daicho_core::ledger::Ledger;
use daicho_core::merkle::{self, Tree, TreeError};
use daicho_core::receipt::{Receipt, RECEIPT_FORMAT};
use daicho_core::registry::{Registry, RegistryError, KEY_REGISTERED, KEY_REVOKED};
use daicho_core::timestamp::RecordedAt;
use daicho_core::Digest;
use daicho_store::{Sequencing, Store, StoreError, StoredEntry};
use tokio::sync::{mpsc, oneshot};

use crate::last_checkpoint::{LastCheckpointError, LastCheckpointFile};

/// The ledger's clock: `recorded_at` for the entries of each group commit.
/// Tests pass a fixed or stepping clock.
pub type Clock = Arc<dyn Fn() -> RecordedAt + Send + Sync>;

/// The system clock, in UTC microseconds.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        RecordedAt::from_datetime(time::OffsetDateTime::now_utc())
            .expect("the system clock is within the representable range")
    })
}

/// How the sequencer runs.
#[derive(Clone)]
pub struct SequencerConfig {
    /// The last-checkpoint file, beside the keys (`DATA/keys/last-checkpoint`).
    pub last_checkpoint: PathBuf,
    /// Start even if the database does not extend the last-checkpoint file.
    /// Only an operator who knows why (a deliberate restore) sets this.
    pub accept_rollback: bool,
    /// The most entries one group commit takes (a single request larger
    /// than this still goes through, alone).
    pub max_group_entries: usize,
    /// How many requests may wait for the writer before appends wait to
    /// enqueue.
    pub queue_depth: usize,
    /// The clock.
    pub clock: Clock,
}

impl SequencerConfig {
    /// The defaults: the system clock, groups of up to 10,000 entries, a
    /// queue of 4,096 requests.
    pub fn new(last_checkpoint: PathBuf, accept_rollback: bool) -> SequencerConfig {
        SequencerConfig {
            last_checkpoint,
            accept_rollback,
            max_group_entries: 10_000,
            queue_depth: 4096,
            clock: system_clock(),
        }
    }

    /// The same configuration with another clock.
    pub fn with_clock(mut self, clock: Clock) -> SequencerConfig {
        self.clock = clock;
        self
    }
}

impl std::fmt::Debug for SequencerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequencerConfig")
            .field("last_checkpoint", &self.last_checkpoint)
            .field("accept_rollback", &self.accept_rollback)
            .field("max_group_entries", &self.max_group_entries)
            .field("queue_depth", &self.queue_depth)
            .finish_non_exhaustive()
    }
}

/// Why the sequencer did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database cannot be read.
    #[error("reading the ledger from the database")]
    Store(#[from] StoreError),
    /// The database holds no ledger.
    #[error("the database holds no ledger (no genesis entry); initialise it first")]
    Uninitialised,
    /// [`Sequencer::initialise`] on a database that already holds a ledger.
    #[error("the database already holds a ledger; refusing to touch it")]
    AlreadyInitialised,
    /// The genesis entry is not a valid genesis for this ledger key.
    #[error("the genesis entry is not one of this ledger key")]
    Genesis(#[source] RegistryError),
    /// The database contradicts itself (a gap, a checkpoint that does not
    /// match the entries, …): it was changed by something other than daicho.
    #[error("the database is inconsistent: {0}")]
    Corrupt(String),
    /// The database is shorter than the last checkpoint this ledger signed.
    #[error(
        "refusing to start: the database holds {db_size} entries, but this ledger already \
         signed a checkpoint of {file_size} entries ({path}). The database was restored from \
         an older copy, or is not this ledger's database. Restore the newest database; start \
         with --accept-rollback only if losing the entries with seq {db_size} to {last} \
         (inclusive) is intended.",
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
    /// The sequencer is shutting down.
    #[error("the sequencer is shutting down")]
    Unavailable,
}

/// The writer task ended abnormally.
#[derive(Debug, thiserror::Error)]
#[error("the sequencer's writer task panicked")]
pub struct ShutdownError;

/// What readers see: the ledger as of the last commit. Cheap to take; it
/// does not change once taken.
pub struct Snapshot {
    /// Number of entries.
    pub size: u64,
    /// The Merkle root at `size`.
    pub root: Digest,
    /// The registry as of the head.
    pub registry: Arc<Registry>,
    /// The signed checkpoint note for `size`.
    pub checkpoint: String,
    /// When this process signed or loaded that checkpoint.
    pub checkpoint_signed_at: Instant,
    /// The `recorded_at` of the head entry, the ledger's time of the
    /// checkpoint.
    pub head_recorded_at: RecordedAt,
    ledger: Arc<RwLock<Ledger>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("size", &self.size)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    /// The leaf hash of entry `seq` and its inclusion proof in the tree of
    /// `size` entries (at most this snapshot's size).
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<(Digest, Vec<Digest>), TreeError> {
        self.check(size)?;
        let ledger = read(&self.ledger);
        let tree = ledger.tree();
        let proof = tree.inclusion_proof(seq, size)?;
        let leaf = tree.leaf(seq).expect("seq < size <= tree size");
        Ok((leaf, proof))
    }

    /// The consistency proof from the tree of `from` entries to the tree of
    /// `to` entries (at most this snapshot's size).
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Digest>, TreeError> {
        self.check(to)?;
        read(&self.ledger).tree().consistency_proof(from, to)
    }

    /// The Merkle root of the first `size` entries.
    pub fn root_at(&self, size: u64) -> Result<Digest, TreeError> {
        self.check(size)?;
        read(&self.ledger).tree().root_at(size)
    }

    /// The ledger's checkpoint key.
    pub fn ledger_key(&self) -> &NoteVerifier {
        self.registry.ledger_key()
    }

    /// Proofs are given only for committed sizes: the in-memory tree may
    /// briefly hold a group that is not yet durable.
    fn check(&self, size: u64) -> Result<(), TreeError> {
        if size > self.size {
            return Err(TreeError::SizeBeyondTree {
                requested: size,
                size: self.size,
            });
        }
        Ok(())
    }
}

/// The sequencer: the only writer of the ledger in this process. Cloning
/// is cheap; clones share the writer.
#[derive(Clone)]
pub struct Sequencer {
    inner: Arc<Inner>,
}

struct Inner {
    queue: mpsc::Sender<Message>,
    closing: AtomicBool,
    published: Arc<RwLock<Arc<Snapshot>>>,
    writer: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    store: Store,
}

enum Message {
    Append(Request),
    Shutdown,
}

struct Request {
    events: Vec<HashedEvent>,
    verified_with: Vec<Option<PublicKey>>,
    reply: oneshot::Sender<Result<Answer, AppendError>>,
}

/// The writer's answer to one request: the entries, from which the
/// requester builds its receipts (the inclusion proofs are computed in the
/// requester's task, not by the single writer).
#[derive(Debug)]
struct Answer {
    /// One entry and entry hash per event, in order.
    entries: Vec<(Entry, Digest)>,
    /// The committed tree size the receipts prove inclusion in.
    size: u64,
    /// The checkpoint note signed for `size`.
    note: String,
    /// How many entries the request added (not retries, and an event sent
    /// twice in the request counts once).
    appended: u64,
}

impl Answer {
    /// The receipts, with inclusion proofs from `ledger`'s tree, which
    /// holds at least `size` entries.
    fn receipts(self, ledger: &RwLock<Ledger>) -> Vec<Receipt> {
        let l = read(ledger);
        let tree = l.tree();
        self.entries
            .into_iter()
            .map(|(entry, entry_hash)| {
                let inclusion = tree
                    .inclusion_proof(entry.seq, self.size)
                    .expect("every committed entry is in the tree");
                Receipt {
                    format: RECEIPT_FORMAT.to_owned(),
                    entry,
                    entry_hash,
                    inclusion,
                    checkpoint: self.note.clone(),
                }
            })
            .collect()
    }
}

impl std::fmt::Debug for Sequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer")
            .field("size", &self.snapshot().size)
            .finish_non_exhaustive()
    }
}

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
        tx.insert_appended(&[appended], Some((cp.size, &note)))
            .await?;
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
        let verifier = signer.verifier().clone();
        let loaded = load(&store, &verifier).await.map_err(|e| match e {
            LoadError::Store(e) => StartError::Store(e),
            LoadError::Empty => StartError::Uninitialised,
            LoadError::Genesis(e) => StartError::Genesis(e),
            LoadError::Corrupt(s) => StartError::Corrupt(s),
        })?;
        let file = LastCheckpointFile::new(&cfg.last_checkpoint);
        check_against_file(&loaded.ledger, &file, &verifier, cfg.accept_rollback)?;
        file.write(&loaded.note)?;
        let (recorder, notes) = tokio::sync::watch::channel(loaded.note.clone());
        let recorder_task = tokio::spawn(record_checkpoints(file, notes));
        let (committed, commits) = tokio::sync::watch::channel(());
        let wal_task = tokio::spawn(checkpoint_wal(store.clone(), commits));

        let ledger = Arc::new(RwLock::new(loaded.ledger));
        let registry = Arc::new(read(&ledger).registry().clone());
        let published = Arc::new(RwLock::new(Arc::new(snapshot_of(
            &ledger,
            registry.clone(),
            loaded.note.clone(),
        ))));
        let (queue, rx) = mpsc::channel(cfg.queue_depth.max(1));
        let writer = Writer {
            store: store.clone(),
            signer,
            ledger,
            registry,
            last_signed: loaded.checkpoint,
            pending: None,
            note: loaded.note,
            stale: false,
            broken: None,
            recorder,
            committed,
            clock: cfg.clock,
            max_group_entries: cfg.max_group_entries.max(1),
            published: published.clone(),
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
                writer: tokio::sync::Mutex::new(Some(handle)),
                store,
            }),
        })
    }

    /// The ledger as of the last commit.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        read(&self.inner.published).clone()
    }

    /// The registry as of entry `seq` (the state after applying every
    /// registry entry with a seq up to and including `seq`), rebuilt from
    /// the stored registry entries.
    pub async fn registry_as_of(&self, seq: u64) -> Result<Registry, ReadError> {
        let snapshot = self.snapshot();
        let events = self.inner.store.registry_events().await?;
        rebuild_registry(&events, seq, snapshot.ledger_key()).map_err(|e| match e {
            LoadError::Store(e) => ReadError::Store(e),
            other => ReadError::Corrupt(other.to_string()),
        })
    }

    /// Appends `events`, each with the key its signature was already
    /// verified with (or `None`), and returns one receipt per event once
    /// they are durable.
    ///
    /// With `atomic`, the events are one request: all are appended or none
    /// (the first refusal is returned). Without, each event is its own
    /// request in the same group commit; the receipts are returned if all
    /// succeeded, otherwise the first error (see [`Sequencer::append_each`]
    /// for every outcome).
    ///
    /// An event whose id is already in the ledger with the same content is
    /// not appended again: its receipt is rebuilt from the stored entry,
    /// with a proof against the latest checkpoint.
    ///
    /// Events may come with their canonical bytes and hash computed
    /// ([`HashedEvent`]), which spares the single writer that work.
    pub async fn append<E: Into<HashedEvent>>(
        &self,
        events: Vec<E>,
        verified_with: Vec<Option<PublicKey>>,
        atomic: bool,
    ) -> Result<Vec<Receipt>, AppendError> {
        let events: Vec<HashedEvent> = events.into_iter().map(Into::into).collect();
        if events.is_empty() {
            return Ok(Vec::new());
        }
        if atomic || events.len() == 1 {
            let answer = self.submit(events, verified_with).await?.await?;
            return Ok(answer.receipts(&self.snapshot().ledger));
        }
        self.append_each(events, verified_with)
            .await
            .into_iter()
            .collect()
    }

    /// [`Sequencer::append`] of one atomic request, returning also how many
    /// entries it added, as the writer counted them (retries of events
    /// already in the ledger, whoever appended them, are not counted).
    pub async fn append_counted(
        &self,
        events: Vec<HashedEvent>,
        verified_with: Vec<Option<PublicKey>>,
    ) -> Result<(Vec<Receipt>, u64), AppendError> {
        if events.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let answer = self.submit(events, verified_with).await?.await?;
        let appended = answer.appended;
        Ok((answer.receipts(&self.snapshot().ledger), appended))
    }

    /// Appends each event as its own request (all in the same group commit
    /// when they fit) and returns each outcome.
    pub async fn append_each<E: Into<HashedEvent>>(
        &self,
        events: Vec<E>,
        verified_with: Vec<Option<PublicKey>>,
    ) -> Vec<Result<Receipt, AppendError>> {
        let mut keys = verified_with.into_iter();
        let mut waiting = Vec::with_capacity(events.len());
        for event in events {
            let event: HashedEvent = event.into();
            let key = keys.next().flatten();
            waiting.push(self.submit(vec![event], vec![key]).await);
        }
        let mut out = Vec::with_capacity(waiting.len());
        for w in waiting {
            let result = match w {
                Ok(reply) => reply
                    .await
                    .map(|a| a.receipts(&self.snapshot().ledger).remove(0)),
                Err(e) => Err(e),
            };
            out.push(result);
        }
        out
    }

    /// Queues one request and returns the future of its answer.
    async fn submit(
        &self,
        events: Vec<HashedEvent>,
        verified_with: Vec<Option<PublicKey>>,
    ) -> Result<impl std::future::Future<Output = Result<Answer, AppendError>>, AppendError> {
        if self.inner.closing.load(Ordering::Acquire) {
            return Err(AppendError::Unavailable);
        }
        let (reply, answer) = oneshot::channel();
        self.inner
            .queue
            .send(Message::Append(Request {
                events,
                verified_with,
                reply,
            }))
            .await
            .map_err(|_| AppendError::Unavailable)?;
        // A dropped reply means the writer stopped before reaching the
        // request, so nothing of it was appended.
        Ok(async move { answer.await.unwrap_or(Err(AppendError::Unavailable)) })
    }

    /// Stops taking appends, lets the writer finish every request queued
    /// before this call, and waits for it to stop.
    pub async fn shutdown(&self) -> Result<(), ShutdownError> {
        self.inner.closing.store(true, Ordering::Release);
        let _ = self.inner.queue.send(Message::Shutdown).await;
        let handle = self.inner.writer.lock().await.take();
        if let Some(handle) = handle {
            handle.await.map_err(|_| ShutdownError)?;
        }
        Ok(())
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // A panic while holding the lock leaves the ledger as it was between
    // two complete operations (every write is one `Ledger::commit` or a
    // whole replacement), so the data is still usable.
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

fn snapshot_of(ledger: &Arc<RwLock<Ledger>>, registry: Arc<Registry>, note: String) -> Snapshot {
    let l = read(ledger);
    Snapshot {
        size: l.size(),
        root: l.tree().root(),
        registry,
        checkpoint: note,
        checkpoint_signed_at: Instant::now(),
        head_recorded_at: l.head().recorded_at,
        ledger: ledger.clone(),
    }
}

/// The ledger as loaded from the database, with the checkpoint stored for
/// its size.
struct Loaded {
    ledger: Ledger,
    checkpoint: Checkpoint,
    note: String,
}

#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database holds no ledger")]
    Empty,
    #[error("the genesis entry: {0}")]
    Genesis(RegistryError),
    #[error("{0}")]
    Corrupt(String),
}

/// Rebuilds the ledger from the store: the tree from the leaf hashes, the
/// head, the registry from the registry entries, and the checkpoint stored
/// for that size, which must open under the ledger key and match the tree.
async fn load(store: &Store, verifier: &NoteVerifier) -> Result<Loaded, LoadError> {
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
    let registry = rebuild_registry(&events, size - 1, verifier)?;
    let note = store
        .checkpoint_at(size)
        .await?
        .ok_or_else(|| LoadError::Corrupt(format!("no signed checkpoint for the size {size}")))?;
    let checkpoint = Checkpoint::open(&note, verifier)
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
/// genesis is checked against the trusted ledger key; later entries were
/// authorised when they were appended and are only applied.
fn rebuild_registry(
    events: &[StoredEntry],
    upto: u64,
    verifier: &NoteVerifier,
) -> Result<Registry, LoadError> {
    let Some(genesis) = events.first().filter(|e| e.entry.seq == 0) else {
        return Err(LoadError::Corrupt("entry 0 is not a genesis entry".into()));
    };
    let mut registry =
        Registry::from_genesis(&genesis.event, Some(verifier)).map_err(LoadError::Genesis)?;
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
    verifier: &NoteVerifier,
    accept_rollback: bool,
) -> Result<(), StartError> {
    let Some((cp, _)) = file.read_for_start(verifier, accept_rollback)? else {
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

/// Where a receipt's entry comes from.
enum Slot {
    /// Already in the database before this group.
    Stored(Entry, Digest),
    /// Staged in this group, at this index of the staged entries.
    Staged(usize),
}

/// A failure that ends a whole group; every request in it gets
/// [`AppendError::Internal`].
#[derive(Debug, thiserror::Error)]
enum GroupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Refused(String),
}

/// One error shared by every request of a failed group.
#[derive(Debug, Clone)]
struct SharedError(Arc<GroupError>);

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

/// The writer task's state. Only the writer changes the ledger.
struct Writer {
    store: Store,
    signer: NoteSigner,
    ledger: Arc<RwLock<Ledger>>,
    registry: Arc<Registry>,
    /// The last checkpoint signed (or found at start-up and after catching
    /// up): every new checkpoint must be consistent with it.
    last_signed: Checkpoint,
    /// A checkpoint signed in a group whose commit failed: it counts as
    /// signed only if the database turns out to hold it.
    pending: Option<Checkpoint>,
    /// The signed note for the ledger's current size.
    note: String,
    /// The in-memory ledger may be ahead of the database (a commit failed).
    stale: bool,
    /// Why the writer refuses to go on, if it does.
    broken: Option<String>,
    /// The latest signed note, for the task that records it beside the keys.
    recorder: tokio::sync::watch::Sender<String>,
    /// Signals each commit to the log checkpointer.
    committed: tokio::sync::watch::Sender<()>,
    clock: Clock,
    max_group_entries: usize,
    published: Arc<RwLock<Arc<Snapshot>>>,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Message>) {
        while let Some(first) = rx.recv().await {
            let mut group = Vec::new();
            let mut entries = 0;
            let mut stop = false;
            match first {
                Message::Append(r) => {
                    entries += r.events.len();
                    group.push(r);
                }
                Message::Shutdown => stop = true,
            }
            // Group commit: everything already waiting shares this
            // transaction and its fsync.
            while !stop && entries < self.max_group_entries {
                match rx.try_recv() {
                    Ok(Message::Append(r)) => {
                        entries += r.events.len();
                        group.push(r);
                    }
                    Ok(Message::Shutdown) => stop = true,
                    Err(_) => break,
                }
            }
            if !group.is_empty() {
                self.commit_group(group).await;
            }
            if stop {
                break;
            }
        }
        // Requests queued after the shutdown are dropped with the receiver,
        // and their submitters get `Unavailable`.
    }

    async fn commit_group(&mut self, group: Vec<Request>) {
        let mut replies = Vec::with_capacity(group.len());
        let mut bodies = Vec::with_capacity(group.len());
        for r in group {
            replies.push(r.reply);
            bodies.push((r.events, r.verified_with));
        }
        match self.try_commit(bodies).await {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, requests = replies.len(), "group commit failed");
                let shared = SharedError(Arc::new(e));
                for reply in replies {
                    let _ = reply.send(Err(AppendError::Internal(Box::new(shared.clone()))));
                }
            }
        }
    }

    async fn try_commit(
        &mut self,
        group: Vec<(Vec<HashedEvent>, Vec<Option<PublicKey>>)>,
    ) -> Result<Vec<Result<Answer, AppendError>>, GroupError> {
        if let Some(why) = &self.broken {
            return Err(GroupError::Refused(why.clone()));
        }
        let mut tx = self.store.begin_sequencing().await?;
        let mut ids: Vec<EventId> = group
            .iter()
            .flat_map(|(events, _)| events.iter().map(|e| e.event().body.event_id.clone()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        // Which of the group's events are already stored, read together
        // with the database's size under the lock.
        let (db_size, stored) = tx.size_and_event_ids(&ids).await?;
        self.sync_with_database(&mut tx, db_size).await?;

        let (plans, staged) = {
            let ledger = read(&self.ledger);
            let mut batch = ledger.begin((self.clock)());
            // Event ids staged by this group, with their event hash and
            // index, so that a repeat within the group is a replay too.
            let mut in_group: HashMap<EventId, (Digest, usize)> = HashMap::new();
            let mut plans = Vec::with_capacity(group.len());
            for (events, verified_with) in group {
                let savepoint = batch.savepoint();
                let mut added = Vec::new();
                let mut slots = Vec::with_capacity(events.len());
                let mut refusal = None;
                let mut keys = verified_with.into_iter();
                for event in events {
                    let key = keys.next().flatten();
                    let id = event.event().body.event_id.clone();
                    if let Some(old) = stored.get(&id) {
                        if old.entry.event_hash == event.hash() {
                            slots.push(Slot::Stored(old.entry.clone(), old.hash));
                            continue;
                        }
                        refusal = Some(AppendError::Conflict(id));
                        break;
                    }
                    if let Some(&(hash, index)) = in_group.get(&id) {
                        if hash == event.hash() {
                            slots.push(Slot::Staged(index));
                            continue;
                        }
                        refusal = Some(AppendError::Conflict(id));
                        break;
                    }
                    match batch.append_hashed(event, key.as_ref()) {
                        Ok(a) => {
                            let event_hash = a.entry.event_hash;
                            let index = batch.len() - 1;
                            in_group.insert(id.clone(), (event_hash, index));
                            added.push(id);
                            slots.push(Slot::Staged(index));
                        }
                        Err(e) => {
                            refusal = Some(AppendError::Rejected(e));
                            break;
                        }
                    }
                }
                match refusal {
                    Some(e) => {
                        batch.rollback(savepoint);
                        for id in added {
                            in_group.remove(&id);
                        }
                        plans.push(Err(e));
                    }
                    None => plans.push(Ok(slots)),
                }
            }
            (plans, batch.finish())
        };

        let mut new_entries = Vec::new();
        if staged.entries.is_empty() {
            // Only replays and refusals: nothing to write.
            tx.rollback().await?;
        } else {
            let registry_changed = staged.entries.iter().any(|a| {
                matches!(
                    a.event.body.event_type.as_str(),
                    KEY_REGISTERED | KEY_REVOKED
                )
            });
            new_entries = staged
                .entries
                .iter()
                .map(|a| (a.entry.clone(), a.hash))
                .collect::<Vec<_>>();
            // From here until the commit succeeds, memory is ahead of the
            // database; any error makes the next group reload.
            self.stale = true;
            let done = write(&self.ledger).commit(staged);
            let (cp, note) = self.sign_checkpoint()?;
            self.pending = Some(cp.clone());
            // The entries, the checkpoint that covers them and the commit,
            // in as few round trips as the backend allows.
            tx.insert_appended_and_commit(&done, Some((cp.size, &note)))
                .await?;
            // The events are freed by another thread, not the writer.
            tokio::task::spawn_blocking(move || drop(done));
            self.stale = false;
            self.pending = None;
            self.last_signed = cp;
            self.note = note;
            if registry_changed {
                self.registry = Arc::new(read(&self.ledger).registry().clone());
            }
            // Recorded beside the keys off the commit path: see
            // `record_checkpoints`.
            self.recorder.send_replace(self.note.clone());
            self.committed.send_replace(());
            self.publish();
        }

        let size = read(&self.ledger).size();
        let answers = plans
            .into_iter()
            .map(|plan| {
                plan.map(|slots| {
                    let mut added: Vec<usize> = slots
                        .iter()
                        .filter_map(|s| match s {
                            Slot::Staged(i) => Some(*i),
                            Slot::Stored(..) => None,
                        })
                        .collect();
                    added.sort_unstable();
                    added.dedup();
                    let entries = slots
                        .into_iter()
                        .map(|slot| match slot {
                            Slot::Stored(entry, hash) => (entry, hash),
                            Slot::Staged(i) => new_entries[i].clone(),
                        })
                        .collect();
                    Answer {
                        entries,
                        size,
                        note: self.note.clone(),
                        appended: added.len() as u64,
                    }
                })
            })
            .collect();
        Ok(answers)
    }

    /// Brings the in-memory ledger to the database's state (`db_size`
    /// entries) under the lock:
    /// a reload after a failed commit, or a catch-up with what another
    /// process appended. Refuses a database that lost entries.
    async fn sync_with_database(
        &mut self,
        tx: &mut Sequencing,
        db_size: u64,
    ) -> Result<(), GroupError> {
        if self.stale {
            self.reload().await?;
        } else {
            let size = read(&self.ledger).size();
            if db_size < size {
                let why = format!(
                    "the database shrank from {size} to {db_size} entries while the service \
                     was running; refusing every append until an operator restarts it"
                );
                self.broken = Some(why.clone());
                return Err(GroupError::Refused(why));
            }
            if db_size > size {
                self.catch_up(tx, size).await?;
            }
        }
        Ok(())
    }

    /// Applies entries another process appended, without verifying their
    /// signatures again (whoever appended them did), but checking that each
    /// chains exactly as stored; then adopts that process's latest
    /// checkpoint after checking it against the tree and our last one.
    async fn catch_up(&mut self, tx: &mut Sequencing, from: u64) -> Result<(), GroupError> {
        let entries = tx.entries_from(from).await?;
        let latest = tx.latest_checkpoint().await?;
        // Should anything below fail, the next group reloads everything.
        self.stale = true;
        let registry_changed = {
            let mut ledger = write(&self.ledger);
            apply_foreign(&mut ledger, entries).map_err(GroupError::Refused)?
        };
        let latest = latest.ok_or_else(|| GroupError::Refused("no stored checkpoint".into()))?;
        let cp = Checkpoint::open(&latest.note, self.signer.verifier()).map_err(|e| {
            GroupError::Refused(format!("the stored checkpoint {}: {e}", latest.size))
        })?;
        {
            let ledger = read(&self.ledger);
            if cp.size != ledger.size() || cp.root != ledger.tree().root() {
                return Err(GroupError::Refused(format!(
                    "the latest stored checkpoint ({}) does not cover the stored entries ({})",
                    cp.size,
                    ledger.size()
                )));
            }
            check_consistent(ledger.tree(), &self.last_signed, &cp)?;
        }
        self.last_signed = cp;
        self.note = latest.note;
        self.stale = false;
        if registry_changed {
            self.registry = Arc::new(read(&self.ledger).registry().clone());
        }
        self.publish();
        Ok(())
    }

    /// Rebuilds the in-memory ledger from the database after a failed
    /// commit, and settles whether the checkpoint signed for it counts.
    async fn reload(&mut self) -> Result<(), GroupError> {
        let loaded = load(&self.store, self.signer.verifier())
            .await
            .map_err(|e| match e {
                LoadError::Store(e) => GroupError::Store(e),
                other => GroupError::Refused(other.to_string()),
            })?;
        if let Some(p) = self.pending.take() {
            // The failed commit did happen if the database holds its tree.
            if loaded.ledger.tree().root_at(p.size).ok() == Some(p.root) {
                self.last_signed = p;
            }
        }
        check_consistent(loaded.ledger.tree(), &self.last_signed, &loaded.checkpoint)?;
        *write(&self.ledger) = loaded.ledger;
        self.last_signed = loaded.checkpoint;
        self.note = loaded.note;
        self.registry = Arc::new(read(&self.ledger).registry().clone());
        self.stale = false;
        self.publish();
        tracing::info!(
            size = self.last_signed.size,
            "reloaded the ledger from the database"
        );
        Ok(())
    }

    /// Signs the checkpoint of the current in-memory tree, after proving it
    /// consistent with the last checkpoint signed.
    fn sign_checkpoint(&self) -> Result<(Checkpoint, String), GroupError> {
        let ledger = read(&self.ledger);
        let cp = ledger.checkpoint();
        check_consistent(ledger.tree(), &self.last_signed, &cp)?;
        let note = cp.sign(&self.signer);
        Ok((cp, note))
    }

    fn publish(&self) {
        let snapshot = snapshot_of(&self.ledger, self.registry.clone(), self.note.clone());
        *write(&self.published) = Arc::new(snapshot);
    }
}

/// Keeps the last-checkpoint file up to date with the latest note signed.
///
/// The file guards against a database restored from an older copy, which
/// is days or hours behind, so it need not be written inside each commit:
/// doing it here keeps its two fsyncs off the append path, and when commits
/// come faster than that, only the newest note is written, at most every
/// [`CHECKPOINT_FILE_PAUSE`]: each replacement forces a journal commit of
/// the file system, which the database's own log flushes would otherwise
/// queue behind at every commit. On a crash the file may lag the database
/// by the commits of the last pause, which only makes start-up's check a
/// little less strict; it never makes the file ahead of the database. On
/// shutdown the last note is written before the sequencer reports that it
/// stopped.
async fn record_checkpoints(
    file: LastCheckpointFile,
    mut notes: tokio::sync::watch::Receiver<String>,
) {
    // The note the file already holds (start-up wrote it).
    notes.borrow_and_update();
    while notes.changed().await.is_ok() {
        let note = notes.borrow_and_update().clone();
        let file = file.clone();
        match tokio::task::spawn_blocking(move || file.write(&note)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "could not record the last checkpoint"),
            Err(e) => tracing::error!(error = %e, "could not record the last checkpoint"),
        }
        tokio::time::sleep(CHECKPOINT_FILE_PAUSE).await;
    }
    // `changed` fails only once the writer is gone and its last note has
    // been seen, so that note is already written.
}

/// The least time between two replacements of the last-checkpoint file:
/// far below the age of any backup the file guards against, and long
/// enough that at hundreds of commits a second it is replaced a few times
/// a second, not at every commit.
const CHECKPOINT_FILE_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Copies SQLite's write-ahead log into the database after commits, off
/// the writer's path (see [`Store::checkpoint_wal`]), at most every
/// [`WAL_CHECKPOINT_PAUSE`]: a page that many commits change (the
/// event-id index takes random inserts) is then copied once for all of
/// them. Commits during a copy or a pause only mark that another is due.
async fn checkpoint_wal(store: Store, mut commits: tokio::sync::watch::Receiver<()>) {
    let mut due = false;
    loop {
        if !due && commits.changed().await.is_err() {
            return; // The writer is gone.
        }
        match store.checkpoint_wal().await {
            Ok(None) => return, // PostgreSQL: nothing to do, ever.
            Ok(Some(_)) => {}
            Err(e) => tracing::warn!(error = %e, "could not checkpoint the write-ahead log"),
        }
        due = false;
        let until = tokio::time::Instant::now() + WAL_CHECKPOINT_PAUSE;
        loop {
            match tokio::time::timeout_at(until, commits.changed()).await {
                Err(_) => break, // The pause is over.
                Ok(Ok(())) => due = true,
                Ok(Err(_)) => return, // The writer is gone.
            }
        }
    }
}

/// The pause between two background log checkpoints: short enough that the
/// log stays far below SQLite's own checkpoint threshold (64 MiB) at the
/// highest append rates measured, long enough to copy each hot page once
/// for many commits.
const WAL_CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// Checks, with a consistency proof from `tree`, that `new` extends `old`.
/// This is the last line of defence against signing a fork.
fn check_consistent(tree: &Tree, old: &Checkpoint, new: &Checkpoint) -> Result<(), GroupError> {
    let refused = |why: String| {
        GroupError::Refused(format!(
            "refusing to sign: the tree of {} entries is not consistent with the last signed \
             checkpoint of {} entries: {why}",
            new.size, old.size
        ))
    };
    let proof = tree
        .consistency_proof(old.size, new.size)
        .map_err(|e| refused(e.to_string()))?;
    merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof)
        .map_err(|e| refused(e.to_string()))
}

/// Appends entries read from the database to the in-memory ledger, in
/// batches of equal `recorded_at`, checking that each comes out exactly as
/// stored. Returns whether the registry changed.
fn apply_foreign(ledger: &mut Ledger, entries: Vec<StoredEntry>) -> Result<bool, String> {
    let mut registry_changed = false;
    let mut entries = entries.into_iter().peekable();
    while let Some(first) = entries.next() {
        let at = first.entry.recorded_at;
        let mut batch = ledger.begin(at);
        let mut next = Some(first);
        while let Some(stored) = next {
            registry_changed |= matches!(
                stored.event.body.event_type.as_str(),
                KEY_REGISTERED | KEY_REVOKED
            );
            // The key as registered lets `append` skip the signature check;
            // a key registered earlier in this same batch is not found here,
            // and that event's signature is simply verified again.
            let key = ledger
                .registry()
                .key(&stored.event.body.key_id)
                .map(|r| r.public_key);
            let appended = batch
                .append(stored.event, key.as_ref())
                .map_err(|e| format!("entry {} from the database: {e}", stored.entry.seq))?;
            if appended.entry != stored.entry || appended.hash != stored.hash {
                return Err(format!(
                    "entry {} in the database does not chain onto the ledger",
                    stored.entry.seq
                ));
            }
            next = entries.next_if(|e| e.entry.recorded_at == at);
        }
        let staged = batch.finish();
        ledger.commit(staged);
    }
    Ok(registry_changed)
}
