//! The three byte strings an entry line is checked by, cut from the line
//! itself: the event's canonical bytes (what the event hash covers,
//! FORMAT.md §5.4), the signing message (§5.3) and the entry's canonical
//! bytes (what the entry hash covers, §6.2).
//!
//! Why cut instead of re-serialising: `bundle::parse_line` has already
//! proved that the line *is* the RFC 8785 canonical form of its object, and
//! the canonical form of an object contains the canonical form of each of
//! its members verbatim. The event is the line's first member (`event`
//! sorts before `event_hash`), the entry is the line without that member,
//! and the signing message is the event without its `signature` member.
//! Re-serialising them through the canonicaliser costs about as much as
//! parsing the line again, three times over; cutting costs nothing. Every
//! cut is confirmed against the bytes the parsed values must produce, and
//! if one ever fails (it cannot for a canonical line), the core's own
//! functions are used instead. The tests compare both ways on every line
//! they build.

use daicho_core::bundle::EntryLine;
use daicho_core::event::EVENT_SIGNATURE_CONTEXT;
use daicho_core::hash::leaf_hash;
use daicho_core::{jcs, Digest};

const EVENT_PREFIX: &[u8] = b"{\"event\":";

/// The event hash and the signing message of an entry line, and the entry
/// hash of the entry as stored. `line` must be the line `entry` was parsed
/// from by `bundle::parse_line`, without its `\n`.
pub fn hashes_and_message(line: &[u8], entry: &EntryLine) -> (Digest, Digest, Vec<u8>) {
    cut(line, entry).unwrap_or_else(|| {
        (
            entry.event.hash(),
            entry.entry.hash(),
            entry.event.body.signing_message(),
        )
    })
}

/// The event hash and the signing message; see [`hashes_and_message`].
pub fn hash_and_message(line: &[u8], entry: &EntryLine) -> (Digest, Vec<u8>) {
    let (event_hash, _, message) = hashes_and_message(line, entry);
    (event_hash, message)
}

fn cut(line: &[u8], line_value: &EntryLine) -> Option<(Digest, Digest, Vec<u8>)> {
    let e = &line_value.entry;
    // `,"event_hash":...,"seq":N}`: the entry's members after the event.
    let entry_members = format!(
        ",\"event_hash\":\"{}\",\"prev_hash\":\"{}\",\"recorded_at\":\"{}\",\"seq\":{}}}",
        e.event_hash, e.prev_hash, e.recorded_at, e.seq
    );
    let event = line
        .strip_prefix(EVENT_PREFIX)?
        .strip_suffix(entry_members.as_bytes())?;

    let mut entry_bytes = Vec::with_capacity(entry_members.len());
    entry_bytes.push(b'{');
    entry_bytes.extend_from_slice(&entry_members.as_bytes()[1..]);

    // The event's members after `signature`: `source` and `type`.
    let body = &line_value.event.body;
    let mut after = b",\"source\":".to_vec();
    after.extend_from_slice(&jcs::canonicalize(&body.source));
    after.extend_from_slice(b",\"type\":");
    after.extend_from_slice(&jcs::canonicalize(&body.event_type));
    after.push(b'}');
    let mut signature = b",\"signature\":".to_vec();
    signature.extend_from_slice(&jcs::canonicalize(&line_value.event.signature));
    let before = event
        .strip_suffix(after.as_slice())?
        .strip_suffix(signature.as_slice())?;

    let mut message =
        Vec::with_capacity(EVENT_SIGNATURE_CONTEXT.len() + before.len() + after.len());
    message.extend_from_slice(EVENT_SIGNATURE_CONTEXT);
    message.extend_from_slice(before);
    message.extend_from_slice(&after);
    Some((Digest::of(event), leaf_hash(&entry_bytes), message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use daicho_core::bundle::{self, Line};
    use daicho_core::entry::Entry;
    use daicho_core::event::{Actor, EventId, EventType, Label, UnsignedEvent};
    use daicho_core::keys::NoteSigner;
    use daicho_core::timestamp::{OccurredAt, RecordedAt};

    fn check(event_source: &str, payload: serde_json::Value) {
        let signer = NoteSigner::from_seed("k", [3; 32]).unwrap();
        let serde_json::Value::Object(payload) = payload else {
            unreachable!()
        };
        let event = UnsignedEvent {
            event_id: EventId::from_bytes([5; 16]),
            event_type: EventType::parse("a.b_c.d9").unwrap(),
            schema_version: 3,
            occurred_at: OccurredAt::parse("2026-04-01T09:30:00.5+09:00").unwrap(),
            actor: Actor {
                id: Label::parse("u\"1\\").unwrap(),
                role: Label::parse("r").unwrap(),
            },
            source: Label::parse(event_source).unwrap(),
            payload,
            key_id: signer.key_id(),
        }
        .sign(&signer);
        let entry = Entry {
            seq: 12345,
            recorded_at: RecordedAt::from_unix_micros(1_775_001_600_123_456).unwrap(),
            event_hash: event.hash(),
            prev_hash: Digest::of(b"x"),
        };
        let mut line = bundle::entry_line(&entry, &event);
        line.pop();
        let Line::Entry(parsed) = bundle::parse_line(&line).unwrap() else {
            panic!("an entry line")
        };
        let cut = cut(&line, &parsed).expect("a canonical line cuts");
        assert_eq!(cut.0, event.hash());
        assert_eq!(cut.1, entry.hash());
        assert_eq!(cut.2, event.body.signing_message());
    }

    #[test]
    fn cutting_agrees_with_the_core() {
        check("plain", serde_json::json!({}));
        check(
            "亀岡 \"quoted\" \\ source 😀",
            serde_json::json!({
                "signature": "a decoy member of the same name",
                "z": [1, 2.5, -0.0, 1e21, "\u{1}\u{7f}"],
                "\u{e000}": 1, "😀": 2,
                "nested": {",\"signature\":\"": ",\"source\":"}
            }),
        );
    }

    #[test]
    fn a_line_that_does_not_cut_falls_back_to_the_core() {
        let s = crate::testkit::sample_ledger(1);
        let mut line = s.lines[3].clone();
        line.pop();
        let Line::Entry(parsed) = bundle::parse_line(&line).unwrap() else {
            panic!("an entry line")
        };
        // Pretend the stored event hash differs from the line's text.
        let mut other = (*parsed).clone();
        other.entry.seq += 1;
        assert!(cut(&line, &other).is_none());
        let (h, e, m) = hashes_and_message(&line, &other);
        assert_eq!(h, other.event.hash());
        assert_eq!(e, other.entry.hash());
        assert_eq!(m, other.event.body.signing_message());
    }
}
