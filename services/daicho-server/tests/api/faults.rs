//! Fault drills: PostgreSQL restarted and stopped under load (the shared
//! server is never touched: the test's own connections are ended, and the
//! service reaches the server through a proxy the test cuts and restores),
//! and an SQLite ledger whose database page or write-ahead log was damaged
//! while it was stopped.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use daicho_core::bundle::{parse_line, Line};
use daicho_server::app;
use daicho_server::client::Client;
use daicho_testkit::scratch::HeldSnapshot;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::harness::*;

/// A TCP proxy in front of PostgreSQL. Cut, it closes every connection
/// and refuses new ones, as a stopped server does; restored, it accepts
/// again on the same address.
struct Proxy {
    addr: SocketAddr,
    upstream: String,
    accept: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            upstream: upstream.to_owned(),
            accept: None,
            connections: Default::default(),
        };
        proxy.accept = Some(proxy.serve(listener));
        proxy
    }

    fn serve(&self, listener: TcpListener) -> JoinHandle<()> {
        let upstream = self.upstream.clone();
        let connections = self.connections.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                connections.lock().unwrap().push(task);
            }
        })
    }

    /// Closes the listener and every connection.
    async fn cut(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
        let tasks: Vec<_> = self.connections.lock().unwrap().drain(..).collect();
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
    }

    /// Listens again on the same address.
    async fn restore(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.accept = Some(self.serve(listener));
    }
}

/// `url` with its host and port replaced by `addr`, and the replaced
/// `host:port`.
fn through(url: &str, addr: SocketAddr) -> (String, String) {
    let at = url.find('@').expect("a user in the URL") + 1;
    let end = at + url[at..].find('/').expect("a database in the URL");
    (
        format!("{}{addr}{}", &url[..at], &url[end..]),
        url[at..end].to_owned(),
    )
}

/// What the senders saw.
#[derive(Default)]
struct Seen {
    /// Event ids answered 201 or 200.
    acknowledged: Vec<String>,
    /// Every status other than 201 and 200, with its body.
    refusals: Vec<(u16, String)>,
}

/// Senders that post events until told to stop, each on its own
/// connection.
struct Load {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Load {
    fn start(app: &TestApp, src: &Source, senders: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let tasks = (0..senders)
            .map(|_| {
                let (stop, seen, src) = (stop.clone(), seen.clone(), src.clone());
                let client = Client::new(app.client.base()).unwrap();
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let event = src.sample_event();
                        let id = event.body.event_id.to_string();
                        let res = client
                            .post_json("/v1/events", event.canonical_bytes())
                            .await
                            .unwrap();
                        {
                            let mut seen = seen.lock().unwrap();
                            match res.status.as_u16() {
                                200 | 201 => seen.acknowledged.push(id),
                                status => seen.refusals.push((status, res.text())),
                            }
                        }
                        if !res.status.is_success() {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                })
            })
            .collect();
        Load { stop, seen, tasks }
    }

    fn acknowledged(&self) -> usize {
        self.seen.lock().unwrap().acknowledged.len()
    }

    fn refused(&self) -> usize {
        self.seen.lock().unwrap().refusals.len()
    }

