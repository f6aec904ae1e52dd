//! Benchmarks of the Merkle tree (FORMAT.md §3) at the size of a busy log:
//! appending an entry and computing the new root, and generating inclusion
//! and consistency proofs, on a tree of a million leaves. `rs_merkle`'s
//! append and root at a tenth of that size is measured for contrast.
//!
//! Run with `cargo bench -p daicho-core --bench merkle`; once built, the run
//! takes under a minute.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_main, BatchSize, Criterion};
use daicho_core::hash::{leaf_hash, Digest};
use daicho_core::merkle::Tree;
use sha2::{Digest as _, Sha256};

const MILLION: u64 = 1_000_000;

fn leaf(i: u64) -> Digest {
    leaf_hash(&i.to_le_bytes())
}

/// Proof positions spread over the tree without drawing randomness, so that
/// runs are comparable: a multiplicative stride through `0..n`.
fn spread(i: u64, n: u64) -> u64 {
    i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % n
}

fn tree_benches(c: &mut Criterion) {
    let base = Tree::from_leaves((0..MILLION).map(leaf));
    let mut group = c.benchmark_group("tree_1e6");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));

    // Every append makes the tree larger, and criterion runs millions of
    // them; to measure appends to a tree of a million leaves without holding
    // several million, the tree goes back to `base` whenever it has grown by
    // a quarter. The reset is outside the timed region.
    let limit = MILLION + MILLION / 4;
    let mut tree = base.clone();
    group.bench_function("push_and_root", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut remaining = iters;
            while remaining > 0 {
                if tree.size() == limit {
                    tree = base.clone();
                }
                let batch = remaining.min(limit - tree.size());
                let start = Instant::now();
                for _ in 0..batch {
                    let next = leaf(tree.size());
                    tree.push(next);
                    black_box(tree.root());
                }
                timed += start.elapsed();
                remaining -= batch;
            }
            timed
        })
    });
    drop(tree);

    let mut i = 0;
    group.bench_function("inclusion_proof", |b| {
        b.iter(|| {
            i += 1;
            black_box(base.inclusion_proof(spread(i, MILLION), MILLION).unwrap())
        })
    });

    let mut i = 0;
    group.bench_function("consistency_proof", |b| {
        b.iter(|| {
            i += 1;
            black_box(
                base.consistency_proof(spread(i, MILLION - 1) + 1, MILLION)
                    .unwrap(),
            )
        })
    });

    // For scale: a historical root from stored hashes.
    let mut i = 0;
    group.bench_function("root_at", |b| {
        b.iter(|| {
            i += 1;
            black_box(base.root_at(spread(i, MILLION) + 1).unwrap())
        })
    });
    group.finish();
}

/// The RFC 9162 node hash for `rs_merkle`, over leaves hashed by the caller.
#[derive(Clone)]
struct Rfc9162Hasher;

impl rs_merkle::Hasher for Rfc9162Hasher {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(right) => {
                let mut h = Sha256::new();
                h.update([0x01]);
                h.update(left);
                h.update(right);
                h.finalize().into()
            }
            None => *left,
        }
    }
}

fn rs_merkle_benches(c: &mut Criterion) {
    const N: u64 = 100_000;
    let leaves: Vec<[u8; 32]> = (0..N).map(|i| leaf(i).0).collect();
    let base = rs_merkle::MerkleTree::<Rfc9162Hasher>::from_leaves(&leaves);
    let mut group = c.benchmark_group("rs_merkle_1e5");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("insert_commit_root", |b| {
        // Cloning the tree is setup, not measured; each sample appends to a
        // tree of exactly 10^5 leaves.
        b.iter_batched(
            || base.clone(),
            |mut tree| {
                tree.insert(leaf(N).0).commit();
                black_box(tree.root())
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// The group lives in a private module because `criterion_group!` defines a
/// public function without documentation.
mod group {
    criterion::criterion_group!(benches, super::tree_benches, super::rs_merkle_benches);
}
criterion_main!(group::benches);
