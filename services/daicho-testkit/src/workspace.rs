//! The workspace as cargo describes it, for the tests that hold the
//! Architecture Invariants about dependencies.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's root folder.
pub fn root() -> PathBuf {
    std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .expect("the workspace root")
}

/// Runs cargo (the one running the tests, through `CARGO`) with `args` in
/// the workspace root and returns its standard output; panics with cargo's
/// error output if it fails.
pub fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(root())
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The names of the packages in `package`'s normal dependency tree (no
/// dev or build dependencies), `package` included.
pub fn normal_dependencies(package: &str) -> Vec<String> {
    cargo(&[
        "tree", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}",
    ])
    .lines()
    .filter_map(|l| l.split_whitespace().next())
    .map(str::to_owned)
    .collect()
}

/// Which of `forbidden` are in `package`'s normal dependency tree. Panics
/// if the tree does not list `package` itself, so that a tree that was not
/// read never passes for a clean one.
pub fn forbidden_dependencies(package: &str, forbidden: &[&str]) -> Vec<String> {
    let names = normal_dependencies(package);
    assert!(
        names.iter().any(|n| n == package),
        "the tree of {package} was read: {names:?}"
    );
    forbidden
        .iter()
        .filter(|f| names.iter().any(|n| n == **f))
        .map(|f| (*f).to_owned())
        .collect()
}
