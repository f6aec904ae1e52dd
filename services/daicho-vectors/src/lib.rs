//! The test vectors under `tests/vectors/` (FORMAT.md §11 describes each
//! file). Everything is derived from fixed seeds, so the same command always
//! writes the same bytes: `cargo run -p daicho-vectors` writes them, and the
//! test `vectors_are_current` fails when the committed files differ.

mod bundles;
mod jcs_cases;
mod signatures;

use std::collections::BTreeMap;

use daicho_core::checkpoint::Checkpoint;
use daicho_core::event::{EventId, EventType, Label, SignedEvent};
use daicho_core::hash::{leaf_hash, Digest};
use daicho_core::jcs::{self, JcsError};
use daicho_core::keys::NoteSigner;
use daicho_core::ledger::{genesis_event, Ledger};
use daicho_core::merkle::Tree;
use daicho_core::receipt::{Receipt, RECEIPT_FORMAT};
use daicho_core::registry::{KeyRegistration, KeyRole, KEY_REGISTERED};
use daicho_core::timestamp::{OccurredAt, RecordedAt};
use daicho_testkit::EventBuilder;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

pub use jcs_cases::{Expect, RFC8785_NUMBERS, TEXT_CASES};

/// The origin of every vector ledger and checkpoint.
pub const ORIGIN: &str = "daicho.test/vectors";

/// A published test key: the seed is SHA-256 of `daicho test key: NAME`.
/// Never use these keys for anything but tests.
pub fn test_key(key_name: &str, note_name: &str) -> NoteSigner {
    let seed: [u8; 32] = Sha256::digest(format!("daicho test key: {key_name}")).into();
    NoteSigner::from_seed(note_name, seed).expect("valid key name")
}

/// A deterministic event id: the first 16 bytes of SHA-256 of a label.
pub fn test_event_id(label: &str) -> EventId {
    let d = Sha256::digest(format!("daicho test event: {label}"));
    EventId::from_bytes(d[..16].try_into().expect("16 bytes"))
}

/// The fixed instant the vector ledger records its first entry at
/// (2026-04-01T00:00:00Z), plus `seconds`.
pub fn test_time(seconds: i64) -> RecordedAt {
    RecordedAt::from_unix_micros((1_775_001_600 + seconds) * 1_000_000).expect("in range")
}

fn pretty(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).expect("serialises");
    out.push(b'\n');
    out
}

fn error_kind(e: &JcsError) -> &'static str {
    match e {
        JcsError::Syntax(_) => "syntax",
        JcsError::DuplicateKey { .. } => "duplicate_key",
        JcsError::InexactInteger { .. } => "inexact_integer",
    }
}

/// `jcs.json`: every case with its input text and either the canonical
/// text or the kind of refusal.
fn jcs_vectors() -> Value {
    let mut cases = Vec::new();
    for (bits, want) in RFC8785_NUMBERS {
        let input = format!("{:?}", f64::from_bits(bits));
        cases.push((
            format!("rfc8785-b-{bits:016x}"),
            input,
            Expect::Canonical(want),
        ));
    }
    for (name, input, expect) in TEXT_CASES {
        let expect = match expect {
            Expect::Canonical(c) => Expect::Canonical(c),
            Expect::Error(e) => Expect::Error(e),
        };
        cases.push(((*name).to_owned(), (*input).to_owned(), expect));
    }
    let out: Vec<Value> = cases
        .into_iter()
        .map(|(name, input, expect)| {
            let got = jcs::canonicalize_text(input.as_bytes());
            match (expect, got) {
                (Expect::Canonical(want), Ok(c)) => {
                    let c = String::from_utf8(c).expect("JCS output is UTF-8");
                    assert_eq!(
                        c, want,
                        "JCS case {name}: the implementation disagrees with the expected text"
                    );
                    json!({"name": name, "input": input, "canonical": c})
                }
                (Expect::Error(kind), Err(e)) => {
                    assert_eq!(error_kind(&e), kind, "JCS case {name}: wrong refusal {e}");
                    json!({"name": name, "input": input, "error": kind})
                }
                (Expect::Canonical(_), Err(e)) => panic!("JCS case {name}: refused: {e}"),
                (Expect::Error(kind), Ok(c)) => panic!(
                    "JCS case {name}: expected {kind}, got {}",
                    String::from_utf8_lossy(&c)
                ),
            }
        })
        .collect();
    json!({ "cases": out })
}

fn source_event(
    key: &NoteSigner,
    label: &str,
    source: &str,
    ty: &str,
    payload: Value,
    at: &str,
) -> SignedEvent {
    EventBuilder::new(key, ty, source)
        .id(test_event_id(label))
        .occurred_at(at)
        .actor("kameoka-0042", "network_admin")
        .payload(payload)
        .sign()
}

/// The small ledger behind the event, entry, checkpoint and receipt vectors.
struct VectorLedger {
    ledger: Ledger,
    appended: Vec<daicho_core::entry::Recorded>,
}

