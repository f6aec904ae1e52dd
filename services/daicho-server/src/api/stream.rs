//! `GET /v1/events/stream`: the ledger as Server-Sent Events, for systems
//! that follow it. Each entry is its export-bundle line (FORMAT.md §10);
//! signed checkpoints come between them so that a consumer verifies as it
//! reads (FORMAT.md §15).
//!
//! The stream follows the store, not this process's writer, as the
//! compliance projections do: with several instances on one PostgreSQL, a
//! stream served by one sees the entries appended through another. It
//! reads a page at a time and sends a page before it reads the next, so a
//! slow consumer holds at most one page in memory, whatever the ledger's
//! size.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use daicho_core::bundle::entry_line;
use daicho_store::{StoreError, StoredCheckpoint};
use serde::Deserialize;
use tokio::time::Instant;
use utoipa::IntoParams;

use crate::api::bad_param;
use crate::app::AppState;
use crate::auth::{self, Authorized, Permission, ReadEvents, Role};
use crate::extract::{Position, Query, MAX_POSITION};
use crate::problem::{ApiError, ApiResult};

/// Checkpoints are sent at least every this many entries when the request
/// names no `checkpoint_every`.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;

/// The largest `checkpoint_every`.
pub const MAX_CHECKPOINT_EVERY: u64 = 100_000;

/// Entries read from the store at once: the most a stream holds in memory.
const PAGE: u64 = 256;

/// How often a stream that has caught up asks the store for new entries
/// (and its token for its role): the compliance projections' interval, so
/// that another instance's appends arrive within it.
const POLL: Duration = Duration::from_millis(500);

/// How often a stream that has caught up looks at this process's own
/// commits, which costs no query: entries appended through this instance
/// arrive within it.
const LOCAL_TICK: Duration = Duration::from_millis(50);

/// The greatest silence on a stream: a comment is sent after it. Well
/// below `--idle-timeout-secs`' default of 60 s and the idle timeouts of
/// common proxies, so an idle stream is not taken for a dead connection;
/// a shorter `--idle-timeout-secs` shortens it to half that timeout
/// ([`crate::app::Limits::stream_keep_alive`]).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The request header a reconnecting EventSource sends (WHATWG HTML,
/// server-sent events): the `id` of the last event it received.
const LAST_EVENT_ID: &str = "last-event-id";

/// Query of `GET /v1/events/stream`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Send entries with `seq > after`, as `GET /v1/events` does; omit it
    /// to start at entry 0. It must be below the ledger's size. A
    /// `Last-Event-ID` header replaces it.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9007199254740991.0)]
    pub after: Option<Position>,
    /// Send a checkpoint after at most about this many entries (1 to
    /// 100000, default 1000): at the first commit boundary once this many
    /// were sent since the last checkpoint.
    #[param(minimum = 1, maximum = 100000)]
    pub checkpoint_every: Option<u64>,
}

