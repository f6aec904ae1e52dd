//! The append endpoints and the entry reads.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use daicho_catalogue::ValidationError;
use daicho_core::batch::{BatchVerifier, SignatureCheck};
use daicho_core::event::{EventError, EventId, HashedEvent, SignedEvent};
use daicho_core::jcs::{self, JcsError};
use daicho_core::keys::PublicKey;
use daicho_core::registry::{Registry, RegistryError};
use serde_json::Value;
use time::OffsetDateTime;

use crate::api::schemas::{BatchReceipts, EntryPage, EntryView, PageQuery};
use crate::app::{AppState, Authorized, ReadEvents};
use crate::extract::{JsonBytes, NoQuery, Path, Position, Query};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::sequencer::AppendError;

/// Strictly parses a JSON body.
fn parse_json(bytes: &[u8]) -> ApiResult<Value> {
    jcs::parse(bytes).map_err(json_error)
}

fn json_error(e: JcsError) -> ApiError {
    ApiError::new(ErrorCode::MalformedJson)
        .detail(e.to_string())
        .at("", e.to_string())
}

/// The envelope from a parsed value, with the pointer at fault on error.
fn envelope(value: Value) -> ApiResult<SignedEvent> {
    SignedEvent::from_value(value).map_err(|e| match e {
        EventError::Json(j) => json_error(j),
        EventError::Shape { pointer, message } => ApiError::new(ErrorCode::InvalidRequest)
            .detail(format!("{message} at {pointer:?}"))
            .at(pointer, message),
    })
}

/// The checks at the door that need no registry: the catalogue's schema
/// for the payload (not for the ledger's own `daicho.*` types, which the
/// registry checks) and the `occurred_at` window.
pub fn check_content(state: &AppState, event: &SignedEvent, now: OffsetDateTime) -> ApiResult<()> {
    let b = &event.body;
    if state.limits.validate_payloads && !b.event_type.is_ledger_type() {
        // The payload is already a map; the catalogue takes a value, and
        // the clone is cheap next to the signature check that follows.
        let payload = Value::Object(b.payload.clone());
        state
            .catalogue
            .validate(
                b.event_type.as_str(),
                b.schema_version,
                b.actor.role.as_str(),
                &payload,
            )
            .map_err(validation_error)?;
    }
    let at = b.occurred_at.instant();
    let earliest = now - state.limits.max_past;
    let latest = now + state.limits.max_future;
    if at < earliest || at > latest {
        return Err(ApiError::new(ErrorCode::OccurredAtOutOfWindow)
            .detail(format!(
                "occurred_at must lie between {} seconds before and {} seconds after the server's clock",
                state.limits.max_past.as_secs(),
                state.limits.max_future.as_secs()
            ))
            .at("/occurred_at", "outside the accepted window"));
    }
    Ok(())
}

fn validation_error(e: ValidationError) -> ApiError {
    let detail = e.to_string();
    match e {
        ValidationError::UnknownType { .. } => ApiError::new(ErrorCode::UnknownEventType)
            .detail(detail.clone())
            .at("/type", detail),
        ValidationError::UnknownVersion { .. } => ApiError::new(ErrorCode::UnknownSchemaVersion)
            .detail(detail.clone())
            .at("/schema_version", detail),
        ValidationError::UnknownRole { role, .. } => ApiError::new(ErrorCode::UnknownActorRole)
            .detail(detail)
            .at("/actor/role", format!("unknown role {role:?}")),
        ValidationError::InvalidPayload(violations) => {
            let mut err = ApiError::new(ErrorCode::InvalidPayload).detail(format!(
                "the payload has {} violation(s) of its schema",
                violations.len()
            ));
            for v in violations {
                err = err.at(format!("/payload{}", v.pointer), v.message);
            }
            err
        }
    }
}

