//! Keys: event-signing key identifiers and the C2SP `signed-note` key
//! encodings used for every key file daicho reads or writes (FORMAT.md §4).

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// Why a key or key string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not of the form `name+hexid+base64`.
    #[error("malformed key string: {0}")]
    Malformed(&'static str),
    /// The signature algorithm byte is not 0x01 (Ed25519).
    #[error("unsupported signature algorithm {0:#04x}; only Ed25519 (0x01) is known")]
    UnsupportedAlgorithm(u8),
    /// The key ID in the string does not match the one derived from name and key.
    #[error("key ID {found} does not match the ID {expected} derived from the name and key")]
    IdMismatch {
        /// Derived.
        expected: String,
        /// Written.
        found: String,
    },
    /// Not a valid Ed25519 public key, or one of small order.
    #[error("not a usable Ed25519 public key")]
    BadPublicKey,
    /// A key identifier that is not 32 lowercase hexadecimal characters.
    #[error("a key_id is 32 lowercase hexadecimal characters")]
    BadKeyId,
}

/// Identifies an event-signing key: the first 16 bytes of SHA-256 of the
/// raw 32-byte public key, in lowercase hexadecimal (FORMAT.md §4.1).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// The identifier of a public key.
    pub fn of(key: &VerifyingKey) -> KeyId {
        KeyId(hex::encode(&Sha256::digest(key.as_bytes())[..16]))
    }
    /// Parses 32 lowercase hexadecimal characters.
    pub fn parse(s: &str) -> Result<KeyId, KeyError> {
        if s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(KeyId(s.to_owned()))
        } else {
            Err(KeyError::BadKeyId)
        }
    }
    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}
crate::timestamp::string_serde!(KeyId, |k: &KeyId| k.0.clone());

/// An Ed25519 public key that is usable for strict verification: a valid
/// point, not of small order. In JSON it is the standard base64 of its 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub VerifyingKey);

impl PublicKey {
    /// Parses base64 of 32 bytes and rejects weak keys.
    pub fn parse(s: &str) -> Result<PublicKey, KeyError> {
        let bytes = B64.decode(s).map_err(|_| KeyError::BadPublicKey)?;
        Self::from_bytes(&bytes)
    }
    /// From 32 raw bytes; rejects weak keys.
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadPublicKey)?;
        let key = VerifyingKey::from_bytes(&arr).map_err(|_| KeyError::BadPublicKey)?;
        // A non-canonical encoding (y ≥ p) names the same point as the
        // canonical one, so one key could be registered under two key IDs.
        if key.to_edwards().compress().to_bytes() != arr || key.is_weak() {
            return Err(KeyError::BadPublicKey);
        }
        Ok(PublicKey(key))
    }
    /// The key's identifier.
    pub fn key_id(&self) -> KeyId {
        KeyId::of(&self.0)
    }
    /// Base64 of the 32 raw bytes.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0.as_bytes())
    }

    /// Verifies an event signature by the rule of FORMAT.md §5.3: `S`
    /// canonical, `R` canonically encoded and not of small order (the key
    /// was checked the same way when it was parsed), and the cofactored
    /// equation `[8][S]B = [8]R + [8][k]A` of RFC 8032 §5.1.7 with
    /// `k = SHA-512(R || A || M) mod ℓ`.
    ///
    /// The cofactored equation is the one RFC 8032 states; ed25519-dalek
    /// offers only the cofactorless variant, which a batch verifier cannot
    /// reproduce exactly (a torsion component of `R` is invisible to the
    /// batch with probability up to 1/2). With the cofactored rule, single
    /// and batch verification accept exactly the same signatures, so this
    /// check is written here over curve25519-dalek's primitives (the same
    /// steps as ed25519-zebra's ZIP 215 verification, with stricter
    /// encoding checks).
    pub fn verify(&self, message: &[u8], signature: &ed25519_dalek::Signature) -> bool {
        use curve25519_dalek::edwards::EdwardsPoint;
        use curve25519_dalek::scalar::Scalar;
        use curve25519_dalek::traits::IsIdentity as _;
        use sha2::Sha512;

        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(*signature.s_bytes()))
        else {
            return false;
        };
        let r_bytes = signature.r_bytes();
        let Some(r) = crate::batch::decode_r(r_bytes) else {
            return false;
        };
        let a = self.0.to_edwards();
        let mut h = Sha512::new();
        h.update(r_bytes);
        h.update(self.0.as_bytes());
        h.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        // R' = [S]B - [k]A; the signature holds when [8](R - R') = 0.
        let r_prime = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-a, &s);
        (r - r_prime).mul_by_cofactor().is_identity()
    }
}
impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}
crate::timestamp::string_serde!(PublicKey, |k: &PublicKey| k.to_base64());

/// The C2SP signed-note key ID: the first four bytes of
/// `SHA-256(name || 0x0A || 0x01 || public key)`.
fn note_key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', 0x01]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

pub(crate) fn check_name(name: &str) -> Result<(), KeyError> {
    // C2SP signed-note: a key name is non-empty and has no Unicode spaces or plus signs.
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(KeyError::Malformed(
            "key name must be non-empty, without spaces or '+'",
        ));
    }
    Ok(())
}

