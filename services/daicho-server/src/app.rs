//! The application: its state, the router, start-up and graceful shutdown.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::extract::Request;
use axum::http::HeaderName;
use axum::response::IntoResponse;
use axum::Router;
use daicho_catalogue::Catalogue;
use daicho_compliance::Rulebook;

use crate::compliance::Compliance;
use daicho_core::batch::BatchVerifier;
use daicho_store::Store;
use rand::RngCore as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::check_pool::CheckPool;
use crate::cli::{LogFormat, ServeConfig};
use crate::connections::{self, ConnectionLimits};
use crate::data_dir::{self, redact, DataDir};
use crate::keyfile;
use crate::metrics::Metrics;
use crate::problem::{ApiError, ErrorCode};
use crate::rate_limit::RateLimits;
use crate::sequencer::{Sequencer, SequencerConfig};

/// The header carrying each request's id, set if the client sent none and
/// echoed in the response and in every log line of the request.
pub const REQUEST_ID: &str = "x-request-id";

/// The limits and switches the handlers read, taken from [`ServeConfig`].
#[derive(Debug, Clone)]
pub struct Limits {
    /// Serve the latest checkpoint without a token.
    pub public_checkpoint: bool,
    /// Largest body, in bytes.
    pub max_body_bytes: usize,
    /// Most events in a batch.
    pub max_batch: usize,
    /// Most entries in a page.
    pub max_page: u64,
    /// How far in the past `occurred_at` may lie.
    pub max_past: Duration,
    /// How far in the future `occurred_at` may lie.
    pub max_future: Duration,
    /// Whether payloads are validated against the catalogue.
    pub validate_payloads: bool,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// The greatest silence on an event stream before a keep-alive comment:
    /// 15 s, or less when the idle timeout is shorter, so that the idle
    /// watchdog never takes a live stream for an idle connection.
    pub stream_keep_alive: Duration,
}

impl Limits {
    /// The limits of a serve configuration.
    pub fn of(cfg: &ServeConfig) -> Limits {
        Limits {
            public_checkpoint: cfg.public_checkpoint,
            max_body_bytes: cfg.max_body_bytes,
            max_batch: cfg.max_batch,
            max_page: cfg.max_page.max(1),
            max_past: Duration::from_secs(cfg.max_past_secs),
            max_future: Duration::from_secs(cfg.max_future_secs),
            validate_payloads: !cfg.no_payload_validation,
            request_timeout: Duration::from_secs(cfg.request_timeout_secs.max(1)),
            stream_keep_alive: crate::api::stream::KEEP_ALIVE
                .min(Duration::from_secs(cfg.idle_timeout_secs.max(1)) / 2),
        }
    }
}

/// Everything a handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared state behind [`AppState`].
pub struct Inner {
    /// The database, for reads.
    pub store: Store,
    /// The single writer.
    pub sequencer: Sequencer,
    /// The regulation catalogue payloads are validated against.
    pub catalogue: &'static Catalogue,
    /// The projections and the rules that evaluate them.
    pub compliance: Arc<Compliance>,
    /// Limits and switches.
    pub limits: Limits,
    /// Prometheus counters.
    pub metrics: Metrics,
    /// The rate limits per token and per source.
    pub rate_limits: RateLimits,
    /// Checks batches of event signatures, with weights from a secret drawn
    /// at start-up.
    pub signatures: BatchVerifier,
    /// The threads that check batch requests.
    pub checks: CheckPool,
    /// The witnesses' cosignatures of the newest checkpoint and their status.
    pub witnesses: crate::witness::cosigner::Cosigner,
    /// False while shutting down, so that load balancers stop sending.
    ready: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state; fails if the check pool's threads cannot start.
    pub fn new(
        store: Store,
        sequencer: Sequencer,
        compliance: Arc<Compliance>,
        limits: Limits,
        rate_limits: RateLimits,
    ) -> std::io::Result<AppState> {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        Ok(AppState(Arc::new(Inner {
            store,
            sequencer,
            catalogue: compliance.catalogue(),
            compliance,
            limits,
            metrics: Metrics::default(),
            rate_limits,
            signatures: BatchVerifier::new(secret),
            checks: CheckPool::new(None)?,
            witnesses: Default::default(),
            ready: AtomicBool::new(true),
        })))
    }

