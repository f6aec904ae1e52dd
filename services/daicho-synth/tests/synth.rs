//! The generator's claims: determinism, coverage of the catalogue, valid
//! payloads, a ledger that replays, and planted violations that are there.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use daicho_catalogue::Catalogue;
use daicho_core::event::{HashedEvent, SignedEvent};
use daicho_core::ledger::Ledger;
use daicho_synth::{generate, Config, Generated, ViolationKind};
use serde_json::Value;

fn small(seed: u64) -> Config {
    Config {
        seed,
        sections: 4,
        staff_per_section: 4,
        ..Config::default()
    }
}

/// The smallest municipality, for the tests that build ledgers: signing
/// and verifying are slow in unoptimised test builds.
fn tiny(seed: u64) -> Config {
    Config {
        seed,
        sections: 2,
        staff_per_section: 3,
        ..Config::default()
    }
}

fn bytes(generated: &Generated) -> Vec<Vec<u8>> {
    generated
        .events
        .iter()
        .map(|e| HashedEvent::new(e.clone()).bytes().to_vec())
        .collect()
}

fn by_type<'a>(generated: &'a Generated, event_type: &str) -> Vec<&'a SignedEvent> {
    generated
        .events
        .iter()
        .filter(|e| e.body.event_type.as_str() == event_type)
        .collect()
}

fn at(event: &SignedEvent, pointer: &str) -> Value {
    Value::Object(event.body.payload.clone())
        .pointer(pointer)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let catalogue = Catalogue::embedded();
    let a = generate(&tiny(7), catalogue);
    let b = generate(&tiny(7), catalogue);
    assert_eq!(bytes(&a), bytes(&b));
    assert_eq!(a.registrations, b.registrations);
    assert_eq!(a.violations, b.violations);
    let (ea, eb) = (a.into_ledger(), b.into_ledger());
    assert_eq!(ea.len(), eb.len());
    assert!(ea
        .iter()
        .zip(&eb)
        .all(|(x, y)| x.hash == y.hash && x.bytes == y.bytes));
}

#[test]
fn different_seeds_give_different_quarters() {
    let catalogue = Catalogue::embedded();
    let a = generate(&small(1), catalogue);
    let b = generate(&small(2), catalogue);
    assert_ne!(bytes(&a), bytes(&b));
    assert_ne!(
        a.ledger_verifier().to_string(),
        b.ledger_verifier().to_string()
    );
}

#[test]
fn every_event_type_of_the_catalogue_appears_at_scale_one() {
    let catalogue = Catalogue::embedded();
    let generated = generate(&Config::default(), catalogue);
    let seen: BTreeSet<&str> = generated
        .events
        .iter()
        .map(|e| e.body.event_type.as_str())
        .collect();
    let missing: Vec<&str> = catalogue
        .event_types()
        .iter()
        .map(|t| t.name.as_str())
        .filter(|t| !seen.contains(t))
        .collect();
    assert!(missing.is_empty(), "never emitted: {missing:?}");
}

#[test]
fn every_payload_validates_against_its_schema() {
    let catalogue = Catalogue::embedded();
    for (seed, sections, staff, scale, quarter) in [
        (1, 12, 8, 1, 1),
        (2, 2, 3, 1, 4),
        (3, 7, 5, 2, 2),
        (4, 25, 3, 1, 3),
    ] {
        let config = Config {
            seed,
            sections,
            staff_per_section: staff,
            scale,
            quarter,
            ..Config::default()
        };
        let generated = generate(&config, catalogue);
        let mut failures = Vec::new();
        for e in &generated.events {
            let payload = Value::Object(e.body.payload.clone());
            if let Err(error) = catalogue.validate(
                e.body.event_type.as_str(),
                e.body.schema_version,
                e.body.actor.role.as_str(),
                &payload,
            ) {
                failures.push(format!("{}: {error}", e.body.event_type));
            }
        }
        failures.sort();
        failures.dedup();
        assert!(failures.is_empty(), "{config:?}: {failures:#?}");
    }
}