/// A C2SP verifier key: `name+hexid+base64(0x01 || public key)`.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    key: PublicKey,
}

impl NoteVerifier {
    /// Builds the verifier for a public key under a name.
    pub fn new(name: &str, key: PublicKey) -> Result<Self, KeyError> {
        check_name(name)?;
        Ok(NoteVerifier {
            name: name.to_owned(),
            id: note_key_id(name, &key.0),
            key,
        })
    }
    /// Parses a verifier key string (surrounding whitespace is ignored).
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let (name, id, key) = parse_verifier_key(s, 0x01)?;
        let v = NoteVerifier::new(name, key)?;
        check_key_id(id, &v.id)?;
        Ok(v)
    }
    /// The key name (for the ledger: its origin).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The four-byte signed-note key ID.
    pub fn note_id(&self) -> [u8; 4] {
        self.id
    }
    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.key
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_verifier_key(f, &self.name, &self.id, 0x01, &self.key)
    }
}

/// The name, hex key id and seed of a C2SP private key string,
/// `PRIVATE+KEY+NAME+HEXID+BASE64(TYPE || 32-byte seed)`, of the key type
/// given (0x01 for note keys, 0x04 for witness keys); surrounding
/// whitespace is ignored.
pub(crate) fn parse_private_key(s: &str, key_type: u8) -> Result<(&str, &str, [u8; 32]), KeyError> {
    let rest = s
        .trim()
        .strip_prefix("PRIVATE+KEY+")
        .ok_or(KeyError::Malformed("expected PRIVATE+KEY+name+keyid+key"))?;
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::Malformed("expected PRIVATE+KEY+name+keyid+key"));
    };
    let raw = B64
        .decode(key)
        .map_err(|_| KeyError::Malformed("key is not base64"))?;
    let (&alg, seed) = raw.split_first().ok_or(KeyError::Malformed("empty key"))?;
    if alg != key_type {
        return Err(KeyError::UnsupportedAlgorithm(alg));
    }
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| KeyError::Malformed("an Ed25519 seed is 32 bytes"))?;
    Ok((name, id, seed))
}

/// The name, hex key id and public key of a C2SP verifier key string,
/// `NAME+HEXID+BASE64(TYPE || public key)`, of the key type given;
/// surrounding whitespace is ignored.
pub(crate) fn parse_verifier_key(
    s: &str,
    key_type: u8,
) -> Result<(&str, &str, PublicKey), KeyError> {
    // The base64 key may itself contain '+': split off name and ID only.
    let mut parts = s.trim().splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::Malformed("expected name+keyid+key"));
    };
    let raw = B64
        .decode(key)
        .map_err(|_| KeyError::Malformed("key is not base64"))?;
    let (&alg, pk) = raw.split_first().ok_or(KeyError::Malformed("empty key"))?;
    if alg != key_type {
        return Err(KeyError::UnsupportedAlgorithm(alg));
    }
    Ok((name, id, PublicKey::from_bytes(pk)?))
}

/// Refuses a key string whose key id is not the one its key has.
pub(crate) fn check_key_id(found: &str, expected: &[u8; 4]) -> Result<(), KeyError> {
    if found == hex::encode(expected) {
        Ok(())
    } else {
        Err(KeyError::IdMismatch {
            expected: hex::encode(expected),
            found: found.to_owned(),
        })
    }
}

/// Writes a C2SP verifier key, `NAME+HEXID+BASE64(TYPE || public key)`,
/// for note keys (type 0x01) and witness keys (type 0x04) alike.
pub(crate) fn write_verifier_key(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    id: &[u8; 4],
    key_type: u8,
    key: &PublicKey,
) -> fmt::Result {
    let mut raw = vec![key_type];
    raw.extend_from_slice(key.0.as_bytes());
    write!(f, "{name}+{}+{}", hex::encode(id), B64.encode(raw))
}
impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

/// A C2SP signer key: `PRIVATE+KEY+name+hexid+base64(0x01 || seed)`.
/// It is the format of every private key file daicho writes.
#[derive(Clone)]
pub struct NoteSigner {
    verifier: NoteVerifier,
    key: SigningKey,
}

impl NoteSigner {
    /// A signer from a 32-byte seed; the caller supplies the randomness.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, KeyError> {
        let key = SigningKey::from_bytes(&seed);
        let verifier = NoteVerifier::new(name, PublicKey(key.verifying_key()))?;
        Ok(NoteSigner { verifier, key })
    }
    /// Parses a signer key string (surrounding whitespace is ignored).
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let (name, id, seed) = parse_private_key(s, 0x01)?;
        let signer = NoteSigner::from_seed(name, seed)?;
        check_key_id(id, &signer.verifier.id)?;
        Ok(signer)
    }
    /// The matching verifier key.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }
    /// The Ed25519 signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }
    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.verifier.key
    }
    /// The event key ID of this key.
    pub fn key_id(&self) -> KeyId {
        self.verifier.key.key_id()
    }
    /// The secret key string. Handle with care: it is the private key.
    pub fn to_secret_string(&self) -> String {
        let mut raw = vec![0x01];
        raw.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.verifier.name,
            hex::encode(self.verifier.id),
            B64.encode(raw)
        )
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        write!(f, "NoteSigner({})", self.verifier)
    }
}
