//! # daicho-report-html: the quarterly report as one HTML file
//!
//! [`render`] turns the report's canonical JSON (the original that
//! `daicho-report` builds and `daicho-verify report` recomputes) into one
//! self-contained HTML document for the committee, in Japanese or in
//! English: the cover, the summary with a chart per chapter, every
//! article's status, every finding with its remarks, the registers, the
//! thresholds applied and the appendix an auditor verifies the report by.
//!
//! Architecture Invariant: the HTML is made from the JSON alone. Nothing
//! else is read, and nothing is added that the JSON does not hold, except
//! the words of the frame (headings, column heads) and the SHA-256 of the
//! JSON itself.
//!
//! Architecture Invariant: the file makes no request of any kind. The
//! stylesheet is inline, the charts are inline SVG, the fonts are the
//! reader's own (Japanese system fonts, then any sans-serif), and there is
//! no script. It prints on A4 with repeating table headers and reads on a
//! phone, where wide tables scroll inside their own box.
//!
//! Architecture Invariant: the same JSON and language always give the same
//! bytes. There is no clock, no randomness and no hash-ordered collection
//! in the rendering; every element id is derived from the data.
//!
//! Every text is escaped by `maud`'s templates; the only markup inserted
//! unescaped is this crate's own stylesheet and doctype.

mod chart;
mod labels;

use std::collections::BTreeMap;

use daicho_report::model::{ArticleRow, FindingRow, Register, Remark, Report};
use daicho_report::Lang;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use labels::t;

/// The stylesheet, inlined into every file.
const STYLE: &str = include_str!("style.css");

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// The bytes are not a report of the format this crate renders.
    #[error("not a daicho report: {0}")]
    Report(String),
}

/// Renders the report held in `json` (its canonical JSON) as one HTML
/// document in `lang`.
pub fn render(json: &[u8], lang: Lang) -> Result<String, HtmlError> {
    let report = Report::from_json(json).map_err(HtmlError::Report)?;
    let digest = daicho_report::sha256_hex(json);
    Ok(document(&report, lang, &digest).into_string())
}

/// The whole document.
fn document(r: &Report, lang: Lang, digest: &str) -> Markup {
    let title = format!(
        "{} {}",
        lang.pick(&r.title_ja, &r.title_en),
        lang.pick(&r.period.label_ja, &r.period.label_en)
    );
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (cover(r, lang))
                (contents(lang))
                main {
                    (summary(r, lang))
                    (article_table(r, lang))
                    (findings(r, lang))
                    (registers(r, lang))
                    (thresholds(r, lang))
                    (verification(r, lang, digest))
                }
            }
        }
    }
}

/// Japanese text shown in an English rendering, marked as Japanese so that
/// readers and screen readers treat it as such.
fn ja_text(lang: Lang, text: &str) -> Markup {
    match lang {
        Lang::Ja => html! { (text) },
        Lang::En => html! { span lang="ja" { (text) } },
    }
}

/// A date with its 和暦 form, in Japanese first.
fn dual_date(lang: Lang, western: &str, wareki: &str) -> Markup {
    match lang {
        Lang::Ja => html! { (wareki) " (" (western) ")" },
        Lang::En => html! { (western) " (" span lang="ja" { (wareki) } ")" },
    }
}

/// A table in its own scrolling box, so that a wide table scrolls on a
/// phone instead of widening the page.
fn wrapped(label: &str, table: Markup) -> Markup {
    html! {
        div.table-wrap role="region" aria-label=(label) tabindex="0" { (table) }
    }
}

