//! The rest of the catalogue, made from its examples: every event type no
//! written lifecycle emits is emitted here, so that a type added to the
//! catalogue appears in generated quarters as soon as it has an example.
//!
//! Two shapes are recognised. An approval family
//! (`<stem>.approval.requested|granted|denied|withdrawn|expired`,
//! `<stem>.consent.given|refused`) is emitted as applications with each
//! outcome, and the acts whose example carries the request's application
//! number follow a grant. Other types are grouped by the identifiers their
//! examples share (e.g. `INC-2026-0007` in every incident type) and each
//! group is emitted as one episode, ordered by the verb that ends each
//! type's name.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::gen::Gen;
use crate::lifecycle::WRITTEN;

/// Identifier keys that name the world's fixed things (people, systems,
/// devices, vendors) rather than the subject of an episode.
const WORLD_KEYS: [&str; 5] = [
    "staff_id",
    "system_id",
    "asset_id",
    "contractor_id",
    "media_id",
];

/// Where a verb places its type within an episode; unknown verbs sit in
/// the middle.
fn rank(event_type: &str) -> u8 {
    match event_type.rsplit('.').next().unwrap_or_default() {
        "established" | "registered" | "adopted" | "defined" | "specified" | "contracted"
        | "created" | "hired" | "identified" | "detected" | "discovered" | "requested"
        | "issued" | "ordered" | "configured" => 0,
        "assigned" | "authorised" | "permitted" | "given" | "granted" | "signed" | "consulted"
        | "tested" | "assessed" | "classified" => 1,
        "confirmed" | "reviewed" | "resolved" | "restored" | "remediated" | "applied"
        | "migrated" | "installed" | "returned" => 3,
        "closed" | "revoked" | "deleted" | "retired" | "expired" | "ended" | "departed" | "cut"
        | "decommissioned" | "disposed" | "archived" | "exited" | "removed" => 4,
        _ => 2,
    }
}

/// Every string under a key ending in `_id` or `_ids` (or `application_id`
/// anywhere), except the world's fixed identifiers.
fn ids(value: &Value, key: Option<&str>, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| ids(v, Some(k), out)),
        Value::Array(items) => items.iter().for_each(|v| ids(v, key, out)),
        Value::String(s) => {
            if let Some(k) = key {
                // Another event's id is a UUID, and a renamed one would not be.
                let names_id = k.ends_with("_id") || k.ends_with("_ids");
                if names_id && !k.ends_with("event_id") && !WORLD_KEYS.contains(&k) {
                    out.insert(s.clone());
                }
            }
        }
        _ => {}
    }
}

/// A fresh identifier shaped like `example`: the fiscal year in place of
/// 2026 and `n` in place of its last run of digits.
fn fresh(example: &str, n: u64, fiscal_year: i32) -> String {
    let text = example.replace("2026", &fiscal_year.to_string());
    let bytes = text.as_bytes();
    let Some(end) = bytes.iter().rposition(u8::is_ascii_digit).map(|i| i + 1) else {
        return format!("{text}-{n}");
    };
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let width = end - start;
    format!("{}{n:0width$}{}", &text[..start], &text[end..])
}

