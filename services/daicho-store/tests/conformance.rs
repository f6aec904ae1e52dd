//! The storage conformance suite: every test runs once on a fresh SQLite
//! file and once on a fresh PostgreSQL schema, so both backends keep the
//! same promises.

use std::time::Duration;

use daicho_core::entry::Recorded;
use daicho_core::event::{EventId, EventType, Label};
use daicho_core::ledger::{genesis_event, Ledger};
use daicho_core::registry::{KeyRegistration, KeyRole, KEY_REGISTERED};
use daicho_core::timestamp::{OccurredAt, RecordedAt};
use daicho_store::{Store, StoreError};
use daicho_testkit::keys::signer;
use daicho_testkit::{Backend, EventBuilder, ScratchDb};

daicho_testkit::on_both_backends!(
    empty_store_has_nothing,
    entries_round_trip_exactly,
    pagination_and_export_chunks,
    event_id_lookup_finds_only_stored_events,
    repeated_keys_are_conflicts,
    sequencing_excludes_a_second_writer,
    sequencing_sees_what_another_handle_appended,
    dropped_sequencing_rolls_back,
    checkpoints_round_trip,
    tokens_round_trip,
    a_revoked_token_is_gone_for_every_handle,
    reopening_keeps_everything,
    a_gap_in_seqs_is_reported,
    wal_checkpoints_copy_the_log_and_keep_everything,
    size_is_read_with_the_event_id_lookup,
    insert_and_commit_is_durable_or_leaves_nothing,
    a_sequencing_that_wrote_nothing_commits_and_releases,
    a_dropped_sequencing_lets_another_handle_write,
    a_backup_holds_the_database_as_of_its_last_commit,
);

