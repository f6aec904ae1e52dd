//! Batch verification of event signatures that accepts exactly what the
//! single check accepts (FORMAT.md §5.3).
//!
//! # The rule, and why batches agree with it
//!
//! A valid event signature `(R, S)` on message `M` under key `A` has `S`
//! canonical, `R` and `A` canonical encodings of points not of small order,
//! and satisfies the cofactored equation of RFC 8032 §5.1.7,
//! `[8][S]B = [8]R + [8][k]A` with `k = SHA-512(R || A || M) mod ℓ`.
//! [`PublicKey::verify`] is that rule, one signature at a time.
//!
//! A batch checks, for 128-bit weights `z_i` unknown to whoever made the
//! signatures, `[8]([-Σ z_i S_i]B + Σ z_i R_i + Σ z_i k_i A_i) = 0`. Each
//! signature's term `E_i = R_i + [k_i]A_i - [S_i]B` satisfies `[8]E_i = 0`
//! exactly when it is valid, so a batch of valid signatures always passes;
//! and if some `[8]E_i ≠ 0`, that component lies in the prime-order
//! subgroup, where the weighted combination vanishes with probability about
//! 2^-128. Torsion components, which make a cofactorless batch disagree
//! with a cofactorless single check, are multiplied away by the cofactor on
//! both sides. Encodings are checked before batching ([`r_is_batchable`];
//! keys were checked when they were parsed), and a signature the batch may
//! not take, or a batch that fails, is decided one by one with the single
//! check, which names the bad signatures.
//!
//! The weights are derived from a secret the caller draws (this crate draws
//! no randomness): SHA-512 of the secret, a batch counter and the position.
//! Whoever submits signatures must not know the secret, or they could
//! choose an invalid signature that cancels out.
//!
//! ed25519-zebra implements the same cofactored batch (ZIP 215); it is not
//! used because it brings a second copy of the curve arithmetic
//! (curve25519-dalek 5) and rand_core 0.10 into the auditor's dependency
//! tree, for thirty lines over the multiscalar multiplication that
//! curve25519-dalek 4 already provides.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity as _, VartimeMultiscalarMul as _};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest as _, Sha512};

use crate::keys::PublicKey;

/// One signature to check.
#[derive(Debug, Clone, Copy)]
pub struct SignatureCheck<'a> {
    /// The key the registry names for the event.
    pub key: &'a VerifyingKey,
    /// The signed message.
    pub message: &'a [u8],
    /// The signature.
    pub signature: Signature,
}

impl SignatureCheck<'_> {
    /// The single check of FORMAT.md §5.3.
    pub fn holds(&self) -> bool {
        PublicKey(*self.key).verify(self.message, &self.signature)
    }
}

/// `p = 2^255 - 19` in little-endian bytes, without the sign bit.
const P_BYTES: [u8; 32] = {
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// Whether the 255-bit y coordinate of an encoding is below p, that is,
/// written in its one canonical form.
fn y_is_canonical(r: &[u8; 32]) -> bool {
    // Compare from the most significant byte, with the sign bit cleared.
    for i in (0..32).rev() {
        let b = if i == 31 { r[31] & 0x7f } else { r[i] };
        if b != P_BYTES[i] {
            return b < P_BYTES[i];
        }
    }
    false // equal to p
}

/// The encodings with a canonical y that decode to a point of small order:
/// the eight points of the torsion subgroup, plus the "negative zero"
/// encodings (x sign bit set where x = 0) of the two such points with
/// x = 0, the identity and the point of order 2. A y of p or more is
/// refused before this list is consulted, so this list is complete.
fn small_order_encodings() -> &'static [[u8; 32]; 10] {
    use std::sync::OnceLock;
    static LIST: OnceLock<[[u8; 32]; 10]> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut list = [[0u8; 32]; 10];
        for (slot, point) in list
            .iter_mut()
            .zip(curve25519_dalek::constants::EIGHT_TORSION.iter())
        {
            *slot = point.compress().to_bytes();
        }
        // y = 1 (identity) and y = p - 1 (order 2), each with the sign bit set.
        let mut one = [0u8; 32];
        one[0] = 1;
        one[31] |= 0x80;
        let mut minus_one = P_BYTES;
        minus_one[0] -= 1;
        minus_one[31] |= 0x80;
        list[8] = one;
        list[9] = minus_one;
        list
    })
}

