//! Building a report from the state at its anchor.

use std::collections::BTreeMap;

use daicho_catalogue::Catalogue;
use daicho_compliance::calendar::{format_date, parse_date, tokyo_date, Period};
use daicho_compliance::rules::Severity;
use daicho_compliance::thresholds::{CadenceUnit, Latency};
use daicho_compliance::{
    evaluate_until, Evaluation, FindingKind, FindingState, Rulebook, State, Status,
};
use daicho_core::checkpoint::Checkpoint;
use daicho_core::entry::Recorded;
use daicho_core::keys::NoteSigner;
use daicho_core::merkle;
use daicho_core::timestamp::RecordedAt;
use daicho_core::Digest;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::model::*;
use crate::registers::registers;
use crate::wareki::{date_ja, quarter_code, quarter_label_en, quarter_label_ja};

/// What a report is built from.
pub struct Input<'a> {
    /// The catalogue the ledger was validated against.
    pub catalogue: &'a Catalogue,
    /// The rules, thresholds and calendar.
    pub rulebook: &'a Rulebook,
    /// The projections folded from exactly the first `anchor.tree_size`
    /// entries.
    pub state: &'a State,
    /// The fiscal year.
    pub fiscal_year: i32,
    /// The quarter, 1–4.
    pub quarter: u8,
    /// The ledger position, with its signed checkpoint.
    pub anchor: Anchor,
}

/// Why a report cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The state holds another number of entries than the anchor names.
    #[error("the state holds {held} entries but the anchor names {anchor}")]
    Size {
        /// The state's size.
        held: u64,
        /// The anchor's.
        anchor: u64,
    },
    /// The quarter is not one.
    #[error("no such fiscal quarter: {0}")]
    Period(String),
    /// The anchor's `last_recorded_at` is not an RFC 3339 instant.
    #[error("the anchor's last_recorded_at is not an RFC 3339 instant")]
    RecordedAt,
}

/// The report's title.
pub const TITLE_JA: &str = "情報セキュリティ対策基準 遵守状況報告書";
/// The same in English.
pub const TITLE_EN: &str = "Information Security Standard: Quarterly Compliance Report";

