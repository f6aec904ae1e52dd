//! Reads a workspace crate's normal dependency tree, so that a test can
//! enforce a purity invariant from what the crate really links rather than
//! from what its manifest says: a forbidden crate is caught even when it
//! arrives through another dependency or through a feature.
//!
//! The core's purity test and the catalogue's include this one file, so that
//! both invariants are enforced by the same mechanism.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Crates a pure crate must not link: async runtimes, databases, HTTP and
/// network stacks, filesystem helpers, time-zone data, and the operating
/// system's randomness.
pub const FORBIDDEN: &[&str] = &[
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

/// Every crate in `package`'s normal (not dev, not build) dependency tree,
/// with the features enabled on it, from `cargo tree`.
pub fn normal_dependencies(package: &str) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}|{f}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).expect("cargo tree writes UTF-8");
    let mut dependencies: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in tree.lines() {
        // A line reads `name vX.Y.Z [(source)]|feature,feature[ (*)]`; the
        // `(*)` marks a crate already listed above.
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        let Some(name) = package.split_whitespace().next() else {
            continue;
        };
        let features = features.trim_end().trim_end_matches("(*)").trim();
        dependencies.entry(name.to_owned()).or_default().extend(
            features
                .split(',')
                .filter(|feature| !feature.is_empty())
                .map(str::to_owned),
        );
    }
    dependencies
}

/// Fails if any crate of [`FORBIDDEN`] is among `package`'s `dependencies`,
/// except those in `allowed`, each given with the reason it does no harm.
pub fn assert_pure(
    package: &str,
    dependencies: &BTreeMap<String, BTreeSet<String>>,
    allowed: &[(&str, &str)],
) {
    for (name, _reason) in allowed {
        assert!(
            FORBIDDEN.contains(name),
            "{name} is allowed for {package} but is not forbidden: remove the exception"
        );
    }
    let found: Vec<&&str> = FORBIDDEN
        .iter()
        .filter(|name| dependencies.contains_key(**name))
        .filter(|name| !allowed.iter().any(|(allowed, _)| allowed == *name))
        .collect();
    assert!(
        found.is_empty(),
        "{package} must stay pure, but depends on {found:?}"
    );
}
