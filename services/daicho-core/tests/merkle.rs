//! Tests of the Merkle tree and proofs (FORMAT.md §3, RFC 9162 §2.1):
//! the transparency-dev/merkle conformance vectors, known answers from the
//! RFC 6962 test tree, `rs_merkle` as an independent oracle for roots, and
//! mutations that every verifier must reject.

use std::path::{Path, PathBuf};

use daicho_core::hash::{leaf_hash, Digest};
use daicho_core::merkle::{
    parse_hash, parse_proof_hashes, root, root_from_inclusion_proof, verify_consistency,
    verify_consistency_bytes, verify_inclusion, ConsistencyError, HashParseError, InclusionError,
    ProofParseError, Tree, TreeError, EMPTY_ROOT,
};
use proptest::prelude::*;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

// ---------------------------------------------------------------------------
// Conformance vectors
// ---------------------------------------------------------------------------

/// The repository's copy of transparency-dev/merkle `testdata/` (see
/// `tests/conformance/transparency-dev-merkle/SOURCE.md`).
fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/conformance/transparency-dev-merkle/testdata")
}

#[path = "support/shared_material.rs"]
mod shared_material;

#[test]
fn the_conformance_copy_matches_the_shared_original() {
    shared_material::assert_copy_matches_original(
        "tests/conformance/transparency-dev-merkle",
        "conformance/transparency-dev-merkle",
    );
}

/// The number of vector files in the copy at commit 417fb0c: 98 inclusion and
/// 98 consistency cases. A different count means the copy changed and the
/// vectors deserve a fresh look.
const EXPECTED_CASES: usize = 196;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InclusionCase {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyCase {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    #[serde(rename = "wantErr")]
    want_err: bool,
}

/// Runs one inclusion vector the way the verifier CLI will: parse every hash,
/// then verify. Any error is a rejection.
fn run_inclusion(case: &InclusionCase) -> Result<(), String> {
    let root = parse_hash(&case.root).map_err(|e| format!("root: {e}"))?;
    let leaf = parse_hash(&case.leaf_hash).map_err(|e| format!("leafHash: {e}"))?;
    let proof =
        parse_proof_hashes(case.proof.as_deref().unwrap_or_default()).map_err(|e| e.to_string())?;
    verify_inclusion(case.leaf_idx, case.tree_size, &leaf, &proof, &root).map_err(|e| e.to_string())
}

/// Runs one consistency vector the way the verifier CLI will.
fn run_consistency(case: &ConsistencyCase) -> Result<(), String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let root1 = b64.decode(&case.root1).map_err(|e| format!("root1: {e}"))?;
    let root2 = b64.decode(&case.root2).map_err(|e| format!("root2: {e}"))?;
    let proof =
        parse_proof_hashes(case.proof.as_deref().unwrap_or_default()).map_err(|e| e.to_string())?;
    verify_consistency_bytes(case.size1, case.size2, &root1, &root2, &proof)
        .map_err(|e| e.to_string())
}

fn json_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            json_files_under(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            out.push(path);
        }
    }
}

