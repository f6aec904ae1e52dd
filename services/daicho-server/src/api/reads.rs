//! Checkpoints, proofs, the key registry and the export.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use daicho_core::registry::Registry;
use futures_util::TryStreamExt as _;

use crate::api::bad_param;
use crate::api::schemas::{
    ConsistencyProof, ConsistencyQuery, InclusionProof, InclusionQuery, KeysQuery, KeysView,
};
use crate::app::AppState;
use crate::auth::{
    Authorized, Export, ReadCheckpoints, ReadKeys, ReadLatestCheckpoint, ReadProofs,
};
use crate::bundle::bundle_stream_with;
use crate::extract::{NoQuery, Path, Position, Query};
use crate::problem::{ApiError, ApiResult, ErrorCode};

fn note(text: String) -> Response {
    ([(CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// The latest signed checkpoint (C2SP tlog-checkpoint signed note).
#[utoipa::path(
    get, path = "/v1/checkpoint", tag = "checkpoints", operation_id = "latest_checkpoint",
    security(("bearer" = []), ()),
    responses(
        (status = 200, description = "The signed note", body = String, content_type = "text/plain"),
        (status = 401, description = "Missing or wrong token (unless the checkpoint is public)"),
    )
)]
pub async fn latest_checkpoint(
    _auth: Authorized<ReadLatestCheckpoint>,
    State(state): State<AppState>,
    _query: Query<NoQuery>,
) -> ApiResult<Response> {
    let snapshot = state.sequencer.snapshot();
    // With witnesses configured, the newest checkpoint they cosigned is
    // served with their cosignatures (FORMAT.md §7.3).
    Ok(note(
        state
            .witnesses
            .cosigned_note(snapshot.size)
            .unwrap_or_else(|| snapshot.checkpoint.clone()),
    ))
}

/// The signed checkpoint of one tree size, where the ledger kept one (one
/// per commit).
#[utoipa::path(
    get, path = "/v1/checkpoints/{size}", tag = "checkpoints", operation_id = "checkpoint_at",
    params(("size" = u64, Path, minimum = 0, maximum = 9007199254740991.0, description = "The tree size")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed note", body = String, content_type = "text/plain"),
        (status = 400, description = "Not a tree size"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The role may not read checkpoints"),
        (status = 404, description = "No checkpoint of that size was kept"),
    )
)]
pub async fn checkpoint_at(
    _auth: Authorized<ReadCheckpoints>,
    State(state): State<AppState>,
    Path(Position(size)): Path<Position>,
    _query: Query<NoQuery>,
) -> ApiResult<Response> {
    let found = state
        .store
        .checkpoint_at(size)
        .await
        .map_err(|e| ApiError::store("reading a checkpoint", &e))?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(note(found))
}

/// An inclusion proof of entry `seq` in the tree of size `size`.
#[utoipa::path(
    get, path = "/v1/proofs/inclusion", tag = "proofs", operation_id = "inclusion_proof",
    params(InclusionQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The proof", body = InclusionProof),
        (status = 400, description = "seq or size out of range"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The role may not read proofs"),
    )
)]
pub async fn inclusion_proof(
    _auth: Authorized<ReadProofs>,
    State(state): State<AppState>,
    Query(q): Query<InclusionQuery>,
) -> ApiResult<Json<InclusionProof>> {
    let snapshot = state.sequencer.snapshot();
    let seq = q.seq.0;
    let size = q.size.map_or(snapshot.size, |s| s.0);
    if size > snapshot.size {
        return Err(bad_param(
            "size",
            format!("the ledger has {} entries", snapshot.size),
        ));
    }
    if seq >= size {
        return Err(bad_param("seq", format!("must be below size {size}")));
    }
    let (leaf, hashes) = snapshot
        .inclusion_proof(seq, size)
        .map_err(|e| bad_param("seq", e.to_string()))?;
    let checkpoint = state
        .store
        .checkpoint_at(size)
        .await
        .map_err(|e| ApiError::store("reading a checkpoint", &e))?;
    Ok(Json(InclusionProof {
        seq,
        size,
        leaf_hash: leaf.to_base64(),
        hashes: hashes.iter().map(|h| h.to_base64()).collect(),
        checkpoint,
    }))
}

