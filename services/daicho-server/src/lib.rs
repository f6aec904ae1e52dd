//! # daicho-server: the ledger service and the `daicho` command
//!
//! The service puts the ledger format (`daicho-core`) behind a durable store
//! (`daicho-store`) and an HTTP API: source systems POST signed events and
//! get receipts they can verify offline; auditors and the committee read
//! entries, checkpoints and proofs with bearer tokens.
//!
//! Architecture Invariant: this is the only crate that speaks HTTP. The
//! append path is, in order: body limit → strict parse → catalogue
//! validation → `occurred_at` window → signature against the registry
//! (`admission`, in the handler, in parallel) → the source's rate limit
//! (`rate_limit`) → the sequencer (one writer, group commit) → receipt.
//! Nothing touches the ledger before every check passed.

pub mod admission;
pub mod api;
pub mod app;
pub mod auth;
pub mod bundle;
pub mod check_pool;
pub mod cli;
pub mod client;
pub mod commands;
pub mod compliance;
pub mod connections;
pub mod data_dir;
pub mod extract;
pub mod keyfile;
pub mod last_checkpoint;
pub mod metrics;
pub mod problem;
pub mod rate_limit;
pub mod reports;
pub mod sequencer;
pub mod witness;
