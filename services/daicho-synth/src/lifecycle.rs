//! The lifecycles the regulation's rules follow, written out with their
//! cadences and the violations that may be planted in each.
//!
//! It is long because it is a list: one function per lifecycle of the
//! regulation, each independent of the others.

use serde_json::{json, Value};

use crate::calendar::{self, HOUR};
use crate::gen::{Gen, Who};
use crate::ViolationKind as V;

/// The types these lifecycles emit; the generic pass covers the rest of
/// the catalogue.
pub(crate) const WRITTEN: &[&str] = &[
    "usb.approval.requested",
    "usb.approval.granted",
    "usb.taken_out",
    "usb.returned",
    "usb.erased",
    "usb.erasure.reported",
    "ic_card.loss.reported",
    "ic_card.invalidated",
    "ic_card.issued",
    "pc_change.approval.requested",
    "pc_change.approval.granted",
    "software.installed",
    "configuration.changed",
    "terminal.session.started",
    "terminal.session.ended",
    "terminal_overtime.approval.requested",
    "terminal_overtime.approval.granted",
    "processing_plan.submitted",
    "operation_plan.submitted",
    "incident.discovered",
    "incident.reported",
    "incident.recovery.instructed",
    "incident.report.submitted",
    "incident.escalated",
    "incident.cause.recorded",
    "incident.prevention.instructed",
    "incident.prevention.reported",
    "incident.closed",
    "media.disposal.permitted",
    "media.disposed",
    "audit.ordered",
    "audit.auditor.assigned",
    "audit.plan.reported",
    "audit.conducted",
    "audit.finding.raised",
    "audit.finding.instructed",
    "audit.finding.remediated",
    "audit.finding.closed",
    "audit.report.submitted",
    "audit.evidence.archived",
    "self_inspection.conducted",
    "self_inspection.reported",
    "self_inspection.forwarded",
    "improvement.implemented",
    "training.held",
    "training.attended",
    "exception.requested",
    "exception.granted",
    "exception.denied",
    "exception.invoked",
    "exception.reported",
    "exception.expired",
    "exception.reviewed",
    "access_log.reviewed",
    "backup.performed",
    "system.registered",
    "staff.hired",
    "staff.consent.signed",
    "staff.guidance.given",
    "user_id.created",
    "staff.departed",
    "user_id.deleted",
    "staff.network_services.disabled",
];

const WORK_START: i64 = 8 * 60 + 30;
const WORK_END: i64 = 17 * 60 + 15;

fn section_json(g: &Gen, s: usize) -> Value {
    let sec = &g.world.sections[s];
    json!({"code": sec.code, "name": sec.name})
}

fn department_json(g: &Gen, d: usize) -> Value {
    let dep = &g.world.departments[d];
    json!({"code": dep.code, "name": dep.name})
}

