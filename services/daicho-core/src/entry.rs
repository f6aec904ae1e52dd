//! Ledger entries and the hash chain (FORMAT.md §6).

use serde::{Deserialize, Serialize};

use crate::event::{HashedEvent, SignedEvent};
use crate::hash::{leaf_hash, Digest};
use crate::jcs;
use crate::timestamp::RecordedAt;

/// One position of the ledger. Its hash is both the chain link the next
/// entry names and the Merkle leaf at index `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// 0-based position; the Merkle leaf index.
    pub seq: u64,
    /// The ledger's clock when the entry was sequenced; never goes backwards.
    pub recorded_at: RecordedAt,
    /// SHA-256 of the JCS of the signed event.
    pub event_hash: Digest,
    /// The entry hash of entry `seq - 1`; all zeros for the genesis entry.
    pub prev_hash: Digest,
}

impl Entry {
    /// The entry hash: the RFC 9162 leaf hash `SHA-256(0x00 || JCS(entry))`
    /// (FORMAT.md §6.2).
    pub fn hash(&self) -> Digest {
        leaf_hash(&self.canonical_bytes())
    }

    /// The JCS of the entry. An entry has one fixed layout whose values
    /// need no escaping (hex digests, a timestamp of digits and `-:.TZ`, an
    /// integer), so it is written directly rather than through a JSON
    /// value, which costs the single writer a few microseconds per entry; a
    /// `seq` beyond 2^53, where JCS number formatting takes over, goes the
    /// general way. Property tests hold the two equal.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        use std::io::Write as _;
        if self.seq >= 1 << 53 {
            return jcs::canonicalize_own(self);
        }
        let mut out = Vec::with_capacity(192);
        out.extend_from_slice(b"{\"event_hash\":\"");
        out.extend_from_slice(&self.event_hash.hex_ascii());
        out.extend_from_slice(b"\",\"prev_hash\":\"");
        out.extend_from_slice(&self.prev_hash.hex_ascii());
        out.extend_from_slice(b"\",\"recorded_at\":\"");
        write!(out, "{}\",\"seq\":{}}}", self.recorded_at, self.seq).expect("writing to a Vec");
        out
    }
}

/// An entry with the event it records: what the ledger builder stages, what
/// a store returns, what a bundle's entry line holds, and what a projection
/// folds over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The entry, with its `event_hash` as its source gives it: computed
    /// when staged, read back from a store or a bundle line, where a
    /// verifier compares it with the hash of `bytes`.
    pub entry: Entry,
    /// The entry hash (the Merkle leaf): computed when staged or read from
    /// a bundle line, as stored when read from a store.
    pub hash: Digest,
    /// The signed event.
    pub event: SignedEvent,
    /// The event's canonical (JCS) bytes, exactly as signed and stored.
    pub bytes: Vec<u8>,
}

impl Recorded {
    /// Chains an already hashed event at `seq` after `prev_hash`.
    pub fn chain(
        seq: u64,
        recorded_at: RecordedAt,
        prev_hash: Digest,
        event: HashedEvent,
    ) -> Recorded {
        let entry = Entry {
            seq,
            recorded_at,
            event_hash: event.hash(),
            prev_hash,
        };
        let hash = entry.hash();
        let (event, bytes) = event.into_parts();
        Recorded {
            entry,
            hash,
            event,
            bytes,
        }
    }

    /// The entry's position.
    pub fn seq(&self) -> u64 {
        self.entry.seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn direct_jcs_matches_the_general_path(
            seq in prop_oneof![0u64..1000, Just((1 << 53) - 1), Just(1 << 53), any::<u64>()],
            micros in prop_oneof![
                Just(0i64),
                -62_135_596_800_000_000i64..253_402_300_799_999_999,
                any::<i64>(),
            ],
            event_hash in any::<[u8; 32]>(),
            prev_hash in any::<[u8; 32]>(),
        ) {
            let Ok(recorded_at) = RecordedAt::from_unix_micros(micros) else {
                return Ok(());
            };
            let entry = Entry {
                seq,
                recorded_at,
                event_hash: Digest(event_hash),
                prev_hash: Digest(prev_hash),
            };
            prop_assert_eq!(entry.canonical_bytes(), jcs::canonicalize_own(&entry));
        }
    }
}
