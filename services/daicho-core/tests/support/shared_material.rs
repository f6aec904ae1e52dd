//! Compares a copy of shared material kept in the repository with its
//! original in `../shared` beside the repository.
//!
//! Tests read only the copy, so that they need nothing outside the
//! repository. Where the original is present (a developer's machine, CI),
//! this comparison makes a drifted copy fail; where it is absent, the
//! comparison alone is skipped with a printed note.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The repository's root, from a crate under `services/`.
fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Asserts that `copy` (a file or folder, relative to the repository's root)
/// holds the same files with the same bytes as `original` (relative to
/// `../shared`), or prints why the comparison is skipped.
pub fn assert_copy_matches_original(copy: &str, original: &str) {
    let copy_path = repository_root().join(copy);
    let original_path = repository_root().join("../shared").join(original);
    if !original_path.exists() {
        println!(
            "note: {} is absent, so the copy {copy} is not compared with it",
            original_path.display()
        );
        return;
    }
    let copied = files_under(&copy_path);
    let originals = files_under(&original_path);
    assert!(!copied.is_empty(), "{copy} holds no file");
    assert_eq!(
        copied.keys().collect::<Vec<_>>(),
        originals.keys().collect::<Vec<_>>(),
        "{copy} does not hold the same files as ../shared/{original}; copy them again"
    );
    for (name, bytes) in &originals {
        assert!(
            &copied[name] == bytes,
            "{copy}{name} differs from ../shared/{original}{name}; copy it again"
        );
    }
}

/// Every file under `path` (or `path` itself if it is a file), by its path
/// relative to `path` (empty for a file), with its bytes.
fn files_under(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    collect(path, path, &mut files);
    files
}

fn collect(root: &Path, path: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    if path.is_dir() {
        let entries = std::fs::read_dir(path)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", path.display()));
        for entry in entries {
            collect(
                root,
                &entry.expect("directory entries are readable").path(),
                files,
            );
        }
    } else {
        let relative = path
            .strip_prefix(root)
            .expect("walked paths lie under the root")
            .components()
            .map(|component| format!("/{}", component.as_os_str().to_string_lossy()))
            .collect::<String>();
        let bytes = std::fs::read(path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        files.insert(relative, bytes);
    }
}
