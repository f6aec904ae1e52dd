//! Rules as data (`rules/rules.json` in the catalogue directory): a small
//! set of rule kinds written here, instantiated per article by the file, so
//! that another municipality adapts the rules by editing data. The loader
//! checks the file as strictly as the catalogue's loader checks schemas.
//!
//! It is long because the data model of every rule kind and the loader's
//! checks of it must change together: a new parameter is added here, with
//! its check, or the loader would accept data the engine cannot read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use daicho_catalogue::Catalogue;
use daicho_catalogue::Evaluation as ArticleClass;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::calendar::{Calendar, CalendarFile};
use crate::thresholds::Thresholds;

/// The rules file.
pub const RULES_FILE: &str = "rules/rules.json";
/// The thresholds file.
pub const THRESHOLDS_FILE: &str = "rules/thresholds.json";
/// The calendar file.
pub const CALENDAR_FILE: &str = "rules/calendar.json";

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Information could leak or an act went unauthorised.
    High,
    /// A control was late or incomplete.
    Medium,
    /// A record is incomplete.
    Low,
}

impl Severity {
    /// The Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            Severity::High => "高",
            Severity::Medium => "中",
            Severity::Low => "低",
        }
    }
}

/// One rule: a check of one kind on one `ref` of the regulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A stable id, unique in the file, e.g. `37-1.usb-use-approved`.
    pub id: String,
    /// The paragraph or item it checks: `37-1`, `37-3-2`, or an article `17`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// How serious its findings are.
    pub severity: Severity,
    /// What is expected, in Japanese (「…の承認を受けていること」).
    pub expected_ja: String,
    /// What is expected, in English.
    pub expected_en: String,
    /// The check.
    pub check: Check,
}

/// Where a rule reads a subject's id in the payload of some event types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// The event types.
    pub types: Vec<String>,
    /// RFC 6901 pointer to the subject's id in their payloads.
    pub subject: String,
    /// Only the events whose payload has one of these values at a pointer
    /// (e.g. only temporary and part-time staff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<OnlyWhere>,
}

/// A filter on a payload value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlyWhere {
    /// Pointer into the payload.
    pub pointer: String,
    /// The values that select an event.
    pub any_of: Vec<String>,
}

impl Selector {
    /// Whether an event with this payload is selected (its type aside).
    pub fn selects(&self, payload: &crate::Payload) -> bool {
        self.only.as_ref().is_none_or(|o| o.selects(payload))
    }
}

impl OnlyWhere {
    /// Whether a payload has one of the values at the pointer.
    pub fn selects(&self, payload: &crate::Payload) -> bool {
        payload
            .pointer(&self.pointer)
            .filter(|_| !self.pointer.is_empty())
            .and_then(|d| d.text())
            .is_some_and(|v| self.any_of.iter().any(|a| *a == *v))
    }
}

/// How long an approval lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, tag = "until")]
pub enum Validity {
    /// Until withdrawn or expired.
    Unlimited,
    /// Until March 31 of the fiscal year of the grant (様式12).
    FiscalYearEnd,
    /// Until a date in the grant's payload (inclusive), if given.
    Date {
        /// Pointer to the date in the grant.
        pointer: String,
    },
    /// Within a `{from, until}` period in the request (様式10).
    RequestedPeriod {
        /// Pointer to the period in the request.
        pointer: String,
    },
}

