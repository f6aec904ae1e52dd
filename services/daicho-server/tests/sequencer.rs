//! The sequencer against real databases: every test runs once on a fresh
//! SQLite file and once on a fresh PostgreSQL schema.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use daicho_core::checkpoint::Checkpoint;
use daicho_core::event::{EventType, Label, SignedEvent, UnsignedEvent};
use daicho_core::keys::NoteSigner;
use daicho_core::ledger::genesis_event;
use daicho_core::merkle::{self, Tree};
use daicho_core::receipt::Receipt;
use daicho_core::registry::{
    KeyRegistration, KeyRevocation, KeyRole, RegistryError, KEY_REGISTERED, KEY_REVOKED,
};
use daicho_core::timestamp::{OccurredAt, RecordedAt};
use daicho_server::last_checkpoint::LastCheckpointFile;
use daicho_server::sequencer::{AppendError, Clock, Sequencer, SequencerConfig, StartError};
use daicho_store::Store;
use daicho_testkit::event::numbered_id as id;
use daicho_testkit::keys::signer;
use daicho_testkit::{Backend, EventBuilder, ScratchDb};

daicho_testkit::on_both_backends!(
    concurrent_appends_get_contiguous_seqs_and_valid_receipts,
    a_retry_returns_the_original_receipt,
    the_same_id_with_other_content_is_a_conflict,
    an_atomic_batch_with_a_bad_event_appends_nothing,
    registry_changes_take_effect_in_order,
    snapshot_proofs_verify,
    start_refuses_a_database_the_checkpoint_file_does_not_allow,
    a_failed_commit_fails_the_group_and_the_next_one_recovers,
    shutdown_finishes_queued_appends_then_refuses,
    two_sequencers_on_one_database_never_fork,
    start_needs_an_initialised_database,
);

/// The ledger's keys and a registered source key.
struct Keys {
    ledger: NoteSigner,
    admin: NoteSigner,
    source: NoteSigner,
}

fn keys() -> Keys {
    Keys {
        ledger: signer("kameoka.example/daicho", 1),
        admin: signer("admin", 2),
        source: signer("juki", 3),
    }
}

/// A clock that starts at a fixed instant and moves one microsecond per
/// reading, so that runs are reproducible.
fn stepping_clock() -> Clock {
    let t = Arc::new(AtomicI64::new(1_775_000_000_000_000));
    Arc::new(move || RecordedAt::from_unix_micros(t.fetch_add(1, Ordering::Relaxed)).unwrap())
}

/// A clock that never moves: two ledgers fed the same events come out
/// byte for byte the same, whatever their group commits.
fn frozen_clock() -> Clock {
    Arc::new(|| RecordedAt::from_unix_micros(1_775_000_000_000_000).unwrap())
}

fn unsigned(n: u64, event_type: &str, source: &str, signer: &NoteSigner) -> UnsignedEvent {
    EventBuilder::new(signer, event_type, source)
        .id(id(n))
        .unsigned()
}

/// A source event numbered `n`, signed by the source key.
fn event(k: &Keys, n: u64) -> SignedEvent {
    let mut e = unsigned(n, "resident.record.viewed", "juki", &k.source);
    e.payload.insert("n".into(), serde_json::json!(n));
    e.sign(&k.source)
}

fn registration(k: &Keys, n: u64, key: &NoteSigner, source: &str) -> SignedEvent {
    let r = KeyRegistration {
        key_id: key.key_id(),
        public_key: key.public_key(),
        source: Label::parse(source).unwrap(),
        role: KeyRole::Source,
        types: vec![EventType::parse("resident.record.viewed").unwrap()],
    };
    EventBuilder::new(&k.admin, KEY_REGISTERED, "office")
        .id(id(n))
        .payload(serde_json::to_value(r).unwrap())
        .sign()
}

