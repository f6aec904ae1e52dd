//! `bundles/`: the testkit's sample ledger and mutated copies of it, each
//! named after its mutation, with the finding a verifier must report.
//!
//! It is long because each mutation is written out next to the finding it
//! must produce; a table of short functions is what a reviewer checks
//! against FORMAT.md.

use daicho_core::bundle;
use daicho_core::checkpoint::Checkpoint;
use daicho_core::entry::Entry;
use daicho_core::keys::NoteSigner;
use daicho_testkit::{self as testkit, FINANCE, ORIGIN as ORIGIN_NAME, PERSONNEL, PERSONNEL_TYPE};
use ed25519_dalek::Signer as _;
use serde_json::{json, Value};

fn replace(line: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(line).expect("UTF-8");
    assert!(text.contains(from), "{from:?} not in the line");
    text.replacen(from, to, 1).into_bytes()
}

fn entry_of(line: &[u8]) -> Entry {
    match bundle::parse_line(&line[..line.len() - 1]).expect("a valid line") {
        bundle::Line::Entry(e) => e.entry,
        _ => unreachable!("an entry line"),
    }
}

fn signature_b64(e: &daicho_core::event::SignedEvent) -> String {
    serde_json::to_value(e.signature)
        .expect("serialises")
        .as_str()
        .expect("a string")
        .to_owned()
}

/// A signed note over any body, valid or not as a checkpoint, with one
/// signature line by `signer`.
fn sign_note(body: &str, signer: &NoteSigner) -> String {
    format!("{body}\n{}\n", signature_line(body, signer))
}

/// `— NAME base64(key ID || signature)` over `body`, without the newline.
fn signature_line(body: &str, signer: &NoteSigner) -> String {
    let mut raw = signer.verifier().note_id().to_vec();
    raw.extend_from_slice(&signer.signing_key().sign(body.as_bytes()).to_bytes());
    format!(
        "\u{2014} {} {}",
        signer.verifier().name(),
        crate::b64_bytes(&raw)
    )
}

/// A change to an event's body.
type Change = Box<dyn Fn(&mut daicho_core::event::UnsignedEvent)>;

/// The event with a changed body, signed again by `signer`.
fn resigned(
    event: &daicho_core::event::SignedEvent,
    signer: &NoteSigner,
    change: impl FnOnce(&mut daicho_core::event::UnsignedEvent),
) -> daicho_core::event::SignedEvent {
    let mut body = event.body.clone();
    change(&mut body);
    body.sign(signer)
}

/// The testkit's keys as `bundles/keys.json` publishes them: the seed of
/// each is SHA-256 of the 8 little-endian bytes of the seed number (7)
/// followed by the role's name in ASCII.
fn key_labels(s: &testkit::SampleLedger) -> Value {
    let k = &s.keys;
    let keys: Vec<Value> = [
        ("ledger", &k.ledger),
        ("admin", &k.admin),
        ("finance", &k.finance),
        ("personnel", &k.personnel),
        ("stranger", &k.stranger),
        ("next-ledger", &k.next_ledger),
    ]
    .iter()
    .map(|(role, key)| {
        json!({
            "role": role,
            "seed_input_hex": hex::encode([&7u64.to_le_bytes()[..], role.as_bytes()].concat()),
            "secret_key": key.to_secret_string(),
            "verifier_key": key.verifier().to_string(),
            "public_key": key.public_key().to_base64(),
            "key_id": key.key_id().to_string(),
        })
    })
    .chain(std::iter::once({
        let w = witness_key();
        json!({
            "role": "witness",
            "seed_input_hex": hex::encode([&7u64.to_le_bytes()[..], b"witness"].concat()),
            "secret_key": w.to_secret_string(),
            "verifier_key": w.verifier().to_string(),
            "public_key": w.public_key().to_base64(),
        })
    }))
    .collect();
    let event_ids: Vec<Value> = s
        .events
        .iter()
        .enumerate()
        .map(|(seq, (_, e))| {
            json!({
                "seq": seq,
                "id_input_hex": hex::encode([7u64.to_le_bytes(), (seq as u64).to_le_bytes()].concat()),
                "event_id": e.body.event_id.as_str(),
            })
        })
        .collect();
    json!({
        "seed": 7,
        "keys": keys,
        "key_seed": "SHA-256(seed_input): the seed number as 8 little-endian bytes, then the role's name",
        "event_ids": event_ids,
        "event_id": "the first 16 bytes of SHA-256(id_input), the seed and a number as 8 little-endian bytes each, made a version 4 UUID (RFC 9562: byte 6 = 0x40 | byte 6 & 0x0f, byte 8 = 0x80 | byte 8 & 0x3f)",
    })
}

