//! `daicho-verify report`: a quarterly report is checked against an export
//! bundle by recomputing it; one status changed, one finding removed, a
//! different anchor or bytes not canonical are each refused with the first
//! difference named.

use std::path::Path;
use std::process::Command;

use daicho_catalogue::Catalogue;
use daicho_compliance::{Rulebook, State};
use daicho_core::bundle;
use daicho_core::entry::Recorded;
use daicho_report::{anchor_of, build, canonical_bytes, Input, Report};
use daicho_synth::{generate, Config, Generated};
use daicho_testkit::ledger::header;
use serde_json::Value;

struct Case {
    dir: tempfile::TempDir,
    key: String,
    report: Vec<u8>,
}

/// One generated ledger for every test: generating and folding it is the
/// slow part.
fn case() -> &'static Case {
    static CASE: std::sync::OnceLock<Case> = std::sync::OnceLock::new();
    CASE.get_or_init(make_case)
}

fn make_case() -> Case {
    let config = Config {
        sections: 3,
        staff_per_section: 4,
        ..Config::default()
    };
    let generated: Generated = generate(&config, Catalogue::embedded());
    let signer = generated.ledger_key.clone();
    let entries: Vec<Recorded> = generated.into_ledger();
    // The report covers a prefix; the bundle goes on beyond it.
    let covered = &entries[..entries.len() * 3 / 4];
    let state = State::fold(Catalogue::embedded(), covered);
    let report = build(&Input {
        catalogue: Catalogue::embedded(),
        rulebook: Rulebook::embedded(),
        state: &state,
        fiscal_year: 2026,
        quarter: 1,
        anchor: anchor_of(covered, &signer).unwrap(),
    })
    .unwrap();
    let full = anchor_of(&entries, &signer).unwrap();
    let mut lines = vec![bundle::header_line(&header(signer.verifier()))];
    lines.extend(
        entries
            .iter()
            .map(|e| bundle::entry_line(&e.entry, &e.event)),
    );
    lines.push(bundle::checkpoint_line(&full.checkpoint));
    let dir = tempfile::tempdir().unwrap();
    let bytes = lines.concat();
    std::fs::write(dir.path().join("export.jsonl"), bytes).unwrap();
    Case {
        dir,
        key: signer.verifier().to_string(),
        report: canonical_bytes(&report),
    }
}

fn verify(case: &Case, report: &[u8]) -> (i32, String) {
    let path = case
        .dir
        .path()
        .join(format!("report-{}.json", daicho_report::sha256_hex(report)));
    std::fs::write(&path, report).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_daicho-verify"))
        .arg("report")
        .arg(&path)
        .arg(case.dir.path().join("export.jsonl"))
        .args(["--ledger-key", &case.key])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap(), text)
}

fn edit(report: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(report).unwrap();
    f(&mut v);
    let r: Report = serde_json::from_value(v).unwrap();
    canonical_bytes(&r)
}

#[test]
fn a_report_recomputed_from_the_bundle_verifies() {
    let case = case();
    let (code, text) = verify(case, &case.report);
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("OK "), "{text}");
    assert!(Path::new(&case.dir.path().join("export.jsonl")).exists());
}

#[test]
fn one_status_changed_is_refused_naming_the_article() {
    let case = case();
    let changed = edit(&case.report, |v| {
        let row = v["articles"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|a| a["status"] == "non_compliant")
            .unwrap();
        row["status"] = "compliant".into();
    });
    let (code, text) = verify(case, &changed);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL") && text.contains("status is compliant in the report"),
        "{text}"
    );
}

#[test]
fn one_finding_removed_is_refused_naming_the_finding() {
    let case = case();
    let mut removed_id = String::new();
    let changed = edit(&case.report, |v| {
        let f = v["findings"].as_array_mut().unwrap().remove(0);
        removed_id = f["id"].as_str().unwrap().to_owned();
    });
    let (code, text) = verify(case, &changed);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("finding {removed_id}")) && text.contains("missing from the report"),
        "{text}"
    );
}

#[test]
fn a_different_anchor_is_refused() {
    let case = case();
    // The tree size of another prefix, with the checkpoint left as it is.
    let resized = edit(&case.report, |v| {
        let n = v["anchor"]["tree_size"].as_u64().unwrap();
        v["anchor"]["tree_size"] = (n - 1).into();
    });
    let (code, text) = verify(case, &resized);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("checkpoint: the checkpoint is of size"),
        "{text}"
    );
    // A checkpoint the ledger key did not sign.
    let forged = edit(&case.report, |v| {
        let note = v["anchor"]["checkpoint"].as_str().unwrap().to_owned();
        let sig = note.rfind(' ').unwrap() + 1;
        let mut bytes = note.into_bytes();
        bytes[sig + 10] = if bytes[sig + 10] == b'A' { b'B' } else { b'A' };
        v["anchor"]["checkpoint"] = String::from_utf8(bytes).unwrap().into();
    });
    let (code, text) = verify(case, &forged);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("not signed by the ledger key"), "{text}");
    // The time the last covered entry was recorded, which dates the
    // report, is the bundle's, not the report's.
    let redated = edit(&case.report, |v| {
        v["anchor"]["last_recorded_at"] = "2026-06-01T00:00:00.000000Z".into();
    });
    let (code, text) = verify(case, &redated);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("/anchor/last_recorded_at"), "{text}");
    // A report of more entries than the bundle holds.
    let beyond = edit(&case.report, |v| {
        v["anchor"]["tree_size"] = 1_000_000_000u64.into();
    });
    let (code, text) = verify(case, &beyond);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("the report covers 1000000000 entries but the bundle holds"),
        "{text}"
    );
}

#[test]
fn the_same_content_in_other_bytes_is_refused() {
    let case = case();
    let v: Value = serde_json::from_slice(&case.report).unwrap();
    let pretty = serde_json::to_vec_pretty(&v).unwrap();
    let (code, text) = verify(case, &pretty);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("not the canonical (RFC 8785) JSON"), "{text}");
}
