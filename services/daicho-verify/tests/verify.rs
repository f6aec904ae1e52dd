//! The verifier's tests: the tamper matrix against the library, and the
//! command line (exit codes, outputs, receipts, the conformance proofs)
//! against the built binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use daicho_core::bundle::{self, Line};
use daicho_core::checkpoint::Checkpoint;
use daicho_core::entry::Entry;
use daicho_core::merkle::Tree;
use daicho_core::receipt::{Receipt, RECEIPT_FORMAT};
use daicho_testkit::{self as testkit, SampleLedger, FINANCE, PERSONNEL, PERSONNEL_TYPE};
use daicho_verify::{verify_bundle, Class, Options, Report, SavedCheckpoint};

// ---------------------------------------------------------------------------
// Helpers

fn sample() -> SampleLedger {
    testkit::sample_ledger(7)
}

fn verify(s: &SampleLedger, bytes: &[u8]) -> Report {
    verify_with(s, bytes, &[])
}

fn verify_with(s: &SampleLedger, bytes: &[u8], since: &[&str]) -> Report {
    let mut options = Options::new(s.ledger_key());
    options.since = since
        .iter()
        .map(|note| SavedCheckpoint {
            name: "saved.checkpoint".into(),
            note: (*note).to_owned(),
        })
        .collect();
    // Small chunks, so that the chunk boundaries fall inside the sample.
    options.chunk_lines = 5;
    verify_bundle(bytes, &options)
}

/// Asserts that the report fails with a finding of `class` at `seq`.
#[track_caller]
fn assert_finding(report: &Report, class: Class, seq: Option<u64>) {
    assert!(!report.ok, "the verifier accepted a tampered bundle");
    assert!(
        report.has(class, seq),
        "expected a {class} finding at seq {seq:?}, got:\n{report}"
    );
}

/// The line index of entry `seq` in `SampleLedger::lines`.
fn at(seq: u64) -> usize {
    1 + seq as usize
}

fn replace(line: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(line).unwrap();
    assert!(text.contains(from), "{from:?} not in {text}");
    text.replacen(from, to, 1).into_bytes()
}

fn entries_of(lines: &[Vec<u8>]) -> Vec<Entry> {
    lines
        .iter()
        .filter_map(|l| match bundle::parse_line(&l[..l.len() - 1]).unwrap() {
            Line::Entry(e) => Some(e.entry),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The untouched bundle, and the builders agreeing

#[test]
fn the_untouched_bundle_passes() {
    let s = sample();
    let report = verify(&s, &s.bytes());
    assert!(report.ok, "{report}");
    assert_eq!(report.entries, 24);
    assert_eq!(report.checkpoints, 4);
    // Also with every earlier checkpoint as a saved one, and in strict mode.
    let notes: Vec<&str> = s.checkpoints.iter().map(String::as_str).collect();
    assert!(verify_with(&s, &s.bytes(), &notes).ok);
    let mut options = Options::new(s.ledger_key());
    options.mode = daicho_verify::signature::Mode::Strict;
    assert!(verify_bundle(&s.bytes(), &options).ok);
}

#[test]
fn assemble_writes_what_the_core_ledger_builder_writes() {
    // The tamper tests forge bundles with `assemble`; it must agree with
    // the service's builder byte for byte on an honest ledger.
    let s = sample();
    let (lines, notes) = testkit::assemble(&s.keys.ledger, &s.events, &s.checkpoint_sizes);
    assert_eq!(lines, s.lines);
    assert_eq!(notes, s.checkpoints);
}

#[test]
fn the_event_bytes_are_the_core_hash_and_signing_message() {
    let s = sample();
    for line in &s.lines[1..=24] {
        let body = &line[..line.len() - 1];
        let (Line::Entry(e), spans) = bundle::parse_line_with_spans(body).unwrap() else {
            panic!("an entry line")
        };
        assert!(spans.is_some(), "the usual line takes the fast path");
        let mut buffer = body.to_vec();
        let (hash, entry_hash, message) =
            daicho_verify::event_bytes::recompute(&mut buffer, &e, spans.as_ref());
        assert_eq!(hash, e.event.hash());
        assert_eq!(entry_hash, e.entry.hash());
        assert_eq!(message.bytes(&buffer), e.event.body.signing_message());
    }
}

// ---------------------------------------------------------------------------
// The tamper matrix

#[test]
fn a_flipped_byte_in_a_payload() {
    let s = sample();
    let mut lines = s.lines.clone();
    lines[at(5)] = replace(&lines[at(5)], "KM-2026-000005", "KM-2026-000006");
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Chain, Some(5)); // event_hash recomputed
    assert_finding(&report, Class::Signature, Some(5));
    // Nothing else: the entry as stored still chains and is still the leaf.
    assert!(report.findings.iter().all(|f| f.seq == Some(5)), "{report}");
}

#[test]
fn a_changed_signature() {
    let s = sample();
    let mut lines = s.lines.clone();
    let sig5 = s.events[5].1.signature;
    let sig7 = s.events[7].1.signature;
    let b64 = |sig: daicho_core::event::EventSignature| {
        serde_json::to_value(sig)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    };
    lines[at(7)] = replace(&lines[at(7)], &b64(sig7), &b64(sig5));
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Signature, Some(7));
}

#[test]
fn a_deleted_entry() {
    let s = sample();
    let mut lines = s.lines.clone();
    lines.remove(at(8));
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Chain, Some(8)); // seq 8 missing
    assert_finding(&report, Class::Chain, Some(9)); // prev_hash of 9
    assert_finding(&report, Class::Merkle, None); // checkpoints 10 and 16
    assert_finding(&report, Class::Checkpoint, Some(23)); // checkpoint 24 > 23 entries

    // One break, not a cascade: no chain finding after seq 9.
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.class == Class::Chain && f.seq > Some(9)),
        "{report}"
    );
}

