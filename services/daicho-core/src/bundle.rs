//! The export bundle: one UTF-8 JSONL file (FORMAT.md §10).
//!
//! Line 1 is the header, then one line per entry in seq order, then the
//! signed checkpoints. Every line is the RFC 8785 canonical form of its
//! object followed by `\n`, so that no byte of the file can differ from
//! what the verifier recomputes.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::entry::{Entry, Recorded};
use crate::event::{EventError, HashedEvent, SignedEvent, EVENT_SIGNATURE_CONTEXT};
use crate::hash::{Digest, LEAF_PREFIX};
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
    /// An entry: its `entry` as the line states it, its `hash` the entry
    /// hash of that, and `bytes` the canonical bytes of its event.
    Entry(Box<Recorded>),
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
    parse_line_with_spans(bytes).map(|(line, _)| line)
}

/// Where the hashed and signed bytes of an entry line lie in the line.
///
/// A canonical line holds the canonical form of each of its members
/// verbatim, so the inputs of the event hash (FORMAT.md §5.4), the entry
/// hash (§6.2) and the event signature (§5.3) can be cut from the line
/// instead of re-serialised from the parsed values. The event is the line's
/// first member (`event` sorts before `event_hash`), the entry is the line
/// without that member, and the signing message is the event without its
/// `signature` member (never the event's first member, since `actor` sorts
/// before it). Only [`parse_line_with_spans`] makes these, and only for a
/// line it has proved canonical member by member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySpans {
    /// The `event` member's value: `JCS(signed envelope)`.
    event: Range<usize>,
    /// The `,"signature":"…"` member inside the event.
    signature_member: Range<usize>,
}

impl EntrySpans {
    /// The canonical bytes of the signed envelope, the input of the event
    /// hash (FORMAT.md §5.4). `line` must be the line these spans came from.
    pub fn event_bytes<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        &line[self.event.clone()]
    }

    /// The event hash (FORMAT.md §5.4), equal to `SignedEvent::hash`.
    pub fn event_hash(&self, line: &[u8]) -> Digest {
        Digest::of(self.event_bytes(line))
    }

    /// The entry hash (FORMAT.md §6.2), equal to `Entry::hash`: the leaf
    /// hash of `{` followed by the line's members after the event, which
    /// is the canonical form of the entry.
    pub fn entry_hash(&self, line: &[u8]) -> Digest {
        use sha2::Digest as _;
        // Skip the `,` that follows the event; `{` takes its place.
        let members = &line[self.event.end + 1..];
        let mut h = Sha256::new();
        h.update([LEAF_PREFIX, b'{']);
        h.update(members);
        Digest(h.finalize().into())
    }

    /// Rewrites the start of `line` into the event signature's message
    /// (FORMAT.md §5.3), equal to `UnsignedEvent::signing_message`, and
    /// returns it; the rest of `line` is left meaningless. A verifier that
    /// has taken the hashes it needs from the line saves a copy of the
    /// message per entry this way. The message always fits: it drops the
    /// signature member and the `{"event":` before the event, which
    /// together are longer than the context string that takes their place.
    pub fn signing_message_in_place<'a>(&self, line: &'a mut [u8]) -> &'a [u8] {
        let context = EVENT_SIGNATURE_CONTEXT.len();
        let before = self.event.start..self.signature_member.start;
        let after = self.signature_member.end..self.event.end;
        let dropped = self.event.start + self.signature_member.len();
        assert!(
            dropped >= context,
            "spans come from lines with an 88-character signature"
        );
        // `before` moves right by less than the signature member's length,
        // so it overwrites only that member; `after` then moves left.
        let after_to = context + before.len();
        let end = after_to + after.len();
        line.copy_within(before, context);
        line.copy_within(after, after_to);
        line[..context].copy_from_slice(EVENT_SIGNATURE_CONTEXT);
        &line[..end]
    }
}

