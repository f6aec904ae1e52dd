//! Ledger entries and the hash chain (FORMAT.md §6).

use serde::{Deserialize, Serialize};

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
        leaf_hash(&jcs::canonicalize_own(self))
    }
}