fn vector_ledger() -> VectorLedger {
    let ledger_key = test_key("ledger", ORIGIN);
    let admin = test_key("admin", "admin");
    let source = test_key("source-a", "source-a");
    let g = genesis_event(
        &ledger_key,
        admin.public_key(),
        Label::parse("joho-seisaku-ka").expect("valid"),
        test_event_id("genesis"),
        OccurredAt::parse("2026-04-01T09:00:00+09:00").expect("valid"),
    );
    let (mut ledger, first) = Ledger::create(g, test_time(0)).expect("valid genesis");
    let mut appended = vec![first];
    let reg = KeyRegistration {
        key_id: source.key_id(),
        public_key: source.public_key(),
        source: Label::parse("source-a").expect("valid"),
        role: KeyRole::Source,
        types: vec![
            EventType::parse("usb.approval.granted").expect("valid"),
            EventType::parse("card.lost").expect("valid"),
        ],
    };
    let events = vec![
        source_event(
            &admin,
            "register source-a",
            "joho-seisaku-ka",
            KEY_REGISTERED,
            serde_json::to_value(reg).expect("serialises"),
            "2026-04-01T09:05:00+09:00",
        ),
        source_event(
            &source,
            "usb approval",
            "source-a",
            "usb.approval.granted",
            json!({"device": {"serial": "USB-0001"}, "section": "情報政策課", "valid_until": "2027-03-31"}),
            "2026-04-02T10:15:00+09:00",
        ),
        source_event(
            &source,
            "card lost",
            "source-a",
            "card.lost",
            json!({"card": "IC-1234", "reported_by": "kameoka-0042", "note": "通勤途中に紛失"}),
            "2026-04-03T08:40:00+09:00",
        ),
    ];
    for (i, e) in events.into_iter().enumerate() {
        let mut b = ledger.begin(test_time(60 * (i as i64 + 1)));
        appended.push(b.append(e, None).expect("authorised").clone());
        let staged = b.finish();
        ledger.commit(staged);
    }
    VectorLedger { ledger, appended }
}

/// `keys.json`: the published test keys.
fn key_vectors() -> Value {
    let keys: Vec<Value> = [
        ("ledger", ORIGIN),
        ("admin", "admin"),
        ("source-a", "source-a"),
    ]
    .iter()
    .map(|(k, n)| {
        let s = test_key(k, n);
        json!({
            "name": k,
            "seed_label": format!("daicho test key: {k}"),
            "secret_key": s.to_secret_string(),
            "verifier_key": s.verifier().to_string(),
            "public_key": s.public_key().to_base64(),
            "key_id": s.key_id().to_string(),
        })
    })
    .collect();
    json!({ "keys": keys })
}

/// `events.json`: each event unsigned, its signing message, signature and hash.
fn event_vectors(v: &VectorLedger) -> Value {
    let events: Vec<Value> = v
        .appended
        .iter()
        .map(|a| {
            let e = &a.event;
            json!({
                "unsigned": e.body,
                "signing_message": String::from_utf8(e.body.signing_message()).expect("UTF-8"),
                "signed": e,
                "signed_jcs": String::from_utf8(e.canonical_bytes()).expect("UTF-8"),
                "event_hash": e.hash(),
            })
        })
        .collect();
    json!({ "events": events })
}

/// `entries.json`: the chain.
fn entry_vectors(v: &VectorLedger) -> Value {
    let entries: Vec<Value> = v
        .appended
        .iter()
        .map(|a| {
            json!({
                "entry": a.entry,
                "entry_jcs": String::from_utf8(jcs::canonicalize(&a.entry)).expect("UTF-8"),
                "entry_hash": a.hash,
            })
        })
        .collect();
    json!({ "entries": entries })
}

