//! The export bundle: one UTF-8 JSONL file (FORMAT.md §10).
//!
//! Line 1 is the header, then one line per entry in seq order, then the
//! signed checkpoints. Every line is the RFC 8785 canonical form of its
//! object followed by `\n`, so that no byte of the file can differ from
//! what the verifier recomputes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entry::Entry;
use crate::event::{EventError, SignedEvent};
use crate::hash::Digest;
use crate::jcs::{self, JcsError};
use crate::timestamp::RecordedAt;

/// The bundle format tag.
pub const BUNDLE_FORMAT: &str = "daicho-bundle/v1";

/// The first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The ledger's origin.
    pub origin: String,
    /// The ledger's C2SP verifier key, for information: verifiers trust the
    /// key they are given, not this one.
    pub ledger_key: String,
}

/// An entry line: the entry's fields and the signed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryLine {
    /// The entry (its `event_hash` as stored, to be checked by recomputation).
    pub entry: Entry,
    /// The signed event.
    pub event: SignedEvent,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFields {
    seq: u64,
    recorded_at: RecordedAt,
    event_hash: Digest,
    prev_hash: Digest,
}

#[derive(Serialize)]
struct EntryLineOut<'a> {
    seq: u64,
    recorded_at: RecordedAt,
    event_hash: Digest,
    prev_hash: Digest,
    event: &'a SignedEvent,
}

/// A checkpoint line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointLine {
    /// The signed checkpoint note.
    pub checkpoint: String,
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// The header.
    Header(Header),
    /// An entry.
    Entry(Box<EntryLine>),
    /// A checkpoint.
    Checkpoint(CheckpointLine),
}

/// Why a line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Not strict JSON.
    #[error(transparent)]
    Json(#[from] JcsError),
    /// JSON, but not in canonical form.
    #[error("the line is not in RFC 8785 canonical form")]
    NotCanonical,
    /// Not a header, entry or checkpoint object.
    #[error("{message} (at {pointer:?})")]
    Shape {
        /// RFC 6901 pointer into the line's object.
        pointer: String,
        /// What is wrong.
        message: String,
    },
}

impl From<EventError> for LineError {
    fn from(e: EventError) -> Self {
        match e {
            EventError::Json(j) => LineError::Json(j),
            EventError::Shape { pointer, message } => LineError::Shape {
                pointer: format!("/event{pointer}"),
                message,
            },
        }
    }
}

fn shape(pointer: &str, message: impl ToString) -> LineError {
    LineError::Shape {
        pointer: pointer.to_owned(),
        message: message.to_string(),
    }
}

/// Parses one line (without its `\n`).
pub fn parse_line(bytes: &[u8]) -> Result<Line, LineError> {
    let value = jcs::parse(bytes)?;
    if jcs::canonicalize_value(&value) != bytes {
        return Err(LineError::NotCanonical);
    }
    let Value::Object(mut map) = value else {
        return Err(shape("", "a line is a JSON object"));
    };
    if map.contains_key("format") {
        return serde_json::from_value(Value::Object(map))
            .map(Line::Header)
            .map_err(|e| shape("", e));
    }
    if map.contains_key("checkpoint") {
        return serde_json::from_value(Value::Object(map))
            .map(Line::Checkpoint)
            .map_err(|e| shape("", e));
    }
    if map.contains_key("seq") {
        let event = map
            .remove("event")
            .ok_or_else(|| shape("/event", "missing field"))?;
        let event = SignedEvent::from_value(event)?;
        let f: EntryFields = serde_path_to_error::deserialize(Value::Object(map))
            .map_err(|e| shape(&crate::event::path_to_pointer(e.path()), e.inner()))?;
        return Ok(Line::Entry(Box::new(EntryLine {
            entry: Entry {
                seq: f.seq,
                recorded_at: f.recorded_at,
                event_hash: f.event_hash,
                prev_hash: f.prev_hash,
            },
            event,
        })));
    }
    Err(shape(
        "",
        "a line is a header (format), an entry (seq) or a checkpoint (checkpoint)",
    ))
}

fn line<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = jcs::canonicalize(v);
    out.push(b'\n');
    out
}

/// The header line.
pub fn header_line(header: &Header) -> Vec<u8> {
    line(header)
}

/// An entry line.
pub fn entry_line(entry: &Entry, event: &SignedEvent) -> Vec<u8> {
    line(&EntryLineOut {
        seq: entry.seq,
        recorded_at: entry.recorded_at,
        event_hash: entry.event_hash,
        prev_hash: entry.prev_hash,
        event,
    })
}

/// A checkpoint line.
pub fn checkpoint_line(note: &str) -> Vec<u8> {
    line(&CheckpointLine {
        checkpoint: note.to_owned(),
    })
}
