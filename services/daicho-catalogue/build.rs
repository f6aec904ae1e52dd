//! Embeds the default catalogue (`schemas/` at the workspace root) into the
//! crate, so that the library reads no file at run time.
//!
//! The generated file lists every `.json` file under `schemas/` as a pair of
//! its path relative to `schemas/` and its bytes (`include_bytes!`). The
//! loader then treats the embedded catalogue exactly like one handed over by
//! the server for another municipality: the same checks run on both.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let schemas = manifest_dir.join("../../schemas");
    let schemas = schemas.canonicalize().unwrap_or_else(|error| {
        panic!(
            "the default catalogue must exist at {}: {error}",
            schemas.display()
        )
    });
    // Cargo scans a directory given to rerun-if-changed recursively, so any
    // edited, added or removed schema file triggers a rebuild.
    println!("cargo:rerun-if-changed={}", schemas.display());

    let mut files = Vec::new();
    collect_json_files(&schemas, &schemas, &mut files);
    // Sorting keeps the generated source identical from one build to the next.
    files.sort();

    let mut source = String::from("/// Every `.json` file of the default catalogue: (path relative to `schemas/`, bytes).\npub(crate) static FILES: &[(&str, &[u8])] = &[\n");
    for (relative, absolute) in &files {
        writeln!(
            source,
            "    ({relative:?}, include_bytes!({:?})),",
            absolute.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    source.push_str("];\n");

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("embedded_catalogue.rs"), source).expect("OUT_DIR is writable");
}

fn collect_json_files(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entries are readable").path();
        if path.is_dir() {
            collect_json_files(root, &path, files);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            let relative = path
                .strip_prefix(root)
                .expect("walked paths lie under the root")
                .components()
                .map(|component| component.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((relative, path));
        }
    }
}