    /// Whether the service accepts traffic.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

/// The router with every route and layer. Tests drive it with `oneshot`
/// or over a socket; `serve` binds it.
pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    let request_id = HeaderName::from_static(REQUEST_ID);
    crate::api::routes()
        .fallback(|| async { ApiError::new(ErrorCode::NotFound) })
        .method_not_allowed_fallback(|| async { ApiError::new(ErrorCode::MethodNotAllowed) })
        .with_state(state)
        // Layers run bottom-up for requests: the id is set first, so the
        // trace span and the handlers see it.
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(axum::middleware::from_fn(move |req: Request, next: axum::middleware::Next| {
            let timeout = limits.request_timeout;
            async move {
                match tokio::time::timeout(timeout, next.run(req)).await {
                    Ok(res) => res,
                    Err(_) => ApiError::new(ErrorCode::Timeout).into_response(),
                }
            }
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                // One line per response at INFO: status and latency, inside
                // the request's span and so with its id.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .on_request(()),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// A started service: its address, and the handle to stop it.
pub struct Running {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    /// The state: the store, the sequencer and the metrics of the service.
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stops accepting connections, lets in-flight requests finish, drains
    /// the sequencer, and closes the database.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.context("the server task panicked")?
    }

    /// Waits until the server stops by itself (it does not, unless it fails).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("the server task panicked")?
    }
}

/// Reads a catalogue directory into the map `Catalogue::from_files` takes,
/// and loads the catalogue and its rules from it.
fn read_catalogue_dir(dir: &std::path::Path) -> anyhow::Result<(Catalogue, Rulebook)> {
    fn walk(
        root: &std::path::Path,
        dir: &std::path::Path,
        out: &mut std::collections::BTreeMap<String, Vec<u8>>,
    ) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                let rel = path
                    .strip_prefix(root)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(
                    rel,
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
                );
            }
        }
        Ok(())
    }
    let mut files = std::collections::BTreeMap::new();
    walk(dir, dir, &mut files)?;
    let catalogue = Catalogue::from_files(files.clone())
        .map_err(|e| anyhow::anyhow!("the catalogue in {} is refused:\n{e}", dir.display()))?;
    let rules = Rulebook::from_files(&files, &catalogue)
        .map_err(|e| anyhow::anyhow!("the rules in {} are refused:\n{e}", dir.display()))?;
    Ok((catalogue, rules))
}

