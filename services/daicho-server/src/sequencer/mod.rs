//! The append path: one writer task that sequences events with group
//! commit, and snapshots that readers use concurrently.
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
//! The parts: the public API and the snapshot here, the errors in
//! `error`, start-up in `startup`, the writer task in `writer`, the pure
//! staging of a group in `staging`, the consistency check before signing in
//! `fork_guard`, and the tasks that follow the commits in `background`.

mod background;
mod error;
mod fork_guard;
mod staging;
mod startup;
mod writer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use daicho_core::entry::Entry;
use daicho_core::event::HashedEvent;
use daicho_core::keys::{NoteVerifier, PublicKey};
use daicho_core::ledger::Ledger;
use daicho_core::merkle::TreeError;
use daicho_core::receipt::{Receipt, RECEIPT_FORMAT};
use daicho_core::registry::Registry;
use daicho_core::timestamp::RecordedAt;
use daicho_core::Digest;
use daicho_store::Store;
use tokio::sync::{mpsc, oneshot};

pub use error::{AppendError, ReadError, ShutdownError, StartError};
use startup::{rebuild_registry, LoadError};

/// The ledger's clock: `recorded_at` for the entries of each group commit,
/// and the door's "now" for the `occurred_at` window. Tests pass a fixed
/// or stepping clock.
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
    /// Ledger keys this instance holds besides the one it starts with: the
    /// previous key during a rotation's overlap, the next one while a
    /// rotation is under way (FORMAT.md §8.5). Each checkpoint is signed by
    /// the registry's current key, and by the previous one when it is held.
    pub extra_keys: Vec<daicho_core::keys::NoteSigner>,
    /// Where the writer hands each group's entries once they are
    /// committed, so that whoever keeps state from them (the projections)
    /// need not read them back from the database. A group the receiver has
    /// no room for is freed instead; the receiver reads it from the store.
    pub committed_entries: Option<mpsc::Sender<Vec<daicho_core::entry::Recorded>>>,
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
            extra_keys: Vec::new(),
            committed_entries: None,
        }
    }

    /// The same configuration, handing committed entries to `to`.
    pub fn with_committed_entries(
        mut self,
        to: mpsc::Sender<Vec<daicho_core::entry::Recorded>>,
    ) -> SequencerConfig {
        self.committed_entries = Some(to);
        self
    }

    /// The same configuration with more ledger keys held.
    pub fn with_extra_keys(mut self, keys: Vec<daicho_core::keys::NoteSigner>) -> SequencerConfig {
        self.extra_keys = keys;
        self
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

    /// The ledger's current checkpoint key.
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

/// How the writer's last group commit went: what readiness reports, so
/// that a service whose every append fails is not reported ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriterHealth {
    /// The last group commit succeeded, or none was tried since start.
    Ok,
    /// The last group commit failed because the database's storage could
    /// not take it (full, or failing I/O); the next commit that succeeds
    /// clears this.
    StorageUnavailable,
    /// The last group commit failed for this reason; the next commit that
    /// succeeds clears this.
    Failing(String),
}

struct Inner {
    queue: mpsc::Sender<Message>,
    closing: AtomicBool,
    published: Arc<RwLock<Arc<Snapshot>>>,
    health: Arc<RwLock<WriterHealth>>,
    writer: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    store: Store,
    clock: Clock,
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
    /// The ledger as of the last commit.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        read(&self.inner.published).clone()
    }

    /// How the writer's last group commit went.
    pub fn writer_health(&self) -> WriterHealth {
        read(&self.inner.health).clone()
    }

    /// The clock the ledger records its entries with.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The registry as of entry `seq` (the state after applying every
    /// registry entry with a seq up to and including `seq`), rebuilt from
    /// the stored registry entries.
    pub async fn registry_as_of(&self, seq: u64) -> Result<Registry, ReadError> {
        let snapshot = self.snapshot();
        let events = self.inner.store.registry_events().await?;
        let genesis_key = snapshot.registry.genesis_ledger_key();
        rebuild_registry(&events, seq, Some(genesis_key)).map_err(|e| match e {
            LoadError::Store(e) => ReadError::Store(e),
            other => ReadError::Corrupt(other.to_string()),
        })
    }

    /// Appends `events` as one request, each with the key its signature was
    /// already verified with (or `None`), and returns one receipt per event
    /// once they are durable: all are appended or none (the first refusal
    /// is returned).
    ///
    /// An event whose id is already in the ledger with the same content is
    /// not appended again: its receipt is rebuilt from the stored entry,
    /// with a proof against the latest checkpoint. Such retries, whoever
    /// appended the event first, are not counted in
    /// [`Receipts::appended`].
    ///
    /// Events may come with their canonical bytes and hash computed
    /// ([`HashedEvent`]), which spares the single writer that work.
    pub async fn append<E: Into<HashedEvent>>(
        &self,
        events: Vec<E>,
        verified_with: Vec<Option<PublicKey>>,
    ) -> Result<Receipts, AppendError> {
        let events: Vec<HashedEvent> = events.into_iter().map(Into::into).collect();
        if events.is_empty() {
            return Ok(Receipts {
                receipts: Vec::new(),
                appended: 0,
            });
        }
        let answer = self.submit(events, verified_with).await?.await?;
        let appended = answer.appended;
        Ok(Receipts {
            receipts: answer.receipts(&self.snapshot().ledger),
            appended,
        })
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

/// The key registry as the store holds it now, its genesis checked against
/// `genesis_key` (the ledger's `keys/ledger.vkey`): for the commands that
/// open a ledger's checkpoints without running the sequencer, since after
/// a rotation (FORMAT.md §8.5) the key that signs a checkpoint depends on
/// its size.
pub async fn stored_registry(
    store: &Store,
    genesis_key: &NoteVerifier,
) -> anyhow::Result<Registry> {
    let events = store.registry_events().await?;
    rebuild_registry(&events, u64::MAX, Some(genesis_key)).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The outcome of an append: the receipts, and how many entries the
/// request added as the writer counted them.
#[derive(Debug)]
pub struct Receipts {
    /// One receipt per event, in order.
    pub receipts: Vec<Receipt>,
    /// How many entries the request added: not the retries of events
    /// already in the ledger, and an event sent twice in the request once.
    /// An event that an earlier request of the same group commit staged
    /// counts for this request too, since the staging does not tell whose
    /// entry it is.
    pub appended: u64,
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