/// The kinds of rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum Check {
    /// An act needs an approval granted before it, by an empowered role,
    /// still valid at the act.
    PriorApproval {
        /// The acts.
        acts: Vec<String>,
        /// Pointer to the application id the act names, if it names one.
        #[serde(default)]
        act_application: Option<String>,
        /// Pointer to the subject in the act, to find an approval of the
        /// same subject when the act names none.
        #[serde(default)]
        act_subject: Option<String>,
        /// The application's type stem: `usb` for `usb.approval.*`.
        stem: String,
        /// Pointer to the subject in the request.
        #[serde(default)]
        request_subject: Option<String>,
        /// Roles that may grant it.
        approver_roles: Vec<String>,
        /// How long a grant lasts.
        validity: Validity,
        /// Whether the act needs the approval only outside operating hours.
        #[serde(default)]
        only_outside_operating_hours: bool,
    },
    /// Acts of these types must be performed in one of these roles.
    ActorRole {
        /// The acts.
        types: Vec<String>,
        /// Only the acts whose payload has one of these values at a
        /// pointer (第19条第4項: changes to network equipment).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        only: Option<OnlyWhere>,
        /// The empowered roles.
        roles: Vec<String>,
    },
    /// A record must contain what the regulation prescribes.
    RequiredContents {
        /// The acts.
        types: Vec<String>,
        /// Only the acts whose payload has one of these values at a
        /// pointer (第26条第4項: only visitors are escorted).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        only: Option<OnlyWhere>,
        /// Pointer to what a finding is about (the medium, the section),
        /// shown as its subject.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        /// What each must contain.
        fields: Vec<FieldCheck>,
    },
    /// After a trigger, a response on the same subject within a threshold.
    Latency {
        /// The triggers.
        trigger: Selector,
        /// Pointer to a more precise start than `occurred_at`, if the
        /// trigger carries one.
        #[serde(default)]
        trigger_time: Option<String>,
        /// The responses.
        response: Selector,
        /// The name of a latency in the thresholds.
        threshold: String,
    },
    /// A monthly submission due by a day of the month before the month it
    /// covers.
    Deadline {
        /// The submissions.
        types: Vec<String>,
        /// Pointer to the month (`YYYY-MM`) it covers.
        month: String,
        /// Due by this day of the previous month; `None` is its last day.
        #[serde(default)]
        day_of_month: Option<u8>,
    },
    /// Records at a cadence.
    Presence {
        /// The records.
        types: Vec<String>,
        /// The name of a cadence in the thresholds.
        cadence: String,
        /// Pointer to a subject the records are required per, with the
        /// types that make a subject known (e.g. every registered system).
        #[serde(default)]
        per: Option<Selector>,
        /// Pointer to the subject in the records, when `per` is given.
        #[serde(default)]
        record_subject: Option<String>,
        /// What ends a subject of `per` (a section abolished): no window
        /// that begins on or after the day it ended is required.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ended: Option<Selector>,
        /// Pointer to the day (`YYYY-MM-DD`) an ending takes effect
        /// (`/abolished_on`); without it, or where the ending has none,
        /// the day it happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ended_on: Option<String>,
    },
    /// Who checks must not belong to the unit checked.
    Independence {
        /// The assignment of the checker.
        checker: Selector,
        /// Pointers to the checker's unit codes in the assignment.
        checker_units: Vec<String>,
        /// The order that names the checked units, keyed like `checker`.
        checked: Selector,
        /// Pointers to arrays of units in the order, each unit's code at
        /// `/code`.
        checked_units: Vec<String>,
    },
    /// An item opened by one event stays open until another closes it, no
    /// longer than a threshold.
    OpenItemAgeing {
        /// What opens an item.
        open: Selector,
        /// What closes it.
        close: Selector,
        /// The name of an ageing threshold.
        threshold: String,
    },
    /// Nothing may be done with a subject after an event ends it.
    ForbiddenAfter {
        /// What ends the subject.
        ending: Selector,
        /// The acts that may not follow.
        acts: Selector,
    },
    /// An act must come after another act on the same subject
    /// (「…に報告したうえで…に報告しなければならない」).
    PriorAct {
        /// The act that must come first. Its subject may be an array, each
        /// item a subject.
        first: Selector,
        /// The act that must follow it.
        then: Selector,
    },
    /// What a subject holds when an event ends it is released within a
    /// latency (第14条第8号: 異動、退職等により業務を離れる場合には、利用して
    /// いた情報資産を返却すること). An item is held by the subject whose
    /// `held` event for it came last; it is released by a `released` event
    /// for it, or by a `held` event for it that names another subject.
    ReleasedAtEnding {
        /// What ends the subject.
        ending: Selector,
        /// What makes a subject hold an item; its `subject` points to the
        /// holder.
        held: Selector,
        /// Pointers to the item's id in the `held` and `released` events:
        /// the first that holds a text names the item.
        items: Vec<String>,
        /// The event types that release an item.
        released: Vec<String>,
        /// The name of a latency: how long after the ending the release
        /// may come.
        threshold: String,
    },
    /// An application whose request names two different units is granted
    /// only after a consent of its family (第12条第2項: when another
    /// section outputs data, the section that holds it consents first).
    ConsentBeforeGrant {
        /// The application's type stem: `data_output` for
        /// `data_output.approval.*` and `data_output.consent.*`.
        stem: String,
        /// Two pointers into the request: a consent is needed when both
        /// name a text and the texts differ.
        when_differ: [String; 2],
    },
    /// An act needs a standing permission held when it happens (第26条第1項:
    /// 入退室を許可された者のみに制限し): for the act's subject, within the
    /// same scope where the rule names one, the last grant or revocation
    /// before the act is a grant, and the grant's last day, where it names
    /// one, has not passed.
    StandingPermission {
        /// The acts that need the permission; `subject` points to who acts.
        acts: Selector,
        /// What grants it; `subject` points to whom.
        granted: Selector,
        /// What withdraws it; `subject` points to whom.
        revoked: Selector,
        /// Pointer to what the permission is for (the managed area), the
        /// same in the acts, grants and revocations.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        within: Option<String>,
        /// Pointer to the grant's last day (`YYYY-MM-DD`, inclusive), if
        /// it names one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        valid_until: Option<String>,
    },
    /// Each subject moves through states; an event that does not fit its
    /// subject's history is an inconsistent record.
    Lifecycle {
        /// Pointer to the subject in every event of the lifecycle.
        subject: String,
        /// The transitions.
        transitions: Vec<Transition>,
    },
}

