//! `daicho init` interrupted at every step, as a crash would, on SQLite and
//! on PostgreSQL: the next `init` finishes the directory, and the ledger it
//! leaves starts.

use anyhow::bail;
use daicho_server::data_dir::{self, DataDir, InitStep};
use daicho_server::keyfile;
use daicho_server::sequencer::{Sequencer, SequencerConfig};
use daicho_store::Store;
use daicho_testkit::{Backend, ScratchDb};

const ORIGIN: &str = "daicho.test/ledger";

const STEPS: [InitStep; 5] = [
    InitStep::Marked,
    InitStep::LedgerKey,
    InitStep::AdminKey,
    InitStep::Database,
    InitStep::Genesis,
];

/// A data directory and, on PostgreSQL, a scratch schema for its database.
struct Setup {
    _tmp: tempfile::TempDir,
    dir: DataDir,
    db: Option<ScratchDb>,
}

impl Setup {
    fn new(backend: Backend) -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::new(tmp.path().join("data"));
        let db = (backend == Backend::Postgres).then(ScratchDb::postgres);
        Setup { _tmp: tmp, dir, db }
    }
    fn url(&self) -> Option<&str> {
        self.db.as_ref().map(|db| db.url())
    }
}

/// Interrupts `init` after `step`, then runs it again and starts the ledger.
async fn crash_after(backend: Backend, step: InitStep, lose_checkpoint_file: bool) {
    let s = Setup::new(backend);
    let crashed = data_dir::initialise_with(&s.dir, s.url(), ORIGIN, &mut |at| {
        if at == step {
            bail!("simulated crash after {at:?}")
        }
        Ok(())
    })
    .await;
    assert!(crashed.is_err(), "{step:?}");
    assert!(
        !s.dir.is_initialised(),
        "{step:?}: a half-made directory looks finished"
    );
    if lose_checkpoint_file {
        // The genesis is committed, and the crash came before the
        // last-checkpoint file was written.
        std::fs::remove_file(s.dir.last_checkpoint()).unwrap();
    }

    let done = data_dir::initialise(&s.dir, s.url(), ORIGIN)
        .await
        .unwrap_or_else(|e| panic!("{step:?}: the interrupted init is not finished: {e:#}"));
    assert!(done.resumed);
    assert!(s.dir.is_initialised());
    assert!(!s.dir.init_marker().exists());
    let on_disk = keyfile::read_private(&s.dir.ledger_key()).unwrap();
    assert_eq!(on_disk.verifier(), done.ledger.verifier());
    assert_eq!(
        &keyfile::read_public(&s.dir.ledger_vkey()).unwrap(),
        done.ledger.verifier()
    );
    let admin = keyfile::read_private(&s.dir.admin_key()).unwrap();
    assert_eq!(admin.verifier(), done.admin.verifier());
    assert!(s.dir.root().read_dir().unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".partial")));

    // The ledger starts with the key on disk and holds exactly the genesis.
    let url = s.dir.database_url(s.url());
    let store = Store::open(&url).await.unwrap();
    let sequencer = Sequencer::start(
        store.clone(),
        on_disk,
        SequencerConfig::new(s.dir.last_checkpoint(), false),
    )
    .await
    .unwrap_or_else(|e| panic!("{step:?}: the ledger does not start: {e:#}"));
    assert_eq!(sequencer.snapshot().size, 1);
    sequencer.shutdown().await.unwrap();
    store.close().await;

    // Finished, the directory is refused as any existing ledger is.
    let again = data_dir::initialise(&s.dir, s.url(), ORIGIN).await;
    assert!(again.unwrap_err().to_string().contains("existing ledger"));
}

async fn every_step(backend: Backend) {
    for step in STEPS {
        crash_after(backend, step, false).await;
    }
    crash_after(backend, InitStep::Genesis, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_init_interrupted_at_every_step_is_finished_by_the_next_init() {
    every_step(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_init_interrupted_at_every_step_is_finished_by_the_next_init() {
    every_step(Backend::Postgres).await;
}

#[tokio::test]
async fn init_refuses_a_postgres_database_that_holds_another_ledger() {
    let db = ScratchDb::postgres();
    let first = tempfile::tempdir().unwrap();
    data_dir::initialise(&DataDir::new(first.path()), Some(db.url()), ORIGIN)
        .await
        .unwrap();
    let second = tempfile::tempdir().unwrap();
    let dir = DataDir::new(second.path().join("data"));
    let err = data_dir::initialise(&dir, Some(db.url()), ORIGIN)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("already holds a ledger"),
        "{err:#}"
    );
    // Nothing was written: no key exists for a ledger that is not this one.
    assert!(!dir.ledger_key().exists());
}

#[test]
fn a_key_file_is_never_replaced_and_never_left_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("k.key");
    let a = keyfile::generate("a").unwrap();
    std::fs::write(tmp.path().join("k.key.partial"), "torn").unwrap();
    keyfile::write_private(&path, &a).unwrap();
    assert!(!tmp.path().join("k.key.partial").exists());
    let b = keyfile::generate("a").unwrap();
    assert!(keyfile::write_private(&path, &b).is_err());
    assert_eq!(
        keyfile::read_private(&path).unwrap().verifier(),
        a.verifier()
    );
}