fn revocation(k: &Keys, n: u64, key: &NoteSigner) -> SignedEvent {
    let r = KeyRevocation {
        key_id: key.key_id(),
        reason: "retired".into(),
    };
    EventBuilder::new(&k.admin, KEY_REVOKED, "office")
        .id(id(n))
        .payload(serde_json::to_value(r).unwrap())
        .sign()
}

/// A database, a keys directory and a running sequencer over a ledger of
/// two entries: the genesis and the registration of the source key.
struct Ledger {
    db: ScratchDb,
    keys_dir: tempfile::TempDir,
    keys: Keys,
    store: Store,
    seq: Sequencer,
}

const FIRST_FREE_SEQ: u64 = 2;

impl Ledger {
    async fn new(backend: Backend) -> Ledger {
        Self::with_clock(backend, stepping_clock()).await
    }

    async fn with_clock(backend: Backend, clock: Clock) -> Ledger {
        let db = ScratchDb::new(backend);
        let keys_dir = tempfile::tempdir().unwrap();
        let keys = keys();
        let store = db.open().await.unwrap();
        let cfg = config(&keys_dir).with_clock(clock);
        Sequencer::initialise(&store, &keys.ledger, genesis(&keys), &cfg)
            .await
            .unwrap();
        let seq = Sequencer::start(store.clone(), keys.ledger.clone(), cfg)
            .await
            .unwrap();
        seq.append(
            vec![registration(&keys, 900_000, &keys.source, "juki")],
            vec![None],
        )
        .await
        .unwrap();
        Ledger {
            db,
            keys_dir,
            keys,
            store,
            seq,
        }
    }

    async fn append_one(&self, n: u64) -> Result<Receipt, AppendError> {
        let mut r = self
            .seq
            .append(vec![event(&self.keys, n)], vec![None])
            .await?;
        Ok(r.receipts.remove(0))
    }

    /// Checks everything in the database: a contiguous chain, and every
    /// stored checkpoint signed and consistent with the tree of all
    /// entries. Returns that tree.
    async fn audit(&self) -> Tree {
        audit(&self.store, &self.keys).await
    }
}

fn config(keys_dir: &tempfile::TempDir) -> SequencerConfig {
    SequencerConfig::new(keys_dir.path().join("last-checkpoint"), false)
}

fn genesis(k: &Keys) -> SignedEvent {
    genesis_event(
        &k.ledger,
        k.admin.public_key(),
        Label::parse("office").unwrap(),
        id(1_000_000),
        OccurredAt::parse("2026-04-01T00:00:00Z").unwrap(),
    )
}

async fn audit(store: &Store, k: &Keys) -> Tree {
    let size = store.size().await.unwrap();
    let entries = store.entries(0, u32::MAX).await.unwrap();
    assert_eq!(entries.len() as u64, size);
    let tree = daicho_core::ledger::Ledger::replay(entries, Some(k.ledger.verifier()))
        .unwrap_or_else(|e| panic!("the stored entries do not replay: {e}"))
        .tree()
        .clone();
    let mut after = 0;
    loop {
        let page = store.checkpoints(after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.size;
        for c in page {
            let cp = Checkpoint::open(&c.note, k.ledger.verifier()).unwrap();
            assert_eq!(cp.size, c.size);
            assert_eq!(
                cp.root,
                tree.root_at(cp.size).unwrap(),
                "fork at {}",
                cp.size
            );
        }
    }
    assert_eq!(after, size, "the last commit has no checkpoint");
    tree
}

fn verify(k: &Keys, r: &Receipt, e: &SignedEvent) -> Checkpoint {
    r.verify(k.ledger.verifier(), Some(e))
        .unwrap_or_else(|err| panic!("receipt for {} does not verify: {err}", r.entry.seq))
}

async fn concurrent_appends_get_contiguous_seqs_and_valid_receipts(backend: Backend) {
    let l = Arc::new(Ledger::new(backend).await);
    let checkpoints_before = l.store.checkpoints(0, 1000).await.unwrap().len();
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let l = l.clone();
            tokio::spawn(async move { (n, l.append_one(n).await.unwrap()) })
        })
        .collect();
    let mut seqs = BTreeSet::new();
    for t in tasks {
        let (n, r) = t.await.unwrap();
        let cp = verify(&l.keys, &r, &event(&l.keys, n));
        assert!(cp.size > r.entry.seq);
        assert!(seqs.insert(r.entry.seq), "seq {} given twice", r.entry.seq);
    }
    let expected: BTreeSet<u64> = (FIRST_FREE_SEQ..FIRST_FREE_SEQ + 200).collect();
    assert_eq!(seqs, expected);
    assert_eq!(l.seq.snapshot().size, FIRST_FREE_SEQ + 200);
    let tree = l.audit().await;
    assert_eq!(tree.root(), l.seq.snapshot().root);
    // Concurrent requests shared commits: fewer checkpoints than appends.
    let commits = l.store.checkpoints(0, 1000).await.unwrap().len() - checkpoints_before;
    assert!(commits < 200, "{commits} commits for 200 appends");
}