#[test]
fn events_lie_within_the_quarter_on_tokyo_time_in_order_with_unique_ids() {
    let generated = generate(
        &Config {
            quarter: 3,
            ..small(5)
        },
        Catalogue::embedded(),
    );
    let mut ids = HashSet::new();
    let mut previous = None;
    for e in &generated.events {
        let text = e.body.occurred_at.as_str();
        assert!(text.ends_with("+09:00"), "{text}");
        assert!(
            ("2026-10-01".."2027-01-01").contains(&&text[..10]),
            "{text} is outside 2026 Q3"
        );
        let instant = e.body.occurred_at.instant();
        assert!(
            previous.is_none_or(|p| p <= instant),
            "out of order at {text}"
        );
        previous = Some(instant);
        assert!(ids.insert(e.body.event_id.clone()), "duplicate id");
    }
}

#[test]
fn the_ledger_replays_under_its_ledger_key() {
    let generated = generate(&tiny(11), Catalogue::embedded());
    let verifier = generated.ledger_verifier();
    let events = generated.events.len();
    let registrations = generated.registrations.len();
    let entries = generated.into_ledger();
    assert_eq!(entries.len(), 1 + registrations + events);
    let ledger = Ledger::replay(entries.clone(), Some(&verifier)).expect("the ledger replays");
    assert_eq!(ledger.size(), entries.len() as u64);
    // A changed event is refused (early on, as replaying is slow in
    // unoptimised test builds).
    let mut tampered = entries;
    tampered[20]
        .event
        .body
        .payload
        .insert("tampered".into(), Value::Bool(true));
    assert!(Ledger::replay(tampered, Some(&verifier)).is_err());
}

#[test]
fn every_kind_of_violation_is_planted_and_points_at_its_event() {
    let generated = generate(&Config::default(), Catalogue::embedded());
    let events: BTreeMap<_, _> = generated
        .events
        .iter()
        .map(|e| (e.body.event_id.clone(), e))
        .collect();
    let kinds: BTreeSet<ViolationKind> = generated.violations.iter().map(|v| v.kind).collect();
    assert_eq!(kinds, ViolationKind::ALL.into_iter().collect());
    for v in &generated.violations {
        let e = events[&v.event_id];
        assert_eq!(e.body.event_type.as_str(), v.event_type);
        assert_eq!(v.reference, v.kind.reference_for(&v.event_type));
        let payload = Value::Object(e.body.payload.clone()).to_string();
        let local = &e.body.occurred_at.as_str()[11..16];
        match v.kind {
            ViolationKind::ApprovalByWrongRole => {
                assert_eq!(e.body.actor.role.as_str(), "info_manager");
                assert_eq!(at(e, "/application_id"), Value::from(v.subject.clone()));
            }
            ViolationKind::UsbWithoutCurrentApproval => {
                let approval = at(e, "/approval/application_id");
                assert!(approval.as_str().unwrap().starts_with("USB-2025-"));
            }
            ViolationKind::UsbNotReturned => {
                let returned = by_type(&generated, "usb.returned")
                    .iter()
                    .any(|r| at(r, "/ledger_entry/application_id") == v.subject.as_str());
                assert!(!returned, "{} was returned", v.subject);
            }
            ViolationKind::SessionOutsideHours => {
                assert!(local >= "21:00", "{local}");
                assert_eq!(at(e, "/extension"), Value::Null);
            }
            ViolationKind::ChangeWithoutApproval => {
                assert_eq!(at(e, "/approval"), Value::Null);
            }
            ViolationKind::DisposalWithoutErasure => {
                assert_eq!(at(e, "/erasure/irrecoverable"), Value::Bool(false));
            }
            ViolationKind::LateProcessingPlan => {
                let day: u32 = e.body.occurred_at.as_str()[8..10].parse().unwrap();
                assert!(day > 20);
            }
            ViolationKind::AuditorNotIndependent => {
                let audit = v.subject.clone();
                let ordered = by_type(&generated, "audit.ordered")
                    .into_iter()
                    .find(|o| at(o, "/audit_id") == audit.as_str())
                    .expect("the audit was ordered");
                assert_eq!(
                    at(ordered, "/audited_departments/0/code"),
                    at(e, "/auditor_department/code")
                );
            }
            ViolationKind::FindingLeftOpen => {
                let closed = by_type(&generated, "audit.finding.closed")
                    .iter()
                    .any(|c| at(c, "/finding_id") == v.subject.as_str());
                assert!(!closed);
            }
            ViolationKind::SecondIncidentClosure => {
                let closures = by_type(&generated, "incident.closed")
                    .iter()
                    .filter(|c| at(c, "/incident_id") == v.subject.as_str())
                    .count();
                assert_eq!(closures, 2);
            }
            ViolationKind::OfficeLeftUnsecured => {
                // The section's record of that day is missing.
                let (code, day) = v.subject.split_once(' ').expect("section and day");
                assert_eq!(at(e, "/section/code"), Value::from(code));
                let secured = by_type(&generated, "office.secured").iter().any(|o| {
                    at(o, "/section/code") == code && o.body.occurred_at.as_str().starts_with(day)
                });
                assert!(!secured, "{code} was secured on {day}");
            }
            ViolationKind::TerminalsNotStored => {
                assert_eq!(at(e, "/terminals_stored"), Value::Bool(false));
            }
            ViolationKind::EntryWithoutPermission => {
                assert_eq!(at(e, "/category"), Value::from("staff"));
                let revoked = by_type(&generated, "managed_area.access.revoked")
                    .into_iter()
                    .find(|r| at(r, "/person/staff_id") == v.subject.as_str())
                    .expect("the permission was withdrawn");
                assert!(revoked.body.occurred_at.instant() < e.body.occurred_at.instant());
            }
            ViolationKind::LateCardInvalidation | ViolationKind::LateOperationPlan => {
                assert!(payload.contains('"'));
            }
        }
    }
}

