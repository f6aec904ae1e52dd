//! The registers the committee reviews: exceptions (第73条), incidents
//! (第20–21条), USB memory approvals (第37条) and 様式13 carry-outs, IC
//! cards lost and invalidated, audits and their findings (第76–81条), and
//! self-inspections (第82–83条).
//!
//! Each register is declared as data ([`SPECS`]): the event types it
//! gathers, the payload member that names its subject, and its columns.
//! A subject is listed when one of its events occurred in the quarter, or
//! when it was opened before the quarter's end and is not closed by then.

use std::collections::BTreeMap;

use daicho_catalogue::Catalogue;
use daicho_compliance::calendar::{format_date, tokyo_date, Period};
use daicho_compliance::state::{Fact, State};
use serde_json::Value;

use crate::model::{Column, Register};

/// Where a column's value comes from.
#[derive(Clone, Copy)]
enum Source {
    /// The subject's id.
    Subject,
    /// The date of the subject's first event.
    First,
    /// The Japanese title of the subject's latest event type.
    State,
    /// The date of the subject's latest event.
    Last,
    /// The date of the subject's first event of this type.
    DateOf(&'static str),
    /// The text at a payload pointer, from the first event that has it.
    Member(&'static str),
    /// Days from the first event to the latest (closed) or to the end of
    /// the quarter (open).
    Age,
    /// The seqs of the subject's events, ascending.
    Seqs,
}

struct ColumnSpec {
    key: &'static str,
    ja: &'static str,
    en: &'static str,
    source: Source,
}

const fn col(key: &'static str, ja: &'static str, en: &'static str, source: Source) -> ColumnSpec {
    ColumnSpec {
        key,
        ja,
        en,
        source,
    }
}

struct Spec {
    id: &'static str,
    title_ja: &'static str,
    title_en: &'static str,
    articles: &'static [u32],
    /// Event types, or prefixes ending in `.`.
    types: &'static [&'static str],
    /// Types listed under `types` but not gathered.
    except: &'static [&'static str],
    /// Pointers to the subject's id, the first that a payload has wins.
    subject: &'static [&'static str],
    /// A row per event instead of per subject.
    per_event: bool,
    /// A type a subject must have to be listed, if any.
    requires: Option<&'static str>,
    /// The types after which a subject is closed.
    closed_by: &'static [&'static str],
    columns: &'static [ColumnSpec],
}

