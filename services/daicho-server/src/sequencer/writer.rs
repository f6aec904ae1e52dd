//! The writer task: the only code that changes the ledger. It drains
//! waiting requests into one group, takes the database's single-writer
//! lock, catches up with what another process appended, stages the group,
//! writes its rows and one signed checkpoint in one transaction, and only
//! then answers each request.
//!
//! The in-memory ledger is a cache of the database. After any database
//! error it is rebuilt from the database under the writer lock, because an
//! error on commit does not say whether the commit happened.

use std::sync::{Arc, RwLock};

use daicho_core::checkpoint::{Checkpoint, CheckpointKeys as _};
use daicho_core::event::EventId;
use daicho_core::keys::NoteSigner;
use daicho_core::ledger::Ledger;
use daicho_core::registry::Registry;
use daicho_store::{Sequencing, Store};
use tokio::sync::{mpsc, watch};

use super::error::{AppendError, GroupError, SharedError};
use super::fork_guard::check_consistent;
use super::staging::{self, changes_registry, Body, StagedGroup};
use super::startup::{load, signers, LoadError};
use super::{read, snapshot_of, write, Answer, Clock, Message, Request, Snapshot, WriterHealth};

/// Whether the in-memory ledger can be trusted to match the database.
#[derive(Debug)]
pub(super) enum Health {
    /// The in-memory ledger is the database's state.
    InStep,
    /// The in-memory ledger may be ahead of the database: a commit or a
    /// catch-up failed partway, so the next group reloads from the database.
    Stale {
        /// A checkpoint signed in a group whose commit failed: it counts as
        /// signed only if the database turns out to hold it.
        pending: Option<Checkpoint>,
    },
    /// The writer refuses every append until an operator restarts it, for
    /// this reason.
    Broken(String),
}

/// The writer task's state. Only the writer changes the ledger.
pub(super) struct Writer {
    pub(super) store: Store,
    /// The ledger keys this instance holds (see `startup::signers`).
    pub(super) keys: Vec<NoteSigner>,
    pub(super) ledger: Arc<RwLock<Ledger>>,
    pub(super) registry: Arc<Registry>,
    /// The last checkpoint signed (or found at start-up and after catching
    /// up): every new checkpoint must be consistent with it.
    pub(super) last_signed: Checkpoint,
    /// The signed note for the ledger's current size.
    pub(super) note: String,
    /// Whether the in-memory ledger matches the database.
    pub(super) health: Health,
    /// The latest signed note, for the task that records it beside the keys.
    pub(super) recorder: watch::Sender<String>,
    /// Signals each commit to the log checkpointer.
    pub(super) committed: watch::Sender<()>,
    pub(super) clock: Clock,
    pub(super) max_group_entries: usize,
    pub(super) published: Arc<RwLock<Arc<Snapshot>>>,
    /// How the last group commit went, as readiness reports it.
    pub(super) reported: Arc<RwLock<WriterHealth>>,
    /// Who takes each group's entries once committed (see
    /// `SequencerConfig::committed_entries`).
    pub(super) committed_entries: Option<mpsc::Sender<Vec<daicho_core::entry::Recorded>>>,
}