/// The 64 leaves of the Merkle vectors: leaf hashes of `leaf 0` … `leaf 63`.
pub fn merkle_leaves() -> Vec<Digest> {
    (0..64)
        .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

/// Standard base64 of raw bytes.
fn b64_bytes(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn b64(v: &[Digest]) -> Vec<String> {
    v.iter().map(Digest::to_base64).collect()
}

/// `merkle/*.json`: roots for every size 1..=64 and every inclusion and
/// consistency proof over them, in the transparency-dev/merkle layout.
fn merkle_vectors() -> (Value, Value, Value) {
    let leaves = merkle_leaves();
    let tree = Tree::from_leaves(leaves.iter().copied());
    let roots: Vec<Value> = (1..=64u64)
        .map(|n| json!({"treeSize": n, "root": tree.root_at(n).expect("in range").to_base64()}))
        .collect();
    let mut inclusion = Vec::new();
    let mut consistency = Vec::new();
    for n in 1..=64u64 {
        let root = tree.root_at(n).expect("in range").to_base64();
        for m in 0..n {
            inclusion.push(json!({
                "leafIdx": m, "treeSize": n, "root": root,
                "leafHash": leaves[m as usize].to_base64(),
                "proof": b64(&tree.inclusion_proof(m, n).expect("in range")),
            }));
        }
        for m in 1..=n {
            consistency.push(json!({
                "size1": m, "size2": n,
                "root1": tree.root_at(m).expect("in range").to_base64(), "root2": root,
                "proof": b64(&tree.consistency_proof(m, n).expect("in range")),
            }));
        }
    }
    let leaves_json = json!({
        "leaf_data": (0..64).map(|i| format!("leaf {i}")).collect::<Vec<_>>(),
        "leaf_hashes": b64(&leaves),
        "roots": roots,
    });
    (
        leaves_json,
        json!({"cases": inclusion}),
        json!({"cases": consistency}),
    )
}

/// `checkpoints.json`: signed notes for several sizes of the Merkle vector tree.
fn checkpoint_vectors() -> Value {
    let key = test_key("ledger", ORIGIN);
    let tree = Tree::from_leaves(merkle_leaves());
    // Size 0 is the empty tree (FORMAT.md §7.1): no ledger signs it, but
    // it is valid syntax and its root is MTH({}) = SHA-256("").
    let cps: Vec<Value> = [0u64, 1, 2, 7, 32, 64]
        .iter()
        .map(|&n| {
            let cp = Checkpoint {
                origin: ORIGIN.to_owned(),
                size: n,
                root: tree.root_at(n).expect("in range"),
            };
            json!({"origin": ORIGIN, "size": n, "root": cp.root.to_base64(), "body": cp.body(), "note": cp.sign(&key)})
        })
        .collect();
    json!({"verifier_key": key.verifier().to_string(), "checkpoints": cps})
}

/// `receipts.json`: a receipt for every entry of the vector ledger against
/// its final checkpoint, with the event each one records.
fn receipt_vectors(v: &VectorLedger) -> Value {
    let key = test_key("ledger", ORIGIN);
    let note = v.ledger.checkpoint().sign(&key);
    let size = v.ledger.size();
    let receipts: Vec<Value> = v
        .appended
        .iter()
        .map(|a| {
            let r = Receipt {
                format: RECEIPT_FORMAT.to_owned(),
                entry: a.entry.clone(),
                entry_hash: a.hash,
                inclusion: v
                    .ledger
                    .tree()
                    .inclusion_proof(a.entry.seq, size)
                    .expect("in range"),
                checkpoint: note.clone(),
            };
            json!({"receipt": r, "event": a.event})
        })
        .collect();
    let refused = refused_receipts(&receipts[2]["receipt"], &key);
    json!({"verifier_key": key.verifier().to_string(), "receipts": receipts, "refused": refused})
}

/// The receipts a verifier must refuse although everything they prove
/// holds: FORMAT.md §9 allows exactly five members in a receipt and exactly
/// §6.1's four in its entry, so a reader that ignored an unknown member
/// would accept text the ledger never wrote.
fn refused_receipts(valid: &Value, key: &NoteSigner) -> Vec<Value> {
    let with_member = |pointer: &str| {
        let mut r = valid.clone();
        r.pointer_mut(pointer)
            .and_then(Value::as_object_mut)
            .expect("an object")
            .insert("comment".into(), json!("an unknown member"));
        r
    };
    let cases = [
        (
            "extra-member",
            "FORMAT.md §9: a receipt has exactly five members; a sixth is refused",
            with_member(""),
        ),
        (
            "entry-extra-member",
            "FORMAT.md §9: a receipt's entry has exactly the four members of §6.1; a fifth is refused",
            with_member("/entry"),
        ),
    ];
    let parsed: Receipt = serde_json::from_value(valid.clone()).expect("a receipt");
    parsed
        .verify(key.verifier(), None)
        .expect("the receipt the cases change verifies");
    cases
        .into_iter()
        .map(|(name, why, receipt)| {
            assert!(
                serde_json::from_value::<Receipt>(receipt.clone()).is_err(),
                "receipt case {name}: the implementation accepts it"
            );
            json!({"name": name, "why": why, "receipt": receipt})
        })
        .collect()
}

/// Every vector file, by path relative to `tests/vectors/`.
pub fn generate() -> BTreeMap<String, Vec<u8>> {
    let v = vector_ledger();
    let (leaves, inclusion, consistency) = merkle_vectors();
    let mut out = BTreeMap::new();
    out.insert("jcs.json".into(), pretty(&jcs_vectors()));
    out.insert("keys.json".into(), pretty(&key_vectors()));
    out.insert("events.json".into(), pretty(&event_vectors(&v)));
    out.insert("entries.json".into(), pretty(&entry_vectors(&v)));
    out.insert("merkle/roots.json".into(), pretty(&leaves));
    out.insert("merkle/inclusion.json".into(), pretty(&inclusion));
    out.insert("merkle/consistency.json".into(), pretty(&consistency));
    out.insert("checkpoints.json".into(), pretty(&checkpoint_vectors()));
    out.insert("receipts.json".into(), pretty(&receipt_vectors(&v)));
    let message = v.appended[1].event.body.signing_message();
    out.insert(
        "signatures.json".into(),
        pretty(&signatures::signature_vectors(
            &signatures::signature_key(),
            &message,
        )),
    );
    out.extend(bundles::bundle_vectors());
    out
}
