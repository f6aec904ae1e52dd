//! SHA-256 digests and the RFC 9162 domain-separated hashes (FORMAT.md §2).

use std::fmt;

use sha2::{Digest as _, Sha256};

/// Prefix byte of a Merkle leaf hash (RFC 9162 §2.1.1).
pub const LEAF_PREFIX: u8 = 0x00;
/// Prefix byte of a Merkle interior node hash (RFC 9162 §2.1.1).
pub const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 output. Equality is constant-time, because roots and hashes
/// are compared against values an attacker may choose.
#[derive(Clone, Copy, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The all-zero digest, used as the previous hash of the genesis entry.
    pub const ZERO: Digest = Digest([0; 32]);

    /// SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Digest {
        Digest(Sha256::digest(data).into())
    }

    /// Parses a digest from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Digest> {
        Some(Digest(bytes.try_into().ok()?))
    }

    /// Parses 64 lowercase hexadecimal characters (FORMAT.md §1.3).
    pub fn from_hex(s: &str) -> Option<Digest> {
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Digest(out))
    }

    /// Lowercase hexadecimal form, as digests appear in hashed JSON.
    pub fn to_hex(&self) -> String {
        String::from_utf8(self.hex_ascii().to_vec()).expect("hexadecimal is ASCII")
    }

    /// The hexadecimal form's ASCII bytes, on the stack: receipts and
    /// entries write several per event, and `hex::encode` builds its
    /// `String` a character at a time.
    pub(crate) fn hex_ascii(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        hex::encode_to_slice(self.0, &mut out).expect("64 digits for 32 bytes");
        out
    }

    /// Standard base64 with padding, as digests appear in checkpoints and proofs.
    pub fn to_base64(&self) -> String {
        String::from_utf8(self.base64_ascii().to_vec()).expect("base64 is ASCII")
    }

    /// The base64 form's ASCII bytes, on the stack.
    pub(crate) fn base64_ascii(&self) -> [u8; 44] {
        use base64::Engine as _;
        let mut out = [0u8; 44];
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(self.0, &mut out)
            .expect("44 characters for 32 bytes");
        debug_assert_eq!(n, 44);
        out
    }

    /// Parses standard padded base64 of exactly 32 bytes.
    pub fn from_base64(s: &str) -> Option<Digest> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        Digest::from_slice(&bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for Digest {
    fn eq(&self, other: &Self) -> bool {
        // Constant-time: fold the XOR of every byte before looking at it.
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}
impl Eq for Digest {}

impl std::hash::Hash for Digest {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Consistent with the constant-time equality: equal digests have equal bytes.
        self.0.hash(state);
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// RFC 9162 leaf hash: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    Digest(h.finalize().into())
}

/// RFC 9162 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left.0);
    h.update(right.0);
    Digest(h.finalize().into())
}

/// Digests travel through hashed JSON as 64 lowercase hexadecimal characters.
impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ascii = self.hex_ascii();
        s.serialize_str(std::str::from_utf8(&ascii).expect("hexadecimal is ASCII"))
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Digest::from_hex(&s).ok_or_else(|| {
            serde::de::Error::custom("expected 64 lowercase hexadecimal characters (SHA-256)")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use proptest::prelude::*;

    proptest! {
        /// The stack-written forms are the crates' own.
        #[test]
        fn text_forms_are_the_crates_encodings(bytes in any::<[u8; 32]>()) {
            let d = Digest(bytes);
            prop_assert_eq!(d.to_hex(), hex::encode(bytes));
            prop_assert_eq!(d.to_base64(), base64::engine::general_purpose::STANDARD.encode(bytes));
            prop_assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{}\"", hex::encode(bytes)));
            prop_assert_eq!(Digest::from_hex(&d.to_hex()), Some(d));
            prop_assert_eq!(Digest::from_base64(&d.to_base64()), Some(d));
        }
    }
}
