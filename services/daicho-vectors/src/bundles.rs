//! `bundles/`: the testkit's sample ledger and mutated copies of it, each
//! named after its mutation, with the finding a verifier must report.

use daicho_core::bundle;
use daicho_core::checkpoint::Checkpoint;
use daicho_core::entry::Entry;
use daicho_testkit::{self as testkit, FINANCE, PERSONNEL, PERSONNEL_TYPE};
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

    let mut doc = serde_json::to_vec_pretty(&json!({ "cases": expected })).expect("serialises");
    doc.push(b'\n');
    out.push(("bundles/expected.json".into(), doc));
    out
}