/// Whether `R` may join a batch: its encoding is canonical and it is not of
/// small order (cases 1 and 2 of the module documentation). This is the
/// same decision as `decompress()` followed by `is_small_order()` and a
/// re-encoding check, taken from the bytes alone because a square root per
/// signature would cost a third of the batch verification itself.
/// A false answer does not mean the signature is bad, only that
/// `verify_strict` must decide it.
pub fn r_is_batchable(r: &[u8; 32]) -> bool {
    y_is_canonical(r) && !small_order_encodings().contains(r)
}

/// `R` decoded, if its encoding is canonical and the point not of small
/// order, as the single check requires. Canonical is decided from the
/// bytes ([`y_is_canonical`]): a decodable encoding with y below p
/// re-encodes to the same bytes, except the two points with x = 0 written
/// with the sign bit set, which are of small order and refused anyway.
/// Re-encoding the point instead would cost an inversion, a sixth of the
/// whole check.
pub(crate) fn decode_r(r: &[u8; 32]) -> Option<EdwardsPoint> {
    if !y_is_canonical(r) {
        return None;
    }
    CompressedEdwardsY(*r)
        .decompress()
        .filter(|p| !p.is_small_order())
}

/// The reference decision [`r_is_batchable`] must agree with, kept for the
/// tests: decode, refuse small order, refuse any encoding that does not
/// re-encode to the same bytes.
pub fn r_is_batchable_by_decoding(r: &[u8; 32]) -> bool {
    match CompressedEdwardsY(*r).decompress() {
        Some(p) => !p.is_small_order() && p.compress().to_bytes() == *r,
        None => false, // Cannot decode: strict verification rejects it.
    }
}

/// Checks batches of signatures with weights derived from a secret.
pub struct BatchVerifier {
    /// The secret from which every batch's weights are derived.
    seed: [u8; 32],
    /// Batches started, so that no two batches share their weights.
    batches: AtomicU64,
}

impl std::fmt::Debug for BatchVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchVerifier").finish_non_exhaustive()
    }
}

impl BatchVerifier {
    /// A verifier whose weights derive from `secret`, which must be drawn
    /// from a random source and kept from whoever makes the signatures.
    pub fn new(secret: [u8; 32]) -> BatchVerifier {
        BatchVerifier {
            seed: secret,
            batches: AtomicU64::new(0),
        }
    }