fn cover(r: &Report, lang: Lang) -> Markup {
    let municipality = lang.pick(&r.municipality.name_ja, &r.municipality.name_en);
    let committee = lang.pick(&r.municipality.committee_ja, &r.municipality.committee_en);
    html! {
        header.cover {
            h1 { (lang.pick(&r.title_ja, &r.title_en)) }
            p.period {
                (lang.pick(&r.period.label_ja, &r.period.label_en))
                @if lang == Lang::En { " (" span lang="ja" { (r.period.label_ja) } ")" }
            }
            p.dates {
                (r.period.from) " – " (r.period.until)
                span.muted { " (" span lang="ja" { (r.period.from_ja) "〜" (r.period.until_ja) } ")" }
            }
            dl.facts {
                dt { (t(lang, "宛先", "Addressed to")) }
                dd { (committee) }
                dt { (t(lang, "団体", "Municipality")) }
                dd { (municipality) }
                @if let Some(secretariat) = &r.municipality.secretariat_ja {
                    dt { (t(lang, "作成", "Prepared by")) }
                    dd { (ja_text(lang, secretariat)) }
                }
                dt { (t(lang, "対象規程", "Regulation")) }
                dd {
                    (lang.pick(&r.regulation.name_ja, &r.regulation.name_en))
                    " (" (t(lang, "第", "version ")) (r.regulation.version) (t(lang, "版、", ", dated ")) (r.regulation.dated) ")"
                }
                dt { (t(lang, "発行日", "Date of issue")) }
                dd { (dual_date(lang, &r.issued_on, &r.issued_on_ja)) }
                @if let Some(until) = &r.judged_until {
                    dt { (t(lang, "判定時点", "Judged as of")) }
                    dd { (until) }
                }
                dt { (t(lang, "台帳", "Ledger origin")) }
                dd.mono { (r.anchor.origin) }
                dt { (t(lang, "対象記録数（木の大きさ）", "Entries covered (tree size)")) }
                dd { (r.anchor.tree_size) }
                dt { (t(lang, "ルートハッシュ", "Root hash")) }
                dd.mono { (r.anchor.root) }
                dt { (t(lang, "最終記録日時", "Last entry recorded")) }
                dd { (r.anchor.last_recorded_at) }
            }
        }
    }
}

/// The sections, in order, with their ids.
const SECTIONS: [(&str, &str, &str); 6] = [
    ("summary", "1. 概要", "1. Summary"),
    ("articles", "2. 条項別の遵守状況", "2. Status by article"),
    ("findings", "3. 指摘事項の詳細", "3. Findings in detail"),
    ("registers", "4. 台帳", "4. Registers"),
    (
        "thresholds",
        "5. 判定基準と閉庁日",
        "5. Thresholds and non-business days",
    ),
    (
        "verification",
        "6. 検証のための付録",
        "6. Appendix: verification",
    ),
];

fn section_title(lang: Lang, id: &str) -> &'static str {
    SECTIONS
        .iter()
        .find(|s| s.0 == id)
        .map(|s| lang.pick(s.1, s.2))
        .unwrap_or("")
}

fn contents(lang: Lang) -> Markup {
    html! {
        nav.toc aria-label=(t(lang, "目次", "Contents")) {
            strong { (t(lang, "目次", "Contents")) }
            ol {
                @for (id, ja, en) in SECTIONS {
                    li { a href=(format!("#{id}")) { (lang.pick(ja, en).split_once(' ').map(|p| p.1).unwrap_or("")) } }
                }
            }
        }
    }
}