/// A consistency proof between two tree sizes.
#[utoipa::path(
    get, path = "/v1/proofs/consistency", tag = "proofs", operation_id = "consistency_proof",
    params(ConsistencyQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The proof", body = ConsistencyProof),
        (status = 400, description = "from or to out of range"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The role may not read proofs"),
    )
)]
pub async fn consistency_proof(
    _auth: Authorized<ReadProofs>,
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyProof>> {
    let snapshot = state.sequencer.snapshot();
    let from = q.from.0;
    let to = q.to.map_or(snapshot.size, |t| t.0);
    if to > snapshot.size {
        return Err(bad_param(
            "to",
            format!("the ledger has {} entries", snapshot.size),
        ));
    }
    if from == 0 || from > to {
        return Err(bad_param("from", format!("must be between 1 and {to}")));
    }
    let hashes = snapshot
        .consistency_proof(from, to)
        .map_err(|e| bad_param("from", e.to_string()))?;
    Ok(Json(ConsistencyProof {
        from,
        to,
        hashes: hashes.iter().map(|h| h.to_base64()).collect(),
    }))
}

/// The key registry now, or as it was after entry `as_of`.
#[utoipa::path(
    get, path = "/v1/keys", tag = "keys", operation_id = "list_keys",
    params(KeysQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The registry", body = KeysView),
        (status = 400, description = "as_of beyond the ledger"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The role may not read keys"),
    )
)]
pub async fn list_keys(
    _auth: Authorized<ReadKeys>,
    State(state): State<AppState>,
    Query(q): Query<KeysQuery>,
) -> ApiResult<Json<KeysView>> {
    let snapshot = state.sequencer.snapshot();
    let head = snapshot.size.saturating_sub(1);
    let (as_of, registry) = match q.as_of.map(|a| a.0) {
        None => (head, (*snapshot.registry).clone()),
        Some(a) if a > head => {
            return Err(bad_param("as_of", format!("the last entry is {head}")));
        }
        Some(a) => (a, registry_as_of(&state, a).await?),
    };
    Ok(Json(KeysView {
        as_of,
        ledger_key: registry.ledger_key().to_string(),
        keys: registry.keys().cloned().collect(),
    }))
}

/// The registry as of entry `as_of`, replayed from the stored registry
/// entries by the sequencer.
async fn registry_as_of(state: &AppState, as_of: u64) -> ApiResult<Registry> {
    state
        .sequencer
        .registry_as_of(as_of)
        .await
        .map_err(|e| ApiError::internal("replaying the registry", &e))
}

/// The export bundle (FORMAT.md §10), streamed: entries up to the latest
/// checkpoint, then the stored checkpoints.
#[utoipa::path(
    get, path = "/v1/export", tag = "export", operation_id = "export_bundle",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The bundle, one canonical JSON object per line", body = String, content_type = "application/jsonl"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The role may not export"),
    )
)]
pub async fn export_bundle(
    _auth: Authorized<Export>,
    State(state): State<AppState>,
    _query: Query<NoQuery>,
) -> ApiResult<Response> {
    // The header names the genesis key, the one an auditor trusts; a
    // rotation is read from the entries (FORMAT.md §8.5).
    let ledger_key = state
        .sequencer
        .snapshot()
        .registry
        .genesis_ledger_key()
        .clone();
    // The latest stored checkpoint, not this process's view: with several
    // processes on one database, another may have appended since.
    let size = state
        .store
        .latest_checkpoint()
        .await
        .map_err(|e| ApiError::store("reading the latest checkpoint", &e))?
        .map_or(0, |c| c.size);
    let newest = state.witnesses.cosigned_note(size);
    let stream = bundle_stream_with(state.store.clone(), &ledger_key, size, newest).map_err(|e| {
        // The status line is already sent: log, and cut the stream so that
        // the client sees a truncated (and therefore failing) bundle.
        tracing::error!(error = %e, "export stream failed");
        std::io::Error::other("export failed")
    });
    Ok((
        [(CONTENT_TYPE, "application/jsonl")],
        Body::from_stream(stream),
    )
        .into_response())
}
