//! Properties of the fold: the state kept current entry by entry equals the
//! state rebuilt from the same entries; the state as of N is the fold of the
//! first N entries; and arbitrary event sequences never make a projection or
//! an evaluation panic.

use daicho_catalogue::Catalogue;
use daicho_compliance::state::PROJECTIONS;
use daicho_compliance::{evaluate, Period, Rulebook, State};
use daicho_core::entry::Recorded;
use daicho_core::event::{Actor, EventId, EventType, HashedEvent, Label, UnsignedEvent};
use daicho_core::keys::NoteSigner;
use daicho_core::timestamp::{OccurredAt, RecordedAt};
use daicho_core::Digest;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Types that drive the projections and the rules, with payloads that name
/// a few shared subjects, so that sequences collide.
const TYPES: &[&str] = &[
    "usb.approval.requested",
    "usb.approval.granted",
    "usb.approval.withdrawn",
    "usb.taken_out",
    "usb.returned",
    "usb.erased",
    "ic_card.issued",
    "ic_card.loss.reported",
    "ic_card.invalidated",
    "incident.discovered",
    "incident.closed",
    "staff.hired",
    "staff.departed",
    "terminal.session.started",
    "audit.finding.raised",
    "audit.finding.closed",
    "exception.requested",
    "exception.granted",
    "processing_plan.submitted",
];

fn payload(kind: usize, subject: u8, garbage: bool) -> Value {
    let id = format!("X-{subject}");
    if garbage {
        // Shapes the schemas would refuse still never panic the fold.
        return json!({"application_id": [1], "device": "x", "card_id": {"a": null}, "for_month": "20x6-13"});
    }
    json!({
        "application_id": id, "device": {"asset_id": id, "kind": "usb_memory"}, "card_id": id,
        "incident_id": id, "finding_id": id, "exception_id": id, "refs": ["37"],
        "staff": {"staff_id": id, "section": {"code": "S", "department": {"code": "D"}}},
        "user": {"staff_id": id}, "ic_card_id": id, "session_id": id, "for_month": "2026-06",
        "approval": {"form": 12, "application_id": id}, "kind": kind,
    })
}

fn entries(spec: &[(usize, u8, u32, u8, bool)]) -> Vec<Recorded> {
    let signer = NoteSigner::from_seed("src", [9; 32]).unwrap();
    let roles = ["staff", "network_admin", "info_manager", "cio"];
    spec.iter()
        .enumerate()
        .map(|(i, &(t, subject, minutes, role, garbage))| {
            let at = time::macros::datetime!(2026-04-01 09:00 +09:00)
                + time::Duration::minutes(i64::from(minutes));
            let text = at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            let Value::Object(payload) = payload(t, subject, garbage) else {
                unreachable!()
            };
            let event = UnsignedEvent {
                event_id: EventId::from_bytes([(i % 250) as u8 + 1; 16]),
                event_type: EventType::parse(TYPES[t % TYPES.len()]).unwrap(),
                schema_version: 1,
                occurred_at: OccurredAt::parse(&text).unwrap(),
                actor: Actor {
                    id: Label::parse("k").unwrap(),
                    role: Label::parse(roles[role as usize % 4]).unwrap(),
                },
                source: Label::parse("src").unwrap(),
                payload,
                key_id: signer.key_id(),
            }
            .sign(&signer);
            Recorded::chain(
                i as u64,
                RecordedAt::from_datetime(at).unwrap(),
                Digest::ZERO,
                HashedEvent::new(event),
            )
        })
        .collect()
}

fn fingerprint(state: &State) -> Vec<u8> {
    let catalogue = Catalogue::embedded();
    let mut out = Vec::new();
    for name in PROJECTIONS {
        out.extend(serde_json::to_vec(&state.projection(name).unwrap()).unwrap());
    }
    for (fy, q) in [(2026, 1), (2026, 2), (2025, 4)] {
        let period = Period::fiscal_quarter(fy, q).unwrap();
        out.extend(
            evaluate(
                catalogue,
                Rulebook::embedded(),
                state,
                period,
                Some((fy, q)),
            )
            .canonical_bytes(),
        );
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_rebuild_and_prefixes_fold(
        spec in prop::collection::vec((0usize..40, 0u8..4, 0u32..200_000, 0u8..4, prop::bool::weighted(0.1)), 0..40),
        cut in 0usize..41,
    ) {
        let catalogue = Catalogue::embedded();
        let all = entries(&spec);
        let rebuilt = State::fold(catalogue, &all);
        let mut incremental = State::new(catalogue);
        let mut as_of_cut = None;
        for (i, e) in all.iter().enumerate() {
            if i == cut {
                as_of_cut = Some(fingerprint(&incremental));
            }
            incremental.apply(e);
        }
        prop_assert_eq!(fingerprint(&incremental), fingerprint(&rebuilt));
        prop_assert_eq!(incremental.size(), all.len() as u64);
        if let Some(at_cut) = as_of_cut {
            let prefix = State::fold(catalogue, &all[..cut]);
            prop_assert_eq!(at_cut, fingerprint(&prefix));
        }
    }
}

#[test]
fn an_entry_out_of_order_is_not_folded() {
    let catalogue = Catalogue::embedded();
    let all = entries(&[(0, 1, 0, 0, false), (1, 1, 5, 1, false)]);
    let mut state = State::new(catalogue);
    state.apply(&all[1]);
    assert_eq!(state.size(), 0);
    state.apply(&all[0]);
    state.apply(&all[0]);
    assert_eq!(state.size(), 1);
}

/// A fold of many entries, with an entry out of order among them, is the
/// state that applying the entries one by one gives.
#[test]
fn a_fold_of_many_entries_equals_applying_one_by_one() {
    let catalogue = Catalogue::embedded();
    let spec: Vec<(usize, u8, u32, u8, bool)> = (0..9_000u32)
        .map(|i| {
            (
                (i % 40) as usize,
                (i % 4) as u8,
                i * 20,
                (i % 4) as u8,
                i % 97 == 0,
            )
        })
        .collect();
    let mut all = entries(&spec);
    // One entry repeated out of place: both ways ignore it.
    all.insert(5_000, all[10].clone());
    let rebuilt = State::fold(catalogue, &all);
    let mut incremental = State::new(catalogue);
    for e in &all {
        incremental.apply(e);
    }
    assert_eq!(rebuilt.size(), 9_000);
    assert_eq!(fingerprint(&incremental), fingerprint(&rebuilt));
}