/// What a record must contain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldCheck {
    /// Pointer into the payload.
    pub pointer: String,
    /// The value it must have; absent means "present".
    #[serde(default)]
    pub equals: Option<Value>,
    /// A value the array it names must hold (第55条第1項: the items the
    /// rules for a development cover); not with `equals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<Value>,
    /// What it means, in Japanese (「消去方法」).
    pub label_ja: String,
    /// What it means, in English.
    pub label_en: String,
}

/// One transition of a lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The states it may follow; `"none"` for a subject not seen before.
    pub from: Vec<String>,
    /// The state it leads to.
    pub to: String,
}

impl Check {
    /// The kind's name as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::PriorApproval { .. } => "prior_approval",
            Check::ActorRole { .. } => "actor_role",
            Check::RequiredContents { .. } => "required_contents",
            Check::Latency { .. } => "latency",
            Check::Deadline { .. } => "deadline",
            Check::Presence { .. } => "presence",
            Check::Independence { .. } => "independence",
            Check::OpenItemAgeing { .. } => "open_item_ageing",
            Check::ForbiddenAfter { .. } => "forbidden_after",
            Check::PriorAct { .. } => "prior_act",
            Check::ReleasedAtEnding { .. } => "released_at_ending",
            Check::ConsentBeforeGrant { .. } => "consent_before_grant",
            Check::StandingPermission { .. } => "standing_permission",
            Check::Lifecycle { .. } => "lifecycle",
        }
    }

    /// Every event type the check reads.
    pub fn event_types(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        fn sel(s: &Selector) -> impl Iterator<Item = &str> {
            s.types.iter().map(String::as_str)
        }
        match self {
            Check::PriorApproval { acts, .. } => out.extend(acts.iter().map(String::as_str)),
            Check::ActorRole { types, .. }
            | Check::RequiredContents { types, .. }
            | Check::Deadline { types, .. }
            | Check::Presence { types, .. } => out.extend(types.iter().map(String::as_str)),
            Check::Latency {
                trigger, response, ..
            } => {
                out.extend(sel(trigger));
                out.extend(sel(response));
            }
            Check::Independence {
                checker, checked, ..
            } => {
                out.extend(sel(checker));
                out.extend(sel(checked));
            }
            Check::OpenItemAgeing { open, close, .. } => {
                out.extend(sel(open));
                out.extend(sel(close));
            }
            Check::ForbiddenAfter { ending, acts } => {
                out.extend(sel(ending));
                out.extend(sel(acts));
            }
            Check::PriorAct { first, then } => {
                out.extend(sel(first));
                out.extend(sel(then));
            }
            Check::ReleasedAtEnding {
                ending,
                held,
                released,
                ..
            } => {
                out.extend(sel(ending));
                out.extend(sel(held));
                out.extend(released.iter().map(String::as_str));
            }
            Check::StandingPermission {
                acts,
                granted,
                revoked,
                ..
            } => {
                out.extend(sel(acts));
                out.extend(sel(granted));
                out.extend(sel(revoked));
            }
            Check::Lifecycle { transitions, .. } => {
                out.extend(transitions.iter().map(|t| t.event_type.as_str()))
            }
            // Its types follow from the stem, checked by the loader.
            Check::ConsentBeforeGrant { .. } => {}
        }
        if let Check::Presence { per, ended, .. } = self {
            out.extend(per.iter().chain(ended).flat_map(sel));
        }
        out
    }

    /// Whether a missing record is what the check reports (presence), so
    /// that an evidenced article's finding reads "evidence missing".
    pub fn is_presence(&self) -> bool {
        matches!(self, Check::Presence { .. })
    }
}