const SPECS: &[Spec] = &[
    Spec {
        id: "exceptions",
        title_ja: "例外措置の申請・許可・実施",
        title_en: "Exceptions requested, granted and invoked",
        articles: &[73],
        types: &["exception."],
        except: &[],
        subject: &["/exception_id"],
        per_event: false,
        requires: None,
        closed_by: &[
            "exception.denied",
            "exception.expired",
            "exception.reported",
        ],
        columns: &[
            col("exception_id", "例外措置ID", "Exception", Source::Subject),
            col(
                "rule",
                "対象となる規定",
                "Obligation departed from",
                Source::Member("/rule"),
            ),
            col(
                "from",
                "期間（開始）",
                "From",
                Source::Member("/period/from"),
            ),
            col(
                "until",
                "期間（終了）",
                "Until",
                Source::Member("/period/until"),
            ),
            col(
                "requested_on",
                "申請日",
                "Requested",
                Source::DateOf("exception.requested"),
            ),
            col(
                "granted_on",
                "許可日",
                "Granted",
                Source::DateOf("exception.granted"),
            ),
            col(
                "invoked_on",
                "緊急実施日",
                "Invoked",
                Source::DateOf("exception.invoked"),
            ),
            col("state", "状況", "State", Source::State),
            col("last", "最終記録日", "Last record", Source::Last),
            col("seqs", "記録番号", "Entries", Source::Seqs),
        ],
    },
    Spec {
        id: "incidents",
        title_ja: "情報セキュリティに関する事故等",
        title_en: "Security incidents",
        articles: &[20, 21],
        types: &["incident."],
        except: &[],
        subject: &["/incident_id"],
        per_event: false,
        requires: None,
        closed_by: &["incident.closed"],
        columns: &[
            col("incident_id", "事故等ID", "Incident", Source::Subject),
            col("kind", "種別", "Kind", Source::Member("/kind")),
            col("summary", "概要", "Summary", Source::Member("/summary")),
            col("discovered_on", "発見日", "Discovered", Source::First),
            col(
                "reported_on",
                "報告日",
                "Reported",
                Source::DateOf("incident.report.submitted"),
            ),
            col(
                "closed_on",
                "終結日",
                "Closed",
                Source::DateOf("incident.closed"),
            ),
            col("state", "状況", "State", Source::State),
            col("age", "経過日数", "Days open", Source::Age),
            col("seqs", "記録番号", "Entries", Source::Seqs),
        ],
    },
    Spec {
        id: "usb_approvals",
        title_ja: "USBメモリ等の使用承認（様式12）",
        title_en: "USB memory approvals (form 12)",
        articles: &[37],
        types: &["usb.approval."],
        except: &[],
        subject: &["/application_id"],
        per_event: false,
        requires: None,
        closed_by: &[
            "usb.approval.denied",
            "usb.approval.expired",
            "usb.approval.withdrawn",
        ],
        columns: &[
            col("application_id", "申請ID", "Application", Source::Subject),
            col(
                "applicant",
                "申請者",
                "Applicant",
                Source::Member("/applicant/staff_id"),
            ),
            col(
                "device",
                "機器",
                "Device",
                Source::Member("/device/asset_id"),
            ),
            col(
                "fiscal_year",
                "年度",
                "Fiscal year",
                Source::Member("/fiscal_year"),
            ),
            col(
                "requested_on",
                "申請日",
                "Requested",
                Source::DateOf("usb.approval.requested"),
            ),
            col(
                "granted_on",
                "承認日",
                "Granted",
                Source::DateOf("usb.approval.granted"),
            ),
            col(
                "valid_until",
                "有効期限",
                "Valid until",
                Source::Member("/valid_until"),
            ),
            col("state", "状況", "State", Source::State),
            col("seqs", "記録番号", "Entries", Source::Seqs),
        ],
    },
    Spec {
        id: "carry_outs",
        title_ja: "USBメモリ・情報資産の持出し（様式13）",
        title_en: "USB memory and asset carry-outs (form 13)",
        articles: &[37, 14],
        types: &["usb.taken_out", "usb.returned", "asset.taken_out"],
        except: &[],
        subject: &["/device/asset_id", "/asset/asset_id"],
        per_event: true,
        requires: None,
        closed_by: &[],
        columns: &[
            col("date", "日付", "Date", Source::First),
            col("event", "記録", "Record", Source::State),
            col("device", "機器・資産", "Device or asset", Source::Subject),
            col(
                "carrier",
                "持出者",
                "Carried by",
                Source::Member("/carrier/name"),
            ),
            col(
                "carried_by",
                "持出者（職員番号）",
                "Carried by (staff)",
                Source::Member("/carried_by/staff_id"),
            ),
            col("reason", "理由", "Reason", Source::Member("/reason")),
            col(
                "destination",
                "持出先",
                "Destination",
                Source::Member("/destination"),
            ),
            col(
                "ledger",
                "管理簿の申請ID",
                "Ledger entry",
                Source::Member("/ledger_entry/application_id"),
            ),
            col("seqs", "記録番号", "Entry", Source::Seqs),
        ],
    },
    Spec {
        id: "ic_cards",
        title_ja: "ICカードの紛失等と無効化",
        title_en: "IC cards lost and invalidated",
        articles: &[44],
        types: &[
            "ic_card.loss.reported",
            "ic_card.invalidated",
            "ic_card.issued",
        ],
        except: &[],
        subject: &["/card_id"],
        per_event: false,
        requires: Some("ic_card.loss.reported"),
        closed_by: &["ic_card.invalidated"],
        columns: &[
            col("card_id", "カードID", "Card", Source::Subject),
            col(
                "holder",
                "保持者",
                "Holder",
                Source::Member("/holder/staff_id"),
            ),
            col(
                "kind",
                "紛失等の種類",
                "What happened",
                Source::Member("/kind"),
            ),
            col(
                "reported_on",
                "報告日",
                "Reported",
                Source::DateOf("ic_card.loss.reported"),
            ),
            col(
                "invalidated_on",
                "無効化日",
                "Invalidated",
                Source::DateOf("ic_card.invalidated"),
            ),
            col("state", "状況", "State", Source::State),
            col("seqs", "記録番号", "Entries", Source::Seqs),
        ],
    },
    Spec {
        id: "audits",
        title_ja: "情報セキュリティ監査",
        title_en: "Information security audits",
        articles: &[76, 77, 78, 79, 80, 81],
        types: &["audit."],
        except: &["audit.finding."],
        subject: &["/audit_id"],
        per_event: false,
        requires: None,
        closed_by: &["audit.report.submitted"],
        columns: &[
            col("audit_id", "監査ID", "Audit", Source::Subject),
            col("scope", "範囲", "Scope", Source::Member("/scope")),
            col(
                "fiscal_year",
                "年度",
                "Fiscal year",
                Source::Member("/fiscal_year"),
            ),
            col(
                "ordered_on",
                "指示日",
                "Ordered",
                Source::DateOf("audit.ordered"),
            ),
            col(
                "conducted_on",
                "実施日",
                "Conducted",
                Source::DateOf("audit.conducted"),
            ),
            col(
                "reported_on",
                "委員会報告日",
                "Reported",
                Source::DateOf("audit.report.submitted"),
            ),
            col("state", "状況", "State", Source::State),
            col("seqs", "記録番号", "Entries", Source::Seqs),
        ],
    },
    Spec {
        id: "audit_findings",
        title_ja: "監査の指摘事項",
        title_en: "Audit findings",
        articles: &[80, 81],
        types: &["audit.finding."],
        except: &[],
        subject: &["/finding_id"],
        per_event: false,
        requires: None,
        closed_by: &["audit.finding.closed"],
        columns: &[
            col("finding_id", "指摘事項ID", "Finding", Source::Subject),
            col("audit_id", "監査ID", "Audit", Source::Member("/audit_id")),
            col("summary", "概要", "Summary", Source::Member("/summary")),
            col(
                "severity",
                "重要度",
                "Severity",
                Source::Member("/severity"),
            ),
            col(
                "raised_on",
                "提起日",
                "Raised",
                Source::DateOf("audit.finding.raised"),
            ),
            col(
                "closed_on",
                "終結日",
                "Closed",
                Source::DateOf("audit.finding.closed"),
            ),
            col("state", "状況", "State", Source::State),
            col("age", "経過日数", "Days open", Source::Age),
            col("seqs", "記録番号", "Entries", Source::Seqs),
        ],
    },
    Spec {
        id: "self_inspections",
        title_ja: "自己点検",
        title_en: "Self-inspections",
        articles: &[82, 83],
        types: &["self_inspection.conducted", "self_inspection.reported"],
        except: &[],
        subject: &["/inspection_id"],
        per_event: false,
        requires: None,
        closed_by: &["self_inspection.reported"],
        columns: &[
            col("inspection_id", "点検ID", "Inspection", Source::Subject),
            col("scope", "範囲", "Scope", Source::Member("/scope")),
            col(
                "department",
                "部等",
                "Department",
                Source::Member("/department/code"),
            ),
            col(
                "issues",
                "課題の数",
                "Issues found",
                Source::Member("/issues_found"),
            ),
            col(
                "conducted_on",
                "実施日",
                "Conducted",
                Source::DateOf("self_inspection.conducted"),
            ),
            col(
                "reported_on",
                "報告日",
                "Reported",
                Source::DateOf("self_inspection.reported"),
            ),
            col("state", "状況", "State", Source::State),
            col("seqs", "記録番号", "Entries", Source::Seqs),
        ],
    },
];