    /// Waits until `enough` holds of the load (the drills wait for what
    /// they need to see, never for a time).
    async fn until(&self, what: &str, enough: impl Fn(&Load) -> bool) {
        for _ in 0..600 {
            if enough(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the load never got to: {what}");
    }

    async fn finish(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.unwrap();
        }
        Arc::try_unwrap(self.seen)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

/// The event ids in a bundle.
fn event_ids(bundle: &[u8]) -> BTreeSet<String> {
    bundle
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| match parse_line(l).unwrap() {
            Line::Entry(e) => Some(e.event.body.event_id.to_string()),
            _ => None,
        })
        .collect()
}

/// Checks a refusal of an append while the database is away: 503,
/// problem+json, `storage_unavailable`, `Retry-After`.
fn refused_cleanly(res: &daicho_server::client::FullResponse) {
    assert_eq!(res.status, 503, "{}", res.text());
    assert_eq!(
        problem(res)["code"],
        "storage_unavailable",
        "{}",
        res.text()
    );
    assert!(res.header("retry-after").is_some(), "no Retry-After");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_and_stopped_under_load_refuses_cleanly_and_resumes() {
    let url = daicho_testkit::database_url();
    let (_, upstream) = through(&url, "127.0.0.1:1".parse().unwrap());
    let mut proxy = Proxy::start(&upstream).await;
    let addr = proxy.addr;
    let app = spawn_app_with(Backend::Postgres, |cfg| {
        let direct = cfg.database_url.take().unwrap();
        cfg.database_url = Some(through(&direct, addr).0);
    })
    .await;
    let src = app.register_source(&[]).await;
    let load = Load::start(&app, &src, 3);
    load.until("appends flow", |l| l.acknowledged() >= 20).await;

    // A restart: the server ends the service's connections (only this
    // test's, by their application name).
    let ended = app.scratch_db().unwrap().end_connections().unwrap();
    assert!(ended >= 1, "no connection of the service was ended");
    let before = load.acknowledged();
    load.until("appends resume after the restart", |l| {
        l.acknowledged() >= before + 20
    })
    .await;

    // A stop: nothing reaches the server until it is back.
    proxy.cut().await;
    let res = app.post_event(&src.sample_event()).await;
    refused_cleanly(&res);
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert_eq!(ready.json()["status"], "unavailable");
    // Reads with a token look the token up in the database: they are
    // refused the same way, never a 500.
    let read = app.get("/v1/checkpoint", Some("reader")).await;
    refused_cleanly(&read);
    let refused = load.refused();
    load.until("the senders are refused during the outage", |l| {
        l.refused() >= refused + 6
    })
    .await;
    let acknowledged_during = load.acknowledged();

    // Back, without restarting the service.
    proxy.restore().await;
    load.until("appends resume after the outage", |l| {
        l.acknowledged() >= acknowledged_during + 20
    })
    .await;
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    let seen = load.finish().await;

    // Every refusal was a clean 503; nothing else (no 500, no timeout).
    assert!(!seen.refusals.is_empty());
    for (status, body) in &seen.refusals {
        assert_eq!(*status, 503, "{body}");
        assert!(body.contains("storage_unavailable"), "{body}");
    }
    // Every acknowledged event is in the ledger, which verifies.
    let res = app.get("/v1/export", Some("auditor")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    verify_bundle(&res.body, &app.ledger_key);
    let ids = event_ids(&res.body);
    let lost: Vec<_> = seen
        .acknowledged
        .iter()
        .filter(|id| !ids.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged but not in the ledger: {lost:?}"
    );
    app.stop().await;
}

/// Starts the service on an SQLite data directory.
async fn start(data: &Path, accept_rollback: bool) -> anyhow::Result<app::Running> {
    let mut cfg = test_config(data.to_owned(), None);
    cfg.accept_rollback = accept_rollback;
    app::start(cfg).await
}

/// A stopped SQLite ledger of a few dozen entries, over several commits.
async fn stopped_ledger() -> TestApp {
    let mut app = spawn_app(Backend::Sqlite).await;
    let src = app.register_source(&[]).await;
    for _ in 0..40 {
        let res = app.post_event(&src.sample_event()).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    app.running.take().unwrap().shutdown().await.unwrap();
    app
}

/// Asserts that start-up refused, saying to restore and where to read how.
fn refuses_and_says_what_to_do(started: anyhow::Result<app::Running>, damage: &str) -> String {
    let text = match started {
        Ok(_) => panic!("the service started on {damage}"),
        Err(e) => format!("{e:#}"),
    };
    assert!(text.contains("refusing to start"), "{damage}: {text}");
    assert!(text.contains("docs/OPERATIONS.md"), "{damage}: {text}");
    assert!(
        text.contains("Restore the newest") || text.contains("restore the newest"),
        "{damage}: {text}"
    );
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_page_refuses_start_and_says_to_restore() {
    let app = stopped_ledger().await;
    let data = app.dir.path().join("data");
    let db = data.join("daicho.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let pages = bytes.len() / page;
    assert!(pages >= 8, "a database of {pages} pages");
    // The first b-tree page (SQLite's page types 2, 5, 10, 13) from the
    // middle of the file on, overwritten from its header on.
    let at = (pages / 2..pages)
        .map(|n| n * page)
        .find(|&o| matches!(bytes[o], 2 | 5 | 10 | 13))
        .expect("a b-tree page in the second half");
    for b in &mut bytes[at..at + 512] {
        *b = 0xa5;
    }
    std::fs::write(&db, bytes).unwrap();

    let text = refuses_and_says_what_to_do(start(&data, false).await, "a damaged page");
    assert!(text.contains("the database file is damaged"), "{text}");
    // SQLite's findings, said once.
    assert!(
        !text.contains("damaged (the database file is damaged"),
        "{text}"
    );
    // Accepting a rollback does not make a damaged file servable.
    let text = refuses_and_says_what_to_do(start(&data, true).await, "a damaged page");
    assert!(text.contains("the database file is damaged"), "{text}");
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_write_ahead_log_refuses_start_and_says_to_restore() {
    let mut app = spawn_app(Backend::Sqlite).await;
    let data = app.dir.path().join("data");
    let src = app.register_source(&[]).await;
    // While a reader holds its snapshot, SQLite copies nothing newer into
    // the database file: every commit below stays in the log only.
    let snapshot = HeldSnapshot::hold(&data.join("daicho.db")).await.unwrap();
    for _ in 0..20 {
        let res = app.post_event(&src.sample_event()).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    app.running.take().unwrap().shutdown().await.unwrap();
    // The data directory as a crash leaves it: database, log, keys and
    // last-checkpoint files.
    let crashed = app.dir.path().join("crashed");
    std::fs::create_dir_all(crashed.join("keys")).unwrap();
    for name in ["daicho.db", "daicho.db-wal", "last-checkpoint"] {
        std::fs::copy(data.join(name), crashed.join(name)).unwrap();
    }
    for e in std::fs::read_dir(data.join("keys")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), crashed.join("keys").join(e.file_name())).unwrap();
    }
    drop(snapshot);
    let wal = crashed.join("daicho.db-wal");
    let len = std::fs::metadata(&wal).unwrap().len();
    assert!(len > 20 * 1024, "a log of {len} bytes");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&wal)
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    let text = refuses_and_says_what_to_do(start(&crashed, false).await, "a truncated log");
    assert!(text.contains("write-ahead log"), "{text}");
    drop(app);
}