/// Inserts entries by hand into a first-migration table, ids as text.
macro_rules! insert_with_text_ids {
    ($pool:expr, $entries:expr) => {
        for e in $entries {
            sqlx::query("INSERT INTO entries VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(i64::try_from(e.entry.seq).unwrap())
                .bind(e.entry.recorded_at.to_string())
                .bind(&e.entry.event_hash.0[..])
                .bind(&e.entry.prev_hash.0[..])
                .bind(&e.hash.0[..])
                .bind(e.event.body.event_id.as_str())
                .bind(e.event.body.event_type.as_str())
                .bind(e.event.canonical_bytes())
                .execute($pool)
                .await
                .unwrap();
        }
    };
}

fn at(micros: i64) -> RecordedAt {
    RecordedAt::from_unix_micros(1_775_000_000_000_000 + micros).unwrap()
}

fn event_id(n: u64) -> EventId {
    let mut b = [0u8; 16];
    // The UUID's version and variant bits are in bytes 6 and 8, so the
    // number goes where nothing overwrites it.
    b[0] = 0xda;
    b[8..].copy_from_slice(&n.to_be_bytes());
    EventId::from_bytes(b)
}

/// A ledger of `n` entries: the genesis, the registration of a source key,
/// then `n - 2` source events with a Japanese payload (so that the stored
/// bytes are not plain ASCII).
fn chain(n: u64) -> Vec<Recorded> {
    assert!(n >= 2);
    let ledger_key = signer("kameoka.example/daicho", 1);
    let admin = signer("admin", 2);
    let source = signer("juki", 3);
    let genesis = genesis_event(
        &ledger_key,
        admin.public_key(),
        Label::parse("情報政策課").unwrap(),
        event_id(1_000_000),
        OccurredAt::parse("2026-04-01T00:00:00Z").unwrap(),
    );
    let (mut ledger, g) = Ledger::create(genesis, at(0)).unwrap();
    let mut out = vec![g];
    let registration = KeyRegistration {
        key_id: source.key_id(),
        public_key: source.public_key(),
        source: Label::parse("juki").unwrap(),
        role: KeyRole::Source,
        types: vec![EventType::parse("resident.record.viewed").unwrap()],
    };
    let reg = EventBuilder::new(&admin, KEY_REGISTERED, "情報政策課")
        .id(event_id(1_000_001))
        .payload(serde_json::to_value(registration).unwrap())
        .sign();
    let mut batch = ledger.begin(at(1));
    batch.append(reg, None).unwrap();
    for i in 0..n - 2 {
        let e = EventBuilder::new(&source, "resident.record.viewed", "juki")
            .id(event_id(i))
            .payload(serde_json::json!({ "住所": format!("亀岡市 {i}") }))
            .sign();
        batch.append(e, None).unwrap();
    }
    let staged = batch.finish();
    out.extend(staged.entries.iter().cloned());
    ledger.commit(staged);
    out
}

/// A checkpoint-shaped note; the store does not open notes.
fn note(size: u64) -> String {
    format!("kameoka.example/daicho\n{size}\nroot\n\n— sig {size}\n")
}

/// Appends `entries` (and a checkpoint for the new size) in one sequencing
/// transaction.
async fn append(store: &Store, entries: &[Recorded]) {
    let mut seq = store.begin_sequencing().await.unwrap();
    let size = entries.last().map_or(0, |e| e.entry.seq + 1);
    seq.insert(entries, Some((size, &note(size))))
        .await
        .unwrap();
    seq.commit().await.unwrap();
}

async fn empty_store_has_nothing(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    assert_eq!(store.size().await.unwrap(), 0);
    assert!(store.head().await.unwrap().is_none());
    assert!(store.leaf_hashes(0).await.unwrap().is_empty());
    assert!(store.entries(0, 10).await.unwrap().is_empty());
    assert!(store.registry_events().await.unwrap().is_empty());
    assert!(store.latest_checkpoint().await.unwrap().is_none());
    assert!(store.entry(0).await.unwrap().is_none());
    let mut seq = store.begin_sequencing().await.unwrap();
    assert_eq!(seq.size().await.unwrap(), 0);
    assert!(seq.latest_checkpoint().await.unwrap().is_none());
    seq.commit().await.unwrap();
}

async fn entries_round_trip_exactly(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    let all = chain(10);
    append(&store, &all).await;

    assert_eq!(store.size().await.unwrap(), 10);
    assert_eq!(store.head().await.unwrap().as_ref(), all.last());
    assert_eq!(store.entries(0, 100).await.unwrap(), all);
    assert_eq!(store.entry(3).await.unwrap().as_ref(), Some(&all[3]));
    let by_id = store
        .entry_by_event_id(&all[5].event.body.event_id)
        .await
        .unwrap();
    assert_eq!(by_id.as_ref(), Some(&all[5]));
    assert!(store
        .entry_by_event_id(&event_id(999))
        .await
        .unwrap()
        .is_none());

    // The stored bytes are the canonical bytes: the event hash recomputed
    // from what was read back is the one the entry records.
    for e in store.entries(0, 100).await.unwrap() {
        assert_eq!(e.event.hash(), e.entry.event_hash);
        assert_eq!(e.entry.hash(), e.hash);
    }

    let hashes: Vec<_> = all.iter().map(|e| e.hash).collect();
    assert_eq!(store.leaf_hashes(0).await.unwrap(), hashes);
    assert_eq!(store.leaf_hashes(7).await.unwrap(), hashes[7..]);
    assert!(store.leaf_hashes(10).await.unwrap().is_empty());

    let registry = store.registry_events().await.unwrap();
    assert_eq!(registry, all[..2]);
}

async fn pagination_and_export_chunks(backend: Backend) {
    use futures_util::TryStreamExt;
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    let all = chain(25);
    append(&store, &all).await;

    let mut pages = Vec::new();
    let mut from = 0;
    loop {
        let page = store.entries(from, 10).await.unwrap();
        if page.is_empty() {
            break;
        }
        from = page.last().unwrap().entry.seq + 1;
        pages.push(page);
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
    assert_eq!(pages.concat(), all);
    assert_eq!(store.entries(24, 10).await.unwrap(), all[24..]);
    assert!(store.entries(0, 0).await.unwrap().is_empty());

    let chunks: Vec<Vec<Recorded>> = store.export_chunks(0, 25, 7).try_collect().await.unwrap();
    assert_eq!(
        chunks.iter().map(Vec::len).collect::<Vec<_>>(),
        [7, 7, 7, 4]
    );
    assert_eq!(chunks.concat(), all);
    // An export stops at the size it was asked for, even when more exists.
    let chunks: Vec<Vec<Recorded>> = store.export_chunks(3, 20, 7).try_collect().await.unwrap();
    assert_eq!(chunks.concat(), all[3..20]);
    let none: Vec<Vec<Recorded>> = store.export_chunks(0, 0, 7).try_collect().await.unwrap();
    assert!(none.is_empty());
}

async fn event_id_lookup_finds_only_stored_events(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    let all = chain(6);
    append(&store, &all).await;
    let mut seq = store.begin_sequencing().await.unwrap();
    assert!(seq.find_event_ids(&[]).await.unwrap().is_empty());
    let ids = [
        all[4].event.body.event_id.clone(),
        event_id(777),
        all[0].event.body.event_id.clone(),
    ];
    let found = seq.find_event_ids(&ids).await.unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[&ids[0]], all[4]);
    assert_eq!(found[&ids[2]], all[0]);
    // Many ids at once still work (SQLite splits the lookup).
    let many: Vec<EventId> = (0..40_000).map(event_id).collect();
    assert_eq!(seq.find_event_ids(&many).await.unwrap().len(), 4);
}

async fn repeated_keys_are_conflicts(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    let all = chain(5);
    append(&store, &all[..4]).await;

    // The same event id at a new seq.
    let mut again = all[4].clone();
    again.event = all[2].event.clone();
    let mut seq = store.begin_sequencing().await.unwrap();
    let err = seq.insert(&[again], None).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(seq);

    // The same seq.
    let mut seq = store.begin_sequencing().await.unwrap();
    let mut reused = all[4].clone();
    reused.entry.seq = 3;
    let err = seq.insert(&[reused], None).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(seq);

    // The same checkpoint size.
    let mut seq = store.begin_sequencing().await.unwrap();
    let err = seq.insert(&[], Some((4, "other"))).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    seq.rollback().await.unwrap();

    // Nothing of the failed transactions was kept.
    assert_eq!(store.size().await.unwrap(), 4);
    assert_eq!(store.checkpoint_at(4).await.unwrap(), Some(note(4)));
    append(&store, &all[4..]).await;
    assert_eq!(store.size().await.unwrap(), 5);
}

async fn sequencing_excludes_a_second_writer(backend: Backend) {
    let db = ScratchDb::new(backend);
    // Two handles with their own pools, as two processes would have.
    let first = db.open().await.unwrap();
    let second = db.open().await.unwrap();
    let all = chain(8);
    append(&first, &all[..3]).await;

    let mut held = first.begin_sequencing().await.unwrap();
    assert_eq!(held.size().await.unwrap(), 3);
    let waiter = tokio::spawn(async move {
        let mut seq = second.begin_sequencing().await.unwrap();
        let size = seq.size().await.unwrap();
        seq.commit().await.unwrap();
        size
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiter.is_finished(), "the second writer got the lock");
    // Readers are not blocked by the writer.
    assert_eq!(first.size().await.unwrap(), 3);
    held.insert(&all[3..], Some((8, &note(8)))).await.unwrap();
    held.commit().await.unwrap();
    // The second writer sees everything the first committed.
    assert_eq!(waiter.await.unwrap(), 8);
}

async fn sequencing_sees_what_another_handle_appended(backend: Backend) {
    let db = ScratchDb::new(backend);
    let first = db.open().await.unwrap();
    let second = db.open().await.unwrap();
    let all = chain(7);
    append(&first, &all[..3]).await;
    let mut seq = second.begin_sequencing().await.unwrap();
    assert_eq!(seq.size().await.unwrap(), 3);
    seq.commit().await.unwrap();

    append(&first, &all[3..]).await;
    let mut seq = second.begin_sequencing().await.unwrap();
    assert_eq!(seq.size().await.unwrap(), 7);
    assert_eq!(seq.entries_from(3).await.unwrap(), all[3..]);
    let latest = seq.latest_checkpoint().await.unwrap().unwrap();
    assert_eq!((latest.size, latest.note), (7, note(7)));
    assert!(seq.entries_from(7).await.unwrap().is_empty());
}

async fn dropped_sequencing_rolls_back(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    let all = chain(4);
    {
        let mut seq = store.begin_sequencing().await.unwrap();
        seq.insert(&all, Some((4, &note(4)))).await.unwrap();
    }
    let mut seq = store.begin_sequencing().await.unwrap();
    seq.insert(&all[..2], Some((2, &note(2)))).await.unwrap();
    seq.rollback().await.unwrap();
    assert_eq!(store.size().await.unwrap(), 0);
    assert!(store.latest_checkpoint().await.unwrap().is_none());
    // The lock was released both times.
    append(&store, &all).await;
    assert_eq!(store.size().await.unwrap(), 4);
}

async fn checkpoints_round_trip(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    let all = chain(9);
    append(&store, &all[..2]).await;
    append(&store, &all[2..5]).await;
    append(&store, &all[5..]).await;
    assert_eq!(store.checkpoint_at(5).await.unwrap(), Some(note(5)));
    assert_eq!(store.checkpoint_at(4).await.unwrap(), None);
    let latest = store.latest_checkpoint().await.unwrap().unwrap();
    assert_eq!((latest.size, latest.note.as_str()), (9, note(9).as_str()));
    let sizes: Vec<u64> = store
        .checkpoints(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|c| c.size)
        .collect();
    assert_eq!(sizes, [2, 5, 9]);
    let after: Vec<u64> = store
        .checkpoints(2, 1)
        .await
        .unwrap()
        .iter()
        .map(|c| c.size)
        .collect();
    assert_eq!(after, [5]);
}

async fn tokens_round_trip(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    store
        .insert_token([7; 32], "auditor", "監査委員 1")
        .await
        .unwrap();
    store
        .insert_token([8; 32], "reader", "reader")
        .await
        .unwrap();
    assert_eq!(
        store.token_role([7; 32]).await.unwrap().as_deref(),
        Some("auditor")
    );
    assert_eq!(
        store.token_role([8; 32]).await.unwrap().as_deref(),
        Some("reader")
    );
    assert_eq!(store.token_role([9; 32]).await.unwrap(), None);
    let err = store
        .insert_token([7; 32], "admin", "again")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        store.token_role([7; 32]).await.unwrap().as_deref(),
        Some("auditor")
    );
}

async fn a_revoked_token_is_gone_for_every_handle(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    // A second handle stands for another process on the same database.
    let other = db.open().await.unwrap();
    for (hash, role, label) in [
        ([7; 32], "auditor", "監査委員 1"),
        ([8; 32], "reader", "reader"),
    ] {
        store.insert_token(hash, role, label).await.unwrap();
    }
    let listed = other.tokens().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|t| (t.token_hash, t.role.as_str(), t.label.as_str()))
            .collect::<std::collections::BTreeSet<_>>(),
        [
            ([7; 32], "auditor", "監査委員 1"),
            ([8; 32], "reader", "reader")
        ]
        .into_iter()
        .collect()
    );
    assert!(listed
        .iter()
        .all(|t| daicho_core::timestamp::RecordedAt::parse(&t.created_at).is_ok()));

    assert!(store.revoke_token([7; 32]).await.unwrap());
    assert_eq!(other.token_role([7; 32]).await.unwrap(), None);
    assert_eq!(
        other.token_role([8; 32]).await.unwrap().as_deref(),
        Some("reader")
    );
    assert!(!other.revoke_token([7; 32]).await.unwrap());
    assert_eq!(
        other
            .tokens()
            .await
            .unwrap()
            .iter()
            .map(|t| t.token_hash)
            .collect::<Vec<_>>(),
        [[8; 32]]
    );
}

