//! Architecture Invariant: the core does no I/O, reads no clock and draws
//! no randomness. This test fails if the core's normal dependency tree
//! gains a runtime, database, HTTP, filesystem, network or randomness crate.

use daicho_testkit::workspace::forbidden_dependencies;

const FORBIDDEN: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "mio",
    "sqlx",
    "rusqlite",
    "postgres",
    "axum",
    "hyper",
    "reqwest",
    "ureq",
    "tower",
    "socket2",
    "tempfile",
    "walkdir",
    "notify",
    "getrandom",
    "rand",
    "rand_core",
    "chrono-tz",
    "futures",
];

#[test]
fn core_has_no_io_dependencies() {
    let found = forbidden_dependencies("daicho-core", FORBIDDEN);
    assert!(
        found.is_empty(),
        "daicho-core must stay pure, but depends on {found:?}"
    );
}
