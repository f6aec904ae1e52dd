//! daicho-verify: the auditor's verifier.
//!
//! It checks an export bundle, a receipt or a single Merkle proof offline,
//! trusting only the ledger's verifier key (and, for bundles, checkpoints
//! the auditor saved earlier). The command-line tool in `main.rs` is a thin
//! layer over this library; the checks themselves live here so that tests
//! and benchmarks run exactly what the auditor runs.
//!
//! Architecture Invariant: this crate depends on `daicho-core` for every
//! byte that is hashed or signed and reimplements none of it, and it does
//! no network I/O.

pub mod bundle;
pub mod event_bytes;
pub mod proof;
pub mod quarterly;
pub mod receipt;
pub mod report;
pub mod signature;

pub use bundle::{verify_bundle, verify_reader, verify_reader_with, Options, SavedCheckpoint};
pub use report::{Class, Finding, Report};