async fn reopening_keeps_everything(backend: Backend) {
    let db = ScratchDb::new(backend);
    let all = chain(5);
    {
        let store = db.open().await.unwrap();
        append(&store, &all).await;
        store.insert_token([1; 32], "admin", "first").await.unwrap();
        store.close().await;
    }
    // Opening again re-runs the migrations, which must be a no-op.
    let store = db.open().await.unwrap();
    assert_eq!(store.entries(0, 10).await.unwrap(), all);
    assert_eq!(store.checkpoint_at(5).await.unwrap(), Some(note(5)));
    assert_eq!(
        store.token_role([1; 32]).await.unwrap().as_deref(),
        Some("admin")
    );
}

async fn a_gap_in_seqs_is_reported(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    let all = chain(4);
    let mut seq = store.begin_sequencing().await.unwrap();
    seq.insert(&[all[0].clone(), all[2].clone()], None)
        .await
        .unwrap();
    seq.commit().await.unwrap();
    let err = store.leaf_hashes(0).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { seq: 1, .. }), "{err:?}");
}

async fn wal_checkpoints_copy_the_log_and_keep_everything(backend: Backend) {
    let db = ScratchDb::new(backend);
    let all = chain(6);
    let store = db.open().await.unwrap();
    append(&store, &all[..3]).await;
    let first = store.checkpoint_wal().await.unwrap();
    match backend {
        Backend::Sqlite => {
            // Nothing else reads or writes: every frame is copied.
            let (log, copied) = first.expect("SQLite reports frames");
            assert!(log > 0, "the appends went through the log");
            assert_eq!(copied, log);
        }
        Backend::Postgres => assert_eq!(first, None),
    }
    // While a sequencing transaction is open, a checkpoint neither waits
    // for it nor disturbs it.
    let mut seq = store.begin_sequencing().await.unwrap();
    seq.insert(&all[3..], None).await.unwrap();
    store.checkpoint_wal().await.unwrap();
    seq.commit().await.unwrap();
    store.checkpoint_wal().await.unwrap();
    store.close().await;
    let store = db.open().await.unwrap();
    assert_eq!(store.entries(0, 10).await.unwrap(), all);
}

