//! The report as data: what the JSON holds, member by member. Every
//! rendered format reads these types back from the JSON and nothing else.
//!
//! Texts a person reads are held in both languages (`…_ja`, `…_en`), so
//! one JSON serves every rendering whatever its language.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The report format tag.
pub const REPORT_FORMAT: &str = "daicho-report/v1";

/// The version of the report format, as `report.issued` carries it.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// [`REPORT_FORMAT`].
    pub format: String,
    /// The document's title.
    pub title_ja: String,
    /// The document's title in English.
    pub title_en: String,
    /// Who the report is for and who issues it.
    pub municipality: Municipality,
    /// The regulation and catalogue the evaluation measured against.
    pub regulation: RegulationRef,
    /// The quarter.
    pub period: ReportPeriod,
    /// The day of issue: the Asia/Tokyo date on which the ledger recorded
    /// the last entry the report covers, so that the same ledger prefix
    /// always gives the same date.
    pub issued_on: String,
    /// The same in 和暦: `令和8年7月1日`.
    pub issued_on_ja: String,
    /// Where in the ledger the report was computed.
    pub anchor: Anchor,
    /// The instant obligations were judged at, for a quarter not yet over
    /// when the last covered entry was recorded; `None` when judged at the
    /// quarter's end.
    pub judged_until: Option<String>,
    /// The counts and the plain-words summary.
    pub summary: Summary,
    /// Per chapter.
    pub chapters: Vec<ChapterRow>,
    /// The previous quarter, and the articles whose status changed since.
    pub changes: Changes,
    /// All articles, in order.
    pub articles: Vec<ArticleRow>,
    /// Every finding listed for the quarter, by article, reference and id.
    pub findings: Vec<FindingRow>,
    /// Remarks recorded on the listed findings, in ledger order.
    pub remarks: Vec<Remark>,
    /// The registers the committee reviews.
    pub registers: Vec<Register>,
    /// The thresholds applied, one row per figure.
    pub thresholds: Vec<ThresholdRow>,
    /// Weekdays in the quarter that were not business days.
    pub non_business_days: Vec<NonBusinessDay>,
    /// How an auditor checks the report.
    pub verification: Verification,
}

/// The municipality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Municipality {
    /// `亀岡市`.
    pub name_ja: String,
    /// `Kameoka City`.
    pub name_en: String,
    /// The body the report is addressed to: `情報化推進委員会`.
    pub committee_ja: String,
    /// The same in English.
    pub committee_en: String,
    /// The office that prepares it, from the catalogue.
    pub secretariat_ja: Option<String>,
}

/// The regulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegulationRef {
    /// The catalogue's id.
    pub id: String,
    /// Its name.
    pub name_ja: String,
    /// Its name in English.
    pub name_en: String,
    /// The version of the text the catalogue holds.
    pub version: u32,
    /// When the text is dated.
    pub dated: String,
}

/// The quarter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportPeriod {
    /// The fiscal year, named by the year it begins in.
    pub fiscal_year: i32,
    /// 1–4.
    pub quarter: u8,
    /// `令和8年度 第1四半期`.
    pub label_ja: String,
    /// `FY2026 Q1`.
    pub label_en: String,
    /// `R08-Q1`: used in file names.
    pub code: String,
    /// The first day.
    pub from: String,
    /// The last day.
    pub until: String,
    /// The first day in 和暦.
    pub from_ja: String,
    /// The last day in 和暦.
    pub until_ja: String,
}

/// The ledger position a report was computed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// The ledger's origin.
    pub origin: String,
    /// The number of entries the report covers: entries 0 to `tree_size - 1`.
    pub tree_size: u64,
    /// The RFC 9162 root over them, base64 as in the checkpoint.
    pub root: String,
    /// When the last covered entry was recorded (RFC 3339, UTC).
    pub last_recorded_at: String,
    /// The checkpoint at `tree_size` signed by the ledger key, as a signed
    /// note.
    pub checkpoint: String,
}

/// The number of articles with one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusCount {
    /// The status.
    pub status: String,
    /// Its Japanese label.
    pub label_ja: String,
    /// Its English label.
    pub label_en: String,
    /// How many articles.
    pub count: u64,
}

/// The number of findings of one severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityCount {
    /// `high`, `medium` or `low`.
    pub severity: String,
    /// 高, 中, 低.
    pub label_ja: String,
    /// How many findings.
    pub count: u64,
}

