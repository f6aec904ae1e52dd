//! The one test harness: `spawn_app` starts the real router on port 0
//! against a fresh SQLite file or a fresh PostgreSQL schema (the testkit's
//! scratch database), and cleans the schema up when the app is dropped
//! (even when the test panics).

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;
use daicho_core::bundle::{parse_line, Line};
use daicho_core::checkpoint::{Checkpoint, CheckpointKeys as _};
use daicho_core::event::{EventId, EventType, Label, SignedEvent};
use daicho_core::keys::{NoteSigner, NoteVerifier};
use daicho_core::ledger::Ledger;
use daicho_core::registry::{KeyRegistration, KeyRevocation, KeyRole, KEY_REGISTERED, KEY_REVOKED};
use daicho_server::app::{self, Running};
use daicho_server::auth::{self, Role};
use daicho_server::cli::{LogFormat, ServeConfig};
use daicho_server::client::{Client, FullResponse};
use daicho_server::data_dir::DataDir;
use daicho_server::keyfile;
use daicho_testkit::EventBuilder;
use rand::RngCore as _;
use serde_json::{Map, Value};

pub use daicho_testkit::{Backend, ScratchDb};

/// Limits small enough that the tests can exceed them cheaply.
pub const TEST_MAX_BODY: usize = 256 * 1024;
pub const TEST_MAX_BATCH: usize = 10;

/// A random lowercase name suffix.
pub fn random_suffix() -> String {
    let mut b = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A running app and everything a test needs to talk to it.
pub struct TestApp {
    pub client: Client,
    pub ledger_key: NoteVerifier,
    pub admin: NoteSigner,
    pub tokens: BTreeMap<&'static str, String>,
    pub running: Option<Running>,
    pub database_url: Option<String>,
    pub dir: tempfile::TempDir,
    _db: Option<ScratchDb>,
}

/// The configuration the tests serve with.
pub fn test_config(data_dir: PathBuf, database_url: Option<String>) -> ServeConfig {
    ServeConfig {
        data_dir,
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url,
        catalogue: None,
        accept_rollback: false,
        public_checkpoint: false,
        max_body_bytes: TEST_MAX_BODY,
        max_batch: TEST_MAX_BATCH,
        max_page: 1000,
        request_timeout_secs: 30,
        max_connections: 1024,
        header_read_timeout_secs: 10,
        idle_timeout_secs: 60,
        max_past_secs: 400 * 86_400,
        max_future_secs: 300,
        no_payload_validation: false,
        no_follow_projections: false,
        log_format: LogFormat::Text,
        witnesses: Vec::new(),
        witness_interval_ms: 200,
        rate_limits: Default::default(),
    }
}

/// Starts the app on a fresh ledger.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts the app on a fresh ledger with a changed configuration.
pub async fn spawn_app_with(backend: Backend, change: impl FnOnce(&mut ServeConfig)) -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap(), backend, change).await
}

/// Starts the app on a fresh ledger whose data directory is `data` in
/// `dir`, with a changed configuration.
pub async fn spawn_app_in(
    dir: tempfile::TempDir,
    backend: Backend,
    change: impl FnOnce(&mut ServeConfig),
) -> TestApp {
    // On SQLite the app keeps its database in its data directory.
    let db = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(ScratchDb::postgres()),
    };
    let database_url = db.as_ref().map(|db| db.url().to_owned());
    let mut cfg = test_config(dir.path().join("data"), database_url.clone());
    change(&mut cfg);
    let running = app::start(cfg).await.expect("the app starts");
    let data = DataDir::new(dir.path().join("data"));
    let ledger_key = keyfile::read_public(&data.ledger_vkey()).unwrap();
    let admin = keyfile::read_private(&data.admin_key()).unwrap();
    let mut tokens = BTreeMap::new();
    for role in Role::ALL {
        let t = auth::new_token();
        running
            .state
            .store
            .insert_token(auth::token_hash(&t), role.as_str(), "test")
            .await
            .unwrap();
        tokens.insert(role.as_str(), t);
    }
    let client = Client::new(&format!("http://{}", running.addr)).unwrap();
    TestApp {
        client,
        ledger_key,
        admin,
        tokens,
        running: Some(running),
        database_url,
        dir,
        _db: db,
    }
}