#[test]
fn conformance_vectors() {
    let dir = conformance_dir();
    assert!(
        dir.is_dir(),
        "conformance vectors not found: looked for the folder {} \
         (a copy of transparency-dev/merkle testdata/); this test never skips",
        dir.display()
    );

    let mut files = Vec::new();
    for kind in ["inclusion", "consistency"] {
        let kind_dir = dir.join(kind);
        assert!(kind_dir.is_dir(), "missing folder {}", kind_dir.display());
        json_files_under(&kind_dir, &mut files);
    }
    files.sort();

    let mut mismatches = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for path in &files {
        let name = path
            .strip_prefix(&dir)
            .expect("file under the vector folder")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let (desc, want_err, outcome) = if name.starts_with("inclusion/") {
            let case: InclusionCase = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name} is not an inclusion vector: {e}"));
            (case.desc.clone(), case.want_err, run_inclusion(&case))
        } else {
            let case: ConsistencyCase = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name} is not a consistency vector: {e}"));
            (case.desc.clone(), case.want_err, run_consistency(&case))
        };
        match &outcome {
            Ok(()) => accepted += 1,
            Err(_) => rejected += 1,
        }
        if outcome.is_err() == want_err {
            continue;
        }
        let got = match outcome {
            Ok(()) => "accepted".to_owned(),
            Err(e) => format!("rejected: {e}"),
        };
        let want = if want_err { "rejection" } else { "acceptance" };
        mismatches.push(format!("{name} ({desc}): wanted {want}, {got}"));
    }

    assert!(
        mismatches.is_empty(),
        "{} of {} conformance vectors disagree:\n{}",
        mismatches.len(),
        files.len(),
        mismatches.join("\n")
    );
    assert_eq!(
        files.len(),
        EXPECTED_CASES,
        "expected {EXPECTED_CASES} vector files under {}",
        dir.display()
    );
    eprintln!(
        "{} conformance vectors: {accepted} accepted, {rejected} rejected",
        files.len(),
    );
}

// ---------------------------------------------------------------------------
// Known answers
// ---------------------------------------------------------------------------

/// The RFC 6962 test tree's eight leaf inputs, as used by the Certificate
/// Transparency test suites and by transparency-dev/merkle
/// `proof/verify_test.go` (variable `leaves`).
const KAT_LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

