//! The organisation and its premises: departments and sections registered
//! when the ledger starts, each section's office secured at the end of
//! every business day (第24条第1項・第2項), and the computer room entered
//! only by the staff permitted to (第26条第1項).
//!
//! Runs on a random stream of its own, so that the rest of the quarter is
//! drawn as it is without it.

use serde_json::{json, Value};

use crate::calendar;
use crate::gen::{Gen, Who};
use crate::ViolationKind;

/// The managed area the quarter's staff enter.
pub(crate) const COMPUTER_ROOM: &str = "本庁舎 電子計算機室";

/// The types this module records; `generic` leaves them alone.
pub(crate) const WRITTEN: &[&str] = &[
    "department.established",
    "section.established",
    "office.secured",
    "managed_area.access.authorised",
    "managed_area.access.revoked",
];

pub(crate) fn premises(g: &mut Gen) {
    let seed = g.config.seed;
    let main = std::mem::replace(&mut g.rng, crate::prng::Rng::new(seed).fork(5));
    let established = organisation(g);
    offices(g, &established);
    computer_room(g);
    g.rng = main;
}

fn unit(code: &str, name: &str) -> Value {
    json!({"code": code, "name": name})
}

/// Every department and section, registered before the first business
/// day's work as master data brought into the ledger; returns the index of
/// each section's `section.established` draft.
fn organisation(g: &mut Gen) -> Vec<Option<usize>> {
    let day0 = g.quarter.business_days[0];
    let mut at = calendar::at(day0, 7, 30);
    let cim = Who::Staff(g.world.chief_info_manager);
    let since = json!("2020-04-01");
    for d in 0..g.world.departments.len() {
        let dep = g.world.departments[d].clone();
        let mut fill = g.fill(at, g.world.chief_info_manager);
        fill.set("/department", unit(&dep.code, &dep.name))
            .set("/established_on", since.clone());
        g.emit(
            "department.established",
            at,
            cim,
            "chief_info_manager",
            &fill,
        );
        at += 60;
    }
    let mut out = Vec::new();
    for s in 0..g.world.sections.len() {
        let sec = g.world.sections[s].clone();
        let dep = g.world.departments[sec.department].clone();
        let mut fill = g.fill(at, g.world.chief_info_manager);
        fill.set("/section", unit(&sec.code, &sec.name))
            .set("/department", unit(&dep.code, &dep.name))
            .set("/established_on", since.clone());
        out.push(g.emit("section.established", at, cim, "chief_info_manager", &fill));
        at += 60;
    }
    out
}

/// Each section's office secured by its 情報管理者 after work on every
/// business day, terminals stored. Where a section breaks the rule, one
/// day goes unrecorded (第24条第1項) or one day's terminals are left out
/// (第24条第2項).
fn offices(g: &mut Gen, established: &[Option<usize>]) {
    let days = g.quarter.business_days.clone();
    for (s, section_established) in established.iter().enumerate() {
        let sec = g.world.sections[s].clone();
        let skipped = g
            .violate(ViolationKind::OfficeLeftUnsecured)
            .then(|| days[g.rng.below(days.len() as u64) as usize]);
        let left_out = g
            .violate(ViolationKind::TerminalsNotStored)
            .then(|| days[g.rng.below(days.len() as u64) as usize]);
        if let Some(day) = skipped {
            let subject = format!("{} {}", sec.code, calendar::date_text(day));
            g.plant(
                *section_established,
                ViolationKind::OfficeLeftUnsecured,
                &subject,
            );
        }
        for day in &days {
            let at = g.moment(*day, 17 * 60 + 20, 19 * 60);
            if Some(*day) == skipped {
                continue;
            }
            let stored = Some(*day) != left_out;
            let mut fill = g.fill(at, sec.manager);
            fill.set("/section", unit(&sec.code, &sec.name))
                .set("/room", json!(format!("本庁舎 {}", sec.name)))
                .set("/terminals_stored", json!(stored));
            let i = g.emit(
                "office.secured",
                at,
                Who::Staff(sec.manager),
                "info_manager",
                &fill,
            );
            if !stored {
                g.plant(i, ViolationKind::TerminalsNotStored, &sec.code);
            }
        }
    }
}

