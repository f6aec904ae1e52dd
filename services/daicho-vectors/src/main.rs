//! Writes the test vectors: `cargo run -p daicho-vectors` (from the
//! workspace root) rewrites `tests/vectors/`.

use std::path::PathBuf;

use anyhow::Context as _;

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    for (path, bytes) in daicho_vectors::generate() {
        let p = root.join(&path);
        std::fs::create_dir_all(p.parent().expect("has a parent"))?;
        std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
        println!("wrote tests/vectors/{path}");
    }
    Ok(())
}