/// Maps a registry refusal to its problem.
pub fn registry_error(e: &RegistryError) -> ApiError {
    let detail = e.to_string();
    let (code, pointer) = match e {
        RegistryError::UnknownKey(_) => (ErrorCode::UnknownKey, "/key_id".to_owned()),
        RegistryError::Revoked { .. } => (ErrorCode::KeyRevoked, "/key_id".to_owned()),
        RegistryError::OutOfScope { .. } => (ErrorCode::TypeOutOfScope, "/type".to_owned()),
        RegistryError::WrongSource { .. } => (ErrorCode::WrongSource, "/source".to_owned()),
        RegistryError::BadSignature(_) => (ErrorCode::BadSignature, "/signature".to_owned()),
        RegistryError::BadPayload { pointer, .. } => {
            (ErrorCode::InvalidRegistryEvent, pointer.clone())
        }
        RegistryError::AlreadyRegistered(_) | RegistryError::AlreadyRevoked(_) => (
            ErrorCode::InvalidRegistryEvent,
            "/payload/key_id".to_owned(),
        ),
        RegistryError::BadGenesis(_) | RegistryError::LateGenesis => {
            (ErrorCode::InvalidRegistryEvent, "/type".to_owned())
        }
    };
    ApiError::new(code)
        .detail(detail.clone())
        .at(pointer, detail)
}

/// The key a registry refusal is about.
fn refused_key(e: &RegistryError) -> Option<&daicho_core::keys::KeyId> {
    match e {
        RegistryError::UnknownKey(k)
        | RegistryError::BadSignature(k)
        | RegistryError::Revoked { key_id: k, .. }
        | RegistryError::OutOfScope { key_id: k, .. }
        | RegistryError::WrongSource { key_id: k, .. } => Some(k),
        _ => None,
    }
}

fn append_error(e: AppendError) -> ApiError {
    match e {
        AppendError::Conflict(id) => ApiError::new(ErrorCode::EventIdConflict)
            .detail(format!(
                "event id {id} was already appended with different content; nothing was appended"
            ))
            .at("/event_id", "already used for different content"),
        AppendError::Rejected(r) => registry_error(&r),
        AppendError::Unavailable => ApiError::new(ErrorCode::Unavailable)
            .detail("the service is shutting down; retry against another instance"),
        AppendError::Internal(e) => ApiError::internal("appending", &*e),
    }
}

/// Whether a refused event is a retry of one already in the ledger.
///
/// A refusal on grounds that can change after an event was appended (the
/// catalogue, the `occurred_at` window, a revoked key) must not hide the
/// original receipt from a submitter retrying the exact bytes, so before
/// refusing, the event id is looked up: the same bytes under that id are a
/// retry (the sequencer answers it with the original receipt), other bytes
/// are a conflict. Only the refusal path pays for the lookup.
async fn already_appended(state: &AppState, event: &SignedEvent) -> ApiResult<bool> {
    let stored = state
        .store
        .entry_by_event_id(&event.body.event_id)
        .await
        .map_err(|e| ApiError::internal("looking up a refused event's id", &e))?;
    match stored {
        None => Ok(false),
        Some(s) if s.entry.event_hash == event.hash() => Ok(true),
        Some(_) => Err(append_error(AppendError::Conflict(
            event.body.event_id.clone(),
        ))),
    }
}

/// Parses, checks and verifies events in the handler, so that the sequencer
/// (one writer) only sequences; the signature checks of concurrent requests
/// run in parallel on the runtime's threads. Returns the events with, for
/// each, whether it is a retry of an appended event that the checks
/// refused (see [`already_appended`]).
async fn admit(
    state: &AppState,
    events: Vec<SignedEvent>,
    prefixes: bool,
) -> ApiResult<(Vec<SignedEvent>, Vec<bool>)> {
    let now = OffsetDateTime::now_utc();
    let mut retries = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let under = |err: ApiError| {
            if prefixes {
                err.under(&format!("/events/{i}"))
            } else {
                err
            }
        };
        let retry = match check_content(state, e, now) {
            Ok(()) => false,
            Err(err) => {
                if !already_appended(state, e).await.map_err(under)? {
                    return Err(under(err));
                }
                true
            }
        };
        retries.push(retry);
    }
    Ok((events, retries))
}

