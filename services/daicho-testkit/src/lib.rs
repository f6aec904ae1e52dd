//! Test support for the daicho workspace, and nothing the product ships.
//!
//! - [`keys`]: signing keys derived from published seeds.
//! - [`event`]: [`EventBuilder`], the one way tests write a signed event.
//! - [`ledger`]: the sample ledger built through the core's own ledger
//!   builder, [`ledger::assemble`] for tampered bundles, and the
//!   benchmark's large ledger.
//! - [`scratch`]: throw-away databases, an SQLite file or a PostgreSQL
//!   schema, and [`on_both_backends!`] to run one test on each.
//! - [`workspace`]: cargo's view of the workspace, for the tests that keep
//!   dependencies within the Architecture Invariants.
//!
//! Every crate uses this one as a dev-dependency (the test-vector generator
//! excepted, which is itself a test tool), so that the auditor's verifier
//! and the store carry no test code.

pub mod event;
pub mod keys;
pub mod ledger;
pub mod scratch;
pub mod workspace;

pub use event::EventBuilder;
pub use keys::{Keys, FINANCE, FINANCE_TYPES, ORIGIN, PERSONNEL, PERSONNEL_TYPE};
pub use ledger::{
    assemble, large_ledger, recorded_at, rotated_sample_ledger, sample_ledger, source_event,
    SampleLedger,
};
pub use scratch::{database_url, Backend, ScratchDb, DATABASE_URL_VAR, DEFAULT_DATABASE_URL};

/// Declares each named test once per backend: `sqlite::NAME` and
/// `postgres::NAME`, each calling `NAME(Backend)` of the calling module on
/// a two-thread tokio runtime (import functions from elsewhere into it).
/// The calling crate needs tokio with its `macros` and `rt-multi-thread`
/// features.
///
/// ```ignore
/// daicho_testkit::on_both_backends!(entries_round_trip, tokens_round_trip);
/// ```
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}
