//! The properties every parser of daicho-core keeps on any input: it never
//! panics, and it never accepts a text that the strict JSON parser
//! (FORMAT.md §1.1) refuses. The `cargo fuzz` targets in `fuzz_targets/`
//! and the property tests in `services/daicho-core/tests/fuzz_properties.rs`
//! both run these functions, so the two check the same thing.
#![allow(dead_code)]

use daicho_core::bundle::{self, Line};
use daicho_core::checkpoint::Checkpoint;
use daicho_core::event::SignedEvent;
use daicho_core::jcs;
use daicho_core::keys::NoteVerifier;
use daicho_core::receipt::Receipt;

/// The verifier key of `tests/vectors/`, so that the seed corpus's notes
/// and receipts reach the code behind a valid signature.
pub const VECTORS_VERIFIER: &str =
    "daicho.test/vectors+275ff2a0+AQvi/nIOVWU2ZHu8Wka02xADI/wbz/lxOJAqOSd/4/hh";

/// The strict parser refuses everything serde_json refuses; what it
/// accepts canonicalises to a text that parses and is its own canonical
/// form. (The canonical text may be another `Value`: RFC 8785 writes `-0.0`
/// as `0`.)
pub fn jcs(data: &[u8]) {
    let strict = jcs::parse(data);
    if serde_json::from_slice::<serde_json::Value>(data).is_err() {
        assert!(
            strict.is_err(),
            "strict parser accepted what serde_json refuses"
        );
    }
    let Ok(value) = strict else { return };
    let canonical = jcs::canonicalize_value(&value);
    let again = jcs::parse(&canonical).expect("the canonical form parses");
    assert_eq!(
        jcs::canonicalize_value(&again),
        canonical,
        "canonicalising is not idempotent"
    );
    assert_eq!(
        jcs::canonicalize_text(data).as_deref(),
        Ok(canonical.as_slice())
    );
}

/// A signed envelope is accepted only if it is strict JSON, and the
/// envelope accepted survives its own canonical form.
pub fn event(data: &[u8]) {
    let Ok(event) = SignedEvent::parse(data) else {
        return;
    };
    assert!(
        jcs::parse(data).is_ok(),
        "an event accepted outside strict JSON"
    );
    let canonical = jcs::canonicalize(&event);
    let again = SignedEvent::parse(&canonical).expect("an accepted event's canonical form parses");
    assert_eq!(again, event);
}

/// A bundle line is accepted only if it is strict JSON in canonical form;
/// the spans of an entry line cut out exactly the event it holds.
pub fn bundle_line(data: &[u8]) {
    let Ok((line, spans)) = bundle::parse_line_with_spans(data) else {
        return;
    };
    let value = jcs::parse(data).expect("a line accepted outside strict JSON");
    assert_eq!(
        jcs::canonicalize_value(&value),
        data,
        "a line accepted outside canonical form"
    );
    assert_eq!(bundle::parse_line(data).ok(), Some(line.clone()));
    if let (Line::Entry(entry), Some(spans)) = (&line, spans) {
        let event = SignedEvent::parse(spans.event_bytes(data)).expect("the event span parses");
        assert_eq!(event, entry.event);
    }
}

/// A checkpoint note: opening never panics; a body that parses prints back
/// byte for byte, so one checkpoint has one body.
pub fn checkpoint_note(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let verifier = NoteVerifier::parse(VECTORS_VERIFIER).expect("the vectors' key");
    if let Ok(cp) = Checkpoint::open(text, &verifier) {
        assert_eq!(cp.origin, verifier.name());
    }
    if let Ok(cp) = Checkpoint::parse_body(text) {
        assert_eq!(cp.body(), text, "a body accepted in a second spelling");
    }
}

/// A receipt, read as the verifier reads one (strict JSON, then its shape),
/// verifies or fails without panicking.
pub fn receipt(data: &[u8]) {
    let Ok(value) = jcs::parse(data) else { return };
    let Ok(receipt) = serde_json::from_value::<Receipt>(value) else {
        return;
    };
    let verifier = NoteVerifier::parse(VECTORS_VERIFIER).expect("the vectors' key");
    let _ = receipt.verify(&verifier, None);
}