/// The summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Articles per status, every status in report order.
    pub by_status: Vec<StatusCount>,
    /// Findings listed.
    pub findings: u64,
    /// Of those, still open at the anchor.
    pub open: u64,
    /// Of those, resolved.
    pub resolved: u64,
    /// Of those, raised before the quarter (carried over).
    pub carried_over: u64,
    /// Of the carried-over ones, still open.
    pub carried_over_open: u64,
    /// Of those, covered by an approved exception.
    pub under_exception: u64,
    /// Findings per severity: high, medium, low.
    pub by_severity: Vec<SeverityCount>,
    /// Events that occurred in the quarter.
    pub events: u64,
    /// Of those, recorded later than the late-entry threshold.
    pub late_entries: u64,
    /// The summary in plain words, a sentence each.
    pub plain_ja: Vec<String>,
    /// The same in English.
    pub plain_en: Vec<String>,
}

/// One chapter's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChapterRow {
    /// The chapter number.
    pub number: u32,
    /// `第2章`.
    pub label_ja: String,
    /// The title.
    pub title_ja: String,
    /// The title in English.
    pub title_en: String,
    /// The first and last article.
    pub articles: [u32; 2],
    /// Its articles per status, every status in report order.
    pub by_status: Vec<StatusCount>,
    /// Findings listed under its articles.
    pub findings: u64,
    /// Of those, open.
    pub open: u64,
}

/// The quarter before, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    /// The previous quarter's label, e.g. `令和7年度 第4四半期`.
    pub previous_label_ja: String,
    /// The same in English.
    pub previous_label_en: String,
    /// Whether the ledger holds anything of the previous quarter; when it
    /// does not, there is nothing to compare.
    pub comparable: bool,
    /// The previous quarter's articles per status, evaluated at the same
    /// anchor.
    pub previous_by_status: Vec<StatusCount>,
    /// The previous quarter's finding count.
    pub previous_findings: u64,
    /// Articles whose status differs, in article order.
    pub articles: Vec<StatusChange>,
}

/// One article whose status changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// The article.
    pub article: u32,
    /// 第N条.
    pub label_ja: String,
    /// Its title.
    pub title_ja: String,
    /// The previous status.
    pub from: String,
    /// Its label.
    pub from_ja: String,
    /// The status now.
    pub to: String,
    /// Its label.
    pub to_ja: String,
    /// `better`, `worse` or `other`.
    pub direction: String,
}

/// One article's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleRow {
    /// The number.
    pub number: u32,
    /// 第N条.
    pub label_ja: String,
    /// The title exactly as in the regulation.
    pub title_ja: String,
    /// The English title.
    pub title_en: String,
    /// The chapter.
    pub chapter: u32,
    /// `evaluated`, `evidenced` or `declarative`.
    pub evaluation: String,
    /// The status.
    pub status: String,
    /// Its Japanese label.
    pub status_ja: String,
    /// Its English label.
    pub status_en: String,
    /// Events in the quarter of the types the article governs.
    pub events: u64,
    /// Findings listed.
    pub findings: u64,
    /// Of those, open.
    pub open_findings: u64,
    /// Events recorded late.
    pub late_entries: u64,
    /// The paragraphs and items with findings, as `37-1`.
    pub refs_with_findings: Vec<String>,
    /// The same as `第37条第1項`.
    pub refs_with_findings_ja: Vec<String>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingRow {
    /// The finding's stable id.
    pub id: String,
    /// The rule that found it.
    pub rule: String,
    /// `37-1`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// `第37条第1項`.
    pub ref_ja: String,
    /// The article.
    pub article: u32,
    /// The chapter.
    pub chapter: u32,
    /// `high`, `medium` or `low`.
    pub severity: String,
    /// 高, 中, 低.
    pub severity_ja: String,
    /// `violation`, `overdue`, `missing_record` or `inconsistent_record`.
    pub kind: String,
    /// 違反, 期限超過, 記録欠落, 記録不整合.
    pub kind_ja: String,
    /// The subject (device, card, application…), if one.
    pub subject: Option<String>,
    /// What was expected.
    pub expected_ja: String,
    /// The same in English.
    pub expected_en: String,
    /// What happened.
    pub actual_ja: String,
    /// The same in English.
    pub actual_en: String,
    /// The entries that prove it.
    pub seqs: Vec<u64>,
    /// The day it became a finding.
    pub detected_on: String,
    /// `open` or `resolved`.
    pub state: String,
    /// 未解決 or 解決済.
    pub state_ja: String,
    /// The entry that resolved it.
    pub resolved_by: Option<u64>,
    /// The day it was resolved.
    pub resolved_on: Option<String>,
    /// Raised before the quarter.
    pub carried_over: bool,
    /// The approved exception (第73条) that covers it.
    pub exception: Option<String>,
}