fn status_for(new: bool) -> StatusCode {
    if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// Appends one signed event.
///
/// Checks, in order: body size, strict JSON and the envelope's shape, the
/// payload against the catalogue, the `occurred_at` window, the signature
/// against the key registry; then sequences it and answers once the entry
/// and its checkpoint are durable. Re-sending an appended event returns its
/// original receipt with 200.
#[utoipa::path(
    post, path = "/v1/events", tag = "events", operation_id = "append_event",
    request_body(content = crate::api::schemas::SignedEventDoc, content_type = "application/json"),
    responses(
        (status = 201, description = "Appended; the receipt", body = crate::api::schemas::ReceiptDoc),
        (status = 200, description = "Already appended with these exact bytes; the original receipt", body = crate::api::schemas::ReceiptDoc),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The signature does not authorise the event (unknown or revoked key, type out of scope, bad signature)", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event id was used for different content", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid envelope or payload; `errors` lists every fault with its JSON pointer", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Shutting down or database unavailable", body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn append_event(
    State(state): State<AppState>,
    query: Result<Query<NoQuery>, ApiError>,
    body: Result<JsonBytes, ApiError>,
) -> Response {
    let started = Instant::now();
    let result = async {
        query?;
        let JsonBytes(bytes) = body?;
        let event = envelope(parse_json(&bytes)?)?;
        let (events, retries) = admit(&state, vec![event], false).await?;
        append(&state, events, retries).await
    }
    .await;
    finish(&state, started, result, |mut receipts, new| {
        (status_for(new), Json(receipts.remove(0))).into_response()
    })
}

/// Appends a batch atomically: every event is appended, or none.
///
/// The body is `{"events": [...]}` with at most the configured number of
/// events. A fault in any event refuses the whole batch; its pointers
/// start with `/events/{index}`.
#[utoipa::path(
    post, path = "/v1/events/batch", tag = "events", operation_id = "append_batch",
    request_body(content = crate::api::schemas::BatchRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Appended; one receipt per event, in order", body = BatchReceipts),
        (status = 200, description = "Every event was already appended; the original receipts", body = BatchReceipts),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "An event's signature does not authorise it", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "An event id was used for different content", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid event, or too many events", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Shutting down or database unavailable", body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn append_batch(
    State(state): State<AppState>,
    query: Result<Query<NoQuery>, ApiError>,
    body: Result<JsonBytes, ApiError>,
) -> Response {
    let started = Instant::now();
    let result = async {
        query?;
        let JsonBytes(bytes) = body?;
        let value = parse_json(&bytes)?;
        let Value::Object(mut map) = value else {
            return Err(ApiError::new(ErrorCode::InvalidRequest)
                .at("", "expected an object {\"events\": [...]}"));
        };
        if let Some(k) = map.keys().find(|k| k.as_str() != "events") {
            return Err(
                ApiError::new(ErrorCode::InvalidRequest).at(format!("/{k}"), "unknown field")
            );
        }
        let Some(Value::Array(items)) = map.remove("events") else {
            return Err(ApiError::new(ErrorCode::InvalidRequest)
                .at("/events", "expected an array of signed events"));
        };
        if items.is_empty() || items.len() > state.limits.max_batch {
            return Err(ApiError::new(ErrorCode::BatchTooLarge)
                .detail(format!(
                    "a batch holds 1 to {} events; this one has {}",
                    state.limits.max_batch,
                    items.len()
                ))
                .at(
                    "/events",
                    format!("expected 1 to {} events", state.limits.max_batch),
                ));
        }
        let mut events = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            events.push(envelope(item).map_err(|e| e.under(&format!("/events/{i}")))?);
        }
        let (events, retries) = admit(&state, events, true).await?;
        append(&state, events, retries).await
    }
    .await;
    finish(&state, started, result, |receipts, new| {
        (status_for(new), Json(BatchReceipts { receipts })).into_response()
    })
}

/// What the door knows of each event's signature: `Ok(Some(key))` verified
/// with `key`, `Ok(None)` left to the sequencer, or the refusal.
type Outcome = Result<Option<PublicKey>, RegistryError>;

/// Authorises every event against `registry` and checks the signatures of
/// those it authorises: one alone with the single check, several with the
/// batch check, which accepts exactly the same signatures
/// (`daicho_core::batch`) at a third of the cost.
fn verify_events(
    registry: &Registry,
    batches: &BatchVerifier,
    events: &[HashedEvent],
    retries: &[bool],
) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(events.len());
    for (e, retry) in events.iter().map(HashedEvent::event).zip(retries) {
        outcomes.push(if *retry {
            Ok(None)
        } else {
            match registry.authorize(e) {
                Ok(rec) => Ok(Some(rec.public_key)),
                // The snapshot may predate the key's registration (earlier
                // in this batch, or by another process on the same
                // database): the sequencer decides under the writer lock,
                // against the registry as of the head. The other refusals
                // are final, because a key is never registered twice and
                // never changes scope or holder.
                Err(RegistryError::UnknownKey(_)) => Ok(None),
                Err(r) => Err(r),
            }
        });
    }
    // The authorised events, with the key each is checked against.
    let to_check: Vec<(usize, PublicKey)> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o {
            Ok(Some(key)) => Some((i, *key)),
            _ => None,
        })
        .collect();
    let messages: Vec<Vec<u8>> = to_check
        .iter()
        .map(|&(i, _)| events[i].signing_message())
        .collect();
    let checks: Vec<SignatureCheck<'_>> = to_check
        .iter()
        .zip(&messages)
        .map(|((i, key), message)| SignatureCheck {
            key: &key.0,
            message,
            signature: events[*i].event().signature.0,
        })
        .collect();
    let failed = if checks.len() == 1 {
        if checks[0].holds() {
            Vec::new()
        } else {
            vec![0]
        }
    } else {
        batches.failures(&checks)
    };
    for f in failed {
        let (i, _) = to_check[f];
        outcomes[i] = Err(RegistryError::BadSignature(
            events[i].event().body.key_id.clone(),
        ));
    }
    outcomes
}

