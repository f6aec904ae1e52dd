//! The signed event envelope (FORMAT.md §5).

use std::fmt;
use std::ops::Range;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::hash::Digest;
use crate::jcs::{self, JcsError};
use crate::keys::{KeyId, NoteSigner, PublicKey};
use crate::timestamp::OccurredAt;

/// The context string that starts every event signature's message, so that
/// an event signature can never be mistaken for a signature over anything
/// else (FORMAT.md §5.3).
pub const EVENT_SIGNATURE_CONTEXT: &[u8] = b"daicho event signature v1\n";

/// Why an event was refused before any registry check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not strict JSON.
    #[error(transparent)]
    Json(#[from] JcsError),
    /// JSON, but not an event envelope. `pointer` names the field at fault.
    #[error("{message} (at {pointer:?})")]
    Shape {
        /// RFC 6901 JSON pointer into the envelope.
        pointer: String,
        /// What is wrong.
        message: String,
    },
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the signature does not verify under key {key_id}")]
pub struct BadSignature {
    /// The key the event named.
    pub key_id: KeyId,
}

/// A submitter-chosen UUID in its canonical lowercase hyphenated form; the
/// idempotency key of an event.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(String);

impl EventId {
    /// Parses a UUID that is already in canonical lowercase hyphenated form.
    pub fn parse(s: &str) -> Result<EventId, &'static str> {
        // The canonical form is exactly 36 characters: lowercase hexadecimal
        // digits with hyphens at 8, 13, 18 and 23. Such a text always parses
        // and writes back unchanged, so it is accepted without a round trip
        // (bundle verification reads one per entry); anything else takes the
        // round trip, which also picks the error message.
        let canonical = s.len() == 36
            && s.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
            });
        if canonical {
            return Ok(EventId(s.to_owned()));
        }
        let u = uuid::Uuid::try_parse(s).map_err(|_| "event_id must be a UUID")?;
        if u.hyphenated().to_string() != s {
            return Err("event_id must be a UUID in lowercase hyphenated form");
        }
        Ok(EventId(s.to_owned()))
    }
    /// A time-ordered id (UUID version 7, RFC 9562 §5.7): `unix_millis` in
    /// its first 48 bits, then `random` (the caller supplies the clock and
    /// the randomness). Ids made later sort after, so a ledger's event-id
    /// index takes them at its end instead of at random places.
    pub fn time_ordered(unix_millis: u64, random: [u8; 10]) -> EventId {
        let u = uuid::Builder::from_unix_timestamp_millis(unix_millis, &random).into_uuid();
        EventId(u.hyphenated().to_string())
    }
    /// From 16 bytes (the caller supplies the randomness).
    pub fn from_bytes(bytes: [u8; 16]) -> EventId {
        let u = uuid::Builder::from_random_bytes(bytes).into_uuid();
        EventId(u.hyphenated().to_string())
    }
    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The 16 bytes the text form writes in hexadecimal, in order; one to
    /// one with the canonical text.
    pub fn to_bytes(&self) -> [u8; 16] {
        uuid::Uuid::parse_str(&self.0)
            .expect("checked at construction")
            .into_bytes()
    }
}
impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({})", self.0)
    }
}
crate::timestamp::string_serde!(EventId, |e: &EventId| e.0.clone());

/// An event type name: dot-separated segments of `[a-z0-9_]`, at most 128
/// characters. Names starting with `daicho.` belong to the ledger itself.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventType(String);

impl EventType {
    /// Parses a type name.
    pub fn parse(s: &str) -> Result<EventType, &'static str> {
        let ok = !s.is_empty() && s.len() <= 128 && s.split('.').all(EventType::is_segment);
        if ok {
            Ok(EventType(s.to_owned()))
        } else {
            Err("an event type is dot-separated segments of [a-z0-9_], at most 128 characters")
        }
    }
    /// Whether `segment` may stand between the dots of a type name: one or
    /// more of `[a-z0-9_]`. A catalogue that narrows the names it defines
    /// builds its rule on this one, so that the grammar is stated once.
    pub fn is_segment(segment: &str) -> bool {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }
    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether the ledger itself defines this type (`daicho.*`). Every such
    /// name is the ledger's, whether or not the ledger uses it yet, so no
    /// catalogue may define one.
    pub fn is_ledger_type(&self) -> bool {
        self.0.starts_with("daicho.")
    }
}
impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventType({})", self.0)
    }
}
crate::timestamp::string_serde!(EventType, |e: &EventType| e.0.clone());

