//! The stored form of an entry and its conversion from and to rows.

use std::borrow::Cow;

use daicho_core::entry::Entry;
use daicho_core::event::{EventId, SignedEvent};
use daicho_core::ledger::Appended;
use daicho_core::timestamp::RecordedAt;
use daicho_core::Digest;

use crate::StoreError;

/// One entry as stored: the entry, its hash (the Merkle leaf) and the
/// signed event it records. The event is stored as its canonical bytes
/// exactly, so its hash is reproducible from the database alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// The entry.
    pub entry: Entry,
    /// The entry hash.
    pub hash: Digest,
    /// The signed event.
    pub event: SignedEvent,
}

impl From<Appended> for StoredEntry {
    fn from(a: Appended) -> Self {
        StoredEntry {
            entry: a.entry,
            hash: a.hash,
            event: a.event,
        }
    }
}

impl From<&Appended> for StoredEntry {
    fn from(a: &Appended) -> Self {
        StoredEntry {
            entry: a.entry.clone(),
            hash: a.hash,
            event: a.event.clone(),
        }
    }
}

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
    pub event: Cow<'a, [u8]>,
}

impl<'a> EntryValues<'a> {
    /// The values of an entry; `bytes` are the event's canonical bytes if
    /// already at hand.
    pub(crate) fn of(
        entry: &Entry,
        hash: &Digest,
        event: &'a SignedEvent,
        bytes: Option<&'a [u8]>,
    ) -> Result<EntryValues<'a>, StoreError> {
        Ok(EntryValues {
            seq: to_i64(entry.seq)?,
            recorded_at: entry.recorded_at.to_string(),
            event_hash: entry.event_hash.0.to_vec(),
            prev_hash: entry.prev_hash.0.to_vec(),
            entry_hash: hash.0.to_vec(),
            event_id: &event.body.event_id,
            event_type: event.body.event_type.as_str().to_owned(),
            event: match bytes {
                Some(b) => Cow::Borrowed(b),
                None => Cow::Owned(event.canonical_bytes()),
            },
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
pub(crate) fn decode(row: EntryRow) -> Result<StoredEntry, StoreError> {
    let (seq, recorded_at, event_hash, prev_hash, entry_hash, event) = row;
    let seq = to_u64(seq)?;
    let corrupt = |reason: String| StoreError::Corrupt { seq, reason };
    let recorded_at =
        RecordedAt::parse(&recorded_at).map_err(|e| corrupt(format!("recorded_at: {e}")))?;
    let event = SignedEvent::parse(&event).map_err(|e| corrupt(format!("event: {e}")))?;
    Ok(StoredEntry {
        entry: Entry {
            seq,
            recorded_at,
            event_hash: digest(seq, &event_hash, "event_hash")?,
            prev_hash: digest(seq, &prev_hash, "prev_hash")?,
        },
        hash: digest(seq, &entry_hash, "entry_hash")?,
        event,
    })
}

pub(crate) fn decode_all(rows: Vec<EntryRow>) -> Result<Vec<StoredEntry>, StoreError> {
    rows.into_iter().map(decode).collect()
}
