//! Architecture Invariant: the core does no I/O, reads no clock and draws
//! no randomness. This test fails if the core's normal dependency tree
//! gains a runtime, database, HTTP, filesystem, network or randomness crate.

use daicho_testkit::workspace::normal_dependencies;

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
    let names = normal_dependencies("daicho-core");
    assert!(
        names.iter().any(|n| n == "sha2"),
        "the tree was read: {names:?}"
    );
    let found: Vec<&&str> = FORBIDDEN
        .iter()
        .filter(|f| names.iter().any(|n| n == **f))
        .collect();
    assert!(
        found.is_empty(),
        "daicho-core must stay pure, but depends on {found:?}"
    );
}