#[test]
fn two_consecutive_deleted_entries() {
    let s = sample();
    let mut lines = s.lines.clone();
    lines.drain(at(8)..=at(9));
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Chain, Some(8));
    let f = report.findings.iter().find(|f| f.seq == Some(8)).unwrap();
    assert!(f.message.contains("8 to 9"), "{f}");
    assert_eq!(
        (f.expected.as_deref(), f.found.as_deref()),
        (Some("8"), Some("10"))
    );
}

#[test]
fn an_inserted_entry() {
    // A validly signed event, chained onto seq 8 as seq 9, in front of the
    // real seq 9.
    let s = sample();
    let entries = entries_of(&s.lines);
    let event = testkit::source_event(
        &s.keys.finance,
        FINANCE,
        "kameoka.document.filed",
        999,
        (7, 999),
    );
    let inserted = Entry {
        seq: 9,
        recorded_at: entries[8].recorded_at,
        event_hash: event.hash(),
        prev_hash: entries[8].hash(),
    };
    let mut lines = s.lines.clone();
    lines.insert(at(9), bundle::entry_line(&inserted, &event));
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Chain, Some(9));
    assert!(
        !report.has(Class::Signature, Some(9)),
        "the inserted event is validly signed"
    );
}

#[test]
fn two_swapped_entries() {
    let s = sample();
    let mut lines = s.lines.clone();
    lines.swap(at(11), at(12));
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Chain, Some(11));
    assert_finding(&report, Class::Merkle, None);
    // The links into, between and out of the pair break; nothing after.
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.class == Class::Chain && f.seq > Some(13)),
        "{report}"
    );
}

#[test]
fn a_truncated_tail() {
    let s = sample();
    // Cut in the middle of entry 20: the checkpoints are gone and the last
    // line is a fragment.
    let bytes = s.bytes();
    let cut = s.lines[..at(20)].concat().len() + 40;
    let report = verify(&s, &bytes[..cut]);
    assert_finding(&report, Class::Format, None); // no checkpoint
    assert!(report.findings.iter().any(|f| f.class == Class::Format
        && f.line == Some(at(20) as u64 + 1)
        && f.message.contains("trailing bytes")));

    // Whole entries cut from the tail, the checkpoints kept.
    let mut lines = s.lines.clone();
    lines.drain(at(22)..=at(23));
    let report = verify(&s, &lines.concat());
    // Located at the first missing entry.
    assert_finding(&report, Class::Checkpoint, Some(22));
}

