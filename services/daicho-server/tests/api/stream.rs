//! `GET /v1/events/stream`, read incrementally as a consumer would: entries
//! in order with the export's bytes, checkpoints that verify against the
//! entries received, entries appended while connected (through this
//! instance and through another on the same database), resumption by
//! `Last-Event-ID`, keep-alives, refusals, revocation and shutdown.

use std::time::Duration;

use bytes::Bytes;
use daicho_core::bundle::{parse_line, Line};
use daicho_core::checkpoint::Checkpoint;
use daicho_core::hash::Digest;
use daicho_core::merkle;
use daicho_server::auth;
use daicho_server::data_dir::DataDir;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::harness::*;
use super::tokens::copy_keys;

/// How long a test waits for the next event before it fails: a guard
/// against a hang, far above what any event takes.
const PATIENCE: Duration = Duration::from_secs(30);

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

/// A stream being read, a chunk at a time.
pub struct SseStream {
    body: Incoming,
    buf: Vec<u8>,
    /// Comments received (keep-alives).
    pub comments: usize,
}

/// A response that is not a stream.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: serde_json::Value,
}

/// Opens `path` with the token of `role` and, if given, a `Last-Event-ID`.
pub async fn open(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    last_event_id: Option<&str>,
) -> Result<SseStream, Refused> {
    open_at(app.client.base(), path, token, last_event_id).await
}

async fn open_at(
    base: &str,
    path: &str,
    token: Option<&str>,
    last_event_id: Option<&str>,
) -> Result<SseStream, Refused> {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build::<_, Empty<Bytes>>(HttpConnector::new());
    let mut req =
        hyper::Request::get(format!("{base}{path}")).header("accept", "text/event-stream");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let res = client
        .request(req.body(Empty::new()).unwrap())
        .await
        .unwrap();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    if res.status() != 200 {
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        return Err(Refused {
            status,
            content_type,
            body: serde_json::from_slice(&body).unwrap_or_default(),
        });
    }
    assert_eq!(content_type.as_deref(), Some("text/event-stream"));
    Ok(SseStream {
        body: res.into_body(),
        buf: Vec::new(),
        comments: 0,
    })
}

impl SseStream {
    /// The next event (comments skipped), or `None` when the stream ended.
    pub async fn next(&mut self) -> Option<SseEvent> {
        // One deadline for the event, however many comments come first.
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                if let Some(event) = self.parse(&block[..end]) {
                    return Some(event);
                }
                continue;
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .expect("no event within the test's patience");
            match frame {
                None => return None,
                Some(Err(_)) => return None,
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    /// Waits for a keep-alive comment, which an idle stream sends every
    /// 15 s; an event before it is a failure.
    pub async fn keep_alive(&mut self) {
        let before = self.comments;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.comments == before {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                let event = self.parse(&block[..end]);
                assert_eq!(event, None, "an event on an idle stream");
                continue;
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .expect("no keep-alive within the test's patience")
                .expect("the stream ended")
                .expect("the stream failed");
            if let Ok(data) = frame.into_data() {
                self.buf.extend_from_slice(&data);
            }
        }
    }

    /// The fields of one block (WHATWG HTML, "interpreting an event
    /// stream"), or `None` for a block of comments only.
    fn parse(&mut self, block: &[u8]) -> Option<SseEvent> {
        let text = std::str::from_utf8(block).expect("the stream is UTF-8");
        let (mut id, mut event, mut data) = (None, None, None::<String>);
        for line in text.split('\n') {
            if line.starts_with(':') {
                self.comments += 1;
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => id = Some(value.to_owned()),
                "event" => event = Some(value.to_owned()),
                "data" => match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => data = Some(value.to_owned()),
                },
                other => panic!("unexpected field {other:?}"),
            }
        }
        if id.is_none() && event.is_none() && data.is_none() {
            return None;
        }
        Some(SseEvent {
            id,
            event: event.unwrap_or_else(|| "message".into()),
            data: data.unwrap_or_default(),
        })
    }
}

/// What a consumer keeps: the entry lines and their leaves, in order,
/// from entry 0.
#[derive(Default)]
struct Consumer {
    lines: Vec<String>,
    leaves: Vec<Digest>,
    checkpoints: Vec<u64>,
}

impl Consumer {
    /// Takes one event as a verifying consumer does: an entry must be the
    /// next seq and extend the chain; a checkpoint must verify under the
    /// ledger key and its root must be that of exactly the entries
    /// received. Returns the checkpoint's size for a checkpoint.
    fn take(&mut self, app: &TestApp, e: &SseEvent) -> Option<u64> {
        match e.event.as_str() {
            "entry" => {
                let seq = self.leaves.len() as u64;
                assert_eq!(
                    e.id.as_deref(),
                    Some(seq.to_string().as_str()),
                    "ids in order"
                );
                let Line::Entry(r) = parse_line(e.data.as_bytes()).unwrap() else {
                    panic!("not an entry line: {}", e.data)
                };
                assert_eq!(r.entry.seq, seq);
                let expected_prev = self.leaves.last().copied().unwrap_or(Digest::ZERO);
                assert_eq!(r.entry.prev_hash, expected_prev, "the chain at {seq}");
                self.leaves.push(r.entry.hash());
                self.lines.push(e.data.clone());
                None
            }
            "checkpoint" => {
                assert_eq!(e.id, None, "a checkpoint does not move the id");
                let cp = Checkpoint::open(&e.data, &app.ledger_key).unwrap();
                assert_eq!(
                    cp.size,
                    self.leaves.len() as u64,
                    "the checkpoint covers exactly the entries received"
                );
                assert_eq!(cp.root, merkle::root(&self.leaves), "root at {}", cp.size);
                self.checkpoints.push(cp.size);
                Some(cp.size)
            }
            other => panic!("unexpected event {other:?}"),
        }
    }

