//! The log's Merkle tree, its inclusion and consistency proofs, and their
//! verification (FORMAT.md §3).
//!
//! It is long on purpose: the tree, both proofs and their verification are
//! one algorithm read against one RFC section by section, and splitting it
//! would separate each proof from the verification that must mirror it.
//!
//! This module implements RFC 9162 §2.1: the Merkle Tree Hash `MTH(D[n])`
//! (§2.1.1), inclusion proofs `PATH(m, D[n])` (§2.1.3.1) and consistency
//! proofs `PROOF(m, D[n])` (§2.1.4.1), and the two verification algorithms
//! of §2.1.3.2 and §2.1.4.2. Parameters carry the RFC's names: `m` is a leaf
//! index or the size of the earlier tree, `n` the size of the tree, and `k`
//! the largest power of two smaller than `n`.
//!
//! Every input here is already a leaf hash `SHA-256(0x00 || d)` made by
//! [`crate::hash::leaf_hash`]; nothing in this module hashes entry bytes.
//!
//! [`Tree`] keeps the live log as *stored hashes*, the layout of Go's
//! `golang.org/x/mod/sumdb/tlog`: for every level `k` it keeps the hashes of
//! all complete subtrees of `2^k` leaves, in order. Any subtree hash the RFC
//! asks for, including those of the incomplete subtrees on the right border
//! of an older tree, is then a combination of at most `log2(n)` stored
//! hashes, so roots and proofs for any historical size cost O(log n) and no
//! leaf is ever rehashed.

use base64::Engine as _;

use crate::hash::{node_hash, Digest};