#[test]
fn trailing_bytes_after_the_last_line() {
    let s = sample();
    let last_line = s.lines.len() as u64 + 1;
    let mut bytes = s.bytes();
    bytes.extend_from_slice(b"{}");
    let report = verify(&s, &bytes);
    assert_finding(&report, Class::Format, None);
    assert_eq!(report.findings.len(), 1, "{report}");
    assert_eq!(report.findings[0].line, Some(last_line));

    // An empty line, and a last line without its newline.
    let mut bytes = s.bytes();
    bytes.push(b'\n');
    let report = verify(&s, &bytes);
    assert_finding(&report, Class::Format, None);
    let mut bytes = s.bytes();
    bytes.pop();
    let report = verify(&s, &bytes);
    assert_finding(&report, Class::Format, None);
    assert!(
        report.findings[0].message.contains("no final newline"),
        "{report}"
    );
}

#[test]
fn a_history_rewritten_and_re_signed_is_caught_through_an_older_checkpoint() {
    let s = sample();
    let mut events = s.events.clone();
    events[18].1 = testkit::source_event(
        &s.keys.finance,
        FINANCE,
        "kameoka.payment.approved",
        1018,
        (7, 1018),
    );
    let (lines, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    let bytes = lines.concat();
    // On its own the rewritten bundle is consistent.
    let report = verify(&s, &bytes);
    assert!(report.ok, "{report}");
    // A checkpoint saved before the rewrite, at a size before seq 18, still holds...
    assert!(verify_with(&s, &bytes, &[&s.checkpoints[2]]).ok);
    // ...but the one covering seq 18 does not.
    let report = verify_with(&s, &bytes, &[&s.checkpoints[3]]);
    assert_finding(&report, Class::Merkle, None);
    assert_eq!(report.findings.len(), 1, "{report}");
    assert!(report.findings[0].message.contains("saved checkpoint"));
}

#[test]
fn a_checkpoint_signed_by_another_key() {
    let s = sample();
    let mut lines = s.lines.clone();
    let last = lines.len() - 1;
    let forged = Checkpoint::open(&s.checkpoints[3], &s.ledger_key())
        .unwrap()
        .sign(&s.keys.stranger);
    lines[last] = bundle::checkpoint_line(&forged);
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Checkpoint, None);
    assert!(report
        .findings
        .iter()
        .any(|f| f.class == Class::Checkpoint && f.line == Some(last as u64 + 1)));

    // The same as a saved checkpoint.
    let report = verify_with(&s, &s.bytes(), &[&forged]);
    assert_finding(&report, Class::Checkpoint, None);
}

#[test]
fn a_key_used_after_its_revocation() {
    // Properly chained and checkpointed by the ledger key: only the
    // registry as of seq 20 can tell.
    let s = sample();
    assert!(s.revoked_at < 20);
    let mut events = s.events.clone();
    events[20].1 =
        testkit::source_event(&s.keys.personnel, PERSONNEL, PERSONNEL_TYPE, 20, (7, 2020));
    let (lines, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Registry, Some(20));
    assert_eq!(report.findings.len(), 1, "{report}");
    assert!(report.findings[0].message.contains("revoked"));
}

#[test]
fn an_event_type_outside_a_keys_scope() {
    let s = sample();
    let mut events = s.events.clone();
    events[19].1 = testkit::source_event(&s.keys.finance, FINANCE, PERSONNEL_TYPE, 19, (7, 1919));
    let (lines, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Registry, Some(19));
    assert_eq!(report.findings.len(), 1, "{report}");
}

// ---------------------------------------------------------------------------
// Further defects

