//! The rule kinds: each reads the folded state and reports raw findings,
//! dated when they became findings and, where the ledger later shows the
//! obligation met, when they were resolved.
//!
//! It is long because it is a list: one function per rule kind, each
//! independent of the others, dispatched from `run`.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use time::{Date, Duration, OffsetDateTime};

use crate::calendar::{fiscal_year_end, parse_date, start_of, tokyo_date, Calendar, Period};
use crate::rules::{Check, FieldCheck, OnlyWhere, Rule, Selector, Transition, Validity};
use crate::state::{ApplicationStatus, Fact, State};
use crate::thresholds::{CadenceUnit, Thresholds};

/// What kind of deviation a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// An act that broke the rule.
    Violation,
    /// An obligation not met in time.
    Overdue,
    /// A record or cadence the rule requires is missing.
    MissingRecord,
    /// A record that does not fit its subject's history.
    InconsistentRecord,
}

/// A finding before it is placed in a period.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub kind: FindingKind,
    pub subject: Option<String>,
    /// The entries it rests on, ascending.
    pub seqs: Vec<u64>,
    /// The entry it is about (the act, the trigger, the item opened): with
    /// the rule, the subject and `at`, what names it whatever later entries
    /// add to it.
    pub anchor: u64,
    /// When it became a finding.
    pub at: OffsetDateTime,
    /// The seq of the entry that resolved it, and when.
    pub resolved: Option<(u64, OffsetDateTime)>,
    pub actual_ja: String,
    pub actual_en: String,
}

/// What every check reads besides the state.
pub(crate) struct Context<'a> {
    pub state: &'a State,
    pub thresholds: &'a Thresholds,
    pub calendar: &'a Calendar,
    /// The end of the evaluated period: obligations due later are not yet
    /// findings.
    pub horizon: OffsetDateTime,
}

fn date_ja(at: OffsetDateTime) -> String {
    let d = tokyo_date(at);
    format!("{}年{}月{}日", d.year(), d.month() as u8, d.day())
}

fn time_ja(at: OffsetDateTime) -> String {
    let t = at.to_offset(crate::calendar::JST);
    format!("{} {:02}:{:02}", date_ja(at), t.hour(), t.minute())
}

fn date_en(at: OffsetDateTime) -> String {
    crate::calendar::format_date(tokyo_date(at))
}

fn raw(kind: FindingKind, subject: Option<String>, seqs: Vec<u64>, at: OffsetDateTime) -> Raw {
    let mut seqs = seqs;
    seqs.sort_unstable();
    seqs.dedup();
    Raw {
        kind,
        subject,
        anchor: seqs.last().copied().unwrap_or(0),
        seqs,
        at,
        resolved: None,
        actual_ja: String::new(),
        actual_en: String::new(),
    }
}

impl Raw {
    fn anchored(mut self, seq: u64) -> Raw {
        self.anchor = seq;
        self
    }

    fn says(mut self, ja: String, en: String) -> Raw {
        self.actual_ja = ja;
        self.actual_en = en;
        self
    }
}

/// Runs one rule.
pub(crate) fn run(rule: &Rule, cx: &Context<'_>) -> Vec<Raw> {
    match &rule.check {
        Check::PriorApproval {
            acts,
            act_application,
            act_subject,
            stem,
            request_subject,
            approver_roles,
            validity,
            only_outside_operating_hours,
        } => prior_approval(
            cx,
            acts,
            act_application.as_deref(),
            act_subject.as_deref(),
            stem,
            request_subject.as_deref(),
            approver_roles,
            validity,
            *only_outside_operating_hours,
        ),
        Check::ActorRole { types, only, roles } => actor_role(cx, types, only.as_ref(), roles),
        Check::RequiredContents {
            types,
            only,
            subject,
            fields,
        } => required_contents(cx, types, only.as_ref(), subject.as_deref(), fields),
        Check::Latency {
            trigger,
            trigger_time,
            response,
            threshold,
        } => latency(cx, trigger, trigger_time.as_deref(), response, threshold),
        Check::Deadline {
            types,
            month,
            day_of_month,
        } => deadline(cx, types, month, *day_of_month),
        Check::Presence {
            types,
            cadence,
            per,
            record_subject,
            ended,
            ended_on,
        } => presence(
            cx,
            types,
            cadence,
            per.as_ref(),
            record_subject.as_deref(),
            ended.as_ref().map(|e| (e, ended_on.as_deref())),
        ),
        Check::Independence {
            checker,
            checker_units,
            checked,
            checked_units,
        } => independence(cx, checker, checker_units, checked, checked_units),
        Check::OpenItemAgeing {
            open,
            close,
            threshold,
        } => ageing(cx, open, close, threshold),
        Check::ForbiddenAfter { ending, acts } => forbidden_after(cx, ending, acts),
        Check::PriorAct { first, then } => prior_act(cx, first, then),
        Check::ReleasedAtEnding {
            ending,
            held,
            items,
            released,
            threshold,
        } => released_at_ending(cx, ending, held, items, released, threshold),
        Check::Lifecycle {
            subject,
            transitions,
        } => lifecycle(cx, subject, transitions),
        Check::ConsentBeforeGrant { stem, when_differ } => {
            consent_before_grant(cx, stem, when_differ)
        }
        Check::StandingPermission {
            acts,
            granted,
            revoked,
            within,
            valid_until,
        } => standing_permission(
            cx,
            acts,
            [granted, revoked],
            within.as_deref(),
            valid_until.as_deref(),
        ),
    }
}

