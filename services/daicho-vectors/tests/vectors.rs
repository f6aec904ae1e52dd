//! The committed vectors are exactly what the generator writes.

use std::path::PathBuf;

#[test]
fn vectors_are_current() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let mut stale = Vec::new();
    for (path, bytes) in daicho_vectors::generate() {
        match std::fs::read(root.join(&path)) {
            Ok(committed) if committed == bytes => {}
            Ok(_) => stale.push(format!("{path} differs")),
            Err(e) => stale.push(format!("{path}: {e}")),
        }
    }
    assert!(
        stale.is_empty(),
        "tests/vectors is out of date ({}); regenerate with `cargo run -p daicho-vectors` and review the diff",
        stale.join(", ")
    );
}