/// A short non-empty text of at most 256 characters without control,
/// bidirectional-control or invisible characters, used for actor ids,
/// roles and source names (FORMAT.md §5.1). People read labels in reports
/// and on screens, where such characters make one text look like another.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label(String);

impl Label {
    /// Parses a label.
    pub fn parse(s: &str) -> Result<Label, &'static str> {
        if s.is_empty() || s.chars().count() > 256 || s.chars().any(is_refused_in_label) {
            return Err(
                "expected 1 to 256 characters without control, bidirectional-control or \
                 invisible characters",
            );
        }
        Ok(Label(s.to_owned()))
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
crate::timestamp::string_serde!(Label, |e: &Label| e.0.clone());

/// The characters FORMAT.md §5.1 refuses in a label: control characters
/// (Unicode category Cc), the bidirectional controls, which reorder what a
/// reader sees, and the invisible characters, which make two labels that
/// look the same differ.
pub fn is_refused_in_label(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional controls: ALM, LRM, RLM, LRE…RLO, LRI…PDI.
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                // Invisible: zero-width space, non-joiner and joiner; word
                // joiner and the invisible operators; the byte-order mark;
                // the soft hyphen.
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{FEFF}'
                | '\u{00AD}'
        )
}

/// Who performed the act: a person or system id and the role they acted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The actor's identifier in the source system.
    pub id: Label,
    /// The role the act was performed in (a catalogue role id).
    pub role: Label,
}

/// An event before signing (FORMAT.md §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnsignedEvent {
    /// The submitter's UUID for this event; the idempotency key.
    pub event_id: EventId,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The version of the type's payload schema.
    pub schema_version: u32,
    /// When the act happened.
    pub occurred_at: OccurredAt,
    /// Who performed it.
    pub actor: Actor,
    /// The submitting system.
    pub source: Label,
    /// The type-specific content.
    pub payload: Map<String, Value>,
    /// The signing key.
    pub key_id: KeyId,
}

impl UnsignedEvent {
    /// The exact bytes an event signature covers: the context string, then
    /// the JCS of the envelope without `signature` (FORMAT.md §5.3).
    pub fn signing_message(&self) -> Vec<u8> {
        let mut m = EVENT_SIGNATURE_CONTEXT.to_vec();
        m.extend_from_slice(&jcs::canonicalize_own(self));
        m
    }

    /// Signs with `signer`. The `key_id` must be the signer's.
    pub fn sign(self, signer: &NoteSigner) -> SignedEvent {
        debug_assert_eq!(self.key_id, signer.key_id());
        let signature = signer.signing_key().sign(&self.signing_message());
        SignedEvent {
            body: self,
            signature: EventSignature(signature),
        }
    }
}

/// The envelope's members other than `payload` and `signature`, read
/// separately so that the payload is moved rather than rebuilt.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeFields {
    event_id: EventId,
    #[serde(rename = "type")]
    event_type: EventType,
    schema_version: u32,
    occurred_at: OccurredAt,
    actor: Actor,
    source: Label,
    key_id: KeyId,
}

/// An Ed25519 signature, standard base64 of its 64 bytes in JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EventSignature(pub Signature);

impl EventSignature {
    /// Parses base64 of exactly 64 bytes.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        // The usual case, 88 characters, decodes without an allocation; the
        // buffer holds base64's upper estimate for that length.
        if s.len() == 88 {
            let mut buf = [0u8; 66];
            let n = B64
                .decode_slice(s, &mut buf)
                .map_err(|_| "signature must be standard base64")?;
            let arr: [u8; 64] = buf[..n]
                .try_into()
                .map_err(|_| "an Ed25519 signature is 64 bytes")?;
            return Ok(EventSignature(Signature::from_bytes(&arr)));
        }
        let raw = B64
            .decode(s)
            .map_err(|_| "signature must be standard base64")?;
        let arr: [u8; 64] = raw
            .as_slice()
            .try_into()
            .map_err(|_| "an Ed25519 signature is 64 bytes")?;
        Ok(EventSignature(Signature::from_bytes(&arr)))
    }
}
impl fmt::Debug for EventSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventSignature({})", B64.encode(self.0.to_bytes()))
    }
}
crate::timestamp::string_serde!(EventSignature, |s: &EventSignature| B64
    .encode(s.0.to_bytes()));