/// `MTH({})`, the hash of the empty tree: SHA-256 of the empty string
/// (RFC 9162 §2.1.1).
pub const EMPTY_ROOT: Digest = Digest([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// The largest power of two smaller than `n`, which RFC 9162 §2.1.1 calls
/// `k` and uses to split a list of `n > 1` inputs.
fn split_point(n: u64) -> u64 {
    debug_assert!(n > 1, "only lists of two or more inputs are split");
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[n])` over leaf hashes that are already `SHA-256(0x00 || d)`
/// (RFC 9162 §2.1.1).
///
/// This is the plain recursive definition, so it rehashes every interior
/// node; a growing log should use [`Tree`], which answers the same question
/// in O(log n).
pub fn root(leaves: &[Digest]) -> Digest {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            // `k < n`, so converting back to `usize` cannot truncate.
            let k = split_point(n as u64) as usize;
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// Why [`Tree`] could not compute a root or a proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A root or proof was asked for a tree larger than the log.
    #[error("tree size {requested} is beyond the log's size {size}")]
    SizeBeyondTree {
        /// The tree size that was asked for.
        requested: u64,
        /// The number of leaves the log holds.
        size: u64,
    },
    /// An inclusion proof was asked for a leaf outside the tree.
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index that was asked for.
        index: u64,
        /// The size of the tree the proof would be relative to.
        size: u64,
    },
    /// A consistency proof was asked from the empty tree, which RFC 9162
    /// §2.1.4.1 does not define (it requires `0 < m`).
    #[error("a consistency proof from the empty tree is not defined")]
    EmptyFirstTree,
    /// A consistency proof was asked from a tree larger than the second one.
    #[error("the first tree size {m} is larger than the second tree size {n}")]
    FirstTreeLarger {
        /// The size of the earlier tree.
        m: u64,
        /// The size of the later tree.
        n: u64,
    },
}

/// How many hashes one storage chunk holds. Levels are stored in chunks of
/// this many hashes so that an append never moves the hashes already stored:
/// a single growing `Vec` would now and then copy a whole level, which makes
/// the worst case of an append proportional to the size of the log.
const CHUNK_LEN: usize = 4096;

/// The stored hashes of one level, in leaf order.
#[derive(Clone, Default)]
struct Level {
    chunks: Vec<Vec<Digest>>,
    len: u64,
}

impl Level {
    fn push(&mut self, hash: Digest) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK_LEN => chunk.push(hash),
            _ => {
                // The first chunk grows on demand so that small trees stay
                // small; later chunks are allocated whole and never move.
                let mut chunk = if self.chunks.is_empty() {
                    Vec::new()
                } else {
                    Vec::with_capacity(CHUNK_LEN)
                };
                chunk.push(hash);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    fn get(&self, index: u64) -> Digest {
        // Stored indices are below the number of stored hashes, which fits
        // in memory and therefore in `usize`.
        let index = index as usize;
        self.chunks[index / CHUNK_LEN][index % CHUNK_LEN]
    }
}

/// The live log's Merkle tree, kept as the stored hashes of all complete
/// subtrees so that roots and proofs for every past size stay cheap.
///
/// Level 0 holds the leaf hashes; level `k` holds, for each `i`, the hash of
/// the complete subtree over leaves `[i * 2^k, (i + 1) * 2^k)`. A tree of
/// `n` leaves therefore stores fewer than `2n` hashes.
#[derive(Clone, Default)]
pub struct Tree {
    levels: Vec<Level>,
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Printing every stored hash would be useless for a real log.
        f.debug_struct("Tree").field("size", &self.size()).finish()
    }
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree::default()
    }

    /// A tree holding `leaves`, in order.
    pub fn from_leaves(leaves: impl IntoIterator<Item = Digest>) -> Tree {
        let mut tree = Tree::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// Appends a leaf hash and returns its index.
    ///
    /// Each append stores the leaf and the hash of every subtree it
    /// completes: one node hash on average, `log2(n)` at most.
    pub fn push(&mut self, leaf: Digest) -> u64 {
        let index = self.size();
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if level == self.levels.len() {
                self.levels.push(Level::default());
            }
            let stored = &mut self.levels[level];
            stored.push(hash);
            if stored.len % 2 == 1 {
                break;
            }
            // The level now ends with two sibling subtrees, so their parent
            // is a new complete subtree one level up.
            hash = node_hash(&stored.get(stored.len - 2), &hash);
            level += 1;
        }
        index
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len)
    }

    /// The leaf hash at `index`, if the tree has that many leaves.
    pub fn leaf(&self, index: u64) -> Option<Digest> {
        (index < self.size()).then(|| self.levels[0].get(index))
    }

    /// `MTH(D[n])` for the current size `n`.
    pub fn root(&self) -> Digest {
        match self.size() {
            0 => EMPTY_ROOT,
            n => self.subtree_hash(0, n),
        }
    }

    /// `MTH(D[0:n])`: the root the tree had when it held `n` leaves.
    pub fn root_at(&self, n: u64) -> Result<Digest, TreeError> {
        self.check_size(n)?;
        Ok(match n {
            0 => EMPTY_ROOT,
            n => self.subtree_hash(0, n),
        })
    }

    /// `PATH(m, D[0:n])`, the inclusion proof of leaf `m` in the tree of the
    /// first `n` leaves (RFC 9162 §2.1.3.1), ordered from the leaf upwards.
    pub fn inclusion_proof(&self, m: u64, n: u64) -> Result<Vec<Digest>, TreeError> {
        self.check_size(n)?;
        if m >= n {
            return Err(TreeError::IndexOutOfRange { index: m, size: n });
        }
        // The RFC's recursion descends from the root towards leaf `m`; the
        // loop does the same over the subtree `D[lo:hi]` and reverses the
        // collected siblings at the end, because PATH lists them leaf first.
        let mut path = Vec::with_capacity(64);
        let (mut lo, mut hi) = (0, n);
        while hi - lo > 1 {
            let k = split_point(hi - lo);
            if m - lo < k {
                // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])
                path.push(self.subtree_hash(lo + k, hi));
                hi = lo + k;
            } else {
                // PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])
                path.push(self.subtree_hash(lo, lo + k));
                lo += k;
            }
        }
        path.reverse();
        Ok(path)
    }

    /// `PROOF(m, D[0:n])`, the proof that the tree of the first `m` leaves
    /// is a prefix of the tree of the first `n` (RFC 9162 §2.1.4.1).
    ///
    /// The RFC defines proofs for `0 < m < n`; for `m == n` the proof is
    /// empty, as in every deployed verifier, because the two roots must
    /// simply be equal.
    pub fn consistency_proof(&self, m: u64, n: u64) -> Result<Vec<Digest>, TreeError> {
        self.check_size(n)?;
        if m == 0 {
            return Err(TreeError::EmptyFirstTree);
        }
        if m > n {
            return Err(TreeError::FirstTreeLarger { m, n });
        }
        // SUBPROOF(m, D[lo:hi], b), unrolled like `inclusion_proof`. In the
        // current subtree the RFC's `m` is `m - lo` and its `n` is `hi - lo`.
        let mut proof = Vec::with_capacity(64);
        let (mut lo, mut hi, mut b) = (0, n, true);
        while m != hi {
            let k = split_point(hi - lo);
            if m - lo <= k {
                // SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
                proof.push(self.subtree_hash(lo + k, hi));
                hi = lo + k;
            } else {
                // SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
                proof.push(self.subtree_hash(lo, lo + k));
                lo += k;
                b = false;
            }
        }
        // SUBPROOF(m, D[m], true) = {} and SUBPROOF(m, D[m], false) = {MTH(D[m])}.
        // The first case is reached only when `m` was a complete subtree on
        // the left border, whose hash the verifier already holds as the
        // first root.
        if !b {
            proof.push(self.subtree_hash(lo, hi));
        }
        proof.reverse();
        Ok(proof)
    }

    fn check_size(&self, n: u64) -> Result<(), TreeError> {
        let size = self.size();
        if n > size {
            return Err(TreeError::SizeBeyondTree { requested: n, size });
        }
        Ok(())
    }

    /// `MTH(D[lo:hi])` for a non-empty range that is a node of some tree
    /// over the log, that is, `lo` is a multiple of the largest power of two
    /// not above `hi - lo`.
    ///
    /// Such a range splits, from the left, into complete subtrees of
    /// strictly decreasing size, one per set bit of `hi - lo`, each of which
    /// is stored. Folding their hashes from the right is exactly the RFC's
    /// recursion, because each split point `k` falls on one of those
    /// boundaries.
    fn subtree_hash(&self, lo: u64, hi: u64) -> Digest {
        debug_assert!(lo < hi && hi <= self.size());
        debug_assert!(lo % (1 << (63 - (hi - lo).leading_zeros())) == 0);
        let len = hi - lo;
        let mut end = hi;
        let mut acc: Option<Digest> = None;
        for level in 0..u64::BITS - len.leading_zeros() {
            if len >> level & 1 == 0 {
                continue;
            }
            let start = end - (1 << level);
            let hash = self.levels[level as usize].get(start >> level);
            acc = Some(match acc {
                None => hash,
                Some(right) => node_hash(&hash, &right),
            });
            end = start;
        }
        acc.expect("a non-empty range has at least one complete subtree")
    }
}

/// Why an inclusion proof was rejected (RFC 9162 §2.1.3.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InclusionError {
    /// The leaf index is not below the tree size, so no proof can exist.
    #[error("leaf index {leaf_index} is beyond tree size {tree_size}")]
    IndexBeyondSize {
        /// The claimed leaf index.
        leaf_index: u64,
        /// The claimed tree size.
        tree_size: u64,
    },
    /// The proof has fewer hashes than the path from the leaf to the root.
    #[error("inclusion proof too short: {actual} hashes, expected {expected}")]
    ProofTooShort {
        /// The length the leaf index and tree size require.
        expected: usize,
        /// The length received.
        actual: usize,
    },
    /// The proof has more hashes than the path from the leaf to the root.
    #[error("inclusion proof too long: {actual} hashes, expected {expected}")]
    ProofTooLong {
        /// The length the leaf index and tree size require.
        expected: usize,
        /// The length received.
        actual: usize,
    },
    /// The proof leads to a different root than the one claimed.
    #[error("inclusion proof leads to root {computed}, expected {expected}")]
    RootMismatch {
        /// The root the proof was checked against.
        expected: Digest,
        /// The root the proof leads to.
        computed: Digest,
    },
}

/// Why a consistency proof was rejected (RFC 9162 §2.1.4.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsistencyError {
    /// The first tree is larger than the second, so it cannot be a prefix.
    #[error("first tree size {size1} is larger than second tree size {size2}")]
    Size1BeyondSize2 {
        /// The claimed size of the earlier tree.
        size1: u64,
        /// The claimed size of the later tree.
        size2: u64,
    },
    /// The first tree is empty. Every tree extends the empty tree, so such a
    /// proof proves nothing, and RFC 9162 §2.1.4.1 defines proofs only for
    /// `0 < m`; accepting it would let a caller believe it checked something.
    #[error("a consistency proof from the empty tree proves nothing")]
    EmptyFirstTree,
    /// The sizes are equal, where the only valid proof is empty.
    #[error("tree sizes are equal but the proof has {len} hashes")]
    ProofNotEmptyForEqualSizes {
        /// The length received.
        len: usize,
    },
    /// Equal sizes with roots that are not the same bytes.
    #[error("tree sizes are equal but the roots differ")]
    RootsDiffer,
    /// A root of a tree that is not empty is not 32 bytes.
    #[error("a root is {actual} bytes, not 32")]
    RootLength {
        /// The length received.
        actual: usize,
    },
    /// The proof has fewer hashes than the two sizes require.
    #[error("consistency proof too short: {actual} hashes, expected {expected}")]
    ProofTooShort {
        /// The length the two sizes require.
        expected: usize,
        /// The length received.
        actual: usize,
    },
    /// The proof has more hashes than the two sizes require.
    #[error("consistency proof too long: {actual} hashes, expected {expected}")]
    ProofTooLong {
        /// The length the two sizes require.
        expected: usize,
        /// The length received.
        actual: usize,
    },
    /// The proof does not lead to the first root.
    #[error("consistency proof leads to first root {computed}, expected {expected}")]
    Root1Mismatch {
        /// The first root the proof was checked against.
        expected: Digest,
        /// The first root the proof leads to.
        computed: Digest,
    },
    /// The proof does not lead to the second root. For equal sizes the
    /// computed root is the first root, which must equal the second.
    #[error("consistency proof leads to second root {computed}, expected {expected}")]
    Root2Mismatch {
        /// The second root the proof was checked against.
        expected: Digest,
        /// The second root the proof leads to.
        computed: Digest,
    },
}

/// The length of a valid `inclusion_path` for `leaf_index < tree_size`.
///
/// This replays the index bookkeeping of RFC 9162 §2.1.3.2 (steps 2, 4b and
/// 4c) without hashing: the path has one hash per iteration until `sn`
/// reaches 0. Checking the length first means a malformed proof is
/// rejected with its exact defect before any hashing.
fn inclusion_path_len(leaf_index: u64, tree_size: u64) -> usize {
    // `fn` in the RFC; the underscore only avoids the Rust keyword.
    let (mut fn_, mut sn) = (leaf_index, tree_size - 1);
    let mut len = 0;
    while sn != 0 {
        if fn_ & 1 == 1 || fn_ == sn {
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        }
        fn_ >>= 1;
        sn >>= 1;
        len += 1;
    }
    len
}

/// The length of a valid `consistency_path` for `0 < first < second`, as
/// transmitted, that is before step 2 of RFC 9162 §2.1.4.2 prepends
/// `first_hash` when `first` is a power of two. Like [`inclusion_path_len`]
/// it replays the RFC's index bookkeeping (steps 3, 4 and 6) without hashing.
fn consistency_path_len(first: u64, second: u64) -> usize {
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5 consumes the first value of the (prepended) path.
    let mut len = 1;
    while sn != 0 {
        if fn_ & 1 == 1 || fn_ == sn {
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        }
        fn_ >>= 1;
        sn >>= 1;
        len += 1;
    }
    if first.is_power_of_two() {
        len - 1
    } else {
        len
    }
}

/// The root that `inclusion_path` leads to from leaf `leaf_index` with hash
/// `leaf_hash` in a tree of `tree_size` leaves: steps 1 to 4 of RFC 9162
/// §2.1.3.2, with the final comparison left to the caller.
pub fn root_from_inclusion_proof(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Digest,
    inclusion_path: &[Digest],
) -> Result<Digest, InclusionError> {
    // 1. If leaf_index is greater than or equal to tree_size, fail.
    if leaf_index >= tree_size {
        return Err(InclusionError::IndexBeyondSize {
            leaf_index,
            tree_size,
        });
    }
    let expected = inclusion_path_len(leaf_index, tree_size);
    let actual = inclusion_path.len();
    if actual < expected {
        return Err(InclusionError::ProofTooShort { expected, actual });
    }
    if actual > expected {
        return Err(InclusionError::ProofTooLong { expected, actual });
    }
    // 2. Set fn to leaf_index and sn to tree_size - 1.
    let (mut fn_, mut sn) = (leaf_index, tree_size - 1);
    // 3. Set r to hash.
    let mut r = *leaf_hash;
    // 4. For each value p in the inclusion_path array:
    for p in inclusion_path {
        // a. If sn is 0, stop and fail. The length check above makes this
        // unreachable; it is kept so that the loop is the RFC's on its own.
        if sn == 0 {
            return Err(InclusionError::ProofTooLong { expected, actual });
        }
        // b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn_ & 1 == 1 || fn_ == sn {
            // i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, &r);
            // ii. If LSB(fn) is not set, right-shift both fn and sn equally
            // until either LSB(fn) is set or fn is 0.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            // Otherwise: i. Set r to HASH(0x01 || r || p).
            r = node_hash(&r, p);
        }
        // c. Finally, right-shift both fn and sn one time.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. Compare sn to 0 (the comparison of r is the caller's).
    if sn != 0 {
        return Err(InclusionError::ProofTooShort { expected, actual });
    }
    Ok(r)
}

/// Checks that `inclusion_path` proves leaf `leaf_index` with hash
/// `leaf_hash` is in the tree of `tree_size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2). The roots are compared in constant time.
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Digest,
    inclusion_path: &[Digest],
    root: &Digest,
) -> Result<(), InclusionError> {
    let computed = root_from_inclusion_proof(leaf_index, tree_size, leaf_hash, inclusion_path)?;
    // 5. If r and the root_hash are equal, the inclusion is proven.
    if computed != *root {
        return Err(InclusionError::RootMismatch {
            expected: *root,
            computed,
        });
    }
    Ok(())
}

