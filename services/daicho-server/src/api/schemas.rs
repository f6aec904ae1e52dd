//! Response bodies and their OpenAPI schemas.
//!
//! Most responses are the core's own types (receipts, entries, key
//! records), serialised exactly as they are hashed and verified; those
//! types do no HTTP and carry no OpenAPI derive, so the `*Doc` structs here
//! describe their JSON for the OpenAPI document only. The golden test on
//! `openapi/openapi.json` and the API tests keep the two in step.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::extract::Position;

/// A ledger entry as the core hashes it (FORMAT.md §6).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct EntryDoc {
    /// 0-based position; the Merkle leaf index.
    seq: u64,
    /// When the ledger sequenced it: UTC, microseconds, `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    #[schema(example = "2026-04-01T00:30:00.123456Z")]
    recorded_at: String,
    /// SHA-256 of the canonical signed event, lowercase hex.
    event_hash: String,
    /// The previous entry's hash, lowercase hex (zeros for seq 0).
    prev_hash: String,
}

/// A receipt (FORMAT.md §9): verifiable offline with the ledger's public key.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ReceiptDoc {
    /// Always `daicho-receipt/v1`.
    #[schema(example = "daicho-receipt/v1")]
    format: String,
    /// The entry.
    entry: EntryDoc,
    /// The entry hash (the Merkle leaf), lowercase hex.
    entry_hash: String,
    /// The inclusion proof of the entry in the checkpoint's tree, base64 hashes.
    inclusion: Vec<String>,
    /// The signed checkpoint note (C2SP tlog-checkpoint) that covers the entry.
    checkpoint: String,
}

/// The receipts of a batch, in the order of the request's events.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchReceipts {
    /// One receipt per event.
    #[schema(value_type = Vec<ReceiptDoc>)]
    pub receipts: Vec<daicho_core::receipt::Receipt>,
}

/// The body of `POST /v1/events/batch`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct BatchRequest {
    /// The signed events; all are appended or none. At most `--max-batch`
    /// (default 1000); more are refused with 422.
    #[schema(value_type = Vec<SignedEventDoc>, min_items = 1)]
    events: Vec<Value>,
}

/// A signed event envelope (FORMAT.md §5). Unknown fields are refused.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SignedEventDoc {
    /// The submitter's UUID (lowercase, hyphenated); the idempotency key.
    #[schema(
        format = "uuid",
        pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    event_id: String,
    /// The event type, e.g. `usb.approval.granted`.
    #[schema(rename = "type")]
    event_type: String,
    /// The version of the type's payload schema.
    schema_version: u32,
    /// When the act happened: RFC 3339 with an offset.
    #[schema(example = "2026-04-01T09:30:00+09:00")]
    occurred_at: String,
    /// Who performed the act: `{ "id": …, "role": … }` with a catalogue role.
    actor: Object,
    /// The submitting system; must be the signing key's registered holder.
    source: String,
    /// The type-specific content, checked against the type's JSON Schema.
    payload: Object,
    /// The signing key's id (32 lowercase hex characters).
    key_id: String,
    /// Ed25519 signature, standard base64 (FORMAT.md §5.3).
    signature: String,
}

/// A free-form JSON object.
#[derive(Debug, ToSchema)]
#[schema(value_type = Object)]
pub struct Object(#[allow(dead_code)] Value);

/// An entry with its hash and signed event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    /// 0-based position.
    pub seq: u64,
    /// When the ledger sequenced it (UTC, microseconds).
    #[schema(value_type = String, example = "2026-04-01T00:30:00.123456Z")]
    pub recorded_at: daicho_core::timestamp::RecordedAt,
    /// SHA-256 of the canonical signed event, lowercase hex.
    #[schema(value_type = String)]
    pub event_hash: daicho_core::Digest,
    /// The previous entry's hash, lowercase hex.
    #[schema(value_type = String)]
    pub prev_hash: daicho_core::Digest,
    /// This entry's hash (the Merkle leaf), lowercase hex.
    #[schema(value_type = String)]
    pub entry_hash: daicho_core::Digest,
    /// The signed event, exactly as appended.
    #[schema(value_type = SignedEventDoc)]
    pub event: daicho_core::event::SignedEvent,
}

