//! Witnesses: checkpoints cosigned outside the city (FORMAT.md §7.3, §14).
//!
//! A ledger key could sign two different histories and show each to a
//! different reader. A witness run by someone else (the prefecture, a
//! neighbouring city, the audit office) cosigns a checkpoint only after a
//! consistency proof from the last checkpoint it cosigned for that log, so
//! a reader who requires a quorum of witnesses sees the one history every
//! witness saw. Both sides speak C2SP `tlog-witness` over HTTP:
//!
//! - [`protocol`]: the add-checkpoint request body, shared by both sides;
//! - [`service`]: the witness (`daicho witness serve`);
//! - [`cosigner`]: the ledger service's side, which asks its witnesses
//!   after each checkpoint without holding up appends.

pub mod cosigner;
pub mod protocol;
pub mod service;
