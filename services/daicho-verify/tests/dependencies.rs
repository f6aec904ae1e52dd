//! Architecture Invariant: the auditor's verifier depends on `daicho-core`
//! and small crates only, so that an auditor can read its whole dependency
//! tree. This test fails if the verifier's normal dependency tree gains an
//! async runtime, a database, HTTP, a report renderer or the test kit.

use daicho_testkit::workspace::forbidden_dependencies;

/// Crates the verifier must never depend on, directly or not.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "sqlx",
    "hyper",
    "axum",
    "reqwest",
    "typst",
    "daicho-report-pdf",
    "daicho-report-html",
    "daicho-report-office",
    "daicho-store",
    "daicho-server",
    "daicho-testkit",
];

#[test]
fn verifier_has_a_small_dependency_tree() {
    let found = forbidden_dependencies("daicho-verify", FORBIDDEN);
    assert!(
        found.is_empty(),
        "daicho-verify must stay small enough to audit, but depends on {found:?}"
    );
}

/// The check reads the tree it claims to read: the server's tree holds
/// crates the verifier's must not.
#[test]
fn the_check_sees_forbidden_crates_where_they_are() {
    let found = forbidden_dependencies("daicho-server", FORBIDDEN);
    for expected in ["tokio", "sqlx", "hyper", "axum", "daicho-store"] {
        assert!(
            found.iter().any(|n| n == expected),
            "{expected} not found in {found:?}"
        );
    }
}
