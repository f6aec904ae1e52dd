//! Event signature verification on all cores, in batches that accept
//! exactly what single verification accepts.
//!
//! The batch equation, the encoding checks before batching and the argument
//! that batch and single checks agree are `daicho_core::batch`'s (FORMAT.md
//! §5.3); this module spreads the batches over the cores with rayon and
//! draws the run's secret for the weights.

use std::hash::{BuildHasher, Hasher};

use daicho_core::batch::BatchVerifier;
pub use daicho_core::batch::SignatureCheck;
use rayon::prelude::*;

/// How signatures are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In batches of this many signatures (see `daicho_core::batch`); a
    /// failing batch is re-checked one by one to name the bad signatures.
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
#[derive(Debug)]
pub struct SignatureVerifier {
    mode: Mode,
    batches: BatchVerifier,
}

impl SignatureVerifier {
    /// A verifier in `mode`, with a fresh secret for its batches' weights.
    pub fn new(mode: Mode) -> SignatureVerifier {
        SignatureVerifier {
            mode,
            batches: BatchVerifier::new(fresh_seed()),
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
                .filter(|(_, c)| !c.holds())
                .map(|(i, _)| i)
                .collect(),
            Mode::Batch(size) => checks
                .par_chunks(size.max(1))
                .enumerate()
                .flat_map_iter(|(n, batch)| {
                    self.batches
                        .failures(batch)
                        .into_iter()
                        .map(move |i| n * size.max(1) + i)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

    /// `n` messages signed in turn by four keys.
    fn signed(n: usize) -> (Vec<SigningKey>, Vec<Vec<u8>>, Vec<Signature>) {
        let keys: Vec<SigningKey> = (1..=4u8)
            .map(|i| SigningKey::from_bytes(&[i; 32]))
            .collect();
        let (mut msgs, mut sigs) = (Vec::new(), Vec::new());
        for i in 0..n {
            let m = format!("message {i}").into_bytes();
            sigs.push(keys[i % keys.len()].sign(&m));
            msgs.push(m);
        }
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
}
