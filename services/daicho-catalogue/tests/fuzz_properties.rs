//! The `cargo fuzz` property of the catalogue loader
//! (`fuzz/properties/catalogue.rs`) on stable Rust: the committed seeds,
//! mutations of them and random bytes, a bounded number of cases.

#[path = "../../../fuzz/properties/catalogue.rs"]
mod properties;

use std::path::PathBuf;

use proptest::prelude::*;

/// Each case loads the whole catalogue (and compiles its schemas), so the
/// count is kept small.
const CASES: u32 = 48;

fn corpus() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/catalogue_file");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty());
    seeds
}

#[test]
fn the_seeds_load() {
    for s in corpus() {
        let (path, files) = properties::catalogue_with(&s).unwrap();
        daicho_catalogue::Catalogue::from_files(files)
            .unwrap_or_else(|e| panic!("seed for {path}: {e}"));
    }
}

#[test]
fn a_catalogue_file_of_any_bytes_is_loaded_or_refused_without_a_panic() {
    let seeds = corpus();
    for s in &seeds {
        properties::catalogue_file(s);
    }
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let input = prop_oneof![
        3 => (0..seeds.len(), any::<usize>(), any::<u8>(), 0..3u8).prop_map(
            move |(i, at, b, how)| {
                let mut s = seeds[i].clone();
                // Keep the first byte, which chooses the file.
                let at = 1 + at % s.len().max(2).saturating_sub(1);
                match how {
                    0 if at < s.len() => s[at] = b,
                    1 => s.insert(at.min(s.len()), b),
                    _ if at < s.len() => s.truncate(at),
                    _ => {}
                }
                s
            }
        ),
        1 => prop::collection::vec(any::<u8>(), 0..128),
    ];
    runner
        .run(&input, |data| {
            properties::catalogue_file(&data);
            Ok(())
        })
        .unwrap();
}