/// The rules file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[allow(dead_code)]
    description_en: String,
    #[allow(dead_code)]
    description_ja: String,
    rules: Vec<Rule>,
    unchecked: Vec<Unchecked>,
}

/// A paragraph or item of an evaluated article that no rule checks, and
/// why: the rules file accounts for every one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unchecked {
    /// The paragraph or item.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Why no rule checks it.
    pub reason: UncheckedReason,
    /// For [`UncheckedReason::CoveredBy`]: the refs whose rules check the
    /// same acts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<String>,
    /// For [`UncheckedReason::NotYet`]: what a rule would need, in
    /// Japanese.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_ja: Option<String>,
    /// The same in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_en: Option<String>,
}

/// Why a paragraph or item has no rule of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UncheckedReason {
    /// It defines terms or categories; nothing is done under it.
    Definition,
    /// A standing duty of conduct or care that no act records; a breach
    /// reaches the ledger as an incident (第21条) or a violation (第69条,
    /// 第75条), which their rules follow.
    Conduct,
    /// A permission (〜できる): nothing is required.
    Discretion,
    /// It turns on a judgement (必要に応じ, 努める, 考慮, 判断) that
    /// records cannot settle.
    Judgement,
    /// The acts it governs are checked by the rules of the refs in `by`.
    CoveredBy,
    /// No event of the catalogue records the act or measure.
    Unrecorded,
    /// Checkable from the records, but not by the present rule kinds; the
    /// note says what is missing.
    NotYet,
}

/// The rules, the thresholds and the calendar of a catalogue, checked
/// against it.
#[derive(Debug, Clone)]
pub struct Rulebook {
    rules: Vec<Rule>,
    unchecked: Vec<Unchecked>,
    thresholds: Thresholds,
    calendar: Calendar,
}

/// One problem with the rules data: the file, a JSON pointer into it, and
/// what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleProblem {
    /// The file, relative to the catalogue directory.
    pub file: String,
    /// RFC 6901 pointer into it.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// Why the rules data was refused: every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rules data has {} problem(s):\n{}", .0.len(), render(.0))]
pub struct RulesError(pub Vec<RuleProblem>);

fn render(problems: &[RuleProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {}#{}: {}", p.file, p.pointer, p.message))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Rulebook {
    /// The rules of the embedded default catalogue.
    pub fn embedded() -> &'static Rulebook {
        static RULEBOOK: OnceLock<Rulebook> = OnceLock::new();
        RULEBOOK.get_or_init(|| {
            Rulebook::from_files(&Catalogue::embedded_files(), Catalogue::embedded())
                .unwrap_or_else(|e| panic!("the embedded rules are valid: {e}"))
        })
    }

    /// Loads the rules data from a catalogue directory's files (paths
    /// relative to it, as `Catalogue::from_files` takes them) and checks it
    /// against the loaded catalogue.
    pub fn from_files(
        files: &BTreeMap<String, Vec<u8>>,
        catalogue: &Catalogue,
    ) -> Result<Rulebook, RulesError> {
        let mut problems = Vec::new();
        let mut push = |file: &str, pointer: String, message: String| {
            problems.push(RuleProblem {
                file: file.to_owned(),
                pointer,
                message,
            })
        };
        let rules: Option<RulesFile> = parse_file(files, RULES_FILE, &mut push);
        let thresholds: Option<Thresholds> = parse_file(files, THRESHOLDS_FILE, &mut push);
        let calendar: Option<CalendarFile> = parse_file(files, CALENDAR_FILE, &mut push);
        if let Some(t) = &thresholds {
            for (p, m) in t.problems() {
                push(THRESHOLDS_FILE, p, m);
            }
        }
        let calendar = calendar.and_then(|c| match c.build() {
            Ok(c) => Some(c),
            Err(ps) => {
                for (p, m) in ps {
                    push(CALENDAR_FILE, p, m);
                }
                None
            }
        });
        if let (Some(rules), Some(thresholds)) = (&rules, &thresholds) {
            for (p, m) in check_rules(&rules.rules, thresholds, catalogue) {
                push(RULES_FILE, p, m);
            }
            for (p, m) in check_unchecked(&rules.unchecked, &rules.rules, catalogue) {
                push(RULES_FILE, p, m);
            }
        }
        match (rules, thresholds, calendar) {
            (Some(r), Some(t), Some(c)) if problems.is_empty() => Ok(Rulebook {
                rules: r.rules,
                unchecked: r.unchecked,
                thresholds: t,
                calendar: c,
            }),
            _ => Err(RulesError(problems)),
        }
    }

    /// Every rule, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The paragraphs and items of evaluated articles that no rule
    /// checks, each with its reason.
    pub fn unchecked(&self) -> &[Unchecked] {
        &self.unchecked
    }

    /// The thresholds.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// The calendar.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The rules whose ref lies in article `number`.
    pub fn for_article(&self, number: u32) -> impl Iterator<Item = &Rule> {
        self.rules
            .iter()
            .filter(move |r| article_of(&r.reference) == Some(number))
    }
}