/// A signed event with its canonical bytes and event hash, computed once
/// (by [`HashedEvent::new`], so the three always agree). The service
/// computes them where requests run in parallel, so that the single writer
/// that sequences events does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedEvent {
    event: SignedEvent,
    bytes: Vec<u8>,
    hash: Digest,
    /// Where the `signature` member lies in `bytes`, with its comma.
    signature_member: Range<usize>,
}

impl HashedEvent {
    /// Computes the canonical bytes and the hash of `event`.
    pub fn new(event: SignedEvent) -> HashedEvent {
        let Value::Object(map) = serde_json::to_value(&event).expect("daicho's types serialise")
        else {
            unreachable!("a signed event serialises to an object")
        };
        let (bytes, span) = jcs::canonicalize_marking(&map, "signature");
        let signature_member = span.expect("a signed event has a signature member");
        let hash = Digest::of(&bytes);
        HashedEvent {
            event,
            bytes,
            hash,
            signature_member,
        }
    }
    /// The bytes the signature covers, equal to
    /// [`UnsignedEvent::signing_message`]: the canonical bytes without the
    /// signature member (the envelope's other members are the unsigned
    /// event's), after the context string. Taken from the bytes already
    /// computed rather than by serialising the event a second time.
    pub fn signing_message(&self) -> Vec<u8> {
        let (before, after) = (
            &self.bytes[..self.signature_member.start],
            &self.bytes[self.signature_member.end..],
        );
        let mut m = Vec::with_capacity(EVENT_SIGNATURE_CONTEXT.len() + before.len() + after.len());
        m.extend_from_slice(EVENT_SIGNATURE_CONTEXT);
        m.extend_from_slice(before);
        m.extend_from_slice(after);
        m
    }
    /// The event.
    pub fn event(&self) -> &SignedEvent {
        &self.event
    }
    /// The canonical (JCS) bytes of the signed envelope.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The event hash (FORMAT.md §5.4).
    pub fn hash(&self) -> Digest {
        self.hash
    }
    /// The event and its canonical bytes.
    pub fn into_parts(self) -> (SignedEvent, Vec<u8>) {
        (self.event, self.bytes)
    }
}

impl From<SignedEvent> for HashedEvent {
    fn from(event: SignedEvent) -> HashedEvent {
        HashedEvent::new(event)
    }
}

/// A signed event envelope (FORMAT.md §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedEvent {
    /// Everything but the signature.
    #[serde(flatten)]
    pub body: UnsignedEvent,
    /// Ed25519 over [`UnsignedEvent::signing_message`].
    pub signature: EventSignature,
}