/// Systems, joiners and leavers: the quarter's master data.
pub(crate) fn master_data(g: &mut Gen) {
    let day0 = g.quarter.business_days[0];
    for i in 0..g.world.systems.len() {
        let system = g.world.systems[i].clone();
        let at = g.moment(day0, 8 * 60 + 30, 8 * 60 + 50);
        let mut fill = g.fill(at, system.admin);
        fill.set(
            "/system",
            json!({"system_id": system.id, "name": system.name}),
        )
        .set("/owner_section", section_json(g, system.owner_section));
        let role = g.default_role("system.registered");
        g.emit(
            "system.registered",
            at,
            Who::Staff(g.world.chief_info_manager),
            &role,
            &fill,
        );
    }
    for s in g.world.on_roll..g.world.staff.len() {
        let (i, day) = g.business_day(0, 15);
        g.first_day.insert(s, day);
        let at = g.moment(day, 8 * 60 + 30, 9 * 60);
        let mut fill = g.fill(at, s);
        fill.set("/start_date", json!(calendar::date_text(day)))
            .set("/end_date", Value::Null);
        let manager = g.world.sections[g.world.staff[s].section].manager;
        g.emit(
            "staff.hired",
            at,
            Who::Staff(manager),
            "info_manager",
            &fill,
        );
        let at = g.after(at, 10, 30);
        let fill = g.fill(at, s);
        g.emit("staff.consent.signed", at, Who::Staff(s), "staff", &fill);
        let at = g.after(at, 10, 30);
        let fill = g.fill(at, s);
        g.emit(
            "staff.guidance.given",
            at,
            Who::Staff(manager),
            "info_manager",
            &fill,
        );
        let at = g.after(at, 10, 40);
        let fill = g.fill(at, s);
        g.emit(
            "ic_card.issued",
            at,
            Who::Staff(g.world.network_admin),
            "network_admin",
            &fill,
        );
        let at = g.after(at, 10, 40);
        let mut fill = g.fill(at, s);
        fill.set("/user_id", json!(g.world.staff[s].id.to_lowercase()));
        let admin = g.world.systems[s % g.world.systems.len()].admin;
        g.emit(
            "user_id.created",
            at,
            Who::Staff(admin),
            "system_admin",
            &fill,
        );
        let _ = i;
    }
    let per = g.config.staff_per_section.max(3);
    let leavers = (g.world.on_roll / 50).max(1) * g.scale();
    let days = g.quarter.business_days.len();
    for _ in 0..leavers.min(g.world.on_roll / 4) {
        // Role holders are the first three of each section; leavers come
        // from the others so that every role keeps its holder.
        let section = g.rng.below(g.world.sections.len() as u64) as usize;
        if per <= 3 {
            break;
        }
        let s = g.world.sections[section].manager + 3 + g.rng.below((per - 3) as u64) as usize;
        if g.last_day.contains_key(&s) {
            continue;
        }
        let (_, day) = g.business_day(days.saturating_sub(10), days);
        g.last_day.insert(s, day);
        let at = g.moment(day, 16 * 60, 16 * 60 + 50);
        let manager = g.world.sections[section].manager;
        let mut fill = g.fill(at, s);
        fill.set("/reason", json!("retirement"))
            .set("/last_day", json!(calendar::date_text(day)));
        g.emit(
            "staff.departed",
            at,
            Who::Staff(manager),
            "info_manager",
            &fill,
        );
        let at = g.after(at, 20, 40);
        let mut fill = g.fill(at, s);
        fill.rename("k90012", g.world.staff[s].id.to_lowercase());
        let admin = g.world.systems[s % g.world.systems.len()].admin;
        g.emit(
            "user_id.deleted",
            at,
            Who::Staff(admin),
            "system_admin",
            &fill,
        );
        let at = g.after(at, 5, 20);
        let mut fill = g.fill(at, s);
        fill.set("/reason", json!("holder_departed"));
        g.emit(
            "ic_card.invalidated",
            at,
            Who::Staff(g.world.network_admin),
            "network_admin",
            &fill,
        );
        let at = g.after(at, 5, 20);
        let fill = g.fill(at, s);
        g.emit_default("staff.network_services.disabled", at, s, &fill);
    }
}

/// 様式12 approvals for each section's USB memory, then 様式13 take-outs,
/// each returned, erased and its erasure reported (第37条).
pub(crate) fn usb(g: &mut Gen) {
    let fy = g.fy();
    let na = g.world.network_admin;
    let day0 = g.quarter.business_days[0];
    let day1 = g.quarter.business_days[1];
    for sec in 0..g.world.sections.len() {
        let manager = g.world.sections[sec].manager;
        let app = format!("USB-{fy}-{:04}", sec + 1);
        let at = g.moment(day0, 9 * 60, 12 * 60);
        let mut fill = g.fill(at, manager);
        fill.rename("USB-2026-0001", &app);
        g.emit(
            "usb.approval.requested",
            at,
            Who::Staff(manager),
            "info_manager",
            &fill,
        );
        let wrong = g.violate(V::ApprovalByWrongRole);
        let at = g.moment(day1, 9 * 60, 16 * 60);
        let mut fill = g.fill(at, manager);
        fill.rename("USB-2026-0001", &app);
        let (who, role) = if wrong {
            (manager, "info_manager")
        } else {
            (na, "network_admin")
        };
        let granted = g.emit("usb.approval.granted", at, Who::Staff(who), role, &fill);
        if wrong {
            g.plant(granted, V::ApprovalByWrongRole, &app);
        }
        let days = g.quarter.business_days.len();
        for _ in 0..6 * g.scale() {
            let (_, day) = g.business_day(2, days);
            let carrier = g.someone(Some(sec));
            let entry = format!("L13-{fy}-{:05}", g.next("L13"));
            let stale = g.violate(V::UsbWithoutCurrentApproval);
            let approval = if stale {
                format!("USB-{}-{:04}", fy - 1, sec + 1)
            } else {
                app.clone()
            };
            let out = g.moment(day, 9 * 60, 13 * 60);
            let mut fill = g.fill(out, carrier);
            fill.rename("USB-2026-0001", &approval)
                .rename("L13-2026-0041", &entry);
            let taken = g.emit(
                "usb.taken_out",
                out,
                Who::Staff(manager),
                "info_manager",
                &fill,
            );
            if stale {
                g.plant(taken, V::UsbWithoutCurrentApproval, &entry);
                continue;
            }
            if g.violate(V::UsbNotReturned) {
                g.plant(taken, V::UsbNotReturned, &entry);
                continue;
            }
            let back = g.after(out, 90, 240);
            let mut fill = g.fill(back, carrier);
            fill.rename("L13-2026-0041", &entry);
            g.emit(
                "usb.returned",
                back,
                Who::Staff(manager),
                "info_manager",
                &fill,
            );
            let erased = g.after(back, 5, 40);
            let mut fill = g.fill(erased, carrier);
            fill.rename("L13-2026-0041", &entry);
            g.emit(
                "usb.erased",
                erased,
                Who::Staff(manager),
                "info_manager",
                &fill,
            );
            let reported = g.after(erased, 2, 20);
            let fill = g.fill(reported, carrier);
            g.emit(
                "usb.erasure.reported",
                reported,
                Who::Staff(carrier),
                "staff",
                &fill,
            );
        }
    }
}

