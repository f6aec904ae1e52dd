//! Durable storage of the daicho ledger in SQLite or PostgreSQL.
//!
//! The store keeps what the ledger must not forget: the entries with the
//! exact canonical bytes of their signed events, the signed checkpoint of
//! every commit, and the hashes of read tokens. It knows nothing of Merkle
//! trees, signatures or the registry; those live in `daicho-core`, and the
//! sequencer in `daicho-server` puts the two together.
//!
//! Appends go through [`Sequencing`], which holds the database's single
//! writer lock (`BEGIN IMMEDIATE` on SQLite; a transaction-scoped advisory
//! lock on PostgreSQL; on both, on a connection kept for sequencing), so that
//! several processes on one database never assign the same sequence number
//! twice.
//!
//! Architecture Invariant: this is the only crate that speaks SQL. Both
//! backends pass the same conformance suite (`tests/conformance.rs`).

mod error;
mod sequencing;
mod store;
mod stored;

pub use error::StoreError;
pub use sequencing::Sequencing;
pub use store::{Store, StoredCheckpoint, StoredToken};