/// On SQLite, a backup copies the last commit while a sequencing is open
/// and goes on, and the copy passes the page check; on PostgreSQL it is
/// refused (`pg_dump` takes the backup) and the page check has nothing to
/// do.
async fn a_backup_holds_the_database_as_of_its_last_commit(backend: Backend) {
    let db = ScratchDb::new(backend);
    let all = chain(6);
    let store = db.open().await.unwrap();
    append(&store, &all[..3]).await;
    store.check_integrity().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let mut seq = store.begin_sequencing().await.unwrap();
    seq.insert(&all[3..], None).await.unwrap();
    let backed_up = store.backup_into(&copy).await;
    seq.commit().await.unwrap();
    match backend {
        Backend::Sqlite => {
            backed_up.unwrap();
            let copied = Store::open(&format!("sqlite://{}", copy.display()))
                .await
                .unwrap();
            copied.check_integrity().await.unwrap();
            assert_eq!(copied.entries(0, 10).await.unwrap(), all[..3]);
            copied.close().await;
            // A backup never replaces a file.
            assert!(store.backup_into(&copy).await.is_err());
        }
        Backend::Postgres => {
            assert!(
                matches!(backed_up, Err(StoreError::Unsupported(_))),
                "{backed_up:?}"
            );
            assert!(!copy.exists());
        }
    }
    assert_eq!(store.entries(0, 10).await.unwrap(), all);
}