fn summary(r: &Report, lang: Lang) -> Markup {
    let s = &r.summary;
    let plain = match lang {
        Lang::Ja => &s.plain_ja,
        Lang::En => &s.plain_en,
    };
    let status_name = |code: &str| -> String {
        s.by_status
            .iter()
            .find(|c| c.status == code)
            .map(|c| lang.pick(&c.label_ja, &c.label_en).to_owned())
            .unwrap_or_else(|| code.to_owned())
    };
    let carried: Vec<&FindingRow> = r.findings.iter().filter(|f| f.carried_over).collect();
    let ch = &r.changes;
    html! {
        section #summary {
            h2.first { (section_title(lang, "summary")) }
            @for sentence in plain { p { (sentence) } }

            h3 { (t(lang, "件数", "Counts")) }
            div.count-tables {
            (wrapped(t(lang, "状況別の条数", "Articles by status"), html! {
                table.counts {
                    caption { (t(lang, "状況別の条数（全", "Articles by status (of "))
                        (r.articles.len()) (t(lang, "条）", ")")) }
                    thead { tr {
                        th scope="col" { (t(lang, "状況", "Status")) }
                        th scope="col" .num { (t(lang, "今期", "This quarter")) }
                        @if ch.comparable {
                            th scope="col" .num { (t(lang, "前期", "Previous quarter")) }
                        }
                    } }
                    tbody {
                        @for c in &s.by_status {
                            tr {
                                th scope="row" class=(format!("st st-{}", c.status)) { (lang.pick(&c.label_ja, &c.label_en)) }
                                td.num { (c.count) }
                                @if ch.comparable {
                                    td.num { (ch.previous_by_status.iter().find(|p| p.status == c.status).map(|p| p.count).unwrap_or(0)) }
                                }
                            }
                        }
                    }
                }
            }))

            (wrapped(t(lang, "指摘事項と記録の件数", "Findings and records"), html! {
                table.counts {
                    caption { (t(lang, "指摘事項と記録の件数", "Findings and records")) }
                    thead { tr {
                        th scope="col" { (t(lang, "項目", "Item")) }
                        th scope="col" .num { (t(lang, "件数", "Count")) }
                    } }
                    tbody {
                        tr { th scope="row" { (t(lang, "指摘事項", "Findings")) } td.num { (s.findings) } }
                        @for sev in &s.by_severity {
                            tr { th scope="row" { "　" (t(lang, "重大度 ", "severity ")) (labels::severity(lang, &sev.severity, &sev.label_ja)) } td.num { (sev.count) } }
                        }
                        tr { th scope="row" { "　" (t(lang, "未解決", "open")) } td.num { (s.open) } }
                        tr { th scope="row" { "　" (t(lang, "解決済", "resolved")) } td.num { (s.resolved) } }
                        tr { th scope="row" { "　" (t(lang, "前期からの繰越し", "carried over")) } td.num { (s.carried_over) } }
                        tr { th scope="row" { "　" (t(lang, "繰越しのうち未解決", "carried over, still open")) } td.num { (s.carried_over_open) } }
                        tr { th scope="row" { "　" (t(lang, "例外承認の対象", "under an approved exception")) } td.num { (s.under_exception) } }
                        tr { th scope="row" { (t(lang, "期間中の記録", "Events in the quarter")) } td.num { (s.events) } }
                        tr { th scope="row" { "　" (t(lang, "遅延記録", "recorded late")) } td.num { (s.late_entries) } }
                    }
                }
            }))
            }

            h3 { (t(lang, "章別の状況", "Status by chapter")) }
            (chart::legend(lang, &s.by_status))
            div.charts {
                @for c in &r.chapters { (chart::chapter_bar(lang, c)) }
            }

            h3 { (t(lang, "前期からの変化", "Changes since the previous quarter")) }
            p {
                (t(lang, "前期: ", "Previous quarter: "))
                (lang.pick(&ch.previous_label_ja, &ch.previous_label_en))
            }
            @if !ch.comparable {
                p.empty { (t(lang, "前期の記録が台帳にないため、比較はありません。",
                    "The ledger holds no records of the previous quarter, so there is no comparison.")) }
            } @else if ch.articles.is_empty() {
                p.empty { (t(lang, "状況が変わった条はありません。", "No article changed status.")) }
                p { (t(lang, "前期の指摘事項: ", "Findings in the previous quarter: ")) (labels::items(lang, ch.previous_findings)) }
            } @else {
                p { (t(lang, "前期の指摘事項: ", "Findings in the previous quarter: ")) (labels::items(lang, ch.previous_findings)) }
                (wrapped(t(lang, "状況が変わった条", "Articles whose status changed"), html! {
                    table {
                        caption { (t(lang, "状況が変わった条", "Articles whose status changed")) }
                        thead { tr {
                            th scope="col" { (t(lang, "条", "Article")) }
                            th scope="col" { (t(lang, "見出し", "Title")) }
                            th scope="col" { (t(lang, "前期", "Previous")) }
                            th scope="col" { (t(lang, "今期", "Now")) }
                            th scope="col" { (t(lang, "変化", "Direction")) }
                        } }
                        tbody {
                            @for a in &ch.articles {
                                tr {
                                    th scope="row" { (labels::article(lang, a.article, &a.label_ja)) }
                                    td { (ja_text(lang, &a.title_ja)) }
                                    td class=(format!("st st-{}", a.from)) { (status_name(&a.from)) }
                                    td class=(format!("st st-{}", a.to)) { (status_name(&a.to)) }
                                    td { (labels::direction(lang, &a.direction)) }
                                }
                            }
                        }
                    }
                }))
            }

            h3 { (t(lang, "前期から繰り越した指摘事項", "Findings carried over from before the quarter")) }
            @if carried.is_empty() {
                p.empty { (t(lang, "繰り越した指摘事項はありません。", "No finding was carried over.")) }
            } @else {
                ul {
                    @for f in &carried {
                        li {
                            a href=(format!("#finding-{}", f.id)) { (ja_text(lang, &f.ref_ja)) }
                            " " (lang.pick(&f.expected_ja, &f.expected_en))
                            " (" (labels::state(lang, &f.state, &f.state_ja)) ")"
                        }
                    }
                }
            }
        }
    }
}

