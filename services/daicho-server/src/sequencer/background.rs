//! The two tasks that follow the writer's commits off its path: one keeps
//! the last-checkpoint file beside the keys, one copies SQLite's
//! write-ahead log into the database.

use std::time::Duration;

use daicho_store::Store;
use tokio::sync::watch;

use crate::last_checkpoint::LastCheckpointFile;

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
pub(super) async fn record_checkpoints(
    file: LastCheckpointFile,
    mut notes: watch::Receiver<String>,
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
const CHECKPOINT_FILE_PAUSE: Duration = Duration::from_millis(100);

/// Copies SQLite's write-ahead log into the database after commits, off
/// the writer's path (see [`Store::checkpoint_wal`]), at most every
/// [`WAL_CHECKPOINT_PAUSE`]: a page that many commits change (the
/// event-id index takes random inserts) is then copied once for all of
/// them. Commits during a copy or a pause only mark that another is due.
pub(super) async fn checkpoint_wal(store: Store, mut commits: watch::Receiver<()>) {
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
const WAL_CHECKPOINT_PAUSE: Duration = Duration::from_millis(250);