/// A database written before event ids were kept as bytes (the first
/// migration only, ids as text) is carried over by the second migration:
/// every entry stays, and lookups by id find them.
#[tokio::test]
async fn sqlite_ids_written_as_text_are_migrated_to_bytes() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    use std::str::FromStr as _;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let all = chain(4);
    {
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        let mut first = sqlx::migrate!("./migrations/sqlite");
        first.migrations = std::borrow::Cow::Owned(first.migrations[..1].to_vec());
        first.run(&pool).await.unwrap();
        insert_with_text_ids!(&pool, &all);
        pool.close().await;
    }
    let store = Store::open(&url).await.unwrap();
    migrated_ids_still_work(&store, &all).await;
}

#[tokio::test]
async fn unknown_url_schemes_are_refused() {
    let err = Store::open("mysql://localhost/db").await.unwrap_err();
    assert!(matches!(err, StoreError::BadUrl(_)), "{err:?}");
}

async fn size_is_read_with_the_event_id_lookup(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    let all = chain(6);
    let mut seq = store.begin_sequencing().await.unwrap();
    let (size, found) = seq.size_and_event_ids(&[event_id(0)]).await.unwrap();
    assert_eq!((size, found.len()), (0, 0));
    seq.commit().await.unwrap();

    append(&store, &all[..5]).await;
    // As the transaction's first query (on PostgreSQL it then travels with
    // the BEGIN) and as a later one.
    let mut seq = store.begin_sequencing().await.unwrap();
    let ids = [all[3].event.body.event_id.clone(), event_id(999)];
    for _ in 0..2 {
        let (size, found) = seq.size_and_event_ids(&ids).await.unwrap();
        assert_eq!(size, 5);
        assert_eq!(found.len(), 1);
        assert_eq!(found[&ids[0]], all[3]);
    }
    let (size, found) = seq.size_and_event_ids(&[]).await.unwrap();
    assert_eq!((size, found.len()), (5, 0));
    // More ids than one SQLite query binds: the size is still read once.
    let mut many: Vec<EventId> = (0..40_000).map(event_id).collect();
    many.push(all[0].event.body.event_id.clone());
    let (size, found) = seq.size_and_event_ids(&many).await.unwrap();
    assert_eq!((size, found.len()), (5, 4));
    // And it sees what this transaction wrote.
    seq.insert(&all[5..], Some((6, &note(6)))).await.unwrap();
    assert_eq!(seq.size_and_event_ids(&[]).await.unwrap().0, 6);
    seq.rollback().await.unwrap();
    assert_eq!(store.size().await.unwrap(), 5);
}