/// Verifies signatures against the current registry (a batch on the
/// check pool, so that concurrent requests verify in parallel) and hands
/// the events to the sequencer with the key each was verified with, so that
/// it does not verify them again unless the registry changed in between.
/// Events in `retries` are not verified: they are in the ledger already,
/// and the sequencer answers them with their original receipt. Returns the
/// receipts and how many entries were appended.
async fn append(
    state: &AppState,
    events: Vec<SignedEvent>,
    retries: Vec<bool>,
) -> ApiResult<(Vec<daicho_core::receipt::Receipt>, u64)> {
    let snapshot = state.sequencer.snapshot();
    let registry = snapshot.registry.clone();
    let in_batch = events.len() > 1;
    // One verification (~40 µs) runs in place: handing it to another
    // thread costs more than it saves. A batch goes to the check pool so
    // that it does not hold up the other requests of this worker.
    // The canonical bytes and event hashes are computed here too, where
    // requests run in parallel, rather than by the single writer.
    // Each event is serialised once: its signing message is cut from its
    // canonical bytes.
    let check = move |verifier: &BatchVerifier| {
        let hashed: Vec<HashedEvent> = events.into_iter().map(HashedEvent::new).collect();
        let outcomes = verify_events(&registry, verifier, &hashed, &retries);
        (hashed, outcomes)
    };
    let (events, outcomes) = if in_batch {
        let state = state.clone();
        let shared = state.clone();
        state
            .checks
            .run(move || check(&shared.signatures))
            .await
            .map_err(|e| ApiError::internal("verifying signatures", &e))?
    } else {
        check(&state.signatures)
    };
    let under = |err: ApiError, i: usize| {
        if in_batch {
            err.under(&format!("/events/{i}"))
        } else {
            err
        }
    };
    let mut keys = Vec::with_capacity(events.len());
    for (i, (event, outcome)) in events.iter().zip(outcomes).enumerate() {
        match outcome {
            Ok(key) => keys.push(key),
            Err(r) => {
                if !already_appended(state, event.event())
                    .await
                    .map_err(|e| under(e, i))?
                {
                    return Err(under(registry_error(&r), i));
                }
                keys.push(None);
            }
        }
    }
    let key_ids: Vec<_> = events
        .iter()
        .map(|e| e.event().body.key_id.clone())
        .collect();
    let done = state.sequencer.append(events, keys).await.map_err(|e| {
        // Name the first event the refusal concerns.
        let index = match &e {
            AppendError::Rejected(r) => refused_key(r)
                .and_then(|k| key_ids.iter().position(|id| id == k))
                .unwrap_or(0),
            _ => 0,
        };
        under(append_error(e), index)
    })?;
    Ok((done.receipts, done.appended))
}

