//! The `daicho` subcommands other than `serve`, each a function of its
//! configuration struct.

pub mod backup;
pub mod demo;
pub mod export;
pub mod init;
pub mod key;
pub mod report;
pub mod restore;
pub mod sign;
pub mod token;
pub mod witness;

/// A fresh event id: time-ordered (UUID version 7), from the clock and the
/// operating system's randomness. Time-ordered ids keep the ledger's
/// event-id index growing at its end (docs/PERFORMANCE.md).
pub fn fresh_event_id() -> daicho_core::event::EventId {
    use rand::RngCore as _;
    let millis = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let mut random = [0u8; 10];
    rand::rngs::OsRng.fill_bytes(&mut random);
    daicho_core::event::EventId::time_ordered(u64::try_from(millis).unwrap_or(0), random)
}