/// Parses one line as [`parse_line`] does, and for an entry line also
/// says, where it can, where its hashed and signed bytes lie.
///
/// Entry lines are read by a fast path first: one pass over the bytes that
/// follows the one layout a canonical entry line can have, builds the typed
/// values directly and proves, member by member, that the line is the
/// canonical form of what it read. Whenever it meets something it does not
/// handle (a string with an escape, a number with a fraction or exponent
/// or of 16 digits or more, a member out of order, any error at all), it
/// gives up and the general path decides. So the fast path can only make
/// the general path's answer cheaper, never different: a property test
/// checks that whatever it accepts, the general path accepts with the same
/// value. Lines the general path decides come without spans.
pub fn parse_line_with_spans(bytes: &[u8]) -> Result<(Line, Option<EntrySpans>), LineError> {
    if let Some((line, spans)) = fast::entry_line(bytes) {
        return Ok((Line::Entry(Box::new(line)), Some(spans)));
    }
    parse_line_general(bytes).map(|line| (line, None))
}

/// The general path of [`parse_line`]: strict parsing into a JSON value,
/// the canonical-form check against that value re-serialised, then the
/// typed conversion. It decides every line the fast path leaves to it, and
/// it alone produces the errors.
fn parse_line_general(bytes: &[u8]) -> Result<Line, LineError> {
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
        let entry = Entry {
            seq: f.seq,
            recorded_at: f.recorded_at,
            event_hash: f.event_hash,
            prev_hash: f.prev_hash,
        };
        let (event, bytes) = HashedEvent::new(event).into_parts();
        return Ok(Line::Entry(Box::new(Recorded {
            hash: entry.hash(),
            entry,
            event,
            bytes,
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

mod fast;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    use super::*;
    use crate::event::{Actor, EventId, EventType, Label, UnsignedEvent};
    use crate::keys::NoteSigner;
    use crate::timestamp::OccurredAt;

    fn entry_line_for(actor_id: &str, source: &str, payload: Value, seq: u64) -> Vec<u8> {
        let signer = NoteSigner::from_seed("k", [7; 32]).unwrap();
        let Value::Object(payload) = payload else {
            panic!("a payload is an object")
        };
        let event = UnsignedEvent {
            event_id: EventId::from_bytes([9; 16]),
            event_type: EventType::parse("kameoka.payment.approved").unwrap(),
            schema_version: 2,
            occurred_at: OccurredAt::parse("2026-04-01T09:30:00.25+09:00").unwrap(),
            actor: Actor {
                id: Label::parse(actor_id).unwrap(),
                role: Label::parse("clerk").unwrap(),
            },
            source: Label::parse(source).unwrap(),
            payload,
            key_id: signer.key_id(),
        }
        .sign(&signer);
        let entry = Entry {
            seq,
            recorded_at: RecordedAt::from_unix_micros(1_775_001_600_123_456).unwrap(),
            event_hash: event.hash(),
            prev_hash: Digest::of(b"previous"),
        };
        let mut line = entry_line(&entry, &event);
        line.pop();
        line
    }

    /// The one property the fast path must have: whatever it accepts, the
    /// general path accepts with the same value, and its spans cut exactly
    /// the bytes the core's own functions produce from that value.
    fn assert_fast_agrees(line: &[u8]) -> bool {
        let Some((fast, spans)) = fast::entry_line(line) else {
            return false;
        };
        let general = parse_line_general(line);
        let Ok(Line::Entry(general)) = general else {
            panic!(
                "the fast path accepted what the general path refuses ({general:?}): {}",
                String::from_utf8_lossy(line)
            );
        };
        assert_eq!(fast, *general, "{}", String::from_utf8_lossy(line));
        assert_eq!(spans.event_bytes(line), general.event.canonical_bytes());
        assert_eq!(spans.event_hash(line), general.event.hash());
        assert_eq!(spans.entry_hash(line), general.entry.hash());
        let mut copy = line.to_vec();
        assert_eq!(
            spans.signing_message_in_place(&mut copy),
            general.event.body.signing_message()
        );
        true
    }

    fn payload_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-(1i64 << 53)..=(1i64 << 53)).prop_map(Value::from),
            (-999i64..1000).prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::String),
            "[a-z\\x00-\\x1f\"\\\\/\\x7f\u{e000}\u{1f600}]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(key(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_]{0,5}",
            "\\PC{0,3}",
            prop::collection::vec(
                prop_oneof![
                    Just('\u{e000}'),
                    Just('\u{ffff}'),
                    Just('\u{1f600}'),
                    Just('a'),
                    Just('"'),
                    Just('\u{80}'),
                ],
                0..3
            )
            .prop_map(|v| v.into_iter().collect()),
        ]
    }

    /// Bytes that matter to a JSON reader, and some that do not.
    fn mutation_byte() -> impl Strategy<Value = u8> {
        prop::sample::select(b"\"\\{}[],:019-.eE +aAuf\x00\x1f\x7f\xc3\xa9\xee\xf0".to_vec())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn fast_path_agrees_on_built_lines(
            payload in prop::collection::btree_map(key(), payload_value(), 0..5),
            actor in "[a-z\"\\\\\u{e000}\u{1f600} -]{1,6}",
            seq in prop_oneof![0u64..1000, Just(999_999_999_999_999), Just(1 << 53), any::<u64>()],
        ) {
            let payload = Value::Object(payload.into_iter().collect());
            let expected = plain(&payload) && plain_str(&actor) && seq < 1_000_000_000_000_000;
            let line = entry_line_for(&actor, "source-1", payload, seq);
            let accepted = assert_fast_agrees(&line);
            // Lines without escapes, fractions or long integers take the
            // fast path.
            prop_assert_eq!(accepted, expected, "{}", String::from_utf8_lossy(&line));
        }

        #[test]
        fn fast_path_agrees_on_mutated_lines(
            payload in prop::collection::btree_map(key(), payload_value(), 0..4),
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), 0usize..3, prop::collection::vec(mutation_byte(), 0..3)),
                1..3,
            ),
        ) {
            let payload = Value::Object(payload.into_iter().collect());
            let mut line = entry_line_for("staff-1", "source-1", payload, 42);
            for (at, delete, insert) in edits {
                let at = at.index(line.len());
                let end = (at + delete).min(line.len());
                line.splice(at..end, insert);
            }
            assert_fast_agrees(&line);
        }

        #[test]
        fn recorded_at_fast_agrees(
            digits in prop::collection::vec(prop::sample::select(b"0123456789".to_vec()), 20),
            sep in prop::sample::select(b"-T:.Z ".to_vec()),
            sep_at in prop::sample::select(vec![4usize, 7, 10, 13, 16, 19, 26, 3]),
        ) {
            // YYYY-MM-DDTHH:MM:SS.ffffffZ from random digits, sometimes with
            // one separator replaced.
            let mut text = format!(
                "{}-{}-{}T{}:{}:{}.{}Z",
                std::str::from_utf8(&digits[0..4]).unwrap(),
                std::str::from_utf8(&digits[4..6]).unwrap(),
                std::str::from_utf8(&digits[6..8]).unwrap(),
                std::str::from_utf8(&digits[8..10]).unwrap(),
                std::str::from_utf8(&digits[10..12]).unwrap(),
                std::str::from_utf8(&digits[12..14]).unwrap(),
                std::str::from_utf8(&digits[14..20]).unwrap(),
            ).into_bytes();
            if sep == b' ' {
                text[sep_at] = sep;
            }
            let text = String::from_utf8(text).unwrap();
            if let Some(fast) = fast::recorded_at_fast(&text) {
                prop_assert_eq!(RecordedAt::parse(&text), Ok(fast));
            }
        }

        #[test]
        fn recorded_at_fast_accepts_every_canonical_instant(
            micros in -30_610_224_000_000_000i64..253_402_300_799_999_999,
        ) {
            let t = RecordedAt::from_unix_micros(micros).unwrap();
            let text = t.to_string();
            prop_assert_eq!(RecordedAt::parse(&text), Ok(t));
            prop_assert_eq!(fast::recorded_at_fast(&text), Some(t));
        }

        #[test]
        fn digest_reader_agrees_with_from_hex(
            text in prop_oneof!["[0-9a-f]{64}", "[0-9a-fA-F]{64}", "[0-9a-gx]{62,66}"],
        ) {
            let quoted = format!("\"{text}\"");
            let mut r = fast::Reader { text: &quoted, pos: 0 };
            prop_assert_eq!(r.digest(), Digest::from_hex(&text));
        }

        #[test]
        fn utf16_order(a in key(), b in key()) {
            prop_assert_eq!(
                fast::utf16_less(&a, &b),
                a.encode_utf16().lt(b.encode_utf16())
            );
        }
    }

    /// Whether a string is written without escapes.
    fn plain_str(s: &str) -> bool {
        !s.chars().any(|c| c == '"' || c == '\\' || c < ' ')
    }

    /// Whether a value is written without escapes, fractions, exponents
    /// or integers of more than 15 digits: what the fast path reads.
    fn plain(v: &Value) -> bool {
        match v {
            Value::Null | Value::Bool(_) => true,
            Value::Number(_) => {
                let text = String::from_utf8(jcs::canonicalize_value(v)).unwrap();
                let digits = text.strip_prefix('-').unwrap_or(&text);
                digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit())
            }
            Value::String(s) => plain_str(s),
            Value::Array(items) => items.iter().all(plain),
            Value::Object(m) => m.iter().all(|(k, v)| plain_str(k) && plain(v)),
        }
    }

    /// Every single-byte replacement, insertion and deletion of a usual
    /// line, with bytes that matter to a JSON reader: the fast path may
    /// accept a mutant (a changed letter inside a string still parses),
    /// but only as the general path does.
    #[test]
    fn fast_path_agrees_on_every_single_edit() {
        let line = entry_line_for(
            "staff-0001",
            "source-1",
            json!({"amount": 98000, "list": [true, null, -5], "note": "監査"}),
            98,
        );
        let alphabet = b"\"\\{}[],:019-.eE +aAuf\x00\x1f\x7f\xc3\xee";
        let mut accepted = 0;
        for at in 0..=line.len() {
            for &b in alphabet {
                let mut inserted = line.clone();
                inserted.insert(at, b);
                accepted += usize::from(assert_fast_agrees(&inserted));
                if at < line.len() && line[at] != b {
                    let mut replaced = line.clone();
                    replaced[at] = b;
                    accepted += usize::from(assert_fast_agrees(&replaced));
                }
            }
            if at < line.len() {
                let mut deleted = line.clone();
                deleted.remove(at);
                accepted += usize::from(assert_fast_agrees(&deleted));
            }
        }
        assert!(
            accepted > 100,
            "the mutants exercise the fast path ({accepted})"
        );
    }

    #[test]
    fn fast_path_takes_the_usual_line_and_leaves_the_rest() {
        let line = entry_line_for(
            "staff-0001",
            "亀岡 source",
            json!({"amount": 98000, "neg": -5, "note": "監査記録", "list": [true, null, {}], "z": {"\u{e000}": 1, "😀": 2}}),
            98,
        );
        assert!(assert_fast_agrees(&line));
        let text = String::from_utf8(line.clone()).unwrap();
        let prev_hex = Digest::of(b"previous").to_hex();
        // Each of these is refused or left to the general path, never
        // accepted differently.
        let variants = [
            text.replacen("\"seq\":98", "\"seq\":098", 1),
            text.replacen("\"seq\":98", "\"seq\":98.0", 1),
            text.replacen("\"seq\":98", "\"seq\":9.8e1", 1),
            text.replacen("\"seq\":98", "\"seq\":-98", 1),
            text.replacen("\"amount\":98000", "\"amount\":-0", 1),
            text.replacen("\"amount\":98000", "\"amount\":1e3", 1),
            text.replacen("\"amount\":98000", "\"amount\":9007199254740993", 1),
            text.replacen("\"neg\":-5", "\"neg\":-05", 1),
            text.replacen("\"amount\":98000", "\"amount\":98000,\"amount\":98000", 1),
            text.replacen("\"amount\":98000,", "", 1)
                .replacen("}}", ",\"amount\":98000}}", 1),
            // By UTF-8 bytes U+E000 sorts first; by UTF-16 code units, 😀 does.
            text.replacen(
                "\"z\":{\"😀\":2,\"\u{e000}\":1}",
                "\"z\":{\"\u{e000}\":1,\"😀\":2}",
                1,
            ),
            text.replacen("staff-0001", "staff\\u002d0001", 1),
            text.replacen("staff-0001", "staff\\/0001", 1),
            text.replacen(&prev_hex, &prev_hex.to_uppercase(), 1),
            text.replacen(".123456Z", ".123456+00:00", 1),
            text.replacen("T00:", "t00:", 1),
            text.replacen("\"schema_version\":2", "\"schema_version\":4294967296", 1),
            text.replacen("{\"event\"", "{ \"event\"", 1),
            format!("{text} "),
            text.replacen("\"event_hash\"", "\"event_hash\":\"x\",\"event_hash\"", 1),
        ];
        for v in &variants {
            assert_ne!(v, &text, "the substitution did not apply");
            assert!(!assert_fast_agrees(v.as_bytes()), "{v}");
        }
    }
}