/// Lost IC cards: reported, invalidated within hours, replaced (第17条).
pub(crate) fn ic_cards(g: &mut Gen) {
    let na = g.world.network_admin;
    let days = g.quarter.business_days.len();
    let losses = (g.world.on_roll / 30).max(1) * g.scale();
    for _ in 0..losses {
        let s = g.someone(None);
        let (i, day) = g.business_day(0, days.saturating_sub(5));
        let noticed = g.moment(day, 7 * 60 + 30, 8 * 60 + 20);
        let reported = g.after(noticed, 5, 25);
        let mut fill = g.fill(reported, s);
        fill.set("/noticed_at", json!(calendar::timestamp(noticed)));
        g.emit(
            "ic_card.loss.reported",
            reported,
            Who::Staff(s),
            "staff",
            &fill,
        );
        let late = g.violate(V::LateCardInvalidation);
        let invalidated = if late {
            let (_, d) = g.day_after(i, 3);
            g.moment(d, 9 * 60, 16 * 60)
        } else {
            g.after(reported, 15, 150)
        };
        let fill = g.fill(invalidated, s);
        let card = g.card_of(s, day);
        let index = g.emit(
            "ic_card.invalidated",
            invalidated,
            Who::Staff(na),
            "network_admin",
            &fill,
        );
        if late {
            g.plant(index, V::LateCardInvalidation, &card);
        }
        let issued = g.after(invalidated, 10, 40);
        let new_card = format!("IC-{:05}", 80_000 + g.next("card"));
        let mut fill = g.fill(issued, s);
        fill.rename("IC-55102", &new_card);
        g.emit(
            "ic_card.issued",
            issued,
            Who::Staff(na),
            "network_admin",
            &fill,
        );
        let back = calendar::day_of(issued).next_day().expect("in range");
        g.away.push((s, day, calendar::day_of(issued)));
        g.card_changes.entry(s).or_default().push((back, new_card));
    }
}

/// 様式7 PC changes: requested, approved, then carried out (第18条, 第19条).
pub(crate) fn pc_changes(g: &mut Gen) {
    let fy = g.fy();
    let na = g.world.network_admin;
    let months = g.quarter.months();
    for (m, first) in months.into_iter().enumerate() {
        let last = calendar::month_end(first);
        let in_month = g.quarter.business_days_between(first, last);
        let start = g
            .quarter
            .business_days
            .iter()
            .position(|d| *d >= first)
            .unwrap_or(0);
        for sec in 0..g.world.sections.len() {
            for _ in 0..g.scale() {
                let (i, day) = g.business_day(start, start + in_month.len().saturating_sub(3));
                let s = g.someone(Some(sec));
                let manager = g.world.sections[sec].manager;
                let app = format!("PC-CHANGE-{fy}-{:04}", g.next("PC-CHANGE"));
                let kind = if g.rng.chance(0.3) {
                    "configuration.changed"
                } else {
                    "software.installed"
                };
                let unapproved = g.violate(V::ChangeWithoutApproval);
                let mut done_day = (i, day);
                if !unapproved {
                    let at = g.moment(day, 9 * 60, 15 * 60);
                    let mut fill = g.fill(at, s);
                    fill.rename("PC-CHANGE-2026-0001", &app);
                    if kind == "configuration.changed" {
                        fill.set("/change_kind", json!("expansion_or_replacement"))
                            .set("/details", json!("メモリを8GBから16GBに増設"));
                    }
                    g.emit(
                        "pc_change.approval.requested",
                        at,
                        Who::Staff(manager),
                        "info_manager",
                        &fill,
                    );
                    let (j, d) = g.day_after(i, 1);
                    let at = g.moment(d, 9 * 60, 16 * 60);
                    let mut fill = g.fill(at, s);
                    fill.rename("PC-CHANGE-2026-0001", &app);
                    g.emit(
                        "pc_change.approval.granted",
                        at,
                        Who::Staff(na),
                        "network_admin",
                        &fill,
                    );
                    done_day = g.day_after(j, 1);
                }
                let at = g.moment(done_day.1, 9 * 60, 16 * 60);
                let mut fill = g.fill(at, s);
                fill.rename("PC-CHANGE-2026-0001", &app)
                    .rename("PC-CHANGE-2026-0002", &app);
                if unapproved {
                    fill.set("/approval", Value::Null);
                }
                let index = g.emit(kind, at, Who::Staff(na), "network_admin", &fill);
                if unapproved {
                    let asset = g.world.staff[s].pc.clone();
                    g.plant(index, V::ChangeWithoutApproval, &asset);
                }
                let _ = m;
            }
        }
    }
}