/// Now as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A fresh random event id.
pub fn new_event_id() -> EventId {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    EventId::from_bytes(b)
}

/// A catalogue event type with a valid example, for happy paths.
#[derive(Clone, Debug)]
pub struct Sample {
    pub event_type: String,
    pub version: u32,
    pub payload: Map<String, Value>,
    pub role: String,
    /// A required top-level property of the schema (to remove).
    pub required: Option<String>,
    /// Whether unknown top-level properties are refused.
    pub closed: bool,
}

/// The first event type of the embedded catalogue whose schema has a
/// required property, a closed top level and an example.
pub fn sample() -> Sample {
    let c = daicho_catalogue::Catalogue::embedded();
    let role = c
        .roles()
        .iter()
        .find(|r| r.is_actor_role())
        .expect("an actor role")
        .id
        .clone();
    let mut fallback = None;
    for t in c.event_types() {
        let d = c.event_type(t.name.as_str()).unwrap();
        let v = d.versions.last().unwrap();
        let Some(Value::Object(ex)) = v.examples.first() else {
            continue;
        };
        let required = v
            .schema
            .get("required")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(Value::as_str)
            .map(str::to_owned);
        let closed = v.schema.get("additionalProperties") == Some(&Value::Bool(false))
            || v.schema.get("unevaluatedProperties") == Some(&Value::Bool(false));
        let s = Sample {
            event_type: t.name.to_string(),
            version: v.version,
            payload: ex.clone(),
            role: role.clone(),
            required,
            closed,
        };
        if s.required.is_some() && s.closed {
            return s;
        }
        fallback.get_or_insert(s);
    }
    fallback.expect("the catalogue has an event type with an example")
}

/// Builds and signs an event.
pub fn sign_event(
    signer: &NoteSigner,
    source: &str,
    event_type: &str,
    version: u32,
    role: &str,
    payload: Map<String, Value>,
) -> SignedEvent {
    EventBuilder::new(signer, event_type, source)
        .id(new_event_id())
        .version(version)
        .occurred_at(&now_rfc3339())
        .actor("staff-0001", role)
        .payload(Value::Object(payload))
        .sign()
}

/// A registered source system.
#[derive(Clone)]
pub struct Source {
    pub signer: NoteSigner,
    pub name: String,
}

impl Source {
    /// A valid event of the sample type.
    pub fn sample_event(&self) -> SignedEvent {
        let s = sample();
        sign_event(
            &self.signer,
            &self.name,
            &s.event_type,
            s.version,
            &s.role,
            s.payload,
        )
    }
}

impl TestApp {
    /// The scratch PostgreSQL database, on that backend.
    pub fn scratch_db(&self) -> Option<&ScratchDb> {
        self._db.as_ref()
    }

    pub fn token(&self, role: &str) -> &str {
        &self.tokens[role]
    }

    pub async fn post_event(&self, e: &SignedEvent) -> FullResponse {
        self.client
            .post_json("/v1/events", e.canonical_bytes())
            .await
            .unwrap()
    }

    /// Appends a batch of `n` sample events of `src`.
    pub async fn append_batch(&self, src: &Source, n: usize) {
        let events: Vec<_> = (0..n).map(|_| src.sample_event()).collect();
        let res = self
            .post_raw(
                "/v1/events/batch",
                serde_json::to_vec(&serde_json::json!({ "events": events })).unwrap(),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<Bytes>) -> FullResponse {
        self.client.post_json(path, body).await.unwrap()
    }

    pub async fn get(&self, path: &str, role: Option<&str>) -> FullResponse {
        self.client
            .get(path, role.map(|r| self.token(r)))
            .await
            .unwrap()
    }

    /// An administrator's registry event.
    pub fn admin_event(&self, event_type: &str, payload: Value) -> SignedEvent {
        let Value::Object(payload) = payload else {
            panic!()
        };
        sign_event(
            &self.admin,
            "administrator",
            event_type,
            1,
            "admin",
            payload,
        )
    }

    /// Registers a new source key for `types` (default: the sample type).
    pub async fn register_source(&self, types: &[&str]) -> Source {
        let name = format!("src-{}", random_suffix());
        let signer = NoteSigner::from_seed(&name, {
            let mut s = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut s);
            s
        })
        .unwrap();
        let sample = sample();
        let types: Vec<EventType> = if types.is_empty() {
            vec![EventType::parse(&sample.event_type).unwrap()]
        } else {
            types.iter().map(|t| EventType::parse(t).unwrap()).collect()
        };
        let reg = KeyRegistration {
            key_id: signer.key_id(),
            public_key: signer.public_key(),
            source: Label::parse(&name).unwrap(),
            role: KeyRole::Source,
            types,
        };
        let e = self.admin_event(KEY_REGISTERED, serde_json::to_value(reg).unwrap());
        let res = self.post_event(&e).await;
        assert_eq!(res.status, 201, "registration: {}", res.text());
        Source { signer, name }
    }