#[test]
fn a_key_used_before_its_registration_and_an_unknown_key() {
    let s = sample();
    let mut events = s.events.clone();
    // The personnel key is registered at seq 2; use it at seq 1.
    events.insert(
        1,
        (
            events[0].0,
            testkit::source_event(&s.keys.personnel, PERSONNEL, PERSONNEL_TYPE, 1, (7, 3001)),
        ),
    );
    events[6].1 = testkit::source_event(
        &s.keys.stranger,
        FINANCE,
        "kameoka.payment.approved",
        6,
        (7, 3006),
    );
    let sizes: Vec<u64> = s.checkpoint_sizes.iter().map(|n| n + 1).collect();
    let (lines, _) = testkit::assemble(&s.keys.ledger, &events, &sizes);
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Registry, Some(1));
    assert_finding(&report, Class::Registry, Some(6));
    assert_eq!(report.findings.len(), 2, "{report}");
}

#[test]
fn recorded_at_going_backwards_and_a_repeated_event_id() {
    let s = sample();
    let mut events = s.events.clone();
    events[10].0 = testkit::recorded_at(1);
    // Same event id as seq 9, different content.
    events[11].1 = testkit::source_event(
        &s.keys.finance,
        FINANCE,
        "kameoka.payment.approved",
        11,
        (7, 9),
    );
    let (lines, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Chain, Some(10));
    assert_finding(&report, Class::Chain, Some(11));
    assert_eq!(report.findings.len(), 2, "{report}");
}

#[test]
fn a_bundle_checked_against_another_ledger_key() {
    let s = sample();
    let other = testkit::sample_ledger(8);
    let mut options = Options::new(other.ledger_key());
    options.chunk_lines = 7;
    let report = verify_bundle(&s.bytes(), &options);
    assert_finding(&report, Class::Format, None); // header
    assert_finding(&report, Class::Registry, Some(0)); // genesis
    assert_finding(&report, Class::Checkpoint, None);
    // The genesis failing is reported once, not for every later entry.
    assert!(
        !report.findings.iter().any(|f| f.seq.is_some_and(|q| q > 0)),
        "{report}"
    );
}

#[test]
fn misplaced_and_repeated_lines() {
    let s = sample();
    // No header.
    let report = verify(&s, &s.lines[1..].concat());
    assert!(report
        .findings
        .iter()
        .any(|f| f.class == Class::Format && f.line == Some(1)));
    // A repeated checkpoint line, and an entry after the checkpoints.
    let mut lines = s.lines.clone();
    lines.push(s.lines[s.lines.len() - 1].clone());
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Format, None);
    let mut lines = s.lines.clone();
    let entry = lines.remove(at(23));
    lines.push(entry);
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Format, Some(23));
    // A line that is not canonical JSON.
    let mut lines = s.lines.clone();
    lines[at(4)] = replace(&lines[at(4)], "{\"event\":", "{ \"event\":");
    let report = verify(&s, &lines.concat());
    assert!(report
        .findings
        .iter()
        .any(|f| f.class == Class::Format && f.line == Some(at(4) as u64 + 1)));
    // An empty file.
    assert_finding(&verify(&s, b""), Class::Format, None);
}

#[test]
fn a_saved_checkpoint_beyond_the_bundle() {
    let s = sample();
    let lines = &s.lines[..at(9) + 1];
    let mut short = lines.to_vec();
    short.push(bundle::checkpoint_line(&s.checkpoints[1]));
    let report = verify_with(&s, &short.concat(), &[&s.checkpoints[3]]);
    // Located at the first entry the saved checkpoint covers and the
    // bundle lacks.
    assert_finding(&report, Class::Checkpoint, Some(10));
    assert_eq!(report.findings.len(), 1, "{report}");
}