    /// Checks `batch` as one batch and returns the indices of the
    /// signatures that do not verify, in ascending order. Signatures whose
    /// `R` may not be batched are decided one by one; the rest go through
    /// the cofactored batch equation and, if it fails, are decided one by
    /// one to name the bad ones.
    pub fn failures(&self, batch: &[SignatureCheck<'_>]) -> Vec<usize> {
        let mut failures = Vec::new();
        let mut batched = Vec::with_capacity(batch.len());
        for (i, c) in batch.iter().enumerate() {
            if r_is_batchable(c.signature.r_bytes()) {
                batched.push(i);
            } else if !c.holds() {
                failures.push(i);
            }
        }
        if !batched.is_empty() && !self.batch_holds(batch, &batched) {
            failures.extend(batched.into_iter().filter(|&i| !batch[i].holds()));
        }
        failures.sort_unstable();
        failures
    }

    /// `[8]([-Σ z_i S_i]B + Σ z_i R_i + Σ z_i k_i A_i) = 0` over the
    /// signatures `which` of `batch`.
    ///
    /// The terms of one key are summed before the multiplication,
    /// `Σ z_i k_i A = [Σ z_i k_i]A`, as ed25519-zebra does: a batch that a
    /// source system signed with its one key multiplies `n + 2` points
    /// instead of `2n + 1`. The sum is the same group element, so the
    /// equation decides exactly as before.
    fn batch_holds(&self, batch: &[SignatureCheck<'_>], which: &[usize]) -> bool {
        let n = self.batches.fetch_add(1, Ordering::Relaxed);
        let mut b_coeff = Scalar::ZERO;
        let mut coeffs = Vec::with_capacity(2 * which.len() + 1);
        let mut points = Vec::with_capacity(2 * which.len() + 1);
        // Each distinct key, with the sum of its signatures' `z_i k_i`.
        let mut keys: Vec<(&VerifyingKey, Scalar)> = Vec::new();
        let mut key_slot: HashMap<[u8; 32], usize> = HashMap::new();
        coeffs.push(Scalar::ZERO);
        points.push(ED25519_BASEPOINT_POINT);
        for (j, &i) in which.iter().enumerate() {
            let c = &batch[i];
            let sig = &c.signature;
            let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(*sig.s_bytes()))
            else {
                return false;
            };
            let Some(r) = CompressedEdwardsY(*sig.r_bytes()).decompress() else {
                return false;
            };
            let k = Scalar::from_bytes_mod_order_wide(
                &Sha512::new()
                    .chain_update(sig.r_bytes())
                    .chain_update(c.key.as_bytes())
                    .chain_update(c.message)
                    .finalize()
                    .into(),
            );
            let z = self.weight(n, j);
            b_coeff -= z * s;
            coeffs.push(z);
            points.push(r);
            let slot = *key_slot.entry(c.key.to_bytes()).or_insert_with(|| {
                keys.push((c.key, Scalar::ZERO));
                keys.len() - 1
            });
            keys[slot].1 += z * k;
        }
        for (key, coeff) in keys {
            coeffs.push(coeff);
            points.push(key.to_edwards());
        }
        coeffs[0] = b_coeff;
        EdwardsPoint::vartime_multiscalar_mul(&coeffs, &points)
            .mul_by_cofactor()
            .is_identity()
    }

    /// The 128-bit weight of signature `j` in batch `n`: SHA-512 of the
    /// secret and the position.
    fn weight(&self, n: u64, j: usize) -> Scalar {
        let h = Sha512::new()
            .chain_update(self.seed)
            .chain_update(n.to_le_bytes())
            .chain_update((j as u64).to_le_bytes())
            .finalize();
        let mut z = [0u8; 16];
        z.copy_from_slice(&h[..16]);
        Scalar::from(u128::from_le_bytes(z))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    fn verifier() -> BatchVerifier {
        BatchVerifier::new([42; 32])
    }

    /// The byte check must agree with decoding on every encoding that
    /// decodes; one that does not decode may go either way, because the
    /// batch then fails and the single check rejects it.
    fn checks_agree(r: [u8; 32]) {
        if CompressedEdwardsY(r).decompress().is_some() {
            assert_eq!(
                r_is_batchable(&r),
                r_is_batchable_by_decoding(&r),
                "disagreement on {r:02x?}"
            );
        }
        // The single check's decoding agrees on every encoding.
        assert_eq!(
            decode_r(&r).is_some(),
            r_is_batchable_by_decoding(&r),
            "decode_r disagrees on {r:02x?}"
        );
    }

    #[test]
    fn byte_check_matches_decoding_on_special_encodings() {
        // Every y below 32 and every y from p to 2^255 - 1, with both sign
        // bits: this covers all small-order points and all non-canonical
        // encodings of small y.
        for low in 0u8..32 {
            for sign in [0u8, 0x80] {
                let mut r = [0u8; 32];
                r[0] = low;
                r[31] |= sign;
                checks_agree(r);
                let mut r = P_BYTES;
                if let Some(b) = 0xedu8.checked_add(low) {
                    r[0] = b;
                    r[31] |= sign;
                    checks_agree(r);
                }
                // p - 1 - low, the negatives of small y.
                let mut r = P_BYTES;
                r[0] = 0xed - 1 - low;
                r[31] |= sign;
                checks_agree(r);
            }
        }
        for p in curve25519_dalek::constants::EIGHT_TORSION.iter() {
            let enc = p.compress().to_bytes();
            assert!(!r_is_batchable(&enc));
            let mut neg = enc;
            neg[31] ^= 0x80;
            checks_agree(neg);
        }
    }

    #[test]
    fn byte_check_matches_decoding_on_real_and_random_encodings() {
        let mut state = [7u8; 32];
        for i in 0..300u32 {
            // A cheap deterministic stream of candidate encodings.
            let mut h = sha2::Sha256::new();
            h.update(state);
            h.update(i.to_le_bytes());
            state = h.finalize().into();
            checks_agree(state);
            let key = SigningKey::from_bytes(&state);
            let sig = key.sign(b"m");
            assert!(r_is_batchable(sig.r_bytes()));
        }
    }

    fn signed(n: usize) -> (Vec<VerifyingKey>, Vec<Vec<u8>>, Vec<Signature>) {
        let keys: Vec<SigningKey> = (0..4u8)
            .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
            .collect();
        let msgs: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("message {i}").into_bytes())
            .collect();
        let sigs = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| keys[i % 4].sign(m))
            .collect();
        (
            keys.iter().map(SigningKey::verifying_key).collect(),
            msgs,
            sigs,
        )
    }

