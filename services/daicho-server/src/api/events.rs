//! The append endpoints and the entry reads.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use daicho_core::event::{EventId, SignedEvent};
use daicho_core::jcs;
use daicho_core::keys::KeyId;
use daicho_core::receipt::Receipt;
use serde_json::Value;

use crate::admission::{self, Admitted};
use crate::api::schemas::{BatchReceipts, EntryPage, EntryView, PageQuery};
use crate::app::AppState;
use crate::auth::{Authorized, Backfill, ReadEvents};
use crate::extract::{JsonBytes, NoQuery, Path, Position, Query};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::sequencer::Receipts;

/// Strictly parses a JSON body.
fn parse_json(bytes: &[u8]) -> ApiResult<Value> {
    Ok(jcs::parse(bytes)?)
}

/// The envelope from a parsed value, with the pointer at fault on error.
fn envelope(value: Value) -> ApiResult<SignedEvent> {
    Ok(SignedEvent::from_value(value)?)
}

/// The page size of `GET /v1/events` when the request names none.
const DEFAULT_PAGE: u64 = 100;

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
        (status = 400, description = "Malformed JSON"),
        (status = 403, description = "The signature does not authorise the event (unknown or revoked key, type out of scope, bad signature)"),
        (status = 409, description = "The event id was used for different content"),
        (status = 413, description = "Body too large"),
        (status = 415, description = "Not application/json"),
        (status = 422, description = "Invalid envelope or payload; `errors` lists every fault with its JSON pointer"),
        (status = 503, description = "Shutting down, database unavailable, or its storage full (`storage_unavailable`, with `Retry-After`)"),
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
        let admitted = admission::admit(&state, vec![event], false, false).await?;
        append(&state, admitted).await
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
        (status = 400, description = "Malformed JSON"),
        (status = 403, description = "An event's signature does not authorise it"),
        (status = 409, description = "An event id was used for different content"),
        (status = 413, description = "Body too large"),
        (status = 415, description = "Not application/json"),
        (status = 422, description = "An invalid event, or no events, or too many"),
        (status = 503, description = "Shutting down, database unavailable, or its storage full (`storage_unavailable`, with `Retry-After`)"),
    )
)]
pub async fn append_batch(
    State(state): State<AppState>,
    query: Result<Query<NoQuery>, ApiError>,
    body: Result<JsonBytes, ApiError>,
) -> Response {
    batch(state, query, body, false).await
}

/// A batch request: admitted (with the window's past bound lifted for a
/// backfill), appended atomically, and answered with its receipts.
async fn batch(
    state: AppState,
    query: Result<Query<NoQuery>, ApiError>,
    body: Result<JsonBytes, ApiError>,
    backfill: bool,
) -> Response {
    let started = Instant::now();
    let result = async {
        query?;
        let JsonBytes(bytes) = body?;
        let events = batch_events(&state, &bytes)?;
        let admitted = admission::admit(&state, events, true, backfill).await?;
        append(&state, admitted).await
    }
    .await;
    finish(&state, started, result, |receipts, new| {
        (status_for(new), Json(BatchReceipts { receipts })).into_response()
    })
}