/// Whether a rule of ref `rule` checks the unit `unit`: the same ref, or
/// one within the other (a rule on `37-3` checks its items, one on
/// `37-3-2` checks that item of `37-3`).
pub fn checks(rule: &str, unit: &str) -> bool {
    rule == unit
        || rule
            .strip_prefix(unit)
            .is_some_and(|rest| rest.starts_with('-'))
        || unit
            .strip_prefix(rule)
            .is_some_and(|rest| rest.starts_with('-'))
}

/// The units of an article the rules account for: each item, or the
/// paragraph where it has none.
pub fn units(article: &daicho_catalogue::Article) -> Vec<&str> {
    let mut out = Vec::new();
    for p in &article.paragraphs {
        if p.items.is_empty() {
            out.push(p.reference.as_str());
        } else {
            out.extend(p.items.iter().map(|i| i.reference.as_str()));
        }
    }
    out
}

/// Checks the `unchecked` list: each entry a unit of an evaluated article
/// that no rule checks, once, with what its reason needs; and every unit
/// of an evaluated article either checked by a rule or listed.
fn check_unchecked(
    unchecked: &[Unchecked],
    rules: &[Rule],
    catalogue: &Catalogue,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut evaluated = BTreeSet::new();
    for a in catalogue.articles() {
        if a.evaluation == ArticleClass::Evaluated {
            evaluated.extend(units(a));
        }
    }
    let ruled = |unit: &str| rules.iter().any(|r| checks(&r.reference, unit));
    let mut listed = BTreeSet::new();
    for (i, u) in unchecked.iter().enumerate() {
        let at = |field: &str| format!("/unchecked/{i}{field}");
        let unit = u.reference.as_str();
        if !evaluated.contains(unit) {
            out.push((
                at("/ref"),
                format!("{unit:?} is no paragraph or item (without items) of an evaluated article"),
            ));
        } else if ruled(unit) {
            out.push((at("/ref"), format!("{unit:?} is checked by a rule")));
        }
        if !listed.insert(unit) {
            out.push((at("/ref"), format!("{unit:?} is listed twice")));
        }
        match u.reason {
            UncheckedReason::CoveredBy => {
                if u.by.is_empty() {
                    out.push((at("/by"), "name the refs whose rules check it".to_owned()));
                }
                for (j, by) in u.by.iter().enumerate() {
                    if !rules.iter().any(|r| r.reference == *by) {
                        out.push((at(&format!("/by/{j}")), format!("no rule has ref {by:?}")));
                    }
                }
            }
            _ if !u.by.is_empty() => {
                out.push((at("/by"), "only covered_by names refs".to_owned()));
            }
            _ => {}
        }
        let noted = |n: &Option<String>| n.as_deref().is_some_and(|t| !t.trim().is_empty());
        if u.reason == UncheckedReason::NotYet && !(noted(&u.note_ja) && noted(&u.note_en)) {
            out.push((
                at("/note_ja"),
                "say in both languages what a rule would need".to_owned(),
            ));
        }
    }
    for unit in evaluated {
        if !ruled(unit) && !listed.contains(unit) {
            out.push((
                "/unchecked".to_owned(),
                format!("{unit:?} is checked by no rule and not listed with a reason"),
            ));
        }
    }
    out
}

