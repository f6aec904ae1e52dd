//! The three things an entry line is checked by besides its values: the
//! event hash recomputed from the event's canonical bytes (FORMAT.md §5.4),
//! the entry hash of the entry as stored (§6.2), and the exact message the
//! event signature covers (§5.3).
//!
//! The core's fast path (`bundle::parse_line_with_spans`) proves a line
//! canonical member by member, takes the event's bytes and the entry hash
//! from it, and says where the signed bytes lie in it; the line's own
//! buffer is then rewritten into the signing message, which costs a
//! fraction of re-serialising the parsed values and allocates nothing. A
//! line the core's general path decided comes without spans, and its
//! signing message is serialised from the parsed values instead. The tests
//! compare both ways.

use daicho_core::bundle::EntrySpans;
use daicho_core::entry::Recorded;
use daicho_core::Digest;

/// Where the signing message of an entry line is kept until its signature
/// is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The first this many bytes of the line's buffer, rewritten into the
    /// message (`EntrySpans::signing_message_in_place`).
    InLine(usize),
    /// A message built from the parsed values.
    Owned(Vec<u8>),
}

impl Message {
    /// The message's bytes; `line` is the buffer [`recompute`] was given.
    pub fn bytes<'a>(&'a self, line: &'a [u8]) -> &'a [u8] {
        match self {
            Message::InLine(len) => &line[..*len],
            Message::Owned(m) => m,
        }
    }
}

/// The event hash of an entry line, the entry hash of the entry as stored,
/// and the message its event signature covers. `line` must be the line
/// `entry` and `spans` were parsed from by `bundle::parse_line_with_spans`,
/// without its `\n`; when spans are given, the line's buffer is rewritten
/// into the message and nothing else can be read from it afterwards.
pub fn recompute(
    line: &mut [u8],
    entry: &Recorded,
    spans: Option<&EntrySpans>,
) -> (Digest, Digest, Message) {
    // The parsed entry already carries the event's canonical bytes and the
    // entry hash of the entry as stated, both taken from the line.
    let event_hash = Digest::of(&entry.bytes);
    let message = match spans {
        Some(spans) => Message::InLine(spans.signing_message_in_place(line).len()),
        None => Message::Owned(entry.event.body.signing_message()),
    };
    (event_hash, entry.hash, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use daicho_core::bundle::{self, Line};
    use daicho_core::entry::Entry;
    use daicho_core::event::EventId;
    use daicho_core::keys::NoteSigner;
    use daicho_core::timestamp::RecordedAt;
    use daicho_testkit::EventBuilder;

    /// Both ways agree with the core; returns whether the line had spans.
    fn check(event_source: &str, payload: serde_json::Value) -> bool {
        let signer = NoteSigner::from_seed("k", [3; 32]).unwrap();
        let event = EventBuilder::new(&signer, "a.b_c.d9", event_source)
            .id(EventId::from_bytes([5; 16]))
            .version(3)
            .occurred_at("2026-04-01T09:30:00.5+09:00")
            .actor("u1", "r")
            .payload(payload)
            .sign();
        let entry = Entry {
            seq: 12345,
            recorded_at: RecordedAt::from_unix_micros(1_775_001_600_123_456).unwrap(),
            event_hash: event.hash(),
            prev_hash: Digest::of(b"x"),
        };
        let mut line = bundle::entry_line(&entry, &event);
        line.pop();
        let (Line::Entry(parsed), spans) = bundle::parse_line_with_spans(&line).unwrap() else {
            panic!("an entry line")
        };
        for spans in [spans.as_ref(), None] {
            let mut buffer = line.clone();
            let (event_hash, entry_hash, message) = recompute(&mut buffer, &parsed, spans);
            assert_eq!(event_hash, event.hash());
            assert_eq!(entry_hash, entry.hash());
            assert_eq!(message.bytes(&buffer), event.body.signing_message());
        }
        spans.is_some()
    }

    #[test]
    fn cutting_agrees_with_the_core() {
        assert!(check("plain", serde_json::json!({})));
        assert!(check(
            "亀岡 source 😀",
            serde_json::json!({
                "signature": "a decoy member of the same name",
                "z": [1, -2, "\u{7f}"],
                "\u{e000}": 1, "😀": 2,
                "nested": {"signature": "a decoy inside the payload"}
            }),
        ));
        // Escapes and fractions are the general path's: no spans.
        assert!(!check(
            "\"quoted\" \\ source",
            serde_json::json!({"z": [2.5, 1e21, "\u{1}"]}),
        ));
        assert!(!check(
            "plain",
            serde_json::json!({"nested": {",\"signature\":": ",\"source\":"}}),
        ));
    }
}
