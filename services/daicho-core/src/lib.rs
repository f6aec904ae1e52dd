//! The daicho ledger format.
//!
//! Everything that is hashed or signed is defined here and specified in
//! `docs/FORMAT.md`; the section each module implements is named in its
//! documentation. Architecture Invariant: this crate does no I/O, reads no
//! clock and draws no randomness. Time and keys are parameters.

pub mod batch;
pub mod bundle;
pub mod checkpoint;
pub mod cosignature;
pub mod entry;
pub mod event;
pub mod hash;
pub mod jcs;
pub mod keys;
pub mod ledger;
pub mod merkle;
pub mod pointer;
pub mod receipt;
pub mod registry;
pub mod timestamp;

pub use hash::Digest;