/// The article number of a ref (`37-3-2` → 37).
pub fn article_of(reference: &str) -> Option<u32> {
    reference.split('-').next()?.parse().ok()
}

fn parse_file<T: serde::de::DeserializeOwned>(
    files: &BTreeMap<String, Vec<u8>>,
    name: &str,
    push: &mut impl FnMut(&str, String, String),
) -> Option<T> {
    let Some(bytes) = files.get(name) else {
        push(name, String::new(), "the file is missing".to_owned());
        return None;
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => Some(v),
        Err(e) => {
            push(
                name,
                daicho_core::pointer::from_path(e.path()),
                e.inner().to_string(),
            );
            None
        }
    }
}

/// The checks serde cannot make: unique ids, refs, types, roles, threshold
/// names and pointers that exist.
fn check_rules(
    rules: &[Rule],
    thresholds: &Thresholds,
    catalogue: &Catalogue,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut refs = BTreeSet::new();
    for a in catalogue.articles() {
        refs.insert(a.number.to_string());
        for p in &a.paragraphs {
            refs.insert(p.reference.clone());
            for i in &p.items {
                refs.insert(i.reference.clone());
            }
        }
    }
    let mut ids = BTreeSet::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = |field: &str| format!("/rules/{i}{field}");
        if let Check::RequiredContents { fields, .. } = &rule.check {
            for (j, f) in fields.iter().enumerate() {
                if f.equals.is_some() && f.contains.is_some() {
                    out.push((
                        at(&format!("/check/fields/{j}")),
                        "a field is checked with equals or contains, not both".to_owned(),
                    ));
                }
            }
        }
        if let Check::Presence {
            per,
            ended,
            ended_on,
            ..
        } = &rule.check
        {
            if per.is_none() && ended.is_some() {
                out.push((
                    at("/check/ended"),
                    "only subjects named by per can end".to_owned(),
                ));
            }
            if ended.is_none() && ended_on.is_some() {
                out.push((
                    at("/check/ended_on"),
                    "ended_on reads the events named by ended".to_owned(),
                ));
            }
        }
        if rule.id.is_empty() || !ids.insert(rule.id.as_str()) {
            out.push((
                at("/id"),
                format!("rule id {:?} is empty or repeated", rule.id),
            ));
        }
        if !refs.contains(&rule.reference) {
            out.push((
                at("/ref"),
                format!(
                    "{:?} is no article, paragraph or item of the catalogue",
                    rule.reference
                ),
            ));
        } else if let Some(a) = article_of(&rule.reference).and_then(|n| catalogue.article(n)) {
            if a.evaluation == ArticleClass::Declarative {
                out.push((
                    at("/ref"),
                    format!(
                        "article {} is declarative: it has nothing to evaluate",
                        a.number
                    ),
                ));
            }
        }
        if rule.expected_ja.trim().is_empty() || rule.expected_en.trim().is_empty() {
            out.push((
                at("/expected_ja"),
                "state what is expected in both languages".to_owned(),
            ));
        }
        for t in rule.check.event_types() {
            if catalogue.event_type(t).is_none() {
                out.push((
                    at("/check"),
                    format!("event type {t:?} is not in the catalogue"),
                ));
            }
        }
        let pointers = pointers_of(&rule.check);
        for p in pointers {
            if !p.starts_with('/') {
                out.push((
                    at("/check"),
                    format!("{p:?} is not a JSON pointer into the payload"),
                ));
            }
        }
        match &rule.check {
            Check::PriorApproval {
                stem,
                approver_roles,
                ..
            } => {
                let granted = format!("{stem}.approval.granted");
                if catalogue.event_type(&granted).is_none() {
                    out.push((at("/check/stem"), format!("there is no {granted:?} type")));
                }
                for r in approver_roles {
                    if catalogue.role(r).is_none() {
                        out.push((at("/check/approver_roles"), format!("unknown role {r:?}")));
                    }
                }
            }
            Check::ConsentBeforeGrant { stem, .. } => {
                for step in ["approval.requested", "approval.granted", "consent.given"] {
                    let t = format!("{stem}.{step}");
                    if catalogue.event_type(&t).is_none() {
                        out.push((at("/check/stem"), format!("there is no {t:?} type")));
                    }
                }
            }
            Check::ActorRole { roles, .. } => {
                for r in roles {
                    if catalogue.role(r).is_none() {
                        out.push((at("/check/roles"), format!("unknown role {r:?}")));
                    }
                }
            }
            Check::Latency { threshold, .. } | Check::ReleasedAtEnding { threshold, .. }
                if !thresholds.latencies.contains_key(threshold) =>
            {
                out.push((
                    at("/check/threshold"),
                    format!("no latency named {threshold:?}"),
                ));
            }
            Check::OpenItemAgeing { threshold, .. }
                if !thresholds.ageing.contains_key(threshold) =>
            {
                out.push((
                    at("/check/threshold"),
                    format!("no ageing threshold named {threshold:?}"),
                ));
            }
            Check::Presence { cadence, .. } if !thresholds.cadences.contains_key(cadence) => {
                out.push((
                    at("/check/cadence"),
                    format!("no cadence named {cadence:?}"),
                ));
            }
            Check::Deadline {
                day_of_month: Some(d),
                ..
            } if !(1..=28).contains(d) => {
                out.push((
                    at("/check/day_of_month"),
                    "a day of month from 1 to 28".to_owned(),
                ));
            }
            _ => {}
        }
    }
    out
}