impl Writer {
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Message>) {
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
                self.report(WriterHealth::Ok);
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, requests = replies.len(), "group commit failed");
                let storage = matches!(&e, GroupError::Store(s) if s.is_storage_unavailable());
                self.report(if storage {
                    WriterHealth::StorageUnavailable
                } else {
                    WriterHealth::Failing(e.to_string())
                });
                let shared = SharedError(Arc::new(e));
                for reply in replies {
                    let cause = Box::new(shared.clone());
                    let _ = reply.send(Err(if storage {
                        AppendError::StorageUnavailable(cause)
                    } else {
                        AppendError::Internal(cause)
                    }));
                }
            }
        }
    }

    async fn try_commit(
        &mut self,
        group: Vec<Body>,
    ) -> Result<Vec<Result<Answer, AppendError>>, GroupError> {
        if let Health::Broken(why) = &self.health {
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

        let StagedGroup { plans, staged } =
            staging::stage(&read(&self.ledger), (self.clock)(), group, |id| {
                stored.get(id).map(|s| (&s.entry, s.hash))
            });

        let mut new_entries = Vec::new();
        if staged.entries.is_empty() {
            // Only replays and refusals: nothing to write.
            tx.rollback().await?;
        } else {
            let registry_changed = staged.entries.iter().any(|a| changes_registry(&a.event));
            new_entries = staged
                .entries
                .iter()
                .map(|a| (a.entry.clone(), a.hash))
                .collect::<Vec<_>>();
            // From here until the commit succeeds, memory is ahead of the
            // database; any error makes the next group reload.
            self.health = Health::Stale { pending: None };
            let done = write(&self.ledger).commit(staged);
            let (cp, note) = self.sign_checkpoint()?;
            self.health = Health::Stale {
                pending: Some(cp.clone()),
            };
            // The entries, the checkpoint that covers them and the commit,
            // in as few round trips as the backend allows.
            tx.insert_and_commit(&done, Some((cp.size, &note))).await?;
            // The entries go to the projections, which fold them and free
            // them; failing that, another thread frees them, not the writer.
            let unsent = match &self.committed_entries {
                Some(to) => to.try_send(done).err().map(|e| e.into_inner()),
                None => Some(done),
            };
            if let Some(done) = unsent {
                tokio::task::spawn_blocking(move || drop(done));
            }
            self.health = Health::InStep;
            self.last_signed = cp;
            self.note = note;
            if registry_changed {
                self.registry = Arc::new(read(&self.ledger).registry().clone());
            }
            // Recorded beside the keys off the commit path: see
            // `background::record_checkpoints`.
            self.recorder.send_replace(self.note.clone());
            self.committed.send_replace(());
            self.publish();
        }

        let size = read(&self.ledger).size();
        Ok(staging::answers(plans, &new_entries, size, &self.note))
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
        if matches!(self.health, Health::Stale { .. }) {
            self.reload().await?;
        } else {
            let size = read(&self.ledger).size();
            if db_size < size {
                let why = format!(
                    "the database shrank from {size} to {db_size} entries while the service \
                     was running; refusing every append until an operator restarts it"
                );
                self.health = Health::Broken(why.clone());
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
        self.health = Health::Stale { pending: None };
        let registry_changed = {
            let mut ledger = write(&self.ledger);
            ledger
                .extend(entries)
                .map_err(|e| GroupError::Refused(format!("from the database: {e}")))?
        };
        let latest = latest.ok_or_else(|| GroupError::Refused("no stored checkpoint".into()))?;
        let cp = read(&self.ledger)
            .registry()
            .open_checkpoint(&latest.note)
            .map_err(|e| {
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
        self.health = Health::InStep;
        if registry_changed {
            self.registry = Arc::new(read(&self.ledger).registry().clone());
        }
        self.publish();
        Ok(())
    }

    /// Rebuilds the in-memory ledger from the database after a failed
    /// commit, and settles whether the checkpoint signed for it counts.
    async fn reload(&mut self) -> Result<(), GroupError> {
        let loaded = load(&self.store).await.map_err(|e| match e {
            LoadError::Store(e) => GroupError::Store(e),
            other => GroupError::Refused(other.to_string()),
        })?;
        let pending = match &mut self.health {
            Health::Stale { pending } => pending.take(),
            Health::InStep | Health::Broken(_) => None,
        };
        if let Some(p) = pending {
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
        self.health = Health::InStep;
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
        let signers = signers(&self.keys, ledger.registry()).map_err(|key| {
            GroupError::Refused(format!(
                "this instance does not hold the ledger's current key {key}: the ledger key \
                 was rotated by another instance; install its key files here and restart \
                 (docs/OPERATIONS.md, \"Rotating the ledger key\")"
            ))
        })?;
        Ok((cp.clone(), cp.sign_all(&signers)))
    }

    /// Records how the last group commit went, for readiness.
    fn report(&self, health: WriterHealth) {
        let mut current = self
            .reported
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *current != health {
            tracing::info!(from = ?*current, to = ?health, "writer health changed");
            *current = health;
        }
    }

    fn publish(&self) {
        let snapshot = snapshot_of(&self.ledger, self.registry.clone(), self.note.clone());
        *write(&self.published) = Arc::new(snapshot);
    }
}