    /// Reads until a checkpoint of `size` arrived.
    async fn until_checkpoint(&mut self, app: &TestApp, stream: &mut SseStream, size: u64) {
        loop {
            let e = stream.next().await.expect("the stream ended early");
            if self.take(app, &e) == Some(size) {
                return;
            }
        }
    }
}

pub async fn event_stream_sends_entries_and_checkpoints_and_resumes(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    // Commits of 1, 7, 1 and 4 entries, so that a checkpoint every 3
    // entries must wait for the end of a commit.
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    app.append_batch(&src, 7).await;
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    app.append_batch(&src, 4).await;
    let size = app.size().await;

    let mut consumer = Consumer::default();
    let mut stream = open(
        &app,
        "/v1/events/stream?checkpoint_every=3",
        Some(app.token("committee")),
        None,
    )
    .await
    .unwrap();
    consumer.until_checkpoint(&app, &mut stream, size).await;
    assert_eq!(consumer.leaves.len() as u64, size);
    // The genesis, the registration and the first event are three commits
    // of one entry, so the first checkpoint comes right after them; the
    // next 3 entries end inside the batch of 7 (seqs 3 to 9), so the
    // second waits for its end; the third, for the end of the batch of 4
    // (seqs 11 to 14). Nothing is left unchecked at the end.
    assert_eq!(size, 15);
    assert_eq!(consumer.checkpoints, vec![3, 10, 15]);

    // Each entry's data is its export line, byte for byte.
    let export = app.get("/v1/export", Some("auditor")).await;
    let lines: Vec<&str> = std::str::from_utf8(&export.body)
        .unwrap()
        .lines()
        .skip(1)
        .take(size as usize)
        .collect();
    assert_eq!(lines, consumer.lines);

    // Entries appended while connected arrive, with a checkpoint once the
    // stream has caught up.
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    app.append_batch(&src, 2).await;
    consumer.until_checkpoint(&app, &mut stream, size + 3).await;
    let last_id = (size + 2).to_string();
    drop(stream);

    // Appended while disconnected; a reconnection with Last-Event-ID
    // resumes after it, whatever `after` says, without a gap or a repeat.
    app.append_batch(&src, 3).await;
    let mut stream = open(
        &app,
        "/v1/events/stream?after=0",
        Some(app.token("auditor")),
        Some(&last_id),
    )
    .await
    .unwrap();
    consumer.until_checkpoint(&app, &mut stream, size + 6).await;
    assert_eq!(consumer.leaves.len() as u64, app.size().await);

    // `after` alone starts after that seq; its first checkpoint still
    // covers the whole prefix, which this consumer holds.
    let mut partial = Consumer {
        lines: consumer.lines[..10].to_vec(),
        leaves: consumer.leaves[..10].to_vec(),
        checkpoints: Vec::new(),
    };
    let mut stream = open(
        &app,
        "/v1/events/stream?after=9",
        Some(app.token("admin")),
        None,
    )
    .await
    .unwrap();
    partial.until_checkpoint(&app, &mut stream, size + 6).await;
    assert_eq!(partial.lines, consumer.lines);
    app.stop().await;
}

pub async fn event_stream_follows_another_instance(backend: Backend) {
    let app = spawn_app(backend).await;
    let data = DataDir::new(app.dir.path().join("data"));
    let url = data.database_url(app.database_url.as_deref());
    let second_dir = DataDir::new(app.dir.path().join("second"));
    copy_keys(&data, &second_dir);
    let second =
        daicho_server::app::start(test_config(second_dir.root().to_owned(), Some(url.clone())))
            .await
            .unwrap();
    let src = app.register_source(&[]).await;
    let size = app.size().await;
    // Read on the second instance, append through the first: the stream
    // follows the store, not its own process's writer.
    let mut consumer = Consumer::default();
    let mut stream = open_at(
        &format!("http://{}", second.addr),
        "/v1/events/stream",
        Some(app.token("committee")),
        None,
    )
    .await
    .unwrap();
    consumer.until_checkpoint(&app, &mut stream, size).await;
    app.append_batch(&src, 5).await;
    consumer.until_checkpoint(&app, &mut stream, size + 5).await;
    drop(stream);
    second.shutdown().await.unwrap();
    app.stop().await;
}

pub async fn event_stream_refusals_name_the_parameter(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = "/v1/events/stream";
    let refused = open(&app, path, None, None).await.err().unwrap();
    assert_eq!(refused.status, 401);
    assert_eq!(refused.body["code"], "unauthorized");
    // A reader verifies without seeing content: no events for it.
    let refused = open(&app, path, Some(app.token("reader")), None)
        .await
        .err()
        .unwrap();
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body["code"], "forbidden");
    for role in ["committee", "auditor", "admin"] {
        assert!(open(&app, path, Some(app.token(role)), None).await.is_ok());
    }