async fn insert_and_commit_is_durable_or_leaves_nothing(backend: Backend) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.unwrap();
    let all = chain(8);
    let rows = all.clone();

    let mut seq = store.begin_sequencing().await.unwrap();
    assert_eq!(seq.size().await.unwrap(), 0);
    seq.insert_and_commit(&rows[..4], Some((4, &note(4))))
        .await
        .unwrap();
    assert_eq!(store.entries(0, 10).await.unwrap(), all[..4]);
    assert_eq!(store.checkpoint_at(4).await.unwrap(), Some(note(4)));
    // Reopened, everything is there: the commit was real.
    store.close().await;
    let store = db.open().await.unwrap();
    assert_eq!(store.entries(0, 10).await.unwrap(), all[..4]);

    // A repeated checkpoint size fails the whole step: no entry stays and
    // the lock is released.
    let seq = store.begin_sequencing().await.unwrap();
    let err = seq
        .insert_and_commit(&rows[4..6], Some((4, "again")))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.size().await.unwrap(), 4);
    // So does a repeated seq, before its checkpoint is even tried.
    let seq = store.begin_sequencing().await.unwrap();
    let err = seq
        .insert_and_commit(&rows[3..6], Some((6, &note(6))))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.size().await.unwrap(), 4);
    assert_eq!(store.checkpoint_at(6).await.unwrap(), None);

    // Entries alone and a checkpoint alone work too.
    let seq = store.begin_sequencing().await.unwrap();
    seq.insert_and_commit(&rows[4..6], None).await.unwrap();
    let seq = store.begin_sequencing().await.unwrap();
    seq.insert_and_commit(&[], Some((6, &note(6))))
        .await
        .unwrap();
    let seq = store.begin_sequencing().await.unwrap();
    seq.insert_and_commit(&rows[6..], Some((8, &note(8))))
        .await
        .unwrap();
    assert_eq!(store.entries(0, 10).await.unwrap(), all);
    assert_eq!(store.checkpoint_at(6).await.unwrap(), Some(note(6)));
    assert_eq!(
        store.latest_checkpoint().await.unwrap().unwrap().note,
        note(8)
    );
}

async fn a_sequencing_that_wrote_nothing_commits_and_releases(backend: Backend) {
    let db = ScratchDb::new(backend);
    let first = db.open().await.unwrap();
    let second = db.open().await.unwrap();
    let all = chain(3);
    // Nothing sent at all, then nothing but a read: both end cleanly.
    first
        .begin_sequencing()
        .await
        .unwrap()
        .commit()
        .await
        .unwrap();
    let mut seq = first.begin_sequencing().await.unwrap();
    assert_eq!(seq.size().await.unwrap(), 0);
    seq.commit().await.unwrap();
    let seq = first.begin_sequencing().await.unwrap();
    seq.insert_and_commit(&[], None).await.unwrap();
    // Another handle can write at once.
    tokio::time::timeout(Duration::from_secs(5), append(&second, &all))
        .await
        .expect("the lock was released");
    assert_eq!(first.size().await.unwrap(), 3);
}

async fn a_dropped_sequencing_lets_another_handle_write(backend: Backend) {
    let db = ScratchDb::new(backend);
    let first = db.open().await.unwrap();
    let second = db.open().await.unwrap();
    let all = chain(5);
    {
        let mut seq = first.begin_sequencing().await.unwrap();
        assert_eq!(seq.size().await.unwrap(), 0);
        seq.insert(&all, Some((5, &note(5)))).await.unwrap();
    }
    // Another handle (as another process) gets the lock without waiting
    // for this handle's next sequencing, and sees nothing of the first.
    tokio::time::timeout(Duration::from_secs(5), append(&second, &all[..3]))
        .await
        .expect("the dropped sequencing released the lock");
    let mut seq = first.begin_sequencing().await.unwrap();
    assert_eq!(seq.size().await.unwrap(), 3);
    seq.insert(&all[3..], Some((5, &note(5)))).await.unwrap();
    seq.commit().await.unwrap();
    assert_eq!(second.entries(0, 10).await.unwrap(), all);
}

