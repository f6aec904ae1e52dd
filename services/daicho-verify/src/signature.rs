//! Event signature verification in parallel batches that accept exactly
//! what single verification accepts.
//!
//! # The rule, and why batches agree with it
//!
//! FORMAT.md §5.3 defines a valid event signature `(R, S)` on message `M`
//! under key `A`: `S` canonical, `R` and `A` canonical encodings of points
//! not of small order, and the cofactored equation of RFC 8032 §5.1.7,
//! `[8][S]B = [8]R + [8][k]A` with `k = SHA-512(R || A || M) mod ℓ`.
//! [`PublicKey::verify`](daicho_core::keys::PublicKey::verify) is that rule,
//! one signature at a time; the service's door uses it too.
//!
//! A batch checks, for random 128-bit `z_i` unknown to whoever wrote the
//! bundle, `[8]([-Σ z_i S_i]B + Σ z_i R_i + Σ z_i k_i A_i) = 0`. Each
//! signature's term `E_i = R_i + [k_i]A_i - [S_i]B` satisfies `[8]E_i = 0`
//! exactly when it is valid, so a batch of valid signatures always passes;
//! and if some `[8]E_i ≠ 0`, that component lies in the prime-order
//! subgroup, where the random combination vanishes with probability about
//! 2^-128. Torsion components, which made the cofactorless batch of
//! ed25519-dalek disagree with its `verify_strict`, are multiplied away by
//! the cofactor on both sides. Encodings are checked before batching
//! ([`r_is_batchable`]; keys were checked when the registry read them), and
//! a signature the batch may not take, or a batch that fails, is decided
//! one by one with the single check, which names the bad signatures.
//!
//! ed25519-zebra implements the same cofactored batch (ZIP 215); it is not
//! used because it brings a second copy of the curve arithmetic
//! (curve25519-dalek 5) and rand_core 0.10 into the auditor's dependency
//! tree, for thirty lines over the multiscalar multiplication that
//! curve25519-dalek 4 already provides.

use std::hash::{BuildHasher, Hasher};

use std::sync::atomic::{AtomicU64, Ordering};

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity as _, VartimeMultiscalarMul as _};
use daicho_core::keys::PublicKey;
use ed25519_dalek::{Signature, VerifyingKey};
use rayon::prelude::*;
use sha2::{Digest as _, Sha512};

/// How signatures are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In batches of this many signatures (see the module documentation);
    /// a failing batch is re-checked one by one to name the bad signatures.
    Batch(usize),
    /// Every signature with the single check, one by one.
    Strict,
}

/// The batch size used unless told otherwise: large enough for the
/// multiscalar multiplication to amortise, small enough that a bad
/// signature costs little to find.
pub const DEFAULT_BATCH: usize = 1024;

impl Default for Mode {
    fn default() -> Self {
        Mode::Batch(DEFAULT_BATCH)
    }
}

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

/// The reference decision [`r_is_batchable`] must agree with, kept for the
/// tests: decode, refuse small order, refuse any encoding that does not
/// re-encode to the same bytes.
pub fn r_is_batchable_by_decoding(r: &[u8; 32]) -> bool {
    match CompressedEdwardsY(*r).decompress() {
        Some(p) => !p.is_small_order() && p.compress().to_bytes() == *r,
        None => false, // Cannot decode: strict verification rejects it.
    }
}

/// 32 unpredictable bytes without a randomness crate: the standard
/// library's `RandomState` is keyed from the operating system's random
/// source, and SipHash under that secret key is a pseudorandom function.
fn fresh_seed() -> [u8; 32] {
    let mut out = [0u8; 32];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u128(now);
        h.write_u32(std::process::id());
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

/// Verifies many signatures on all cores.
pub struct SignatureVerifier {
    mode: Mode,
    /// The secret from which every batch's `z_i` are derived.
    seed: [u8; 32],
    /// Batches started, so that no two batches share their `z_i`.
    batches: AtomicU64,
}

impl std::fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureVerifier")
            .field("mode", &self.mode)
            .finish()
    }
}

