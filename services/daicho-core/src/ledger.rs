//! The ledger builder: sequencing signed events into chained entries over
//! a live Merkle tree (FORMAT.md §6, §8). The service appends through this
//! code, and the tests build their bundles with it.

use crate::checkpoint::Checkpoint;
use crate::entry::{Entry, Recorded};
use crate::event::{EventId, HashedEvent, Label, SignedEvent, UnsignedEvent};
use crate::hash::Digest;
use crate::keys::{NoteSigner, NoteVerifier, PublicKey};
use crate::merkle::Tree;
use crate::registry::{
    changes_registry, GenesisPayload, KeyRegistration, KeyRole, LedgerKeyRotation, Registry,
    RegistryError, GENESIS, LEDGER_KEY_ROTATED, LEDGER_SOURCE,
};
use crate::timestamp::{OccurredAt, RecordedAt};

/// Why recorded entries could not be replayed into a ledger.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// There were no entries at all.
    #[error("there is no genesis entry")]
    Empty,
    /// The first entry is not at seq 0.
    #[error("the first entry has seq {0}, not 0")]
    NotGenesis(u64),
    /// The genesis event is not a valid genesis (for the trusted key).
    #[error("the genesis entry: {0}")]
    Genesis(RegistryError),
    /// The registry refused an entry (unknown or revoked key, bad signature, …).
    #[error("entry {0}: {1}")]
    Refused(u64, RegistryError),
    /// An entry does not come out as recorded: a different seq, time,
    /// event hash, link or entry hash.
    #[error("entry {0} does not chain onto the ledger as recorded")]
    Mismatch(u64),
}

/// The live ledger: head of the chain, Merkle tree and key registry.
#[derive(Debug)]
pub struct Ledger {
    registry: Registry,
    tree: Tree,
    head: Entry,
    head_hash: Digest,
}

/// Builds the genesis event (FORMAT.md §8.1): signed by the ledger key,
/// naming it and the first administrator key.
pub fn genesis_event(
    ledger: &NoteSigner,
    admin: PublicKey,
    admin_holder: Label,
    event_id: EventId,
    occurred_at: OccurredAt,
) -> SignedEvent {
    let payload = GenesisPayload {
        origin: ledger.verifier().name().to_owned(),
        ledger_key: ledger.verifier().to_string(),
        admin: KeyRegistration {
            key_id: admin.key_id(),
            public_key: admin,
            source: admin_holder,
            role: KeyRole::Admin,
            types: vec![],
        },
    };
    ledger_event(ledger, GENESIS, &payload, event_id, occurred_at)
}

/// Builds a rotation of the ledger key (FORMAT.md §8.5): signed by the
/// current key `current`, naming `next`, which must have the same name.
pub fn key_rotation_event(
    current: &NoteSigner,
    next: &NoteVerifier,
    reason: &str,
    event_id: EventId,
    occurred_at: OccurredAt,
) -> SignedEvent {
    let payload = LedgerKeyRotation {
        ledger_key: next.to_string(),
        reason: reason.to_owned(),
    };
    ledger_event(current, LEDGER_KEY_ROTATED, &payload, event_id, occurred_at)
}

/// An event of the ledger's own (`source` and actor `daicho`, role
/// `ledger`), signed by a ledger key.
fn ledger_event(
    key: &NoteSigner,
    event_type: &str,
    payload: &impl serde::Serialize,
    event_id: EventId,
    occurred_at: OccurredAt,
) -> SignedEvent {
    let serde_json::Value::Object(payload) =
        serde_json::to_value(payload).expect("a ledger payload serialises")
    else {
        unreachable!("a struct serialises to an object")
    };
    UnsignedEvent {
        event_id,
        event_type: crate::event::EventType::parse(event_type).expect("valid type"),
        schema_version: 1,
        occurred_at,
        actor: crate::event::Actor {
            id: Label::parse(LEDGER_SOURCE).expect("valid label"),
            role: Label::parse("ledger").expect("valid label"),
        },
        source: Label::parse(LEDGER_SOURCE).expect("valid label"),
        payload,
        key_id: key.key_id(),
    }
    .sign(key)
}

impl Ledger {
    /// Starts a ledger from its genesis event, recorded at `recorded_at`.
    pub fn create(
        genesis: SignedEvent,
        recorded_at: RecordedAt,
    ) -> Result<(Ledger, Recorded), RegistryError> {
        Self::create_checked(genesis, recorded_at, None)
    }