/// [`verify_consistency`] for roots handed over as bytes of unchecked
/// length, as in proof files: equal sizes with an empty proof are consistent
/// when the two roots are the same bytes (the RFC's comparison); every other
/// case needs 32-byte roots.
pub fn verify_consistency_bytes(
    size1: u64,
    size2: u64,
    root1: &[u8],
    root2: &[u8],
    consistency_path: &[Digest],
) -> Result<(), ConsistencyError> {
    // RFC 9162 §2.1.4.2 compares the roots as given when the sizes are equal;
    // this keeps that comparison for roots handed over as opaque bytes (proof
    // files), and requires 32-byte roots everywhere a hash is computed.
    if size1 == size2 && size1 > 0 {
        if !consistency_path.is_empty() {
            return Err(ConsistencyError::ProofNotEmptyForEqualSizes {
                len: consistency_path.len(),
            });
        }
        let same = root1.len() == root2.len()
            && root1
                .iter()
                .zip(root2)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        return if same {
            Ok(())
        } else {
            Err(ConsistencyError::RootsDiffer)
        };
    }
    let r1 = Digest::from_slice(root1).ok_or(ConsistencyError::RootLength {
        actual: root1.len(),
    })?;
    let r2 = Digest::from_slice(root2).ok_or(ConsistencyError::RootLength {
        actual: root2.len(),
    })?;
    verify_consistency(size1, size2, &r1, &r2, consistency_path)
}