/// Terminal sessions on business days within 08:30–17:15, some overtime
/// under a 様式10 approval (第24条).
pub(crate) fn sessions(g: &mut Gen) {
    let fy = g.fy();
    let na = g.world.network_admin;
    let per_day = g.scale() as i64;
    let days = g.quarter.business_days.clone();
    let systems = g.world.systems.len();
    for day in days {
        let mut n = 0u64;
        for s in 0..g.world.staff.len() {
            if g.first_day.get(&s).is_some_and(|d| day < *d)
                || g.last_day.get(&s).is_some_and(|d| day > *d)
                || g.away
                    .iter()
                    .any(|(w, from, to)| *w == s && day >= *from && day <= *to)
            {
                continue;
            }
            let segment = (WORK_END - WORK_START) / per_day;
            for k in 0..per_day {
                let begin = WORK_START + k * segment + g.rng.range(0, segment / 5);
                let mut end = begin + segment / 2 + g.rng.range(0, segment / 4);
                let start_at = calendar::at(day, 0, begin);
                n += 1;
                let session = format!("S-{}-{n:05}", calendar::date_text(day).replace('-', ""));
                let last = k + 1 == per_day;
                let overtime = last && g.rng.chance(0.02);
                let mut extension = None;
                let mut planted = false;
                let mut late_start = start_at;
                if overtime {
                    if g.violate(V::SessionOutsideHours) {
                        planted = true;
                        late_start = calendar::at(day, 0, 21 * 60 + g.rng.range(0, 50));
                        end = 22 * 60 + 30 + g.rng.range(0, 40);
                    } else {
                        let app = format!("TERMINAL-OVERTIME-{fy}-{:05}", g.next("TO"));
                        let at = g.moment(day, 15 * 60, 16 * 60);
                        let until = calendar::at(day, 20, 0);
                        let mut fill = g.fill(at, s);
                        fill.rename("TERMINAL-OVERTIME-2026-0001", &app);
                        fill.period = Some((calendar::at(day, 0, WORK_END), until));
                        g.emit(
                            "terminal_overtime.approval.requested",
                            at,
                            Who::Staff(s),
                            "staff",
                            &fill,
                        );
                        let at = g.after(at, 10, 50);
                        let mut fill = g.fill(at, s);
                        fill.rename("TERMINAL-OVERTIME-2026-0001", &app);
                        g.emit(
                            "terminal_overtime.approval.granted",
                            at,
                            Who::Staff(na),
                            "network_admin",
                            &fill,
                        );
                        end = 18 * 60 + g.rng.range(0, 100);
                        extension = Some(app);
                    }
                }
                let system = g.rng.below(systems as u64) as usize;
                let start = if planted { late_start } else { start_at };
                let mut fill = g.fill(start, s);
                let sys = &g.world.systems[system];
                fill.rename("S-20260601-00412", &session)
                    .set("/system", json!({"system_id": sys.id, "name": sys.name}));
                if let Some(app) = &extension {
                    fill.set("/extension", json!({"form": 10, "application_id": app}));
                }
                let index = g.emit(
                    "terminal.session.started",
                    start,
                    Who::Staff(s),
                    "staff",
                    &fill,
                );
                if planted {
                    g.plant(index, V::SessionOutsideHours, &session);
                }
                let end_at = calendar::at(day, 0, end);
                let mut fill = g.fill(end_at, s);
                fill.rename("S-20260601-00412", &session);
                g.emit(
                    "terminal.session.ended",
                    end_at,
                    Who::Staff(s),
                    "staff",
                    &fill,
                );
            }
        }
    }
}

