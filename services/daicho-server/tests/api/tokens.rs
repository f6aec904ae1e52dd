//! `daicho token list` and `daicho token revoke`, with two instances on one
//! database: a revoked token is refused by both at once.

use std::process::Command;

use daicho_server::client::Client;
use daicho_server::data_dir::DataDir;

use super::harness::*;

const BIN: &str = env!("CARGO_BIN_EXE_daicho");

fn daicho(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("DAICHO_DATABASE_URL")
        .output()
        .unwrap()
}

/// Copies the keys of one data directory into another, for a second
/// instance of the same ledger.
pub fn copy_keys(from: &DataDir, to: &DataDir) {
    std::fs::create_dir_all(to.keys_dir()).unwrap();
    for e in std::fs::read_dir(from.keys_dir()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.keys_dir().join(e.file_name())).unwrap();
    }
}

pub async fn a_revoked_token_is_refused_at_once_by_every_instance(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let data = DataDir::new(app.dir.path().join("data"));
    let url = data.database_url(app.database_url.as_deref());
    let second_dir = DataDir::new(app.dir.path().join("second"));
    copy_keys(&data, &second_dir);
    let second =
        daicho_server::app::start(test_config(second_dir.root().to_owned(), Some(url.clone())))
            .await
            .unwrap();
    let clients = [
        app.client.clone(),
        Client::new(&format!("http://{}", second.addr)).unwrap(),
    ];
    let args = |cmd: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        a.extend([
            "--data-dir".into(),
            data.root().to_str().unwrap().into(),
            "--database-url".into(),
            url.clone(),
        ]);
        a
    };
    let run = |cmd: &[&str]| {
        let a = args(cmd);
        daicho(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let created = run(&["token", "create", "--role", "auditor", "--label", "監査 A"]);
    assert!(created.status.success());
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let stderr = String::from_utf8(created.stderr).unwrap();
    let id = stderr
        .split_whitespace()
        .nth(2)
        .expect("create names the token's id")
        .to_owned();
    assert_eq!(id.len(), 16, "{stderr}");

    let listed = String::from_utf8(run(&["token", "list"]).stdout).unwrap();
    let line = listed
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{id} not in\n{listed}"));
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!((fields[1], fields[3]), ("auditor", "監査 A"), "{line}");
    // The harness made one token per role before.
    assert_eq!(listed.lines().count(), 5, "{listed}");

    // Both instances accept the token, and have seen it recently.
    for c in &clients {
        let r = c.get("/v1/keys", Some(&token)).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
    }

    let short = run(&["token", "revoke", "--id", &id[..4]]);
    assert!(!short.status.success());
    let revoked = run(&["token", "revoke", "--id", &id[..8]]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );

    for c in &clients {
        let r = c.get("/v1/keys", Some(&token)).await.unwrap();
        assert_eq!(r.status, 401, "{}", r.text());
    }
    // The other tokens still work.
    let r = clients[1]
        .get("/v1/keys", Some(&app.tokens["admin"]))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let listed = String::from_utf8(run(&["token", "list"]).stdout).unwrap();
    assert!(!listed.contains(&id), "{listed}");
    assert!(!run(&["token", "revoke", "--id", &id]).status.success());

    second.shutdown().await.unwrap();
    app.running.take().unwrap().shutdown().await.unwrap();
}
