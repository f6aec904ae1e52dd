//! Single Merkle proofs handed to an auditor, in the language-neutral JSON
//! layout of the transparency-dev/merkle test vectors (FORMAT.md §3.3):
//!
//! - inclusion: `{"leafIdx", "treeSize", "root", "leafHash", "proof"}`
//! - consistency: `{"size1", "size2", "root1", "root2", "proof"}`
//!
//! Hashes are standard base64; `proof` is a list of hashes or `null` (an
//! empty proof). Other members, such as the vectors' `desc` and `wantErr`,
//! are ignored. Verification is the core's RFC 9162 code.

use daicho_core::merkle::{self, parse_hash, parse_proof_hashes};
use serde::Deserialize;

/// Which kind of proof a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofKind {
    /// An inclusion proof (RFC 9162 §2.1.3).
    Inclusion,
    /// A consistency proof (RFC 9162 §2.1.4).
    Consistency,
}

/// The file is not a proof of the expected layout; nothing was checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a {kind} proof file: {message}")]
pub struct ProofFileError {
    /// `inclusion` or `consistency`.
    pub kind: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Why a well-formed proof file does not prove what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProofFailure(pub String);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionFile {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ConsistencyFile {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
}

/// Checks one proof file. `Err` only when the file is not of the layout at
/// all; a proof that is of the layout but wrong (including hashes that are
/// not 32 bytes of base64) is `Ok(Err(failure))`.
pub fn check_proof(
    kind: ProofKind,
    bytes: &[u8],
) -> Result<Result<(), ProofFailure>, ProofFileError> {
    let name = match kind {
        ProofKind::Inclusion => "inclusion",
        ProofKind::Consistency => "consistency",
    };
    let unreadable = |message: String| ProofFileError {
        kind: name,
        message,
    };
    // serde's derived structs refuse a duplicate member, so one file cannot
    // show two auditors two proofs. Indices and sizes are unsigned 64-bit
    // integers here, not doubles: the hashed-JSON rule of FORMAT.md §1.1
    // does not apply to this layout.
    Ok(match kind {
        ProofKind::Inclusion => {
            let f: InclusionFile =
                serde_json::from_slice(bytes).map_err(|e| unreadable(e.to_string()))?;
            check_inclusion(&f)
        }
        ProofKind::Consistency => {
            let f: ConsistencyFile =
                serde_json::from_slice(bytes).map_err(|e| unreadable(e.to_string()))?;
            check_consistency(&f)
        }
    })
}

fn hash(what: &str, b64: &str) -> Result<daicho_core::Digest, ProofFailure> {
    parse_hash(b64).map_err(|e| ProofFailure(format!("{what}: {e}")))
}

fn hashes(list: &Option<Vec<String>>) -> Result<Vec<daicho_core::Digest>, ProofFailure> {
    parse_proof_hashes(list.as_deref().unwrap_or_default())
        .map_err(|e| ProofFailure(format!("{e}: {}", e.source)))
}

fn check_inclusion(f: &InclusionFile) -> Result<(), ProofFailure> {
    let root = hash("root", &f.root)?;
    let leaf = hash("leafHash", &f.leaf_hash)?;
    let proof = hashes(&f.proof)?;
    merkle::verify_inclusion(f.leaf_idx, f.tree_size, &leaf, &proof, &root)
        .map_err(|e| ProofFailure(e.to_string()))
}

fn check_consistency(f: &ConsistencyFile) -> Result<(), ProofFailure> {
    // The roots stay bytes here: for equal sizes RFC 9162 only compares
    // them, and the core decides where their length matters.
    let bytes = |what: &str, b64: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| ProofFailure(format!("{what}: not standard base64: {e}")))
    };
    let root1 = bytes("root1", &f.root1)?;
    let root2 = bytes("root2", &f.root2)?;
    let proof = hashes(&f.proof)?;
    merkle::verify_consistency_bytes(f.size1, f.size2, &root1, &root2, &proof)
        .map_err(|e| ProofFailure(e.to_string()))
}