fn finish(
    state: &AppState,
    started: Instant,
    result: ApiResult<(Vec<daicho_core::receipt::Receipt>, u64)>,
    ok: impl FnOnce(Vec<daicho_core::receipt::Receipt>, bool) -> Response,
) -> Response {
    match result {
        Ok((receipts, appended)) => {
            state.metrics.record_append(appended, started.elapsed());
            ok(receipts, appended > 0)
        }
        Err(e) => {
            state.metrics.record_refusal(started.elapsed());
            e.into_response()
        }
    }
}

/// Lists entries in seq order, a page at a time.
#[utoipa::path(
    get, path = "/v1/events", tag = "events", operation_id = "list_events",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of entries", body = EntryPage),
        (status = 400, description = "Invalid parameter", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong token", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read events", body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_events(
    _auth: Authorized<ReadEvents>,
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<EntryPage>> {
    let limit = q.limit.unwrap_or(100).clamp(1, state.limits.max_page);
    let from = match q.after {
        Some(Position(a)) => a + 1,
        None => 0,
    };
    // After the largest position there is nothing, and the store could not
    // even take the number.
    let rows = if i64::try_from(from).is_err() {
        Vec::new()
    } else {
        state
            .store
            .entries(from, u32::try_from(limit).unwrap_or(u32::MAX))
            .await
            .map_err(|e| ApiError::internal("reading entries", &e))?
    };
    // A full page has a next one, which may turn out empty: asking the
    // database is the only way to know, and with several processes on one
    // database this process's view of the size may be behind.
    let next_after = rows
        .last()
        .map(|e| e.entry.seq)
        .filter(|_| rows.len() as u64 == limit);
    Ok(Json(EntryPage {
        entries: rows.into_iter().map(EntryView::from).collect(),
        next: next_after.map(|a| format!("/v1/events?after={a}&limit={limit}")),
        next_after,
    }))
}

/// One entry by its seq.
#[utoipa::path(
    get, path = "/v1/events/{seq}", tag = "events", operation_id = "get_event",
    params(("seq" = u64, Path, description = "The entry's position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entry", body = EntryView),
        (status = 401, description = "Missing or wrong token", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read events", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry", body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_event(
    _auth: Authorized<ReadEvents>,
    State(state): State<AppState>,
    Path(Position(seq)): Path<Position>,
    _query: Query<NoQuery>,
) -> ApiResult<Json<EntryView>> {
    let entry = state
        .store
        .entry(seq)
        .await
        .map_err(|e| ApiError::internal("reading an entry", &e))?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(Json(entry.into()))
}

/// One entry by its event id.
#[utoipa::path(
    get, path = "/v1/events/by-id/{event_id}", tag = "events", operation_id = "get_event_by_id",
    params(("event_id" = String, Path, description = "The event's UUID, lowercase hyphenated")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entry", body = EntryView),
        (status = 400, description = "Not a canonical UUID", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong token", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read events", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry", body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_event_by_id(
    _auth: Authorized<ReadEvents>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    _query: Query<NoQuery>,
) -> ApiResult<Json<EntryView>> {
    let id = EventId::parse(&id).map_err(|m| {
        ApiError::new(ErrorCode::InvalidParameter)
            .detail(m)
            .at("event_id", m)
    })?;
    let entry = state
        .store
        .entry_by_event_id(&id)
        .await
        .map_err(|e| ApiError::internal("reading an entry", &e))?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(Json(entry.into()))
}
