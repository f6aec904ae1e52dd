//! A full disk: appends are refused with 503 `storage_unavailable` and
//! `Retry-After`, readiness says so, the service still starts and serves
//! reads, and appends resume once there is room. The disk is a real one:
//! a small tmpfs mounted for the test (the test needs root, as the test
//! machines give; it says so and fails without it).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use daicho_server::app;

use super::harness::*;

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("running mount");
        assert!(
            status.success(),
            "mounting a tmpfs failed: this test needs root to mount a small disk"
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily, so that a test that failed with files still open does not
        // leave the mount behind.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system holding `dir` until a write fails for lack of
/// space; returns the filler file.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        match f.write_all(&block) {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(28), "{e}");
                break;
            }
        }
    }
    // The last bytes in small pieces, so that not a page is left.
    while f.write_all(&[0u8; 512]).is_ok() {}
    let _ = f.sync_all();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_appends_with_503_and_still_serves_reads() {
    let disk = Tmpfs::mount("24m");
    let dir = tempfile::tempdir_in(disk.path()).unwrap();
    let data_dir = dir.path().join("data");
    let app = spawn_app_in(dir, Backend::Sqlite, |_| {}).await;
    let src = app.register_source(&[]).await;
    let first = app.post_event(&src.sample_event()).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let size = app.size().await;

    let filler = fill(disk.path());
    // Events large enough that they need new pages of the log.
    let mut refused = None;
    for _ in 0..20 {
        let batch: Vec<_> = (0..TEST_MAX_BATCH).map(|_| src.sample_event()).collect();
        let body = serde_json::json!({ "events": batch });
        let res = app
            .post_raw("/v1/events/batch", serde_json::to_vec(&body).unwrap())
            .await;
        if res.status != 201 {
            refused = Some(res);
            break;
        }
    }
    let res = refused.expect("an append on a full disk was accepted every time");
    assert_eq!(res.status, 503, "{}", res.text());
    assert_eq!(res.json()["code"], "storage_unavailable");
    assert_eq!(res.header("retry-after").as_deref(), Some("30"));
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert_eq!(ready.json()["writer"], "storage_unavailable");
    // The metrics say so too, for the alert on the writer.
    let metrics = app.get("/metrics", None).await.text();
    assert!(metrics.contains("\ndaicho_writer_healthy 0\n"), "{metrics}");
    assert!(
        metrics.contains("\ndaicho_writer_state{state=\"storage_unavailable\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\ndaicho_writer_state{state=\"ok\"} 0\n"),
        "{metrics}"
    );
    // Reads go on.
    let read = app.get("/v1/events/1", Some("auditor")).await;
    assert_eq!(read.status, 200, "{}", read.text());

    // Stopped and started again on the full disk, it serves reads.
    let mut app = app;
    app.running.take().unwrap().shutdown().await.unwrap();
    let tokens = app.tokens.clone();
    let restarted = app::start(test_config(data_dir.clone(), None))
        .await
        .expect("the service starts on a full disk");
    let client = daicho_server::client::Client::new(&format!("http://{}", restarted.addr)).unwrap();
    let read = client
        .get("/v1/events/1", Some(&tokens["auditor"]))
        .await
        .unwrap();
    assert_eq!(read.status, 200, "{}", read.text());
    let cp = client
        .get("/v1/checkpoint", Some(&tokens["reader"]))
        .await
        .unwrap();
    assert_eq!(cp.status, 200, "{}", cp.text());

    // With room again, appends resume and readiness recovers.
    std::fs::remove_file(filler).unwrap();
    let res = client
        .post_json("/v1/events", src.sample_event().canonical_bytes())
        .await
        .unwrap();
    assert_eq!(res.status, 201, "{}", res.text());
    let ready = client.get("/readyz", None).await.unwrap();
    assert_eq!(ready.status, 200, "{}", ready.text());
    let metrics = client.get("/metrics", None).await.unwrap().text();
    assert!(metrics.contains("\ndaicho_writer_healthy 1\n"), "{metrics}");
    assert!(size < 1 + res.json()["entry"]["seq"].as_u64().unwrap());
    restarted.shutdown().await.unwrap();
    drop(app);
}
