//! An evaluation: every article's status over a period, with the findings
//! behind it, computed from the state as of a ledger size. The same state,
//! rules and period always give the same bytes (RFC 8785).

use std::collections::BTreeMap;

use daicho_catalogue::Catalogue;
use daicho_catalogue::Evaluation as ArticleClass;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::calendar::{format_date, parse_date, reiwa_year, tokyo_date, Period};
use crate::engine::{self, Context, FindingKind, Raw};
use crate::rules::{article_of, Rule, Rulebook, Severity};
use crate::state::State;
use crate::thresholds::Thresholds;

/// The evaluation format tag.
pub const EVALUATION_FORMAT: &str = "daicho-evaluation/v1";

/// An article's status over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Evaluated; events in the period, no finding.
    Compliant,
    /// At least one finding.
    NonCompliant,
    /// The only deviations are covered by an approved exception (第73条).
    CompliantByException,
    /// Evaluated, but nothing the article governs happened in the period.
    NoRecords,
    /// Evidenced; the required records are present at their cadence.
    Evidenced,
    /// Evidenced; a required record or cadence is missing.
    EvidenceMissing,
    /// Purpose, definitions, scope or delegation: nothing to evaluate.
    Declarative,
}

impl Status {
    /// Every status, in the order reports list them.
    pub const ALL: [Status; 7] = [
        Status::Compliant,
        Status::NonCompliant,
        Status::CompliantByException,
        Status::NoRecords,
        Status::Evidenced,
        Status::EvidenceMissing,
        Status::Declarative,
    ];

    /// The Japanese label a committee reads.
    pub fn label_ja(self) -> &'static str {
        match self {
            Status::Compliant => "適合",
            Status::NonCompliant => "不適合",
            Status::CompliantByException => "例外承認により適合",
            Status::NoRecords => "記録なし",
            Status::Evidenced => "実施確認",
            Status::EvidenceMissing => "未実施",
            Status::Declarative => "規定のみ",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::NonCompliant => "non-compliant",
            Status::CompliantByException => "compliant under an approved exception",
            Status::NoRecords => "no records in the period",
            Status::Evidenced => "evidenced",
            Status::EvidenceMissing => "evidence missing",
            Status::Declarative => "declarative",
        }
    }
}

/// Whether a finding is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingState {
    /// Not yet resolved.
    Open,
    /// Resolved by a later entry.
    Resolved,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id: the first 16 hex digits of SHA-256 over the rule id, the
    /// subject, the entry it is about and when it became a finding; later
    /// entries (the one that resolves it) do not change it.
    pub id: String,
    /// The rule that found it.
    pub rule: String,
    /// The rule's kind.
    pub rule_kind: String,
    /// The paragraph or item: `37-1`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The same in Japanese: `第37条第1項`.
    pub ref_ja: String,
    /// The article.
    pub article: u32,
    /// How serious it is.
    pub severity: Severity,
    /// What kind of deviation.
    pub kind: FindingKind,
    /// The subject (device, card, application, incident…), if one.
    pub subject: Option<String>,
    /// What was expected, in Japanese.
    pub expected_ja: String,
    /// What was expected, in English.
    pub expected_en: String,
    /// What happened, in Japanese.
    pub actual_ja: String,
    /// What happened, in English.
    pub actual_en: String,
    /// The seqs of the entries that prove it.
    pub seqs: Vec<u64>,
    /// The day it became a finding (Asia/Tokyo).
    pub detected_on: String,
    /// Open or resolved, as of the evaluation's ledger size.
    pub state: FindingState,
    /// The seq of the entry that resolved it.
    pub resolved_by: Option<u64>,
    /// The day it was resolved.
    pub resolved_on: Option<String>,
    /// Whether it became a finding before the period (an open item carried
    /// over, or one resolved in the period).
    pub carried_over: bool,
    /// The approved exception (第73条) that covers it.
    pub exception: Option<String>,
}

/// One article's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleResult {
    /// The article number.
    pub number: u32,
    /// 第N条.
    pub label_ja: String,
    /// The title as printed.
    pub title_ja: String,
    /// The English title.
    pub title_en: String,
    /// The chapter.
    pub chapter: u32,
    /// The section of the chapter, if any.
    pub section: Option<u32>,
    /// evaluated, evidenced or declarative.
    pub evaluation: ArticleClass,
    /// The status.
    pub status: Status,
    /// The status in Japanese.
    pub status_ja: String,
    /// Events in the period of the types the article governs.
    pub events: u64,
    /// Findings listed under the article for the period.
    pub findings: u64,
    /// Of those, the ones still open.
    pub open_findings: u64,
    /// Of the events, those recorded later than the late-entry threshold.
    pub late_entries: u64,
    /// The paragraphs and items with findings.
    pub refs_with_findings: Vec<String>,
    /// The ids of the rules that evaluate it.
    pub rules: Vec<String>,
}

