//! Strict JSON parsing and RFC 8785 canonicalisation (FORMAT.md §1).
//!
//! Serde-based parsers keep the last of duplicate keys without a word, and
//! two parsers that disagree on a duplicate can be made to see two different
//! documents behind one hash. Every JSON value that daicho hashes or signs is
//! therefore parsed here first: duplicate keys, integers that an IEEE 754
//! double cannot hold exactly, and anything serde_json already refuses
//! (non-finite numbers, lone surrogates, trailing data) are errors.
//! Canonicalisation itself is delegated to `serde_json_canonicalizer`, which
//! agrees with the RFC 8785 reference implementation.

use std::collections::BTreeSet;
use std::fmt;

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

/// Parses strictly, then canonicalises.
pub fn canonicalize_text(bytes: &[u8]) -> Result<Vec<u8>, JcsError> {
    Ok(canonicalize(&parse(bytes)?))
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
        if v > EXACT_LIMIT && (v as f64) as u64 != v {
            return Err(E::custom(format!("{INEXACT}{v}")));
        }
        Ok(Value::Number(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        if v.unsigned_abs() > EXACT_LIMIT && (v as f64) as i64 != v {
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
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("{DUPLICATE}{key}")));
            }
            let v = map.next_value_seed(StrictSeed)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}