/// A remark recorded on a finding (`finding.remarked`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Remark {
    /// The entry that records it.
    pub seq: u64,
    /// The finding it is about.
    pub finding_id: String,
    /// `remediation_plan`, `decision`, `accepted_risk` or `note`.
    pub kind: String,
    /// 改善計画, 決定, リスク受容, 備考.
    pub kind_ja: String,
    /// The remark.
    pub text: String,
    /// `secretariat` or `committee`, when recorded.
    pub remarked_by: Option<String>,
    /// 事務局 or 情報化推進委員会.
    pub remarked_by_ja: Option<String>,
    /// For an accepted risk: who accepted it, as `role staff_id`.
    pub accepted_by: Option<String>,
    /// For a remediation plan: when it is due.
    pub due: Option<String>,
    /// The day it was made.
    pub on: String,
    /// Who recorded it (the event's actor).
    pub actor: String,
}

/// One register: a table of what happened to each subject of a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// A stable id, used for sheet and file names: `incidents`.
    pub id: String,
    /// The title.
    pub title_ja: String,
    /// The title in English.
    pub title_en: String,
    /// The articles it serves.
    pub articles: Vec<u32>,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows; each holds one value per column: a string, a whole
    /// number or null.
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// A register's column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// A stable key.
    pub key: String,
    /// The heading.
    pub label_ja: String,
    /// The heading in English.
    pub label_en: String,
    /// `text`, `date` (YYYY-MM-DD), `number` or `seqs` (entry numbers
    /// separated by spaces).
    pub kind: String,
}

/// One threshold figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRow {
    /// `latency`, `cadence`, `ageing`, `operating_hours` or `late_entry`.
    pub group: String,
    /// The figure's name in the thresholds file.
    pub name: String,
    /// The regulation's words, where it has some.
    pub words_ja: String,
    /// The figure as applied, in Japanese.
    pub value_ja: String,
    /// The same in English.
    pub value_en: String,
}

/// A weekday that was not a business day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NonBusinessDay {
    /// The date.
    pub date: String,
    /// Why: the holiday's name or the closing.
    pub name_ja: String,
}

/// How an auditor checks the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// The command, with the file names an auditor substitutes.
    pub command: String,
    /// What the command checks, in Japanese.
    pub explanation_ja: String,
    /// The same in English.
    pub explanation_en: String,
}

/// The language a report is rendered in. The JSON holds both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Japanese, the default.
    #[default]
    Ja,
    /// English.
    En,
}

impl Lang {
    /// `ja` or `en`, as BCP 47 and the `lang` parameter write it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// Picks the text of this language.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        match s {
            "ja" => Ok(Lang::Ja),
            "en" => Ok(Lang::En),
            other => Err(format!("unknown language {other:?}: expected ja or en")),
        }
    }
}

impl Report {
    /// Reads a report back from its JSON, refusing any other format tag.
    pub fn from_json(bytes: &[u8]) -> Result<Report, String> {
        let report: Report = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if report.format != REPORT_FORMAT {
            return Err(format!(
                "format is {:?}, not {REPORT_FORMAT:?}",
                report.format
            ));
        }
        Ok(report)
    }

    /// The file name a rendering carries: `daicho-R08-Q1.pdf`.
    pub fn file_name(&self, extension: &str) -> String {
        format!("daicho-{}.{extension}", self.period.code)
    }
}

/// The JSON Schema of the report (draft 2020-12), generated from these
/// types, as committed at `schemas/report/daicho-report-v1.schema.json`.
pub fn json_schema() -> serde_json::Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(Report)).expect("schemas serialise");
    if let Some(o) = schema.as_object_mut() {
        o.insert(
            "$id".to_owned(),
            "https://kameoka.daicho.invalid/report/daicho-report-v1.schema.json".into(),
        );
    }
    schema
}