    pub async fn revoke(&self, src: &Source) {
        let rev = KeyRevocation {
            key_id: src.signer.key_id(),
            reason: "test".into(),
        };
        let res = self
            .post_event(&self.admin_event(KEY_REVOKED, serde_json::to_value(rev).unwrap()))
            .await;
        assert_eq!(res.status, 201, "revocation: {}", res.text());
    }

    /// The latest checkpoint, opened under the ledger key.
    pub async fn checkpoint(&self) -> Checkpoint {
        let res = self.get("/v1/checkpoint", Some("reader")).await;
        assert_eq!(res.status, 200, "{}", res.text());
        Checkpoint::open(&res.text(), &self.ledger_key).unwrap()
    }

    /// The tree size.
    pub async fn size(&self) -> u64 {
        self.checkpoint().await.size
    }

    /// Exports over HTTP and verifies the bundle; returns its entry count.
    pub async fn export_verified(&self) -> u64 {
        let res = self.get("/v1/export", Some("auditor")).await;
        assert_eq!(res.status, 200, "{}", res.text());
        verify_bundle(&res.body, &self.ledger_key)
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await.unwrap();
        }
    }
}

/// Verifies a bundle as the auditor does, with daicho-verify's library, and
/// independently with the core alone: every line canonical, the chain
/// unbroken and gap-free, every event authorised and signed per the
/// registry as of its position, and every checkpoint signed by the ledger
/// key over the root of the entries before it. Returns the entry count.
pub fn verify_bundle(bytes: &[u8], ledger_key: &NoteVerifier) -> u64 {
    let report =
        daicho_verify::verify_bundle(bytes, &daicho_verify::Options::new(ledger_key.clone()));
    assert!(report.ok, "daicho-verify refuses the export:\n{report}");
    let mut lines = bytes.split(|b| *b == b'\n');
    match parse_line(lines.next().unwrap()).unwrap() {
        Line::Header(h) => assert_eq!(h.ledger_key, ledger_key.to_string()),
        other => panic!("first line is not a header: {other:?}"),
    }
    let mut entries = Vec::new();
    let mut checkpoints = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        match parse_line(line).unwrap() {
            Line::Header(_) => panic!("second header"),
            Line::Entry(e) => {
                assert!(checkpoints.is_empty(), "entry after checkpoints");
                entries.push(*e);
            }
            Line::Checkpoint(c) => checkpoints.push(c.checkpoint),
        }
    }
    // Replaying checks seqs, the chain, event hashes, the registry's
    // authorisation and every signature.
    let ledger = Ledger::replay(entries, Some(ledger_key))
        .unwrap_or_else(|e| panic!("the export does not replay: {e}"));
    let tree = ledger.tree();
    assert!(!checkpoints.is_empty(), "no checkpoint");
    for note in checkpoints {
        // The key for its size: the trusted genesis key, or the key the
        // log rotated to (FORMAT.md §8.5).
        let cp = ledger.registry().open_checkpoint(&note).unwrap();
        assert!(
            cp.size >= 1 && cp.size <= tree.size(),
            "checkpoint beyond the entries"
        );
        assert_eq!(
            Ok(cp.root),
            tree.root_at(cp.size),
            "checkpoint root at size {}",
            cp.size
        );
    }
    tree.size()
}

/// The problem body of a response, checking its media type.
pub fn problem(res: &daicho_server::client::FullResponse) -> Value {
    assert_eq!(
        res.content_type.as_deref(),
        Some("application/problem+json"),
        "status {} body {}",
        res.status,
        res.text()
    );
    res.json()
}

/// The pointers of a problem's errors.
pub fn pointers(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["pointer"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
