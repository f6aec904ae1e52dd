//! The fast path of [`super::parse_line_with_spans`] for entry lines.
//!
//! A canonical entry line has exactly one layout: the members of the line,
//! of the envelope and of `actor` are fixed and appear in sorted order, so
//! the reader below expects each member name as a literal and reads each
//! value in its canonical spelling only. It accepts a strict subset of what
//! the general path accepts, with the same value; `None` means "let the
//! general path decide", never "invalid".

use serde_json::{Map, Value};

use super::EntrySpans;
use crate::entry::{Entry, Recorded};
use crate::event::{Actor, EventId, EventSignature, EventType, Label, SignedEvent, UnsignedEvent};
use crate::hash::Digest;
use crate::keys::KeyId;
use crate::timestamp::{OccurredAt, RecordedAt};

/// Nesting deeper than this inside the payload is left to the general
/// path, which applies serde_json's own limit.
const MAX_DEPTH: usize = 32;

/// Integers of at most this many digits are below 10^15 < 2^53: exact
/// doubles, which RFC 8785 writes as plain digits.
const MAX_DIGITS: usize = 15;

/// Reads the line's layout and every value in it; see the module
/// documentation.
pub(super) fn entry_line(bytes: &[u8]) -> Option<(Recorded, EntrySpans)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut r = Reader { text, pos: 0 };
    r.literal("{\"event\":")?;
    let event_start = r.pos;
    r.literal("{\"actor\":{\"id\":")?;
    let actor_id = r.string()?;
    r.literal(",\"role\":")?;
    let actor_role = r.string()?;
    r.literal("},\"event_id\":")?;
    let event_id = r.string()?;
    r.literal(",\"key_id\":")?;
    let key_id = r.string()?;
    r.literal(",\"occurred_at\":")?;
    let occurred_at = r.string()?;
    r.literal(",\"payload\":")?;
    let payload = r.object(1)?;
    r.literal(",\"schema_version\":")?;
    let schema_version = u32::try_from(r.unsigned()?).ok()?;
    let signature_start = r.pos;
    r.literal(",\"signature\":")?;
    let signature = r.signature()?;
    let signature_end = r.pos;
    r.literal(",\"source\":")?;
    let source = r.string()?;
    r.literal(",\"type\":")?;
    let event_type = r.string()?;
    r.literal("}")?;
    let event_end = r.pos;
    r.literal(",\"event_hash\":")?;
    let event_hash = r.digest()?;
    r.literal(",\"prev_hash\":")?;
    let prev_hash = r.digest()?;
    r.literal(",\"recorded_at\":")?;
    let recorded_at = r.string()?;
    r.literal(",\"seq\":")?;
    let seq = r.unsigned()?;
    r.literal("}")?;
    if r.pos != bytes.len() {
        return None;
    }

    // The same conversions the general path makes through serde.
    let event = SignedEvent {
        body: UnsignedEvent {
            event_id: EventId::parse(event_id).ok()?,
            event_type: EventType::parse(event_type).ok()?,
            schema_version,
            occurred_at: OccurredAt::parse(occurred_at).ok()?,
            actor: Actor {
                id: Label::parse(actor_id).ok()?,
                role: Label::parse(actor_role).ok()?,
            },
            source: Label::parse(source).ok()?,
            payload,
            key_id: KeyId::parse(key_id).ok()?,
        },
        signature,
    };
    let entry = Entry {
        seq,
        recorded_at: recorded_at_fast(recorded_at)?,
        event_hash,
        prev_hash,
    };
    let spans = EntrySpans {
        event: event_start..event_end,
        signature_member: signature_start..signature_end,
    };
    let recorded = Recorded {
        hash: spans.entry_hash(bytes),
        bytes: spans.event_bytes(bytes).to_vec(),
        entry,
        event,
    };
    Some((recorded, spans))
}

