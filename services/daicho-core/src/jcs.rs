//! Strict JSON parsing and RFC 8785 canonicalisation (FORMAT.md §1).
//!
//! Serde-based parsers keep the last of duplicate keys without a word, and
//! two parsers that disagree on a duplicate can be made to see two different
//! documents behind one hash. Every JSON value that daicho hashes or signs is
//! therefore parsed here first: duplicate keys, integers that an IEEE 754
//! double cannot hold exactly, and anything serde_json already refuses
//! (non-finite numbers, lone surrogates, trailing data) are errors.
//! Canonicalisation is written here for everything but non-integer and
//! very large numbers, whose ECMAScript formatting is delegated to
//! `serde_json_canonicalizer` (which agrees with the RFC 8785 reference
//! implementation); a property test holds the two together.

use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a JSON text was refused by [`parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JcsError {
    /// The text is not JSON, or holds something JSON cannot (serde_json's message).
    #[error("malformed JSON: {0}")]
    Syntax(String),
    /// An object names the same member twice.
    #[error("duplicate key {key:?} in one object")]
    DuplicateKey {
        /// The repeated member name.
        key: String,
    },
    /// An integer literal that an IEEE 754 double cannot represent exactly
    /// (RFC 8785 §3.2.2.3: such values must be sent as strings).
    #[error("integer {literal} cannot be represented exactly as an IEEE 754 double; send it as a string")]
    InexactInteger {
        /// The integer as parsed.
        literal: String,
    },
}

/// Parses one JSON text strictly (FORMAT.md §1.1).
pub fn parse(bytes: &[u8]) -> Result<Value, JcsError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed.deserialize(&mut de).map_err(|e| classify(&e))?;
    de.end().map_err(|e| JcsError::Syntax(e.to_string()))?;
    Ok(value)
}

/// The RFC 8785 canonical form of a value (FORMAT.md §1.2).
///
/// Values built by [`parse`] or by serde from daicho's own types always
/// canonicalise; the only failure serde_json_canonicalizer knows is a
/// non-finite float, which `serde_json::Value` cannot hold.
pub fn canonicalize<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("a serde_json value always canonicalises")
}

/// The canonical form of one of daicho's own types through the fast
/// writer. Only for types whose numbers are integers or values that came
/// from [`parse`]: serde_json would turn a non-finite float into `null`.
pub(crate) fn canonicalize_own<T: serde::Serialize>(value: &T) -> Vec<u8> {
    canonicalize_value(&serde_json::to_value(value).expect("daicho's types serialise"))
}

/// Parses strictly, then canonicalises.
pub fn canonicalize_text(bytes: &[u8]) -> Result<Vec<u8>, JcsError> {
    Ok(canonicalize_value(&parse(bytes)?))
}

/// The RFC 8785 canonical form of a parsed value, written directly.
///
/// This is the verifier's hot path: every bundle line is parsed and
/// re-canonicalised to prove that no byte of it escapes verification.
/// `serde_json_canonicalizer` re-parses every member name to sort it, which
/// made that check cost more than the signature check it accompanies. This
/// writer sorts member names by UTF-16 code units directly, writes strings
/// with JSON's minimal escapes (which serde_json's string writer already
/// produces), prints integers of magnitude at most 2^53 as plain digits
/// (ECMAScript prints them the same), and leaves every other number to
/// `serde_json_canonicalizer`'s ECMAScript number formatting. A property
/// test checks it against that crate on random values.
pub fn canonicalize_value(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value);
    out
}

/// The canonical form of an object, with the span of its member `name`
/// (the member and the comma that separates it from the one before, or
/// from the one after when it comes first), so that the canonical form of
/// the object without that member is the bytes around the span. `None`
/// when the object has no such member.
pub(crate) fn canonicalize_marking(
    map: &Map<String, Value>,
    name: &str,
) -> (Vec<u8>, Option<Range<usize>>) {
    let mut out = Vec::with_capacity(256);
    let span = write_object(&mut out, map, Some(name));
    (out, span)
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            write_object(out, map, None);
        }
    }
}

/// Writes `map` canonically; returns the span of the member `mark` as
/// [`canonicalize_marking`] describes it.
fn write_object(
    out: &mut Vec<u8>,
    map: &Map<String, Value>,
    mark: Option<&str>,
) -> Option<Range<usize>> {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    // UTF-8 byte order (the map's order) equals UTF-16 order unless a
    // name holds a character at or above U+E000; sort only then.
    if members.iter().any(|(k, _)| k.bytes().any(|b| b >= 0xEE)) {
        members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    } else if !members.windows(2).all(|w| w[0].0 <= w[1].0) {
        members.sort_by(|a, b| a.0.cmp(b.0));
    }
    let last = members.len().saturating_sub(1);
    let mut span = None;
    out.push(b'{');
    for (i, (k, v)) in members.into_iter().enumerate() {
        let start = out.len();
        if i > 0 {
            out.push(b',');
        }
        write_string(out, k);
        out.push(b':');
        write_value(out, v);
        if mark == Some(k.as_str()) {
            // The first member takes the comma after it instead.
            let end = if i == 0 && i < last {
                out.len() + 1
            } else {
                out.len()
            };
            span = Some(start..end);
        }
    }
    out.push(b'}');
    span
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64().filter(|u| *u <= EXACT_LIMIT) {
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= EXACT_LIMIT) {
        out.extend_from_slice(i.to_string().as_bytes());
    } else {
        out.extend_from_slice(&canonicalize(n));
    }
}

// Our own errors travel through serde_json's error type as custom messages;
// these prefixes recover them.
const DUPLICATE: &str = "\u{0}daicho-duplicate:";
const INEXACT: &str = "\u{0}daicho-inexact:";

fn classify(e: &serde_json::Error) -> JcsError {
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix(DUPLICATE) {
        let key = rest.rsplit_once(" at line ").map_or(rest, |(k, _)| k);
        return JcsError::DuplicateKey {
            key: key.to_owned(),
        };
    }
    if let Some(rest) = msg.strip_prefix(INEXACT) {
        let literal = rest.rsplit_once(" at line ").map_or(rest, |(k, _)| k);
        return JcsError::InexactInteger {
            literal: literal.to_owned(),
        };
    }
    JcsError::Syntax(msg)
}

struct StrictSeed;

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

/// Whether `literal` is the RFC 8785 form of the double `f`. Above 2^53,
/// ECMAScript writes a double as its shortest round-trip digits padded with
/// zeros (`19007199254740992` becomes `19007199254740990`), an integer
/// literal that is not the double's exact value. Such a literal is
/// accepted (FORMAT.md §1.1), so that every canonical text parses again:
/// otherwise the service could accept an event whose canonical bytes a
/// verifier refuses.
fn is_canonical_form_of(f: f64, literal: &str) -> bool {
    Number::from_f64(f).is_some_and(|n| canonicalize_value(&Value::Number(n)) == literal.as_bytes())
}

/// 2^53: every integer of at most this magnitude is an exact double.
const EXACT_LIMIT: u64 = 1 << 53;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        // `as` saturates: 2^64 - 1 becomes 2^64 as a double and back again
        // u64::MAX, so the round trip alone would call it exact.
        let f = v as f64;
        if v > EXACT_LIMIT
            && (f >= 18_446_744_073_709_551_616.0 || f as u64 != v)
            && !is_canonical_form_of(f, &v.to_string())
        {
            return Err(E::custom(format!("{INEXACT}{v}")));
        }
        Ok(Value::Number(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        if v.unsigned_abs() > EXACT_LIMIT
            && (v as f64) as i64 != v
            && !is_canonical_form_of(v as f64, &v.to_string())
        {
            return Err(E::custom(format!("{INEXACT}{v}")));
        }
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // serde_json reports out-of-range literals itself; this guards the rest.
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictSeed)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(StrictSeed)?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE}{key}")));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The bytes around the marked span are the canonical form of the
        /// object without the member, wherever it sorts: first, last, alone
        /// or in between, and with the same name nested inside.
        #[test]
        fn the_bytes_around_a_marked_member_are_the_object_without_it(
            keys in prop::collection::btree_set(
                prop_oneof![Just("signature".to_owned()), "[a-z]{0,3}", "s[h-j][a-z]{0,8}"],
                0..5,
            ),
            nested in any::<bool>(),
        ) {
            let mut map: Map<String, Value> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| (k.clone(), Value::from(i)))
                .collect();
            if nested {
                let inner: Map<String, Value> =
                    [("signature".to_owned(), Value::from("x"))].into_iter().collect();
                map.insert("a".to_owned(), Value::Object(inner));
            }
            let (bytes, span) = canonicalize_marking(&map, "signature");
            prop_assert_eq!(&bytes, &canonicalize_value(&Value::Object(map.clone())));
            match map.remove("signature") {
                None => prop_assert!(span.is_none()),
                Some(_) => {
                    let span = span.expect("marked");
                    let mut without = bytes[..span.start].to_vec();
                    without.extend_from_slice(&bytes[span.end..]);
                    prop_assert_eq!(without, canonicalize_value(&Value::Object(map)));
                }
            }
        }
    }
}
