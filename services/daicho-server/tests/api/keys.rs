//! Key rotation drills with the `daicho` binary (docs/OPERATIONS.md,
//! "Rotating keys"): the ledger key rotated with an overlap in which
//! checkpoints carry both signatures, then without it, the whole verified
//! from the genesis key alone; an instance without the new key refusing to
//! start; and an administrator key replaced by another.

use std::path::Path;

use daicho_core::checkpoint::Checkpoint;
use daicho_core::receipt::Receipt;
use daicho_server::app;
use daicho_server::client::Client;
use daicho_server::data_dir::DataDir;
use daicho_server::keyfile;
use serde_json::json;

use super::backup::{daicho, s};
use super::harness::*;

/// The standard output of a `daicho` run that must succeed.
fn succeeds(args: &[&str]) -> String {
    let out = daicho(args);
    assert!(
        out.status.success(),
        "daicho {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Restarts the app's service on its data directory (SQLite).
async fn restart(app: &mut TestApp) {
    if let Some(r) = app.running.take() {
        r.shutdown().await.unwrap();
    }
    let running = app::start(test_config(app.dir.path().join("data"), None))
        .await
        .expect("the service starts");
    app.client = Client::new(&format!("http://{}", running.addr)).unwrap();
    app.running = Some(running);
}

/// Appends one event and returns the checkpoint note of its receipt.
async fn append_note(app: &TestApp, src: &Source) -> String {
    let res = app.post_event(&src.sample_event()).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let receipt: Receipt = serde_json::from_slice(&res.body).unwrap();
    receipt.checkpoint
}

/// The number of signature lines of a note.
fn signature_lines(note: &str) -> usize {
    let (_, sigs) = note.split_once("\n\n").unwrap();
    sigs.lines().filter(|l| l.starts_with('\u{2014}')).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_key_rotates_with_an_overlap_and_verifies_from_the_genesis_key() {
    let mut app = spawn_app(Backend::Sqlite).await;
    let data = app.dir.path().join("data");
    let dir = DataDir::new(&data);
    let src = app.register_source(&[]).await;
    append_note(&app, &src).await;
    let genesis_key = app.ledger_key.clone();
    let old = keyfile::read_private(&dir.ledger_key()).unwrap();

    // Rotated with the service stopped.
    if let Some(r) = app.running.take() {
        r.shutdown().await.unwrap();
    }
    let said = succeeds(&[
        "key",
        "rotate-ledger",
        "--data-dir",
        s(&data),
        "--reason",
        "drill",
    ]);
    assert!(
        said.contains("the ledger key is rotated at seq 3"),
        "{said}"
    );
    let new = keyfile::read_private(&dir.ledger_key()).unwrap();
    assert_ne!(new.verifier(), old.verifier());
    assert_eq!(new.verifier().name(), old.verifier().name());
    assert!(said.contains(&new.verifier().to_string()), "{said}");
    let previous = keyfile::read_private(&dir.previous_ledger_key()).unwrap();
    assert_eq!(previous.verifier(), old.verifier());
    assert!(!dir.next_ledger_key().exists());
    // What auditors trust does not change.
    assert_eq!(
        keyfile::read_public(&dir.ledger_vkey()).unwrap(),
        genesis_key
    );

    // The overlap: both keys sign, so a holder of either opens the note.
    restart(&mut app).await;
    let note = append_note(&app, &src).await;
    assert_eq!(signature_lines(&note), 2, "{note}");
    let by_old = Checkpoint::open(&note, old.verifier()).unwrap();
    let by_new = Checkpoint::open(&note, new.verifier()).unwrap();
    assert_eq!((by_old.size, by_new.size), (5, 5));
    assert_eq!(app.export_verified().await, 5);
    let keys = app.get("/v1/keys", Some("auditor")).await;
    assert_eq!(keys.json()["ledger_key"], new.verifier().to_string());

    // Nobody rotates the ledger key over the API, even with the key.
    let forged = daicho_core::ledger::key_rotation_event(
        &new,
        keyfile::generate(new.verifier().name()).unwrap().verifier(),
        "",
        new_event_id(),
        daicho_core::timestamp::OccurredAt::parse(&now_rfc3339()).unwrap(),
    );
    let res = app.post_event(&forged).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(problem(&res)["code"], "type_out_of_scope");
    assert_eq!(pointers(&problem(&res)), ["/type"]);

    // A second rotation waits for the overlap to end.
    if let Some(r) = app.running.take() {
        r.shutdown().await.unwrap();
    }
    let out = daicho(&["key", "rotate-ledger", "--data-dir", s(&data)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("the overlap of the last rotation has not ended"));

    // The overlap ends when the previous key's file is removed: the new
    // key alone signs, and the genesis key still verifies the whole.
    std::fs::remove_file(dir.previous_ledger_key()).unwrap();
    restart(&mut app).await;
    let note = append_note(&app, &src).await;
    assert_eq!(signature_lines(&note), 1, "{note}");
    assert!(Checkpoint::open(&note, old.verifier()).is_err());
    assert_eq!(Checkpoint::open(&note, new.verifier()).unwrap().size, 6);
    assert_eq!(app.export_verified().await, 6);

    // A backup after the rotation restores with the new key and verifies
    // from the genesis key; the key copy must hold the new ledger key.
    let backup = app.dir.path().join("backup");
    succeeds(&["backup", "--data-dir", s(&data), "--out", s(&backup)]);
    let copy = app.dir.path().join("key-copy");
    std::fs::create_dir(&copy).unwrap();
    keyfile::write_private(&copy.join("ledger.key"), &old).unwrap();
    std::fs::copy(dir.admin_key(), copy.join("admin.key")).unwrap();
    let restored = app.dir.path().join("restored");
    let restore = |into: &Path| {
        daicho(&[
            "restore",
            "--from",
            s(&backup),
            "--data-dir",
            s(into),
            "--keys-from",
            s(&copy),
        ])
    };
    let out = restore(&restored);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("not the ledger's current key"), "{said}");
    assert!(!restored.exists());
    std::fs::remove_file(copy.join("ledger.key")).unwrap();
    keyfile::write_private(&copy.join("ledger.key"), &new).unwrap();
    let out = restore(&restored);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let running = app::start(test_config(restored.clone(), None))
        .await
        .expect("the restored ledger starts");
    assert_eq!(running.state.sequencer.snapshot().size, 6);
    running.shutdown().await.unwrap();

    // An instance holding only the retired key refuses to start, and says
    // which key it lacks.
    if let Some(r) = app.running.take() {
        r.shutdown().await.unwrap();
    }
    std::fs::remove_file(dir.ledger_key()).unwrap();
    keyfile::write_private(&dir.ledger_key(), &old).unwrap();
    let Err(refused) = app::start(test_config(data.clone(), None)).await else {
        panic!("a service without the current key started");
    };
    let said = format!("{refused:#}");
    assert!(said.contains("does not hold it"), "{said}");
    assert!(said.contains(&new.verifier().to_string()), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_key_is_replaced_and_the_old_one_signs_nothing_more() {
    let app = spawn_app(Backend::Sqlite).await;
    let url = format!("http://{}", app.running.as_ref().unwrap().addr);
    let data = app.dir.path().join("data");
    let old_admin = data.join("keys/admin.key");
    let new_admin = app.dir.path().join("admin-2026.key");
    let source_key = app.dir.path().join("kiosk.key");
    succeeds(&["keygen", "--out", s(&new_admin), "--name", "admin-2026"]);
    succeeds(&["keygen", "--out", s(&source_key), "--name", "kiosk"]);
    let pub_of = |p: &Path| format!("{}.pub", p.display());

    // The overlap: the new administrator key is registered by the old one;
    // both are valid until the old one is revoked.
    succeeds(&[
        "key",
        "register",
        "--url",
        &url,
        "--admin-key",
        s(&old_admin),
        "--public-key",
        &pub_of(&new_admin),
        "--role",
        "admin",
    ]);
    let old_id = keyfile::read_private(&old_admin).unwrap().key_id();
    succeeds(&[
        "key",
        "revoke",
        "--url",
        &url,
        "--admin-key",
        s(&new_admin),
        "--key-id",
        &old_id.to_string(),
        "--reason",
        "yearly rotation",
    ]);

    // The revoked key's registration is refused; the new key's is taken.
    let register_with = |admin: &Path| {
        daicho(&[
            "key",
            "register",
            "--url",
            &url,
            "--admin-key",
            s(admin),
            "--public-key",
            &pub_of(&source_key),
            "--source",
            "kiosk",
            "--types",
            "usb.approval.granted",
        ])
    };
    let out = register_with(&old_admin);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("key_revoked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = register_with(&new_admin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Types for an administrator key are refused before anything is sent.
    let out = daicho(&[
        "key",
        "register",
        "--url",
        &url,
        "--admin-key",
        s(&new_admin),
        "--public-key",
        &pub_of(&source_key),
        "--role",
        "admin",
        "--types",
        "usb.approval.granted",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("give no types"));

    let keys = app.get("/v1/keys", Some("auditor")).await.json();
    let find = |id: &str| {
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["key_id"] == json!(id))
            .cloned()
            .unwrap()
    };
    assert!(find(&old_id.to_string())["revoked_at"].is_u64());
    let new_id = keyfile::read_private(&new_admin).unwrap().key_id();
    assert_eq!(find(&new_id.to_string())["role"], "admin");
    assert_eq!(app.export_verified().await, 4);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_given_both_keys_follows_the_rotation() {
    use daicho_core::cosignature::WitnessSigner;
    use daicho_core::keys::NoteSigner;
    use daicho_core::merkle::Tree;
    use daicho_core::Digest;
    use daicho_server::witness::protocol::AddCheckpoint;
    use daicho_server::witness::service::{router, Witness};

    const LOG: &str = "kameoka.example/rotating";
    let a = NoteSigner::from_seed(LOG, [1; 32]).unwrap();
    let b = NoteSigner::from_seed(LOG, [2; 32]).unwrap();
    let stranger = NoteSigner::from_seed(LOG, [3; 32]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let witness = Witness::new(
        WitnessSigner::from_seed("witness.example/w1", [9; 32]).unwrap(),
        vec![a.verifier().clone(), b.verifier().clone()],
        dir.path(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(std::sync::Arc::new(witness))).await });

    let mut tree = Tree::new();
    for i in 0..5u8 {
        tree.push(Digest::of(&[i]));
    }
    let body = |size: u64| Checkpoint {
        origin: LOG.into(),
        size,
        root: tree.root_at(size).unwrap(),
    };
    let request = |old: u64, note: String| AddCheckpoint {
        old_size: old,
        proof: if old == 0 {
            Vec::new()
        } else {
            tree.consistency_proof(old, Checkpoint::claimed_size(&note).unwrap())
                .unwrap()
        },
        note,
    };
    let add = |old: u64, note: String| {
        let req = request(old, note);
        let url = url.clone();
        async move { super::witness::add_checkpoint(&url, &req).await }
    };
    // Before the rotation, after it during the overlap, and after it.
    assert_eq!(add(0, body(1).sign(&a)).await.0, 200);
    assert_eq!(add(1, body(2).sign_all(&[&b, &a])).await.0, 200);
    assert_eq!(add(2, body(3).sign(&b)).await.0, 200);
    // A key of the log's name that the witness was not given: refused.
    let (status, said) = add(3, body(4).sign(&stranger)).await;
    assert_eq!(status, 403, "{said}");
    // A note whose line of one known key fails is refused even when the
    // other key's line verifies.
    let good = body(4).sign(&b);
    let bad_line = body(4).sign(&a).lines().last().unwrap().replace('A', "B");
    let (status, said) = add(3, format!("{good}{bad_line}\n")).await;
    assert!(status == 403 || status == 400, "{status} {said}");
    assert_eq!(add(3, body(4).sign(&b)).await.0, 200);
}