/// The signed events of a batch body `{"events": [...]}`.
fn batch_events(state: &AppState, bytes: &[u8]) -> ApiResult<Vec<SignedEvent>> {
    let value = parse_json(bytes)?;
    let Value::Object(mut map) = value else {
        return Err(ApiError::new(ErrorCode::InvalidRequest)
            .at("", "expected an object {\"events\": [...]}"));
    };
    if let Some(k) = map.keys().find(|k| k.as_str() != "events") {
        return Err(ApiError::new(ErrorCode::InvalidRequest).at(format!("/{k}"), "unknown field"));
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
    Ok(events)
}

/// Records acts that happened before the ledger's window, with their real
/// `occurred_at`: a city bringing its paper ledgers in (approvals granted
/// last fiscal year, open audit findings, registered devices). An
/// administrator's token authorises it; each event is still signed by its
/// source's registered key and checked like any other, except that
/// `occurred_at` may lie any time before the ledger's clock. Every entry
/// keeps its own `recorded_at`, so an evaluation counts the backfilled acts
/// as recorded late.
#[utoipa::path(
    post, path = "/v1/events/backfill", tag = "events", operation_id = "append_backfill",
    request_body(content = crate::api::schemas::BatchRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Appended; one receipt per event, in order", body = BatchReceipts),
        (status = 200, description = "Every event was already appended; the original receipts", body = BatchReceipts),
        (status = 400, description = "Malformed JSON"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The role may not backfill, or an event's signature does not authorise it"),
        (status = 409, description = "An event id was used for different content"),
        (status = 413, description = "Body too large"),
        (status = 415, description = "Not application/json"),
        (status = 422, description = "An invalid event, or too many events"),
        (status = 503, description = "Shutting down or database unavailable"),
    )
)]
pub async fn append_backfill(
    _auth: Authorized<Backfill>,
    State(state): State<AppState>,
    query: Result<Query<NoQuery>, ApiError>,
    body: Result<JsonBytes, ApiError>,
) -> Response {
    batch(state, query, body, true).await
}

/// Counts the admitted events against their sources' rate limit, then
/// hands them to the sequencer as one request; its refusal names the first
/// event it concerns. A request over the limit reaches no writer.
///
/// Only events whose signature the door verified are counted. An event
/// whose key the door's registry snapshot does not know yet is left to the
/// sequencer, so its `source` is not yet vouched for and must not spend
/// that source's allowance; the same holds for an event the door refused
/// and then found already appended. A retry that passes the door counts
/// like any event: the door did its work.
async fn append(state: &AppState, admitted: Admitted) -> ApiResult<Receipts> {
    state.rate_limits.check_sources(
        admitted
            .events
            .iter()
            .zip(&admitted.verified_with)
            .filter(|(_, key)| key.is_some())
            .map(|(e, _)| e.event().body.source.as_str()),
        &state.metrics,
    )?;
    let in_batch = admitted.events.len() > 1;
    let key_ids: Vec<KeyId> = admitted
        .events
        .iter()
        .map(|e| e.event().body.key_id.clone())
        .collect();
    state
        .sequencer
        .append(admitted.events, admitted.verified_with)
        .await
        .map_err(|e| {
            let index = admission::refused_index(&e, &key_ids);
            admission::under(e.into(), index, in_batch)
        })
}

/// Records the request in the metrics and renders its response.
fn finish(
    state: &AppState,
    started: Instant,
    result: ApiResult<Receipts>,
    ok: impl FnOnce(Vec<Receipt>, bool) -> Response,
) -> Response {
    match result {
        Ok(Receipts { receipts, appended }) => {
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
        (status = 400, description = "Invalid parameter"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The token's role may not read events"),
    )
)]
pub async fn list_events(
    _auth: Authorized<ReadEvents>,
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<EntryPage>> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE.min(state.limits.max_page));
    if limit == 0 || limit > state.limits.max_page {
        return Err(ApiError::new(ErrorCode::InvalidParameter)
            .detail(format!(
                "limit: must be between 1 and {}",
                state.limits.max_page
            ))
            .at(
                "limit",
                format!("must be between 1 and {}", state.limits.max_page),
            ));
    }
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
            .map_err(|e| ApiError::store("reading entries", &e))?
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
    params(("seq" = u64, Path, minimum = 0, maximum = 9007199254740991.0, description = "The entry's position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entry", body = EntryView),
        (status = 400, description = "Not a position"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The token's role may not read events"),
        (status = 404, description = "No such entry"),
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
        .map_err(|e| ApiError::store("reading an entry", &e))?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(Json(entry.into()))
}

/// One entry by its event id.
#[utoipa::path(
    get, path = "/v1/events/by-id/{event_id}", tag = "events", operation_id = "get_event_by_id",
    params(("event_id" = String, Path, format = "uuid", pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", description = "The event's UUID, lowercase hyphenated")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entry", body = EntryView),
        (status = 400, description = "Not a canonical UUID"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The token's role may not read events"),
        (status = 404, description = "No such entry"),
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
        .map_err(|e| ApiError::store("reading an entry", &e))?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(Json(entry.into()))
}