    fn create_checked(
        genesis: SignedEvent,
        recorded_at: RecordedAt,
        trusted: Option<&NoteVerifier>,
    ) -> Result<(Ledger, Recorded), RegistryError> {
        let registry = Registry::from_genesis(&genesis, trusted)?;
        let first = Recorded::chain(0, recorded_at, Digest::ZERO, HashedEvent::new(genesis));
        let mut tree = Tree::new();
        tree.push(first.hash);
        let ledger = Ledger {
            registry,
            tree,
            head: first.entry.clone(),
            head_hash: first.hash,
        };
        Ok((ledger, first))
    }

    /// Rebuilds a ledger from recorded entries, genesis first, each one
    /// appended again through [`Batch`] and required to come out exactly
    /// as recorded (entry and entry hash). With `trusted`, the genesis must
    /// name that ledger key.
    ///
    /// Entries sequenced together share a `recorded_at`, so consecutive
    /// entries with equal times are staged as one batch, as they were
    /// written. Every signature is checked against the registry as of its
    /// entry.
    pub fn replay<I>(entries: I, trusted: Option<&NoteVerifier>) -> Result<Ledger, ReplayError>
    where
        I: IntoIterator<Item = Recorded>,
    {
        let mut entries = entries.into_iter();
        let first = entries.next().ok_or(ReplayError::Empty)?;
        if first.entry.seq != 0 {
            return Err(ReplayError::NotGenesis(first.entry.seq));
        }
        let (mut ledger, genesis) =
            Self::create_checked(first.event, first.entry.recorded_at, trusted)
                .map_err(ReplayError::Genesis)?;
        if genesis.entry != first.entry || genesis.hash != first.hash {
            return Err(ReplayError::Mismatch(0));
        }
        ledger.append_recorded(entries, true)?;
        Ok(ledger)
    }

    /// Appends entries that another process appended to the same store
    /// after this ledger's head, checking as [`Ledger::replay`] does, except
    /// that a signature by a key registered before its batch is not checked
    /// again: the process that appended it did. Returns whether the key
    /// registry changed.
    pub fn extend<I>(&mut self, entries: I) -> Result<bool, ReplayError>
    where
        I: IntoIterator<Item = Recorded>,
    {
        self.append_recorded(entries, false)
    }

    fn append_recorded<I>(
        &mut self,
        entries: I,
        check_signatures: bool,
    ) -> Result<bool, ReplayError>
    where
        I: IntoIterator<Item = Recorded>,
    {
        let mut registry_changed = false;
        let mut entries = entries.into_iter().peekable();
        while let Some(first) = entries.next() {
            let at = first.entry.recorded_at;
            let mut batch = self.begin(at);
            let mut next = Some(first);
            while let Some(recorded) = next {
                let seq = recorded.entry.seq;
                registry_changed |= changes_registry(recorded.event.body.event_type.as_str());
                // The key as registered before this batch lets `append` skip
                // the signature check; a key registered earlier in this same
                // batch is not found here, and that event's signature is
                // simply verified again.
                let key = self
                    .registry
                    .key(&recorded.event.body.key_id)
                    .filter(|_| !check_signatures)
                    .map(|r| r.public_key);
                let appended = batch
                    .append(recorded.event, key.as_ref())
                    .map_err(|e| ReplayError::Refused(seq, e))?;
                if appended.entry != recorded.entry || appended.hash != recorded.hash {
                    return Err(ReplayError::Mismatch(seq));
                }
                next = entries.next_if(|e| e.entry.recorded_at == at);
            }
            let staged = batch.finish();
            self.commit(staged);
        }
        Ok(registry_changed)
    }

