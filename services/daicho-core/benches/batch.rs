//! Benchmarks of signature checking (FORMAT.md §5.3): a batch of 100
//! signatures through [`BatchVerifier`], made by one key (a source system
//! posting a batch) and by 100 keys, beside the single check of each
//! signature one by one.
//!
//! Run with `cargo bench -p daicho-core --bench batch`; once built, the run
//! takes under a minute.

use std::hint::black_box;

use criterion::{criterion_main, Criterion, Throughput};
use daicho_core::batch::{BatchVerifier, SignatureCheck};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

const N: usize = 100;

/// `N` messages signed by `keys` distinct keys, in turn.
fn signed(keys: usize) -> (Vec<VerifyingKey>, Vec<Vec<u8>>, Vec<Signature>) {
    let signing: Vec<SigningKey> = (0..keys)
        .map(|i| {
            let mut seed = [7u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            SigningKey::from_bytes(&seed)
        })
        .collect();
    let msgs: Vec<Vec<u8>> = (0..N)
        .map(|i| format!("{{\"event\":{i},\"padding\":\"{}\"}}", "x".repeat(400)).into_bytes())
        .collect();
    let sigs = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| signing[i % keys].sign(m))
        .collect();
    (
        signing.iter().map(SigningKey::verifying_key).collect(),
        msgs,
        sigs,
    )
}

fn batches(c: &mut Criterion) {
    let verifier = BatchVerifier::new([42; 32]);
    let mut group = c.benchmark_group("signatures of 100");
    group.throughput(Throughput::Elements(N as u64));
    for keys in [1, N] {
        let (vks, msgs, sigs) = signed(keys);
        let checks: Vec<SignatureCheck<'_>> = (0..N)
            .map(|i| SignatureCheck {
                key: &vks[i % keys],
                message: &msgs[i],
                signature: sigs[i],
            })
            .collect();
        assert!(verifier.failures(&checks).is_empty());
        group.bench_function(format!("batch, {keys} key(s)"), |b| {
            b.iter(|| black_box(verifier.failures(black_box(&checks))))
        });
        if keys == 1 {
            group.bench_function("one by one", |b| {
                b.iter(|| black_box(checks.iter().filter(|c| c.holds()).count()))
            });
        }
    }
    group.finish();
}

/// The group lives in a private module because `criterion_group!` defines a
/// public function without documentation.
mod group {
    criterion::criterion_group!(benches, super::batches);
}
criterion_main!(group::benches);