/// The period evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodInfo {
    /// The fiscal year, when the period is a quarter.
    pub fiscal_year: Option<i32>,
    /// The quarter, when the period is one.
    pub quarter: Option<u8>,
    /// The first day.
    pub from: String,
    /// The last day.
    pub until: String,
    /// `令和8年度 第1四半期`, or the dates.
    pub label_ja: String,
}

/// The whole evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// [`EVALUATION_FORMAT`].
    pub format: String,
    /// The regulation and catalogue version it was measured against.
    pub regulation: RegulationInfo,
    /// The period.
    pub period: PeriodInfo,
    /// The ledger size the state was folded to.
    pub tree_size: u64,
    /// For a period not yet over, the instant obligations were judged at
    /// (RFC 3339); `None` when judged at the period's end.
    pub judged_until: Option<String>,
    /// The thresholds applied.
    pub thresholds: Thresholds,
    /// National holidays and closing days in the period.
    pub non_business_days: Vec<String>,
    /// Counts per status, and of findings.
    pub summary: Summary,
    /// All articles in order.
    pub articles: Vec<ArticleResult>,
    /// The findings, by article, ref and id.
    pub findings: Vec<Finding>,
}

/// The regulation an evaluation measures against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegulationInfo {
    /// The catalogue's id.
    pub id: String,
    /// The name.
    pub name_ja: String,
    /// The version of the text.
    pub version: u32,
}

/// Counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Articles per status.
    pub by_status: BTreeMap<Status, u64>,
    /// Findings listed.
    pub findings: u64,
    /// Of those, open.
    pub open: u64,
    /// Of those, carried over from earlier periods.
    pub carried_over: u64,
    /// Findings per severity.
    pub by_severity: BTreeMap<Severity, u64>,
}

/// Why an evaluation cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluateError {
    /// The state is as of a different size than asked.
    #[error("the state holds {held} entries, not {asked}")]
    Size {
        /// What the state holds.
        held: u64,
        /// What was asked.
        asked: u64,
    },
}

/// The refs of findings an exception covers, with its period and id.
struct Exception {
    id: String,
    refs: Vec<String>,
    from: Option<time::Date>,
    until: Option<time::Date>,
}

fn exceptions(state: &State) -> Vec<Exception> {
    let granted: std::collections::BTreeSet<String> = state
        .of_type("exception.granted")
        .filter_map(|f| f.text("/exception_id"))
        .collect();
    state
        .of_type("exception.requested")
        .filter_map(|f| {
            let id = f.text("/exception_id")?;
            if !granted.contains(&id) {
                return None;
            }
            let refs = f
                .value("/refs")?
                .items()?
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect();
            Some(Exception {
                id,
                refs,
                from: f.text("/period/from").and_then(|d| parse_date(&d)),
                until: f.text("/period/until").and_then(|d| parse_date(&d)),
            })
        })
        .collect()
}

fn covers(reference: &str, by: &str) -> bool {
    reference == by || reference.starts_with(&format!("{by}-"))
}

fn ref_ja(catalogue: &Catalogue, reference: &str) -> String {
    let Some(article) = article_of(reference).and_then(|n| catalogue.article(n)) else {
        return reference.to_owned();
    };
    for p in &article.paragraphs {
        if p.reference == reference {
            return p.ref_ja.clone();
        }
        for i in &p.items {
            if i.reference == reference {
                return i.ref_ja.clone();
            }
        }
    }
    format!("第{}条", article.number)
}

