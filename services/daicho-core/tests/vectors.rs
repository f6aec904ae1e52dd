//! Checks the core against the committed vectors in `tests/vectors/`
//! (FORMAT.md §11). The same files drive the verifier's command-line tests.

use std::path::PathBuf;

use daicho_core::checkpoint::Checkpoint;
use daicho_core::entry::Entry;
use daicho_core::event::{SignedEvent, UnsignedEvent};
use daicho_core::hash::Digest;
use daicho_core::jcs::{self, JcsError};
use daicho_core::keys::{NoteSigner, NoteVerifier};
use daicho_core::merkle::{self, Tree};
use daicho_core::receipt::Receipt;
use serde_json::Value;

fn load(path: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors")
        .join(path);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn d64(v: &Value) -> Digest {
    Digest::from_base64(v.as_str().unwrap()).unwrap()
}

fn proof(v: &Value) -> Vec<Digest> {
    v.as_array().unwrap().iter().map(d64).collect()
}

#[test]
fn jcs_cases() {
    let v = load("jcs.json");
    let cases = v["cases"].as_array().unwrap();
    assert!(
        cases.len() >= 30,
        "at least 30 JCS cases, found {}",
        cases.len()
    );
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let got = jcs::canonicalize_text(c["input"].as_str().unwrap().as_bytes());
        if let Some(want) = c["canonical"].as_str() {
            assert_eq!(String::from_utf8(got.unwrap()).unwrap(), want, "{name}");
        } else {
            let kind = match got {
                Err(JcsError::Syntax(_)) => "syntax",
                Err(JcsError::DuplicateKey { .. }) => "duplicate_key",
                Err(JcsError::InexactInteger { .. }) => "inexact_integer",
                Ok(c) => panic!("{name}: accepted as {}", String::from_utf8_lossy(&c)),
            };
            assert_eq!(kind, c["error"].as_str().unwrap(), "{name}");
        }
    }
}

fn keys() -> Vec<NoteSigner> {
    load("keys.json")["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let s = NoteSigner::parse(k["secret_key"].as_str().unwrap()).unwrap();
            assert_eq!(
                s.verifier().to_string(),
                k["verifier_key"].as_str().unwrap()
            );
            assert_eq!(s.key_id().as_str(), k["key_id"].as_str().unwrap());
            assert_eq!(
                s.public_key().to_base64(),
                k["public_key"].as_str().unwrap()
            );
            s
        })
        .collect()
}

#[test]
fn events_sign_and_hash() {
    let keys = keys();
    for e in load("events.json")["events"].as_array().unwrap() {
        let unsigned: UnsignedEvent = serde_json::from_value(e["unsigned"].clone()).unwrap();
        assert_eq!(
            String::from_utf8(unsigned.signing_message()).unwrap(),
            e["signing_message"].as_str().unwrap()
        );
        let key = keys.iter().find(|k| k.key_id() == unsigned.key_id).unwrap();
        let signed = unsigned.sign(key);
        let stored = SignedEvent::parse(e["signed_jcs"].as_str().unwrap().as_bytes()).unwrap();
        // Ed25519 is deterministic: re-signing reproduces the stored signature.
        assert_eq!(signed, stored);
        assert_eq!(
            stored.canonical_bytes(),
            e["signed_jcs"].as_str().unwrap().as_bytes()
        );
        assert_eq!(stored.hash().to_hex(), e["event_hash"].as_str().unwrap());
        stored.verify_signature(&key.public_key()).unwrap();
    }
}

#[test]
fn entries_chain() {
    let v = load("entries.json");
    let mut prev = Digest::ZERO;
    for (i, e) in v["entries"].as_array().unwrap().iter().enumerate() {
        let entry: Entry = serde_json::from_value(e["entry"].clone()).unwrap();
        assert_eq!(entry.seq, i as u64);
        assert_eq!(entry.prev_hash, prev, "chain link at {i}");
        assert_eq!(
            jcs::canonicalize(&entry),
            e["entry_jcs"].as_str().unwrap().as_bytes()
        );
        assert_eq!(entry.hash().to_hex(), e["entry_hash"].as_str().unwrap());
        prev = entry.hash();
    }
}