/// The ledger's entries from a position on, then every entry appended
/// while connected, as Server-Sent Events.
///
/// Each entry is an event `entry` whose `id` is its seq and whose data is
/// its export-bundle line without the final newline (FORMAT.md §10: the
/// same canonical bytes). A signed checkpoint whose size is exactly the
/// seq after the last entry sent is an event `checkpoint` with the note as
/// data; one comes at the first commit boundary after `checkpoint_every`
/// entries, and one whenever the stream has sent every stored entry.
/// A comment is sent after 15 s without an event (half the idle timeout
/// when that is shorter than 30 s). On reconnection, the
/// `Last-Event-ID` header (the last entry's seq) replaces `after`.
#[utoipa::path(
    get, path = "/v1/events/stream", tag = "events", operation_id = "stream_events",
    params(
        StreamQuery,
        ("Last-Event-ID" = Option<u64>, Header, minimum = 0, maximum = 9007199254740991.0,
         nullable = false, description = "The seq of the last entry received; replaces `after` (sent by a reconnecting EventSource)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stream: `entry` and `checkpoint` events and keep-alive comments; it ends only when the service stops, the token is revoked or the database fails", body = String, content_type = "text/event-stream"),
        (status = 400, description = "A bad parameter, or an `after` or `Last-Event-ID` at or beyond the ledger's size; the pointer names it"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The token's role may not read events"),
    )
)]
pub async fn stream_events(
    _auth: Authorized<ReadEvents>,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> ApiResult<Response> {
    let (name, after) = match last_event_id(&headers)? {
        Some(id) => (LAST_EVENT_ID_NAME, Some(id)),
        None => ("after", q.after.map(|a| a.0)),
    };
    let every = q.checkpoint_every.unwrap_or(DEFAULT_CHECKPOINT_EVERY);
    if !(1..=MAX_CHECKPOINT_EVERY).contains(&every) {
        return Err(bad_param(
            "checkpoint_every",
            format!("must be between 1 and {MAX_CHECKPOINT_EVERY}"),
        ));
    }
    // The store's size, not this process's view: with several instances
    // on one database, the consumer may have seen entries appended
    // through another. A position the ledger does not have is refused
    // rather than waited for: a consumer's last seq always exists, unless
    // the ledger it followed was replaced, which it must hear of.
    let size = state
        .store
        .size()
        .await
        .map_err(|e| ApiError::internal("reading the ledger's size", &e))?;
    if let Some(after) = after {
        if after >= size {
            return Err(bad_param(
                name,
                format!("must be below the ledger's size, {size}"),
            ));
        }
    }
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(auth::bearer)
        .map(auth::token_hash);
    let keep_alive = state.limits.stream_keep_alive;
    let follower = Follower {
        state,
        token,
        next: after.map_or(0, |a| a + 1),
        every,
        unchecked: 0,
        due: None,
        ready: VecDeque::new(),
        last_poll: Instant::now(),
    };
    let events = futures_util::stream::unfold(follower, Follower::step);
    let mut res = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(keep_alive))
        .into_response();
    // Tells nginx and its kind not to buffer the stream, so that each event
    // reaches the consumer when it is sent.
    res.headers_mut().insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    Ok(res)
}

/// How the problem names the `Last-Event-ID` header.
const LAST_EVENT_ID_NAME: &str = "Last-Event-ID";

/// The `Last-Event-ID` header as a position. An empty value is no value,
/// as for an EventSource, which sends none once an event reset the id.
fn last_event_id(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let Some(value) = headers.get(LAST_EVENT_ID) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("\u{fffd}").trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u64>() {
        Ok(n) if n <= MAX_POSITION && text.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
        _ => Err(bad_param(
            LAST_EVENT_ID_NAME,
            format!("expected the seq of an entry, 0 to {MAX_POSITION}"),
        )),
    }
}

/// One stream's position in the ledger and what it owes the consumer.
struct Follower {
    state: AppState,
    /// The hash of the request's token, asked of the database again while
    /// the stream lasts, so that a revocation ends it.
    token: Option<[u8; 32]>,
    /// The seq of the next entry to send: the consumer has (or skipped)
    /// every entry below it.
    next: u64,
    /// The `checkpoint_every` of the request.
    every: u64,
    /// Entries sent since the last checkpoint.
    unchecked: u64,
    /// The stored checkpoint the stream is heading for once
    /// `checkpoint_every` entries were sent: it is sent as soon as `next`
    /// reaches its size.
    due: Option<StoredCheckpoint>,
    /// Events read but not yet sent: at most one page.
    ready: VecDeque<Event>,
    /// When the token and the store were last asked.
    last_poll: Instant,
}

/// Why a stream ends early.
#[derive(Debug, thiserror::Error)]
enum Stop {
    #[error("the service is shutting down")]
    ShuttingDown,
    #[error("the token was revoked or lost the right to read events")]
    Revoked,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("entry {0} is not UTF-8")]
    NotUtf8(u64),
}

impl Follower {
    /// The next event, or `None` to end the stream.
    async fn step(mut self) -> Option<(Result<Event, Infallible>, Follower)> {
        match self.next_event().await {
            Ok(event) => Some((Ok(event), self)),
            Err(Stop::ShuttingDown) => None,
            Err(Stop::Revoked) => {
                tracing::info!("event stream ended: {}", Stop::Revoked);
                None
            }
            Err(e) => {
                // The status line is sent: log, and end the stream; the
                // consumer reconnects with its Last-Event-ID.
                tracing::error!(error = %e, "event stream failed");
                None
            }
        }
    }

