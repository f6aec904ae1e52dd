//! The listener: accepting connections within a cap, with a deadline for
//! each request head and for idle connections, so that clients that open
//! connections and send nothing cannot use up the process's file
//! descriptors and lock everyone out, `/healthz` included.
//!
//! Each accepted connection holds one of `max_connections` permits. A
//! connection accepted beyond the cap is answered at once with a `503`
//! problem and `Retry-After`, then closed; a client that sends nothing gets
//! that answer and the close without waiting. The request head must arrive
//! within the header-read timeout, counted from when the service starts
//! waiting for it (a new connection, or a kept-alive one between requests),
//! and a connection on which no request is being handled and no byte moved
//! for the idle timeout is closed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::problem::{ApiError, ErrorCode};

/// How many connections are served at once and how long they may wait.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Most connections served at once; more are answered with 503.
    pub max_connections: usize,
    /// Time for a request head to arrive once the service waits for it.
    pub header_read_timeout: Duration,
    /// Time a connection may sit with no request in progress and no I/O.
    pub idle_timeout: Duration,
}

/// How long a connection refused over capacity is kept to deliver its 503
/// and read what the client sent (closing a socket with unread bytes makes
/// the kernel reset it, and the client would see the reset, not the 503).
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// How many refusals over capacity may be in progress at once: as many as
/// served connections, and at least [`MIN_REFUSAL_SLOTS`], so that a small
/// cap still answers a burst of clients.
pub fn refusal_slots(max_connections: usize) -> usize {
    max_connections.max(MIN_REFUSAL_SLOTS)
}

/// The fewest refusals in progress at once, whatever the cap.
const MIN_REFUSAL_SLOTS: usize = 64;

/// Raises the soft limit on open files to the hard limit, so that the
/// connection cap, not the default soft limit of 1,024, bounds what clients
/// can hold open. Returns the soft limit now in force.
pub fn raise_open_file_limit() -> io::Result<u64> {
    let (_, hard) = rlimit::Resource::NOFILE.get()?;
    rlimit::increase_nofile_limit(hard)
}

/// The 503 sent on a connection accepted over capacity: a whole HTTP/1.1
/// response that closes the connection.
fn over_capacity_response() -> Vec<u8> {
    let body = serde_json::to_vec(
        &ApiError::new(ErrorCode::Unavailable)
            .detail("the service has as many connections as it serves at once; retry shortly")
            .problem(),
    )
    .expect("a problem serialises");
    let mut res = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    res.extend_from_slice(&body);
    res
}

/// Answers a connection over capacity and closes it, within
/// [`REFUSAL_LINGER`] whatever the client does.
async fn refuse(mut stream: TcpStream, response: Arc<Vec<u8>>) {
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        stream.write_all(&response).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

/// What the idle watchdog of one connection reads: when a byte last moved
/// and how many requests are in progress.
#[derive(Debug)]
struct Activity {
    start: Instant,
    /// Milliseconds since `start` of the last read or write.
    last_io_ms: AtomicU64,
    in_progress: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_io_ms: AtomicU64::new(0),
            in_progress: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_io_ms.store(ms, Ordering::Relaxed);
    }

    /// How long the connection has been idle, or `None` while a request is
    /// in progress.
    fn idle_for(&self) -> Option<Duration> {
        if self.in_progress.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_io_ms.load(Ordering::Relaxed));
        Some(self.start.elapsed().saturating_sub(last))
    }
}

/// Counts a request as in progress until dropped.
struct InProgress(Arc<Activity>);

impl InProgress {
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.in_progress.fetch_add(1, Ordering::Relaxed);
        InProgress(activity.clone())
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.in_progress.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A socket that records when bytes move, for the idle watchdog.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        res
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves `app` on `listener` within `limits` until `stop` completes, then
/// stops accepting and waits for the connections in progress to finish
/// their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Refusals hold a descriptor each for up to REFUSAL_LINGER; past
    // `refusal_slots` refusals in progress, a connection is closed without
    // an answer so that the refusals cannot exhaust the descriptors either.
    let refusals = Arc::new(Semaphore::new(refusal_slots(limits.max_connections)));
    let response = Arc::new(over_capacity_response());
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before it was
                    // accepted: the listener itself is fine, so wait a
                    // little for descriptors to be freed and go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "over the connection cap: answered 503");
            if let Ok(refusal) = refusals.clone().try_acquire_owned() {
                let response = response.clone();
                tokio::spawn(async move {
                    refuse(stream, response).await;
                    drop(refusal);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            stream,
            activity: activity.clone(),
        });
        let app = app.clone();
        let requests = activity.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let in_progress = InProgress::begin(&requests);
            let app = app.clone();
            async move {
                let res = app.oneshot(req.map(axum::body::Body::new)).await;
                drop(in_progress);
                res
            }
        });
        let conn = graceful.watch(builder.serve_connection(io, service));
        let idle_timeout = limits.idle_timeout;
        tokio::spawn(async move {
            tokio::pin!(conn);
            let mut tick = tokio::time::interval(idle_timeout.min(Duration::from_secs(1)));
            loop {
                tokio::select! {
                    result = &mut conn => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, error = %e, "connection closed");
                        }
                        break;
                    }
                    _ = tick.tick() => {
                        if activity.idle_for().is_some_and(|idle| idle >= idle_timeout) {
                            tracing::debug!(%peer, "closing an idle connection");
                            break;
                        }
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
