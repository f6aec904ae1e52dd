//! The rules against the catalogue, and every rule given/when/then: for each
//! rule of `rules/rules.json`, a scenario built from the rule's own data
//! that breaks it (a finding on the rule's ref) and a compliant twin (no
//! finding of that rule).

use std::collections::BTreeMap;

use daicho_catalogue::{Catalogue, Evaluation as ArticleClass};
use daicho_compliance::rules::{checks, units, Check, Rule, Selector, Unchecked, Validity};
use daicho_compliance::thresholds::CadenceUnit;
use daicho_compliance::{evaluate, Period, Rulebook, State, Status};
use daicho_core::entry::{Entry, Recorded};
use daicho_core::event::{Actor, EventId, EventType, HashedEvent, Label, UnsignedEvent};
use daicho_core::keys::NoteSigner;
use daicho_core::timestamp::{OccurredAt, RecordedAt};
use daicho_core::Digest;
use serde_json::{json, Map, Value};

/// One act of a scenario: type, Tokyo time, role, payload.
#[derive(Clone)]
struct Act {
    event_type: String,
    at: String,
    role: String,
    payload: Value,
}

fn act(event_type: &str, at: &str, role: &str, payload: Value) -> Act {
    Act {
        event_type: event_type.to_owned(),
        at: at.to_owned(),
        role: role.to_owned(),
        payload,
    }
}

/// Records the acts in order, as a ledger would (the state does not check
/// hashes or signatures: the verifier and the ledger do).
fn record(acts: &[Act]) -> Vec<Recorded> {
    let signer = NoteSigner::from_seed("src", [7; 32]).unwrap();
    acts.iter()
        .enumerate()
        .map(|(i, a)| {
            let Value::Object(payload) = a.payload.clone() else {
                panic!("payloads are objects")
            };
            let event = UnsignedEvent {
                event_id: EventId::from_bytes((i as u128 + 1).to_be_bytes()),
                event_type: EventType::parse(&a.event_type).unwrap(),
                schema_version: 1,
                occurred_at: OccurredAt::parse(&a.at).unwrap(),
                actor: Actor {
                    id: Label::parse("k-0001").unwrap(),
                    role: Label::parse(&a.role).unwrap(),
                },
                source: Label::parse("src").unwrap(),
                payload,
                key_id: signer.key_id(),
            }
            .sign(&signer);
            let hashed = HashedEvent::new(event);
            let recorded_at = RecordedAt::from_datetime(
                OccurredAt::parse(&a.at).unwrap().instant() + time::Duration::minutes(1),
            )
            .unwrap();
            Recorded::chain(i as u64, recorded_at, Digest::ZERO, hashed)
        })
        .map(|mut r| {
            // Entries of a scenario are not chained: only their order counts.
            r.entry = Entry { ..r.entry };
            r
        })
        .collect()
}