fn finding_id(rule: &Rule, raw: &Raw) -> String {
    let mut h = Sha256::new();
    h.update(rule.id.as_bytes());
    h.update([0]);
    h.update(raw.subject.as_deref().unwrap_or("").as_bytes());
    h.update([0]);
    h.update(raw.anchor.to_string().as_bytes());
    h.update([0]);
    h.update(raw.at.unix_timestamp().to_string().as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// A remark (`finding.remarked`) that closes a finding: a decision or an
/// accepted risk, as of the state.
fn closing_remarks(state: &State) -> BTreeMap<String, (u64, OffsetDateTime)> {
    let mut out = BTreeMap::new();
    for f in state.of_type("finding.remarked") {
        let closes = matches!(
            f.text("/kind").as_deref(),
            Some("decision" | "accepted_risk")
        );
        if let (true, Some(id)) = (closes, f.text("/finding_id")) {
            out.entry(id).or_insert((f.seq, f.occurred_at));
        }
    }
    out
}

/// Evaluates every article over `period`, from `state`: obligations are
/// judged as of the period's end.
pub fn evaluate(
    catalogue: &Catalogue,
    rulebook: &Rulebook,
    state: &State,
    period: Period,
    quarter: Option<(i32, u8)>,
) -> Evaluation {
    evaluate_until(catalogue, rulebook, state, period, quarter, None)
}

/// [`evaluate`] for a period that has not ended: obligations are judged as
/// of `until` when it falls inside the period, so that nothing not yet due
/// is reported. The evaluation states the instant it judged at.
pub fn evaluate_until(
    catalogue: &Catalogue,
    rulebook: &Rulebook,
    state: &State,
    period: Period,
    quarter: Option<(i32, u8)>,
    until: Option<OffsetDateTime>,
) -> Evaluation {
    let until = until.filter(|u| *u < period.end() && *u >= period.start());
    let horizon = until.unwrap_or_else(|| period.end());
    let cx = Context {
        state,
        thresholds: rulebook.thresholds(),
        calendar: rulebook.calendar(),
        horizon,
    };
    let exceptions = exceptions(state);
    let remarks = closing_remarks(state);
    let start = period.start();
    // The rules are independent of each other: they run on every core,
    // and their findings are taken in the rulebook's order.
    let raws: Vec<(&Rule, Vec<Raw>)> = rulebook
        .rules()
        .par_iter()
        .map(|rule| (rule, engine::run(rule, &cx)))
        .collect();
    let mut findings = Vec::new();
    for (rule, raws) in raws {
        for raw in raws {
            let id = finding_id(rule, &raw);
            let resolved = raw.resolved.or_else(|| remarks.get(&id).copied());
            // Listed when it became a finding by the period's end and was
            // not resolved before the period began.
            if raw.at >= horizon || resolved.is_some_and(|(_, at)| at < start) {
                continue;
            }
            let resolved = resolved.filter(|(_, at)| *at < horizon);
            let reference = rule.reference.clone();
            let day = tokyo_date(raw.at);
            let exception = exceptions
                .iter()
                .find(|e| {
                    e.refs.iter().any(|r| covers(&reference, r))
                        && e.from.is_none_or(|f| f <= day)
                        && e.until.is_none_or(|u| day <= u)
                })
                .map(|e| e.id.clone());
            findings.push(Finding {
                id,
                rule: rule.id.clone(),
                rule_kind: rule.check.kind().to_owned(),
                ref_ja: ref_ja(catalogue, &reference),
                article: article_of(&reference).unwrap_or(0),
                reference,
                severity: rule.severity,
                kind: raw.kind,
                subject: raw.subject,
                expected_ja: rule.expected_ja.clone(),
                expected_en: rule.expected_en.clone(),
                actual_ja: raw.actual_ja,
                actual_en: raw.actual_en,
                seqs: raw.seqs,
                detected_on: format_date(day),
                state: if resolved.is_some() {
                    FindingState::Resolved
                } else {
                    FindingState::Open
                },
                resolved_by: resolved.map(|(s, _)| s),
                resolved_on: resolved.map(|(_, at)| format_date(tokyo_date(at))),
                carried_over: raw.at < start,
                exception,
            });
        }
    }
    findings.sort_by(|a, b| {
        (a.article, &a.reference, &a.detected_on, &a.id).cmp(&(
            b.article,
            &b.reference,
            &b.detected_on,
            &b.id,
        ))
    });
    findings.dedup_by(|a, b| a.id == b.id);

    let late_after = time::Duration::days(i64::from(rulebook.thresholds().late_entry.days));
    // Events in the period and late entries among them, per event type,
    // counted in one pass: an article sums its types' counts.
    let end = period.end();
    let mut per_type: FxHashMap<&str, (u64, u64)> = FxHashMap::default();
    for f in state.facts() {
        if f.occurred_at >= start && f.occurred_at < end {
            let counts = per_type.entry(&*f.event_type).or_default();
            counts.0 += 1;
            if f.recorded_at - f.occurred_at > late_after {
                counts.1 += 1;
            }
        }
    }
    let mut articles = Vec::new();
    for a in catalogue.articles() {
        let types: std::collections::BTreeSet<&str> =
            a.event_types.iter().map(String::as_str).collect();
        let (events, late) = types
            .iter()
            .filter_map(|t| per_type.get(t))
            .fold((0, 0), |(e, l), (te, tl)| (e + te, l + tl));
        let mine: Vec<&Finding> = findings.iter().filter(|f| f.article == a.number).collect();
        let rules: Vec<&Rule> = rulebook.for_article(a.number).collect();
        let deviations: Vec<&&Finding> = mine
            .iter()
            .filter(|f| f.state == FindingState::Open || !f.carried_over)
            .collect();
        let uncovered = deviations.iter().filter(|f| f.exception.is_none()).count();
        let status = match a.evaluation {
            ArticleClass::Declarative => Status::Declarative,
            ArticleClass::Evidenced => {
                let missing = deviations
                    .iter()
                    .filter(|f| f.exception.is_none() && f.kind == FindingKind::MissingRecord)
                    .count();
                if uncovered > missing {
                    Status::NonCompliant
                } else if missing > 0 {
                    Status::EvidenceMissing
                } else if events == 0 && deviations.is_empty() {
                    Status::NoRecords
                } else {
                    Status::Evidenced
                }
            }
            ArticleClass::Evaluated => {
                if uncovered > 0 {
                    Status::NonCompliant
                } else if !deviations.is_empty() {
                    Status::CompliantByException
                } else if events == 0 {
                    Status::NoRecords
                } else {
                    Status::Compliant
                }
            }
        };
        let mut refs: Vec<String> = mine.iter().map(|f| f.reference.clone()).collect();
        refs.sort_by_key(|r| {
            r.split('-')
                .map(|n| n.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>()
        });
        refs.dedup();
        articles.push(ArticleResult {
            number: a.number,
            label_ja: format!("第{}条", a.number),
            title_ja: a.title_ja.clone(),
            title_en: a.title_en.clone(),
            chapter: a.chapter.number,
            section: a.section.as_ref().map(|s| s.number),
            evaluation: a.evaluation,
            status,
            status_ja: status.label_ja().to_owned(),
            events,
            findings: mine.len() as u64,
            open_findings: mine
                .iter()
                .filter(|f| f.state == FindingState::Open)
                .count() as u64,
            late_entries: late,
            refs_with_findings: refs,
            rules: rules.iter().map(|r| r.id.clone()).collect(),
        });
    }
    let mut by_status: BTreeMap<Status, u64> = Status::ALL.iter().map(|s| (*s, 0)).collect();
    for a in &articles {
        *by_status.entry(a.status).or_default() += 1;
    }
    let mut by_severity: BTreeMap<Severity, u64> = BTreeMap::new();
    for f in &findings {
        *by_severity.entry(f.severity).or_default() += 1;
    }
    let calendar = rulebook.calendar();
    let mut non_business_days = Vec::new();
    let mut d = period.from;
    while d <= period.until {
        if !matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday)
            && !calendar.is_business_day(d)
        {
            non_business_days.push(format_date(d));
        }
        d = d.next_day().expect("a next day");
    }
    let regulation = catalogue.regulation();
    Evaluation {
        format: EVALUATION_FORMAT.to_owned(),
        regulation: RegulationInfo {
            id: regulation.id.clone(),
            name_ja: regulation.name_ja.clone(),
            version: regulation.version,
        },
        period: PeriodInfo {
            fiscal_year: quarter.map(|q| q.0),
            quarter: quarter.map(|q| q.1),
            from: format_date(period.from),
            until: format_date(period.until),
            label_ja: match quarter {
                Some((fy, q)) => match reiwa_year(fy) {
                    Some(1) => format!("令和元年度 第{q}四半期"),
                    Some(r) => format!("令和{r}年度 第{q}四半期"),
                    None => format!("{fy}年度 第{q}四半期"),
                },
                None => format!(
                    "{}から{}まで",
                    format_date(period.from),
                    format_date(period.until)
                ),
            },
        },
        tree_size: state.size(),
        judged_until: until.map(|u| {
            u.to_offset(crate::calendar::JST)
                .format(&time::format_description::well_known::Rfc3339)
                .expect("instants format")
        }),
        thresholds: rulebook.thresholds().clone(),
        non_business_days,
        summary: Summary {
            by_status,
            findings: findings.len() as u64,
            open: findings
                .iter()
                .filter(|f| f.state == FindingState::Open)
                .count() as u64,
            carried_over: findings.iter().filter(|f| f.carried_over).count() as u64,
            by_severity,
        },
        articles,
        findings,
    }
}

impl Evaluation {
    /// The canonical (RFC 8785) bytes: the same state, rules and period
    /// always give the same bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        daicho_core::jcs::canonicalize(self)
    }
}