fn article_table(r: &Report, lang: Lang) -> Markup {
    html! {
        section #articles {
            h2 { (section_title(lang, "articles")) }
            p.muted { (t(lang,
                "全条項を条の順に示します。指摘欄は指摘事項の件数で、括弧内はそのうち未解決の件数です。",
                "Every article in order. Findings are the number listed, with those still open in brackets.")) }
            (wrapped(section_title(lang, "articles"), html! {
                table.articles {
                    caption { (t(lang, "条項別の遵守状況（全", "Status by article (all "))
                        (r.articles.len()) (t(lang, "条）", " articles)")) }
                    thead { tr {
                        th scope="col" { (t(lang, "条", "Article")) }
                        th scope="col" { (t(lang, "見出し", "Title")) }
                        th scope="col" { (t(lang, "状況", "Status")) }
                        th scope="col" .num { (t(lang, "指摘（未解決）", "Findings (open)")) }
                        th scope="col" .num { (t(lang, "記録件数", "Events")) }
                        th scope="col" { (t(lang, "指摘のある項・号", "Paragraphs with findings")) }
                    } }
                    tbody {
                        @for a in &r.articles { (article_row(a, lang)) }
                    }
                }
            }))
        }
    }
}

fn article_row(a: &ArticleRow, lang: Lang) -> Markup {
    let refs = match lang {
        Lang::Ja => a.refs_with_findings_ja.join("、"),
        Lang::En => a.refs_with_findings.join(", "),
    };
    html! {
        tr data-article=(a.number) id=(format!("article-{}", a.number)) {
            th scope="row" { (labels::article(lang, a.number, &a.label_ja)) }
            td {
                @match lang {
                    Lang::Ja => { (a.title_ja) }
                    Lang::En => { (a.title_en) span.secondary lang="ja" { (a.title_ja) } }
                }
            }
            td class=(format!("st st-{}", a.status)) { (lang.pick(&a.status_ja, &a.status_en)) }
            td.num {
                @if a.findings == 0 { "—" } @else { (a.findings) " (" (a.open_findings) ")" }
            }
            td.num { (a.events) }
            td {
                @if a.findings > 0 {
                    a href=(format!("#findings-article-{}", a.number)) { (refs) }
                } @else { (refs) }
            }
        }
    }
}