/// Sets `value` at an RFC 6901 pointer, creating objects on the way.
fn set(payload: &mut Value, pointer: &str, value: Value) {
    let mut at = payload;
    let tokens: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, t) in tokens.iter().enumerate() {
        // `*` is every item of an array: here, one item.
        if *t == "*" {
            if !at.is_array() {
                *at = json!([{}]);
            }
            at = &mut at[0];
            continue;
        }
        let map = at.as_object_mut().expect("objects on the way");
        if i + 1 == tokens.len() {
            map.insert((*t).to_owned(), value);
            return;
        }
        at = map
            .entry((*t).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn with(pointers: &[(&str, Value)]) -> Value {
    let mut p = json!({});
    for (ptr, v) in pointers {
        set(&mut p, ptr, v.clone());
    }
    p
}

const Q1: (i32, u8) = (2026, 1);

fn findings_of(rule: &Rule, acts: &[Act]) -> Vec<String> {
    let catalogue = Catalogue::embedded();
    let rulebook = Rulebook::embedded();
    let entries = record(acts);
    let state = State::fold(catalogue, &entries);
    let period = Period::fiscal_quarter(Q1.0, Q1.1).unwrap();
    let e = evaluate(catalogue, rulebook, &state, period, Some(Q1));
    e.findings
        .iter()
        .filter(|f| f.rule == rule.id)
        .map(|f| {
            assert_eq!(
                f.reference, rule.reference,
                "a finding cites its rule's ref"
            );
            format!("{}: {}", f.ref_ja, f.actual_ja)
        })
        .collect()
}

/// A role the rule does not empower (or any role, when none is named).
fn other_role(empowered: &[String]) -> String {
    ["visitor", "staff", "contractor"]
        .into_iter()
        .find(|r| !empowered.iter().any(|e| e == r))
        .unwrap()
        .to_owned()
}

fn first(types: &[String]) -> &str {
    &types[0]
}

fn sel_payload(s: &Selector, id: &str) -> Value {
    let mut p = with(&[(&s.subject, json!(id))]);
    if let Some(only) = &s.only {
        set(&mut p, &only.pointer, json!(only.any_of[0]));
    }
    p
}

/// The violating scenario and its compliant twin for one rule, built from
/// the rule's data alone.
fn scenarios(rule: &Rule) -> (Vec<Act>, Vec<Act>) {
    match &rule.check {
        Check::ActorRole { types, only, roles } => {
            let t = first(types);
            let mut p = json!({});
            if let Some(o) = only {
                set(&mut p, &o.pointer, json!(o.any_of[0]));
            }
            let mut compliant = vec![act(t, "2026-05-11T10:00:00+09:00", &roles[0], p.clone())];
            // An act the rule does not select may be done in any role.
            if let Some(o) = only {
                let other = with(&[(&o.pointer, json!("not-selected"))]);
                compliant.push(act(
                    t,
                    "2026-05-12T10:00:00+09:00",
                    &other_role(roles),
                    other,
                ));
            }
            (
                vec![act(t, "2026-05-11T10:00:00+09:00", &other_role(roles), p)],
                compliant,
            )
        }
        Check::RequiredContents {
            types,
            only,
            fields,
            ..
        } => {
            let t = first(types);
            // Values a field must contain gather in one array.
            let mut full: Vec<(&str, Value)> = Vec::new();
            for f in fields {
                match (&f.equals, &f.contains) {
                    (Some(v), _) => full.push((f.pointer.as_str(), v.clone())),
                    (None, Some(item)) => match full.iter_mut().find(|(p, _)| *p == f.pointer) {
                        Some((_, Value::Array(items))) => items.push(item.clone()),
                        _ => full.push((f.pointer.as_str(), json!([item]))),
                    },
                    (None, None) => full.push((f.pointer.as_str(), json!("recorded"))),
                }
            }
            let mut missing: Vec<(&str, Value)> = full[1..].to_vec();
            let mut compliant = Vec::new();
            // Only the acts the rule selects must contain the fields: one
            // it does not select lacks them all.
            if let Some(o) = only {
                missing.push((&o.pointer, json!(o.any_of[0])));
                full.push((&o.pointer, json!(o.any_of[0])));
                let other = with(&[(&o.pointer, json!("not-selected"))]);
                compliant.push(act(t, "2026-05-12T10:00:00+09:00", "staff", other));
            }
            compliant.push(act(t, "2026-05-11T10:00:00+09:00", "staff", with(&full)));
            (
                vec![act(t, "2026-05-11T10:00:00+09:00", "staff", with(&missing))],
                compliant,
            )
        }
        Check::PriorApproval {
            acts,
            act_application,
            act_subject,
            stem,
            request_subject,
            approver_roles,
            validity,
            only_outside_operating_hours,
        } => {
            let at = if *only_outside_operating_hours {
                "2026-05-11T20:00:00+09:00"
            } else {
                "2026-05-11T10:00:00+09:00"
            };
            let mut act_payload = json!({});
            if let Some(p) = act_application {
                set(&mut act_payload, p, json!("APP-1"));
            }
            if let Some(p) = act_subject {
                set(&mut act_payload, p, json!("SUBJ-1"));
            }
            let mut request = json!({"application_id": "APP-1"});
            if let Some(p) = request_subject {
                set(&mut request, p, json!("SUBJ-1"));
            }
            let mut grant = json!({"application_id": "APP-1"});
            match validity {
                Validity::Date { pointer } => set(&mut grant, pointer, json!("2027-03-31")),
                Validity::RequestedPeriod { pointer } => set(
                    &mut request,
                    pointer,
                    json!({"from": "2026-05-11T17:15:00+09:00", "until": "2026-05-11T22:00:00+09:00"}),
                ),
                Validity::Unlimited | Validity::FiscalYearEnd => {}
            }
            let the_act = || act(first(acts), at, "staff", act_payload.clone());
            let requested = act(
                &format!("{stem}.approval.requested"),
                "2026-05-01T09:00:00+09:00",
                "info_manager",
                request,
            );
            let granted = |role: &str| {
                act(
                    &format!("{stem}.approval.granted"),
                    "2026-05-02T09:00:00+09:00",
                    role,
                    grant.clone(),
                )
            };
            (
                vec![
                    act(
                        &format!("{stem}.approval.requested"),
                        "2026-05-01T09:00:00+09:00",
                        "info_manager",
                        json!({"application_id": "APP-1"}),
                    ),
                    granted(&other_role(approver_roles)),
                    the_act(),
                ],
                vec![requested, granted(&approver_roles[0]), the_act()],
            )
        }
        Check::Latency {
            trigger,
            trigger_time,
            response,
            ..
        } => {
            let mut t = sel_payload(trigger, "S-1");
            if let Some(p) = trigger_time {
                set(&mut t, p, json!("2026-05-11T10:00:00+09:00"));
            }
            let r = sel_payload(response, "S-1");
            let trig = || {
                act(
                    first(&trigger.types),
                    "2026-05-11T10:00:00+09:00",
                    "staff",
                    t.clone(),
                )
            };
            (
                vec![
                    trig(),
                    act(
                        first(&response.types),
                        "2026-06-20T10:00:00+09:00",
                        "staff",
                        r.clone(),
                    ),
                ],
                vec![
                    trig(),
                    act(
                        first(&response.types),
                        "2026-05-11T10:30:00+09:00",
                        "staff",
                        r,
                    ),
                ],
            )
        }
        Check::Deadline {
            types,
            month,
            day_of_month,
        } => {
            let p = with(&[(month, json!("2026-06"))]);
            let late = if day_of_month.is_some() {
                "2026-05-25T10:00:00+09:00"
            } else {
                "2026-06-02T10:00:00+09:00"
            };
            (
                vec![act(first(types), late, "staff", p.clone())],
                vec![act(first(types), "2026-05-15T10:00:00+09:00", "staff", p)],
            )
        }
        Check::Presence {
            types,
            cadence,
            per,
            record_subject,
            ..
        } => {
            // The first act of the ledger opens the windows: a year before
            // the quarter, so that every cadence has windows that ended.
            let opener = ["standard.revised", "asset.registered"]
                .into_iter()
                .find(|t| !types.iter().any(|x| x == t))
                .unwrap();
            let opening = act(opener, "2025-04-01T09:00:00+09:00", "cio", json!({}));
            let known: Vec<Act> = per
                .iter()
                .map(|s| {
                    act(
                        first(&s.types),
                        "2025-04-01T10:00:00+09:00",
                        "staff",
                        sel_payload(s, "S-1"),
                    )
                })
                .collect();
            let mut compliant = vec![act(
                "standard.revised",
                "2025-04-01T09:00:00+09:00",
                "cio",
                json!({}),
            )];
            compliant.extend(per.iter().map(|s| {
                act(
                    first(&s.types),
                    "2025-04-01T10:00:00+09:00",
                    "staff",
                    sel_payload(s, "S-1"),
                )
            }));
            // A record in every month from April 2025 to June 2026, or on
            // every day of it for a cadence of business days.
            let daily =
                Rulebook::embedded().thresholds().cadences[cadence].per == CadenceUnit::BusinessDay;
            let mut day = time::macros::date!(2025 - 04 - 01);
            while day <= time::macros::date!(2026 - 06 - 30) {
                if daily || day.day() == 15 {
                    let mut p = json!({});
                    if let Some(rs) = record_subject {
                        set(&mut p, rs, json!("S-1"));
                    }
                    compliant.push(act(
                        first(types),
                        &format!("{day}T18:00:00+09:00"),
                        "staff",
                        p,
                    ));
                }
                day = day.next_day().unwrap();
            }
            let mut violating = vec![opening];
            violating.extend(known);
            (violating, compliant)
        }
        Check::Independence {
            checker,
            checker_units,
            checked,
            checked_units,
        } => {
            let order = |code: &str| {
                let mut p = sel_payload(checked, "A-1");
                set(&mut p, &checked_units[0], json!([{"code": code}]));
                act(
                    first(&checked.types),
                    "2026-05-01T10:00:00+09:00",
                    "chief_info_manager",
                    p,
                )
            };
            let mut assignment = sel_payload(checker, "A-1");
            set(
                &mut assignment,
                &format!("{}/code", checker_units[0]),
                json!("D-1"),
            );
            let assign = || {
                act(
                    first(&checker.types),
                    "2026-05-02T10:00:00+09:00",
                    "chief_info_manager",
                    assignment.clone(),
                )
            };
            (vec![order("D-1"), assign()], vec![order("D-2"), assign()])
        }
        Check::OpenItemAgeing { open, close, .. } => {
            // Opened in the previous quarter: overdue in this one.
            let o = || {
                act(
                    first(&open.types),
                    "2026-01-06T10:00:00+09:00",
                    "staff",
                    sel_payload(open, "I-1"),
                )
            };
            (
                vec![o()],
                vec![
                    o(),
                    act(
                        first(&close.types),
                        "2026-01-20T10:00:00+09:00",
                        "staff",
                        sel_payload(close, "I-1"),
                    ),
                ],
            )
        }
        Check::ForbiddenAfter { ending, acts } => {
            let end = |at: &str| {
                act(
                    first(&ending.types),
                    at,
                    "staff",
                    sel_payload(ending, "X-1"),
                )
            };
            let a = || {
                act(
                    first(&acts.types),
                    "2026-05-11T10:00:00+09:00",
                    "staff",
                    sel_payload(acts, "X-1"),
                )
            };
            (
                vec![end("2026-05-10T10:00:00+09:00"), a()],
                vec![a(), end("2026-05-12T10:00:00+09:00")],
            )
        }
        Check::PriorAct {
            first: before,
            then,
        } => {
            let b = |at: &str| {
                act(
                    first(&before.types),
                    at,
                    "staff",
                    sel_payload(before, "S-1"),
                )
            };
            let t = || {
                act(
                    first(&then.types),
                    "2026-05-11T10:00:00+09:00",
                    "staff",
                    sel_payload(then, "S-1"),
                )
            };
            // The act that must come first, a day late; then a day early.
            (
                vec![t(), b("2026-05-12T10:00:00+09:00")],
                vec![b("2026-05-10T10:00:00+09:00"), t()],
            )
        }
        Check::ReleasedAtEnding {
            ending,
            held,
            items,
            released,
            ..
        } => {
            let item = with(&[(items[0].as_str(), json!("PC-1"))]);
            let mut hold = sel_payload(held, "K-1");
            set(&mut hold, &items[0], json!("PC-1"));
            let acts = |release_at: &str| {
                vec![
                    act(
                        first(&held.types),
                        "2026-04-10T10:00:00+09:00",
                        "staff",
                        hold.clone(),
                    ),
                    act(
                        first(&ending.types),
                        "2026-05-11T10:00:00+09:00",
                        "staff",
                        sel_payload(ending, "K-1"),
                    ),
                    act(first(released), release_at, "staff", item.clone()),
                ]
            };
            // Returned a month after leaving; then the day after.
            (
                acts("2026-06-15T10:00:00+09:00"),
                acts("2026-05-12T10:00:00+09:00"),
            )
        }
        Check::ConsentBeforeGrant { stem, when_differ } => {
            let step = |t: &str, at: &str, payload: Value| {
                act(&format!("{stem}.{t}"), at, "network_admin", payload)
            };
            // A request that names two different units.
            let request = || {
                let mut r = json!({"application_id": "APP-1"});
                set(&mut r, &when_differ[0], json!("0120"));
                set(&mut r, &when_differ[1], json!("0210"));
                step("approval.requested", "2026-05-11T10:00:00+09:00", r)
            };
            let app = json!({"application_id": "APP-1"});
            let granted = || step("approval.granted", "2026-05-12T10:00:00+09:00", app.clone());
            let consent = step("consent.given", "2026-05-11T15:00:00+09:00", app.clone());
            (
                vec![request(), granted()],
                vec![request(), consent, granted()],
            )
        }
        Check::StandingPermission {
            acts,
            granted,
            revoked,
            within,
            ..
        } => {
            let scoped = |sel: &Selector| {
                let mut p = sel_payload(sel, "K-1");
                if let Some(w) = within {
                    set(&mut p, w, json!("AREA-1"));
                }
                p
            };
            let grant = act(
                first(&granted.types),
                "2026-05-01T10:00:00+09:00",
                "network_admin",
                scoped(granted),
            );
            let the_act = || {
                act(
                    first(&acts.types),
                    "2026-05-11T10:00:00+09:00",
                    "staff",
                    scoped(acts),
                )
            };
            // Permitted, then withdrawn before the act; then permitted.
            (
                vec![
                    grant.clone(),
                    act(
                        first(&revoked.types),
                        "2026-05-08T10:00:00+09:00",
                        "network_admin",
                        scoped(revoked),
                    ),
                    the_act(),
                ],
                vec![grant, the_act()],
            )
        }
        Check::Lifecycle {
            subject,
            transitions,
        } => {
            let p = with(&[(subject, json!("L-1"))]);
            // A path through the machine from "none", then a transition
            // repeated from a state it may not follow.
            let mut path = Vec::new();
            let mut state = "none".to_owned();
            for _ in 0..transitions.len() {
                let Some(t) = transitions.iter().find(|t| t.from.contains(&state)) else {
                    break;
                };
                path.push(t.clone());
                state = t.to.clone();
                if path.len() > 1 {
                    break;
                }
            }
            let acts = |path: &[daicho_compliance::rules::Transition]| -> Vec<Act> {
                path.iter()
                    .enumerate()
                    .map(|(i, t)| {
                        act(
                            &t.event_type,
                            &format!("2026-05-{:02}T10:00:00+09:00", 10 + i),
                            "staff",
                            p.clone(),
                        )
                    })
                    .collect()
            };
            let compliant = acts(&path);
            let misfit = transitions
                .iter()
                .find(|t| !t.from.contains(&state))
                .expect("a lifecycle has a transition that cannot follow some state")
                .clone();
            let mut violating_path = path.clone();
            violating_path.push(misfit);
            (acts(&violating_path), compliant)
        }
    }
}

#[test]
fn every_rule_finds_its_violation_and_passes_its_compliant_twin() {
    let rulebook = Rulebook::embedded();
    let mut failures = Vec::new();
    for rule in rulebook.rules() {
        let (violating, compliant) = scenarios(rule);
        let found = findings_of(rule, &violating);
        if found.is_empty() {
            failures.push(format!(
                "{} ({}): the violation was not found",
                rule.id,
                rule.check.kind()
            ));
        }
        let clean = findings_of(rule, &compliant);
        if !clean.is_empty() {
            failures.push(format!(
                "{} ({}): the compliant twin was flagged: {clean:?}",
                rule.id,
                rule.check.kind()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rule(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_rules_cover_the_catalogue() {
    let catalogue = Catalogue::embedded();
    let rulebook = Rulebook::embedded();
    for a in catalogue.articles() {
        let rules: Vec<&Rule> = rulebook.for_article(a.number).collect();
        match a.evaluation {
            ArticleClass::Evaluated => assert!(
                !rules.is_empty(),
                "evaluated article {} has no rule",
                a.number
            ),
            ArticleClass::Evidenced => assert!(
                rules.iter().any(|r| r.check.is_presence()),
                "evidenced article {} has no presence check",
                a.number
            ),
            ArticleClass::Declarative => assert!(
                rules.is_empty(),
                "declarative article {} has rules",
                a.number
            ),
        }
    }
    // Every paragraph or item of an evaluated article is checked by a rule
    // or listed with the reason it is not.
    let unchecked: BTreeMap<&str, &Unchecked> = rulebook
        .unchecked()
        .iter()
        .map(|u| (u.reference.as_str(), u))
        .collect();
    let (mut ruled, mut listed) = (0, 0);
    for a in catalogue.articles() {
        if a.evaluation != ArticleClass::Evaluated {
            continue;
        }
        for unit in units(a) {
            let by_rule = rulebook.rules().iter().any(|r| checks(&r.reference, unit));
            assert!(
                by_rule != unchecked.contains_key(unit),
                "{unit}: checked by a rule {by_rule}, listed as unchecked {}",
                unchecked.contains_key(unit)
            );
            if by_rule {
                ruled += 1;
            } else {
                listed += 1;
            }
        }
    }
    assert_eq!(listed, unchecked.len());
    assert!(
        ruled > listed,
        "{ruled} units checked by rules, {listed} listed"
    );
}

fn rules_files(edit: impl FnOnce(&mut Value)) -> BTreeMap<String, Vec<u8>> {
    let mut files = Catalogue::embedded_files();
    let mut rules: Value = serde_json::from_slice(&files["rules/rules.json"]).unwrap();
    edit(&mut rules);
    files.insert(
        "rules/rules.json".into(),
        serde_json::to_vec(&rules).unwrap(),
    );
    files
}

#[test]
fn the_loader_refuses_rules_that_do_not_fit_the_catalogue() {
    let catalogue = Catalogue::embedded();
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "a ref that does not exist",
            Box::new(|r| r["rules"][0]["ref"] = json!("37-9")),
            "/rules/0/ref",
        ),
        (
            "a declarative article",
            Box::new(|r| r["rules"][0]["ref"] = json!("1")),
            "/rules/0/ref",
        ),
        (
            "a repeated id",
            Box::new(|r| {
                let id = r["rules"][0]["id"].clone();
                r["rules"][1]["id"] = id;
            }),
            "/rules/1/id",
        ),
        (
            "an unknown event type",
            Box::new(|r| {
                r["rules"][0]["check"] =
                    json!({"kind": "actor_role", "types": ["usb.flown"], "roles": ["staff"]})
            }),
            "/rules/0/check",
        ),
        (
            "an unknown role",
            Box::new(|r| {
                r["rules"][0]["check"] =
                    json!({"kind": "actor_role", "types": ["usb.lost"], "roles": ["mayor"]})
            }),
            "/rules/0/check/roles",
        ),
        (
            "an unknown threshold",
            Box::new(
                |r| r["rules"][0]["check"] = json!({"kind": "latency", "trigger": {"types": ["usb.lost"], "subject": "/device/asset_id"}, "response": {"types": ["usb.loss.reported"], "subject": "/device/asset_id"}, "threshold": "soonish"}),
            ),
            "/rules/0/check/threshold",
        ),
        (
            "a pointer that is not one",
            Box::new(
                |r| r["rules"][0]["check"] = json!({"kind": "required_contents", "types": ["usb.lost"], "fields": [{"pointer": "device", "label_ja": "x", "label_en": "x"}]}),
            ),
            "/rules/0/check",
        ),
        (
            "an unknown member",
            Box::new(|r| r["rules"][0]["colour"] = json!("red")),
            "/rules/0/colour",
        ),
        (
            "an unknown kind",
            Box::new(|r| r["rules"][0]["check"] = json!({"kind": "vibes"})),
            "/rules/0/check/kind",
        ),
        (
            "an unchecked unit that a rule checks",
            Box::new(|r| r["unchecked"][0]["ref"] = json!("37-1")),
            "/unchecked/0/ref",
        ),
        (
            "a unit of an article that is not evaluated",
            Box::new(|r| r["unchecked"][0]["ref"] = json!("1")),
            "/unchecked/0/ref",
        ),
        (
            "covered by nothing named",
            Box::new(|r| r["unchecked"][0] = json!({"ref": "5-1-1", "reason": "covered_by"})),
            "/unchecked/0/by",
        ),
        (
            "covered by a ref without a rule",
            Box::new(|r| {
                r["unchecked"][0] = json!({"ref": "5-1-1", "reason": "covered_by", "by": ["5-1-2"]})
            }),
            "/unchecked/0/by/0",
        ),
        (
            "not yet checked, without saying what is missing",
            Box::new(|r| r["unchecked"][0] = json!({"ref": "5-1-1", "reason": "not_yet"})),
            "/unchecked/0/note_ja",
        ),
        (
            "a unit neither checked nor listed",
            Box::new(|r| {
                r["unchecked"].as_array_mut().unwrap().remove(0);
            }),
            "/unchecked",
        ),
        (
            "an unknown reason",
            Box::new(|r| r["unchecked"][0]["reason"] = json!("vibes")),
            "/unchecked/0/reason",
        ),
        (
            "the day of an ending without the ending",
            Box::new(
                |r| r["rules"][0]["check"] = json!({"kind": "presence", "types": ["office.secured"], "cadence": "end_of_work", "ended_on": "/abolished_on"}),
            ),
            "/rules/0/check/ended_on",
        ),
        (
            "an ending of subjects that are not named",
            Box::new(
                |r| r["rules"][0]["check"] = json!({"kind": "presence", "types": ["office.secured"], "cadence": "end_of_work", "ended": {"types": ["section.abolished"], "subject": "/section/code"}}),
            ),
            "/rules/0/check/ended",
        ),
    ];
    for (what, edit, pointer) in cases {
        let err = Rulebook::from_files(&rules_files(edit), catalogue).expect_err(what);
        assert!(
            err.0
                .iter()
                .any(|p| p.file == "rules/rules.json" && p.pointer == pointer),
            "{what}: expected a problem at {pointer}, got {err}"
        );
    }
    let mut files = Catalogue::embedded_files();
    files.remove("rules/calendar.json");
    let err = Rulebook::from_files(&files, catalogue).unwrap_err();
    assert_eq!(err.0[0].file, "rules/calendar.json");
}

#[test]
fn an_approved_exception_covers_a_finding_and_statuses_follow() {
    let catalogue = Catalogue::embedded();
    let rulebook = Rulebook::embedded();
    let period = Period::fiscal_quarter(2026, 1).unwrap();
    let base = vec![act(
        "terminal.session.started",
        "2026-05-11T21:00:00+09:00",
        "staff",
        json!({"session_id": "S-1", "device": {"asset_id": "PC-1", "kind": "pc"}, "user": {"staff_id": "K-1"}}),
    )];
    let eval = |acts: &[Act]| {
        let entries = record(acts);
        evaluate(
            catalogue,
            rulebook,
            &State::fold(catalogue, &entries),
            period,
            Some((2026, 1)),
        )
    };
    let e = eval(&base);
    let a24 = &e.articles[23];
    assert_eq!((a24.number, a24.status), (24, Status::NonCompliant));
    assert_eq!(a24.refs_with_findings, ["24-6"]);
    // An article with nothing in the period is not "compliant".
    assert_eq!(e.articles[16].status, Status::NoRecords);
    assert_eq!(e.articles[0].status, Status::Declarative);
    assert_eq!(e.period.label_ja, "令和8年度 第1四半期");

    let mut covered = vec![
        act(
            "exception.requested",
            "2026-05-01T09:00:00+09:00",
            "network_admin",
            json!({"exception_id": "EXC-1", "refs": ["24"], "period": {"from": "2026-05-01", "until": "2026-05-31"}}),
        ),
        act(
            "exception.granted",
            "2026-05-02T09:00:00+09:00",
            "cio",
            json!({"exception_id": "EXC-1"}),
        ),
    ];
    covered.extend(record_acts_again(&base));
    let e = eval(&covered);
    assert_eq!(e.articles[23].status, Status::CompliantByException);
    let f = e.findings.iter().find(|f| f.article == 24).unwrap();
    assert_eq!(f.exception.as_deref(), Some("EXC-1"));
}

fn record_acts_again(acts: &[Act]) -> Vec<Act> {
    acts.iter()
        .map(|a| act(&a.event_type, &a.at, &a.role, a.payload.clone()))
        .collect()
}

#[test]
fn open_findings_carry_over_until_resolved() {
    let catalogue = Catalogue::embedded();
    let rulebook = Rulebook::embedded();
    let acts = vec![
        act(
            "ic_card.loss.reported",
            "2026-06-29T10:00:00+09:00",
            "staff",
            json!({"card_id": "IC-1"}),
        ),
        act(
            "ic_card.invalidated",
            "2026-08-03T10:00:00+09:00",
            "network_admin",
            json!({"card_id": "IC-1"}),
        ),
    ];
    let entries = record(&acts);
    // As of the first entry only, the finding is open in Q1 and carried
    // into Q2; once the invalidation is recorded, Q2 shows it resolved.
    let first = State::fold(catalogue, &entries[..1]);
    let q = |s: &State, n| {
        evaluate(
            catalogue,
            rulebook,
            s,
            Period::fiscal_quarter(2026, n).unwrap(),
            Some((2026, n)),
        )
    };
    let f = |e: &daicho_compliance::Evaluation| {
        e.findings
            .iter()
            .find(|f| f.rule == "17-2.card-invalidated-immediately")
            .cloned()
    };
    let q1 = f(&q(&first, 1)).expect("open in Q1");
    assert_eq!(q1.state, daicho_compliance::FindingState::Open);
    assert!(!q1.carried_over);
    let q2 = f(&q(&first, 2)).expect("carried into Q2");
    assert!(q2.carried_over);
    assert_eq!(q2.id, q1.id, "a finding keeps its id across periods");
    let all = State::fold(catalogue, &entries);
    let q2 = f(&q(&all, 2)).expect("listed where it was resolved");
    assert_eq!(q2.state, daicho_compliance::FindingState::Resolved);
    assert_eq!(q2.resolved_by, Some(1));
    assert!(
        f(&q(&all, 3)).is_none(),
        "resolved findings do not carry on"
    );
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let catalogue = Catalogue::embedded();
    let rulebook = Rulebook::embedded();
    let acts = vec![act(
        "usb.taken_out",
        "2026-05-11T10:00:00+09:00",
        "staff",
        json!({"device": {"asset_id": "USB-1"}}),
    )];
    let entries = record(&acts);
    let period = Period::fiscal_quarter(2026, 1).unwrap();
    let a = evaluate(
        catalogue,
        rulebook,
        &State::fold(catalogue, &entries),
        period,
        Some((2026, 1)),
    );
    let b = evaluate(
        catalogue,
        rulebook,
        &State::fold(catalogue, &entries),
        period,
        Some((2026, 1)),
    );
    assert_eq!(a.canonical_bytes(), b.canonical_bytes());
    assert_eq!(a.articles.len(), 87);
    assert_eq!(a.tree_size, 1);
}

#[test]
fn a_selector_filter_limits_a_rule_to_the_events_it_names() {
    let rule = Rulebook::embedded()
        .rules()
        .iter()
        .find(|r| r.id == "15-2.consent-on-hiring")
        .unwrap();
    let hire = |employment: &str| {
        act(
            "staff.hired",
            "2026-05-11T10:00:00+09:00",
            "info_manager",
            json!({"staff": {"staff_id": "K-9"}, "employment": employment}),
        )
    };
    assert_eq!(findings_of(rule, &[hire("temporary")]).len(), 1);
    assert!(
        findings_of(rule, &[hire("regular")]).is_empty(),
        "regular staff sign no 第15条 consent"
    );
}

/// 第83条第2項 names two recipients in order. A forwarding to the
/// committee with none to the CIO before it is a finding for each
/// inspection it covers that the CIO has not seen, and only for those.
#[test]
fn the_committee_hears_only_what_the_cio_heard_first() {
    let rule = Rulebook::embedded()
        .rules()
        .iter()
        .find(|r| r.id == "83-2.cio-before-committee")
        .expect("the rule of 第83条第2項");
    let forwarded = |at: &str, recipient: &str, ids: &[&str]| {
        act(
            "self_inspection.forwarded",
            at,
            "chief_info_manager",
            json!({"inspection_ids": ids, "recipient": recipient}),
        )
    };
    let findings = findings_of(
        rule,
        &[
            forwarded("2026-05-10T10:00:00+09:00", "cio", &["SI-1"]),
            forwarded("2026-05-20T10:00:00+09:00", "committee", &["SI-1", "SI-2"]),
        ],
    );
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].contains("SI-2") && findings[0].contains("記録がない"),
        "{findings:?}"
    );
    let none = findings_of(
        rule,
        &[
            forwarded("2026-05-10T10:00:00+09:00", "cio", &["SI-1", "SI-2"]),
            forwarded("2026-05-20T10:00:00+09:00", "committee", &["SI-2", "SI-1"]),
        ],
    );
    assert!(none.is_empty(), "{none:?}");
}

/// 第14条第8号: what a member of staff holds when they leave comes back
/// promptly. Only the assets still held at the ending count; an asset
/// passed on to someone else counts as returned; a member of staff
/// transferred twice is checked at each transfer; nothing is due before
/// the latency has run out.
#[test]
fn assets_held_when_staff_leave_come_back() {
    let rule = Rulebook::embedded()
        .rules()
        .iter()
        .find(|r| r.id == "14-1-8.assets-returned-on-leaving")
        .expect("the rule of 第14条第8号");
    let assigned = |at: &str, id: &str, holder: &str| {
        act(
            "asset.assigned",
            at,
            "info_manager",
            json!({"device": {"asset_id": id, "kind": "pc"}, "holder": {"staff_id": holder}}),
        )
    };
    let returned = |at: &str, id: &str, by: &str| {
        act(
            "asset.returned",
            at,
            "info_manager",
            json!({"asset": {"asset_id": id}, "returned_by": {"staff_id": by}, "reason": "departure"}),
        )
    };
    let departed = |at: &str, who: &str| {
        act(
            "staff.departed",
            at,
            "personnel",
            json!({"staff": {"staff_id": who}, "reason": "retirement"}),
        )
    };
    let transferred = |at: &str, who: &str| {
        act(
            "staff.transferred",
            at,
            "personnel",
            json!({"staff": {"staff_id": who}, "from_section": {"code": "0120"}, "to_section": {"code": "0130"}, "effective_date": &at[..10]}),
        )
    };
    let findings = findings_of(
        rule,
        &[
            assigned("2026-04-01T09:00:00+09:00", "PC-1", "K-1"),
            assigned("2026-04-01T09:00:00+09:00", "PC-2", "K-1"),
            assigned("2026-04-01T09:00:00+09:00", "PC-3", "K-1"),
            assigned("2026-04-01T09:00:00+09:00", "USB-9", "K-1"),
            // Returned before leaving: nothing to return after.
            returned("2026-04-20T09:00:00+09:00", "USB-9", "K-1"),
            departed("2026-05-01T17:00:00+09:00", "K-1"),
            // PC-1 in time, PC-2 handed on the day after, PC-3 late.
            returned("2026-05-02T09:00:00+09:00", "PC-1", "K-1"),
            assigned("2026-05-02T09:00:00+09:00", "PC-2", "K-2"),
            returned("2026-06-01T09:00:00+09:00", "PC-3", "K-1"),
            // K-2: transferred twice, holding PC-2 at the second.
            transferred("2026-04-15T09:00:00+09:00", "K-2"),
            transferred("2026-06-10T09:00:00+09:00", "K-2"),
            // Left on the quarter's last day: not yet due.
            assigned("2026-04-01T09:00:00+09:00", "PC-4", "K-3"),
            departed("2026-06-30T17:00:00+09:00", "K-3"),
        ],
    );
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(
        findings
            .iter()
            .any(|f| f.contains("PC-3") && f.contains("期限を過ぎていた")),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(|f| f.contains("PC-2")
            && f.contains("K-2")
            && f.contains("6月10日")
            && f.contains("記録がない")),
        "{findings:?}"
    );
}

/// The assets projection follows who holds an asset: assigned, back from a
/// carry-out (still held), returned on departure (held by nobody).
#[test]
fn the_assets_projection_follows_the_holder() {
    let acts = [
        act(
            "asset.assigned",
            "2026-04-01T09:00:00+09:00",
            "info_manager",
            json!({"device": {"asset_id": "PC-1", "kind": "pc"}, "holder": {"staff_id": "K-1"}}),
        ),
        act(
            "asset.returned",
            "2026-04-10T09:00:00+09:00",
            "info_manager",
            json!({"asset": {"asset_id": "PC-1"}, "returned_by": {"staff_id": "K-1"}, "reason": "end_of_takeout"}),
        ),
    ];
    let catalogue = Catalogue::embedded();
    let held = State::fold(catalogue, &record(&acts));
    assert_eq!(held.assets()["PC-1"].holder.as_deref(), Some("K-1"));
    let mut acts = acts;
    acts[1].payload["reason"] = json!("departure");
    let returned = State::fold(catalogue, &record(&acts));
    assert_eq!(returned.assets()["PC-1"].holder, None);
}

/// The rules for a development must cover every item of 第55条第1項: a
/// record that lists eleven of the twelve is a finding naming the twelfth.
#[test]
fn development_rules_must_cover_every_item() {
    let rule = Rulebook::embedded()
        .rules()
        .iter()
        .find(|r| r.id == "55-1.development-rules-cover-every-item")
        .expect("the rule of 第55条第1項");
    let defined = |project: &str, items: Value| {
        act(
            "development.rules.defined",
            "2026-05-11T10:00:00+09:00",
            "system_admin",
            json!({"project_id": project, "system": {"system_id": "s"}, "items_covered": items}),
        )
    };
    let all: Vec<u32> = (1..=12).collect();
    let eleven: Vec<u32> = (1..=11).collect();
    assert!(findings_of(rule, &[defined("DEV-1", json!(all))]).is_empty());
    let findings = findings_of(rule, &[defined("DEV-2", json!(eleven))]);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].contains("第12号") && !findings[0].contains("第11号"),
        "{findings:?}"
    );
    // Not an array: nothing is covered.
    let findings = findings_of(rule, &[defined("DEV-3", json!("all"))]);
    assert!(findings[0].contains("第1号") && findings[0].contains("第12号"));
}

/// Guidance given to several new members of staff at once answers each of
/// them (第15条第1項): the rule reads every item of `/recipients`.
#[test]
fn guidance_answers_every_recipient() {
    let rule = Rulebook::embedded()
        .rules()
        .iter()
        .find(|r| r.id == "15-1.guidance-on-hiring")
        .expect("the rule of 第15条第1項");
    let hired = |who: &str, employment: &str| {
        act(
            "staff.hired",
            "2026-04-01T09:00:00+09:00",
            "info_manager",
            json!({"staff": {"staff_id": who}, "employment": employment}),
        )
    };
    let guidance = act(
        "staff.guidance.given",
        "2026-04-01T10:00:00+09:00",
        "info_manager",
        json!({"recipients": [{"staff_id": "K-1"}, {"staff_id": "K-2"}], "date": "2026-04-01"}),
    );
    let findings = findings_of(
        rule,
        &[
            hired("K-1", "temporary"),
            hired("K-2", "part_time"),
            hired("K-3", "temporary"),
            hired("K-4", "regular"),
            guidance,
        ],
    );
    // K-3's, alone: K-1 and K-2 are answered, K-4 is regular staff.
    assert_eq!(findings.len(), 1, "{findings:?}");
}

fn rule(id: &str) -> &'static Rule {
    Rulebook::embedded()
        .rules()
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("rule {id}"))
}