// ---------------------------------------------------------------------------
// The command line

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_daicho-verify"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn cli_exit_codes_and_outputs() {
    let s = sample();
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.jsonl", &s.bytes());
    let vkey = s.ledger_key().to_string();
    let vkey_file = write(dir.path(), "ledger.vkey", format!("{vkey}\n").as_bytes());
    let good = good.to_str().unwrap();

    // 0: all holds, with the key inline or in a file.
    let o = run(&[good, "--ledger-key", &vkey]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("OK: 24 entries and 4 checkpoints"));
    assert_eq!(
        code(&run(&[good, "--ledger-key", vkey_file.to_str().unwrap()])),
        0
    );
    let since = write(dir.path(), "saved.checkpoint", s.checkpoints[1].as_bytes());
    assert_eq!(
        code(&run(&[
            good,
            "--ledger-key",
            &vkey,
            "--since",
            since.to_str().unwrap(),
            "--strict"
        ])),
        0
    );

    // 1: findings, in words and in JSON.
    let mut lines = s.lines.clone();
    lines.remove(at(8));
    let bad = write(dir.path(), "bad.jsonl", &lines.concat());
    let bad = bad.to_str().unwrap();
    let o = run(&[bad, "--ledger-key", &vkey]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o).contains("seq 8 (line 10): [chain] seq 8 is missing"),
        "{}",
        text(&o)
    );
    let o = run(&[bad, "--ledger-key", &vkey, "--format", "json"]);
    assert_eq!(code(&o), 1);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["entries"], 23);
    let first = &json["findings"][0];
    assert_eq!(first["class"], "chain");
    assert_eq!(first["seq"], 8);
    assert_eq!(first["line"], 10);
    assert_eq!(first["expected"], "8");
    assert_eq!(first["found"], "9");
    let o = run(&[good, "--ledger-key", &vkey, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["findings"], serde_json::json!([]));

    // 2: usage errors and unreadable input.
    assert_eq!(code(&run(&[good])), 2);
    assert_eq!(code(&run(&["--ledger-key", &vkey])), 2);
    assert_eq!(code(&run(&[good, "--ledger-key", "not-a-key"])), 2);
    let missing = dir.path().join("missing.jsonl");
    assert_eq!(
        code(&run(&[missing.to_str().unwrap(), "--ledger-key", &vkey])),
        2
    );
    assert_eq!(
        code(&run(&[
            good,
            "--ledger-key",
            &vkey,
            "--since",
            missing.to_str().unwrap()
        ])),
        2
    );
    assert_eq!(
        code(&run(&[good, "--ledger-key", &vkey, "--format", "xml"])),
        2
    );
}