async fn a_retry_returns_the_original_receipt(backend: Backend) {
    let l = Ledger::new(backend).await;
    let first = l.append_one(1).await.unwrap();
    l.append_one(2).await.unwrap();
    let again = l.append_one(1).await.unwrap();
    assert_eq!(again.entry, first.entry);
    assert_eq!(again.entry_hash, first.entry_hash);
    verify(&l.keys, &again, &event(&l.keys, 1));
    assert_eq!(l.seq.snapshot().size, FIRST_FREE_SEQ + 2);

    // Repeats within one request, and across concurrent requests, are
    // appended once.
    let e3 = event(&l.keys, 3);
    let rs = l
        .seq
        .append(vec![e3.clone(), e3.clone()], vec![None, None])
        .await
        .unwrap()
        .receipts;
    assert_eq!(rs[0].entry, rs[1].entry);
    // Concurrent requests may or may not share a group commit; the staging
    // tests cover the shared group without a database.
    let e4 = event(&l.keys, 4);
    let rs = tokio::join!(
        l.seq.append(vec![e4.clone()], vec![None]),
        l.seq.append(vec![e4.clone()], vec![None]),
        l.seq.append(vec![e3.clone()], vec![None]),
    );
    let rs: Vec<Receipt> = [rs.0, rs.1, rs.2]
        .into_iter()
        .map(|r| r.unwrap().receipts.remove(0))
        .collect();
    assert_eq!(rs[0].entry, rs[1].entry);
    verify(&l.keys, &rs[2], &e3);
    assert_eq!(l.seq.snapshot().size, FIRST_FREE_SEQ + 4);

    // The writer counts what a request added: a retry adds nothing, a
    // repeat within the request once.
    let e5 = event(&l.keys, 5);
    let done = l
        .seq
        .append(vec![e3.clone(), e5.clone(), e5.clone()], vec![None; 3])
        .await
        .unwrap();
    assert_eq!((done.receipts.len(), done.appended), (3, 1));
    verify(&l.keys, &done.receipts[1], &e5);
    let again = l.seq.append(vec![e5], vec![None]).await.unwrap();
    assert_eq!(again.appended, 0);
    assert_eq!(l.seq.snapshot().size, FIRST_FREE_SEQ + 5);
    l.audit().await;
}