#[test]
fn entering_a_managed_area_needs_a_permission_held_at_the_time() {
    let rule = rule("26-1.entry-by-permitted-staff");
    let area = "本庁舎 電子計算機室";
    let move_ = |t: &str, at: &str, who: &str, area: &str, until: Option<&str>| {
        let mut p = json!({"area": area, "person": {"name": "n", "staff_id": who}});
        if let Some(u) = until {
            p["valid_until"] = json!(u);
        }
        act(t, at, "network_admin", p)
    };
    let granted = |at: &str, who: &str, area: &str, until: Option<&str>| {
        move_("managed_area.access.authorised", at, who, area, until)
    };
    let revoked = |at: &str, who: &str| move_("managed_area.access.revoked", at, who, area, None);
    let entered = |at: &str, who: Option<&str>, category: &str| {
        let mut person = json!({"name": "n"});
        if let Some(w) = who {
            person["staff_id"] = json!(w);
        }
        act(
            "managed_area.entered",
            at,
            "staff",
            json!({"visit_id": format!("V-{at}"), "area": area, "person": person, "category": category}),
        )
    };
    let cases: Vec<(&str, Vec<Act>, usize)> = vec![
        (
            "permitted, and entering",
            vec![
                granted("2026-04-01T09:00:00+09:00", "K-1", area, Some("2027-03-31")),
                entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff"),
            ],
            0,
        ),
        (
            "never permitted",
            vec![entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff")],
            1,
        ),
        (
            "permitted for another area",
            vec![
                granted("2026-04-01T09:00:00+09:00", "K-1", "別館 倉庫", None),
                entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff"),
            ],
            1,
        ),
        (
            "permitted after entering",
            vec![
                entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff"),
                granted("2026-05-12T09:00:00+09:00", "K-1", area, None),
            ],
            1,
        ),
        (
            "the permission ran out",
            vec![
                granted("2026-04-01T09:00:00+09:00", "K-1", area, Some("2026-04-30")),
                entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff"),
            ],
            1,
        ),
        (
            "withdrawn, then permitted again",
            vec![
                granted("2026-04-01T09:00:00+09:00", "K-1", area, None),
                revoked("2026-04-20T09:00:00+09:00", "K-1"),
                entered("2026-04-21T10:00:00+09:00", Some("K-1"), "staff"),
                granted("2026-05-01T09:00:00+09:00", "K-1", area, None),
                entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff"),
            ],
            1,
        ),
        (
            "permitted at the moment of entering, recorded first",
            vec![
                granted("2026-05-11T10:00:00+09:00", "K-1", area, None),
                entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff"),
            ],
            0,
        ),
        (
            "permitted at the moment of entering, recorded after it",
            vec![
                entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff"),
                granted("2026-05-11T10:00:00+09:00", "K-1", area, None),
            ],
            1,
        ),
        (
            "withdrawn at the moment of entering, recorded first",
            vec![
                granted("2026-04-01T09:00:00+09:00", "K-1", area, None),
                revoked("2026-05-11T10:00:00+09:00", "K-1"),
                entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff"),
            ],
            1,
        ),
        (
            "another person's withdrawal",
            vec![
                granted("2026-04-01T09:00:00+09:00", "K-1", area, None),
                revoked("2026-04-20T09:00:00+09:00", "K-2"),
                entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff"),
            ],
            0,
        ),
        (
            "on the permission's last day",
            vec![
                granted("2026-04-01T09:00:00+09:00", "K-1", area, Some("2026-05-11")),
                entered("2026-05-11T16:00:00+09:00", Some("K-1"), "staff"),
            ],
            0,
        ),
        (
            "a contractor, not one of the staff the permissions name",
            vec![entered("2026-05-11T10:00:00+09:00", None, "contractor")],
            0,
        ),
        (
            "staff without a staff number",
            vec![entered("2026-05-11T10:00:00+09:00", None, "staff")],
            1,
        ),
    ];
    for (what, acts, expected) in cases {
        let found = findings_of(rule, &acts);
        assert_eq!(found.len(), expected, "{what}: {found:?}");
    }
    // An entry that names no area cannot be checked against a permission
    // for one.
    let mut nowhere = entered("2026-05-11T10:00:00+09:00", Some("K-1"), "staff");
    nowhere.payload.as_object_mut().unwrap().remove("area");
    let found = findings_of(
        rule,
        &[
            granted("2026-04-01T09:00:00+09:00", "K-1", area, None),
            nowhere,
        ],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("/area"), "{found:?}");
}

#[test]
fn offices_are_secured_on_every_business_day_while_the_section_exists() {
    let rule = rule("24-1.offices-secured-every-business-day");
    let section = json!({"section": {"code": "0120", "name": "市民課"}});
    let mut acts = vec![act(
        "section.established",
        "2026-04-01T08:00:00+09:00",
        "info_officer",
        json!({"section": {"code": "0120", "name": "市民課"}, "department": {"code": "01", "name": "市民部"}}),
    )];
    let calendar = Rulebook::embedded().calendar();
    let mut day = time::macros::date!(2026 - 04 - 01);
    // Every business day of April but the 30th; weekends and 昭和の日
    // (4/29) have none and need none.
    while day < time::macros::date!(2026 - 05 - 01) {
        if calendar.is_business_day(day) && day.day() != 30 {
            let mut p = section.clone();
            p["room"] = json!("本庁舎2階 市民課");
            acts.push(act(
                "office.secured",
                &format!("{day}T17:40:00+09:00"),
                "info_manager",
                p,
            ));
        }
        day = day.next_day().unwrap();
    }
    // Abolished on May 1st: nothing is due after it.
    let mut abolished = section.clone();
    abolished["abolished_on"] = json!("2026-05-01");
    acts.push(act(
        "section.abolished",
        "2026-05-01T09:00:00+09:00",
        "info_officer",
        abolished,
    ));
    let found = findings_of(rule, &acts);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("2026年4月30日"), "{found:?}");
    // Recorded on May 1st, abolished from June 1st: May is due too.
    acts.last_mut().unwrap().payload["abolished_on"] = json!("2026-06-01");
    let found = findings_of(rule, &acts);
    let may = found.iter().filter(|f| f.contains("2026年5月")).count();
    assert_eq!(found.len(), 1 + may, "{found:?}");
    assert!(may >= 15, "{may}");
    assert!(!found.iter().any(|f| f.contains("2026年6月")), "{found:?}");
    // Without the abolition every business day of May and June is due.
    acts.pop();
    let found = findings_of(rule, &acts);
    assert!(found.len() > 30, "{}", found.len());
}

#[test]
fn a_record_missing_contents_is_reported_about_its_subject() {
    let catalogue = Catalogue::embedded();
    let rule = rule("24-2.terminals-stored");
    let entries = record(&[act(
        "office.secured",
        "2026-05-26T18:00:00+09:00",
        "info_manager",
        json!({"section": {"code": "0120", "name": "市民課"}, "room": "本庁舎2階 市民課", "terminals_stored": false}),
    )]);
    let state = State::fold(catalogue, &entries);
    let period = Period::fiscal_quarter(2026, 1).unwrap();
    let e = evaluate(
        catalogue,
        Rulebook::embedded(),
        &state,
        period,
        Some((2026, 1)),
    );
    let found: Vec<_> = e.findings.iter().filter(|f| f.rule == rule.id).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].subject.as_deref(), Some("0120"));
}