#[test]
fn merkle_roots_and_proofs() {
    let r = load("merkle/roots.json");
    let leaves: Vec<Digest> = proof(&r["leaf_hashes"]);
    for (i, data) in r["leaf_data"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            daicho_core::hash::leaf_hash(data.as_str().unwrap().as_bytes()),
            leaves[i]
        );
    }
    let tree = Tree::from_leaves(leaves.iter().copied());
    for root in r["roots"].as_array().unwrap() {
        let n = root["treeSize"].as_u64().unwrap();
        assert_eq!(
            merkle::root(&leaves[..n as usize]),
            d64(&root["root"]),
            "size {n}"
        );
    }
    let inc = load("merkle/inclusion.json");
    let inc = inc["cases"].as_array().unwrap();
    assert_eq!(inc.len(), (1..=64).sum::<usize>());
    for c in inc {
        let (m, n) = (
            c["leafIdx"].as_u64().unwrap(),
            c["treeSize"].as_u64().unwrap(),
        );
        let p = proof(&c["proof"]);
        assert_eq!(tree.inclusion_proof(m, n).unwrap(), p);
        merkle::verify_inclusion(m, n, &d64(&c["leafHash"]), &p, &d64(&c["root"])).unwrap();
    }
    let con = load("merkle/consistency.json");
    let con = con["cases"].as_array().unwrap();
    assert_eq!(con.len(), (1..=64).sum::<usize>());
    for c in con {
        let (m, n) = (c["size1"].as_u64().unwrap(), c["size2"].as_u64().unwrap());
        let p = proof(&c["proof"]);
        assert_eq!(tree.consistency_proof(m, n).unwrap(), p);
        merkle::verify_consistency(m, n, &d64(&c["root1"]), &d64(&c["root2"]), &p).unwrap();
    }
}

#[test]
fn checkpoints_open_and_resign() {
    let v = load("checkpoints.json");
    let vkey = NoteVerifier::parse(v["verifier_key"].as_str().unwrap()).unwrap();
    let signer = keys().into_iter().find(|k| *k.verifier() == vkey).unwrap();
    for c in v["checkpoints"].as_array().unwrap() {
        let note = c["note"].as_str().unwrap();
        let cp = Checkpoint::open(note, &vkey).unwrap();
        assert_eq!(cp.size, c["size"].as_u64().unwrap());
        assert_eq!(cp.root, d64(&c["root"]));
        assert_eq!(cp.body(), c["body"].as_str().unwrap());
        assert_eq!(cp.sign(&signer), note);
    }
}

#[test]
fn receipts_verify() {
    let v = load("receipts.json");
    let vkey = NoteVerifier::parse(v["verifier_key"].as_str().unwrap()).unwrap();
    for r in v["receipts"].as_array().unwrap() {
        let receipt: Receipt = serde_json::from_value(r["receipt"].clone()).unwrap();
        let event: SignedEvent = serde_json::from_value(r["event"].clone()).unwrap();
        receipt.verify(&vkey, Some(&event)).unwrap();
        // The receipt does not hold for another entry's event.
        let mut other = receipt.clone();
        other.entry.seq ^= 1;
        assert!(other.verify(&vkey, Some(&event)).is_err());
    }
}

/// §9: a receipt with a member §9 does not name is refused when it is
/// read, though everything it proves holds without that member.
#[test]
fn receipts_with_an_unknown_member_are_refused() {
    let v = load("receipts.json");
    let cases = v["refused"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["extra-member", "entry-extra-member"]);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let err = serde_json::from_value::<Receipt>(c["receipt"].clone()).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `comment`"),
            "{name}: {err}"
        );
    }
}

/// §7.1: size 0 is valid syntax, the empty tree, whose root is
/// `MTH({}) = SHA-256("")` (RFC 9162 §2.1.1).
#[test]
fn a_checkpoint_of_the_empty_tree() {
    let v = load("checkpoints.json");
    let vkey = NoteVerifier::parse(v["verifier_key"].as_str().unwrap()).unwrap();
    let c = v["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["size"] == 0)
        .expect("a checkpoint of size 0");
    let cp = Checkpoint::open(c["note"].as_str().unwrap(), &vkey).unwrap();
    assert_eq!(cp.size, 0);
    assert_eq!(
        cp.root.to_hex(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(cp.root, merkle::root(&[]));
}

/// §5.3 clause by clause: a case is valid exactly when its key parses
/// (§4) and the signature verifies by the strict cofactored rule. The hard
/// cases are hard: the lenient checks others use decide them differently.
#[test]
fn signatures_follow_the_strict_rule() {
    use base64::Engine as _;
    use daicho_core::keys::PublicKey;
    let v = load("signatures.json");
    let message = hex::decode(v["message_hex"].as_str().unwrap()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8, "every clause of §5.3 has a case");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let key_bytes = b64.decode(case["public_key"].as_str().unwrap()).unwrap();
        let sig_bytes: [u8; 64] = b64
            .decode(case["signature"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let sig = ed25519_dalek::Signature::from_bytes(&sig_bytes);
        let ours = PublicKey::from_bytes(&key_bytes).is_ok_and(|k| k.verify(&message, &sig));
        assert_eq!(ours, case["valid"].as_bool().unwrap(), "{name}");
        let key: [u8; 32] = key_bytes.try_into().unwrap();
        let dalek = ed25519_dalek::VerifyingKey::from_bytes(&key).unwrap();
        match name {
            // Valid by the cofactored equation only.
            "mixed-order-r" => assert!(dalek.verify_strict(&message, &sig).is_err()),
            // The cofactorless equation holds; only the key check refuses.
            "small-order-a" => {
                use ed25519_dalek::Verifier as _;
                assert!(dalek.verify(&message, &sig).is_ok())
            }
            _ => {}
        }
    }
}