/// 様式5 processing plans by the 20th and 様式6 operation plans by month
/// end, each for the next month (第13条).
pub(crate) fn monthly_plans(g: &mut Gen) {
    let na = g.world.network_admin;
    let months = g.quarter.months();
    for (m, first) in months.into_iter().enumerate() {
        let last = calendar::month_end(first);
        let next = calendar::add_months(first, 1);
        let business = g.quarter.business_days_between(first, next);
        for sec in 0..g.world.sections.len() {
            let late = g.violate(V::LateProcessingPlan);
            let window: Vec<_> = business
                .iter()
                .copied()
                .filter(|d| {
                    if late {
                        d.day() > 20
                    } else {
                        (8..=20).contains(&d.day())
                    }
                })
                .collect();
            let day = window[g.rng.below(window.len() as u64) as usize];
            let s = g.world.sections[sec].manager + 1;
            let at = g.moment(day, 9 * 60, 17 * 60);
            let id = format!(
                "PLAN5-{}-{}",
                calendar::month_text(next),
                g.world.sections[sec].code
            );
            let mut fill = g.fill(at, s);
            fill.rename("PLAN5-2026-06-0210", &id)
                .set("/section", section_json(g, sec))
                .set("/jobs", json!(g.rng.range(3, 30)));
            let index = g.emit(
                "processing_plan.submitted",
                at,
                Who::Staff(s),
                "business_section",
                &fill,
            );
            if late {
                g.plant(index, V::LateProcessingPlan, &id);
            }
        }
        // A late operation plan arrives in the month it covers, which for
        // the quarter's last month lies outside the quarter.
        let late = m < 2 && g.violate(V::LateOperationPlan);
        let day = if late {
            let covered = g
                .quarter
                .business_days_between(next, calendar::add_months(next, 1));
            covered[g.rng.below(2) as usize]
        } else {
            let window: Vec<_> = business
                .iter()
                .copied()
                .filter(|d| d.day() > 20 && *d < last)
                .collect();
            window[g.rng.below(window.len() as u64) as usize]
        };
        let at = g.moment(day, 9 * 60, 17 * 60);
        let id = format!("PLAN6-{}", calendar::month_text(next));
        let sections: Vec<Value> = (0..g.world.sections.len())
            .map(|s| section_json(g, s))
            .collect();
        let mut fill = g.fill(at, na);
        // `for_month` follows the act's month; a late plan names the month
        // it covers, which is the act's own month.
        fill.rename("PLAN6-2026-06", &id)
            .set("/sections_covered", Value::Array(sections))
            .set("/for_month", json!(calendar::month_text(next)));
        let index = g.emit(
            "operation_plan.submitted",
            at,
            Who::Staff(na),
            "network_admin",
            &fill,
        );
        if late {
            g.plant(index, V::LateOperationPlan, &id);
        }
    }
}

/// Incidents from discovery to closure, with 様式8 reports (第67条–第72条).
pub(crate) fn incidents(g: &mut Gen) {
    let fy = g.fy();
    let na = g.world.network_admin;
    let chief = g.world.chief_info_manager;
    let days = g.quarter.business_days.len();
    for k in 0..2 * g.scale() {
        let s = g.someone(None);
        let manager = g.world.sections[g.world.staff[s].section].manager;
        let admin = g.world.systems[s % g.world.systems.len()].admin;
        let n = g.next("INC");
        let id = format!("INC-{fy}-{n:04}");
        let report = format!("R8-{fy}-{n:04}");
        let (i, day) = g.business_day(0, days * 3 / 5);
        let mut at = g.moment(day, 9 * 60, 16 * 60);
        let step = |g: &mut Gen, ty: &str, at: i64, who: usize, role: &str| {
            let mut fill = g.fill(at, s);
            fill.rename("INC-2026-0007", &id)
                .rename("R8-2026-0003", &report);
            g.emit(ty, at, Who::Staff(who), role, &fill)
        };
        step(g, "incident.discovered", at, s, "staff");
        at = g.after(at, 10, 40);
        step(g, "incident.reported", at, s, "staff");
        at = g.after(at, 30, 120);
        step(g, "incident.recovery.instructed", at, na, "network_admin");
        let (i, d) = g.day_after(i, 1);
        at = g.moment(d, 9 * 60, 16 * 60);
        step(g, "incident.report.submitted", at, na, "network_admin");
        // The first incident of a quarter is serious enough to escalate,
        // so that every quarter has one; the rest, three in ten.
        if k == 0 || g.rng.chance(0.3) {
            at = g.after(at, 30, 90);
            step(g, "incident.escalated", at, na, "network_admin");
        }
        let (i, d) = g.day_after(i, 2);
        at = g.moment(d, 9 * 60, 16 * 60);
        step(g, "incident.cause.recorded", at, admin, "system_admin");
        let (i, d) = g.day_after(i, 1);
        at = g.moment(d, 9 * 60, 16 * 60);
        step(
            g,
            "incident.prevention.instructed",
            at,
            chief,
            "chief_info_manager",
        );
        let (i, d) = g.day_after(i, 4);
        at = g.moment(d, 9 * 60, 16 * 60);
        step(
            g,
            "incident.prevention.reported",
            at,
            manager,
            "info_manager",
        );
        let (i, d) = g.day_after(i, 1);
        at = g.moment(d, 9 * 60, 16 * 60);
        step(g, "incident.closed", at, chief, "chief_info_manager");
        if g.violate(V::SecondIncidentClosure) {
            let (_, d) = g.day_after(i, 2);
            at = g.moment(d, 9 * 60, 16 * 60);
            let index = step(g, "incident.closed", at, chief, "chief_info_manager");
            g.plant(index, V::SecondIncidentClosure, &id);
        }
    }
}

