//! Receipts: what a submitter gets back for an appended event, verifiable
//! offline (FORMAT.md §9). Modelled on C2SP `tlog-proof`: the entry, an
//! inclusion proof and a signed checkpoint that covers it.

use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::entry::Entry;
use crate::event::SignedEvent;
use crate::hash::Digest;
use crate::keys::NoteVerifier;
use crate::merkle::{self, InclusionError};

/// The receipt format tag.
pub const RECEIPT_FORMAT: &str = "daicho-receipt/v1";

/// A receipt for one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`].
    pub format: String,
    /// The entry as the ledger recorded it.
    pub entry: Entry,
    /// The entry hash (recomputed by verifiers, never trusted).
    pub entry_hash: Digest,
    /// The inclusion proof of `entry.seq` in the checkpoint's tree, as
    /// base64 hashes.
    #[serde(with = "base64_digests")]
    pub inclusion: Vec<Digest>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

/// Why a receipt does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Not a receipt of this format.
    #[error("unknown receipt format {0:?}")]
    Format(String),
    /// The stated entry hash is not the entry's.
    #[error("entry hash mismatch: computed {computed}, receipt says {stated}")]
    EntryHash {
        /// From the entry.
        computed: Digest,
        /// From the receipt.
        stated: Digest,
    },
    /// The checkpoint does not open under the ledger key.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("inclusion proof: {0}")]
    Inclusion(#[from] InclusionError),
    /// The event given does not hash to the entry's event hash.
    #[error("event hash mismatch: the event hashes to {computed}, the entry records {stated}")]
    EventHash {
        /// From the event.
        computed: Digest,
        /// From the entry.
        stated: Digest,
    },
}

impl Receipt {
    /// Verifies everything offline: the entry hash, the checkpoint signature
    /// under `ledger_key`, the inclusion proof, and, if given, that `event`
    /// is the event the entry records. Returns the checkpoint.
    pub fn verify(
        &self,
        ledger_key: &NoteVerifier,
        event: Option<&SignedEvent>,
    ) -> Result<Checkpoint, ReceiptError> {
        if self.format != RECEIPT_FORMAT {
            return Err(ReceiptError::Format(self.format.clone()));
        }
        let computed = self.entry.hash();
        if computed != self.entry_hash {
            return Err(ReceiptError::EntryHash {
                computed,
                stated: self.entry_hash,
            });
        }
        let cp = Checkpoint::open(&self.checkpoint, ledger_key)?;
        merkle::verify_inclusion(
            self.entry.seq,
            cp.size,
            &computed,
            &self.inclusion,
            &cp.root,
        )?;
        if let Some(event) = event {
            let h = event.hash();
            if h != self.entry.event_hash {
                return Err(ReceiptError::EventHash {
                    computed: h,
                    stated: self.entry.event_hash,
                });
            }
        }
        Ok(cp)
    }
}

/// Serde for lists of digests as standard base64 strings, the encoding of
/// hashes in proofs (FORMAT.md §3.3).
pub mod base64_digests {
    use crate::hash::Digest;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises as a list of base64 strings.
    pub fn serialize<S: Serializer>(v: &[Digest], s: S) -> Result<S::Ok, S::Error> {
        /// One digest as a base64 string, written from the stack.
        struct Base64<'a>(&'a Digest);
        impl serde::Serialize for Base64<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let ascii = self.0.base64_ascii();
                s.serialize_str(std::str::from_utf8(&ascii).expect("base64 is ASCII"))
            }
        }
        s.collect_seq(v.iter().map(Base64))
    }
    /// Parses a list of base64 strings of 32 bytes each, in canonical padding.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Digest>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| {
                Digest::from_base64(s)
                    .filter(|h| h.to_base64() == *s)
                    .ok_or_else(|| serde::de::Error::custom("expected base64 of 32 bytes"))
            })
            .collect()
    }
}
