//! Witnesses on loopback: two `daicho witness serve` processes and the
//! ledger service. The service keeps appending while they are down, then
//! gets both cosignatures on each new checkpoint; a witness shown a forked
//! history refuses it and keeps the evidence; a rolled-back ledger gets no
//! cosignature.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use bytes::Bytes;
use daicho_core::checkpoint::Checkpoint;
use daicho_core::cosignature::{cosignatures, WitnessVerifier};
use daicho_core::keys::NoteSigner;
use daicho_core::Digest;
use daicho_server::client::Client;
use daicho_server::data_dir::DataDir;
use daicho_server::keyfile;
use daicho_server::witness::protocol::{AddCheckpoint, ADD_CHECKPOINT};
use hyper::Method;

use super::harness::{spawn_app_with, Backend, TestApp};

/// A witness process, killed when dropped.
struct WitnessProcess {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn daicho() -> Command {
    Command::new(env!("CARGO_BIN_EXE_daicho"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Creates a witness's key; the process starts later.
fn witness_keygen(name: &str) -> (tempfile::TempDir, WitnessVerifier) {
    let dir = tempfile::tempdir().unwrap();
    let out = daicho()
        .args(["witness", "keygen", "--name", name, "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = WitnessVerifier::parse(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let file = std::fs::read_to_string(dir.path().join("witness.vkey")).unwrap();
    assert_eq!(WitnessVerifier::parse(&file).unwrap(), key);
    (dir, key)
}

async fn start_witness(dir: tempfile::TempDir, port: u16, ledger_vkey: &Path) -> WitnessProcess {
    let child = spawn_witness(dir.path(), port, ledger_vkey);
    let url = format!("http://127.0.0.1:{port}");
    wait_until_up(&url).await;
    WitnessProcess { child, url, dir }
}

fn spawn_witness(dir: &Path, port: u16, ledger_vkey: &Path) -> Child {
    daicho()
        .args(["witness", "serve", "--log-format", "text", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir)
        .arg("--log-key")
        .arg(ledger_vkey)
        .spawn()
        .unwrap()
}

async fn wait_until_up(url: &str) {
    let client = Client::new(url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get("/healthz", None).await.is_err() {
        assert!(Instant::now() < deadline, "the witness did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl WitnessProcess {
    /// Stops the process and starts it again on the same port and data directory.
    async fn restart(&mut self, ledger_vkey: &Path) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let port: u16 = self.url.rsplit(':').next().unwrap().parse().unwrap();
        self.child = spawn_witness(self.dir.path(), port, ledger_vkey);
        wait_until_up(&self.url).await;
    }
}

/// Waits until the served checkpoint has `size` entries and both
/// witnesses' valid cosignatures; returns the note.
async fn cosigned(app: &TestApp, size: u64, witnesses: &[WitnessVerifier]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let note = app.get("/v1/checkpoint", Some("reader")).await.text();
        let cp = Checkpoint::open(&note, &app.ledger_key).unwrap();
        if cp.size == size && cosignatures(&note, witnesses).unwrap().len() == witnesses.len() {
            return note;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint of size {size} cosigned by every witness; last served:\n{note}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn add_checkpoint(url: &str, req: &AddCheckpoint) -> (u16, String) {
    let res = Client::new(url)
        .unwrap()
        .exchange(
            Method::POST,
            ADD_CHECKPOINT,
            None,
            Some("text/plain"),
            Bytes::from(req.to_body()),
        )
        .await
        .unwrap();
    (res.status.as_u16(), res.text())
}

pub async fn witnesses_cosign_refuse_forks_and_rollbacks() {
    let (dir1, key1) = witness_keygen("witness.test/w1");
    let (dir2, key2) = witness_keygen("witness.test/w2");
    let (port1, port2) = (free_port(), free_port());
    let (k1, k2) = (key1.to_string(), key2.to_string());
    let app = spawn_app_with(Backend::Sqlite, |cfg| {
        cfg.witnesses = vec![
            format!("http://127.0.0.1:{port1}={k1}"),
            format!("http://127.0.0.1:{port2}={k2}"),
        ];
        cfg.witness_interval_ms = 50;
    })
    .await;
    let trusted = [key1.clone(), key2.clone()];

    // Both witnesses down: the service appends, and says so.
    let src = app.register_source(&[]).await;
    let res = app.post_event(&src.sample_event()).await;
    assert_eq!(res.status, 201, "{}", res.text());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.json()["witnesses_down"],
        serde_json::json!(["witness.test/w1", "witness.test/w2"])
    );
    let metrics = app.get("/metrics", None).await.text();
    assert!(
        metrics.contains("daicho_witness_up{witness=\"witness.test/w1\"} 0"),
        "{metrics}"
    );

    // Both up: the served checkpoint gathers both cosignatures, at each size.
    let data = DataDir::new(app.dir.path().join("data"));
    let mut w1 = start_witness(dir1, port1, &data.ledger_vkey()).await;
    let w2 = start_witness(dir2, port2, &data.ledger_vkey()).await;
    let size = app.size().await;
    cosigned(&app, size, &trusted).await;
    for _ in 0..3 {
        assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    }
    let size = app.size().await;
    cosigned(&app, size, &trusted).await;
    let ready = app.get("/readyz", None).await.json();
    assert_eq!(ready["witnesses_down"], serde_json::json!([]));
    let metrics = app.get("/metrics", None).await.text();
    assert!(
        metrics.contains(&format!(
            "daicho_witness_cosigned_size{{witness=\"witness.test/w2\"}} {size}"
        )),
        "{metrics}"
    );

    // The export carries the cosigned checkpoint, and the verifier's quorum
    // holds for these two witnesses and not for a third.
    let bundle = app.get("/v1/export", Some("auditor")).await.body;
    let mut options = daicho_verify::Options::new(app.ledger_key.clone());
    options.witnesses = trusted.to_vec();
    options.quorum = 2;
    let report = daicho_verify::verify_bundle(&bundle, &options);
    assert!(report.ok, "{report}");
    let third =
        daicho_core::cosignature::WitnessSigner::from_seed("witness.test/w3", [3; 32]).unwrap();
    options.witnesses.push(third.verifier().clone());
    options.quorum = 3;
    let report = daicho_verify::verify_bundle(&bundle, &options);
    assert!(
        !report.ok && report.has(daicho_verify::Class::Checkpoint, None),
        "{report}"
    );

    // A fork: the ledger key signs another tree of the next size. The
    // witness refuses it and keeps both notes.
    let ledger: NoteSigner = keyfile::read_private(&data.ledger_key()).unwrap();
    let forked = Checkpoint {
        origin: app.ledger_key.name().to_owned(),
        size: size + 1,
        root: Digest::of(b"another history"),
    }
    .sign(&ledger);
    let snapshot = app.running.as_ref().unwrap().state.sequencer.snapshot();
    let honest_proof = snapshot.consistency_proof(size - 1, size).unwrap();
    let (status, body) = add_checkpoint(
        &w1.url,
        &AddCheckpoint {
            old_size: size,
            proof: honest_proof.clone(),
            note: forked,
        },
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let forks: Vec<_> = std::fs::read_dir(w1.dir.path().join("forks"))
        .unwrap()
        .collect();
    assert_eq!(forks.len(), 1, "the fork's evidence is kept");
    // The same size with another root is a fork too.
    let same_size = Checkpoint {
        origin: app.ledger_key.name().to_owned(),
        size,
        root: Digest::of(b"another history"),
    }
    .sign(&ledger);
    let (status, _) = add_checkpoint(
        &w1.url,
        &AddCheckpoint {
            old_size: size,
            proof: vec![],
            note: same_size,
        },
    )
    .await;
    assert_eq!(status, 422);

    // A rollback: the checkpoint of an earlier size, honestly signed. Sent
    // as an extension of what the witness has, it is refused; sent from
    // the earlier size, the witness answers with its own size.
    let earlier = Checkpoint {
        origin: app.ledger_key.name().to_owned(),
        size: size - 1,
        root: snapshot.root_at(size - 1).unwrap(),
    }
    .sign(&ledger);
    let (status, _) = add_checkpoint(
        &w2.url,
        &AddCheckpoint {
            old_size: size,
            proof: vec![],
            note: earlier.clone(),
        },
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = add_checkpoint(
        &w2.url,
        &AddCheckpoint {
            old_size: size - 1,
            proof: vec![],
            note: earlier,
        },
    )
    .await;
    assert_eq!((status, body.trim()), (409, size.to_string().as_str()));

    // A checkpoint not signed by the ledger key is forbidden.
    let stranger = NoteSigner::from_seed(app.ledger_key.name(), [9; 32]).unwrap();
    let forged = Checkpoint {
        origin: app.ledger_key.name().to_owned(),
        size: size + 1,
        root: Digest::of(b"x"),
    }
    .sign(&stranger);
    let (status, _) = add_checkpoint(
        &w2.url,
        &AddCheckpoint {
            old_size: size,
            proof: honest_proof,
            note: forged,
        },
    )
    .await;
    assert_eq!(status, 403);

    // The witnesses still cosign the honest history's next checkpoint.
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    let size = app.size().await;
    let note = cosigned(&app, size, &trusted).await;

    // A restarted witness remembers what it cosigned: it does not take the
    // ledger's word that it starts from nothing.
    w1.restart(&data.ledger_vkey()).await;
    let (status, body) = add_checkpoint(
        &w1.url,
        &AddCheckpoint {
            old_size: 0,
            proof: vec![],
            note,
        },
    )
    .await;
    assert_eq!((status, body.trim()), (409, size.to_string().as_str()));
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    let size = app.size().await;
    cosigned(&app, size, &trusted).await;
    drop((w1, w2));
    app.stop().await;
}