/// Media disposal: permitted, then destroyed with a recorded erasure
/// (第33条, 第36条).
pub(crate) fn media_disposal(g: &mut Gen) {
    let fy = g.fy();
    let days = g.quarter.business_days.len();
    for _ in 0..3 * g.scale() {
        let s = g.someone(None);
        let manager = g.world.sections[g.world.staff[s].section].manager;
        let media = format!("MD-{}-{:04}", fy - 2, g.next("MD"));
        let permit = format!("MDISP-{fy}-{:04}", g.next("MDISP"));
        let (i, day) = g.business_day(0, days.saturating_sub(4));
        let bad = g.violate(V::DisposalWithoutErasure);
        if !bad {
            let at = g.moment(day, 9 * 60, 16 * 60);
            let mut fill = g.fill(at, s);
            fill.rename("MD-2024-0112", &media)
                .rename("MDISP-2026-0003", &permit);
            g.emit(
                "media.disposal.permitted",
                at,
                Who::Staff(manager),
                "info_manager",
                &fill,
            );
        }
        let (_, d) = g.day_after(i, 2);
        let at = g.moment(d, 9 * 60, 16 * 60);
        let mut fill = g.fill(at, s);
        fill.rename("MD-2024-0112", &media)
            .rename("MDISP-2026-0003", &permit);
        if bad {
            fill.set("/permission", Value::Null).set(
                "/erasure",
                json!({"method": "overwrite", "irrecoverable": false}),
            );
        }
        let index = g.emit("media.disposed", at, Who::Staff(s), "staff", &fill);
        if bad {
            g.plant(index, V::DisposalWithoutErasure, &media);
        }
    }
}

/// Audits: ordered, an independent auditor assigned, planned, conducted,
/// findings raised and followed to closure, reported (第76条–第81条).
pub(crate) fn audits(g: &mut Gen) {
    let fy = g.fy();
    let cio = g.world.cio;
    let departments = g.world.departments.len();
    for k in 0..g.scale() {
        let d = 1 + k % (departments - 1);
        let officer = g.world.officers[d];
        let id = format!("AUD-{fy}-{:02}", k + 1);
        let start = k % 10;
        let dependent = g.violate(V::AuditorNotIndependent);
        let auditor = if dependent { officer } else { g.world.auditor };
        let auditor_dep = g.world.department_of(auditor);
        let auditor_sec = g.world.staff[auditor].section;
        let at_day = |g: &mut Gen, n: usize| {
            let (_, day) = g.day_after(start, n);
            g.moment(day, 9 * 60, 16 * 60)
        };
        let base = |g: &Gen, at: i64| {
            let mut fill = g.fill(at, officer);
            fill.rename("AUD-2026-01", &id)
                .rename("AUDPLAN-2026-01", format!("AUDPLAN-{fy}-{:02}", k + 1))
                .rename("AUDREP-2026-01", format!("AUDREP-{fy}-{:02}", k + 1));
            fill
        };
        let at = at_day(g, 0);
        let mut fill = base(g, at);
        fill.set("/audited_departments", json!([department_json(g, d)]));
        g.emit("audit.ordered", at, Who::Staff(cio), "cio", &fill);
        let at = at_day(g, 2);
        let mut fill = base(g, at);
        let auditor_person = &g.world.staff[auditor];
        fill.set(
            "/auditor",
            json!({
                "name": auditor_person.name,
                "staff_id": auditor_person.id,
                "organisation": format!("{} {}", g.world.departments[auditor_dep].name, g.world.sections[auditor_sec].name),
            }),
        )
        .set("/auditor_department", department_json(g, auditor_dep))
        .set("/independent", json!(true));
        let index = g.emit("audit.auditor.assigned", at, Who::Staff(cio), "cio", &fill);
        if dependent {
            g.plant(index, V::AuditorNotIndependent, &id);
        }
        let at = at_day(g, 5);
        let mut fill = base(g, at);
        let (from, until) = (g.day_after(start, 10).1, g.day_after(start, 25).1);
        fill.set(
            "/period",
            json!({"from": calendar::date_text(from), "until": calendar::date_text(until)}),
        );
        g.emit(
            "audit.plan.reported",
            at,
            Who::Staff(auditor),
            "auditor",
            &fill,
        );
        let at = at_day(g, 20);
        let mut fill = base(g, at);
        fill.set(
            "/period",
            json!({"from": calendar::date_text(from), "until": calendar::date_text(until)}),
        );
        g.emit("audit.conducted", at, Who::Staff(auditor), "auditor", &fill);
        let findings = 2 + g.rng.below(2) as usize;
        for f in 1..=findings {
            let finding = format!("{id}-F{f}");
            let step = |g: &mut Gen, ty: &str, n: usize, who: usize, role: &str| {
                let at = at_day(g, n);
                let mut fill = base(g, at);
                fill.rename("AUD-2026-01-F1", &finding)
                    .set("/responsible", json!([department_json(g, d)]))
                    .set("/instructed", json!([department_json(g, d)]));
                if ty != "audit.finding.raised" {
                    fill.set("/responsible", Value::Null);
                }
                if ty != "audit.finding.instructed" {
                    fill.set("/instructed", Value::Null);
                }
                g.emit(ty, at, Who::Staff(who), role, &fill)
            };
            let raised = step(g, "audit.finding.raised", 22, auditor, "auditor");
            step(g, "audit.finding.instructed", 25, cio, "cio");
            // The first finding always runs its course, so that every
            // quarter holds the whole lifecycle.
            if f > 1 && g.violate(V::FindingLeftOpen) {
                g.plant(raised, V::FindingLeftOpen, &finding);
                continue;
            }
            step(g, "audit.finding.remediated", 35, officer, "info_officer");
            step(g, "audit.finding.closed", 40, auditor, "auditor");
        }
        let at = at_day(g, 42);
        let mut fill = base(g, at);
        fill.set("/findings_count", json!(findings));
        g.emit(
            "audit.report.submitted",
            at,
            Who::Staff(auditor),
            "auditor",
            &fill,
        );
        let at = at_day(g, 43);
        let fill = base(g, at);
        g.emit(
            "audit.evidence.archived",
            at,
            Who::Staff(auditor),
            "auditor",
            &fill,
        );
    }
}

