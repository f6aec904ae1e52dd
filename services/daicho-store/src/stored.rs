//! The stored form of an entry and its conversion from and to rows.
//!
//! An entry is stored with its entry hash (the Merkle leaf) and the signed
//! event as its canonical bytes exactly, so its hash is reproducible from
//! the database alone; it is read back as the core's [`Recorded`].

use daicho_core::entry::{Entry, Recorded};
use daicho_core::event::{EventId, SignedEvent};
use daicho_core::timestamp::RecordedAt;
use daicho_core::Digest;

use crate::StoreError;

/// The columns every entry query selects, in the order of [`EntryRow`].
pub(crate) const ENTRY_COLUMNS: &str = "seq, recorded_at, event_hash, prev_hash, entry_hash, event";

/// An entry row as both backends decode it.
pub(crate) type EntryRow = (i64, String, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

/// A row's column values ready to bind, computed once per entry.
pub(crate) struct EntryValues<'a> {
    pub seq: i64,
    pub recorded_at: String,
    pub event_hash: Vec<u8>,
    pub prev_hash: Vec<u8>,
    pub entry_hash: Vec<u8>,
    /// The event id: a uuid (bound as its text) in PostgreSQL's column, 16
    /// bytes in SQLite's.
    pub event_id: &'a EventId,
    pub event_type: String,
    /// The canonical bytes of the signed event.
    pub event: &'a [u8],
}

impl<'a> EntryValues<'a> {
    /// The values of an entry, its event's canonical bytes borrowed.
    pub(crate) fn of(recorded: &'a Recorded) -> Result<EntryValues<'a>, StoreError> {
        let Recorded {
            entry,
            hash,
            event,
            bytes,
        } = recorded;
        Ok(EntryValues {
            seq: to_i64(entry.seq)?,
            recorded_at: entry.recorded_at.to_string(),
            event_hash: entry.event_hash.0.to_vec(),
            prev_hash: entry.prev_hash.0.to_vec(),
            entry_hash: hash.0.to_vec(),
            event_id: &event.body.event_id,
            event_type: event.body.event_type.as_str().to_owned(),
            event: bytes,
        })
    }
}

/// Converts a sequence number or size for a signed 64-bit column.
pub(crate) fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Conflict(format!("{n} is beyond the store's range")))
}

/// Reads a sequence number or size back from a signed 64-bit column.
pub(crate) fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt {
        seq: 0,
        reason: format!("negative number {n}"),
    })
}

pub(crate) fn digest(seq: u64, bytes: &[u8], column: &str) -> Result<Digest, StoreError> {
    Digest::from_slice(bytes).ok_or_else(|| StoreError::Corrupt {
        seq,
        reason: format!("{column} is not 32 bytes"),
    })
}

/// Decodes an entry row. The event bytes are parsed strictly, as they were
/// when the event was first accepted.
pub(crate) fn decode(row: EntryRow) -> Result<Recorded, StoreError> {
    let (seq, recorded_at, event_hash, prev_hash, entry_hash, event) = row;
    let seq = to_u64(seq)?;
    let corrupt = |reason: String| StoreError::Corrupt { seq, reason };
    let recorded_at =
        RecordedAt::parse(&recorded_at).map_err(|e| corrupt(format!("recorded_at: {e}")))?;
    let parsed = SignedEvent::parse(&event).map_err(|e| corrupt(format!("event: {e}")))?;
    Ok(Recorded {
        entry: Entry {
            seq,
            recorded_at,
            event_hash: digest(seq, &event_hash, "event_hash")?,
            prev_hash: digest(seq, &prev_hash, "prev_hash")?,
        },
        hash: digest(seq, &entry_hash, "entry_hash")?,
        event: parsed,
        bytes: event,
    })
}

pub(crate) fn decode_all(rows: Vec<EntryRow>) -> Result<Vec<Recorded>, StoreError> {
    rows.into_iter().map(decode).collect()
}
