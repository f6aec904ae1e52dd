//! Backup and restore drills with the `daicho` binary: a backup taken while
//! the service appends, restored into a new directory (it starts and
//! verifies) and into the ledger's own directory after more appends (the
//! fork guard refuses and names the entries lost; `--accept-rollback`
//! starts), and tampered backups, which are refused with nothing written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use daicho_core::checkpoint::Checkpoint;
use daicho_server::app;
use daicho_server::client::Client;
use daicho_server::data_dir::DataDir;
use daicho_server::keyfile;

use super::harness::*;

const BIN: &str = env!("CARGO_BIN_EXE_daicho");

/// Runs `daicho` with `args`, without the environment's settings.
pub fn daicho(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("DAICHO_DATABASE_URL")
        .env_remove("DAICHO_DATA_DIR")
        .output()
        .unwrap()
}

fn succeeds(args: &[&str]) -> String {
    let out = daicho(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "daicho {args:?} failed: {stderr}");
    stderr
}

/// The standard error of a `daicho` run that must fail with exit code 1.
fn fails(args: &[&str]) -> String {
    let out = daicho(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "daicho {args:?}: {stderr}");
    stderr
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A running SQLite ledger with a registered source and `n` events, and a
/// backup of it taken while it runs.
struct Backed {
    app: TestApp,
    src: Source,
    data: PathBuf,
    backup: PathBuf,
    /// The ledger's size when the backup was taken.
    size: u64,
}

async fn backed_up() -> Backed {
    let app = spawn_app(Backend::Sqlite).await;
    let data = app.dir.path().join("data");
    let src = app.register_source(&[]).await;
    for _ in 0..3 {
        let res = app.post_event(&src.sample_event()).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let size = app.size().await;
    let backup = app.dir.path().join("backup");
    let said = succeeds(&["backup", "--data-dir", s(&data), "--out", s(&backup)]);
    assert!(
        said.contains(&format!("backed up {size} entries")),
        "{said}"
    );
    Backed {
        app,
        src,
        data,
        backup,
        size,
    }
}

/// Starts the service on `data` (SQLite), as `daicho serve` would.
async fn start(data: &Path, accept_rollback: bool) -> anyhow::Result<app::Running> {
    let mut cfg = test_config(data.to_owned(), None);
    cfg.accept_rollback = accept_rollback;
    app::start(cfg).await
}

/// The bundle of a running service, verified; its entry count.
async fn exported(running: &app::Running, ledger_key: &daicho_core::keys::NoteVerifier) -> u64 {
    let token = daicho_server::auth::new_token();
    running
        .state
        .store
        .insert_token(daicho_server::auth::token_hash(&token), "auditor", "drill")
        .await
        .unwrap();
    let client = Client::new(&format!("http://{}", running.addr)).unwrap();
    let res = client.get("/v1/export", Some(&token)).await.unwrap();
    assert_eq!(res.status, 200, "{}", res.text());
    verify_bundle(&res.body, ledger_key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_online_restores_into_a_new_directory_that_starts_and_verifies() {
    let b = backed_up().await;
    // Only public keys travel in a backup.
    let names: Vec<String> = std::fs::read_dir(b.backup.join("keys"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".vkey") || n.ends_with(".pub")),
        "{names:?}"
    );
    // The service goes on appending after the backup.
    let res = b.app.post_event(&b.src.sample_event()).await;
    assert_eq!(res.status, 201, "{}", res.text());

    let restored = b.app.dir.path().join("restored");
    let keys = b.data.join("keys");
    succeeds(&[
        "restore",
        "--from",
        s(&b.backup),
        "--data-dir",
        s(&restored),
        "--keys-from",
        s(&keys),
    ]);
    assert!(!b.app.dir.path().join(".restored.restoring").exists());
    let running = start(&restored, false)
        .await
        .expect("the restored ledger starts");
    assert_eq!(running.state.sequencer.snapshot().size, b.size);
    assert_eq!(exported(&running, &b.app.ledger_key).await, b.size);
    // It appends where the backup ended.
    let client = Client::new(&format!("http://{}", running.addr)).unwrap();
    let res = client
        .post_json("/v1/events", b.src.sample_event().canonical_bytes())
        .await
        .unwrap();
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["entry"]["seq"], b.size);
    running.shutdown().await.unwrap();
    b.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_an_older_backup_over_the_ledger_is_refused_by_the_fork_guard_naming_the_lost_seqs(
) {
    let b = backed_up().await;
    for _ in 0..4 {
        let res = b.app.post_event(&b.src.sample_event()).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let newer = b.app.size().await;
    assert_eq!(newer, b.size + 4);
    let ledger_key = b.app.ledger_key.clone();
    let dir = b.app.dir.path().to_owned();
    // Kept alive: the temporary directory goes with it.
    let mut app = b.app;
    app.running.take().unwrap().shutdown().await.unwrap();

    // Its own directory is taken only with --replace-database.
    let said = fails(&["restore", "--from", s(&b.backup), "--data-dir", s(&b.data)]);
    assert!(said.contains("--replace-database"), "{said}");
    succeeds(&[
        "restore",
        "--from",
        s(&b.backup),
        "--data-dir",
        s(&b.data),
        "--replace-database",
    ]);
    // The replaced database is kept beside it.
    let kept: Vec<String> = std::fs::read_dir(&b.data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("daicho.db.replaced-"))
        .collect();
    assert!(
        !kept.is_empty(),
        "{:?}",
        std::fs::read_dir(&b.data).unwrap().collect::<Vec<_>>()
    );

    let refused = start(&b.data, false)
        .await
        .err()
        .expect("the fork guard refuses");
    let text = format!("{refused:#}");
    assert!(
        text.contains(&format!(
            "the database holds {} entries, but this ledger already signed a checkpoint of \
             {newer} entries",
            b.size
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "the entries with seq {} to {} (inclusive)",
            b.size,
            newer - 1
        )),
        "{text}"
    );

    let running = start(&b.data, true)
        .await
        .expect("--accept-rollback starts");
    assert_eq!(running.state.sequencer.snapshot().size, b.size);
    assert_eq!(exported(&running, &ledger_key).await, b.size);
    running.shutdown().await.unwrap();
    // The guard now remembers the restored ledger.
    let (cp, _) = daicho_server::last_checkpoint::LastCheckpointFile::new(
        DataDir::new(&b.data).last_checkpoint(),
    )
    .read(&ledger_key)
    .unwrap()
    .unwrap();
    assert_eq!(cp.size, b.size);
    drop((app, dir));
}

/// Replaces the last occurrence of `needle` in `file` by `with` (same
/// length), in place.
fn overwrite_last(file: &Path, needle: &[u8], with: &[u8]) {
    assert_eq!(needle.len(), with.len());
    let mut bytes = std::fs::read(file).unwrap();
    let at = bytes
        .windows(needle.len())
        .rposition(|w| w == needle)
        .expect("the bytes are in the file");
    bytes[at..at + with.len()].copy_from_slice(with);
    std::fs::write(file, bytes).unwrap();
}

/// Copies a backup directory (two levels).
fn copy_backup(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("keys")).unwrap();
    for sub in ["", "keys"] {
        for e in std::fs::read_dir(from.join(sub)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), to.join(sub).join(e.file_name())).unwrap();
            }
        }
    }
}