fn findings(r: &Report, lang: Lang) -> Markup {
    let mut remarks: BTreeMap<&str, Vec<&Remark>> = BTreeMap::new();
    for remark in &r.remarks {
        remarks.entry(&remark.finding_id).or_default().push(remark);
    }
    let titles: BTreeMap<u32, &ArticleRow> = r.articles.iter().map(|a| (a.number, a)).collect();
    html! {
        section #findings {
            h2 { (section_title(lang, "findings")) }
            @if r.findings.is_empty() {
                p.empty { (t(lang, "指摘事項はありません。", "There are no findings.")) }
            }
            @for c in &r.chapters {
                @let in_chapter: Vec<&FindingRow> = r.findings.iter().filter(|f| f.chapter == c.number).collect();
                @if !in_chapter.is_empty() {
                    section.chapter-findings {
                        h3 { (labels::chapter(lang, c.number, &c.label_ja)) " " (lang.pick(&c.title_ja, &c.title_en))
                            span.muted { " — " (labels::findings_count(lang, in_chapter.len() as u64)) } }
                        @for (number, group) in by_article(&in_chapter) {
                            section #(format!("findings-article-{number}")) {
                                h4 {
                                    @if let Some(a) = titles.get(&number) {
                                        (labels::article(lang, number, &a.label_ja)) " " (lang.pick(&a.title_ja, &a.title_en))
                                    } @else {
                                        (labels::article(lang, number, &format!("第{number}条")))
                                    }
                                }
                                @for f in group {
                                    (finding(f, lang, remarks.get(f.id.as_str()).map(Vec::as_slice).unwrap_or(&[])))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Findings of one chapter grouped by article, in the report's order.
fn by_article<'a>(findings: &[&'a FindingRow]) -> Vec<(u32, Vec<&'a FindingRow>)> {
    let mut groups: Vec<(u32, Vec<&FindingRow>)> = Vec::new();
    for f in findings {
        match groups.last_mut() {
            Some((n, group)) if *n == f.article => group.push(f),
            _ => groups.push((f.article, vec![f])),
        }
    }
    groups
}

fn finding(f: &FindingRow, lang: Lang, remarks: &[&Remark]) -> Markup {
    let seqs: Vec<String> = f.seqs.iter().map(u64::to_string).collect();
    html! {
        article.finding id=(format!("finding-{}", f.id)) class=(format!("state-{}", f.state)) data-finding=(f.id) {
            h5 {
                (ja_text(lang, &f.ref_ja))
                @if lang == Lang::En { " (" (f.reference) ")" }
                span.tags {
                    span class=(format!("tag sev-{}", f.severity)) { (t(lang, "重大度 ", "severity ")) (labels::severity(lang, &f.severity, &f.severity_ja)) }
                    span.tag { (labels::kind(lang, &f.kind, &f.kind_ja)) }
                    span class=(format!("tag state-{}", f.state)) { (labels::state(lang, &f.state, &f.state_ja)) }
                }
            }
            dl.facts.finding-facts {
                @if let Some(subject) = &f.subject {
                    dt { (t(lang, "対象", "Subject")) }
                    dd { (subject) }
                }
                dt { (t(lang, "求められること", "Expected")) }
                dd { (lang.pick(&f.expected_ja, &f.expected_en)) }
                dt { (t(lang, "実際", "Actual")) }
                dd { (lang.pick(&f.actual_ja, &f.actual_en)) }
                dt { (t(lang, "判明日", "Detected on")) }
                dd { (f.detected_on)
                    @if f.carried_over { " " span.tag { (t(lang, "前期から繰越し", "carried over")) } } }
                @if let Some(on) = &f.resolved_on {
                    dt { (t(lang, "解決日", "Resolved on")) }
                    dd { (on)
                        @if let Some(seq) = f.resolved_by { " (" (t(lang, "記録 ", "entry ")) (seq) ")" } }
                }
                dt { (t(lang, "根拠となる記録（連番）", "Proving entries (seq)")) }
                dd.mono { (seqs.join(" ")) }
                @if let Some(exception) = &f.exception {
                    dt { (t(lang, "例外措置", "Exception")) }
                    dd { (exception) }
                }
                dt { (t(lang, "規則", "Rule")) }
                dd.mono { (f.rule) " · " (f.id) }
                @if !remarks.is_empty() {
                    dt { (t(lang, "所見", "Remarks")) }
                    dd {
                        ul.remarks {
                            @for m in remarks { li { (remark(m, lang)) } }
                        }
                    }
                }
            }
        }
    }
}

fn remark(m: &Remark, lang: Lang) -> Markup {
    html! {
        strong { (labels::remark_kind(lang, &m.kind, &m.kind_ja)) }
        " (" (m.on)
        @if let Some(by) = &m.remarked_by {
            ", " (labels::remarked_by(lang, by, m.remarked_by_ja.as_deref()))
        }
        ", " (t(lang, "記録 ", "entry ")) (m.seq) "): "
        (ja_text(lang, &m.text))
        @if let Some(due) = &m.due { " — " (t(lang, "期限 ", "due ")) (due) }
        @if let Some(by) = &m.accepted_by { " — " (t(lang, "受容者 ", "accepted by ")) (by) }
        span.muted { " — " (m.actor) }
    }
}

fn registers(r: &Report, lang: Lang) -> Markup {
    html! {
        section #registers {
            h2 { (section_title(lang, "registers")) }
            @for g in &r.registers { (register(g, lang)) }
        }
    }
}

fn register(g: &Register, lang: Lang) -> Markup {
    let name = lang.pick(&g.title_ja, &g.title_en);
    let articles: Vec<String> = g
        .articles
        .iter()
        .map(|n| labels::article(lang, *n, &format!("第{n}条")))
        .collect();
    html! {
        section id=(format!("register-{}", g.id)) {
            h3 { (name) }
            p.muted { (t(lang, "関係条項: ", "Articles: ")) (articles.join(lang.pick("、", ", ")))
                " · " (labels::rows_count(lang, g.rows.len() as u64)) }
            @if g.rows.is_empty() {
                p.empty { (t(lang, "期間中の記録はありません。", "Nothing recorded in the quarter.")) }
            } @else {
                (wrapped(name, html! {
                    table.register {
                        caption { (name) }
                        thead { tr {
                            @for c in &g.columns {
                                th scope="col" class=[(c.kind == "number").then_some("num")] { (lang.pick(&c.label_ja, &c.label_en)) }
                            }
                        } }
                        tbody {
                            @for row in &g.rows {
                                tr {
                                    @for (i, (c, v)) in g.columns.iter().zip(row).enumerate() {
                                        @if i == 0 {
                                            th scope="row" class=[cell_class(&c.kind, v)] { (cell(v)) }
                                        } @else {
                                            td class=[cell_class(&c.kind, v)] { (cell(v)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }))
            }
        }
    }
}

/// The class of a register cell: numbers align right, entry numbers are
/// set small, and short identifiers (`USB-0003`, `L13-2026-00015`, dates)
/// never break inside, so that the Japanese columns get the width.
fn cell_class(kind: &str, v: &serde_json::Value) -> Option<&'static str> {
    match (kind, v) {
        ("number", _) => Some("num"),
        ("seqs", _) => Some("seqs"),
        (_, serde_json::Value::String(s)) if is_identifier(s) => Some("ident"),
        _ => None,
    }
}

fn is_identifier(s: &str) -> bool {
    s.len() <= 16 && !s.contains('_') && s.chars().all(|c| c.is_ascii_graphic())
}

/// A register value. A code such as `exchange_with_government_or_contractor`
/// may break after its underscores, where a reader expects it to.
fn cell(v: &serde_json::Value) -> Markup {
    match v {
        serde_json::Value::Null => html! { "—" },
        serde_json::Value::String(s) if s.contains('_') && !s.contains(' ') => {
            let parts: Vec<&str> = s.split_inclusive('_').collect();
            html! { @for p in parts { (p) wbr; } }
        }
        serde_json::Value::String(s) => html! { (s) },
        other => html! { (other.to_string()) },
    }
}

fn thresholds(r: &Report, lang: Lang) -> Markup {
    html! {
        section #thresholds {
            h2 { (section_title(lang, "thresholds")) }
            (wrapped(t(lang, "判定基準", "Thresholds"), html! {
                table {
                    caption { (t(lang, "適用した判定基準", "Thresholds applied")) }
                    thead { tr {
                        th scope="col" { (t(lang, "区分", "Group")) }
                        th scope="col" { (t(lang, "名称", "Name")) }
                        th scope="col" { (t(lang, "規程の文言", "Regulation's words")) }
                        th scope="col" { (t(lang, "適用値", "Applied as")) }
                    } }
                    tbody {
                        @for th_ in &r.thresholds {
                            tr {
                                td { (labels::threshold_group(lang, &th_.group)) }
                                th scope="row" .mono { (th_.name) }
                                td { (ja_text(lang, &th_.words_ja)) }
                                td { (lang.pick(&th_.value_ja, &th_.value_en)) }
                            }
                        }
                    }
                }
            }))
            h3 { (t(lang, "閉庁日（平日）", "Weekdays that were not business days")) }
            @if r.non_business_days.is_empty() {
                p.empty { (t(lang, "ありません。", "None.")) }
            } @else {
                (wrapped(t(lang, "閉庁日", "Non-business days"), html! {
                    table.counts {
                        caption { (t(lang, "期間中の平日の閉庁日", "Weekdays in the quarter that were not business days")) }
                        thead { tr {
                            th scope="col" { (t(lang, "日付", "Date")) }
                            th scope="col" { (t(lang, "理由", "Reason")) }
                        } }
                        tbody {
                            @for d in &r.non_business_days {
                                tr { th scope="row" { (d.date) } td { (ja_text(lang, &d.name_ja)) } }
                            }
                        }
                    }
                }))
            }
        }
    }
}

fn verification(r: &Report, lang: Lang, digest: &str) -> Markup {
    html! {
        section #verification {
            h2 { (section_title(lang, "verification")) }
            p { (lang.pick(&r.verification.explanation_ja, &r.verification.explanation_en)) }
            h3 { (t(lang, "検証コマンド", "Command")) }
            pre { code { (r.verification.command) } }
            h3 { (t(lang, "報告書JSONのSHA-256", "SHA-256 of the report's JSON")) }
            p { (t(lang, "本書は次のJSONから作成しました: ", "This document is rendered from the JSON ")) code { (r.file_name("json")) } }
            pre { code { (digest) } }
            p { (t(lang, "JSONファイルのSHA-256（例: ", "Any SHA-256 tool gives the same value for the JSON file (for example "))
                code { "sha256sum " (r.file_name("json")) }
                (t(lang, "）がこの値と一致すれば、本書はそのJSONから作成されたものです。", ").")) }
            h3 { (t(lang, "署名付きチェックポイント", "Signed checkpoint")) }
            p { (t(lang, "台帳の鍵が木の大きさ ", "The ledger key signed this checkpoint at tree size "))
                (r.anchor.tree_size) (t(lang, " で署名したチェックポイントです。", ".")) }
            pre.checkpoint { (r.anchor.checkpoint) }
        }
    }
}