async fn the_same_id_with_other_content_is_a_conflict(backend: Backend) {
    let l = Ledger::new(backend).await;
    l.append_one(1).await.unwrap();
    let mut other = unsigned(1, "resident.record.viewed", "juki", &l.keys.source);
    other
        .payload
        .insert("n".into(), serde_json::json!("changed"));
    let other = other.sign(&l.keys.source);
    let err = l
        .seq
        .append(vec![other.clone()], vec![None])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppendError::Conflict(i) if *i == id(1)),
        "{err:?}"
    );

    // A new event in the same atomic batch is not appended either.
    let err = l
        .seq
        .append(vec![event(&l.keys, 2), other], vec![None, None])
        .await
        .unwrap_err();
    assert!(matches!(err, AppendError::Conflict(_)), "{err:?}");

    // Two different events with one id in one batch conflict too.
    let mut twin = unsigned(3, "resident.record.viewed", "juki", &l.keys.source);
    twin.payload.insert("n".into(), serde_json::json!("twin"));
    let err = l
        .seq
        .append(
            vec![event(&l.keys, 3), twin.sign(&l.keys.source)],
            vec![None, None],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppendError::Conflict(_)), "{err:?}");
    assert_eq!(l.seq.snapshot().size, FIRST_FREE_SEQ + 1);
    assert!(l.store.entry_by_event_id(&id(2)).await.unwrap().is_none());
    l.audit().await;
}

async fn an_atomic_batch_with_a_bad_event_appends_nothing(backend: Backend) {
    let l = Ledger::new(backend).await;
    let stranger = signer("stranger", 9);
    let unknown = unsigned(2, "resident.record.viewed", "juki", &stranger).sign(&stranger);
    let mut forged = event(&l.keys, 3);
    forged
        .body
        .payload
        .insert("n".into(), serde_json::json!(-1));

    // Submitted together, so that they can share a group commit: the good
    // request goes through whatever happens to the bad ones.
    let bad_key = l.seq.append(
        vec![event(&l.keys, 1), unknown, event(&l.keys, 4)],
        vec![None; 3],
    );
    let bad_sig = l.seq.append(vec![event(&l.keys, 5), forged], vec![None; 2]);
    let good = l.seq.append(vec![event(&l.keys, 6)], vec![None]);
    let (bad_key, bad_sig, good) = tokio::join!(bad_key, bad_sig, good);
    assert!(
        matches!(
            bad_key,
            Err(AppendError::Rejected(RegistryError::UnknownKey(_)))
        ),
        "{bad_key:?}"
    );
    assert!(
        matches!(
            bad_sig,
            Err(AppendError::Rejected(RegistryError::BadSignature(_)))
        ),
        "{bad_sig:?}"
    );
    let good = good.unwrap();
    assert_eq!(good.receipts[0].entry.seq, FIRST_FREE_SEQ);
    assert_eq!(l.seq.snapshot().size, FIRST_FREE_SEQ + 1);
    for n in [1, 4, 5] {
        assert!(l.store.entry_by_event_id(&id(n)).await.unwrap().is_none());
    }
    l.audit().await;
}

async fn registry_changes_take_effect_in_order(backend: Backend) {
    let l = Ledger::new(backend).await;
    let kiosk = signer("kiosk", 7);
    let by_kiosk = |n: u64| {
        let mut e = unsigned(n, "resident.record.viewed", "kiosk", &kiosk);
        e.payload.insert("n".into(), serde_json::json!(n));
        e.sign(&kiosk)
    };
    // Before its registration the key is unknown.
    let err = l
        .seq
        .append(vec![by_kiosk(1)], vec![None])
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        AppendError::Rejected(RegistryError::UnknownKey(_))
    ));
    // Registered and used in one batch.
    let rs = l
        .seq
        .append(
            vec![registration(&l.keys, 10, &kiosk, "kiosk"), by_kiosk(1)],
            vec![None, None],
        )
        .await
        .unwrap();
    let registered_at = rs.receipts[0].entry.seq;
    assert!(l.seq.snapshot().registry.key(&kiosk.key_id()).is_some());
    // Revoked, after which it may not sign.
    l.seq
        .append(vec![revocation(&l.keys, 11, &kiosk)], vec![None])
        .await
        .unwrap();
    let err = l
        .seq
        .append(vec![by_kiosk(2)], vec![None])
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        AppendError::Rejected(RegistryError::Revoked { .. })
    ));

    let before = l.seq.registry_as_of(registered_at - 1).await.unwrap();
    assert!(before.key(&kiosk.key_id()).is_none());
    let at = l.seq.registry_as_of(registered_at).await.unwrap();
    assert_eq!(at.key(&kiosk.key_id()).unwrap().revoked_at, None);
    let now = l.seq.registry_as_of(u64::MAX).await.unwrap();
    assert!(now.key(&kiosk.key_id()).unwrap().revoked_at.is_some());
    l.audit().await;
}