    fn checks<'a>(
        vks: &'a [VerifyingKey],
        msgs: &'a [Vec<u8>],
        sigs: &[Signature],
    ) -> Vec<SignatureCheck<'a>> {
        msgs.iter()
            .zip(sigs)
            .enumerate()
            .map(|(i, (m, s))| SignatureCheck {
                key: &vks[i % vks.len()],
                message: m,
                signature: *s,
            })
            .collect()
    }

    #[test]
    fn a_batch_finds_exactly_the_bad_signatures() {
        let (vks, msgs, mut sigs) = signed(100);
        let v = verifier();
        assert!(v.failures(&checks(&vks, &msgs, &sigs)).is_empty());
        // A wrong s, a wrong R, a signature by another key, and a
        // non-canonical s (s + ℓ).
        let mut b = sigs[5].to_bytes();
        b[40] ^= 1;
        sigs[5] = Signature::from_bytes(&b);
        let mut b = sigs[60].to_bytes();
        b[3] ^= 1;
        sigs[60] = Signature::from_bytes(&b);
        let other = SigningKey::from_bytes(&[99; 32]);
        sigs[99] = other.sign(&msgs[99]);
        let mut b = sigs[30].to_bytes();
        let s = Scalar::from_bytes_mod_order(b[32..].try_into().expect("32 bytes"));
        let l_plus_s = {
            // ℓ + s as 32 little-endian bytes (fits: s < ℓ < 2^253).
            let l: [u8; 32] = [
                0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
                0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
            ];
            let (mut out, mut carry) = ([0u8; 32], 0u16);
            for (k, o) in out.iter_mut().enumerate() {
                let t = u16::from(l[k]) + u16::from(s.as_bytes()[k]) + carry;
                *o = t as u8;
                carry = t >> 8;
            }
            out
        };
        b[32..].copy_from_slice(&l_plus_s);
        sigs[30] = Signature::from_bytes(&b);
        assert_eq!(v.failures(&checks(&vks, &msgs, &sigs)), vec![5, 30, 60, 99]);
    }

    /// A key holder's signature whose R carries a torsion component: the
    /// cofactorless single check would reject it and a cofactorless batch
    /// accept it about half the time. Under the cofactored rule the batch
    /// and the single check agree on it every time, in both directions.
    #[test]
    fn mixed_order_r_is_decided_the_same_way_by_batch_and_single() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let signing = SigningKey::from_bytes(&[11u8; 32]);
        let vk = signing.verifying_key();
        let a = signing.to_scalar();
        let v = verifier();
        // EIGHT_TORSION[4] is the point of order 2, [2] one of order 4.
        for t in [EIGHT_TORSION[4], EIGHT_TORSION[2], EIGHT_TORSION[1]] {
            assert!(t.is_small_order() && !t.is_identity());
            for attempt in 0u8..6 {
                let msg = [attempt; 8];
                let r0 = Scalar::from(u64::from(attempt) + 1000);
                let big_r = (ED25519_BASEPOINT_POINT * r0 + t).compress();
                assert!(r_is_batchable(big_r.as_bytes()));
                let k = Scalar::from_hash(
                    Sha512::new()
                        .chain_update(big_r.as_bytes())
                        .chain_update(vk.as_bytes())
                        .chain_update(msg),
                );
                for (s, valid) in [(r0 + k * a, true), (r0 + k * a + Scalar::ONE, false)] {
                    let mut raw = [0u8; 64];
                    raw[..32].copy_from_slice(big_r.as_bytes());
                    raw[32..].copy_from_slice(s.as_bytes());
                    let sig = Signature::from_bytes(&raw);
                    assert!(vk.verify_strict(&msg, &sig).is_err());
                    let check = SignatureCheck {
                        key: &vk,
                        message: &msg,
                        signature: sig,
                    };
                    assert_eq!(check.holds(), valid);
                    let want: Vec<usize> = if valid { vec![] } else { vec![0] };
                    assert_eq!(v.failures(&[check]), want);
                    // Batched among valid signatures, too.
                    let (vks, msgs, sigs) = signed(20);
                    let mut all = checks(&vks, &msgs, &sigs);
                    all.insert(7, check);
                    let want: Vec<usize> = if valid { vec![] } else { vec![7] };
                    assert_eq!(v.failures(&all), want);
                }
            }
        }
    }

    #[test]
    fn small_order_and_non_canonical_r_are_refused_even_if_the_equation_holds() {
        // R the identity written with the sign bit set, and s = k·a: the
        // equation holds, so only the encoding check can refuse it.
        let signing = SigningKey::from_bytes(&[9u8; 32]);
        let vk = signing.verifying_key();
        let a = signing.to_scalar();
        let msg = b"hello";
        for r in [
            {
                let mut r = [0u8; 32];
                r[0] = 1;
                r[31] = 0x80;
                r
            },
            EdwardsPoint::default().compress().to_bytes(),
        ] {
            let k = Scalar::from_hash(
                Sha512::new()
                    .chain_update(r)
                    .chain_update(vk.as_bytes())
                    .chain_update(msg),
            );
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&r);
            sig[32..].copy_from_slice((k * a).as_bytes());
            let check = SignatureCheck {
                key: &vk,
                message: msg,
                signature: Signature::from_bytes(&sig),
            };
            assert!(!check.holds());
            assert_eq!(verifier().failures(&[check]), vec![0]);
        }
    }

    /// The equation itself, not the one-by-one fallback that would hide a
    /// wrong one: valid signatures pass it whether they share one key,
    /// a few or none, and one bad signature makes it fail.
    #[test]
    fn the_batch_equation_holds_for_valid_signatures_whatever_keys_they_share() {
        let v = verifier();
        let msgs: Vec<Vec<u8>> = (0..40).map(|i| format!("event {i}").into_bytes()).collect();
        for distinct in [1usize, 4, 40] {
            let signing: Vec<SigningKey> = (0..distinct)
                .map(|i| SigningKey::from_bytes(&[u8::try_from(i).expect("small") + 50; 32]))
                .collect();
            let vks: Vec<VerifyingKey> = signing.iter().map(SigningKey::verifying_key).collect();
            let mut sigs: Vec<Signature> = msgs
                .iter()
                .enumerate()
                .map(|(i, m)| signing[i % distinct].sign(m))
                .collect();
            let all: Vec<usize> = (0..msgs.len()).collect();
            assert!(
                v.batch_holds(&checks(&vks, &msgs, &sigs), &all),
                "{distinct} keys"
            );
            // Another message's signature by the same key.
            sigs[13] = signing[13 % distinct].sign(b"something else");
            assert!(
                !v.batch_holds(&checks(&vks, &msgs, &sigs), &all),
                "{distinct} keys"
            );
            assert_eq!(v.failures(&checks(&vks, &msgs, &sigs)), vec![13]);
        }
    }

    #[test]
    fn batches_do_not_share_weights() {
        let v = verifier();
        assert_ne!(v.weight(0, 0), v.weight(1, 0));
        assert_ne!(v.weight(0, 0), v.weight(0, 1));
        assert_ne!(v.weight(0, 0), BatchVerifier::new([43; 32]).weight(0, 0));
    }
}
