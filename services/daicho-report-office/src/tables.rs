//! The report's tables as rows of typed cells: the one shape the workbook,
//! the CSV files and the Word document all read, so that the three formats
//! cannot disagree on what a table holds.

use daicho_report::model::{FindingRow, Register, Remark};
use daicho_report::{Lang, Report};

/// What a cell holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing: a JSON null or an absent option.
    Empty,
    /// Text.
    Text(String),
    /// A whole number.
    Number(i64),
    /// A calendar day, `YYYY-MM-DD`.
    Date(String),
}

impl Cell {
    /// The cell as the CSV files and the Word document write it.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) | Cell::Date(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
        }
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt_text(s: &Option<String>) -> Cell {
    match s {
        Some(s) => Cell::Text(s.clone()),
        None => Cell::Empty,
    }
}

fn opt_date(s: &Option<String>) -> Cell {
    match s {
        Some(s) => Cell::Date(s.clone()),
        None => Cell::Empty,
    }
}

fn number(n: u64) -> Cell {
    // Counts in a report are far below i64::MAX; saturate rather than wrap.
    Cell::Number(i64::try_from(n).unwrap_or(i64::MAX))
}

fn seqs(seqs: &[u64]) -> Cell {
    text(
        seqs.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// One table: a stable name, a title, headings and rows.
#[derive(Debug, Clone)]
pub struct Table {
    /// The stable name used for CSV files: `articles`, `findings`, a
    /// register's id, `thresholds`, `non_business_days`.
    pub name: String,
    /// The title in the chosen language.
    pub title: String,
    /// The column headings in the chosen language.
    pub headers: Vec<String>,
    /// The rows, one cell per heading.
    pub rows: Vec<Vec<Cell>>,
}

/// `Article 7` or `第7条`.
pub fn article_label(lang: Lang, label_ja: &str, number: u32) -> String {
    match lang {
        Lang::Ja => label_ja.to_owned(),
        Lang::En => format!("Article {number}"),
    }
}

/// `Chapter 2` or `第2章`.
pub fn chapter_label(lang: Lang, label_ja: &str, number: u32) -> String {
    match lang {
        Lang::Ja => label_ja.to_owned(),
        Lang::En => format!("Chapter {number}"),
    }
}

/// A finding's kind, severity and state in the chosen language; the JSON
/// holds the Japanese label next to a key that reads as English.
pub fn finding_words(lang: Lang, f: &FindingRow) -> (String, String, String) {
    match lang {
        Lang::Ja => (f.severity_ja.clone(), f.kind_ja.clone(), f.state_ja.clone()),
        Lang::En => (
            f.severity.clone(),
            f.kind.replace('_', " "),
            f.state.replace('_', " "),
        ),
    }
}

/// A remark as one line: `2026-05-02 改善計画（事務局）：text（期限 2026-06-30）`.
pub fn remark_line(lang: Lang, r: &Remark) -> String {
    let kind = match lang {
        Lang::Ja => r.kind_ja.clone(),
        Lang::En => r.kind.replace('_', " "),
    };
    let by = match (lang, &r.remarked_by_ja, &r.remarked_by) {
        (Lang::Ja, Some(ja), _) => format!("（{ja}）"),
        (Lang::En, _, Some(en)) => format!(" ({en})"),
        _ => String::new(),
    };
    let mut line = match lang {
        Lang::Ja => format!("{} {kind}{by}：{}", r.on, r.text),
        Lang::En => format!("{} {kind}{by}: {}", r.on, r.text),
    };
    if let Some(due) = &r.due {
        line.push_str(&match lang {
            Lang::Ja => format!("（期限 {due}）"),
            Lang::En => format!(" (due {due})"),
        });
    }
    if let Some(who) = &r.accepted_by {
        line.push_str(&match lang {
            Lang::Ja => format!("（受容者 {who}）"),
            Lang::En => format!(" (accepted by {who})"),
        });
    }
    line
}

/// The remarks on one finding, in ledger order.
pub fn remarks_of<'a>(report: &'a Report, finding_id: &str) -> Vec<&'a Remark> {
    report
        .remarks
        .iter()
        .filter(|r| r.finding_id == finding_id)
        .collect()
}

/// All 87 articles.
pub fn articles(report: &Report, lang: Lang) -> Table {
    let l = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    Table {
        name: "articles".into(),
        title: l("条文別の状況", "Articles"),
        headers: vec![
            l("条番号", "No."),
            l("条", "Article"),
            l("見出し", "Title"),
            l("章", "Chapter"),
            l("評価方法", "Evaluation"),
            l("状況", "Status"),
            l("事象件数", "Events"),
            l("指摘件数", "Findings"),
            l("うち未解決", "Open"),
            l("遅延記録", "Late entries"),
            l("指摘のある項・号", "Provisions with findings"),
        ],
        rows: report
            .articles
            .iter()
            .map(|a| {
                vec![
                    Cell::Number(a.number.into()),
                    text(article_label(lang, &a.label_ja, a.number)),
                    text(lang.pick(&a.title_ja, &a.title_en)),
                    Cell::Number(a.chapter.into()),
                    text(evaluation_label(lang, &a.evaluation)),
                    text(lang.pick(&a.status_ja, &a.status_en)),
                    number(a.events),
                    number(a.findings),
                    number(a.open_findings),
                    number(a.late_entries),
                    text(match lang {
                        Lang::Ja => a.refs_with_findings_ja.join("、"),
                        Lang::En => a.refs_with_findings.join(", "),
                    }),
                ]
            })
            .collect(),
    }
}