/// Applications whose request names two different units and that were
/// granted without a consent before the grant.
fn consent_before_grant(cx: &Context<'_>, stem: &str, when_differ: &[String; 2]) -> Vec<Raw> {
    let state = cx.state;
    let mut out = Vec::new();
    for app in state.applications().values().filter(|a| a.stem == stem) {
        let (Some(request), Some(grant)) = (
            app.requested.map(|i| state.fact(i)),
            app.granted.map(|i| state.fact(i)),
        ) else {
            continue;
        };
        if grant.occurred_at >= cx.horizon {
            continue;
        }
        let [a, b] = when_differ;
        let (Some(x), Some(y)) = (request.text(a), request.text(b)) else {
            continue;
        };
        if x == y || app.consents.iter().any(|&i| state.fact(i).seq < grant.seq) {
            continue;
        }
        let id = &app.application_id;
        out.push(
            raw(
                FindingKind::Violation,
                Some(id.clone()),
                vec![request.seq, grant.seq],
                grant.occurred_at,
            )
            .anchored(grant.seq)
            .says(
                format!(
                    "{}の承認（{id}）は、申請の{x}と{y}が異なるのに、同意の記録がないまま行われた。",
                    date_ja(grant.occurred_at)
                ),
                format!(
                    "The approval {id} of {} was granted with no consent recorded, though its request names {x} and {y}.",
                    date_en(grant.occurred_at)
                ),
            ),
        );
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn prior_approval(
    cx: &Context<'_>,
    acts: &[String],
    act_application: Option<&str>,
    act_subject: Option<&str>,
    stem: &str,
    request_subject: Option<&str>,
    approver_roles: &[String],
    validity: &Validity,
    only_outside_hours: bool,
) -> Vec<Raw> {
    let state = cx.state;
    // Applications of this stem by the subject their request names.
    let mut by_subject: FxHashMap<String, Vec<&crate::state::Application>> = FxHashMap::default();
    if let Some(pointer) = request_subject {
        for app in state.applications().values().filter(|a| a.stem == stem) {
            if let Some(subject) = app.requested.and_then(|i| state.fact(i).text(pointer)) {
                by_subject.entry(subject).or_default().push(app);
            }
        }
    }
    let mut out = Vec::new();
    for act in state.of_types(acts) {
        if act.occurred_at >= cx.horizon {
            continue;
        }
        if only_outside_hours
            && cx
                .thresholds
                .operating_hours
                .contains(act.occurred_at, cx.calendar)
        {
            continue;
        }
        let subject = act_subject.and_then(|p| act.text(p));
        // An act that names the approval it relies on is judged on that
        // approval alone; one that names none, on any approval of its
        // subject.
        let named = act_application.and_then(|p| act.text(p));
        let candidates: Vec<&crate::state::Application> = match &named {
            Some(id) => state
                .application(id)
                .filter(|app| app.stem == stem)
                .into_iter()
                .collect(),
            None => subject
                .as_ref()
                .and_then(|s| by_subject.get(s))
                .cloned()
                .unwrap_or_default(),
        };
        // The best reason an approval does not cover the act, for the
        // finding's wording; `None` once one covers it.
        let mut why: Option<(String, String, Vec<u64>)> = Some(match &named {
            Some(id) => (
                format!("記載された承認（{id}）の記録がない"),
                format!("the approval it names ({id}) is not recorded"),
                vec![],
            ),
            None => (
                "事前の承認の記録がない".to_owned(),
                "no prior approval is recorded".to_owned(),
                vec![],
            ),
        });
        for app in candidates {
            let Some(grant) = app.granted.map(|i| state.fact(i)) else {
                continue;
            };
            let app_seqs = app.seqs.clone();
            if grant.seq > act.seq && grant.occurred_at > act.occurred_at {
                why = Some((
                    format!(
                        "承認（{}）が行為の後の{}に記録されている",
                        app.application_id,
                        date_ja(grant.occurred_at)
                    ),
                    format!(
                        "the approval {} was granted after the act, on {}",
                        app.application_id,
                        date_en(grant.occurred_at)
                    ),
                    app_seqs,
                ));
                continue;
            }
            if !approver_roles.iter().any(|r| **r == *grant.actor_role) {
                why = Some((
                    format!(
                        "承認（{}）が権限のない役割（{}）により行われている",
                        app.application_id, grant.actor_role
                    ),
                    format!(
                        "the approval {} was granted in a role not empowered to ({})",
                        app.application_id, grant.actor_role
                    ),
                    app_seqs,
                ));
                continue;
            }
            if let Some(end) = app.ended.map(|i| state.fact(i)) {
                if end.occurred_at <= act.occurred_at && app.status != ApplicationStatus::Granted {
                    why = Some((
                        format!(
                            "承認（{}）は行為の前に終了している（{}）",
                            app.application_id, end.event_type
                        ),
                        format!(
                            "the approval {} had ended before the act ({})",
                            app.application_id, end.event_type
                        ),
                        app_seqs,
                    ));
                    continue;
                }
            }
            if !valid_at(state, app, grant, validity, act.occurred_at) {
                why = Some((
                    format!("承認（{}）の有効期間外の行為である", app.application_id),
                    format!(
                        "the act falls outside the validity of approval {}",
                        app.application_id
                    ),
                    app_seqs,
                ));
                continue;
            }
            why = None;
            break;
        }
        if let Some((ja, en, mut seqs)) = why {
            seqs.push(act.seq);
            let subject = subject.or_else(|| act_application.and_then(|p| act.text(p)));
            out.push(
                raw(FindingKind::Violation, subject, seqs, act.occurred_at)
                    .anchored(act.seq)
                    .says(
                        format!(
                            "{}の{}（{}）について、{}。",
                            time_ja(act.occurred_at),
                            act.event_type,
                            act.actor_role,
                            ja
                        ),
                        format!(
                            "{} at {}: {}.",
                            act.event_type,
                            date_en(act.occurred_at),
                            en
                        ),
                    ),
            );
        }
    }
    out
}

fn valid_at(
    state: &State,
    app: &crate::state::Application,
    grant: &Fact,
    validity: &Validity,
    at: OffsetDateTime,
) -> bool {
    let day = tokyo_date(at);
    match validity {
        Validity::Unlimited => true,
        Validity::FiscalYearEnd => day <= fiscal_year_end(tokyo_date(grant.occurred_at)),
        Validity::Date { pointer } => grant
            .text(pointer)
            .and_then(|d| parse_date(&d))
            .is_none_or(|until| day <= until),
        Validity::RequestedPeriod { pointer } => {
            let Some(request) = app.requested.map(|i| state.fact(i)) else {
                return false;
            };
            let period = request.value(pointer);
            let bound = |k: &str| {
                period
                    .and_then(|p| p.get(k))
                    .and_then(|v| v.as_str())
                    .and_then(|s| {
                        time::OffsetDateTime::parse(
                            s,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                        .or_else(|| parse_date(s).map(start_of))
                    })
            };
            match (bound("from"), bound("until")) {
                (Some(from), Some(until)) => {
                    // A date-only end includes its whole day.
                    let until = if until.time() == time::Time::MIDNIGHT {
                        until + Duration::days(1)
                    } else {
                        until
                    };
                    from <= at && at < until
                }
                _ => false,
            }
        }
    }
}

fn actor_role(
    cx: &Context<'_>,
    types: &[String],
    only: Option<&OnlyWhere>,
    roles: &[String],
) -> Vec<Raw> {
    cx.state
        .of_types(types)
        .into_iter()
        .filter(|f| f.occurred_at < cx.horizon && !roles.iter().any(|r| **r == *f.actor_role))
        .filter(|f| only.is_none_or(|o| o.selects(&f.payload)))
        .map(|f| {
            raw(
                FindingKind::Violation,
                Some(f.actor_id.to_string()),
                vec![f.seq],
                f.occurred_at,
            )
            .says(
                format!(
                    "{}の{}が、権限のない役割（{}）により行われている。",
                    date_ja(f.occurred_at),
                    f.event_type,
                    f.actor_role
                ),
                format!(
                    "{} on {} was performed in a role not empowered to ({}).",
                    f.event_type,
                    date_en(f.occurred_at),
                    f.actor_role
                ),
            )
        })
        .collect()
}

fn required_contents(
    cx: &Context<'_>,
    types: &[String],
    only: Option<&OnlyWhere>,
    subject: Option<&str>,
    fields: &[FieldCheck],
) -> Vec<Raw> {
    let mut out = Vec::new();
    for f in cx.state.of_types(types) {
        if f.occurred_at >= cx.horizon || only.is_some_and(|o| !o.selects(&f.payload)) {
            continue;
        }
        let missing: Vec<&FieldCheck> = fields
            .iter()
            .filter(|c| match f.value(&c.pointer) {
                None => true,
                Some(have) if have.is_null() => true,
                Some(have) => match (&c.equals, &c.contains) {
                    (Some(want), _) => have != *want,
                    (None, Some(item)) => !have
                        .items()
                        .is_some_and(|mut items| items.any(|i| i == *item)),
                    (None, None) => false,
                },
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        let ja: Vec<&str> = missing.iter().map(|c| c.label_ja.as_str()).collect();
        let en: Vec<&str> = missing.iter().map(|c| c.label_en.as_str()).collect();
        out.push(
            raw(
                FindingKind::Violation,
                subject.and_then(|p| f.text(p)),
                vec![f.seq],
                f.occurred_at,
            )
            .says(
                format!(
                    "{}の{}の記録に、{}が確認されなかった。",
                    date_ja(f.occurred_at),
                    f.event_type,
                    ja.join("、")
                ),
                format!(
                    "The record of {} on {} does not show {}.",
                    f.event_type,
                    date_en(f.occurred_at),
                    en.join(", ")
                ),
            ),
        );
    }
    out
}

fn parse_instant(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

fn latency(
    cx: &Context<'_>,
    trigger: &Selector,
    trigger_time: Option<&str>,
    response: &Selector,
    threshold: &str,
) -> Vec<Raw> {
    let limit = &cx.thresholds.latencies[threshold];
    let mut responses: FxHashMap<String, Vec<&Fact>> = FxHashMap::default();
    for r in cx.state.of_types(&response.types) {
        for s in subjects_at(r, &response.subject) {
            responses.entry(s).or_default().push(r);
        }
    }
    // Each trigger is answered by the first response before the subject's
    // next trigger: a response to a later trigger does not answer it.
    let triggers: Vec<(&Fact, String)> = cx
        .state
        .of_types(&trigger.types)
        .into_iter()
        .filter(|t| trigger.selects(&t.payload))
        .filter_map(|t| t.text(&trigger.subject).map(|s| (t, s)))
        .collect();
    let mut next_trigger: FxHashMap<u64, u64> = FxHashMap::default();
    let mut last_of: FxHashMap<&str, u64> = FxHashMap::default();
    for (t, subject) in triggers.iter().rev() {
        if let Some(next) = last_of.insert(subject.as_str(), t.seq) {
            next_trigger.insert(t.seq, next);
        }
    }
    let mut out = Vec::new();
    for (t, subject) in &triggers {
        let (t, subject) = (*t, subject.clone());
        let start = trigger_time
            .and_then(|p| t.text(p))
            .and_then(|s| parse_instant(&s))
            .filter(|s| *s <= t.occurred_at)
            .unwrap_or(t.occurred_at);
        let due = limit.due(start, cx.calendar);
        if due >= cx.horizon && t.occurred_at >= cx.horizon {
            continue;
        }
        let before_next = next_trigger.get(&t.seq).copied().unwrap_or(u64::MAX);
        let answer = responses.get(&subject).and_then(|rs| {
            rs.iter()
                .find(|r| (r.seq > t.seq || r.occurred_at >= start) && r.seq < before_next)
        });
        let words = format!("{}（{}）", limit.words_ja, limit.figure_ja());
        match answer {
            Some(r) if r.occurred_at <= due => {}
            Some(r) => {
                let mut f = raw(
                    FindingKind::Overdue,
                    Some(subject.clone()),
                    vec![t.seq, r.seq],
                    due,
                )
                .anchored(t.seq)
                .says(
                    format!(
                        "{}の{}に対する{}が{}に行われ、{}の期限を過ぎていた。",
                        time_ja(start),
                        t.event_type,
                        r.event_type,
                        time_ja(r.occurred_at),
                        words
                    ),
                    format!(
                        "{} followed {} of {} only at {}, beyond {}.",
                        r.event_type,
                        t.event_type,
                        date_en(start),
                        date_en(r.occurred_at),
                        limit.figure_en()
                    ),
                );
                f.resolved = Some((r.seq, r.occurred_at));
                if due < cx.horizon {
                    out.push(f);
                }
            }
            None if due < cx.horizon => out.push(
                raw(
                    FindingKind::Overdue,
                    Some(subject.clone()),
                    vec![t.seq],
                    due,
                )
                .says(
                    format!(
                        "{}の{}に対する{}の記録がない（{}）。",
                        time_ja(start),
                        t.event_type,
                        response.types.join("・"),
                        words
                    ),
                    format!(
                        "No {} is recorded after {} of {} (due within {}).",
                        response.types.join(" or "),
                        t.event_type,
                        date_en(start),
                        limit.figure_en()
                    ),
                ),
            ),
            None => {}
        }
    }
    out
}

fn month_start(text: &str) -> Option<Date> {
    parse_date(&format!("{text}-01"))
}

fn deadline(cx: &Context<'_>, types: &[String], month: &str, day: Option<u8>) -> Vec<Raw> {
    let mut out = Vec::new();
    for f in cx.state.of_types(types) {
        let Some(first) = f.text(month).and_then(|m| month_start(&m)) else {
            continue;
        };
        let previous_month_last = first.previous_day().expect("the 1st has a day before");
        let due_day = match day {
            Some(d) => previous_month_last
                .replace_day(d)
                .unwrap_or(previous_month_last),
            None => previous_month_last,
        };
        let due = start_of(due_day.next_day().expect("a next day"));
        if f.occurred_at > due && due < cx.horizon {
            let mut r = raw(FindingKind::Overdue, f.text(month), vec![f.seq], due).says(
                format!(
                    "{}分の{}が{}に提出され、期限（{}）を過ぎていた。",
                    f.text(month).unwrap_or_default(),
                    f.event_type,
                    date_ja(f.occurred_at),
                    date_ja(start_of(due_day))
                ),
                format!(
                    "{} for {} was submitted on {}, after its deadline {}.",
                    f.event_type,
                    f.text(month).unwrap_or_default(),
                    date_en(f.occurred_at),
                    crate::calendar::format_date(due_day)
                ),
            );
            r.resolved = Some((f.seq, f.occurred_at));
            out.push(r);
        }
    }
    out
}

/// The window of a unit that holds `day`: its month, quarter or fiscal
/// year, or the day itself when it is a business day of `calendar`.
fn window_of(unit: CadenceUnit, day: Date, calendar: &Calendar) -> Option<Period> {
    use crate::calendar::{fiscal_year_of, quarter_of};
    match unit {
        CadenceUnit::BusinessDay => calendar
            .is_business_day(day)
            .then(|| Period::new(day, day).expect("ordered")),
        CadenceUnit::Month => {
            let first = day.replace_day(1).expect("day 1");
            let next = if first.month() == time::Month::December {
                Date::from_calendar_date(first.year() + 1, time::Month::January, 1)
            } else {
                Date::from_calendar_date(first.year(), first.month().next(), 1)
            }
            .expect("the 1st exists");
            Some(Period::new(first, next.previous_day().expect("a day before")).expect("ordered"))
        }
        CadenceUnit::Quarter => {
            Some(Period::fiscal_quarter(fiscal_year_of(day), quarter_of(day)).expect("a quarter"))
        }
        CadenceUnit::FiscalYear => {
            Some(Period::fiscal_year(fiscal_year_of(day)).expect("a fiscal year"))
        }
    }
}

/// The cadence windows of a unit from the one that holds `from` up to the
/// one that holds the horizon's last day.
fn windows(
    unit: CadenceUnit,
    from: Date,
    horizon: OffsetDateTime,
    calendar: &Calendar,
) -> Vec<Period> {
    let last = tokyo_date(horizon - Duration::seconds(1));
    let mut out = Vec::new();
    let mut day = from;
    while day <= last {
        match window_of(unit, day, calendar) {
            Some(w) => {
                out.push(w);
                day = w.until.next_day().expect("a next day");
            }
            None => day = day.next_day().expect("a next day"),
        }
    }
    out
}

fn presence(
    cx: &Context<'_>,
    types: &[String],
    cadence: &str,
    per: Option<&Selector>,
    record_subject: Option<&str>,
    ended: Option<(&Selector, Option<&str>)>,
) -> Vec<Raw> {
    let unit = cx.thresholds.cadences[cadence].per;
    // The day each subject ended, if one did: the day its ending names
    // (a section abolished on a later date), or the day of the ending;
    // the earliest where there are several. Windows from it on are not
    // required.
    let mut ends: FxHashMap<String, Date> = FxHashMap::default();
    if let Some((sel, on)) = ended {
        for f in cx.state.of_types(&sel.types) {
            if !sel.selects(&f.payload) {
                continue;
            }
            if let Some(s) = f.text(&sel.subject) {
                let day = on
                    .and_then(|p| f.text(p))
                    .and_then(|t| parse_date(&t))
                    .unwrap_or_else(|| tokyo_date(f.occurred_at));
                ends.entry(s)
                    .and_modify(|d| *d = (*d).min(day))
                    .or_insert(day);
            }
        }
    }
    let words = &cx.thresholds.cadences[cadence].words_ja;
    let records = cx.state.of_types(types);
    // Subjects the records are required per, from when each became known.
    let subjects: BTreeMap<String, (u64, OffsetDateTime)> = match per {
        None => BTreeMap::from([(String::new(), (0, OffsetDateTime::UNIX_EPOCH))]),
        Some(sel) => {
            let mut m = BTreeMap::new();
            for f in cx.state.of_types(&sel.types) {
                if let Some(s) = f.text(&sel.subject) {
                    m.entry(s).or_insert((f.seq, f.occurred_at));
                }
            }
            m
        }
    };
    // When each record happened, by the subject it is a record of (all
    // under "" when records are not per subject), sorted: a window is
    // looked up, not searched for, so that many subjects over a long
    // history stay linear in the records.
    let mut times: FxHashMap<String, Vec<OffsetDateTime>> = FxHashMap::default();
    for r in &records {
        let subject = match per {
            None => Some(String::new()),
            Some(_) => record_subject.and_then(|p| r.text(p)),
        };
        if let Some(subject) = subject {
            times.entry(subject).or_default().push(r.occurred_at);
        }
    }
    for t in times.values_mut() {
        t.sort_unstable();
    }
    let Some(first_record) = cx.state.facts().first().map(|f| f.occurred_at) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (subject, (known_seq, known_at)) in &subjects {
        let since = if per.is_some() {
            *known_at
        } else {
            first_record
        };
        let end = ends.get(subject.as_str());
        for w in windows(unit, tokyo_date(since), cx.horizon, cx.calendar) {
            // A window counts once it is over, and only if the ledger (or,
            // per subject, the subject) existed for all of it and the
            // subject had not ended by the day it began.
            if w.end() > cx.horizon
                || tokyo_date(since) > w.from
                || end.is_some_and(|e| *e <= w.from)
            {
                continue;
            }
            let found = times.get(subject.as_str()).is_some_and(|times| {
                let first = times.partition_point(|t| *t < w.start());
                times.get(first).is_some_and(|t| *t < w.end())
            });
            if !found {
                let label = crate::calendar::format_date(w.from);
                let whom = if subject.is_empty() {
                    String::new()
                } else {
                    format!("{subject}について、")
                };
                out.push(
                    raw(
                        FindingKind::MissingRecord,
                        (!subject.is_empty()).then(|| subject.clone()),
                        if per.is_some() {
                            vec![*known_seq]
                        } else {
                            vec![]
                        },
                        w.end(),
                    )
                    .says(
                        if w.from == w.until {
                            format!(
                                "{whom}{}（営業日）に{}の記録がない（{}）。",
                                date_ja(w.start()),
                                types.join("・"),
                                words
                            )
                        } else {
                            format!(
                                "{whom}{}から{}までの期間に{}の記録がない（{}）。",
                                date_ja(w.start()),
                                date_ja(start_of(w.until)),
                                types.join("・"),
                                words
                            )
                        },
                        format!(
                            "{}No {} is recorded in the {} starting {label}.",
                            if subject.is_empty() {
                                String::new()
                            } else {
                                format!("{subject}: ")
                            },
                            types.join(" or "),
                            unit.name_en()
                        ),
                    ),
                );
            }
        }
    }
    out
}

fn units(f: &Fact, pointers: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for p in pointers {
        let Some(v) = f.value(p) else {
            continue;
        };
        if let Some(items) = v.items() {
            out.extend(
                items.filter_map(|i| i.get("code").and_then(|c| c.as_str()).map(str::to_owned)),
            );
        } else if let Some(s) = v.as_str() {
            out.push(s.to_owned());
        } else {
            out.extend(v.get("code").and_then(|c| c.as_str()).map(str::to_owned));
        }
    }
    out
}

fn independence(
    cx: &Context<'_>,
    checker: &Selector,
    checker_units: &[String],
    checked: &Selector,
    checked_units: &[String],
) -> Vec<Raw> {
    let mut orders: FxHashMap<String, Vec<&Fact>> = FxHashMap::default();
    for f in cx.state.of_types(&checked.types) {
        if let Some(s) = f.text(&checked.subject) {
            orders.entry(s).or_default().push(f);
        }
    }
    let mut out = Vec::new();
    for a in cx.state.of_types(&checker.types) {
        if a.occurred_at >= cx.horizon {
            continue;
        }
        let Some(subject) = a.text(&checker.subject) else {
            continue;
        };
        let mine = units(a, checker_units);
        for o in orders.get(&subject).into_iter().flatten() {
            let theirs = units(o, checked_units);
            if let Some(shared) = mine.iter().find(|u| theirs.contains(u)) {
                out.push(
                    raw(
                        FindingKind::Violation,
                        Some(subject.clone()),
                        vec![o.seq, a.seq],
                        a.occurred_at,
                    )
                    .says(
                        format!(
                            "{subject}の監査を行う者が、監査対象の部署（{shared}）に属している。"
                        ),
                        format!("The auditor of {subject} belongs to an audited unit ({shared})."),
                    ),
                );
                break;
            }
        }
    }
    out
}

fn ageing(cx: &Context<'_>, open: &Selector, close: &Selector, threshold: &str) -> Vec<Raw> {
    let limit = &cx.thresholds.ageing[threshold];
    let mut closes: FxHashMap<String, &Fact> = FxHashMap::default();
    for c in cx.state.of_types(&close.types) {
        if let Some(s) = c.text(&close.subject) {
            closes.entry(s).or_insert(c);
        }
    }
    let mut out = Vec::new();
    for o in cx.state.of_types(&open.types) {
        if !open.selects(&o.payload) {
            continue;
        }
        let Some(subject) = o.text(&open.subject) else {
            continue;
        };
        let due = limit.due(o.occurred_at, cx.calendar);
        if due >= cx.horizon {
            continue;
        }
        let closed = closes.get(&subject).filter(|c| c.seq > o.seq);
        match closed {
            Some(c) if c.occurred_at <= due => {}
            _ => {
                let mut f = raw(
                    FindingKind::Overdue,
                    Some(subject.clone()),
                    vec![o.seq],
                    due,
                )
                .says(
                    format!(
                        "{}に記録された{}（{}）が、{}を超えて完了していない。",
                        date_ja(o.occurred_at),
                        o.event_type,
                        subject,
                        limit.figure_ja()
                    ),
                    format!(
                        "{} {subject} of {} stayed open beyond {}.",
                        o.event_type,
                        date_en(o.occurred_at),
                        limit.figure_en()
                    ),
                );
                if let Some(c) = closed {
                    f.seqs.push(c.seq);
                    f.resolved = Some((c.seq, c.occurred_at));
                }
                out.push(f);
            }
        }
    }
    out
}

fn forbidden_after(cx: &Context<'_>, ending: &Selector, acts: &Selector) -> Vec<Raw> {
    let mut ended: FxHashMap<String, &Fact> = FxHashMap::default();
    for e in cx.state.of_types(&ending.types) {
        if let Some(s) = e.text(&ending.subject) {
            ended.entry(s).or_insert(e);
        }
    }
    // Acts up to the first ending cannot follow one: they are passed over
    // before their payload is read, which is most of this rule's time.
    let Some(first_end) = ended.values().map(|e| e.occurred_at).min() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for a in cx.state.of_types(&acts.types) {
        if a.occurred_at <= first_end || a.occurred_at >= cx.horizon || !acts.selects(&a.payload) {
            continue;
        }
        let Some(subject) = a.text_ref(&acts.subject) else {
            continue;
        };
        if let Some(e) = ended
            .get(&*subject)
            .filter(|e| e.occurred_at < a.occurred_at)
        {
            out.push(
                raw(
                    FindingKind::Violation,
                    Some(subject.clone().into_owned()),
                    vec![e.seq, a.seq],
                    a.occurred_at,
                )
                .says(
                    format!(
                        "{}の{}の後、{}に{}が記録されている。",
                        date_ja(e.occurred_at),
                        e.event_type,
                        time_ja(a.occurred_at),
                        a.event_type
                    ),
                    format!(
                        "{} was recorded on {} after {} on {}.",
                        a.event_type,
                        date_en(a.occurred_at),
                        e.event_type,
                        date_en(e.occurred_at)
                    ),
                ),
            );
        }
    }
    out
}

/// One move of an item: a subject came to hold it, or it was released.
enum Move<'a> {
    Held(&'a Fact, String),
    Released(&'a Fact),
}

impl<'a> Move<'a> {
    fn fact(&self) -> &'a Fact {
        match self {
            Move::Held(f, _) | Move::Released(f) => f,
        }
    }
}

/// What each subject held when an ending came is released within the
/// latency (第14条第8号). The item's moves are taken in the order they
/// happened; a hold that was still the item's last move when the holder's
/// next ending came is to be released, by a release of the item or a hold
/// by someone else. A subject may end more than once (transferred twice).
fn released_at_ending(
    cx: &Context<'_>,
    ending: &Selector,
    held: &Selector,
    items: &[String],
    released: &[String],
    threshold: &str,
) -> Vec<Raw> {
    let limit = &cx.thresholds.latencies[threshold];
    let mut ended: FxHashMap<String, Vec<&Fact>> = FxHashMap::default();
    for e in cx.state.of_types(&ending.types) {
        if !ending.selects(&e.payload) {
            continue;
        }
        if let Some(s) = e.text(&ending.subject) {
            ended.entry(s).or_default().push(e);
        }
    }
    if ended.is_empty() {
        return Vec::new();
    }
    for ends in ended.values_mut() {
        ends.sort_by_key(|e| (e.occurred_at, e.seq));
    }
    let item_of = |f: &Fact| items.iter().find_map(|p| f.text(p));
    let mut moves: FxHashMap<String, Vec<Move<'_>>> = FxHashMap::default();
    for f in cx.state.of_types(&held.types) {
        if !held.selects(&f.payload) {
            continue;
        }
        if let (Some(item), Some(holder)) = (item_of(f), f.text(&held.subject)) {
            moves.entry(item).or_default().push(Move::Held(f, holder));
        }
    }
    for f in cx.state.of_types(released) {
        if let Some(item) = item_of(f) {
            moves.entry(item).or_default().push(Move::Released(f));
        }
    }
    let mut moves: Vec<(String, Vec<Move<'_>>)> = moves.into_iter().collect();
    moves.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let words = format!("{}（{}）", limit.words_ja, limit.figure_ja());
    let mut out = Vec::new();
    for (item, mut ms) in moves {
        ms.sort_by_key(|m| (m.fact().occurred_at, m.fact().seq));
        for (i, m) in ms.iter().enumerate() {
            let Move::Held(h, holder) = m else {
                continue;
            };
            // The holder's first ending at or after the hold, if the hold
            // was still the item's last move then.
            let Some(e) = ended
                .get(holder)
                .and_then(|ends| ends.iter().find(|e| e.occurred_at >= h.occurred_at))
            else {
                continue;
            };
            if ms
                .get(i + 1)
                .is_some_and(|n| n.fact().occurred_at <= e.occurred_at)
            {
                continue;
            }
            let due = limit.due(e.occurred_at, cx.calendar);
            if due >= cx.horizon && e.occurred_at >= cx.horizon {
                continue;
            }
            let release = ms[i + 1..].iter().find(|n| match n {
                Move::Released(_) => true,
                Move::Held(_, other) => other != holder,
            });
            let what_ja = format!(
                "{}の{}（{}）の時点で貸与されていた{}（{}の{}）",
                time_ja(e.occurred_at),
                e.event_type,
                holder,
                item,
                time_ja(h.occurred_at),
                h.event_type
            );
            match release.map(Move::fact) {
                Some(r) if r.occurred_at <= due => {}
                Some(r) => {
                    let mut f = raw(
                        FindingKind::Overdue,
                        Some(holder.clone()),
                        vec![h.seq, e.seq, r.seq],
                        due,
                    )
                    .anchored(e.seq)
                    .says(
                        format!(
                            "{what_ja}の返却が{}の{}で記録され、{words}の期限を過ぎていた。",
                            time_ja(r.occurred_at),
                            r.event_type
                        ),
                        format!(
                            "{item}, held by {holder} through {} ({}), came back by {} only on {}, beyond {} after {} on {}.",
                            h.event_type,
                            date_en(h.occurred_at),
                            r.event_type,
                            date_en(r.occurred_at),
                            limit.figure_en(),
                            e.event_type,
                            date_en(e.occurred_at)
                        ),
                    );
                    f.resolved = Some((r.seq, r.occurred_at));
                    if due < cx.horizon {
                        out.push(f);
                    }
                }
                None if due < cx.horizon => out.push(
                    raw(
                        FindingKind::Overdue,
                        Some(holder.clone()),
                        vec![h.seq, e.seq],
                        due,
                    )
                    .anchored(e.seq)
                    .says(
                        format!("{what_ja}の返却の記録がない（{words}）。"),
                        format!(
                            "{item}, held by {holder} through {} ({}), has no return recorded after {} on {} (due within {}).",
                            h.event_type,
                            date_en(h.occurred_at),
                            e.event_type,
                            date_en(e.occurred_at),
                            limit.figure_en()
                        ),
                    ),
                ),
                None => {}
            }
        }
    }
    out
}

/// The subjects an act names at a pointer: a text, or each text of an
/// array, once each; where the pointer passes through an array as `/*`
/// (`/recipients/*/staff_id`), the text at the rest of it in each item.
fn subjects_at(f: &Fact, pointer: &str) -> Vec<String> {
    if let Some((array, rest)) = pointer
        .split_once("/*")
        .filter(|(_, rest)| rest.is_empty() || rest.starts_with('/'))
    {
        let mut out: Vec<String> = f
            .value(array)
            .and_then(|a| a.items())
            .into_iter()
            .flatten()
            .filter_map(|item| item.pointer(rest).and_then(|v| v.text()))
            .map(std::borrow::Cow::into_owned)
            .collect();
        out.sort_unstable();
        out.dedup();
        return out;
    }
    let mut out: Vec<String> = match f.value(pointer) {
        Some(v) => match v.items() {
            Some(items) => items
                .filter_map(|i| i.text().map(std::borrow::Cow::into_owned))
                .collect(),
            None => v
                .text()
                .map(std::borrow::Cow::into_owned)
                .into_iter()
                .collect(),
        },
        None => Vec::new(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// How a finding names the acts a selector picks: their types, and the
/// values it selects them by.
fn selected(sel: &Selector) -> String {
    match &sel.only {
        Some(only) => format!("{}（{}）", sel.types.join("・"), only.any_of.join("・")),
        None => sel.types.join("・"),
    }
}

fn prior_act(cx: &Context<'_>, first: &Selector, then: &Selector) -> Vec<Raw> {
    // The earliest act of the first kind, per subject.
    let mut earliest: FxHashMap<String, &Fact> = FxHashMap::default();
    for f in cx.state.of_types(&first.types) {
        if !first.selects(&f.payload) {
            continue;
        }
        for s in subjects_at(f, &first.subject) {
            earliest
                .entry(s)
                .and_modify(|e| {
                    if f.occurred_at < e.occurred_at {
                        *e = f;
                    }
                })
                .or_insert(f);
        }
    }
    let mut out = Vec::new();
    for t in cx.state.of_types(&then.types) {
        if t.occurred_at >= cx.horizon || !then.selects(&t.payload) {
            continue;
        }
        for subject in subjects_at(t, &then.subject) {
            let before = earliest.get(&subject);
            if before.is_some_and(|f| f.occurred_at <= t.occurred_at) {
                continue;
            }
            let (ja, en, mut seqs) = match before {
                Some(f) => (
                    format!(
                        "{}は後の{}に記録されている",
                        selected(first),
                        time_ja(f.occurred_at)
                    ),
                    format!(
                        "{} was recorded only later, on {}",
                        selected(first),
                        date_en(f.occurred_at)
                    ),
                    vec![f.seq],
                ),
                None => (
                    format!("先に行うべき{}の記録がない", selected(first)),
                    format!("no {} is recorded before it", selected(first)),
                    vec![],
                ),
            };
            seqs.push(t.seq);
            out.push(
                raw(
                    FindingKind::Violation,
                    Some(subject.clone()),
                    seqs,
                    t.occurred_at,
                )
                .anchored(t.seq)
                .says(
                    format!(
                        "{}の{}（{}）について、{}。",
                        time_ja(t.occurred_at),
                        selected(then),
                        subject,
                        ja
                    ),
                    format!(
                        "{} of {} on {}: {}.",
                        selected(then),
                        subject,
                        date_en(t.occurred_at),
                        en
                    ),
                ),
            );
        }
    }
    out
}

/// Acts that need a standing permission held when they happen (第26条第1項).
/// Grants and revocations are kept per subject and scope in the order they
/// happened (by seq where two share a moment, as the act is too); the last
/// one before the act decides: none or a revocation is a finding, and so is
/// a grant whose last day has passed. An act that names no subject, or no
/// scope where the rule has one, cannot be checked and is a finding.
fn standing_permission(
    cx: &Context<'_>,
    acts: &Selector,
    [granted, revoked]: [&Selector; 2],
    within: Option<&str>,
    valid_until: Option<&str>,
) -> Vec<Raw> {
    let scope_of = |f: &Fact| within.and_then(|p| f.text(p)).unwrap_or_default();
    let mut moves: FxHashMap<(String, String), Vec<(&Fact, bool)>> = FxHashMap::default();
    for (sel, grants) in [(granted, true), (revoked, false)] {
        for f in cx.state.of_types(&sel.types) {
            if !sel.selects(&f.payload) {
                continue;
            }
            for s in subjects_at(f, &sel.subject) {
                moves.entry((s, scope_of(f))).or_default().push((f, grants));
            }
        }
    }
    for m in moves.values_mut() {
        m.sort_by_key(|(f, _)| (f.occurred_at, f.seq));
    }
    let mut out = Vec::new();
    for a in cx.state.of_types(&acts.types) {
        if a.occurred_at >= cx.horizon || !acts.selects(&a.payload) {
            continue;
        }
        let scope = scope_of(a);
        let subjects = subjects_at(a, &acts.subject);
        // Whom or what for the permission is, where the act does not say.
        let unnamed = if subjects.is_empty() {
            Some(acts.subject.as_str())
        } else {
            within.filter(|_| scope.is_empty())
        };
        if let Some(p) = unnamed {
            out.push(
                raw(FindingKind::Violation, None, vec![a.seq], a.occurred_at)
                    .anchored(a.seq)
                    .says(
                        format!(
                            "{}の{}に{p}の記載がなく、許可を確かめられない。",
                            time_ja(a.occurred_at),
                            selected(acts),
                        ),
                        format!(
                            "{} on {} names nothing at {p}: its permission cannot be checked.",
                            selected(acts),
                            date_en(a.occurred_at),
                        ),
                    ),
            );
            continue;
        }
        let place = if scope.is_empty() {
            String::new()
        } else {
            format!("（{scope}）")
        };
        for subject in subjects {
            let last = moves.get(&(subject.clone(), scope.clone())).and_then(|m| {
                let after =
                    m.partition_point(|(f, _)| (f.occurred_at, f.seq) <= (a.occurred_at, a.seq));
                after.checked_sub(1).map(|i| m[i])
            });
            let (ja, en, mut seqs) = match last {
                None => (
                    format!("それまでに{}の記録がない", selected(granted)),
                    format!("no {} is recorded before it", selected(granted)),
                    vec![],
                ),
                Some((f, false)) => (
                    format!(
                        "{}に取り消されている: {}",
                        date_ja(f.occurred_at),
                        f.event_type
                    ),
                    format!(
                        "the permission was withdrawn on {} ({})",
                        date_en(f.occurred_at),
                        f.event_type
                    ),
                    vec![f.seq],
                ),
                Some((f, true)) => {
                    let until = valid_until
                        .and_then(|p| f.text(p))
                        .and_then(|t| parse_date(&t));
                    match until {
                        Some(d) if tokyo_date(a.occurred_at) > d => (
                            format!("期限は{}まで", date_ja(start_of(d))),
                            format!(
                                "the permission ran until {}",
                                crate::calendar::format_date(d)
                            ),
                            vec![f.seq],
                        ),
                        _ => continue,
                    }
                }
            };
            seqs.push(a.seq);
            out.push(
                raw(
                    FindingKind::Violation,
                    Some(subject.clone()),
                    seqs,
                    a.occurred_at,
                )
                .anchored(a.seq)
                .says(
                    format!(
                        "{}の{}{place}について、{}は許可を受けていなかった（{}）。",
                        time_ja(a.occurred_at),
                        selected(acts),
                        subject,
                        ja
                    ),
                    format!(
                        "{} by {} on {} without a standing permission{}: {}.",
                        selected(acts),
                        subject,
                        date_en(a.occurred_at),
                        if scope.is_empty() {
                            String::new()
                        } else {
                            format!(" for {scope}")
                        },
                        en
                    ),
                ),
            );
        }
    }
    out
}

fn lifecycle(cx: &Context<'_>, subject: &str, transitions: &[Transition]) -> Vec<Raw> {
    let types: Vec<String> = transitions.iter().map(|t| t.event_type.clone()).collect();
    let mut states: FxHashMap<String, String> = FxHashMap::default();
    let mut out = Vec::new();
    for f in cx.state.of_types(&types) {
        let Some(id) = f.text(subject) else {
            continue;
        };
        let now = states.get(&id).map_or("none", String::as_str);
        let Some(t) = transitions
            .iter()
            .find(|t| *t.event_type == *f.event_type && t.from.iter().any(|s| s == now))
        else {
            if f.occurred_at < cx.horizon {
                out.push(
                    raw(
                        FindingKind::InconsistentRecord,
                        Some(id.clone()),
                        vec![f.seq],
                        f.occurred_at,
                    )
                    .says(
                        format!(
                            "{}の{}（{}）は、それまでの記録（状態: {}）と整合しない。",
                            date_ja(f.occurred_at),
                            f.event_type,
                            id,
                            now
                        ),
                        format!(
                            "{} of {} on {} does not fit its history (state: {now}).",
                            f.event_type,
                            id,
                            date_en(f.occurred_at)
                        ),
                    ),
                );
            }
            continue;
        };
        states.insert(id, t.to.clone());
    }
    out
}