async fn snapshot_proofs_verify(backend: Backend) {
    let l = Ledger::new(backend).await;
    for n in 0..10 {
        l.append_one(n).await.unwrap();
    }
    let s = l.seq.snapshot();
    assert_eq!(s.size, FIRST_FREE_SEQ + 10);
    let cp = Checkpoint::open(&s.checkpoint, l.keys.ledger.verifier()).unwrap();
    assert_eq!((cp.size, cp.root), (s.size, s.root));
    let stored = l.store.entry(5).await.unwrap().unwrap();
    let (leaf, proof) = s.inclusion_proof(5, 9).unwrap();
    assert_eq!(leaf, stored.hash);
    merkle::verify_inclusion(5, 9, &leaf, &proof, &s.root_at(9).unwrap()).unwrap();
    let proof = s.consistency_proof(4, s.size).unwrap();
    merkle::verify_consistency(4, s.size, &s.root_at(4).unwrap(), &s.root, &proof).unwrap();
    assert!(s.inclusion_proof(0, s.size + 1).is_err());
    assert!(s.consistency_proof(1, s.size + 1).is_err());
}

async fn start_refuses_a_database_the_checkpoint_file_does_not_allow(backend: Backend) {
    // The same events on a frozen clock give identical ledgers, so a
    // ledger that stopped earlier is exactly an older backup of one that
    // went on.
    let newer = Ledger::with_clock(backend, frozen_clock()).await;
    let older = Ledger::with_clock(backend, frozen_clock()).await;
    for n in 0..5 {
        newer.append_one(n).await.unwrap();
    }
    older.append_one(0).await.unwrap();
    older.seq.shutdown().await.unwrap();
    newer.seq.shutdown().await.unwrap();
    let file = newer.keys_dir.path().join("last-checkpoint");
    let start = |store: Store, accept: bool| {
        let cfg = SequencerConfig::new(file.clone(), accept).with_clock(frozen_clock());
        Sequencer::start(store, newer.keys.ledger.clone(), cfg)
    };

    let err = start(older.store.clone(), false).await.unwrap_err();
    assert!(
        matches!(
            err,
            StartError::RolledBack {
                file_size: 7,
                db_size: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("--accept-rollback"), "{err}");

    // A database of the right length with other entries.
    let other = Ledger::with_clock(backend, frozen_clock()).await;
    for n in 100..105 {
        other.append_one(n).await.unwrap();
    }
    other.seq.shutdown().await.unwrap();
    let err = start(other.store.clone(), false).await.unwrap_err();
    assert!(
        matches!(err, StartError::Diverged { size: 7, .. }),
        "{err:?}"
    );

    // The newer database itself is fine, and so is one that grew since.
    start(newer.store.clone(), false)
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();

    // The operator may accept the older database; the file then follows it.
    let accepted = start(older.store.clone(), true).await.unwrap();
    assert_eq!(accepted.snapshot().size, 3);
    accepted.shutdown().await.unwrap();
    let (cp, _) = LastCheckpointFile::new(&file)
        .read(newer.keys.ledger.verifier())
        .unwrap()
        .unwrap();
    assert_eq!(cp.size, 3);

    if backend == Backend::Sqlite {
        sqlite_file_restored_from_a_copy_is_refused().await;
    }
}

/// The operator's mistake itself: copy the database file, go on appending,
/// then put the old copy back.
async fn sqlite_file_restored_from_a_copy_is_refused() {
    let l = Ledger::new(Backend::Sqlite).await;
    l.append_one(1).await.unwrap();
    let path = l.db.sqlite_path().unwrap();
    let backup = l.keys_dir.path().join("backup.db");
    l.seq.shutdown().await.unwrap();
    // Closing the last connection folds the WAL into the database file, so
    // the file alone is a complete copy.
    l.store.close().await;
    std::fs::copy(&path, &backup).unwrap();

    let cfg = || config(&l.keys_dir).with_clock(stepping_clock());
    let store = l.db.open().await.unwrap();
    let seq = Sequencer::start(store.clone(), l.keys.ledger.clone(), cfg())
        .await
        .unwrap();
    seq.append(vec![event(&l.keys, 2)], vec![None])
        .await
        .unwrap();
    seq.shutdown().await.unwrap();
    store.close().await;

    std::fs::copy(&backup, &path).unwrap();
    let store = l.db.open().await.unwrap();
    let err = Sequencer::start(store.clone(), l.keys.ledger.clone(), cfg())
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::RolledBack { .. }), "{err:?}");
    let mut accept = cfg();
    accept.accept_rollback = true;
    let seq = Sequencer::start(store.clone(), l.keys.ledger.clone(), accept)
        .await
        .unwrap();
    assert_eq!(seq.snapshot().size, FIRST_FREE_SEQ + 1);
    seq.shutdown().await.unwrap();
    store.close().await;
}