    let size = app.size().await;
    let cases: Vec<(String, Option<String>, &str)> = vec![
        (format!("{path}?after={size}"), None, "after"),
        (format!("{path}?after=-1"), None, "after"),
        (
            format!("{path}?checkpoint_every=0"),
            None,
            "checkpoint_every",
        ),
        (
            format!("{path}?checkpoint_every=100001"),
            None,
            "checkpoint_every",
        ),
        (format!("{path}?bogus=1"), None, "bogus"),
        (path.to_owned(), Some("abc".to_owned()), "Last-Event-ID"),
        (path.to_owned(), Some(size.to_string()), "Last-Event-ID"),
        (
            format!("{path}?after=0"),
            Some("9007199254740992".to_owned()),
            "Last-Event-ID",
        ),
    ];
    for (p, id, pointer) in cases {
        let refused = open(&app, &p, Some(app.token("committee")), id.as_deref())
            .await
            .err()
            .unwrap_or_else(|| panic!("{p} {id:?} was not refused"));
        assert_eq!(refused.status, 400, "{p} {id:?}");
        assert_eq!(
            refused.content_type.as_deref(),
            Some("application/problem+json")
        );
        assert_eq!(refused.body["code"], "invalid_parameter", "{p} {id:?}");
        assert_eq!(
            pointers(&refused.body),
            vec![pointer.to_owned()],
            "{p} {id:?}"
        );
    }
    app.stop().await;
}

pub async fn event_stream_ends_on_revocation_and_shutdown(backend: Backend) {
    let app = spawn_app(backend).await;
    let size = app.size().await;
    let store = app.running.as_ref().unwrap().state.store.clone();

    // Revoking the token ends a stream that was authorised with it.
    let mut consumer = Consumer::default();
    let mut stream = open(
        &app,
        "/v1/events/stream",
        Some(app.token("committee")),
        None,
    )
    .await
    .unwrap();
    consumer.until_checkpoint(&app, &mut stream, size).await;
    // Idle, the stream says it is alive.
    stream.keep_alive().await;
    assert!(store
        .revoke_token(auth::token_hash(app.token("committee")))
        .await
        .unwrap());
    assert_eq!(stream.next().await, None, "the stream outlived its token");

    // Shutting down ends the stream instead of waiting for it.
    let mut consumer = Consumer::default();
    let mut stream = open(&app, "/v1/events/stream", Some(app.token("auditor")), None)
        .await
        .unwrap();
    consumer.until_checkpoint(&app, &mut stream, size).await;
    tokio::time::timeout(PATIENCE, app.stop())
        .await
        .expect("shutdown waited for the stream");
    assert_eq!(stream.next().await, None);
}

/// With an idle timeout below the 15 s keep-alive, the stream's comments
/// come at half the timeout, so the idle watchdog never closes a live
/// stream: it stays open over three idle timeouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_outlives_a_short_idle_timeout() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.idle_timeout_secs = 2).await;
    let size = app.size().await;
    let mut consumer = Consumer::default();
    let mut stream = open(&app, "/v1/events/stream", Some(app.token("auditor")), None)
        .await
        .unwrap();
    consumer.until_checkpoint(&app, &mut stream, size).await;
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(6) {
        stream.keep_alive().await;
    }
    assert!(
        stream.comments >= 6,
        "{} keep-alives in 6 s",
        stream.comments
    );
    app.stop().await;
}