/// The connection limits of `cfg`, with the soft limit on open files
/// raised to the hard limit first. The cap is lowered if the descriptors
/// could not hold the served connections, the refusals in progress over
/// capacity, and a reserve for the database and files; running out of descriptors would
/// stop the service from accepting anyone.
fn connection_limits(cfg: &ServeConfig) -> ConnectionLimits {
    /// Descriptors kept for the database pool, the data files and logs.
    const RESERVE: u64 = 128;
    let mut max_connections = cfg.max_connections.max(1);
    match connections::raise_open_file_limit() {
        Ok(soft) => {
            let room = usize::try_from(soft.saturating_sub(RESERVE)).unwrap_or(usize::MAX);
            // The largest cap whose connections and refusals fit in `room`.
            let fits = (1..=max_connections.min(room))
                .rev()
                .find(|&n| n + connections::refusal_slots(n) <= room)
                .unwrap_or(1);
            if fits < max_connections {
                tracing::warn!(
                    open_file_limit = soft,
                    max_connections = fits,
                    "the open-file limit is too low for --max-connections; serving fewer"
                );
                max_connections = fits;
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read or raise the open-file limit"),
    }
    ConnectionLimits {
        max_connections,
        header_read_timeout: Duration::from_secs(cfg.header_read_timeout_secs.max(1)),
        idle_timeout: Duration::from_secs(cfg.idle_timeout_secs.max(1)),
    }
}

/// Initialises the data directory if needed, opens the store, starts the
/// sequencer and binds the listener; returns once the service accepts
/// connections.
pub async fn start(cfg: ServeConfig) -> anyhow::Result<Running> {
    // Checked before anything is opened: a configuration that cannot work
    // stops here.
    let rate_limits =
        RateLimits::new(&cfg.rate_limits, cfg.max_batch).map_err(anyhow::Error::msg)?;
    let (catalogue, rules): (&'static Catalogue, Rulebook) = match &cfg.catalogue {
        // Loaded once per process and kept for its lifetime, like the
        // embedded one, so that handlers need no reference counting.
        Some(dir) => {
            let (catalogue, rules) = read_catalogue_dir(dir)?;
            (Box::leak(Box::new(catalogue)), rules)
        }
        None => (Catalogue::embedded(), Rulebook::embedded().clone()),
    };
    let dir = DataDir::new(&cfg.data_dir);
    if !dir.is_initialised() {
        tracing::info!(data_dir = %dir.root().display(), "initialising a new ledger");
        let created = data_dir::initialise(
            &dir,
            cfg.database_url.as_deref(),
            crate::cli::DEFAULT_ORIGIN,
        )
        .await?;
        tracing::info!(ledger_key = %created.ledger.verifier(), "ledger created");
    }
    let ledger_key = keyfile::read_private(&dir.ledger_key())?;
    let url = dir.database_url(cfg.database_url.as_deref());
    // Opening applies pending migrations; one that rebuilds a table (SQLite
    // 0002) rewrites every entry once, which takes a while on a large
    // ledger, so the log says when it starts and how long it took.
    tracing::info!(database = %redact(&url), "opening the database and applying pending migrations");
    let opening = Instant::now();
    let store = Store::open(&url)
        .await
        // A damaged file gets the refusal that says what to do.
        .map_err(crate::sequencer::StartError::from)
        .with_context(|| format!("opening the database {}", redact(&url)))?;
    tracing::info!(seconds = opening.elapsed().as_secs_f64(), "database open");
    let mut sequencing = SequencerConfig::new(dir.last_checkpoint(), cfg.accept_rollback)
        .with_extra_keys(dir.other_ledger_keys()?);
    // The writer hands what it commits to the projections, unless they are
    // not kept current; 64 groups of up to 10,000 entries at most wait.
    let mut committed = None;
    if !cfg.no_follow_projections {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        sequencing = sequencing.with_committed_entries(tx);
        committed = Some(rx);
    }
    let sequencer = Sequencer::start(store.clone(), ledger_key, sequencing).await?;
    let limits = Limits::of(&cfg);
    let witnesses = cfg
        .witnesses
        .iter()
        .map(|w| crate::witness::cosigner::WitnessEndpoint::parse(w))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The projections are rebuilt from the store in the background and
    // then follow it; a compliance request catches up before it answers.
    let compliance = Arc::new(Compliance::new(catalogue, rules));
    if let Some(committed) = committed {
        compliance.follow(store.clone(), committed);
    }
    let state = AppState::new(store, sequencer, compliance, limits, rate_limits)
        .context("starting the signature check threads")?;
    if !witnesses.is_empty() {
        // Off the append path: a witness that is down delays only its own
        // cosignature.
        tokio::spawn(crate::witness::cosigner::run(
            state.clone(),
            witnesses,
            Duration::from_millis(cfg.witness_interval_ms.max(10)),
        ));
    }
    let listener = TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("binding {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(state.clone());
    let task_state = state.clone();
    let signal_state = state.clone();
    let connection_limits = connection_limits(&cfg);
    let task = tokio::spawn(async move {
        connections::serve(listener, app, connection_limits, async move {
            let _ = stopped.await;
            signal_state.ready.store(false, Ordering::Relaxed);
        })
        .await;
        // Every connection is closed: no new appends can arrive, so the
        // sequencer can finish the last group commit and stop.
        let drained = task_state.sequencer.shutdown().await;
        task_state.store.close().await;
        drained.context("stopping the sequencer")?;
        Ok(())
    });
    tracing::info!(%addr, backend = state.store.backend(), "listening");
    Ok(Running {
        addr,
        state,
        stop: Some(stop),
        task,
    })
}

/// Sets up logging to stderr in the given format, filtered by `DAICHO_LOG`.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DAICHO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// `daicho serve`: runs until SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn serve(cfg: ServeConfig) -> anyhow::Result<()> {
    init_logging(cfg.log_format);
    let running = start(cfg).await?;
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    running.shutdown().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
