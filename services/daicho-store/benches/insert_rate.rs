//! The raw insert rate of the store: the rows the service writes (entries
//! with their signed events, one checkpoint per commit) without any
//! cryptography in the timed part, in group commits of several sizes, on
//! SQLite and on PostgreSQL. The service benchmark reports its throughput
//! beside these numbers.
//!
//! Run: `cargo bench -p daicho-store --bench insert_rate`. Environment:
//! `DAICHO_BENCH_ROWS` (rows per measurement, default 100000) and
//! `DAICHO_TEST_DATABASE_URL` (default the local test database). Prints one
//! line per measurement: `backend rows_per_commit rows seconds rows_per_second`,
//! and, as a comment line, how long the start-up read of the leaf hashes
//! and the tree rebuild take for the largest database.

use std::time::Instant;

use daicho_core::entry::{Entry, Recorded};
use daicho_core::event::EventId;
use daicho_core::timestamp::RecordedAt;
use daicho_core::Digest;
use daicho_testkit::keys::signer;
use daicho_testkit::{Backend, EventBuilder, ScratchDb};

/// Rows shaped like the service's: a signed event of a few hundred bytes
/// with a Japanese payload, chained entries. The signature is computed once
/// and reused (the store never checks it), and every hash is computed here,
/// before the clock starts.
fn rows(n: u64) -> Vec<Recorded> {
    let signer = signer("juki", 3);
    let template = EventBuilder::new(&signer, "resident.record.viewed", "juki")
        .actor("clerk-0042", "resident_affairs_clerk")
        .payload(serde_json::json!({
            "resident_id": "R-0001234567",
            "住所": "京都府亀岡市安町野々神8番地",
            "purpose": "転入届の審査",
        }))
        .sign();
    let recorded_at = RecordedAt::from_unix_micros(1_775_000_000_000_000).unwrap();
    let mut prev = Digest::ZERO;
    (0..n)
        .map(|seq| {
            let mut event = template.clone();
            let mut id = [0u8; 16];
            // Clear of the UUID's version and variant bits (bytes 6 and 8).
            id[8..].copy_from_slice(&seq.to_be_bytes());
            event.body.event_id = EventId::from_bytes(id);
            let bytes = event.canonical_bytes();
            let entry = Entry {
                seq,
                recorded_at,
                event_hash: Digest::of(&bytes),
                prev_hash: prev,
            };
            let hash = entry.hash();
            prev = hash;
            Recorded {
                entry,
                hash,
                event,
                bytes,
            }
        })
        .collect()
}

/// Inserts `rows` in commits of `per_commit`; returns the seconds taken and,
/// when asked, the seconds a start-up then takes to read the leaf hashes
/// and rebuild the tree.
async fn measure(
    backend: Backend,
    rows: &[Recorded],
    per_commit: usize,
    startup: bool,
) -> (f64, Option<f64>) {
    let db = ScratchDb::new(backend);
    let store = db.open().await.expect("open the scratch database");
    let note = "bench\n0\nAAAA\n\n— bench AAAA\n";
    let started = Instant::now();
    for chunk in rows.chunks(per_commit) {
        let mut tx = store.begin_sequencing().await.unwrap();
        let size = chunk.last().unwrap().entry.seq + 1;
        tx.insert(chunk, Some((size, note))).await.unwrap();
        tx.commit().await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let startup = if startup {
        let started = Instant::now();
        let leaves = store.leaf_hashes(0).await.unwrap();
        let tree = daicho_core::merkle::Tree::from_leaves(leaves);
        assert_eq!(tree.size(), rows.len() as u64);
        Some(started.elapsed().as_secs_f64())
    } else {
        None
    };
    store.close().await;
    (secs, startup)
}

fn main() {
    let n: u64 = std::env::var("DAICHO_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let all = rows(n);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("backend\trows_per_commit\trows\tseconds\trows_per_second");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let name = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        // Commits of one row are bound by fsync, so fewer rows suffice.
        for (per_commit, rows) in [(1, 500), (100, 20_000), (1000, n), (10_000, n)] {
            let rows = &all[..(rows.min(n) as usize)];
            let (secs, startup) =
                rt.block_on(measure(backend, rows, per_commit, per_commit == 10_000));
            println!(
                "{name}\t{per_commit}\t{}\t{secs:.3}\t{:.0}",
                rows.len(),
                rows.len() as f64 / secs
            );
            if let Some(startup) = startup {
                println!(
                    "# {name}: reading {} leaf hashes and rebuilding the tree took {startup:.3} s",
                    rows.len()
                );
            }
        }
    }
}