impl SignatureVerifier {
    /// A verifier in `mode`, with a fresh secret for its batches' weights.
    pub fn new(mode: Mode) -> SignatureVerifier {
        SignatureVerifier {
            mode,
            seed: fresh_seed(),
            batches: AtomicU64::new(0),
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Checks every signature, in parallel, and returns the indices (into
    /// `checks`) of those that do not verify, in ascending order.
    pub fn failures(&self, checks: &[SignatureCheck<'_>]) -> Vec<usize> {
        match self.mode {
            Mode::Strict => checks
                .par_iter()
                .enumerate()
                .filter(|(_, c)| !single(c))
                .map(|(i, _)| i)
                .collect(),
            Mode::Batch(size) => checks
                .par_chunks(size.max(1))
                .enumerate()
                .flat_map_iter(|(n, batch)| {
                    self.batch_failures(batch)
                        .into_iter()
                        .map(move |i| n * size.max(1) + i)
                })
                .collect(),
        }
    }

    /// One batch: signatures whose `R` may not be batched are decided one
    /// by one; the rest go through the cofactored batch equation and, if it
    /// fails, are decided one by one to name the bad ones.
    fn batch_failures(&self, batch: &[SignatureCheck<'_>]) -> Vec<usize> {
        let mut failures = Vec::new();
        let mut batched = Vec::with_capacity(batch.len());
        for (i, c) in batch.iter().enumerate() {
            if r_is_batchable(c.signature.r_bytes()) {
                batched.push(i);
            } else if !single(c) {
                failures.push(i);
            }
        }
        if !batched.is_empty() && !self.batch_holds(batch, &batched) {
            failures.extend(batched.into_iter().filter(|&i| !single(&batch[i])));
        }
        failures.sort_unstable();
        failures
    }

    /// `[8]([-Σ z_i S_i]B + Σ z_i R_i + Σ z_i k_i A_i) = 0` over the
    /// signatures `which` of `batch`, with weights only this run knows.
    fn batch_holds(&self, batch: &[SignatureCheck<'_>], which: &[usize]) -> bool {
        let n = self.batches.fetch_add(1, Ordering::Relaxed);
        let mut b_coeff = Scalar::ZERO;
        let mut coeffs = Vec::with_capacity(2 * which.len() + 1);
        let mut points = Vec::with_capacity(2 * which.len() + 1);
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
            coeffs.push(z * k);
            points.push(c.key.to_edwards());
        }
        coeffs[0] = b_coeff;
        EdwardsPoint::vartime_multiscalar_mul(&coeffs, &points)
            .mul_by_cofactor()
            .is_identity()
    }

    /// The 128-bit weight of signature `j` in batch `n`: SHA-512 of the
    /// run's secret seed and the position, so unpredictable to whoever
    /// wrote the bundle.
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

/// The single check of FORMAT.md §5.3.
fn single(c: &SignatureCheck<'_>) -> bool {
    PublicKey(*c.key).verify(c.message, &c.signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    /// The byte check must agree with decoding on every encoding that
    /// decodes; one that does not decode may go either way, because the
    /// batch then fails and strict verification rejects it.
    fn checks_agree(r: [u8; 32]) {
        if CompressedEdwardsY(r).decompress().is_some() {
            assert_eq!(
                r_is_batchable(&r),
                r_is_batchable_by_decoding(&r),
                "disagreement on {r:02x?}"
            );
        }
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
            state = sha2::Sha256::digest_of(&state, i);
            checks_agree(state);
            let key = SigningKey::from_bytes(&state);
            let sig = key.sign(b"m");
            assert!(r_is_batchable(sig.r_bytes()));
        }
    }

    trait DigestOf {
        fn digest_of(s: &[u8; 32], i: u32) -> [u8; 32];
    }
    impl DigestOf for sha2::Sha256 {
        fn digest_of(s: &[u8; 32], i: u32) -> [u8; 32] {
            use sha2::Digest as _;
            let mut h = sha2::Sha256::new();
            h.update(s);
            h.update(i.to_le_bytes());
            h.finalize().into()
        }
    }

    fn signed(n: usize) -> (Vec<SigningKey>, Vec<Vec<u8>>, Vec<Signature>) {
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
        (keys, msgs, sigs)
    }

    #[test]
    fn batches_find_exactly_the_bad_signatures() {
        let (keys, msgs, mut sigs) = signed(150);
        let vks: Vec<VerifyingKey> = keys.iter().map(SigningKey::verifying_key).collect();
        // A wrong s, a wrong R, and a signature by the wrong key.
        let mut b = sigs[5].to_bytes();
        b[40] ^= 1;
        sigs[5] = Signature::from_bytes(&b);
        let mut b = sigs[100].to_bytes();
        b[3] ^= 1;
        sigs[100] = Signature::from_bytes(&b);
        sigs[149] = keys[0].sign(&msgs[149]);
        for mode in [Mode::Batch(64), Mode::Batch(1024), Mode::Strict] {
            let v = SignatureVerifier::new(mode);
            let checks: Vec<SignatureCheck<'_>> = msgs
                .iter()
                .zip(&sigs)
                .enumerate()
                .map(|(i, (m, s))| SignatureCheck {
                    key: &vks[i % 4],
                    message: m,
                    signature: *s,
                })
                .collect();
            assert_eq!(v.failures(&checks), vec![5, 100, 149], "{mode:?}");
        }
    }

    #[test]
    fn non_canonical_r_is_refused_even_when_the_batch_equation_holds() {
        // A signature whose R is the identity encoded with the sign bit set:
        // s = k·a makes the cofactorless equation hold, so only the
        // pre-batch check (or strict verification) can refuse it.
        use curve25519_dalek::scalar::Scalar;
        use sha2::{Digest as _, Sha512};
        let seed = [9u8; 32];
        let signing = SigningKey::from_bytes(&seed);
        let vk = signing.verifying_key();
        let a = signing.to_scalar();
        let mut r = [0u8; 32];
        r[0] = 1;
        r[31] = 0x80;
        let msg = b"hello";
        let k = Scalar::from_hash(
            Sha512::new()
                .chain_update(r)
                .chain_update(vk.as_bytes())
                .chain_update(msg),
        );
        let s = k * a;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        sig[32..].copy_from_slice(s.as_bytes());
        let sig = Signature::from_bytes(&sig);
        assert!(vk.verify_strict(msg, &sig).is_err());
        // The raw batch equation accepts it: the check before batching is
        // what stands between this signature and acceptance.
        assert!(ed25519_dalek::verify_batch(&[&msg[..]], &[sig], &[vk]).is_ok());
        let check = SignatureCheck {
            key: &vk,
            message: msg,
            signature: sig,
        };
        let v = SignatureVerifier::new(Mode::Batch(16));
        assert_eq!(v.failures(&[check]), vec![0]);
    }

    /// A key holder's signature whose R carries a point of order 2: the
    /// cofactorless `verify_strict` rejects it and ed25519-dalek's
    /// cofactorless batch accepts it about half the time, which is why
    /// daicho's rule is the cofactored equation. Under that rule the batch
    /// and the single check agree on it every time, in both directions.
    #[test]
    fn mixed_order_r_is_decided_the_same_way_by_batch_and_single() {
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
        use curve25519_dalek::traits::IsIdentity;
        let signing = SigningKey::from_bytes(&[11u8; 32]);
        let vk = signing.verifying_key();
        let a = signing.to_scalar();
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
                    let want: Vec<usize> = if valid { vec![] } else { vec![0] };
                    assert_eq!(PublicKey(vk).verify(&msg, &sig), valid);
                    for mode in [Mode::Batch(16), Mode::Strict] {
                        assert_eq!(SignatureVerifier::new(mode).failures(&[check]), want);
                    }
                    // Batched among valid signatures, too.
                    let (keys, msgs, sigs) = signed(20);
                    let vks: Vec<VerifyingKey> =
                        keys.iter().map(SigningKey::verifying_key).collect();
                    let mut checks: Vec<SignatureCheck<'_>> = msgs
                        .iter()
                        .zip(&sigs)
                        .enumerate()
                        .map(|(i, (m, s))| SignatureCheck {
                            key: &vks[i % 4],
                            message: m,
                            signature: *s,
                        })
                        .collect();
                    checks.insert(7, check);
                    let want: Vec<usize> = if valid { vec![] } else { vec![7] };
                    assert_eq!(
                        SignatureVerifier::new(Mode::Batch(64)).failures(&checks),
                        want
                    );
                }
            }
        }
    }
}