/// Self-inspections per department, their reports and improvements, and
/// the summary forwarded to the CIO (第82条, 第83条).
pub(crate) fn self_inspections(g: &mut Gen) {
    let fy = g.fy();
    let mut ids = Vec::new();
    for d in 0..g.world.departments.len() {
        let officer = g.world.officers[d];
        let id = format!("SI-{fy}-{:03}", g.next("SI"));
        let (i, day) = g.business_day(20, 35);
        let at = g.moment(day, 9 * 60, 16 * 60);
        let mut fill = g.fill(at, officer);
        fill.rename("SI-2026-012", &id)
            .set("/department", department_json(g, d));
        g.emit(
            "self_inspection.conducted",
            at,
            Who::Staff(officer),
            "info_officer",
            &fill,
        );
        let (i, day) = g.day_after(i, 5);
        let at = g.moment(day, 9 * 60, 16 * 60);
        let mut fill = g.fill(at, officer);
        fill.rename("SI-2026-012", &id);
        g.emit(
            "self_inspection.reported",
            at,
            Who::Staff(officer),
            "info_officer",
            &fill,
        );
        if g.rng.chance(0.5) {
            let (_, day) = g.day_after(i, 5);
            let at = g.moment(day, 9 * 60, 16 * 60);
            let mut fill = g.fill(at, officer);
            fill.rename("SI-2026-012", &id)
                .rename("IMP-2026-009", format!("IMP-{fy}-{:03}", g.next("IMP")));
            g.emit(
                "improvement.implemented",
                at,
                Who::Staff(officer),
                "info_officer",
                &fill,
            );
        }
        ids.push(Value::from(id));
    }
    let (_, day) = g.business_day(50, 55);
    let at = g.moment(day, 9 * 60, 16 * 60);
    let chief = g.world.chief_info_manager;
    let mut fill = g.fill(at, chief);
    fill.set("/inspection_ids", Value::Array(ids));
    g.emit(
        "self_inspection.forwarded",
        at,
        Who::Staff(chief),
        "chief_info_manager",
        &fill,
    );
}

/// Security training and who attended it (第23条).
pub(crate) fn training(g: &mut Gen) {
    let fy = g.fy();
    let chief = g.world.chief_info_manager;
    for k in 0..g.scale() {
        let id = format!("TR-{fy}-{:02}", k + 1);
        let (_, day) = g.business_day(10, 40);
        let at = g.moment(day, 9 * 60, 10 * 60);
        let mut fill = g.fill(at, chief);
        fill.rename("TR-2026-01", &id);
        g.emit(
            "training.held",
            at,
            Who::Staff(chief),
            "chief_info_manager",
            &fill,
        );
        for s in 0..g.world.on_roll {
            if g.rng.chance(0.9) {
                let t = g.after(at, 60, 120);
                let mut fill = g.fill(t, s);
                fill.rename("TR-2026-01", &id);
                g.emit("training.attended", t, Who::Staff(s), "staff", &fill);
            }
        }
    }
}