/// Builds the report of `input.quarter` as of `input.anchor`.
///
/// Obligations are judged as of the quarter's end, or, when the last
/// covered entry was recorded before the quarter ended, as of that
/// instant: nothing not yet due is reported, and the result depends on
/// the ledger prefix alone.
pub fn build(input: &Input<'_>) -> Result<Report, BuildError> {
    let Input {
        catalogue,
        rulebook,
        state,
        fiscal_year,
        quarter,
        ..
    } = *input;
    let anchor = input.anchor.clone();
    if state.size() != anchor.tree_size {
        return Err(BuildError::Size {
            held: state.size(),
            anchor: anchor.tree_size,
        });
    }
    let period = Period::fiscal_quarter(fiscal_year, quarter)
        .map_err(|_| BuildError::Period(format!("{fiscal_year} Q{quarter}")))?;
    let recorded = OffsetDateTime::parse(&anchor.last_recorded_at, &Rfc3339)
        .map_err(|_| BuildError::RecordedAt)?;
    let evaluation = evaluate_until(
        catalogue,
        rulebook,
        state,
        period,
        Some((fiscal_year, quarter)),
        Some(recorded),
    );
    let (prev_fy, prev_q) = if quarter == 1 {
        (fiscal_year - 1, 4)
    } else {
        (fiscal_year, quarter - 1)
    };
    let prev_period = Period::fiscal_quarter(prev_fy, prev_q)
        .map_err(|_| BuildError::Period(format!("{prev_fy} Q{prev_q}")))?;
    let comparable = state
        .facts()
        .iter()
        .any(|f| prev_period.contains(f.occurred_at) && !f.event_type.starts_with("daicho."));
    let previous = evaluate_until(
        catalogue,
        rulebook,
        state,
        prev_period,
        Some((prev_fy, prev_q)),
        Some(recorded),
    );

    let regulation = catalogue.regulation();
    let issued = tokyo_date(recorded);
    let articles = article_rows(&evaluation);
    let findings = finding_rows(catalogue, &evaluation);
    let listed: std::collections::BTreeSet<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    let remarks: Vec<Remark> = remarks(state)
        .into_iter()
        .filter(|r| listed.contains(r.finding_id.as_str()))
        .collect();
    let changes = changes(&evaluation, &previous, comparable, prev_fy, prev_q);
    let events = state
        .facts()
        .iter()
        .filter(|f| period.contains(f.occurred_at) && !f.event_type.starts_with("daicho."))
        .count() as u64;
    let late_entries = articles.iter().map(|a| a.late_entries).sum::<u64>();
    let summary = summary(&evaluation, &findings, &changes, events, late_entries);
    Ok(Report {
        format: REPORT_FORMAT.to_owned(),
        title_ja: TITLE_JA.to_owned(),
        title_en: TITLE_EN.to_owned(),
        municipality: Municipality {
            name_ja: "亀岡市".to_owned(),
            name_en: "Kameoka City".to_owned(),
            committee_ja: "亀岡市情報化推進委員会".to_owned(),
            committee_en: "Kameoka City Information Promotion Committee".to_owned(),
            secretariat_ja: regulation.author_ja.clone(),
        },
        regulation: RegulationRef {
            id: regulation.id.clone(),
            name_ja: regulation.name_ja.clone(),
            name_en: regulation.name_en.clone(),
            version: regulation.version,
            dated: regulation.dated.clone(),
        },
        period: ReportPeriod {
            fiscal_year,
            quarter,
            label_ja: quarter_label_ja(fiscal_year, quarter),
            label_en: quarter_label_en(fiscal_year, quarter),
            code: quarter_code(fiscal_year, quarter),
            from: format_date(period.from),
            until: format_date(period.until),
            from_ja: date_ja(period.from),
            until_ja: date_ja(period.until),
        },
        issued_on: format_date(issued),
        issued_on_ja: date_ja(issued),
        anchor,
        judged_until: evaluation.judged_until.clone(),
        summary,
        chapters: chapter_rows(catalogue, &articles, &findings),
        changes,
        articles,
        findings,
        remarks,
        registers: registers(catalogue, state, &period),
        thresholds: threshold_rows(rulebook),
        non_business_days: evaluation
            .non_business_days
            .iter()
            .map(|d| NonBusinessDay {
                date: d.clone(),
                name_ja: parse_date(d)
                    .and_then(|date| rulebook.calendar().holiday(date))
                    .unwrap_or("閉庁日")
                    .to_owned(),
            })
            .collect(),
        verification: Verification {
            command: "daicho-verify report REPORT.json BUNDLE.jsonl --ledger-key LEDGER.pub"
                .to_owned(),
            explanation_ja: format!(
                "監査人は、台帳の公開鍵のみを信頼して、エクスポートした台帳（バンドル）の先頭{}件から本報告書を再計算し、JSON が1バイトも違わず一致すること、及び記載されたチェックポイントが台帳の鍵で署名され、バンドルと整合することを確認できる。",
                input.anchor.tree_size
            ),
            explanation_en: format!(
                "An auditor who trusts nothing but the ledger's public key recomputes this report from the first {} entries of the exported ledger (the bundle), and checks that the JSON is identical byte for byte and that the checkpoint it states is signed by the ledger key and consistent with the bundle.",
                input.anchor.tree_size
            ),
        },
    })
}

/// The canonical (RFC 8785) bytes of a report: what `report.issued`
/// hashes and what an auditor compares.
pub fn canonical_bytes(report: &Report) -> Vec<u8> {
    daicho_core::jcs::canonicalize(report)
}

/// The lowercase hex SHA-256 of [`canonical_bytes`].
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    hex::encode(Sha256::digest(bytes))
}

fn status_name(status: Status) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn status_counts(counts: impl Fn(Status) -> u64) -> Vec<StatusCount> {
    Status::ALL
        .iter()
        .map(|s| StatusCount {
            status: status_name(*s),
            label_ja: s.label_ja().to_owned(),
            label_en: s.label_en().to_owned(),
            count: counts(*s),
        })
        .collect()
}

