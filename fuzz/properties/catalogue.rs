//! The catalogue loader's property on any input: a catalogue whose one
//! file is replaced by arbitrary bytes is loaded or refused with a list of
//! problems, never with a panic. The `cargo fuzz` target `catalogue_file`
//! and `services/daicho-catalogue/tests/fuzz_properties.rs` both run it.
#![allow(dead_code)]

use daicho_catalogue::Catalogue;

/// The embedded catalogue with one file replaced: a first line naming one
/// of its files chooses that file, and the rest is its content; any other
/// input's first byte chooses the file by its index in path order.
pub fn catalogue_with(
    data: &[u8],
) -> Option<(String, std::collections::BTreeMap<String, Vec<u8>>)> {
    let mut files = Catalogue::embedded_files();
    // A first line naming a file of the catalogue chooses that file, so
    // that a seed keeps its target however many files the catalogue has;
    // otherwise the first byte chooses one by position.
    if let Some(newline) = data.iter().position(|b| *b == b'\n') {
        if let Ok(path) = std::str::from_utf8(&data[..newline]) {
            if files.contains_key(path) {
                let path = path.to_owned();
                files.insert(path.clone(), data[newline + 1..].to_vec());
                return Some((path, files));
            }
        }
    }
    let (&choice, content) = data.split_first()?;
    let path = files.keys().nth(usize::from(choice) % files.len())?.clone();
    files.insert(path.clone(), content.to_vec());
    Some((path, files))
}

/// Loading never panics; a refusal names at least one problem.
pub fn catalogue_file(data: &[u8]) {
    let Some((path, files)) = catalogue_with(data) else {
        return;
    };
    if let Err(e) = Catalogue::from_files(files) {
        assert!(
            !e.to_string().is_empty(),
            "{path}: a refusal without a reason"
        );
    }
}