/// A PostgreSQL writer connection that the server ended (a restart, an
/// administrator) fails the sequencing in flight; the next one connects
/// anew, and nothing of the failed one stays.
#[tokio::test]
async fn postgres_writer_connection_is_replaced_after_the_server_ends_it() {
    let db = ScratchDb::postgres();
    let store = db.open().await.unwrap();
    let all = chain(5);
    append(&store, &all[..2]).await;

    let mut seq = store.begin_sequencing().await.unwrap();
    assert_eq!(seq.size().await.unwrap(), 2);
    seq.insert(&all[2..3], None).await.unwrap();
    // The scratch schema's connections carry its name as application name;
    // the writer is the one inside a transaction.
    let (base, query) = db.url().split_once('?').unwrap();
    let schema = query
        .split('&')
        .find_map(|p| p.strip_prefix("schema="))
        .unwrap();
    let admin = sqlx::PgPool::connect(base).await.unwrap();
    let ended: i64 = sqlx::query_scalar(
        "WITH writer AS MATERIALIZED (SELECT pid FROM pg_stat_activity \
         WHERE application_name = $1 AND state = 'idle in transaction') \
         SELECT count(*) FROM writer WHERE pg_terminate_backend(pid)",
    )
    .bind(schema)
    .fetch_one(&admin)
    .await
    .unwrap();
    admin.close().await;
    assert_eq!(ended, 1);
    assert!(seq.size().await.is_err());
    drop(seq);

    append(&store, &all[2..]).await;
    assert_eq!(store.entries(0, 10).await.unwrap(), all);
}

/// A PostgreSQL ledger written before event ids were uuids (the first
/// migration only, ids as text) is carried over by the second migration:
/// every entry stays, lookups by id find them, and ids stay unique.
#[tokio::test]
async fn postgres_ids_written_as_text_are_migrated_to_uuids() {
    let db = ScratchDb::postgres();
    let all = chain(4);
    let (base, query) = db.url().split_once('?').unwrap();
    let schema = query
        .split('&')
        .find_map(|p| p.strip_prefix("schema="))
        .unwrap()
        .to_owned();
    {
        let admin = sqlx::PgPool::connect(base).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .after_connect({
                let schema = schema.clone();
                move |conn, _| {
                    let set = format!("SET search_path TO \"{schema}\"");
                    Box::pin(async move {
                        sqlx::Executor::execute(conn, set.as_str()).await?;
                        Ok(())
                    })
                }
            })
            .connect(base)
            .await
            .unwrap();
        let mut first = sqlx::migrate!("./migrations/postgres");
        first.migrations = std::borrow::Cow::Owned(first.migrations[..1].to_vec());
        first.run(&pool).await.unwrap();
        insert_with_text_ids!(&pool, &all);
        pool.close().await;
    }
    let store = db.open().await.unwrap();
    migrated_ids_still_work(&store, &all).await;
}

/// What a migration of the event-id column must keep: every entry, lookups
/// by id, and the ids' uniqueness.
async fn migrated_ids_still_work(store: &Store, all: &[Recorded]) {
    assert_eq!(store.entries(0, 10).await.unwrap(), all);
    for e in all {
        let found = store
            .entry_by_event_id(&e.event.body.event_id)
            .await
            .unwrap()
            .expect("found by id");
        assert_eq!(found, *e);
    }
    let ids: Vec<EventId> = all.iter().map(|e| e.event.body.event_id.clone()).collect();
    let mut seq = store.begin_sequencing().await.unwrap();
    assert_eq!(seq.find_event_ids(&ids).await.unwrap().len(), all.len());
    // The id is still unique: the same event at a free seq is refused.
    let mut again = all[1].clone();
    again.entry.seq = u64::try_from(all.len()).unwrap();
    let err = seq.insert(&[again], None).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}