#[test]
fn cli_help_explains_the_tool_to_an_auditor() {
    let o = run(&["--help"]);
    assert_eq!(code(&o), 0);
    let help = text(&o);
    for needle in [
        "WHAT IS CHECKED",
        "WHAT TO TRUST",
        "EXIT CODES",
        "EXAMPLES",
        "--since",
        "--ledger-key",
        "receipt",
        "proof",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn cli_receipt() {
    let s = sample();
    let dir = tempfile::tempdir().unwrap();
    let vkey = s.ledger_key().to_string();
    let entries = entries_of(&s.lines);
    let tree = Tree::from_leaves(entries.iter().map(Entry::hash));
    let seq = 12;
    let receipt = Receipt {
        format: RECEIPT_FORMAT.into(),
        entry: entries[seq].clone(),
        entry_hash: entries[seq].hash(),
        inclusion: tree.inclusion_proof(seq as u64, 16).unwrap(),
        checkpoint: s.checkpoints[2].clone(),
    };
    let path = write(
        dir.path(),
        "receipt.json",
        &serde_json::to_vec(&receipt).unwrap(),
    );
    let path = path.to_str().unwrap();
    let event = write(dir.path(), "event.json", &s.events[seq].1.canonical_bytes());
    let other = write(
        dir.path(),
        "other.json",
        &s.events[seq + 1].1.canonical_bytes(),
    );

    let o = run(&["receipt", path, "--ledger-key", &vkey]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        code(&run(&[
            "receipt",
            path,
            "--ledger-key",
            &vkey,
            "--event",
            event.to_str().unwrap()
        ])),
        0
    );
    let o = run(&[
        "receipt",
        path,
        "--ledger-key",
        &vkey,
        "--event",
        other.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    assert!(text(&o).starts_with("FAIL"), "{}", text(&o));
    // A receipt for another leaf than the proof's.
    let mut wrong = receipt.clone();
    wrong.entry = entries[seq + 1].clone();
    wrong.entry_hash = entries[seq + 1].hash();
    let wrong = write(
        dir.path(),
        "wrong.json",
        &serde_json::to_vec(&wrong).unwrap(),
    );
    assert_eq!(
        code(&run(&[
            "receipt",
            wrong.to_str().unwrap(),
            "--ledger-key",
            &vkey
        ])),
        1
    );
    // Under another ledger key.
    let other_key = testkit::sample_ledger(8).ledger_key().to_string();
    assert_eq!(
        code(&run(&["receipt", path, "--ledger-key", &other_key])),
        1
    );
    // Not a receipt at all.
    let junk = write(dir.path(), "junk.json", b"{\"format\":1}");
    assert_eq!(
        code(&run(&[
            "receipt",
            junk.to_str().unwrap(),
            "--ledger-key",
            &vkey
        ])),
        2
    );
}

/// The repository's copy of the transparency-dev/merkle vectors (see
/// `tests/conformance/README.md`).
fn conformance_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/conformance/transparency-dev-merkle/testdata");
    assert!(
        dir.is_dir(),
        "the transparency-dev/merkle conformance vectors are missing: expected them in {} \
         (a copy of testdata/ from github.com/transparency-dev/merkle)",
        dir.display()
    );
    dir
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

#[test]
fn cli_proofs_match_the_transparency_dev_vectors() {
    let root = conformance_dir();
    let mut total = 0;
    for kind in ["inclusion", "consistency"] {
        let mut files = Vec::new();
        json_files(&root.join(kind), &mut files);
        files.sort();
        assert!(!files.is_empty(), "no {kind} vectors in {}", root.display());
        let mut args = vec!["proof".to_owned(), kind.to_owned()];
        args.extend(files.iter().map(|f| f.display().to_string()));
        let o = bin().args(&args).output().unwrap();
        let stdout = text(&o);
        let results: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            results.len(),
            files.len(),
            "{stdout}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let mut any_err = false;
        for (file, result) in files.iter().zip(results) {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
            let want_err = v["wantErr"].as_bool().expect("wantErr");
            any_err |= want_err;
            let shown = file.display().to_string();
            if want_err {
                assert!(
                    result.starts_with(&format!("FAIL {shown}: ")),
                    "accepted {shown}: {result}"
                );
            } else {
                assert_eq!(result, format!("OK {shown}"), "rejected {shown}");
            }
            // The library agrees with the command line.
            let kind_enum = if kind == "inclusion" {
                daicho_verify::proof::ProofKind::Inclusion
            } else {
                daicho_verify::proof::ProofKind::Consistency
            };
            let lib = daicho_verify::proof::check_proof(kind_enum, &std::fs::read(file).unwrap())
                .unwrap();
            assert_eq!(lib.is_err(), want_err, "{shown}");
            total += 1;
        }
        assert_eq!(code(&o), if any_err { 1 } else { 0 });
        // Only the valid ones: exit 0.
        let valid: Vec<String> = files
            .iter()
            .filter(|f| {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
                v["wantErr"] == false
            })
            .map(|f| f.display().to_string())
            .collect();
        let o = bin().args(["proof", kind]).args(&valid).output().unwrap();
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    assert_eq!(total, 196, "the conformance suite has 196 cases");
    // A file that is not a proof at all is unreadable input: exit 2.
    let dir = tempfile::tempdir().unwrap();
    let junk = write(dir.path(), "junk.json", b"[1,2]");
    assert_eq!(
        code(&run(&["proof", "inclusion", junk.to_str().unwrap()])),
        2
    );
}

#[test]
fn checkpoints_out_of_order() {
    let s = sample();
    let mut lines = s.lines.clone();
    let n = lines.len();
    lines.swap(n - 1, n - 2);
    let report = verify(&s, &lines.concat());
    assert_finding(&report, Class::Format, None);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.message.contains("increasing size")),
        "{report}"
    );
}
