//! The fork guard at start-up: the last-checkpoint file and its copy beside
//! the database, each enough to refuse a rolled-back database.

use std::path::PathBuf;

use daicho_core::checkpoint::Checkpoint;
use daicho_core::keys::NoteSigner;
use daicho_server::data_dir::{self, DataDir};
use daicho_server::last_checkpoint::LastCheckpointFile;
use daicho_server::sequencer::{Sequencer, SequencerConfig, StartError};
use daicho_store::Store;

const ORIGIN: &str = "daicho.test/ledger";

/// A freshly initialised SQLite data directory: a ledger of one entry.
struct Dir {
    _tmp: tempfile::TempDir,
    dir: DataDir,
    ledger: NoteSigner,
}

async fn initialised() -> Dir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::new(tmp.path().join("data"));
    let created = data_dir::initialise(&dir, None, ORIGIN).await.unwrap();
    Dir {
        _tmp: tmp,
        dir,
        ledger: created.ledger,
    }
}

impl Dir {
    fn files(&self) -> LastCheckpointFile {
        LastCheckpointFile::new(self.dir.last_checkpoint())
    }
    /// The copy beside the database.
    fn copy(&self) -> PathBuf {
        self.dir.root().join("last-checkpoint")
    }
    /// A checkpoint of `size` entries signed with the ledger's key, as if
    /// the ledger had grown that far before the database was rolled back.
    fn signed_ahead(&self, size: u64) -> String {
        Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: daicho_core::Digest([7; 32]),
        }
        .sign(&self.ledger)
    }
    async fn start(&self, accept_rollback: bool) -> Result<Sequencer, StartError> {
        let store = Store::open(&self.dir.database_url(None)).await.unwrap();
        Sequencer::start(
            store,
            self.ledger.clone(),
            SequencerConfig::new(self.dir.last_checkpoint(), accept_rollback),
        )
        .await
    }
}

#[tokio::test]
async fn init_writes_the_copy_beside_the_database() {
    let d = initialised().await;
    assert_eq!(d.files().copy_path(), d.copy());
    let note = std::fs::read_to_string(d.dir.last_checkpoint()).unwrap();
    assert_eq!(std::fs::read_to_string(d.copy()).unwrap(), note);
}

#[tokio::test]
async fn deleting_either_file_does_not_disarm_the_guard() {
    for delete_copy in [false, true] {
        let d = initialised().await;
        d.files().write(&d.signed_ahead(5)).unwrap();
        let deleted = if delete_copy {
            d.copy()
        } else {
            d.dir.last_checkpoint()
        };
        std::fs::remove_file(&deleted).unwrap();
        let err = d.start(false).await.unwrap_err();
        assert!(
            matches!(
                err,
                StartError::RolledBack {
                    file_size: 5,
                    db_size: 1,
                    ..
                }
            ),
            "deleted {}: {err:?}",
            deleted.display()
        );
    }
}

#[tokio::test]
async fn the_newer_of_the_two_files_is_the_guard() {
    let d = initialised().await;
    // The file beside the keys still says 1 (a crash between the two
    // writes); the copy already says 5.
    std::fs::write(d.copy(), d.signed_ahead(5)).unwrap();
    let err = d.start(false).await.unwrap_err();
    assert!(
        matches!(err, StartError::RolledBack { file_size: 5, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn garbage_blocks_a_start_unless_the_rollback_is_accepted() {
    let d = initialised().await;
    std::fs::write(d.dir.last_checkpoint(), "not a checkpoint\n").unwrap();
    let err = d.start(false).await.unwrap_err();
    assert!(matches!(err, StartError::CheckpointFile(_)), "{err:?}");

    let seq = d.start(true).await.unwrap();
    assert_eq!(seq.snapshot().size, 1);
    seq.shutdown().await.unwrap();
    // Both files hold the database's checkpoint again.
    let (cp, note) = d.files().read(d.ledger.verifier()).unwrap().unwrap();
    assert_eq!(cp.size, 1);
    assert_eq!(
        std::fs::read_to_string(d.dir.last_checkpoint()).unwrap(),
        note
    );
    assert_eq!(std::fs::read_to_string(d.copy()).unwrap(), note);
}

#[tokio::test]
async fn two_checkpoints_of_one_size_with_different_roots_are_refused() {
    let d = initialised().await;
    let other = Checkpoint {
        origin: ORIGIN.into(),
        size: 1,
        root: daicho_core::Digest([1; 32]),
    }
    .sign(&d.ledger);
    std::fs::write(d.copy(), other).unwrap();
    let err = d.start(false).await.unwrap_err();
    assert!(err.to_string().contains("two histories"), "{err}");
}

#[test]
fn the_refusal_names_the_seqs_that_would_be_lost() {
    let err = StartError::RolledBack {
        path: "last-checkpoint".into(),
        file_size: 202,
        db_size: 102,
    };
    let text = err.to_string();
    assert!(
        text.contains("the entries with seq 102 to 201 (inclusive)"),
        "{text}"
    );
}