fn article_rows(evaluation: &Evaluation) -> Vec<ArticleRow> {
    let ref_ja: BTreeMap<&str, &str> = evaluation
        .findings
        .iter()
        .map(|f| (f.reference.as_str(), f.ref_ja.as_str()))
        .collect();
    evaluation
        .articles
        .iter()
        .map(|a| ArticleRow {
            number: a.number,
            label_ja: a.label_ja.clone(),
            title_ja: a.title_ja.clone(),
            title_en: a.title_en.clone(),
            chapter: a.chapter,
            evaluation: serde_json::to_value(a.evaluation)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            status: status_name(a.status),
            status_ja: a.status.label_ja().to_owned(),
            status_en: a.status.label_en().to_owned(),
            events: a.events,
            findings: a.findings,
            open_findings: a.open_findings,
            late_entries: a.late_entries,
            refs_with_findings: a.refs_with_findings.clone(),
            refs_with_findings_ja: a
                .refs_with_findings
                .iter()
                .map(|r| {
                    ref_ja
                        .get(r.as_str())
                        .map_or(r.clone(), |j| (*j).to_owned())
                })
                .collect(),
        })
        .collect()
}

fn severity(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::High => ("high", "高"),
        Severity::Medium => ("medium", "中"),
        Severity::Low => ("low", "低"),
    }
}

fn kind(k: FindingKind) -> (&'static str, &'static str) {
    match k {
        FindingKind::Violation => ("violation", "違反"),
        FindingKind::Overdue => ("overdue", "期限超過"),
        FindingKind::MissingRecord => ("missing_record", "記録欠落"),
        FindingKind::InconsistentRecord => ("inconsistent_record", "記録不整合"),
    }
}

fn finding_rows(catalogue: &Catalogue, evaluation: &Evaluation) -> Vec<FindingRow> {
    evaluation
        .findings
        .iter()
        .map(|f| {
            let (severity, severity_ja) = severity(f.severity);
            let (kind, kind_ja) = kind(f.kind);
            let open = f.state == FindingState::Open;
            FindingRow {
                id: f.id.clone(),
                rule: f.rule.clone(),
                reference: f.reference.clone(),
                ref_ja: f.ref_ja.clone(),
                article: f.article,
                chapter: catalogue.article(f.article).map_or(0, |a| a.chapter.number),
                severity: severity.to_owned(),
                severity_ja: severity_ja.to_owned(),
                kind: kind.to_owned(),
                kind_ja: kind_ja.to_owned(),
                subject: f.subject.clone(),
                expected_ja: f.expected_ja.clone(),
                expected_en: f.expected_en.clone(),
                actual_ja: f.actual_ja.clone(),
                actual_en: f.actual_en.clone(),
                seqs: f.seqs.clone(),
                detected_on: f.detected_on.clone(),
                state: if open { "open" } else { "resolved" }.to_owned(),
                state_ja: if open { "未解決" } else { "解決済" }.to_owned(),
                resolved_by: f.resolved_by,
                resolved_on: f.resolved_on.clone(),
                carried_over: f.carried_over,
                exception: f.exception.clone(),
            }
        })
        .collect()
}

fn remarks(state: &State) -> Vec<Remark> {
    state
        .of_type("finding.remarked")
        .filter_map(|f| {
            let kind = f.text("/kind")?;
            let remarked_by = f.text("/remarked_by");
            Some(Remark {
                seq: f.seq,
                finding_id: f.text("/finding_id")?,
                kind_ja: match kind.as_str() {
                    "remediation_plan" => "改善計画",
                    "decision" => "決定",
                    "accepted_risk" => "リスク受容",
                    _ => "備考",
                }
                .to_owned(),
                kind,
                text: f.text("/text").unwrap_or_default(),
                remarked_by_ja: remarked_by.as_deref().map(|r| {
                    match r {
                        "committee" => "情報化推進委員会",
                        _ => "事務局",
                    }
                    .to_owned()
                }),
                remarked_by,
                accepted_by: match (f.text("/accepted_by/role"), f.text("/accepted_by/staff_id")) {
                    (Some(role), Some(id)) => Some(format!("{role} {id}")),
                    _ => None,
                },
                due: f.text("/due"),
                on: format_date(tokyo_date(f.occurred_at)),
                actor: format!("{} ({})", f.actor_id, f.actor_role),
            })
        })
        .collect()
}