fn evaluation_label(lang: Lang, evaluation: &str) -> String {
    let (ja, en) = match evaluation {
        "evaluated" => ("記録から評価", "evaluated from records"),
        "evidenced" => ("実施の記録を確認", "evidence checked"),
        "declarative" => ("規定のみ", "declarative"),
        other => (other, other),
    };
    lang.pick(ja, en).to_owned()
}

/// Every finding, with the remarks recorded on it joined into one cell.
pub fn findings(report: &Report, lang: Lang) -> Table {
    let l = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    Table {
        name: "findings".into(),
        title: l("指摘事項", "Findings"),
        headers: vec![
            l("指摘ID", "Finding"),
            l("条", "Article"),
            l("該当規定", "Provision"),
            l("重大度", "Severity"),
            l("種別", "Kind"),
            l("状態", "State"),
            l("対象", "Subject"),
            l("求められること", "Expected"),
            l("確認された事実", "Found"),
            l("検出日", "Detected on"),
            l("解決日", "Resolved on"),
            l("解決記録", "Resolved by entry"),
            l("前期からの繰越し", "Carried over"),
            l("例外措置", "Exception"),
            l("根拠記録", "Entries"),
            l("ルール", "Rule"),
            l("所見・対応", "Remarks"),
        ],
        rows: report
            .findings
            .iter()
            .map(|f| {
                let (severity, kind, state) = finding_words(lang, f);
                let remarks = remarks_of(report, &f.id)
                    .into_iter()
                    .map(|r| remark_line(lang, r))
                    .collect::<Vec<_>>()
                    .join("\n");
                vec![
                    text(&f.id),
                    Cell::Number(f.article.into()),
                    text(lang.pick(&f.ref_ja, &f.reference)),
                    text(severity),
                    text(kind),
                    text(state),
                    opt_text(&f.subject),
                    text(lang.pick(&f.expected_ja, &f.expected_en)),
                    text(lang.pick(&f.actual_ja, &f.actual_en)),
                    Cell::Date(f.detected_on.clone()),
                    opt_date(&f.resolved_on),
                    f.resolved_by.map_or(Cell::Empty, number),
                    text(match (lang, f.carried_over) {
                        (Lang::Ja, true) => "繰越し",
                        (Lang::En, true) => "yes",
                        _ => "",
                    }),
                    opt_text(&f.exception),
                    seqs(&f.seqs),
                    text(&f.rule),
                    text(remarks),
                ]
            })
            .collect(),
    }
}

/// One register, its cells typed by the column's kind.
pub fn register(register: &Register, lang: Lang) -> Table {
    Table {
        name: register.id.clone(),
        title: lang.pick(&register.title_ja, &register.title_en).to_owned(),
        headers: register
            .columns
            .iter()
            .map(|c| lang.pick(&c.label_ja, &c.label_en).to_owned())
            .collect(),
        rows: register
            .rows
            .iter()
            .map(|row| {
                register
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, column)| register_cell(&column.kind, row.get(i)))
                    .collect()
            })
            .collect(),
    }
}

fn register_cell(kind: &str, value: Option<&serde_json::Value>) -> Cell {
    use serde_json::Value;
    match value {
        None | Some(Value::Null) => Cell::Empty,
        Some(Value::String(s)) if kind == "date" && is_iso_date(s) => Cell::Date(s.clone()),
        Some(Value::String(s)) => Cell::Text(s.clone()),
        // A whole number stays a number whatever the column's kind (a
        // fiscal year in a text column is still a year), so that a
        // spreadsheet sorts and sums it.
        Some(Value::Number(n)) => match n.as_i64() {
            Some(n) => Cell::Number(n),
            None => Cell::Text(n.to_string()),
        },
        Some(other) => Cell::Text(other.to_string()),
    }
}

/// Whether a string is a `YYYY-MM-DD` day.
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// The thresholds applied.
pub fn thresholds(report: &Report, lang: Lang) -> Table {
    let l = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    Table {
        name: "thresholds".into(),
        title: l("適用したしきい値", "Thresholds applied"),
        headers: vec![
            l("区分", "Group"),
            l("名称", "Name"),
            l("規程の文言", "Words of the regulation (Japanese)"),
            l("適用した値", "Value applied"),
        ],
        rows: report
            .thresholds
            .iter()
            .map(|t| {
                vec![
                    text(group_label(lang, &t.group)),
                    text(&t.name),
                    text(&t.words_ja),
                    text(lang.pick(&t.value_ja, &t.value_en)),
                ]
            })
            .collect(),
    }
}

fn group_label(lang: Lang, group: &str) -> String {
    let (ja, en) = match group {
        "latency" => ("期限", "latency"),
        "cadence" => ("頻度", "cadence"),
        "ageing" => ("経過日数", "ageing"),
        "operating_hours" => ("開庁時間", "operating hours"),
        "late_entry" => ("遅延記録", "late entry"),
        other => (other, other),
    };
    lang.pick(ja, en).to_owned()
}

/// Weekdays in the quarter that were not business days.
pub fn non_business_days(report: &Report, lang: Lang) -> Table {
    let l = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    Table {
        name: "non_business_days".into(),
        title: l("閉庁日（平日）", "Weekdays that were not business days"),
        headers: vec![l("日付", "Date"), l("事由", "Reason (Japanese)")],
        rows: report
            .non_business_days
            .iter()
            .map(|d| vec![Cell::Date(d.date.clone()), text(&d.name_ja)])
            .collect(),
    }
}

/// Every table the CSV bundle holds, in the bundle's order.
pub fn all(report: &Report, lang: Lang) -> Vec<Table> {
    let mut tables = vec![articles(report, lang), findings(report, lang)];
    tables.extend(report.registers.iter().map(|r| register(r, lang)));
    tables.push(thresholds(report, lang));
    tables.push(non_business_days(report, lang));
    tables
}