impl From<daicho_core::entry::Recorded> for EntryView {
    fn from(e: daicho_core::entry::Recorded) -> Self {
        EntryView {
            seq: e.entry.seq,
            recorded_at: e.entry.recorded_at,
            event_hash: e.entry.event_hash,
            prev_hash: e.entry.prev_hash,
            entry_hash: e.hash,
            event: e.event,
        }
    }
}

/// One page of entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryPage {
    /// Entries in seq order.
    pub entries: Vec<EntryView>,
    /// The cursor for the next page: pass it as `after`. Absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<u64>,
    /// The URL of the next page, relative to the service. Absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Query of `GET /v1/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Return entries with `seq > after` (omit for the first page).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9007199254740991.0)]
    pub after: Option<Position>,
    /// At most this many entries: 1 to `--max-page` (default 1000); 100
    /// when omitted.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// Query of `GET /v1/proofs/inclusion`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The entry.
    #[param(value_type = u64, minimum = 0, maximum = 9007199254740991.0)]
    pub seq: Position,
    /// The tree size to prove against (default: the latest checkpoint's).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 9007199254740991.0)]
    pub size: Option<Position>,
}

/// An RFC 9162 inclusion proof.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    /// The entry.
    pub seq: u64,
    /// The tree size.
    pub size: u64,
    /// The entry hash (the leaf), base64.
    pub leaf_hash: String,
    /// The proof's hashes, base64, leaf to root.
    pub hashes: Vec<String>,
    /// The signed checkpoint of that size, if the ledger kept one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// Query of `GET /v1/proofs/consistency`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size, at least 1.
    #[param(value_type = u64, minimum = 1, maximum = 9007199254740991.0)]
    pub from: Position,
    /// The newer tree size (default: the latest checkpoint's).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 9007199254740991.0)]
    pub to: Option<Position>,
}

/// An RFC 9162 consistency proof.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    /// The older size.
    pub from: u64,
    /// The newer size.
    pub to: u64,
    /// The proof's hashes, base64.
    pub hashes: Vec<String>,
}

/// Query of `GET /v1/keys`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KeysQuery {
    /// The registry as it was after the entry with this seq (default: now).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9007199254740991.0)]
    pub as_of: Option<Position>,
}

/// A key as the registry knows it.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct KeyRecordDoc {
    /// 32 lowercase hex characters.
    key_id: String,
    /// Base64 of the raw Ed25519 public key.
    public_key: String,
    /// The holder (source system, or administrator).
    source: String,
    /// `ledger`, `admin` or `source`.
    role: String,
    /// For a source key, the event types it may sign.
    types: Vec<String>,
    /// The seq of the entry that registered it (for a ledger key other
    /// than the genesis key, the rotation to it).
    registered_at: u64,
    /// The seq of the entry that revoked it, if any (for a ledger key, the
    /// rotation that retired it).
    revoked_at: Option<u64>,
}

/// The key registry at one point of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeysView {
    /// The registry includes every registry entry with `seq <= as_of`.
    pub as_of: u64,
    /// The ledger's C2SP verifier key as of `as_of`: the genesis key, or
    /// the last key the ledger rotated to (FORMAT.md §8.5).
    pub ledger_key: String,
    /// Every key, revoked ones included.
    #[schema(value_type = Vec<KeyRecordDoc>)]
    pub keys: Vec<daicho_core::registry::KeyRecord>,
}

/// `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: String,
    /// How the writer's last group commit went: `ok` (or none since
    /// start), `storage_unavailable` (the storage could not take it) or
    /// `failing` (another failure; the log says which).
    pub writer: String,
    /// Entries in the ledger.
    pub tree_size: u64,
    /// The database backend: `sqlite` or `postgres`.
    pub backend: String,
    /// Configured witnesses whose last exchange gave no cosignature. The
    /// service stays ready and keeps appending; their cosignatures follow
    /// once they answer again.
    pub witnesses_down: Vec<String>,
}
