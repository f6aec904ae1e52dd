//! The `cargo fuzz` properties (`fuzz/properties/core.rs`) on stable Rust:
//! each parser runs on the committed seed corpus, on mutations of it and on
//! random bytes, a bounded number of cases each, and must neither panic nor
//! accept what the strict JSON parser refuses.

#[path = "../../../fuzz/properties/core.rs"]
mod properties;

use std::path::PathBuf;

use proptest::prelude::*;

/// Cases per property beyond the corpus: enough to reach the parsers'
/// error paths on every run, few enough to keep the suite quick.
const CASES: u32 = 512;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "{} holds no seeds", dir.display());
    seeds
}

/// A change to a seed: overwrite, insert or delete a byte at a position.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for e in edits {
        let len = out.len();
        match *e {
            Edit::Set(i, b) if len > 0 => out[i % len] = b,
            Edit::Insert(i, b) => out.insert(i % (len + 1), b),
            Edit::Delete(i) if len > 0 => {
                out.remove(i % len);
            }
            _ => {}
        }
    }
    out
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    // Bytes JSON gives meaning to, more often than the rest.
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"{}[]\":,\\0123456789eE+-.tfnu \n".to_vec()),
    ];
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
            (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
            any::<usize>().prop_map(Edit::Delete),
        ],
        1..4,
    )
}

/// Runs `property` on the corpus, then on mutated seeds and random bytes.
fn check(target: &str, property: fn(&[u8])) {
    let seeds = corpus(target);
    for s in &seeds {
        property(s);
    }
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let input = prop_oneof![
        3 => (0..seeds.len(), edits()).prop_map(move |(i, e)| apply(&seeds[i], &e)),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ];
    runner
        .run(&input, |data| {
            property(&data);
            Ok(())
        })
        .unwrap();
}

#[test]
fn strict_json_and_jcs_hold_on_any_input() {
    check("jcs", properties::jcs);
}

#[test]
fn event_envelopes_hold_on_any_input() {
    check("event", properties::event);
}

#[test]
fn bundle_lines_hold_on_any_input() {
    check("bundle_line", properties::bundle_line);
}

#[test]
fn checkpoint_notes_hold_on_any_input() {
    check("checkpoint_note", properties::checkpoint_note);
}

#[test]
fn receipts_hold_on_any_input() {
    check("receipt", properties::receipt);
}

/// The seeds reach the parsers' accepting paths, not only their refusals:
/// otherwise mutating them would test little.
#[test]
fn the_seed_corpus_is_accepted_where_it_should_be() {
    use daicho_core::{
        bundle, checkpoint::Checkpoint, event::SignedEvent, jcs, keys::NoteVerifier,
    };
    for s in corpus("event") {
        SignedEvent::parse(&s).unwrap();
    }
    for s in corpus("bundle_line") {
        bundle::parse_line(&s).unwrap();
    }
    let key = NoteVerifier::parse(properties::VECTORS_VERIFIER).unwrap();
    let notes = corpus("checkpoint_note");
    assert!(notes
        .iter()
        .any(|n| Checkpoint::open(std::str::from_utf8(n).unwrap(), &key).is_ok()));
    for s in corpus("receipt") {
        let r: daicho_core::receipt::Receipt =
            serde_json::from_value(jcs::parse(&s).unwrap()).unwrap();
        r.verify(&key, None).unwrap();
    }
}