/// Checks that `consistency_path` proves the tree of `size1` leaves with
/// root `root1` is a prefix of the tree of `size2` leaves with root `root2`
/// (RFC 9162 §2.1.4.2). The roots are compared in constant time.
///
/// Beyond the RFC, which assumes `0 < first < second`: equal sizes are
/// consistent exactly when the proof is empty and the roots are equal, and
/// an empty first tree is rejected because such a proof proves nothing.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Digest,
    root2: &Digest,
    consistency_path: &[Digest],
) -> Result<(), ConsistencyError> {
    if size1 > size2 {
        return Err(ConsistencyError::Size1BeyondSize2 { size1, size2 });
    }
    if size1 == 0 {
        return Err(ConsistencyError::EmptyFirstTree);
    }
    if size1 == size2 {
        if !consistency_path.is_empty() {
            return Err(ConsistencyError::ProofNotEmptyForEqualSizes {
                len: consistency_path.len(),
            });
        }
        if root1 != root2 {
            return Err(ConsistencyError::Root2Mismatch {
                expected: *root2,
                computed: *root1,
            });
        }
        return Ok(());
    }

    // 1. If consistency_path is an empty array, stop and fail. The exact
    // length check covers this, because `first < second` needs at least one
    // hash.
    let expected = consistency_path_len(size1, size2);
    let actual = consistency_path.len();
    if actual < expected {
        return Err(ConsistencyError::ProofTooShort { expected, actual });
    }
    if actual > expected {
        return Err(ConsistencyError::ProofTooLong { expected, actual });
    }
    // 2. If first is an exact power of 2, prepend first_hash to the
    // consistency_path array. Instead of copying the array, the first value
    // is taken from the right place.
    let (first_value, rest) = if size1.is_power_of_two() {
        (*root1, consistency_path)
    } else {
        (consistency_path[0], &consistency_path[1..])
    };
    // 3. Set fn to first - 1 and sn to second - 1.
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    // 4. If LSB(fn) is set, right-shift both fn and sn equally until LSB(fn)
    // is not set.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. Set both fr and sr to the first value in the consistency_path array.
    let (mut fr, mut sr) = (first_value, first_value);
    // 6. For each subsequent value c in the consistency_path array:
    for c in rest {
        // a. If sn is 0, stop and fail. As for inclusion, the length check
        // makes this unreachable; it keeps the loop the RFC's on its own.
        if sn == 0 {
            return Err(ConsistencyError::ProofTooLong { expected, actual });
        }
        // b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn_ & 1 == 1 || fn_ == sn {
            // i. Set fr to HASH(0x01 || c || fr).
            fr = node_hash(c, &fr);
            // ii. Set sr to HASH(0x01 || c || sr).
            sr = node_hash(c, &sr);
            // iii. If LSB(fn) is not set, right-shift both fn and sn equally
            // until either LSB(fn) is set or fn is 0.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            // Otherwise: i. Set sr to HASH(0x01 || sr || c).
            sr = node_hash(&sr, c);
        }
        // c. Finally, right-shift both fn and sn one time.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7. Verify that fr equals first_hash, sr equals second_hash, and sn is 0.
    if sn != 0 {
        return Err(ConsistencyError::ProofTooShort { expected, actual });
    }
    if fr != *root1 {
        return Err(ConsistencyError::Root1Mismatch {
            expected: *root1,
            computed: fr,
        });
    }
    if sr != *root2 {
        return Err(ConsistencyError::Root2Mismatch {
            expected: *root2,
            computed: sr,
        });
    }
    Ok(())
}