/// Emits the catalogue's types that no written lifecycle covers.
pub(crate) fn rest(g: &mut Gen) {
    let written: BTreeSet<&str> = WRITTEN
        .iter()
        .chain(crate::premises::WRITTEN)
        .copied()
        .collect();
    let all: Vec<String> = g.types().map(str::to_owned).collect();
    let mut left: BTreeSet<String> = all
        .iter()
        .filter(|t| !written.contains(t.as_str()))
        .cloned()
        .collect();

    // Approval families with at least one type left.
    let stems: Vec<String> = all
        .iter()
        .filter_map(|t| t.strip_suffix(".approval.requested").map(str::to_owned))
        .collect();
    for stem in stems {
        let family: Vec<String> = all
            .iter()
            .filter(|t| {
                t.starts_with(&format!("{stem}.approval."))
                    || t.starts_with(&format!("{stem}.consent."))
            })
            .cloned()
            .collect();
        let request = format!("{stem}.approval.requested");
        let Some(app) = g
            .example(&request)
            .and_then(|e| e.get("application_id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            continue;
        };
        let acts: Vec<String> = left
            .iter()
            .filter(|t| !family.contains(t))
            .filter(|t| {
                g.example(t)
                    .is_some_and(|e| e.to_string().contains(&format!("\"{app}\"")))
            })
            .cloned()
            .collect();
        if !family.iter().chain(&acts).any(|t| left.contains(t)) {
            continue;
        }
        let has = |t: &str| all.iter().any(|x| x == t);
        let consent = format!("{stem}.consent.given");
        let mut outcomes: Vec<Vec<String>> = vec![{
            let mut chain = vec![request.clone()];
            if has(&consent) {
                chain.push(consent.clone());
            }
            chain.push(format!("{stem}.approval.granted"));
            chain.extend(acts.iter().cloned());
            chain
        }];
        for (outcome, before) in [
            ("approval.denied", None),
            ("approval.withdrawn", None),
            ("consent.refused", None),
            ("approval.expired", Some("approval.granted")),
        ] {
            let last = format!("{stem}.{outcome}");
            if has(&last) {
                let mut chain = vec![request.clone()];
                if let Some(b) = before {
                    chain.push(format!("{stem}.{b}"));
                }
                chain.push(last);
                outcomes.push(chain);
            }
        }
        for chain in outcomes {
            let expired = chain
                .last()
                .is_some_and(|t| t.ends_with(".approval.expired"));
            for _ in 0..g.scale() {
                let n = 9000 + g.next(&format!("app:{stem}"));
                let renames = vec![(app.clone(), fresh(&app, n, g.fy()))];
                let (s, request_at) = episode(g, &chain, &renames);
                // An approval that expired was granted, and a grant comes
                // after the consent (第12条第2項): a minute after the
                // request, drawn from nothing, so that the rest of the
                // quarter is drawn as before.
                if expired && has(&consent) {
                    let at = request_at + 60;
                    let mut fill = g.fill(at, s);
                    for (from, to) in &renames {
                        fill.rename(from, to);
                    }
                    g.emit_default(&consent, at, s, &fill);
                }
            }
        }
        for t in family.iter().chain(&acts) {
            left.remove(t);
        }
    }

    // The other types, grouped by the identifiers their examples share.
    let types: Vec<String> = left.into_iter().collect();
    let id_sets: Vec<BTreeSet<String>> = types
        .iter()
        .map(|t| {
            let mut out = BTreeSet::new();
            if let Some(e) = g.example(t) {
                ids(e, None, &mut out);
            }
            out
        })
        .collect();
    let mut group: Vec<usize> = (0..types.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    for a in 0..types.len() {
        for b in a + 1..types.len() {
            if !id_sets[a].is_disjoint(&id_sets[b]) {
                let (ra, rb) = (root(&mut group, a), root(&mut group, b));
                group[ra] = rb;
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..types.len() {
        let r = root(&mut group, i);
        groups.entry(r).or_default().push(i);
    }
    for members in groups.values() {
        let mut chain: Vec<String> = members.iter().map(|&i| types[i].clone()).collect();
        chain.sort_by_key(|t| (rank(t), t.clone()));
        let shared: BTreeSet<String> = members.iter().flat_map(|&i| id_sets[i].clone()).collect();
        for _ in 0..g.scale() {
            let renames: Vec<(String, String)> = shared
                .iter()
                .map(|id| {
                    let n = 9000 + g.next(&format!("id:{id}"));
                    (id.clone(), fresh(id, n, g.fy()))
                })
                .collect();
            episode(g, &chain, &renames);
        }
    }
}

/// Emits `chain` in order, a few hours to a day apart, about one member of
/// staff, with `renames` applied to every payload.
/// Emits the chain's acts by one member of staff, each some time after
/// the one before; returns who and when the first act was.
fn episode(g: &mut Gen, chain: &[String], renames: &[(String, String)]) -> (usize, i64) {
    let days = g.quarter.business_days.len();
    let s = g.someone(None);
    let (_, day) = g.business_day(0, days * 7 / 10);
    let mut at = g.moment(day, 9 * 60, 16 * 60);
    let first = at;
    let stop = g.quarter.stop() - 3600;
    for t in chain {
        let mut fill = g.fill(at, s);
        for (from, to) in renames {
            fill.rename(from, to);
        }
        g.emit_default(t, at.min(stop), s, &fill);
        at = g.after(at, 30, 26 * 60);
    }
    (s, first.min(stop))
}

#[cfg(test)]
mod tests {
    use super::fresh;

    #[test]
    fn fresh_ids_keep_the_example_shape() {
        assert_eq!(fresh("INC-2026-0007", 9001, 2027), "INC-2027-9001");
        assert_eq!(fresh("V-20260602-03", 9001, 2026), "V-20260602-9001");
        assert_eq!(fresh("ERP", 5, 2026), "ERP-5");
        assert_eq!(fresh("AUD-2026-01-F1", 12, 2026), "AUD-2026-01-F12");
    }
}
