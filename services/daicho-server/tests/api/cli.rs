//! The `daicho` binary end to end, and two `daicho serve` processes on one
//! PostgreSQL schema.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use daicho_core::receipt::Receipt;
use daicho_server::client::Client;
use serde_json::{json, Value};

use super::harness::*;

const BIN: &str = env!("CARGO_BIN_EXE_daicho");

fn daicho(args: &[&str]) -> std::process::Output {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("DAICHO_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "daicho {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A `daicho serve` child, killed (SIGTERM, then wait) when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    fn start(data_dir: &Path, database_url: Option<&str>) -> Served {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ]);
        if let Some(u) = database_url {
            cmd.args(["--database-url", u]);
        }
        let mut child = cmd
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("serve exited before listening")
                .unwrap();
            let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if v["message"] == "listening" {
                break v["addr"].as_str().unwrap().to_owned();
            }
        };
        // Keep draining the log so that the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Served {
            child,
            url: format!("http://{addr}"),
        }
    }

    fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "serve did not stop cleanly: {status}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn sign_with_cli(key: &Path, source: &str, envelope: &Value) -> Vec<u8> {
    let mut child = Command::new(BIN)
        .args(["sign", "--key", key.to_str().unwrap(), "--source", source])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(envelope.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_init_serve_keygen_register_sign_post_export() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let vkey = String::from_utf8(daicho(&["init", "--data-dir", d]).stdout).unwrap();
    let ledger_key = daicho_core::keys::NoteVerifier::parse(vkey.trim()).unwrap();
    // init refuses an existing ledger.
    assert!(!Command::new(BIN)
        .args(["init", "--data-dir", d])
        .output()
        .unwrap()
        .status
        .success());
    let mode = |p: &Path| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions())
            & 0o777
    };
    assert_eq!(mode(&data.join("keys/ledger.key")), 0o600);
    assert_eq!(mode(&data.join("keys/admin.key")), 0o600);
    // The database holds personal data and token hashes.
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("daicho.db")), 0o600);

    let server = Served::start(&data, None);
    let key = tmp.path().join("payroll.key");
    daicho(&["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(mode(&key), 0o600);
    let s = sample();
    daicho(&[
        "key",
        "register",
        "--url",
        &server.url,
        "--admin-key",
        data.join("keys/admin.key").to_str().unwrap(),
        "--public-key",
        &format!("{}.pub", key.display()),
        "--source",
        "payroll",
        "--types",
        &s.event_type,
    ]);
    let envelope = json!({
        "type": s.event_type,
        "occurred_at": now_rfc3339(),
        "actor": {"id": "staff-0001", "role": s.role},
        "payload": s.payload,
    });
    let signed = sign_with_cli(&key, "payroll", &envelope);
    let event = daicho_core::event::SignedEvent::parse(signed.trim_ascii_end()).unwrap();
    // `daicho sign` gave it a time-ordered id (UUID version 7) of now.
    let id = event.body.event_id.to_bytes();
    assert_eq!(id[6] >> 4, 7, "{}", event.body.event_id.as_str());
    let millis = id[..6].iter().fold(0u64, |m, b| m << 8 | u64::from(*b));
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64 * 1000;
    assert!(
        millis <= now + 1000 && millis + 600_000 > now,
        "{millis} vs {now}"
    );
    let client = Client::new(&server.url).unwrap();
    let res = client.post_json("/v1/events", signed).await.unwrap();
    assert_eq!(res.status, 201, "{}", res.text());
    let receipt: Receipt = serde_json::from_slice(&res.body).unwrap();
    receipt.verify(&ledger_key, Some(&event)).unwrap();
    for f in ["daicho.db-wal", "daicho.db-shm"] {
        let p = data.join(f);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{f}");
        }
    }

    // `key revoke`: the key signs nothing new, and a retry of what it
    // signed before still gets the original receipt.
    daicho(&[
        "key",
        "revoke",
        "--url",
        &server.url,
        "--admin-key",
        data.join("keys/admin.key").to_str().unwrap(),
        "--key-id",
        &event.body.key_id.to_string(),
        "--reason",
        "laptop lost",
    ]);
    let envelope = json!({
        "type": s.event_type,
        "occurred_at": now_rfc3339(),
        "actor": {"id": "staff-0001", "role": s.role},
        "payload": s.payload,
    });
    let res = client
        .post_json("/v1/events", sign_with_cli(&key, "payroll", &envelope))
        .await
        .unwrap();
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(res.json()["code"], "key_revoked");
    let res = client
        .post_json("/v1/events", event.canonical_bytes())
        .await
        .unwrap();
    assert_eq!(res.status, 200, "{}", res.text());
    let again: Receipt = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(again.entry, receipt.entry);
    // Revoking it twice is refused, with a non-zero exit.
    let out = Command::new(BIN)
        .args([
            "key",
            "revoke",
            "--url",
            &server.url,
            "--admin-key",
            data.join("keys/admin.key").to_str().unwrap(),
            "--key-id",
            &event.body.key_id.to_string(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());

    // A private key readable by others is refused with a clear message.
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = Command::new(BIN)
        .args([
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--source",
            "payroll",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));

    let token = String::from_utf8(
        daicho(&["token", "create", "--data-dir", d, "--role", "auditor"]).stdout,
    )
    .unwrap();
    let via_http = tmp.path().join("http.jsonl");
    daicho(&[
        "export",
        "--url",
        &server.url,
        "--token",
        token.trim(),
        "--out",
        via_http.to_str().unwrap(),
    ]);
    server.stop();
    let via_dir = tmp.path().join("dir.jsonl");
    daicho(&[
        "export",
        "--data-dir",
        d,
        "--out",
        via_dir.to_str().unwrap(),
    ]);
    let a = std::fs::read(&via_http).unwrap();
    let b = std::fs::read(&via_dir).unwrap();
    assert_eq!(verify_bundle(&a, &ledger_key), 4);
    assert_eq!(a, b, "both export paths write the same bundle");

    // `serve` refuses a ledger key that the group or others can read.
    let ledger_file = data.join("keys/ledger.key");
    for loose in [0o640, 0o604] {
        std::fs::set_permissions(
            &ledger_file,
            std::os::unix::fs::PermissionsExt::from_mode(loose),
        )
        .unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--data-dir", d, "--listen", "127.0.0.1:0"])
            .env_remove("DAICHO_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve started with a ledger key of mode {loose:o}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(!status.success());
        assert!(stderr.contains("chmod 600"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_one_postgres_schema_never_fork() {
    let tmp = tempfile::tempdir().unwrap();
    let db = ScratchDb::postgres();
    let url = db.url().to_owned();
    let a_dir = tmp.path().join("a");
    let b_dir = tmp.path().join("b");
    let vkey = String::from_utf8(
        daicho(&[
            "init",
            "--data-dir",
            a_dir.to_str().unwrap(),
            "--database-url",
            &url,
        ])
        .stdout,
    )
    .unwrap();
    let ledger_key = daicho_core::keys::NoteVerifier::parse(vkey.trim()).unwrap();
    // The second instance has the same keys but its own data directory
    // (its own last-checkpoint file), as on a second machine.
    std::fs::create_dir_all(b_dir.join("keys")).unwrap();
    for f in ["ledger.key", "ledger.vkey", "admin.key", "admin.key.pub"] {
        std::fs::copy(a_dir.join("keys").join(f), b_dir.join("keys").join(f)).unwrap();
    }
    let a = Served::start(&a_dir, Some(&url));
    let b = Served::start(&b_dir, Some(&url));

    let key = tmp.path().join("src.key");
    daicho(&["keygen", "--out", key.to_str().unwrap()]);
    let s = sample();
    daicho(&[
        "key",
        "register",
        "--url",
        &a.url,
        "--admin-key",
        a_dir.join("keys/admin.key").to_str().unwrap(),
        "--public-key",
        &format!("{}.pub", key.display()),
        "--source",
        "src",
        "--types",
        &s.event_type,
    ]);
    let signer = daicho_server::keyfile::read_private(&key).unwrap();

    const PER_TASK: usize = 15;
    const TASKS: usize = 8;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..TASKS {
        let client = Client::new(if t % 2 == 0 { &a.url } else { &b.url }).unwrap();
        let signer = signer.clone();
        let s = s.clone();
        tasks.spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..PER_TASK {
                let e = sign_event(
                    &signer,
                    "src",
                    &s.event_type,
                    s.version,
                    &s.role,
                    s.payload.clone(),
                );
                let res = if i % 5 == 4 {
                    let more = sign_event(
                        &signer,
                        "src",
                        &s.event_type,
                        s.version,
                        &s.role,
                        s.payload.clone(),
                    );
                    client
                        .post_json(
                            "/v1/events/batch",
                            serde_json::to_vec(&json!({"events": [e, more]})).unwrap(),
                        )
                        .await
                        .unwrap()
                } else {
                    client
                        .post_json("/v1/events", e.canonical_bytes())
                        .await
                        .unwrap()
                };
                assert_eq!(res.status, 201, "{}", res.text());
                let v = res.json();
                let receipts = if v["receipts"].is_array() {
                    v["receipts"].as_array().unwrap().clone()
                } else {
                    vec![v]
                };
                for r in receipts {
                    let r: Receipt = serde_json::from_value(r).unwrap();
                    seqs.push(r.entry.seq);
                }
            }
            seqs
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.unwrap());
    }
    a.stop();
    b.stop();
    all.sort_unstable();
    let appended = TASKS * (PER_TASK + PER_TASK / 5);
    assert_eq!(all.len(), appended);
    assert_eq!(
        all,
        (2..2 + appended as u64).collect::<Vec<_>>(),
        "every seq exactly once"
    );

    let out = tmp.path().join("bundle.jsonl");
    daicho(&[
        "export",
        "--data-dir",
        a_dir.to_str().unwrap(),
        "--database-url",
        &url,
        "--out",
        out.to_str().unwrap(),
    ]);
    let bundle = std::fs::read(&out).unwrap();
    assert_eq!(verify_bundle(&bundle, &ledger_key), 2 + appended as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_loads_a_catalogue_directory_and_refuses_a_broken_one() {
    let tmp = tempfile::tempdir().unwrap();
    let cat = tmp.path().join("catalogue");
    for (path, bytes) in daicho_catalogue::Catalogue::embedded_files() {
        let p = cat.join(&path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let mut cfg = test_config(tmp.path().join("data"), None);
    cfg.catalogue = Some(cat.clone());
    let running = daicho_server::app::start(cfg.clone())
        .await
        .expect("a copy of the embedded catalogue loads");
    running.shutdown().await.unwrap();

    // Break one schema: the service refuses to start and says where.
    let s = sample();
    let dir = cat.join("events").join(&s.event_type);
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&file, b"{ not json").unwrap();
    let err = match daicho_server::app::start(cfg).await {
        Ok(_) => panic!("a broken catalogue must be refused"),
        Err(e) => format!("{e:#}"),
    };
    let rel = file
        .strip_prefix(&cat)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        err.contains(&rel),
        "the message names the file {rel}: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_in_flight_appends() {
    let mut app = spawn_app(Backend::Sqlite).await;
    let src = app.register_source(&[]).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let client = app.client.clone();
        let body = src.sample_event().canonical_bytes();
        tasks.spawn(async move { client.post_json("/v1/events", body).await });
    }
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let running = app.running.take().unwrap();
    let dir = app.dir.path().join("data");
    running.shutdown().await.unwrap();
    let mut acknowledged = 0;
    while let Some(r) = tasks.join_next().await {
        // Either answered (and then durably appended) or never accepted.
        if let Ok(res) = r.unwrap() {
            assert_eq!(res.status, 201, "{}", res.text());
            acknowledged += 1;
        }
    }
    let running = daicho_server::app::start(test_config(dir, None))
        .await
        .unwrap();
    app.client = daicho_server::client::Client::new(&format!("http://{}", running.addr)).unwrap();
    app.running = Some(running);
    let size = app.export_verified().await;
    assert!(
        size >= 2 + acknowledged,
        "every acknowledged append survived: {size} < 2 + {acknowledged}"
    );
    app.stop().await;
}
