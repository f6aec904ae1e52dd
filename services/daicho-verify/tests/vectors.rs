//! The committed bundle vectors (`tests/vectors/bundles/`, FORMAT.md §11)
//! through the command line: the valid bundle passes, every mutated copy
//! fails, and its first finding has the class and seq `expected.json`
//! names.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/bundles")
}

#[test]
fn bundle_vectors_through_the_cli() {
    let dir = dir();
    let expected: Value = serde_json::from_slice(
        &std::fs::read(dir.join("expected.json")).expect("tests/vectors/bundles/expected.json"),
    )
    .unwrap();
    let cases = expected["cases"].as_array().unwrap();
    assert!(
        cases.len() >= 13,
        "every mutation of the tamper matrix has a vector"
    );
    // FORMAT.md §7.1: a saved checkpoint of the empty tree is extended by
    // every ledger, and its root is still checked.
    for since in ["checkpoint-0.note", "checkpoint-0-zero-root.note"] {
        assert!(
            cases.iter().any(|c| c["since"] == since),
            "a case checks the valid bundle against {since}"
        );
    }
    for case in cases {
        let file = case["file"].as_str().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_daicho-verify"));
        cmd.arg(dir.join(file))
            .arg("--ledger-key")
            .arg(dir.join("ledger.vkey"))
            .args(["--format", "json"]);
        if let Some(since) = case["since"].as_str() {
            cmd.arg("--since").arg(dir.join(since));
        }
        let out = cmd.output().unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{file}: no JSON report ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        if case["ok"].as_bool().unwrap() {
            assert_eq!(out.status.code(), Some(0), "{file}: {report:#}");
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{file} must fail: {report:#}");
        // FORMAT.md §12.5: the first finding is predictable from the text,
        // its class and its seq both.
        let class = case["class"].as_str().unwrap();
        let first = &report["findings"][0];
        assert!(
            first["class"] == class && first["seq"] == case["seq"],
            "{file}: expected a first finding of class {class} at seq {}, got {report:#}",
            case["seq"]
        );
    }
}

#[test]
fn a_pinned_genesis_hash() {
    let dir = dir();
    let valid = std::fs::read(dir.join("valid.jsonl")).unwrap();
    let first_entry = valid.split(|b| *b == b'\n').nth(1).unwrap();
    let genesis = match daicho_core::bundle::parse_line(first_entry).unwrap() {
        daicho_core::bundle::Line::Entry(e) => e.entry.hash(),
        other => panic!("{other:?}"),
    };
    let run = |hash: &str| {
        Command::new(env!("CARGO_BIN_EXE_daicho-verify"))
            .arg(dir.join("valid.jsonl"))
            .arg("--ledger-key")
            .arg(dir.join("ledger.vkey"))
            .args(["--genesis", hash])
            .output()
            .unwrap()
    };
    assert_eq!(run(&genesis.to_hex()).status.code(), Some(0));
    let other = daicho_core::Digest::of(b"another ledger").to_hex();
    let out = run(&other);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pinned"));
    assert_eq!(run("not-hex").status.code(), Some(2));
}

/// `receipt` and `proof` speak JSON too, with the finding's class.
#[test]
fn receipt_and_proof_json_reports() {
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let receipts: Value =
        serde_json::from_slice(&std::fs::read(vectors.join("receipts.json")).unwrap()).unwrap();
    let dir = std::env::temp_dir().join(format!("daicho-verify-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let r = &receipts["receipts"][1];
    let good = dir.join("good.json");
    std::fs::write(&good, serde_json::to_vec(&r["receipt"]).unwrap()).unwrap();
    let mut tampered = r["receipt"].clone();
    tampered["inclusion"][0] = Value::String(daicho_core::Digest::of(b"x").to_base64());
    let bad = dir.join("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&tampered).unwrap()).unwrap();
    let key = receipts["verifier_key"].as_str().unwrap();
    let run = |file: &PathBuf| {
        let out = Command::new(env!("CARGO_BIN_EXE_daicho-verify"))
            .arg("receipt")
            .arg(file)
            .args(["--ledger-key", key, "--format", "json"])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), doc)
    };
    let (code, doc) = run(&good);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["ok"], true);
    let (code, doc) = run(&bad);
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(doc["findings"][0]["class"], "merkle", "{doc:#}");

    let inclusion: Value =
        serde_json::from_slice(&std::fs::read(vectors.join("merkle/inclusion.json")).unwrap())
            .unwrap();
    let case = &inclusion["cases"][10];
    let good = dir.join("proof-good.json");
    std::fs::write(&good, serde_json::to_vec(case).unwrap()).unwrap();
    let mut wrong = case.clone();
    wrong["leafIdx"] = Value::from(case["leafIdx"].as_u64().unwrap() ^ 1);
    let bad = dir.join("proof-bad.json");
    std::fs::write(&bad, serde_json::to_vec(&wrong).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_daicho-verify"))
        .args(["proof", "inclusion", "--format", "json"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{doc:#}");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["results"][0]["ok"], true);
    assert_eq!(doc["results"][1]["ok"], false);
    assert_eq!(doc["results"][1]["class"], "merkle");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// FORMAT.md §9: a receipt with a member §9 does not name is not a
/// receipt. The command refuses it as unreadable input (exit 2, as for any
/// file that is not a receipt) though the same receipt without the member
/// verifies.
#[test]
fn receipts_with_an_unknown_member_are_refused() {
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let receipts: Value =
        serde_json::from_slice(&std::fs::read(vectors.join("receipts.json")).unwrap()).unwrap();
    let key = receipts["verifier_key"].as_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let run = |receipt: &Value| {
        let path = tmp.path().join("receipt.json");
        std::fs::write(&path, serde_json::to_vec(receipt).unwrap()).unwrap();
        Command::new(env!("CARGO_BIN_EXE_daicho-verify"))
            .arg("receipt")
            .arg(&path)
            .args(["--ledger-key", key, "--format", "json"])
            .output()
            .unwrap()
    };
    let cases = receipts["refused"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "a case for the receipt and for its entry");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let out = run(&case["receipt"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains("not a receipt") && stderr.contains("unknown field `comment`"),
            "{name}: {stderr}"
        );
        // Without the member, the receipt verifies: the member alone is
        // what is refused.
        let mut without = case["receipt"].clone();
        let object = match name {
            "extra-member" => &mut without,
            "entry-extra-member" => &mut without["entry"],
            other => panic!("unknown case {other}"),
        };
        object.as_object_mut().unwrap().remove("comment").unwrap();
        let out = run(&without);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name} without the member: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// FORMAT.md §12.3, step 5: with a witness quorum, the newest checkpoint
/// must carry that many valid cosignatures of trusted witnesses.
#[test]
fn a_witness_quorum_on_the_newest_checkpoint() {
    let dir = dir();
    let run = |bundle: &std::path::Path, quorum: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_daicho-verify"))
            .arg(bundle)
            .arg("--ledger-key")
            .arg(dir.join("ledger.vkey"))
            .arg("--witness-key")
            .arg(dir.join("witness.vkey"))
            .args(["--witnesses", quorum, "--format", "json"])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code(), report)
    };
    let (code, report) = run(&dir.join("cosigned.jsonl"), "1");
    assert_eq!(code, Some(0), "{report:#}");

    // The same ledger without the cosignature: named at the checkpoint line.
    let (code, report) = run(&dir.join("valid.jsonl"), "1");
    assert_eq!(code, Some(1), "{report:#}");
    let first = &report["findings"][0];
    assert_eq!(first["class"], "checkpoint", "{report:#}");
    assert_eq!(first["seq"], Value::Null);
    assert_eq!(first["line"], 29, "the line of the checkpoint of size 24");

    // A cosignature whose timestamp was changed no longer verifies.
    let cosigned = std::fs::read_to_string(dir.join("cosigned.jsonl")).unwrap();
    let note = std::fs::read_to_string(dir.join("cosigned-24.note")).unwrap();
    let line = note.lines().last().unwrap();
    let (prefix, b64) = line.rsplit_once(' ').unwrap();
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut raw = engine.decode(b64).unwrap();
    raw[11] ^= 1;
    let forged_line = format!("{prefix} {}", engine.encode(raw));
    let forged = cosigned.replace(line, &forged_line);
    assert_ne!(forged, cosigned);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("forged.jsonl");
    std::fs::write(&path, forged).unwrap();
    let (code, report) = run(&path, "1");
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("bad cosignature"),
        "{report:#}"
    );

    // A quorum above the keys given is a usage error.
    let (code, _) = run(&dir.join("cosigned.jsonl"), "2");
    assert_eq!(code, Some(2));
}