fn pointers_of(check: &Check) -> Vec<&str> {
    let mut out = Vec::new();
    match check {
        Check::PriorApproval {
            act_application,
            act_subject,
            request_subject,
            validity,
            ..
        } => {
            out.extend(act_application.as_deref());
            out.extend(act_subject.as_deref());
            out.extend(request_subject.as_deref());
            if let Validity::Date { pointer } | Validity::RequestedPeriod { pointer } = validity {
                out.push(pointer);
            }
        }
        Check::RequiredContents {
            fields,
            only,
            subject,
            ..
        } => {
            out.extend(fields.iter().map(|f| f.pointer.as_str()));
            out.extend(only.as_ref().map(|o| o.pointer.as_str()));
            out.extend(subject.as_deref());
        }
        Check::Latency {
            trigger,
            trigger_time,
            response,
            ..
        } => {
            out.push(&trigger.subject);
            out.push(&response.subject);
            out.extend(trigger_time.as_deref());
        }
        Check::Deadline { month, .. } => out.push(month),
        Check::Presence {
            per,
            record_subject,
            ended,
            ended_on,
            ..
        } => {
            out.extend(per.iter().chain(ended).map(|p| p.subject.as_str()));
            out.extend(record_subject.as_deref());
            out.extend(ended_on.as_deref());
        }
        Check::StandingPermission {
            acts,
            granted,
            revoked,
            within,
            valid_until,
        } => {
            out.extend([&acts.subject, &granted.subject, &revoked.subject].map(String::as_str));
            out.extend(within.as_deref());
            out.extend(valid_until.as_deref());
        }
        Check::Independence {
            checker,
            checker_units,
            checked,
            checked_units,
        } => {
            out.push(&checker.subject);
            out.push(&checked.subject);
            out.extend(checker_units.iter().map(String::as_str));
            out.extend(checked_units.iter().map(String::as_str));
        }
        Check::OpenItemAgeing { open, close, .. } => {
            out.push(&open.subject);
            out.push(&close.subject);
        }
        Check::ForbiddenAfter { ending, acts } => {
            out.push(&ending.subject);
            out.push(&acts.subject);
        }
        Check::PriorAct { first, then } => {
            out.push(&first.subject);
            out.push(&then.subject);
        }
        Check::ReleasedAtEnding {
            ending,
            held,
            items,
            ..
        } => {
            out.push(&ending.subject);
            out.push(&held.subject);
            out.extend(items.iter().map(String::as_str));
        }
        Check::Lifecycle { subject, .. } => out.push(subject),
        Check::ConsentBeforeGrant { when_differ, .. } => {
            out.extend(when_differ.iter().map(String::as_str))
        }
        Check::ActorRole { only, .. } => out.extend(only.as_ref().map(|o| o.pointer.as_str())),
    }
    out
}