#[test]
fn compliant_lifecycles_comply() {
    let generated = generate(&Config::default(), Catalogue::embedded());
    let planted: HashSet<_> = generated
        .violations
        .iter()
        .map(|v| v.event_id.clone())
        .collect();
    // Every USB take-out that is not planted is returned and erased.
    for out in by_type(&generated, "usb.taken_out") {
        if planted.contains(&out.body.event_id) {
            continue;
        }
        let entry = at(out, "/ledger_entry/application_id");
        for follow in ["usb.returned", "usb.erased"] {
            assert!(
                by_type(&generated, follow)
                    .iter()
                    .any(|e| at(e, "/ledger_entry/application_id") == entry),
                "{entry} has no {follow}"
            );
        }
    }
    // Every card loss is followed by its invalidation within three hours,
    // unless the invalidation is planted as late.
    for loss in by_type(&generated, "ic_card.loss.reported") {
        let card = at(loss, "/card_id");
        let invalidation = by_type(&generated, "ic_card.invalidated")
            .into_iter()
            .find(|i| at(i, "/card_id") == card)
            .expect("the card is invalidated");
        let hours = (invalidation.body.occurred_at.instant() - loss.body.occurred_at.instant())
            .whole_hours();
        assert!(
            hours < 3 || planted.contains(&invalidation.body.event_id),
            "{card} invalidated after {hours} h"
        );
    }
    // Sessions outside 08:30–17:15 carry a 様式10 approval unless planted.
    for session in by_type(&generated, "terminal.session.started") {
        let local = &session.body.occurred_at.as_str()[11..16];
        if !("08:30".."17:15").contains(&local) {
            assert!(planted.contains(&session.body.event_id), "{local}");
        }
    }
    for session in by_type(&generated, "terminal.session.ended") {
        let local = &session.body.occurred_at.as_str()[11..16];
        if local > "17:15" && local < "21:00" {
            let id = at(session, "/session_id");
            let started = by_type(&generated, "terminal.session.started")
                .into_iter()
                .find(|s| at(s, "/session_id") == id)
                .expect("a session starts before it ends");
            assert_ne!(at(started, "/extension"), Value::Null, "{id}");
        }
    }
}

#[test]
fn a_zero_rate_plants_nothing() {
    let generated = generate(
        &Config {
            violation_rate: 0.0,
            ..small(3)
        },
        Catalogue::embedded(),
    );
    assert!(generated.violations.is_empty());
}