/// `RecordedAt::parse` without its formatting round trip, for the
/// canonical spelling `YYYY-MM-DDTHH:MM:SS.ffffffZ` of a valid date
/// and time in the years 1000 to 9999. The general path's check is
/// that the text is the one `RecordedAt` writes for the instant it
/// names; for text of this shape with fields in range, it always is.
pub(super) fn recorded_at_fast(text: &str) -> Option<RecordedAt> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 27
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[26] == b'Z';
    if !shape_ok {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(number(0, 4)?).ok()?;
    if year < 1000 {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(number(5, 7)?).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(year, month, u8::try_from(number(8, 10)?).ok()?).ok()?;
    let time_of_day = time::Time::from_hms_micro(
        u8::try_from(number(11, 13)?).ok()?,
        u8::try_from(number(14, 16)?).ok()?,
        u8::try_from(number(17, 19)?).ok()?,
        number(20, 26)?,
    )
    .ok()?;
    RecordedAt::from_datetime(time::PrimitiveDateTime::new(date, time_of_day).assume_utc()).ok()
}

pub(super) struct Reader<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.text.as_bytes()[self.pos..]
    }

    fn literal(&mut self, expected: &str) -> Option<()> {
        if self.rest().starts_with(expected.as_bytes()) {
            self.pos += expected.len();
            Some(())
        } else {
            None
        }
    }

    /// A string whose canonical form needs no escape: no `"`, `\` or
    /// control character between its quotes. RFC 8785 escapes exactly
    /// those (and serde_json's parser refuses raw control characters),
    /// so such a string is its own canonical form.
    fn string(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        if rest.first() != Some(&b'"') {
            return None;
        }
        let len = rest[1..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[1 + len] != b'"' {
            return None;
        }
        let start = self.pos + 1;
        self.pos = start + len + 1;
        // Both ends sit next to an ASCII quote: character boundaries.
        self.text.get(start..start + len)
    }

    /// A digest string as `Digest::from_hex` reads it: exactly 64
    /// lowercase hexadecimal digits, which need no escape.
    pub(super) fn digest(&mut self) -> Option<Digest> {
        let rest = self.rest();
        if rest.len() < 66 || rest[0] != b'"' || rest[65] != b'"' {
            return None;
        }
        // A table instead of branches: the digits of a hash are random,
        // and so would be the branches.
        let mut out = [0u8; 32];
        let mut invalid = 0u8;
        for (byte, pair) in out.iter_mut().zip(rest[1..65].chunks_exact(2)) {
            let (high, low) = (HEX[usize::from(pair[0])], HEX[usize::from(pair[1])]);
            invalid |= high | low;
            *byte = high << 4 | low;
        }
        if invalid & 0xf0 != 0 {
            return None;
        }
        self.pos += 66;
        Some(Digest(out))
    }

    /// A signature string of the usual 88 characters, as
    /// `EventSignature::parse` reads it. Base64 decoding refuses every
    /// character that would need an escape, so the closing quote found
    /// here is the one a string reader would find.
    fn signature(&mut self) -> Option<EventSignature> {
        let rest = self.rest();
        if rest.len() < 90 || rest[0] != b'"' || rest[89] != b'"' {
            return None;
        }
        let text = std::str::from_utf8(&rest[1..89]).ok()?;
        let signature = EventSignature::parse(text).ok()?;
        self.pos += 90;
        Some(signature)
    }

    /// A non-negative integer in canonical spelling (no sign, no
    /// leading zero, no fraction or exponent, which the caller's next
    /// literal or separator rules out) of at most `MAX_DIGITS` digits.
    fn unsigned(&mut self) -> Option<u64> {
        let rest = self.rest();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > MAX_DIGITS || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        self.pos += digits;
        Some(
            rest[..digits]
                .iter()
                .fold(0, |n, &c| n * 10 + u64::from(c - b'0')),
        )
    }

    /// A JSON value in canonical form, built as `jcs::parse` builds it.
    fn value(&mut self, depth: usize) -> Option<Value> {
        match *self.rest().first()? {
            b'"' => self.string().map(|s| Value::String(s.to_owned())),
            b'{' => self.object(depth + 1).map(Value::Object),
            b'[' => self.array(depth + 1),
            b't' => self.literal("true").map(|()| Value::Bool(true)),
            b'f' => self.literal("false").map(|()| Value::Bool(false)),
            b'n' => self.literal("null").map(|()| Value::Null),
            b'-' => {
                self.pos += 1;
                // `-0` is not canonical; no digit count here overflows.
                let n = i64::try_from(self.unsigned()?).ok()?;
                (n != 0).then(|| Value::from(-n))
            }
            b'0'..=b'9' => self.unsigned().map(Value::from),
            _ => None,
        }
    }

    fn array(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.literal("[")?;
        let mut items = Vec::new();
        if self.literal("]").is_some() {
            return Some(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            if self.literal(",").is_none() {
                self.literal("]")?;
                return Some(Value::Array(items));
            }
        }
    }

    /// An object whose members are in strictly increasing order of
    /// their names' UTF-16 code units: sorted as RFC 8785 sorts them,
    /// and without duplicates (which the general path refuses).
    fn object(&mut self, depth: usize) -> Option<Map<String, Value>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.literal("{")?;
        let mut map = Map::new();
        if self.literal("}").is_some() {
            return Some(map);
        }
        let mut previous: Option<&str> = None;
        loop {
            let name = self.string()?;
            if previous.is_some_and(|p| !utf16_less(p, name)) {
                return None;
            }
            self.literal(":")?;
            let value = self.value(depth)?;
            map.insert(name.to_owned(), value);
            previous = Some(name);
            if self.literal(",").is_none() {
                self.literal("}")?;
                return Some(map);
            }
        }
    }
}

/// The value of each lowercase hexadecimal digit; 0xff for any other
/// byte.
const HEX: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 16 {
        table[b"0123456789abcdef"[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// `a < b` in UTF-16 code units. UTF-8 byte order is code point order,
/// which agrees with UTF-16 order unless a character at or above
/// U+E000 (lead byte 0xEE or more) meets one above U+FFFF.
pub(super) fn utf16_less(a: &str, b: &str) -> bool {
    if a.bytes().chain(b.bytes()).any(|c| c >= 0xEE) {
        a.encode_utf16().lt(b.encode_utf16())
    } else {
        a < b
    }
}
