//! `signatures.json`: the Ed25519 rule of FORMAT.md §5.3, one case per
//! clause, each over the signing message of the first vector event.
//!
//! The hard cases are built by hand from the secret scalar of a published
//! test key, so that the equation a lenient verifier checks *holds* and
//! only the clause named refuses the signature (or, for the mixed-order
//! `R`, only the cofactored equation accepts it).

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity as _;
use daicho_core::keys::NoteSigner;
use ed25519_dalek::Signer as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256, Sha512};

use crate::test_key;

/// ℓ, the order of the base point, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn k(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    Scalar::from_hash(
        Sha512::new()
            .chain_update(r)
            .chain_update(a)
            .chain_update(message),
    )
}

/// A deterministic nonce from a label, so the file never changes.
fn nonce(label: &str) -> Scalar {
    let wide: [u8; 64] = Sha512::digest(format!("daicho test nonce: {label}")).into();
    Scalar::from_bytes_mod_order_wide(&wide)
}

fn sig(r: [u8; 32], s: [u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&r);
    out[32..].copy_from_slice(&s);
    out
}

/// `s + ℓ` as 32 little-endian bytes: the same scalar, not reduced.
fn add_ell(s: &Scalar) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for (i, byte) in out.iter_mut().enumerate() {
        let sum = u16::from(s.as_bytes()[i]) + u16::from(ELL[i]) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    out
}

/// The signature cases over `message`, signed by `key`.
pub fn signature_vectors(key: &NoteSigner, message: &[u8]) -> Value {
    let a_bytes = key.public_key().0.to_bytes();
    let a = key.signing_key().to_scalar();
    let torsion = EIGHT_TORSION[1];
    let mut cases = Vec::new();
    let mut case =
        |name: &str, why: &str, public_key: [u8; 32], signature: [u8; 64], valid: bool| {
            cases.push(json!({
                "name": name,
                "why": why,
                "public_key": crate::b64_bytes(&public_key),
                "signature": crate::b64_bytes(&signature),
                "valid": valid,
            }));
        };

    let honest = key.signing_key().sign(message).to_bytes();
    case(
        "valid",
        "an honest RFC 8032 signature",
        a_bytes,
        honest,
        true,
    );

    // S + ℓ: the same scalar in a non-canonical encoding.
    let s = Scalar::from_canonical_bytes(honest[32..].try_into().expect("32 bytes"))
        .expect("an honest S is canonical");
    let mut r_honest = [0u8; 32];
    r_honest.copy_from_slice(&honest[..32]);
    case(
        "non-canonical-s",
        "S + ℓ: both equations hold for the reduced S, but S is not below ℓ",
        a_bytes,
        sig(r_honest, add_ell(&s)),
        false,
    );

    // R = the identity, written with y = p + 1 (non-canonical) and with
    // the sign bit set on x = 0 (non-canonical); S = k·a makes both
    // equations hold for the decoded point.
    let mut y_above_p = [0xffu8; 32];
    y_above_p[0] = 0xee;
    y_above_p[31] = 0x7f;
    let mut minus_zero = [0u8; 32];
    minus_zero[0] = 1;
    minus_zero[31] = 0x80;
    for (name, r) in [
        ("non-canonical-r-y", y_above_p),
        ("non-canonical-r-sign", minus_zero),
    ] {
        let s = k(&r, &a_bytes, message) * a;
        case(
            name,
            "R is a non-canonical encoding of the identity; S = k·a makes both equations hold",
            a_bytes,
            sig(r, s.to_bytes()),
            false,
        );
    }

    // R of order 8, S = k·a: the cofactored equation holds.
    let r = torsion.compress().to_bytes();
    let s = k(&r, &a_bytes, message) * a;
    case(
        "small-order-r",
        "R has order 8; S = k·a makes the cofactored equation hold",
        a_bytes,
        sig(r, s.to_bytes()),
        false,
    );

    // A = the identity, R = [r]B, S = r: [S]B = R + [k]A for any message.
    let identity = CompressedEdwardsY::identity().to_bytes();
    let r_scalar = nonce("small-order-a");
    let r = (r_scalar * B).compress().to_bytes();
    case(
        "small-order-a",
        "A is the identity, so [S]B = R + [k]A holds for every message",
        identity,
        sig(r, r_scalar.to_bytes()),
        false,
    );

    // R = [r]B + T with T of order 8, S = r + k·a: [8]R = [8][r]B, so the
    // cofactored equation holds and the cofactorless one does not.
    let r_scalar = nonce("mixed-order-r");
    let r = (r_scalar * B + torsion).compress().to_bytes();
    let s = r_scalar + k(&r, &a_bytes, message) * a;
    case(
        "mixed-order-r",
        "R = [r]B + T with T of order 8: valid by the cofactored equation (§5.3), invalid by the cofactorless one",
        a_bytes,
        sig(r, s.to_bytes()),
        true,
    );

    // The honest signature over another message.
    let mut other = message.to_vec();
    other.push(b' ');
    case(
        "other-message",
        "an honest signature of a message one byte longer",
        a_bytes,
        key.signing_key().sign(&other).to_bytes(),
        false,
    );

    json!({
        "message_hex": hex::encode(message),
        "message_sha256": hex::encode(Sha256::digest(message)),
        "key": test_key_name(),
        "cases": cases,
    })
}

fn test_key_name() -> &'static str {
    "source-a"
}

/// The key the cases are made with.
pub fn signature_key() -> NoteSigner {
    test_key(test_key_name(), test_key_name())
}