async fn a_failed_commit_fails_the_group_and_the_next_one_recovers(backend: Backend) {
    let l = Ledger::new(backend).await;
    l.append_one(1).await.unwrap();
    let size = l.seq.snapshot().size;
    // Something else took the checkpoint row the next commit of one entry
    // needs, so that commit fails inside the transaction.
    let mut tx = l.store.begin_sequencing().await.unwrap();
    tx.insert(&[], Some((size + 1, "squatter"))).await.unwrap();
    tx.commit().await.unwrap();

    let err = l.append_one(2).await.unwrap_err();
    assert!(matches!(err, AppendError::Internal(_)), "{err:?}");
    assert_eq!(l.store.size().await.unwrap(), size);
    assert_eq!(l.seq.snapshot().size, size);

    // The next group (two entries, so past the squatted size) starts from
    // the database again and commits.
    let rs = l
        .seq
        .append(vec![event(&l.keys, 2), event(&l.keys, 3)], vec![None, None])
        .await
        .unwrap();
    assert_eq!(rs.receipts[0].entry.seq, size);
    verify(&l.keys, &rs.receipts[0], &event(&l.keys, 2));
    verify(&l.keys, &rs.receipts[1], &event(&l.keys, 3));
    assert_eq!(l.seq.snapshot().size, size + 2);
    let tree = l.audit_ignoring_squatter(size + 1).await;
    assert_eq!(tree.root(), l.seq.snapshot().root);
}

impl Ledger {
    /// [`Ledger::audit`] for a database with one foreign checkpoint row.
    async fn audit_ignoring_squatter(&self, squatted: u64) -> Tree {
        let entries = self.store.entries(0, u32::MAX).await.unwrap();
        let tree = Tree::from_leaves(entries.iter().map(|e| e.hash));
        for c in self.store.checkpoints(0, 1000).await.unwrap() {
            if c.size == squatted {
                continue;
            }
            let cp = Checkpoint::open(&c.note, self.keys.ledger.verifier()).unwrap();
            assert_eq!(cp.root, tree.root_at(cp.size).unwrap());
        }
        tree
    }
}

