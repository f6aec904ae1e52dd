//! Architecture Invariant: the auditor's verifier depends on `daicho-core`
//! and small crates only, so that an auditor can read its whole dependency
//! tree. This test fails if the verifier's normal dependency tree gains an
//! async runtime, a database, HTTP, a report renderer or the test kit.

use std::process::Command;

/// Crates the verifier must never depend on, directly or not.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "sqlx",
    "hyper",
    "axum",
    "reqwest",
    "typst",
    "daicho-store",
    "daicho-server",
    "daicho-testkit",
];

/// The names of the packages in `package`'s normal dependency tree.
fn normal_dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn verifier_has_a_small_dependency_tree() {
    let names = normal_dependencies("daicho-verify");
    assert!(
        names.iter().any(|n| n == "daicho-core"),
        "the tree was read: {names:?}"
    );
    let found: Vec<&&str> = FORBIDDEN
        .iter()
        .filter(|f| names.iter().any(|n| n == **f))
        .collect();
    assert!(
        found.is_empty(),
        "daicho-verify must stay small enough to audit, but depends on {found:?}"
    );
}

/// The check reads the tree it claims to read: the server's tree holds
/// crates the verifier's must not.
#[test]
fn the_check_sees_forbidden_crates_where_they_are() {
    let names = normal_dependencies("daicho-server");
    for expected in ["tokio", "sqlx", "hyper", "axum", "daicho-store"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not found in {names:?}"
        );
    }
}