/// Why a base64 string is not a SHA-256 hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// The string is not standard padded base64.
    #[error("not standard base64")]
    InvalidBase64(#[source] base64::DecodeError),
    /// The string decodes to something other than 32 bytes.
    #[error("a SHA-256 hash is 32 bytes, this one is {actual}")]
    WrongLength {
        /// The number of bytes decoded.
        actual: usize,
    },
}

/// Why a proof's list of base64 hashes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("proof hash {index} is invalid")]
pub struct ProofParseError {
    /// The position of the offending hash in the list.
    pub index: usize,
    /// What is wrong with it.
    #[source]
    pub source: HashParseError,
}

/// Reads one hash written as standard padded base64, the form of roots,
/// leaf hashes and proof hashes in checkpoints, proofs and test vectors.
///
/// Anything that is not exactly 32 bytes is refused here, so the verifiers
/// above only ever see well-formed hashes.
pub fn parse_hash(b64: &str) -> Result<Digest, HashParseError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(HashParseError::InvalidBase64)?;
    Digest::from_slice(&bytes).ok_or(HashParseError::WrongLength {
        actual: bytes.len(),
    })
}

/// Reads a proof given as a list of base64 hashes, as proofs appear in the
/// API, in bundles and in the conformance vectors, naming the first hash
/// that is not a 32-byte SHA-256 value.
pub fn parse_proof_hashes(b64: &[String]) -> Result<Vec<Digest>, ProofParseError> {
    b64.iter()
        .enumerate()
        .map(|(index, s)| parse_hash(s).map_err(|source| ProofParseError { index, source }))
        .collect()
}
