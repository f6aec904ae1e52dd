//! One receipt, verified offline (FORMAT.md §9): the entry hash, the
//! checkpoint under the trusted ledger key, the inclusion proof, and, if
//! the auditor has it, that the event is the one the entry records.

use daicho_core::checkpoint::Checkpoint;
use daicho_core::event::SignedEvent;
use daicho_core::jcs;
use daicho_core::keys::NoteVerifier;
use daicho_core::receipt::{Receipt, ReceiptError};

/// The receipt or event file is not what it should be; nothing was checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptFileError {
    /// Not a receipt.
    #[error("not a receipt: {0}")]
    Receipt(String),
    /// Not a signed event.
    #[error("not a signed event: {0}")]
    Event(String),
}

/// Checks a receipt given as JSON text, with an optional signed event given
/// as JSON text. `Err` when a file cannot be read as what it should be;
/// `Ok(Err(_))` when it reads but does not verify.
pub fn check_receipt(
    receipt: &[u8],
    event: Option<&[u8]>,
    ledger_key: &NoteVerifier,
) -> Result<Result<Checkpoint, ReceiptError>, ReceiptFileError> {
    let value = jcs::parse(receipt).map_err(|e| ReceiptFileError::Receipt(e.to_string()))?;
    let receipt: Receipt =
        serde_json::from_value(value).map_err(|e| ReceiptFileError::Receipt(e.to_string()))?;
    let event = event
        .map(SignedEvent::parse)
        .transpose()
        .map_err(|e| ReceiptFileError::Event(e.to_string()))?;
    Ok(receipt.verify(ledger_key, event.as_ref()))
}