/// `MTH(D[0:n])` of the test tree for `n = 1..=8`, from transparency-dev/merkle
/// `proof/verify_test.go` (variable `roots`).
const KAT_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// `(m, n, PATH(m, D[0:n]))` from transparency-dev/merkle
/// `proof/verify_test.go` (variable `inclusionProofs`, whose leaf numbers are
/// one-based; these are zero-based).
const KAT_INCLUSION: [(u64, u64, &[&str]); 4] = [
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// `(m, n, PROOF(m, D[0:n]))` from transparency-dev/merkle
/// `proof/verify_test.go` (variable `consistencyProofs`).
const KAT_CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn hex(s: &str) -> Digest {
    Digest::from_hex(s).expect("64 lowercase hex characters")
}

fn hexes(list: &[&str]) -> Vec<Digest> {
    list.iter().map(|s| hex(s)).collect()
}

fn kat_tree() -> (Vec<Digest>, Tree) {
    let leaves: Vec<Digest> = KAT_LEAVES.iter().map(|d| leaf_hash(d)).collect();
    let tree = Tree::from_leaves(leaves.iter().copied());
    (leaves, tree)
}

#[test]
fn empty_tree_root_is_sha256_of_the_empty_string() {
    // RFC 9162 §2.1.1: MTH({}) = HASH(); the value is SHA-256 of "".
    assert_eq!(EMPTY_ROOT, Digest::of(b""));
    assert_eq!(
        EMPTY_ROOT,
        hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(root(&[]), EMPTY_ROOT);
    assert_eq!(Tree::new().root(), EMPTY_ROOT);
    assert_eq!(Tree::new().root_at(0), Ok(EMPTY_ROOT));
}

#[test]
fn known_roots_of_the_rfc6962_test_tree() {
    let (leaves, tree) = kat_tree();
    for (i, want) in KAT_ROOTS.iter().enumerate() {
        let n = i + 1;
        let want = hex(want);
        assert_eq!(root(&leaves[..n]), want, "root() of {n} leaves");
        assert_eq!(tree.root_at(n as u64), Ok(want), "root_at({n})");
        assert_eq!(Tree::from_leaves(leaves[..n].iter().copied()).root(), want);
    }
}

#[test]
fn known_inclusion_proofs_of_the_rfc6962_test_tree() {
    let (leaves, tree) = kat_tree();
    for (m, n, want) in KAT_INCLUSION {
        let want = hexes(want);
        assert_eq!(
            tree.inclusion_proof(m, n),
            Ok(want.clone()),
            "PATH({m}, D[{n}])"
        );
        let root_n = hex(KAT_ROOTS[n as usize - 1]);
        assert_eq!(
            verify_inclusion(m, n, &leaves[m as usize], &want, &root_n),
            Ok(())
        );
    }
}

#[test]
fn known_consistency_proofs_of_the_rfc6962_test_tree() {
    let (_, tree) = kat_tree();
    for (m, n, want) in KAT_CONSISTENCY {
        let want = hexes(want);
        assert_eq!(
            tree.consistency_proof(m, n),
            Ok(want.clone()),
            "PROOF({m}, D[{n}])"
        );
        let root_m = hex(KAT_ROOTS[m as usize - 1]);
        let root_n = hex(KAT_ROOTS[n as usize - 1]);
        assert_eq!(verify_consistency(m, n, &root_m, &root_n, &want), Ok(()));
    }
}

// ---------------------------------------------------------------------------
// rs_merkle as an oracle for roots
// ---------------------------------------------------------------------------

/// An `rs_merkle` hasher whose leaves the caller has already hashed as
/// `SHA-256(0x00 || d)` and whose interior nodes are `SHA-256(0x01 || l || r)`.
/// `rs_merkle` promotes an unpaired node to the next level unchanged, which
/// gives the same root as RFC 9162's split at the largest power of two.
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

fn rs_merkle_root(leaves: &[Digest]) -> Digest {
    let raw: Vec<[u8; 32]> = leaves.iter().map(|d| d.0).collect();
    let tree = rs_merkle::MerkleTree::<Rfc9162Hasher>::from_leaves(&raw);
    Digest(tree.root().expect("a non-empty tree has a root"))
}

/// Distinct leaf hashes for the oracle tests, derived from `seed`.
fn leaves(seed: u64, n: u64) -> Vec<Digest> {
    (0..n)
        .map(|i| leaf_hash(&[seed.to_le_bytes(), i.to_le_bytes()].concat()))
        .collect()
}

#[test]
fn roots_equal_rs_merkle_for_every_size_up_to_300() {
    let all = leaves(300, 300);
    let mut tree = Tree::new();
    for n in 1..=300usize {
        tree.push(all[n - 1]);
        let want = rs_merkle_root(&all[..n]);
        assert_eq!(tree.root(), want, "Tree::root at size {n}");
        assert_eq!(root(&all[..n]), want, "root() at size {n}");
    }
    for n in 1..=300usize {
        assert_eq!(
            tree.root_at(n as u64),
            Ok(rs_merkle_root(&all[..n])),
            "root_at({n}) of a 300-leaf tree"
        );
    }
}

/// Tree sizes for the property tests: every small size, where the edge cases
/// live, and some larger ones with several incomplete levels.
fn tree_size() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 1u64..=300, 1 => 301u64..=5000]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn tree_roots_and_proofs_verify(
        seed in any::<u64>(),
        size in tree_size(),
        pick_n in any::<prop::sample::Index>(),
        pick_m in any::<prop::sample::Index>(),
    ) {
        let all = leaves(seed, size);
        let tree = Tree::from_leaves(all.iter().copied());
        prop_assert_eq!(tree.size(), size);
        prop_assert_eq!(tree.root(), rs_merkle_root(&all));

        // A historical size 1..=size and an index or earlier size below it.
        let n = pick_n.index(size as usize) as u64 + 1;
        let m = pick_m.index(n as usize) as u64;
        let root_n = tree.root_at(n).unwrap();
        prop_assert_eq!(root_n, rs_merkle_root(&all[..n as usize]));
        prop_assert_eq!(root_n, root(&all[..n as usize]));

        let path = tree.inclusion_proof(m, n).unwrap();
        prop_assert_eq!(verify_inclusion(m, n, &all[m as usize], &path, &root_n), Ok(()));
        prop_assert_eq!(
            root_from_inclusion_proof(m, n, &all[m as usize], &path),
            Ok(root_n)
        );

        let m1 = m + 1; // 1..=n
        let root_m1 = tree.root_at(m1).unwrap();
        let proof = tree.consistency_proof(m1, n).unwrap();
        prop_assert_eq!(verify_consistency(m1, n, &root_m1, &root_n, &proof), Ok(()));
    }

    #[test]
    fn appending_never_changes_earlier_roots(
        seed in any::<u64>(),
        m in 1u64..=200,
        extra in 0u64..=200,
    ) {
        let all = leaves(seed, m + extra);
        let before = Tree::from_leaves(all[..m as usize].iter().copied());
        let after = Tree::from_leaves(all.iter().copied());
        prop_assert_eq!(after.root_at(m), Ok(before.root()));
        for i in 0..m {
            prop_assert_eq!(after.leaf(i), Some(all[i as usize]));
        }
        prop_assert_eq!(after.leaf(m + extra), None);
    }
}