    /// Reassembles a ledger from stored state that was written by this code
    /// (the service's start-up): the registry as of the head, the tree of
    /// all entry hashes, and the head entry.
    pub fn restore(registry: Registry, tree: Tree, head: Entry) -> Ledger {
        let head_hash = head.hash();
        debug_assert_eq!(tree.size(), head.seq + 1);
        Ledger {
            registry,
            tree,
            head,
            head_hash,
        }
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }
    /// The last entry.
    pub fn head(&self) -> &Entry {
        &self.head
    }
    /// The registry as of the head.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
    /// The Merkle tree of all entry hashes.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The checkpoint body for the current size.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            origin: self.registry.ledger_key().name().to_owned(),
            size: self.tree.size(),
            root: self.tree.root(),
        }
    }

    /// Opens a batch of appends. All entries of a batch share one
    /// `recorded_at`: `now`, or the head's if the clock went backwards.
    pub fn begin(&self, now: RecordedAt) -> Batch<'_> {
        Batch {
            base: self,
            registry: None,
            staged: Vec::new(),
            recorded_at: now.max(self.head.recorded_at),
        }
    }

    /// Applies a finished batch. It must have been opened on this ledger in
    /// its current state.
    ///
    /// Returns the staged entries, so that the caller decides where they
    /// are dropped (a service's single writer hands them to another thread).
    pub fn commit(&mut self, staged: Staged) -> Vec<Recorded> {
        assert_eq!(
            staged.base_size,
            self.size(),
            "batch opened on another state"
        );
        if let Some(registry) = staged.registry {
            self.registry = registry;
        }
        for a in &staged.entries {
            self.tree.push(a.hash);
        }
        if let Some(last) = staged.entries.last() {
            self.head = last.entry.clone();
            self.head_hash = last.hash;
        }
        staged.entries
    }
}

/// Appends being prepared; nothing changes in the ledger until
/// [`Ledger::commit`].
#[derive(Debug)]
pub struct Batch<'a> {
    base: &'a Ledger,
    registry: Option<Registry>,
    staged: Vec<Recorded>,
    recorded_at: RecordedAt,
}

/// A point a batch can roll back to.
#[derive(Debug)]
pub struct Savepoint {
    len: usize,
    registry: Option<Registry>,
}

/// A finished batch, ready to commit.
#[derive(Debug)]
pub struct Staged {
    base_size: u64,
    registry: Option<Registry>,
    /// The new entries in order.
    pub entries: Vec<Recorded>,
}

impl Batch<'_> {
    /// The key registry as of this point of the batch: the ledger's, with
    /// the registry events staged so far applied.
    pub fn registry(&self) -> &Registry {
        self.registry.as_ref().unwrap_or(&self.base.registry)
    }

    /// Stages one event: authorised by the registry as of this point of the
    /// batch, its signature verified strictly unless `verified_with` is the
    /// registered key (the caller already verified against it), then chained.
    /// On error the batch is unchanged.
    pub fn append(
        &mut self,
        event: SignedEvent,
        verified_with: Option<&PublicKey>,
    ) -> Result<&Recorded, RegistryError> {
        self.append_hashed(HashedEvent::new(event), verified_with)
    }

    /// [`Batch::append`] for an event whose canonical bytes and hash are
    /// already computed.
    pub fn append_hashed(
        &mut self,
        hashed: HashedEvent,
        verified_with: Option<&PublicKey>,
    ) -> Result<&Recorded, RegistryError> {
        let event = hashed.event();
        let rec = self.registry().authorize(event)?;
        // The message is cut from the bytes already computed, not
        // serialised again.
        if verified_with != Some(&rec.public_key)
            && !rec
                .public_key
                .verify(&hashed.signing_message(), &event.signature.0)
        {
            return Err(RegistryError::BadSignature(event.body.key_id.clone()));
        }
        let seq = self.base.size() + self.staged.len() as u64;
        if changes_registry(event.body.event_type.as_str()) {
            let mut next = self.registry().clone();
            next.apply(seq, event)?;
            self.registry = Some(next);
        }
        let prev_hash = self.staged.last().map_or(self.base.head_hash, |a| a.hash);
        self.staged
            .push(Recorded::chain(seq, self.recorded_at, prev_hash, hashed));
        Ok(self.staged.last().expect("just pushed"))
    }

    /// Number of staged entries.
    pub fn len(&self) -> usize {
        self.staged.len()
    }
    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.staged.is_empty()
    }
    /// The entries staged so far.
    pub fn entries(&self) -> &[Recorded] {
        &self.staged
    }
    /// Marks the current point.
    pub fn savepoint(&self) -> Savepoint {
        Savepoint {
            len: self.staged.len(),
            registry: self.registry.clone(),
        }
    }
    /// Drops everything staged after `sp`.
    pub fn rollback(&mut self, sp: Savepoint) {
        self.staged.truncate(sp.len);
        self.registry = sp.registry;
    }
    /// Finishes the batch.
    pub fn finish(self) -> Staged {
        Staged {
            base_size: self.base.size(),
            registry: self.registry,
            entries: self.staged,
        }
    }
}