/// Exceptions (第73条): one granted, invoked and reported; one denied; the
/// quarter's review.
pub(crate) fn exceptions(g: &mut Gen) {
    let fy = g.fy();
    let cio = g.world.cio;
    for _ in 0..g.scale() {
        let s = g.someone(None);
        let manager = g.world.sections[g.world.staff[s].section].manager;
        let id = format!("EXC-{fy}-{:04}", g.next("EXC"));
        let (i, day) = g.business_day(0, 20);
        let (_, from) = g.day_after(i, 2);
        let (_, until) = g.day_after(i, 30);
        let period = (calendar::at(from, 0, 0), calendar::at(until, 0, 0));
        let step = |g: &mut Gen, ty: &str, at: i64, who: usize, role: &str| {
            let mut fill = g.fill(at, s);
            fill.rename("EXC-2026-0004", &id)
                .rename("EXC-2026-0005", &id)
                .set("/ended_on", json!(calendar::date_text(until)));
            if ty != "exception.expired" {
                fill.set("/ended_on", Value::Null);
            }
            fill.period = Some(period);
            fill.valid_until = Some(calendar::date_text(until));
            g.emit(ty, at, Who::Staff(who), role, &fill)
        };
        let at = g.moment(day, 9 * 60, 16 * 60);
        step(g, "exception.requested", at, manager, "info_manager");
        let (_, d) = g.day_after(i, 1);
        let at = g.moment(d, 9 * 60, 16 * 60);
        step(g, "exception.granted", at, cio, "cio");
        let (j, d) = g.day_after(i, 5);
        let at = g.moment(d, 9 * 60, 16 * 60);
        step(g, "exception.invoked", at, s, "staff");
        let (_, d) = g.day_after(j, 1);
        let at = g.moment(d, 9 * 60, 16 * 60);
        step(g, "exception.reported", at, manager, "info_manager");
        let (_, d) = g.day_after(i, 31);
        let at = g.moment(d, 9 * 60, 10 * 60);
        step(g, "exception.expired", at, cio, "cio");

        let other = format!("EXC-{fy}-{:04}", g.next("EXC"));
        let (i, day) = g.business_day(20, 40);
        let at = g.moment(day, 9 * 60, 16 * 60);
        let mut fill = g.fill(at, s);
        fill.rename("EXC-2026-0004", &other);
        g.emit(
            "exception.requested",
            at,
            Who::Staff(manager),
            "info_manager",
            &fill,
        );
        let (_, d) = g.day_after(i, 2);
        let at = g.moment(d, 9 * 60, 16 * 60);
        let mut fill = g.fill(at, s);
        fill.rename("EXC-2026-0004", &other);
        g.emit("exception.denied", at, Who::Staff(cio), "cio", &fill);
    }
    let (_, day) = g.business_day(55, 60);
    let at = g.moment(day, 9 * 60, 16 * 60);
    let chief = g.world.chief_info_manager;
    let mut fill = g.fill(at, chief);
    fill.period = Some((g.quarter.start(), g.quarter.stop() - calendar::DAY));
    g.emit(
        "exception.reviewed",
        at,
        Who::Staff(chief),
        "chief_info_manager",
        &fill,
    );
}

/// Monthly access-log reviews and nightly backups of every system.
pub(crate) fn operations(g: &mut Gen) {
    let days = g.quarter.business_days.clone();
    for i in 0..g.world.systems.len() {
        let admin = g.world.systems[i].admin;
        let system = g.world.systems[i].clone();
        for first in g.quarter.months() {
            // The review in the first days of a month covers the month before.
            let previous = calendar::add_months(first, 0)
                .previous_day()
                .expect("in range");
            let previous_first = calendar::date(previous.year(), u8::from(previous.month()), 1);
            let window = g
                .quarter
                .business_days_between(first, calendar::plus_days(first, 10));
            let day = window[g.rng.below(window.len().min(4) as u64) as usize];
            let at = g.moment(day, 9 * 60, 16 * 60);
            let mut fill = g.fill(at, admin);
            fill.set("/system", json!({"system_id": system.id, "name": system.name}))
                .set("/period", json!({"from": calendar::date_text(previous_first), "until": calendar::date_text(previous)}));
            g.emit(
                "access_log.reviewed",
                at,
                Who::Staff(admin),
                "system_admin",
                &fill,
            );
        }
        for day in &days {
            let at = g.moment(*day, 22 * 60, 23 * 60 + 30);
            let mut fill = g.fill(at, admin);
            fill.set(
                "/system",
                json!({"system_id": system.id, "name": system.name}),
            );
            g.emit(
                "backup.performed",
                at,
                Who::Staff(admin),
                "system_admin",
                &fill,
            );
        }
    }
    let _ = HOUR;
}