/// Rewrites the manifest's SHA-256 to match a changed database, as a
/// tamperer would.
fn reseal(backup: &Path) {
    let sha = daicho_server::commands::backup::sha256_of(&backup.join("daicho.db")).unwrap();
    let path = backup.join("backup.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    manifest["database_sha256"] = sha.into();
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_backup_is_refused_and_nothing_is_written() {
    let b = backed_up().await;
    let root = b.app.dir.path().to_owned();
    let source = b.src.name.as_bytes().to_vec();
    let mut renamed = source.clone();
    *renamed.last_mut().unwrap() ^= 0x01;
    let other_key = daicho_core::keys::NoteSigner::from_seed(b.app.ledger_key.name(), [3; 32])
        .unwrap()
        .verifier()
        .to_string();
    let ledger = keyfile::read_private(&DataDir::new(&b.data).ledger_key()).unwrap();

    type Tamper = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Tamper, String)> = vec![
        (
            "a changed byte in the database",
            Box::new({
                let (source, renamed) = (source.clone(), renamed.clone());
                move |d: &Path| overwrite_last(&d.join("daicho.db"), &source, &renamed)
            }),
            "daicho.db has the SHA-256".to_owned(),
        ),
        (
            "a changed event with the manifest resealed",
            Box::new({
                let (source, renamed) = (source.clone(), renamed.clone());
                move |d: &Path| {
                    overwrite_last(&d.join("daicho.db"), &source, &renamed);
                    reseal(d);
                }
            }),
            // The verifier's finding: the event's bytes no longer hash to
            // the entry's event hash.
            "its entries do not verify".to_owned(),
        ),
        (
            "a last-checkpoint note ahead of the database",
            Box::new({
                let ledger = ledger.clone();
                let size = b.size;
                move |d: &Path| {
                    let ahead = Checkpoint {
                        origin: ledger.verifier().name().to_owned(),
                        size: size + 5,
                        root: daicho_core::Digest([7; 32]),
                    }
                    .sign(&ledger);
                    std::fs::write(d.join("last-checkpoint"), ahead).unwrap();
                }
            }),
            "last-checkpoint note".to_owned(),
        ),
        (
            "another ledger's key",
            Box::new(move |d: &Path| {
                std::fs::write(d.join("keys/ledger.vkey"), format!("{other_key}\n")).unwrap()
            }),
            "the genesis names ledger key".to_owned(),
        ),
    ];
    for (i, (what, tamper, expected)) in cases.iter().enumerate() {
        let copy = root.join(format!("tampered-{i}"));
        copy_backup(&b.backup, &copy);
        tamper(&copy);
        let target = root.join(format!("target-{i}"));
        let said = fails(&[
            "restore",
            "--from",
            s(&copy),
            "--data-dir",
            s(&target),
            "--keys-from",
            s(&b.data.join("keys")),
        ]);
        assert!(said.contains("refusing the backup"), "{what}: {said}");
        assert!(said.contains(expected.as_str()), "{what}: {said}");
        assert!(!target.exists(), "{what}: the data directory was written");
        assert!(
            !root.join(format!(".target-{i}.restoring")).exists(),
            "{what}: the staging directory was left"
        );
    }
    // The untouched backup restores, so the refusals above are the
    // tampering's.
    let target = root.join("target-untouched");
    succeeds(&[
        "restore",
        "--from",
        s(&b.backup),
        "--data-dir",
        s(&target),
        "--keys-from",
        s(&b.data.join("keys")),
    ]);
    b.app.stop().await;
}