async fn shutdown_finishes_queued_appends_then_refuses(backend: Backend) {
    let l = Arc::new(Ledger::new(backend).await);
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let l = l.clone();
            tokio::spawn(async move { l.append_one(n).await })
        })
        .collect();
    tokio::task::yield_now().await;
    l.seq.shutdown().await.unwrap();
    let mut appended = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => appended += 1,
            Err(AppendError::Unavailable) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    let size = l.store.size().await.unwrap();
    assert_eq!(size, FIRST_FREE_SEQ + appended);
    // The last checkpoint is recorded beside the keys before shutdown returns.
    let (cp, _) = LastCheckpointFile::in_dir(l.keys_dir.path())
        .read(l.keys.ledger.verifier())
        .unwrap()
        .unwrap();
    assert_eq!(cp.size, size);
    let err = l.append_one(1000).await.unwrap_err();
    assert!(matches!(err, AppendError::Unavailable), "{err:?}");
    l.audit().await;
}

async fn two_sequencers_on_one_database_never_fork(backend: Backend) {
    let l = Ledger::new(backend).await;
    // A second process: its own connections, keys directory and clock.
    let other_dir = tempfile::tempdir().unwrap();
    let other_store = l.db.open().await.unwrap();
    let other = Sequencer::start(
        other_store,
        l.keys.ledger.clone(),
        config(&other_dir).with_clock(stepping_clock()),
    )
    .await
    .unwrap();
    let sequencers = [l.seq.clone(), other.clone()];
    let mut tasks = Vec::new();
    for n in 0..200u64 {
        let s = sequencers[(n % 2) as usize].clone();
        let e = event(&l.keys, n);
        tasks.push(tokio::spawn(async move {
            let r = s.append(vec![e.clone()], vec![None]).await.unwrap();
            (e, r.receipts.into_iter().next().unwrap())
        }));
    }
    let mut receipts = Vec::new();
    for t in tasks {
        receipts.push(t.await.unwrap());
    }
    let tree = l.audit().await;
    assert_eq!(tree.size(), FIRST_FREE_SEQ + 200);
    let mut seqs = BTreeSet::new();
    for (e, r) in &receipts {
        let cp = verify(&l.keys, r, e);
        // Every checkpoint either process handed out is a prefix of the
        // final tree.
        assert_eq!(cp.root, tree.root_at(cp.size).unwrap());
        seqs.insert(r.entry.seq);
    }
    assert_eq!(seqs.len(), 200);
    // Each process catches up with the other on its next commit.
    let last = l.append_one(1000).await.unwrap();
    assert_eq!(last.entry.seq, FIRST_FREE_SEQ + 200);
    let r = other
        .append(vec![event(&l.keys, 1001)], vec![None])
        .await
        .unwrap();
    assert_eq!(r.receipts[0].entry.seq, FIRST_FREE_SEQ + 201);
    assert_eq!(other.snapshot().size, FIRST_FREE_SEQ + 202);
    other.shutdown().await.unwrap();
    l.audit().await;
}

async fn start_needs_an_initialised_database(backend: Backend) {
    let db = ScratchDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let store = db.open().await.unwrap();
    let err = Sequencer::start(store.clone(), k.ledger.clone(), config(&dir))
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::Uninitialised), "{err:?}");
    // A genesis that names another ledger key is refused.
    let stranger = signer("kameoka.example/daicho", 8);
    let err = Sequencer::initialise(&store, &stranger, genesis(&k), &config(&dir))
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::Genesis(_)), "{err:?}");
    Sequencer::initialise(&store, &k.ledger, genesis(&k), &config(&dir))
        .await
        .unwrap();
    let err = Sequencer::initialise(&store, &k.ledger, genesis(&k), &config(&dir))
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::AlreadyInitialised), "{err:?}");
    // Started with another ledger key, the ledger's key is not held.
    let err = Sequencer::start(store.clone(), stranger, config(&dir))
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::KeyNotHeld(_)), "{err:?}");
    let seq = Sequencer::start(store.clone(), k.ledger.clone(), config(&dir))
        .await
        .unwrap();
    assert_eq!(seq.snapshot().size, 1);
    seq.shutdown().await.unwrap();
}
