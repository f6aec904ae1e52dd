//! From events to compliance: projections folded from the ledger's entries,
//! and the rule engine that evaluates every article of the regulation over
//! a period.
//!
//! - [`state`]: the projections, a deterministic fold over
//!   [`daicho_core::entry::Recorded`] entries in seq order.
//! - [`rules`]: the rule kinds, instantiated per article by data in the
//!   catalogue directory (`rules/rules.json`), with the thresholds
//!   (`rules/thresholds.json`) and the calendar (`rules/calendar.json`).
//! - [`evaluation`]: every article's status over a period, with the
//!   findings behind it, as canonical JSON.
//!
//! Architecture Invariant: this crate is pure like the core and the
//! catalogue. It does no I/O, reads no clock and has no async code: the
//! entries, the catalogue, the period and the ledger size are parameters,
//! so the same inputs always give the same bytes.

pub mod calendar;
pub mod datum;
mod engine;
pub mod evaluation;
pub mod rules;
pub mod state;
pub mod thresholds;

pub use calendar::Period;
pub use datum::{Datum, Payload};
pub use engine::FindingKind;
pub use evaluation::{evaluate, evaluate_until, Evaluation, Finding, FindingState, Status};
pub use rules::{Rule, Rulebook, RulesError};
pub use state::State;