/// The computer room: the network administrator and every system
/// administrator are permitted to enter it from the quarter's first day,
/// and one member of staff for a task that ends mid-quarter, when the
/// permission is withdrawn. Each enters about once a week, logged in
/// form 11. Where the rule is broken, the member of staff whose
/// permission was withdrawn enters once more.
fn computer_room(g: &mut Gen) {
    let days = g.quarter.business_days.clone();
    let day0 = days[0];
    let admin = g.world.network_admin;
    let mut permitted: Vec<usize> = vec![admin];
    for system in &g.world.systems {
        if !permitted.contains(&system.admin) {
            permitted.push(system.admin);
        }
    }
    // A member of staff of the first section who is none of the above.
    let per = g.config.staff_per_section.max(3);
    let temporary = (0..per)
        .map(|i| g.world.sections[0].manager + i)
        .find(|s| !permitted.contains(s));
    let mut at = calendar::at(day0, 8, 5);
    for &s in permitted.iter().chain(&temporary) {
        let method = ("/method", json!("ic_card"));
        permission(g, "managed_area.access.authorised", s, at, method);
        at += 60;
    }
    let revoked_on = temporary.map(|s| {
        let (i, day) = g.business_day(days.len() * 2 / 5, days.len() / 2);
        let at = g.moment(day, 9 * 60, 10 * 60);
        let reason = ("/reason", json!("作業終了"));
        permission(g, "managed_area.access.revoked", s, at, reason);
        (s, i)
    });
    let mut visits = 0;
    for &s in permitted.iter().chain(&temporary) {
        let last = match revoked_on {
            Some((t, i)) if t == s => i,
            _ => days.len(),
        };
        let mut i = g.rng.below(5) as usize;
        while i < last {
            for _ in 0..g.scale() {
                visits += 1;
                visit(g, s, days[i], visits, false);
            }
            i += 3 + g.rng.below(5) as usize;
        }
    }
    if let Some((s, i)) = revoked_on {
        if g.violate(ViolationKind::EntryWithoutPermission) {
            let (_, day) = g.business_day(i + 1, days.len());
            visits += 1;
            visit(g, s, day, visits, true);
        }
    }
}

/// The network administrator grants or withdraws member of staff `s`'s
/// permission to enter the computer room, with one more member.
fn permission(g: &mut Gen, event_type: &str, s: usize, at: i64, (member, value): (&str, Value)) {
    let mut fill = g.fill(at, s);
    fill.set("/area", json!(COMPUTER_ROOM))
        .set("/person", person(g, s))
        .set(member, value);
    let admin = Who::Staff(g.world.network_admin);
    g.emit(event_type, at, admin, "network_admin", &fill);
}

fn person(g: &Gen, s: usize) -> Value {
    let staff = &g.world.staff[s];
    json!({"name": staff.name, "staff_id": staff.id})
}

/// One entry of member of staff `s` into the computer room and the exit
/// after it, both in form 11.
fn visit(g: &mut Gen, s: usize, day: time::Date, n: usize, planted: bool) {
    let at = g.moment(day, 9 * 60 + 30, 16 * 60);
    let visit_id = format!("V-{}-{n:04}", calendar::date_text(day).replace('-', ""));
    let entry = json!({"form": 11, "application_id": format!("L11-{}-{n:04}", g.fy())});
    let mut fill = g.fill(at, s);
    fill.set("/visit_id", json!(visit_id))
        .set("/area", json!(COMPUTER_ROOM))
        .set("/person", person(g, s))
        .set("/purpose", json!("サーバ・ネットワーク機器の点検"))
        .set("/category", json!("staff"))
        .set("/escort", Value::Null)
        .set("/identification_checked", Value::Null)
        .set("/visitor_badge", Value::Null)
        .set("/log_entry", entry.clone());
    let i = g.emit("managed_area.entered", at, Who::Staff(s), "staff", &fill);
    if planted {
        let id = g.world.staff[s].id.clone();
        g.plant(i, ViolationKind::EntryWithoutPermission, &id);
    }
    let out = g.after(at, 20, 90);
    let mut fill = g.fill(out, s);
    fill.set("/visit_id", json!(visit_id))
        .set("/area", json!(COMPUTER_ROOM))
        .set("/person", person(g, s));
    g.emit("managed_area.exited", out, Who::Staff(s), "staff", &fill);
}