/// The witness key of the cosigned vector.
fn witness_key() -> daicho_core::cosignature::WitnessSigner {
    let seed: [u8; 32] = daicho_core::Digest::of(&[&7u64.to_le_bytes()[..], b"witness"].concat()).0;
    daicho_core::cosignature::WitnessSigner::from_seed("witness.example/prefecture", seed)
        .expect("a valid name")
}

/// The files, and `expected.json` describing them.
pub fn bundle_vectors() -> Vec<(String, Vec<u8>)> {
    let s = testkit::sample_ledger(7);
    let at = |seq: usize| 1 + seq;
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut expected: Vec<Value> = Vec::new();
    let mut add = |name: &str,
                   bytes: Vec<u8>,
                   class: Option<&str>,
                   seq: Option<u64>,
                   since: Option<&str>,
                   out: &mut Vec<(String, Vec<u8>)>| {
        out.push((format!("bundles/{name}"), bytes));
        expected.push(json!({"file": name, "ok": class.is_none(), "class": class, "seq": seq, "since": since}));
    };

    add("valid.jsonl", s.bytes(), None, None, None, &mut out);
    out.push((
        "bundles/ledger.vkey".into(),
        format!("{}\n", s.ledger_key()).into_bytes(),
    ));
    for (i, cp) in s.checkpoints.iter().enumerate() {
        out.push((
            format!("bundles/checkpoint-{}.note", s.checkpoint_sizes[i]),
            cp.clone().into_bytes(),
        ));
    }

    let mut l = s.lines.clone();
    l[at(5)] = replace(&l[at(5)], "KM-2026-000005", "KM-2026-000006");
    add(
        "flipped-payload-byte@5.jsonl",
        l.concat(),
        Some("signature"),
        Some(5),
        None,
        &mut out,
    );

    let mut l = s.lines.clone();
    l[at(7)] = replace(
        &l[at(7)],
        &signature_b64(&s.events[7].1),
        &signature_b64(&s.events[5].1),
    );
    add(
        "changed-signature@7.jsonl",
        l.concat(),
        Some("signature"),
        Some(7),
        None,
        &mut out,
    );

    let mut l = s.lines.clone();
    l.remove(at(8));
    add(
        "deleted-entry@8.jsonl",
        l.concat(),
        Some("chain"),
        Some(8),
        None,
        &mut out,
    );

    let mut l = s.lines.clone();
    l.drain(at(8)..=at(9));
    add(
        "deleted-entries@8-9.jsonl",
        l.concat(),
        Some("chain"),
        Some(8),
        None,
        &mut out,
    );

    let mut l = s.lines.clone();
    let e8 = entry_of(&l[at(8)]);
    let event = testkit::source_event(
        &s.keys.finance,
        FINANCE,
        "kameoka.document.filed",
        999,
        (7, 999),
    );
    let inserted = Entry {
        seq: 9,
        recorded_at: e8.recorded_at,
        event_hash: event.hash(),
        prev_hash: e8.hash(),
    };
    l.insert(at(9), bundle::entry_line(&inserted, &event));
    add(
        "inserted-entry@9.jsonl",
        l.concat(),
        Some("chain"),
        Some(9),
        None,
        &mut out,
    );

    let mut l = s.lines.clone();
    l.swap(at(11), at(12));
    add(
        "swapped-entries@11-12.jsonl",
        l.concat(),
        Some("chain"),
        Some(11),
        None,
        &mut out,
    );

    let mut l = s.lines.clone();
    l.drain(at(22)..=at(23));
    add(
        "truncated-tail@22.jsonl",
        l.concat(),
        Some("checkpoint"),
        Some(22),
        None,
        &mut out,
    );

    let mut b = s.bytes();
    b.extend_from_slice(b"{}");
    add(
        "trailing-bytes.jsonl",
        b,
        Some("format"),
        None,
        None,
        &mut out,
    );

    let mut events = s.events.clone();
    events[18].1 = testkit::source_event(
        &s.keys.finance,
        FINANCE,
        "kameoka.payment.approved",
        1018,
        (7, 1018),
    );
    let (l, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    add(
        "rewritten-history@18.jsonl",
        l.concat(),
        Some("merkle"),
        None,
        Some("checkpoint-24.note"),
        &mut out,
    );

    let mut l = s.lines.clone();
    let last = l.len() - 1;
    let forged = Checkpoint::open(&s.checkpoints[3], &s.ledger_key())
        .expect("opens")
        .sign(&s.keys.stranger);
    l[last] = bundle::checkpoint_line(&forged);
    add(
        "checkpoint-other-key.jsonl",
        l.concat(),
        Some("checkpoint"),
        None,
        None,
        &mut out,
    );

    let mut events = s.events.clone();
    events[20].1 =
        testkit::source_event(&s.keys.personnel, PERSONNEL, PERSONNEL_TYPE, 20, (7, 2020));
    let (l, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    add(
        "revoked-key-used@20.jsonl",
        l.concat(),
        Some("registry"),
        Some(20),
        None,
        &mut out,
    );

    let mut events = s.events.clone();
    events[19].1 = testkit::source_event(&s.keys.finance, FINANCE, PERSONNEL_TYPE, 19, (7, 1919));
    let (l, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    add(
        "type-out-of-scope@19.jsonl",
        l.concat(),
        Some("registry"),
        Some(19),
        None,
        &mut out,
    );

    // A stored event_hash changed, the event and its signature intact: the
    // first finding is the event-hash check's (§12.2 step 5).
    let mut l = s.lines.clone();
    l[at(6)] = replace(
        &l[at(6)],
        &entry_of(&l[at(6)]).event_hash.to_hex(),
        &entry_of(&l[at(5)]).event_hash.to_hex(),
    );
    add(
        "stale-event-hash@6.jsonl",
        l.concat(),
        Some("chain"),
        Some(6),
        None,
        &mut out,
    );

    let mut events = s.events.clone();
    events[17].1 = testkit::source_event(
        &s.keys.finance,
        FINANCE,
        "kameoka.payment.approved",
        17,
        (7, 16),
    );
    let (l, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    add(
        "duplicate-event-id@17.jsonl",
        l.concat(),
        Some("chain"),
        Some(17),
        None,
        &mut out,
    );

    let mut events = s.events.clone();
    events[13].0 = testkit::recorded_at(11);
    let (l, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    add(
        "recorded-at-backwards@13.jsonl",
        l.concat(),
        Some("chain"),
        Some(13),
        None,
        &mut out,
    );

    // Registry payloads the registry must refuse, each signed by the
    // administrator and chained by the ledger key.
    let registry_cases: [(&str, u64, Change); 4] = [
        (
            "registration-duplicate-type@2.jsonl",
            2,
            Box::new(|b| {
                b.payload["types"] = json!([PERSONNEL_TYPE, PERSONNEL_TYPE]);
            }),
        ),
        (
            "registration-schema-version-2@1.jsonl",
            1,
            Box::new(|b| b.schema_version = 2),
        ),
        (
            "registration-extra-member@1.jsonl",
            1,
            Box::new(|b| {
                b.payload
                    .insert("comment".into(), json!("an unknown member"));
            }),
        ),
        (
            "revocation-reason-not-a-string@15.jsonl",
            15,
            Box::new(|b| {
                b.payload["reason"] = json!(15);
            }),
        ),
    ];
    for (name, seq, change) in registry_cases {
        let mut events = s.events.clone();
        let i = seq as usize;
        events[i].1 = resigned(&events[i].1, &s.keys.admin, change);
        let (l, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
        add(
            name,
            l.concat(),
            Some("registry"),
            Some(seq),
            None,
            &mut out,
        );
    }

    // The genesis names the trusted key with a space after it: the same key,
    // another text (§8.1).
    let mut events = s.events.clone();
    events[0].1 = resigned(&events[0].1, &s.keys.ledger, |b| {
        b.payload["ledger_key"] = json!(format!("{} ", s.ledger_key()));
    });
    let (l, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    add(
        "genesis-ledger-key-text@0.jsonl",
        l.concat(),
        Some("registry"),
        Some(0),
        None,
        &mut out,
    );

    // An event signature in base64 with non-zero padding bits: the same 64
    // bytes, another text; the line is refused before any other check.
    let mut l = s.lines.clone();
    let sig = signature_b64(&s.events[4].1);
    let mut bad = sig.clone().into_bytes();
    let last = bad.len() - 3;
    bad[last] = match bad[last] {
        b'A' => b'B',
        c => c - 1 + 2 * u8::from(c == b'/' || c == b'z' || c == b'Z' || c == b'9'),
    };
    let bad = String::from_utf8(bad).expect("ASCII");
    assert_ne!(sig, bad);
    l[at(4)] = replace(&l[at(4)], &sig, &bad);
    add(
        "signature-non-canonical-base64@4.jsonl",
        l.concat(),
        Some("format"),
        None,
        None,
        &mut out,
    );

    let mut l = s.lines.clone();
    l[at(3)] = replace(
        &l[at(3)],
        "2026-04-01T09:30:00+09:00",
        "2026-04-01t09:30:00+09:00",
    );
    add(
        "occurred-at-lower-case-t@3.jsonl",
        l.concat(),
        Some("format"),
        None,
        None,
        &mut out,
    );

    for (name, from, to) in [
        (
            "occurred-at-leap-second@3.jsonl",
            "2026-04-01T09:30:00+09:00",
            "2026-04-01T23:59:60+09:00",
        ),
        (
            "occurred-at-minus-zero-offset@3.jsonl",
            "2026-04-01T09:30:00+09:00",
            "2026-04-01T09:30:00-00:00",
        ),
    ] {
        let mut l = s.lines.clone();
        l[at(3)] = replace(&l[at(3)], from, to);
        add(name, l.concat(), Some("format"), None, None, &mut out);
    }

    // A registration whose public key is written with non-zero padding
    // bits: the same 32 bytes, another text.
    let mut events = s.events.clone();
    events[2].1 = resigned(&events[2].1, &s.keys.admin, |b| {
        let key = b.payload["public_key"]
            .as_str()
            .expect("a string")
            .to_owned();
        let mut bytes = key.into_bytes();
        let i = bytes.len() - 2;
        bytes[i] = match bytes[i] {
            b'A' => b'B',
            c => c + 1 - 2 * u8::from(c == b'z' || c == b'Z' || c == b'9' || c == b'/'),
        };
        b.payload["public_key"] = json!(String::from_utf8(bytes).expect("ASCII"));
    });
    let (l, _) = testkit::assemble(&s.keys.ledger, &events, &s.checkpoint_sizes);
    add(
        "registration-public-key-non-canonical-base64@2.jsonl",
        l.concat(),
        Some("registry"),
        Some(2),
        None,
        &mut out,
    );

    // The header names another origin than the trusted key's name.
    let mut l = s.lines.clone();
    l[0] = replace(
        &l[0],
        "\"origin\":\"kameoka.example/daicho/test\"",
        "\"origin\":\"kameoka.example/daicho/other\"",
    );
    add(
        "header-other-origin.jsonl",
        l.concat(),
        Some("format"),
        None,
        None,
        &mut out,
    );

    // Checkpoint notes.
    let last = s.lines.len() - 1;
    let body = Checkpoint::open(&s.checkpoints[3], &s.ledger_key())
        .expect("opens")
        .body();

    let mut l = s.lines.clone();
    l[last] = bundle::checkpoint_line(&sign_note(&format!("{body}extension\n"), &s.keys.ledger));
    add(
        "checkpoint-extension-line.jsonl",
        l.concat(),
        Some("checkpoint"),
        None,
        None,
        &mut out,
    );

    // A second line by the ledger key that does not verify (it signs the
    // checkpoint of size 16), after one that does.
    let mut l = s.lines.clone();
    let body16 = Checkpoint::open(&s.checkpoints[2], &s.ledger_key())
        .expect("opens")
        .body();
    l[last] = bundle::checkpoint_line(&format!(
        "{}{}\n",
        s.checkpoints[3],
        signature_line(&body16, &s.keys.ledger)
    ));
    add(
        "checkpoint-second-line-fails.jsonl",
        l.concat(),
        Some("checkpoint"),
        None,
        None,
        &mut out,
    );

    let mut l = s.lines.clone();
    l[last] = bundle::checkpoint_line(&sign_note(
        &body.replace("\n24\n", "\n024\n"),
        &s.keys.ledger,
    ));
    add(
        "checkpoint-size-leading-zero.jsonl",
        l.concat(),
        Some("checkpoint"),
        None,
        None,
        &mut out,
    );

    // A line of another key whose base64 has non-zero padding bits: a
    // malformed line refuses the note, whoever's it is (§7.2).
    let mut l = s.lines.clone();
    let other = signature_line(&body, &s.keys.stranger);
    let mut bytes = other.into_bytes();
    // 68 bytes are 92 characters ending in one '=': the character before
    // it carries two unused bits.
    let i = bytes.len() - 2;
    bytes[i] = match bytes[i] {
        b'A' => b'B',
        c => c + 1 - 2 * u8::from(c == b'z' || c == b'Z' || c == b'9' || c == b'/'),
    };
    let other =
        String::from_utf8(bytes)
            .expect("ASCII")
            .replacen(ORIGIN_NAME, "another.example/key", 1);
    l[last] = bundle::checkpoint_line(&format!("{}{other}\n", s.checkpoints[3]));
    add(
        "checkpoint-non-canonical-base64-line.jsonl",
        l.concat(),
        Some("checkpoint"),
        None,
        None,
        &mut out,
    );

    let mut l = s.lines.clone();
    l.swap(last - 1, last);
    add(
        "checkpoint-sizes-decreasing.jsonl",
        l.concat(),
        Some("format"),
        None,
        None,
        &mut out,
    );

    // The ledger shown as it was at 16 entries, to an auditor who saved
    // the checkpoint of 24: a rollback.
    let mut l: Vec<Vec<u8>> = s.lines[..at(16)].to_vec();
    l.extend(
        s.checkpoints[..3]
            .iter()
            .map(|c| bundle::checkpoint_line(c)),
    );
    add(
        "rolled-back-to-16.jsonl",
        l.concat(),
        Some("checkpoint"),
        Some(16),
        Some("checkpoint-24.note"),
        &mut out,
    );

    // The newest checkpoint cosigned by a witness: valid, and the
    // cosignature is ignored unless the witness is required (§12.3).
    let mut l = s.lines.clone();
    let cosigned = witness_key().cosign(&s.checkpoints[3], 1_775_001_700);
    l[last] = bundle::checkpoint_line(&cosigned);
    add("cosigned.jsonl", l.concat(), None, None, None, &mut out);
    out.push(("bundles/cosigned-24.note".into(), cosigned.into_bytes()));
    out.push((
        "bundles/witness.vkey".into(),
        format!("{}\n", witness_key().verifier()).into_bytes(),
    ));
    // The ledger key rotated at seq 16 (FORMAT.md §8.5): valid as
    // written; the last checkpoint signed by the retired key alone; and a
    // rotation signed by an administrator key instead of the ledger key.
    let r = testkit::rotated_sample_ledger(7);
    add("rotated.jsonl", r.bytes(), None, None, None, &mut out);
    let mut l = r.lines.clone();
    let last = l.len() - 1;
    let retired = Checkpoint::open(&r.checkpoints[4], r.keys.next_ledger.verifier())
        .expect("opens")
        .sign(&r.keys.ledger);
    l[last] = bundle::checkpoint_line(&retired);
    add(
        "rotated-checkpoint-by-retired-key.jsonl",
        l.concat(),
        Some("checkpoint"),
        None,
        None,
        &mut out,
    );
    let mut events = r.events.clone();
    let admin = r.keys.admin.clone();
    events[16].1 = resigned(&events[16].1, &admin, |b| {
        b.key_id = admin.key_id();
        b.source = daicho_core::event::Label::parse("admin").expect("a label");
    });
    let (l, _) = testkit::assemble(&r.keys.ledger, &events, &r.checkpoint_sizes);
    add(
        "rotation-by-admin-key@16.jsonl",
        l.concat(),
        Some("registry"),
        Some(16),
        None,
        &mut out,
    );

    // Saved checkpoints of the empty tree (FORMAT.md §7.1): the ledger
    // never signs one, but it is valid syntax, and every ledger extends it
    // when its root is MTH({}) = SHA-256(""); with another root it is a
    // history the bundle does not extend (§12.3 step 4).
    let origin = s.ledger_key().name().to_owned();
    for (name, root, class) in [
        ("checkpoint-0.note", daicho_core::merkle::EMPTY_ROOT, None),
        (
            "checkpoint-0-zero-root.note",
            daicho_core::Digest::ZERO,
            Some("merkle"),
        ),
    ] {
        let cp = Checkpoint {
            origin: origin.clone(),
            size: 0,
            root,
        };
        out.push((
            format!("bundles/{name}"),
            cp.sign(&s.keys.ledger).into_bytes(),
        ));
        expected.push(json!({"file": "valid.jsonl", "ok": class.is_none(), "class": class, "seq": null, "since": name}));
    }
    out.push(("bundles/keys.json".into(), {
        let mut doc = serde_json::to_vec_pretty(&key_labels(&s)).expect("serialises");
        doc.push(b'\n');
        doc
    }));

    let mut doc = serde_json::to_vec_pretty(&json!({ "cases": expected })).expect("serialises");
    doc.push(b'\n');
    out.push(("bundles/expected.json".into(), doc));
    out
}