/// Every inclusion and consistency proof of every tree up to 64 leaves
/// verifies; this covers all shapes of the right border exhaustively.
#[test]
fn all_proofs_of_small_trees_verify() {
    let all = leaves(64, 64);
    let tree = Tree::from_leaves(all.iter().copied());
    for n in 1..=64u64 {
        let root_n = tree.root_at(n).unwrap();
        for m in 0..n {
            let path = tree.inclusion_proof(m, n).unwrap();
            assert_eq!(
                verify_inclusion(m, n, &all[m as usize], &path, &root_n),
                Ok(()),
                "PATH({m}, D[{n}])"
            );
            let root_m = tree.root_at(m + 1).unwrap();
            let proof = tree.consistency_proof(m + 1, n).unwrap();
            assert_eq!(
                verify_consistency(m + 1, n, &root_m, &root_n, &proof),
                Ok(()),
                "PROOF({}, D[{n}])",
                m + 1
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Rejections
// ---------------------------------------------------------------------------

fn flip_bit(proof: &[Digest], hash: usize, bit: usize) -> Vec<Digest> {
    let mut out = proof.to_vec();
    out[hash].0[bit / 8] ^= 1 << (bit % 8);
    out
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let all = leaves(16, 16);
    let tree = Tree::from_leaves(all.iter().copied());
    for n in 1..=16u64 {
        let root_n = tree.root_at(n).unwrap();
        for m in 0..n {
            let leaf = &all[m as usize];
            let path = tree.inclusion_proof(m, n).unwrap();
            for i in 0..path.len() {
                for bit in 0..256 {
                    let bad = flip_bit(&path, i, bit);
                    assert!(
                        matches!(
                            verify_inclusion(m, n, leaf, &bad, &root_n),
                            Err(InclusionError::RootMismatch { .. })
                        ),
                        "PATH({m}, D[{n}]) with bit {bit} of hash {i} flipped was accepted"
                    );
                }
            }

            let m1 = m + 1;
            let root_m1 = tree.root_at(m1).unwrap();
            let proof = tree.consistency_proof(m1, n).unwrap();
            for i in 0..proof.len() {
                for bit in 0..256 {
                    let bad = flip_bit(&proof, i, bit);
                    assert!(
                        verify_consistency(m1, n, &root_m1, &root_n, &bad).is_err(),
                        "PROOF({m1}, D[{n}]) with bit {bit} of hash {i} flipped was accepted"
                    );
                }
            }
        }
    }
}

#[test]
fn wrong_index_or_size_is_rejected() {
    let all = leaves(40, 40);
    let tree = Tree::from_leaves(all.iter().copied());
    for n in 1..=32u64 {
        let root_n = tree.root_at(n).unwrap();
        for m in 0..n {
            let leaf = &all[m as usize];
            let path = tree.inclusion_proof(m, n).unwrap();
            // Any other index, whether or not it is in range.
            for wrong_m in (0..=n + 1).filter(|&i| i != m) {
                assert!(
                    verify_inclusion(wrong_m, n, leaf, &path, &root_n).is_err(),
                    "PATH({m}, D[{n}]) accepted for index {wrong_m}"
                );
            }
            // Another size together with that size's real root: the proof
            // must not pass for a different checkpoint.
            for wrong_n in (m + 1..=40).filter(|&s| s != n) {
                let root_wrong = tree.root_at(wrong_n).unwrap();
                assert!(
                    verify_inclusion(m, wrong_n, leaf, &path, &root_wrong).is_err(),
                    "PATH({m}, D[{n}]) accepted for size {wrong_n}"
                );
            }
            // The mutations of the conformance vectors: the size doubled or
            // halved while the root stays the same.
            for wrong_n in [n * 2, n / 2] {
                assert!(
                    verify_inclusion(m, wrong_n, leaf, &path, &root_n).is_err(),
                    "PATH({m}, D[{n}]) accepted for size {wrong_n} with the same root"
                );
            }
        }
    }

    for n in 2..=32u64 {
        let root_n = tree.root_at(n).unwrap();
        for m in 1..n {
            let root_m = tree.root_at(m).unwrap();
            let proof = tree.consistency_proof(m, n).unwrap();
            for wrong_m in (0..=n).filter(|&s| s != m) {
                let root_wrong = tree.root_at(wrong_m).unwrap();
                assert!(
                    verify_consistency(wrong_m, n, &root_wrong, &root_n, &proof).is_err(),
                    "PROOF({m}, D[{n}]) accepted as PROOF({wrong_m}, D[{n}])"
                );
                assert!(
                    verify_consistency(wrong_m, n, &root_m, &root_n, &proof).is_err(),
                    "PROOF({m}, D[{n}]) accepted for size1 {wrong_m} with the same root"
                );
            }
            for wrong_n in (m..=40).filter(|&s| s != n) {
                let root_wrong = tree.root_at(wrong_n).unwrap();
                assert!(
                    verify_consistency(m, wrong_n, &root_m, &root_wrong, &proof).is_err(),
                    "PROOF({m}, D[{n}]) accepted as PROOF({m}, D[{wrong_n}])"
                );
            }
            // Swapped roots.
            assert!(verify_consistency(m, n, &root_n, &root_m, &proof).is_err());
        }
    }
}

#[test]
fn truncated_and_extended_proofs_are_rejected() {
    let all = leaves(20, 20);
    let tree = Tree::from_leaves(all.iter().copied());
    let extra = Digest::of(b"extra");
    for n in 1..=20u64 {
        let root_n = tree.root_at(n).unwrap();
        for m in 0..n {
            let leaf = &all[m as usize];
            let path = tree.inclusion_proof(m, n).unwrap();
            let expected = path.len();
            if !path.is_empty() {
                assert_eq!(
                    verify_inclusion(m, n, leaf, &path[..expected - 1], &root_n),
                    Err(InclusionError::ProofTooShort {
                        expected,
                        actual: expected - 1
                    })
                );
            }
            for extended in [
                [path.as_slice(), &[extra]].concat(),
                [path.as_slice(), &[root_n]].concat(),
                [&[extra], path.as_slice()].concat(),
            ] {
                assert_eq!(
                    verify_inclusion(m, n, leaf, &extended, &root_n),
                    Err(InclusionError::ProofTooLong {
                        expected,
                        actual: expected + 1
                    })
                );
            }

            let m1 = m + 1;
            let root_m1 = tree.root_at(m1).unwrap();
            let proof = tree.consistency_proof(m1, n).unwrap();
            let expected = proof.len();
            if m1 == n {
                assert_eq!(
                    verify_consistency(m1, n, &root_m1, &root_n, &[extra]),
                    Err(ConsistencyError::ProofNotEmptyForEqualSizes { len: 1 })
                );
                continue;
            }
            for cut in 0..expected {
                assert_eq!(
                    verify_consistency(m1, n, &root_m1, &root_n, &proof[..cut]),
                    Err(ConsistencyError::ProofTooShort {
                        expected,
                        actual: cut
                    })
                );
            }
            for extended in [
                [proof.as_slice(), &[extra]].concat(),
                [proof.as_slice(), &[root_m1]].concat(),
                [&[root_n], proof.as_slice()].concat(),
            ] {
                assert_eq!(
                    verify_consistency(m1, n, &root_m1, &root_n, &extended),
                    Err(ConsistencyError::ProofTooLong {
                        expected,
                        actual: expected + 1
                    })
                );
            }
        }
    }
}

#[test]
fn verifier_errors_name_the_defect() {
    let (leaves, tree) = kat_tree();
    let root8 = tree.root();
    assert_eq!(
        verify_inclusion(8, 8, &leaves[0], &[], &root8),
        Err(InclusionError::IndexBeyondSize {
            leaf_index: 8,
            tree_size: 8
        })
    );
    assert_eq!(
        verify_inclusion(0, 0, &leaves[0], &[], &EMPTY_ROOT),
        Err(InclusionError::IndexBeyondSize {
            leaf_index: 0,
            tree_size: 0
        })
    );
    let wrong_leaf = Digest::of(b"wrong leaf");
    let path = tree.inclusion_proof(3, 8).unwrap();
    match verify_inclusion(3, 8, &wrong_leaf, &path, &root8) {
        Err(InclusionError::RootMismatch { expected, computed }) => {
            assert_eq!(expected, root8);
            assert_eq!(
                Ok(computed),
                root_from_inclusion_proof(3, 8, &wrong_leaf, &path)
            );
        }
        other => panic!("expected a root mismatch, got {other:?}"),
    }
    // A one-leaf tree: the leaf hash is the root and the proof is empty.
    assert_eq!(verify_inclusion(0, 1, &leaves[0], &[], &leaves[0]), Ok(()));
    // The largest sizes the types allow exercise the shifts: the first leaf
    // of a tree of 2^64 - 1 leaves sits 64 levels deep, and its last leaf is
    // a one-leaf subtree with 63 complete subtrees to its left.
    assert_eq!(
        verify_inclusion(0, u64::MAX, &leaves[0], &[], &root8),
        Err(InclusionError::ProofTooShort {
            expected: 64,
            actual: 0
        })
    );
    assert_eq!(
        verify_inclusion(u64::MAX - 1, u64::MAX, &leaves[0], &[], &root8),
        Err(InclusionError::ProofTooShort {
            expected: 63,
            actual: 0
        })
    );
    assert_eq!(
        verify_consistency(u64::MAX - 1, u64::MAX, &root8, &root8, &[]),
        Err(ConsistencyError::ProofTooShort {
            expected: 64,
            actual: 0
        })
    );

    let root3 = tree.root_at(3).unwrap();
    assert_eq!(
        verify_consistency(4, 3, &root8, &root3, &[]),
        Err(ConsistencyError::Size1BeyondSize2 { size1: 4, size2: 3 })
    );
    for (size2, proof) in [(0, vec![]), (1, vec![]), (1, vec![root8])] {
        assert_eq!(
            verify_consistency(0, size2, &EMPTY_ROOT, &root8, &proof),
            Err(ConsistencyError::EmptyFirstTree)
        );
    }
    assert_eq!(verify_consistency(3, 3, &root3, &root3, &[]), Ok(()));
    assert_eq!(
        verify_consistency(3, 3, &root3, &root8, &[]),
        Err(ConsistencyError::Root2Mismatch {
            expected: root8,
            computed: root3
        })
    );
    let proof = tree.consistency_proof(3, 8).unwrap();
    assert!(matches!(
        verify_consistency(3, 8, &root8, &root8, &proof),
        Err(ConsistencyError::Root1Mismatch { .. })
    ));
    assert!(matches!(
        verify_consistency(3, 8, &root3, &root3, &proof),
        Err(ConsistencyError::Root2Mismatch { .. })
    ));
    assert_eq!(
        verify_consistency(3, 8, &root3, &root8, &[]),
        Err(ConsistencyError::ProofTooShort {
            expected: proof.len(),
            actual: 0
        })
    );
}

#[test]
fn tree_errors_name_the_defect() {
    let (leaves, tree) = kat_tree();
    assert_eq!(
        tree.root_at(9),
        Err(TreeError::SizeBeyondTree {
            requested: 9,
            size: 8
        })
    );
    assert_eq!(
        tree.inclusion_proof(0, 9),
        Err(TreeError::SizeBeyondTree {
            requested: 9,
            size: 8
        })
    );
    assert_eq!(
        tree.inclusion_proof(5, 5),
        Err(TreeError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        tree.inclusion_proof(0, 0),
        Err(TreeError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(tree.inclusion_proof(0, 1), Ok(vec![]));
    assert_eq!(tree.consistency_proof(0, 4), Err(TreeError::EmptyFirstTree));
    assert_eq!(
        tree.consistency_proof(5, 4),
        Err(TreeError::FirstTreeLarger { m: 5, n: 4 })
    );
    assert_eq!(
        tree.consistency_proof(2, 9),
        Err(TreeError::SizeBeyondTree {
            requested: 9,
            size: 8
        })
    );
    assert_eq!(tree.consistency_proof(8, 8), Ok(vec![]));
    assert_eq!(tree.leaf(7), Some(leaves[7]));
    assert_eq!(tree.leaf(8), None);

    let mut grown = Tree::new();
    for (i, leaf) in leaves.iter().enumerate() {
        assert_eq!(grown.push(*leaf), i as u64);
    }
    assert_eq!(grown.size(), 8);
}

/// A tree larger than one storage chunk per level still agrees with the
/// plain recursive definition at sizes around the chunk boundaries.
#[test]
fn large_tree_agrees_with_the_recursive_definition() {
    let all = leaves(9000, 9000);
    let tree = Tree::from_leaves(all.iter().copied());
    for n in [4095u64, 4096, 4097, 8191, 8192, 8193, 9000] {
        let root_n = root(&all[..n as usize]);
        assert_eq!(tree.root_at(n), Ok(root_n), "root_at({n})");
        for m in [0, 1, n / 2, 4095.min(n - 1), n - 1] {
            let path = tree.inclusion_proof(m, n).unwrap();
            assert_eq!(
                verify_inclusion(m, n, &all[m as usize], &path, &root_n),
                Ok(())
            );
            let m1 = m + 1;
            let proof = tree.consistency_proof(m1, n).unwrap();
            assert_eq!(
                verify_consistency(m1, n, &root(&all[..m1 as usize]), &root_n, &proof),
                Ok(())
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing base64 proofs
// ---------------------------------------------------------------------------

#[test]
fn proof_parsing_demands_32_byte_base64_hashes() {
    let good = Digest::of(b"good");
    assert_eq!(parse_hash(&good.to_base64()), Ok(good));
    assert_eq!(
        parse_proof_hashes(&[good.to_base64(), EMPTY_ROOT.to_base64()]),
        Ok(vec![good, EMPTY_ROOT])
    );
    assert_eq!(parse_proof_hashes(&[]), Ok(vec![]));

    // "don't care 2", the placeholder of the conformance vectors: 12 bytes.
    assert_eq!(
        parse_hash("ZG9uJ3QgY2FyZSAy"),
        Err(HashParseError::WrongLength { actual: 12 })
    );
    assert_eq!(
        parse_hash(""),
        Err(HashParseError::WrongLength { actual: 0 })
    );
    assert!(matches!(
        parse_hash("not base64!"),
        Err(HashParseError::InvalidBase64(_))
    ));
    // Unpadded base64 of 32 bytes is not the standard form.
    let unpadded = good.to_base64().trim_end_matches('=').to_owned();
    assert!(matches!(
        parse_hash(&unpadded),
        Err(HashParseError::InvalidBase64(_))
    ));

    assert_eq!(
        parse_proof_hashes(&[good.to_base64(), String::new()]),
        Err(ProofParseError {
            index: 1,
            source: HashParseError::WrongLength { actual: 0 }
        })
    );
}