/// Higher is better, for telling whether a change is an improvement.
fn standing(status: Status) -> Option<u8> {
    match status {
        Status::NonCompliant => Some(0),
        Status::EvidenceMissing => Some(1),
        Status::CompliantByException => Some(2),
        Status::Compliant | Status::Evidenced => Some(3),
        Status::NoRecords | Status::Declarative => None,
    }
}

fn changes(
    now: &Evaluation,
    before: &Evaluation,
    comparable: bool,
    prev_fy: i32,
    prev_q: u8,
) -> Changes {
    let articles = if comparable {
        now.articles
            .iter()
            .zip(&before.articles)
            .filter(|(a, b)| a.status != b.status)
            .map(|(a, b)| StatusChange {
                article: a.number,
                label_ja: a.label_ja.clone(),
                title_ja: a.title_ja.clone(),
                from: status_name(b.status),
                from_ja: b.status.label_ja().to_owned(),
                to: status_name(a.status),
                to_ja: a.status.label_ja().to_owned(),
                direction: match (standing(b.status), standing(a.status)) {
                    (Some(x), Some(y)) if y > x => "better",
                    (Some(x), Some(y)) if y < x => "worse",
                    _ => "other",
                }
                .to_owned(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Changes {
        previous_label_ja: quarter_label_ja(prev_fy, prev_q),
        previous_label_en: quarter_label_en(prev_fy, prev_q),
        comparable,
        previous_by_status: status_counts(|s| {
            if comparable {
                before.summary.by_status.get(&s).copied().unwrap_or(0)
            } else {
                0
            }
        }),
        previous_findings: if comparable {
            before.summary.findings
        } else {
            0
        },
        articles,
    }
}

fn summary(
    evaluation: &Evaluation,
    findings: &[FindingRow],
    changes: &Changes,
    events: u64,
    late_entries: u64,
) -> Summary {
    let count = |s: Status| evaluation.summary.by_status.get(&s).copied().unwrap_or(0);
    let open = findings.iter().filter(|f| f.state == "open").count() as u64;
    let carried = findings.iter().filter(|f| f.carried_over).count() as u64;
    let carried_open = findings
        .iter()
        .filter(|f| f.carried_over && f.state == "open")
        .count() as u64;
    let under_exception = findings.iter().filter(|f| f.exception.is_some()).count() as u64;
    let by_severity: Vec<SeverityCount> = [Severity::High, Severity::Medium, Severity::Low]
        .iter()
        .map(|s| {
            let (name, ja) = severity(*s);
            SeverityCount {
                severity: name.to_owned(),
                label_ja: ja.to_owned(),
                count: findings.iter().filter(|f| f.severity == name).count() as u64,
            }
        })
        .collect();
    let total = findings.len() as u64;
    let high = by_severity[0].count;
    let articles = evaluation.articles.len();
    let judged = articles as u64 - count(Status::Declarative);

    let mut ja = vec![format!(
        "全{articles}条のうち、規定のみの{}条を除く{judged}条を評価しました。適合{}条、実施確認{}条、例外承認により適合{}条、不適合{}条、未実施{}条、記録なし{}条です。",
        count(Status::Declarative),
        count(Status::Compliant),
        count(Status::Evidenced),
        count(Status::CompliantByException),
        count(Status::NonCompliant),
        count(Status::EvidenceMissing),
        count(Status::NoRecords),
    )];
    let mut en = vec![format!(
        "Of the {articles} articles, {judged} were judged ({} are declarative): {} compliant, {} evidenced, {} compliant under an approved exception, {} non-compliant, {} with evidence missing and {} with no records in the quarter.",
        count(Status::Declarative),
        count(Status::Compliant),
        count(Status::Evidenced),
        count(Status::CompliantByException),
        count(Status::NonCompliant),
        count(Status::EvidenceMissing),
        count(Status::NoRecords),
    )];
    if total == 0 {
        ja.push("指摘事項はありません。".to_owned());
        en.push("There are no findings.".to_owned());
    } else {
        ja.push(format!(
            "指摘事項は{total}件（重大度 高{high}件・中{}件・低{}件）で、うち{open}件が未解決です。",
            by_severity[1].count, by_severity[2].count
        ));
        en.push(format!(
            "There are {total} findings ({high} high, {} medium, {} low severity); {open} are still open.",
            by_severity[1].count, by_severity[2].count
        ));
    }
    if carried > 0 {
        ja.push(format!(
            "前期以前からの繰越しが{carried}件あり、うち{carried_open}件が未解決のままです。"
        ));
        en.push(format!(
            "{carried} were carried over from earlier quarters, of which {carried_open} remain open."
        ));
    }
    if under_exception > 0 {
        ja.push(format!(
            "{under_exception}件は承認された例外措置（第73条）の範囲内です。"
        ));
        en.push(format!(
            "{under_exception} fall within an approved exception (article 73)."
        ));
    }
    if changes.comparable {
        let better = changes
            .articles
            .iter()
            .filter(|c| c.direction == "better")
            .count();
        let worse = changes
            .articles
            .iter()
            .filter(|c| c.direction == "worse")
            .count();
        ja.push(format!(
            "{}と比べて状況が変わった条は{}条（改善{better}条、悪化{worse}条）です。指摘事項は{}件から{total}件になりました。",
            changes.previous_label_ja,
            changes.articles.len(),
            changes.previous_findings
        ));
        en.push(format!(
            "Compared with {}, {} articles changed status ({better} better, {worse} worse); findings went from {} to {total}.",
            changes.previous_label_en,
            changes.articles.len(),
            changes.previous_findings
        ));
    } else {
        ja.push(format!(
            "{}の記録が台帳にないため、前期との比較はありません。",
            changes.previous_label_ja
        ));
        en.push(format!(
            "The ledger holds no records of {}, so there is no comparison with it.",
            changes.previous_label_en
        ));
    }
    let late_days = evaluation.thresholds.late_entry.days;
    if late_entries == 0 {
        ja.push(format!(
            "期間中の記録は{events}件で、発生から{late_days}日を超えて記録されたものはありません。"
        ));
        en.push(format!(
            "{events} acts occurred in the quarter; none was recorded more than {late_days} days after it occurred."
        ));
    } else {
        ja.push(format!(
            "期間中の記録は{events}件で、うち発生から{late_days}日を超えて記録されたものが{late_entries}件あります。"
        ));
        en.push(format!(
            "{events} acts occurred in the quarter; {late_entries} of them were recorded more than {late_days} days after they occurred."
        ));
    }
    Summary {
        by_status: status_counts(count),
        findings: total,
        open,
        resolved: total - open,
        carried_over: carried,
        carried_over_open: carried_open,
        under_exception,
        by_severity,
        events,
        late_entries,
        plain_ja: ja,
        plain_en: en,
    }
}

fn chapter_rows(
    catalogue: &Catalogue,
    articles: &[ArticleRow],
    findings: &[FindingRow],
) -> Vec<ChapterRow> {
    catalogue
        .chapters()
        .iter()
        .map(|c| {
            let mine: Vec<&ArticleRow> =
                articles.iter().filter(|a| a.chapter == c.number).collect();
            let first = mine.first().map_or(0, |a| a.number);
            let last = mine.last().map_or(0, |a| a.number);
            ChapterRow {
                number: c.number,
                label_ja: format!("第{}章", c.number),
                title_ja: c.title_ja.clone(),
                title_en: c.title_en.clone(),
                articles: [first, last],
                by_status: status_counts(|s| {
                    let name = status_name(s);
                    mine.iter().filter(|a| a.status == name).count() as u64
                }),
                findings: findings.iter().filter(|f| f.chapter == c.number).count() as u64,
                open: findings
                    .iter()
                    .filter(|f| f.chapter == c.number && f.state == "open")
                    .count() as u64,
            }
        })
        .collect()
}

fn latency_text(l: &Latency) -> (String, String) {
    match (l.hours, l.business_days) {
        (Some(h), _) => (format!("{h}時間以内"), format!("within {h} hours")),
        (_, Some(d)) => (
            format!("{d}開庁日以内"),
            format!("within {d} business days"),
        ),
        _ => ("—".to_owned(), "—".to_owned()),
    }
}

fn threshold_rows(rulebook: &Rulebook) -> Vec<ThresholdRow> {
    let t = rulebook.thresholds();
    let mut rows = Vec::new();
    for (group, map) in [("latency", &t.latencies), ("ageing", &t.ageing)] {
        for (name, l) in map {
            let (value_ja, value_en) = latency_text(l);
            rows.push(ThresholdRow {
                group: group.to_owned(),
                name: name.clone(),
                words_ja: l.words_ja.clone(),
                value_ja,
                value_en,
            });
        }
    }
    for (name, c) in &t.cadences {
        let (value_ja, value_en) = match c.per {
            CadenceUnit::BusinessDay => ("開庁日ごとに1回以上", "at least once every business day"),
            CadenceUnit::Month => ("毎月1回以上", "at least once a month"),
            CadenceUnit::Quarter => ("四半期ごとに1回以上", "at least once a quarter"),
            CadenceUnit::FiscalYear => ("毎年度1回以上", "at least once a fiscal year"),
        };
        rows.push(ThresholdRow {
            group: "cadence".to_owned(),
            name: name.clone(),
            words_ja: c.words_ja.clone(),
            value_ja: value_ja.to_owned(),
            value_en: value_en.to_owned(),
        });
    }
    let h = &t.operating_hours;
    rows.push(ThresholdRow {
        group: "operating_hours".to_owned(),
        name: "operating_hours".to_owned(),
        words_ja: h.words_ja.clone(),
        value_ja: format!(
            "{}〜{}{}",
            h.from,
            h.until,
            if h.business_days_only {
                "（開庁日のみ）"
            } else {
                ""
            }
        ),
        value_en: format!(
            "{}–{}{}",
            h.from,
            h.until,
            if h.business_days_only {
                " on business days"
            } else {
                ""
            }
        ),
    });
    rows.push(ThresholdRow {
        group: "late_entry".to_owned(),
        name: "late_entry".to_owned(),
        words_ja: t.late_entry.words_ja.clone(),
        value_ja: format!("発生から{}日を超えて記録", t.late_entry.days),
        value_en: format!(
            "recorded more than {} days after the act",
            t.late_entry.days
        ),
    });
    rows
}

/// The anchor of the first `entries.len()` entries: their root, the time
/// the last was recorded, and the checkpoint at that size signed by the
/// ledger key (`signer`, whose name is the origin). Ed25519 signatures are
/// deterministic, so the same prefix gives the same anchor.
pub fn anchor_of(entries: &[Recorded], signer: &NoteSigner) -> Option<Anchor> {
    let last = entries.last()?;
    let leaves: Vec<Digest> = entries.iter().map(|e| e.hash).collect();
    Some(anchor_at(
        entries.len() as u64,
        merkle::root(&leaves),
        last.entry.recorded_at,
        signer,
    ))
}

/// The anchor at `size` entries with `root`, the last recorded at
/// `last_recorded_at`, its checkpoint signed by `signer`.
pub fn anchor_at(
    size: u64,
    root: Digest,
    last_recorded_at: RecordedAt,
    signer: &NoteSigner,
) -> Anchor {
    let checkpoint = Checkpoint {
        origin: signer.verifier().name().to_owned(),
        size,
        root,
    };
    Anchor {
        origin: checkpoint.origin.clone(),
        tree_size: size,
        root: root.to_base64(),
        last_recorded_at: last_recorded_at.to_string(),
        checkpoint: checkpoint.sign(signer),
    }
}

/// The first day of a quarter, for checking that it has begun.
pub fn quarter_first_day(fiscal_year: i32, quarter: u8) -> Option<Date> {
    Period::fiscal_quarter(fiscal_year, quarter)
        .ok()
        .map(|p| p.from)
}