impl<'de> Deserialize<'de> for SignedEvent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SignedEvent::from_value(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl SignedEvent {
    /// Parses a signed envelope from JSON text: strict JSON, exact shape.
    pub fn parse(bytes: &[u8]) -> Result<SignedEvent, EventError> {
        Self::from_value(jcs::parse(bytes)?)
    }

    /// Converts an already strictly parsed value; the error names the
    /// field at fault with an RFC 6901 pointer.
    pub fn from_value(value: Value) -> Result<SignedEvent, EventError> {
        // The envelope is read in two steps, because `serde(flatten)` loses
        // both `deny_unknown_fields` and the error paths.
        let Value::Object(mut map) = value else {
            return Err(shape("", "an event is a JSON object"));
        };
        let signature = match map.remove("signature") {
            None => return Err(shape("/signature", "missing field")),
            Some(Value::String(s)) => {
                EventSignature::parse(&s).map_err(|m| shape("/signature", m))?
            }
            Some(_) => return Err(shape("/signature", "expected a base64 string")),
        };
        // The payload is moved, not rebuilt: it can be the largest member.
        let payload = match map.remove("payload") {
            None => return Err(shape("/payload", "missing field")),
            Some(Value::Object(p)) => p,
            Some(_) => return Err(shape("/payload", "the payload is a JSON object")),
        };
        let fields = serde_path_to_error::deserialize::<_, EnvelopeFields>(Value::Object(map))
            .map_err(|e| {
                let mut pointer = path_to_pointer(e.path());
                let message = e.inner().to_string();
                // serde names a missing field only in its message.
                if message.starts_with("missing field") {
                    if let Some(field) = message.split('`').nth(1) {
                        pointer = format!("{pointer}{}", pointer_token(field));
                    }
                }
                shape(&pointer, &message)
            })?;
        let body = UnsignedEvent {
            event_id: fields.event_id,
            event_type: fields.event_type,
            schema_version: fields.schema_version,
            occurred_at: fields.occurred_at,
            actor: fields.actor,
            source: fields.source,
            payload,
            key_id: fields.key_id,
        };
        Ok(SignedEvent { body, signature })
    }

    /// The canonical bytes of the whole signed envelope.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        jcs::canonicalize_own(self)
    }

    /// The event hash: SHA-256 of the JCS of the signed envelope (FORMAT.md §5.4).
    pub fn hash(&self) -> Digest {
        Digest::of(&self.canonical_bytes())
    }

    /// Verifies the signature against `key` by the rule of FORMAT.md §5.3
    /// ([`PublicKey::verify`]).
    pub fn verify_signature(&self, key: &PublicKey) -> Result<(), BadSignature> {
        if key.verify(&self.body.signing_message(), &self.signature.0) {
            Ok(())
        } else {
            Err(BadSignature {
                key_id: self.body.key_id.clone(),
            })
        }
    }
}

fn shape(pointer: &str, message: &str) -> EventError {
    EventError::Shape {
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    }
}

fn pointer_token(key: &str) -> String {
    format!("/{}", crate::pointer::escape_token(key))
}

pub(crate) use crate::pointer::from_path as path_to_pointer;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_refuse_bidirectional_controls_and_invisible_characters() {
        let refused = [
            '\u{0000}', '\u{001F}', '\u{007F}', '\u{0085}', '\u{061C}', '\u{200E}', '\u{200F}',
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{2061}',
            '\u{2062}', '\u{2063}', '\u{2064}', '\u{FEFF}', '\u{00AD}',
        ];
        for c in refused {
            for text in [
                format!("{c}"),
                format!("admin{c}"),
                format!("情報{c}政策課"),
            ] {
                assert!(
                    Label::parse(&text).is_err(),
                    "U+{:04X} in {text:?}",
                    c as u32
                );
            }
        }
        // Their neighbours, and the scripts people write, are kept.
        for ok in [
            "情報政策課",
            "admin",
            "Ünïcødé label",
            "\u{2065}",
            "\u{2070}",
            "\u{202F}",
            "\u{200A}",
            "a\u{0301}",
            "مرحبا",
        ] {
            assert!(Label::parse(ok).is_ok(), "{ok:?}");
        }
        // Through serde, as the service and the verifier read envelopes.
        assert!(serde_json::from_str::<Label>("\"a\\u202eb\"").is_err());
    }

    #[test]
    fn event_id_bytes_are_the_hex_digits_in_order() {
        let id = EventId::parse("00112233-4455-6677-8899-aabbccddeeff").unwrap();
        assert_eq!(
            id.to_bytes(),
            [
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff
            ]
        );
        let other = EventId::parse("00112233-4455-6677-8899-aabbccddeef0").unwrap();
        assert_ne!(id.to_bytes(), other.to_bytes());
    }

    #[test]
    fn time_ordered_ids_are_version_7_and_sort_by_time() {
        // RFC 9562 Appendix A.6: 2022-02-22 19:22:22 UTC.
        let id = EventId::time_ordered(0x017F_22E2_79B0, [0; 10]);
        assert_eq!(id.as_str(), "017f22e2-79b0-7000-8000-000000000000");
        assert_eq!(EventId::parse(id.as_str()).unwrap(), id);
        let millis = 1_795_000_000_000;
        let first = EventId::time_ordered(millis, [0xff; 10]);
        let later = EventId::time_ordered(millis + 1, [0; 10]);
        assert_eq!(&first.as_str()[14..15], "7");
        assert!(first.to_bytes() < later.to_bytes());
        assert!(first < later);
    }
}