    async fn next_event(&mut self) -> Result<Event, Stop> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Ok(event);
            }
            // Shutdown waits for every response to finish, and this one
            // would not by itself.
            if !self.state.is_ready() {
                return Err(Stop::ShuttingDown);
            }
            if let Some(c) = self.due.take_if(|c| c.size == self.next) {
                return Ok(self.checkpoint(c));
            }
            if self.last_poll.elapsed() >= POLL {
                self.poll_token().await?;
            }
            if self.read_page().await? {
                continue;
            }
            // Every stored entry was sent, and the stored size is a commit
            // boundary (entries and their checkpoint are one transaction),
            // so a checkpoint of exactly that size exists.
            if self.unchecked > 0 {
                if let Some(note) = self.state.store.checkpoint_at(self.next).await? {
                    let c = StoredCheckpoint {
                        size: self.next,
                        note,
                    };
                    return Ok(self.checkpoint(c));
                }
            }
            self.wait().await?;
        }
    }

    /// Asks the database for the token's role again.
    async fn poll_token(&mut self) -> Result<(), Stop> {
        self.last_poll = Instant::now();
        let Some(token) = self.token else {
            return Err(Stop::Revoked);
        };
        let role = self.state.store.token_role(token).await?;
        let allowed = role
            .and_then(|r| r.parse::<Role>().ok())
            .is_some_and(|r| r.allows(Permission::ReadEvents));
        if allowed {
            Ok(())
        } else {
            Err(Stop::Revoked)
        }
    }

    /// Reads the next page of entries into `ready`; false if there were
    /// none. A page stops at `checkpoint_every` entries and at the size of
    /// the checkpoint due, so that the checkpoint goes out right after the
    /// entry it ends with.
    async fn read_page(&mut self) -> Result<bool, Stop> {
        let limit = match &self.due {
            Some(c) => c.size - self.next,
            None => self.every.saturating_sub(self.unchecked),
        }
        .clamp(1, PAGE);
        let page = self
            .state
            .store
            .entries(self.next, u32::try_from(limit).unwrap_or(1))
            .await?;
        if page.is_empty() {
            return Ok(false);
        }
        for e in &page {
            let line = entry_line(&e.entry, &e.event);
            // The line without its final newline: canonical JSON escapes
            // every line break, so the data is one line.
            let text = std::str::from_utf8(&line[..line.len() - 1])
                .map_err(|_| Stop::NotUtf8(e.entry.seq))?;
            self.ready.push_back(
                Event::default()
                    .id(e.entry.seq.to_string())
                    .event("entry")
                    .data(text),
            );
            self.next = e.entry.seq + 1;
            self.unchecked += 1;
        }
        if self.due.is_none() && self.unchecked >= self.every {
            // The first checkpoint at or after the last entry read: the end
            // of the commit that entry belongs to.
            self.due = self
                .state
                .store
                .checkpoints(self.next - 1, 1)
                .await?
                .into_iter()
                .next();
        }
        Ok(true)
    }

    /// The checkpoint event, with the witnesses' cosignatures when they
    /// cosigned that size (FORMAT.md §7.3).
    fn checkpoint(&mut self, c: StoredCheckpoint) -> Event {
        self.unchecked = 0;
        let note = self.state.witnesses.cosigned_note(c.size).unwrap_or(c.note);
        Event::default().event("checkpoint").data(note)
    }

    /// Waits until this process commits beyond `next` or it is time to
    /// ask the store, whichever comes first.
    async fn wait(&mut self) -> Result<(), Stop> {
        loop {
            tokio::time::sleep(LOCAL_TICK).await;
            if !self.state.is_ready() {
                return Err(Stop::ShuttingDown);
            }
            if self.state.sequencer.snapshot().size > self.next || self.last_poll.elapsed() >= POLL
            {
                return Ok(());
            }
        }
    }
}