fn gathers(spec: &Spec, event_type: &str) -> bool {
    let matches = |t: &&str| {
        if t.ends_with('.') {
            event_type.starts_with(*t)
        } else {
            event_type == *t
        }
    };
    spec.types.iter().any(matches) && !spec.except.iter().any(matches)
}

/// Every register over `period`, from `state`.
pub fn registers(catalogue: &Catalogue, state: &State, period: &Period) -> Vec<Register> {
    SPECS
        .iter()
        .map(|spec| register(catalogue, state, period, spec))
        .collect()
}

fn register(catalogue: &Catalogue, state: &State, period: &Period, spec: &Spec) -> Register {
    let end = period.end();
    let facts: Vec<&Fact> = state
        .facts()
        .iter()
        .filter(|f| f.occurred_at < end && gathers(spec, &f.event_type))
        .collect();
    let subject_of = |f: &Fact| spec.subject.iter().find_map(|p| f.text(p));
    let groups: Vec<(String, Vec<&Fact>)> = if spec.per_event {
        facts
            .iter()
            .filter(|f| period.contains(f.occurred_at))
            .map(|f| (subject_of(f).unwrap_or_default(), vec![*f]))
            .collect()
    } else {
        let mut by: BTreeMap<String, Vec<&Fact>> = BTreeMap::new();
        for f in &facts {
            if let Some(s) = subject_of(f) {
                by.entry(s).or_default().push(f);
            }
        }
        let mut groups: Vec<(String, Vec<&Fact>)> = by
            .into_iter()
            .filter(|(_, fs)| {
                spec.requires
                    .is_none_or(|t| fs.iter().any(|f| &*f.event_type == t))
            })
            .filter(|(_, fs)| {
                let in_period = fs.iter().any(|f| period.contains(f.occurred_at));
                let closed = fs.iter().any(|f| spec.closed_by.contains(&&*f.event_type));
                in_period || !closed
            })
            .collect();
        groups.sort_by_key(|(s, fs)| (fs[0].occurred_at, fs[0].seq, s.clone()));
        groups
    };
    let title = |t: &str| {
        catalogue
            .event_type(t)
            .and_then(|d| d.versions.last())
            .map(|v| v.title_ja.clone())
            .unwrap_or_else(|| t.to_owned())
    };
    let rows = groups
        .iter()
        .map(|(subject, fs)| {
            let first = fs[0];
            let last = fs[fs.len() - 1];
            spec.columns
                .iter()
                .map(|c| match c.source {
                    Source::Subject => Value::from(subject.clone()),
                    Source::First => date(first),
                    Source::Last => date(last),
                    Source::State => Value::from(title(&last.event_type)),
                    Source::DateOf(t) => fs
                        .iter()
                        .find(|f| &*f.event_type == t)
                        .map_or(Value::Null, |f| date(f)),
                    Source::Member(p) => {
                        fs.iter().find_map(|f| f.value(p)).map_or(Value::Null, |v| {
                            if v.is_string() || v.is_number() {
                                v.to_value()
                            } else if let Some(b) = v.as_bool() {
                                Value::from(b.to_string())
                            } else {
                                Value::from(v.to_value().to_string())
                            }
                        })
                    }
                    Source::Age => {
                        let closed = fs.iter().find(|f| spec.closed_by.contains(&&*f.event_type));
                        let until = closed.map_or(period.until, |f| tokyo_date(f.occurred_at));
                        Value::from((until - tokyo_date(first.occurred_at)).whole_days())
                    }
                    Source::Seqs => Value::from(
                        fs.iter()
                            .map(|f| f.seq.to_string())
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                })
                .collect()
        })
        .collect();
    Register {
        id: spec.id.to_owned(),
        title_ja: spec.title_ja.to_owned(),
        title_en: spec.title_en.to_owned(),
        articles: spec.articles.to_vec(),
        columns: spec
            .columns
            .iter()
            .map(|c| Column {
                key: c.key.to_owned(),
                label_ja: c.ja.to_owned(),
                label_en: c.en.to_owned(),
                kind: match c.source {
                    Source::First | Source::Last | Source::DateOf(_) => "date",
                    Source::Age => "number",
                    Source::Seqs => "seqs",
                    _ => "text",
                }
                .to_owned(),
            })
            .collect(),
        rows,
    }
}

fn date(f: &Fact) -> Value {
    Value::from(format_date(tokyo_date(f.occurred_at)))
}
