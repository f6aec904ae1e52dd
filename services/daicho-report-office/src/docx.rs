//! The Word document, written as WordprocessingML by hand: every part and
//! every byte is decided here, so the same JSON gives the same document
//! (the general-purpose writers number parts from process-wide counters
//! and date the package with the clock).

use std::fmt::Write as _;

use daicho_report::{Lang, Report};

use crate::tables::{self, Cell};
use crate::{read, zip_out, OfficeError};

/// The fonts named in the styles; names only, nothing is embedded. The
/// font table names Yu Gothic as the substitute where one is missing.
/// Japanese text is set in the fixed-pitch face, Latin text in its
/// proportional sibling, and digests and commands in the fixed-pitch face
/// so that their characters line up.
const FONT: &str = "BIZ UDGothic";
const FONT_LATIN: &str = "BIZ UDPGothic";
const FONT_ALT: &str = "Yu Gothic";
const MONO: &str = "BIZ UDGothic";

/// A4 in twentieths of a point, and 20 mm margins.
const A4_SHORT: u32 = 11906;
const A4_LONG: u32 = 16838;
const MARGIN: u32 = 1134;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Control characters other than tab and newline are not allowed
            // in XML 1.0; a report has none, and one would break the file.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// How a run is set.
#[derive(Clone, Copy, Default)]
struct RunStyle {
    bold: bool,
    /// Half-points; 0 keeps the paragraph's size.
    size: u32,
    mono: bool,
}

fn run(text: &str, style: RunStyle) -> String {
    let mut props = String::new();
    if style.mono {
        let _ = write!(
            props,
            r#"<w:rFonts w:ascii="{MONO}" w:hAnsi="{MONO}" w:eastAsia="{MONO}" w:cs="{MONO}"/>"#
        );
    }
    if style.bold {
        props.push_str("<w:b/>");
    }
    if style.size > 0 {
        let _ = write!(
            props,
            r#"<w:sz w:val="{0}"/><w:szCs w:val="{0}"/>"#,
            style.size
        );
    }
    let mut out = String::from("<w:r>");
    if !props.is_empty() {
        let _ = write!(out, "<w:rPr>{props}</w:rPr>");
    }
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<w:br/>");
        }
        let _ = write!(out, r#"<w:t xml:space="preserve">{}</w:t>"#, esc(line));
    }
    out.push_str("</w:r>");
    out
}

/// A paragraph of runs in a style (`None` for Normal), with extra
/// paragraph properties such as justification.
fn para(style: Option<&str>, ppr: &str, runs: &[String]) -> String {
    let mut out = String::from("<w:p>");
    if style.is_some() || !ppr.is_empty() {
        out.push_str("<w:pPr>");
        if let Some(s) = style {
            let _ = write!(out, r#"<w:pStyle w:val="{s}"/>"#);
        }
        out.push_str(ppr);
        out.push_str("</w:pPr>");
    }
    for r in runs {
        out.push_str(r);
    }
    out.push_str("</w:p>");
    out
}

fn text_para(style: Option<&str>, text: &str) -> String {
    para(style, "", &[run(text, RunStyle::default())])
}

/// How wide text is set, in ems, on its longest line: a Japanese
/// character is one em, a Latin character of the proportional face up to
/// 0.72 em (digits are the widest), and a word processor adds a quarter em
/// where Japanese text meets Latin letters or digits.
fn text_ems(s: &str) -> f64 {
    s.lines()
        .map(|l| {
            let mut ems = 0.0;
            let mut prev_wide = None;
            for c in l.chars() {
                let wide = (c as u32) >= 0x1100;
                ems += if wide { 1.0 } else { 0.72 };
                if c.is_alphanumeric() && prev_wide.is_some_and(|p| p != wide) {
                    ems += 0.25;
                }
                if c.is_alphanumeric() {
                    prev_wide = Some(wide);
                }
            }
            ems
        })
        .fold(0.0, f64::max)
}

/// Column widths in twips that fill `total`. Each column first gets room
/// for its content set on one line, up to a short cap, so that dates,
/// numbers and ids never break; what is left goes to the columns with
/// longer text, in proportion to how much more they would need.
fn column_widths(headers: &[String], rows: &[Vec<String>], total: u32, size: u32) -> Vec<u32> {
    // An em at `size` half-points is `size * 10` twips; the padding is the
    // cell's left and right margins and a little air.
    let em = f64::from(size.max(1)) * 10.0;
    let pad = 240.0;
    let n = headers.len().max(1);
    let content: Vec<f64> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|s| text_ems(s))
                .fold(0.0, f64::max)
        })
        .collect();
    // A header may wrap, but not inside a word: Latin words keep their
    // width (up to a cap), Japanese headings break anywhere.
    let header: Vec<f64> = (0..n)
        .map(|i| {
            headers.get(i).map_or(0.0, |h| {
                h.split_whitespace()
                    .map(|w| {
                        if w.is_ascii() {
                            text_ems(w).min(6.5)
                        } else {
                            2.0
                        }
                    })
                    .fold(0.0, f64::max)
            })
        })
        .collect();
    let min: Vec<f64> = (0..n)
        .map(|i| content[i].min(9.5).max(header[i]).max(2.0) * em + pad)
        .collect();
    let want: Vec<f64> = (0..n)
        .map(|i| content[i].max(header[i]).min(40.0) * em + pad)
        .collect();
    let total_f = f64::from(total);
    let min_sum: f64 = min.iter().sum();
    let widths: Vec<f64> = if min_sum >= total_f {
        min.iter().map(|m| m * total_f / min_sum).collect()
    } else {
        let extra_want: f64 = want.iter().zip(&min).map(|(w, m)| (w - m).max(0.0)).sum();
        let spare = total_f - min_sum;
        want.iter()
            .zip(&min)
            .map(|(w, m)| {
                if extra_want > 0.0 {
                    m + spare * (w - m).max(0.0) / extra_want
                } else {
                    m + spare / n as f64
                }
            })
            .collect()
    };
    let mut widths: Vec<u32> = widths.iter().map(|w| w.floor() as u32).collect();
    let used: u32 = widths.iter().sum();
    if let Some(last) = widths.last_mut() {
        *last += total.saturating_sub(used);
    }
    widths
}

struct TableSpec<'a> {
    headers: &'a [String],
    rows: &'a [Vec<String>],
    total: u32,
    /// Half-points.
    size: u32,
    /// Columns set right-aligned (numbers).
    right: &'a [usize],
}

fn cell_xml(width: u32, fill: Option<&str>, ppr: &str, content: &str, span: u32) -> String {
    let mut out = String::from("<w:tc><w:tcPr>");
    let _ = write!(out, r#"<w:tcW w:w="{width}" w:type="dxa"/>"#);
    if span > 1 {
        let _ = write!(out, r#"<w:gridSpan w:val="{span}"/>"#);
    }
    if let Some(fill) = fill {
        let _ = write!(
            out,
            r#"<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>"#
        );
    }
    out.push_str("</w:tcPr>");
    let _ = write!(
        out,
        "<w:p><w:pPr><w:spacing w:before=\"0\" w:after=\"0\"/>{ppr}</w:pPr>{content}</w:p>"
    );
    out.push_str("</w:tc>");
    out
}

fn table_start(widths: &[u32]) -> String {
    let total: u32 = widths.iter().sum();
    let mut out = String::from("<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/>");
    let _ = write!(
        out,
        r#"<w:tblW w:w="{total}" w:type="dxa"/><w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar></w:tblPr><w:tblGrid>"#
    );
    for w in widths {
        let _ = write!(out, r#"<w:gridCol w:w="{w}"/>"#);
    }
    out.push_str("</w:tblGrid>");
    out
}

/// A table whose header row repeats on every page it runs over.
fn table(spec: &TableSpec) -> String {
    let widths = column_widths(spec.headers, spec.rows, spec.total, spec.size);
    let mut out = table_start(&widths);
    let style = RunStyle {
        size: spec.size,
        ..RunStyle::default()
    };
    let bold = RunStyle {
        bold: true,
        ..style
    };
    out.push_str("<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>");
    for (h, w) in spec.headers.iter().zip(&widths) {
        out.push_str(&cell_xml(*w, Some("DDE4EE"), "", &run(h, bold), 1));
    }
    out.push_str("</w:tr>");
    for row in spec.rows {
        out.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
        for (i, w) in widths.iter().enumerate() {
            let text = row.get(i).map_or("", String::as_str);
            let ppr = if spec.right.contains(&i) {
                r#"<w:jc w:val="right"/>"#
            } else {
                ""
            };
            out.push_str(&cell_xml(*w, None, ppr, &run(text, style), 1));
        }
        out.push_str("</w:tr>");
    }
    out.push_str("</w:tbl>");
    out.push_str(&para(None, r#"<w:spacing w:before="0" w:after="0"/>"#, &[]));
    out
}

/// A two-column table of labels and values.
fn key_value_table(rows: &[(String, String, bool)], total: u32) -> String {
    let label_width = total * 3 / 10;
    let widths = [label_width, total - label_width];
    let mut out = table_start(&widths);
    for (k, v, mono) in rows {
        out.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
        out.push_str(&cell_xml(
            widths[0],
            Some("F2F2F2"),
            "",
            &run(
                k,
                RunStyle {
                    bold: true,
                    ..RunStyle::default()
                },
            ),
            1,
        ));
        out.push_str(&cell_xml(
            widths[1],
            None,
            "",
            &run(
                v,
                RunStyle {
                    mono: *mono,
                    size: if *mono { 17 } else { 0 },
                    ..RunStyle::default()
                },
            ),
            1,
        ));
        out.push_str("</w:tr>");
    }
    out.push_str("</w:tbl>");
    out.push_str(&para(None, r#"<w:spacing w:before="0" w:after="0"/>"#, &[]));
    out
}

/// The approval box (決裁欄): a heading row of who signs and an empty row
/// tall enough for a seal or a signature, and a line for the date.
fn approval_box(lang: Lang, total: u32) -> String {
    let roles: Vec<&str> = match lang {
        Lang::Ja => vec!["委員長", "副委員長", "事務局長", "係長", "担当"],
        Lang::En => vec![
            "Chair",
            "Vice-chair",
            "Head of secretariat",
            "Section chief",
            "Officer in charge",
        ],
    };
    let each = total / roles.len() as u32;
    let widths: Vec<u32> = roles.iter().map(|_| each).collect();
    let mut out = table_start(&widths);
    let bold = RunStyle {
        bold: true,
        ..RunStyle::default()
    };
    out.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
    for r in &roles {
        out.push_str(&cell_xml(
            each,
            Some("F2F2F2"),
            r#"<w:jc w:val="center"/>"#,
            &run(r, bold),
            1,
        ));
    }
    out.push_str("</w:tr>");
    out.push_str(
        r#"<w:tr><w:trPr><w:cantSplit/><w:trHeight w:val="1250" w:hRule="exact"/></w:trPr>"#,
    );
    for _ in &roles {
        out.push_str(&cell_xml(each, None, "", "", 1));
    }
    out.push_str("</w:tr>");
    let date = lang.pick("決裁日　　　　　年　　　月　　　日", "Date of decision:");
    out.push_str(r#"<w:tr><w:trPr><w:cantSplit/><w:trHeight w:val="450"/></w:trPr>"#);
    out.push_str(&cell_xml(
        each * roles.len() as u32,
        None,
        "",
        &run(date, RunStyle::default()),
        roles.len() as u32,
    ));
    out.push_str("</w:tr></w:tbl>");
    out
}

fn section_break(landscape: bool) -> String {
    para(None, &sect_pr(landscape), &[])
}

fn sect_pr(landscape: bool) -> String {
    let (w, h, orient) = if landscape {
        (A4_LONG, A4_SHORT, r#" w:orient="landscape""#)
    } else {
        (A4_SHORT, A4_LONG, "")
    };
    format!(
        r#"<w:sectPr><w:footerReference w:type="default" r:id="rIdFooter1"/><w:pgSz w:w="{w}" w:h="{h}"{orient}/><w:pgMar w:top="{MARGIN}" w:right="{MARGIN}" w:bottom="{MARGIN}" w:left="{MARGIN}" w:header="567" w:footer="454" w:gutter="0"/></w:sectPr>"#
    )
}

fn cells_to_strings(rows: &[Vec<Cell>], keep: &[usize]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            keep.iter()
                .map(|i| r.get(*i).map_or(String::new(), Cell::display))
                .collect()
        })
        .collect()
}

fn body(report: &Report, json: &[u8], lang: Lang) -> String {
    let l = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    let portrait = A4_SHORT - 2 * MARGIN;
    let landscape = A4_LONG - 2 * MARGIN;
    let sha = daicho_report::sha256_hex(json);
    let mut b = String::new();

    // The cover.
    b.push_str(&para(
        None,
        r#"<w:jc w:val="right"/>"#,
        &[run(
            &match lang {
                Lang::Ja => report.issued_on_ja.clone(),
                Lang::En => report.issued_on.clone(),
            },
            RunStyle::default(),
        )],
    ));
    b.push_str(&text_para(
        None,
        &match lang {
            Lang::Ja => format!("{}　様", report.municipality.committee_ja),
            Lang::En => format!("To the {}", report.municipality.committee_en),
        },
    ));
    // The secretariat's name is held in Japanese only; an English cover
    // names the committee and the municipality instead.
    if let (Lang::Ja, Some(s)) = (lang, &report.municipality.secretariat_ja) {
        b.push_str(&para(
            None,
            r#"<w:jc w:val="right"/>"#,
            &[run(s, RunStyle::default())],
        ));
    }
    b.push_str(&text_para(
        Some("Title"),
        lang.pick(&report.title_ja, &report.title_en),
    ));
    b.push_str(&para(
        Some("Subtitle"),
        "",
        &[run(
            lang.pick(&report.period.label_ja, &report.period.label_en),
            RunStyle::default(),
        )],
    ));
    let period = match lang {
        Lang::Ja => format!("{} ～ {}", report.period.from_ja, report.period.until_ja),
        Lang::En => format!("{} to {}", report.period.from, report.period.until),
    };
    let mut cover = vec![
        (
            l("団体", "Municipality"),
            lang.pick(&report.municipality.name_ja, &report.municipality.name_en)
                .to_owned(),
            false,
        ),
        (
            l("対象規程", "Regulation"),
            format!(
                "{}（{}）",
                lang.pick(&report.regulation.name_ja, &report.regulation.name_en),
                report.regulation.dated
            ),
            false,
        ),
        (l("対象期間", "Period"), period, false),
        (
            l("発行日", "Issued on"),
            match lang {
                Lang::Ja => format!("{}（{}）", report.issued_on_ja, report.issued_on),
                Lang::En => report.issued_on.clone(),
            },
            false,
        ),
    ];
    if let Some(j) = &report.judged_until {
        cover.push((l("判定時点", "Judged until"), j.clone(), false));
    }
    cover.push((
        l("対象記録", "Entries covered"),
        match lang {
            Lang::Ja => format!("台帳の先頭{}件", report.anchor.tree_size),
            Lang::En => format!("the first {} ledger entries", report.anchor.tree_size),
        },
        false,
    ));
    cover.push((
        l("正本（JSON）の SHA-256", "SHA-256 of the original (JSON)"),
        sha.clone(),
        true,
    ));
    b.push_str(&key_value_table(&cover, portrait));
    b.push_str(&text_para(Some("Heading2"), &l("決裁欄", "Approval")));
    b.push_str(&approval_box(lang, portrait));
    b.push_str(&para(
        None,
        "",
        &[r#"<w:r><w:br w:type="page"/></w:r>"#.to_owned()],
    ));

    // 1 Summary.
    b.push_str(&text_para(Some("Heading1"), &l("1　概要", "1 Summary")));
    for s in match lang {
        Lang::Ja => &report.summary.plain_ja,
        Lang::En => &report.summary.plain_en,
    } {
        b.push_str(&text_para(None, s));
    }
    b.push_str(&text_para(
        Some("Heading2"),
        &l("状況別の条数", "Articles by status"),
    ));
    let mut headers = vec![l("状況", "Status"), l("条数", "Articles")];
    if report.changes.comparable {
        headers.push(
            lang.pick(
                &report.changes.previous_label_ja,
                &report.changes.previous_label_en,
            )
            .to_owned(),
        );
    }
    let rows: Vec<Vec<String>> = report
        .summary
        .by_status
        .iter()
        .map(|s| {
            let mut r = vec![
                lang.pick(&s.label_ja, &s.label_en).to_owned(),
                s.count.to_string(),
            ];
            if report.changes.comparable {
                let prev = report
                    .changes
                    .previous_by_status
                    .iter()
                    .find(|p| p.status == s.status);
                r.push(prev.map_or(String::new(), |p| p.count.to_string()));
            }
            r
        })
        .collect();
    b.push_str(&table(&TableSpec {
        headers: &headers,
        rows: &rows,
        total: portrait / 2,
        size: 18,
        right: &[1, 2],
    }));

    let s = &report.summary;
    let sev = s
        .by_severity
        .iter()
        .map(|v| match lang {
            Lang::Ja => format!("{} {}件", v.label_ja, v.count),
            Lang::En => format!("{} {}", v.severity, v.count),
        })
        .collect::<Vec<_>>()
        .join(lang.pick("・", ", "));
    let counts = vec![
        (l("指摘事項", "Findings"), s.findings.to_string(), false),
        (
            l("うち未解決／解決済", "open / resolved"),
            format!("{} / {}", s.open, s.resolved),
            false,
        ),
        (
            l(
                "前期からの繰越し（うち未解決）",
                "carried over (still open)",
            ),
            format!("{} ({})", s.carried_over, s.carried_over_open),
            false,
        ),
        (
            l("例外措置の対象", "under an approved exception"),
            s.under_exception.to_string(),
            false,
        ),
        (l("重大度別", "by severity"), sev, false),
        (
            l(
                "期間中の記録（うち遅延）",
                "events in the quarter (recorded late)",
            ),
            format!("{} ({})", s.events, s.late_entries),
            false,
        ),
    ];
    b.push_str(&text_para(
        Some("Heading2"),
        &l("指摘事項と記録の件数", "Findings and events"),
    ));
    b.push_str(&key_value_table(&counts, portrait));

    b.push_str(&text_para(Some("Heading2"), &l("章別の状況", "By chapter")));
    // A column per status does not fit a portrait page with English
    // headings, so a chapter's statuses are one cell of the non-zero
    // counts; the workbook keeps a column per status for sorting.
    let headers = vec![
        l("章", "Chapter"),
        l("見出し", "Title"),
        l("条", "Articles"),
        l("状況別の条数", "Articles by status"),
        l("指摘", "Findings"),
        l("未解決", "Open"),
    ];
    let rows: Vec<Vec<String>> = report
        .chapters
        .iter()
        .map(|c| {
            let statuses = s
                .by_status
                .iter()
                .filter_map(|st| {
                    let n = c.by_status.iter().find(|x| x.status == st.status)?.count;
                    (n > 0).then(|| match lang {
                        Lang::Ja => format!("{} {n}", st.label_ja),
                        Lang::En => format!("{} {n}", st.label_en),
                    })
                })
                .collect::<Vec<_>>()
                .join(lang.pick("・", ", "));
            vec![
                tables::chapter_label(lang, &c.label_ja, c.number),
                lang.pick(&c.title_ja, &c.title_en).to_owned(),
                format!("{}–{}", c.articles[0], c.articles[1]),
                statuses,
                c.findings.to_string(),
                c.open.to_string(),
            ]
        })
        .collect();
    b.push_str(&table(&TableSpec {
        headers: &headers,
        rows: &rows,
        total: portrait,
        size: 17,
        right: &[4, 5],
    }));
    if report.changes.comparable {
        b.push_str(&text_para(
            Some("Heading2"),
            &match lang {
                Lang::Ja => format!("{}からの変化", report.changes.previous_label_ja),
                Lang::En => format!("Changes since {}", report.changes.previous_label_en),
            },
        ));
        if report.changes.articles.is_empty() {
            b.push_str(&text_para(
                None,
                &l(
                    "状況が変わった条はありません。",
                    "No article changed status.",
                ),
            ));
        }
        for c in &report.changes.articles {
            b.push_str(&text_para(
                None,
                &match lang {
                    Lang::Ja => {
                        format!("{} {}：{} → {}", c.label_ja, c.title_ja, c.from_ja, c.to_ja)
                    }
                    Lang::En => format!(
                        "Article {}: {} → {} ({})",
                        c.article, c.from, c.to, c.direction
                    ),
                },
            ));
        }
    }

    // 2 Articles.
    b.push_str(&text_para(
        Some("Heading1"),
        &l("2　条文別の状況", "2 Articles"),
    ));
    let articles = tables::articles(report, lang);
    let keep = [1, 2, 5, 6, 7, 8, 9];
    let headers: Vec<String> = keep.iter().map(|i| articles.headers[*i].clone()).collect();
    let rows = cells_to_strings(&articles.rows, &keep);
    b.push_str(&table(&TableSpec {
        headers: &headers,
        rows: &rows,
        total: portrait,
        size: 17,
        right: &[3, 4, 5, 6],
    }));

    // 3 Findings, by chapter and article.
    b.push_str(&text_para(
        Some("Heading1"),
        &l("3　指摘事項", "3 Findings"),
    ));
    if report.findings.is_empty() {
        b.push_str(&text_para(
            None,
            &l("指摘事項はありません。", "There are no findings."),
        ));
    }
    let mut chapter = None;
    let mut article = None;
    for f in &report.findings {
        if chapter != Some(f.chapter) {
            chapter = Some(f.chapter);
            article = None;
            if let Some(c) = report.chapters.iter().find(|c| c.number == f.chapter) {
                b.push_str(&text_para(
                    Some("Heading2"),
                    &format!(
                        "{}　{}",
                        tables::chapter_label(lang, &c.label_ja, c.number),
                        lang.pick(&c.title_ja, &c.title_en)
                    ),
                ));
            }
        }
        if article != Some(f.article) {
            article = Some(f.article);
            if let Some(a) = report.articles.iter().find(|a| a.number == f.article) {
                b.push_str(&text_para(
                    Some("Heading3"),
                    &format!(
                        "{}　{}",
                        tables::article_label(lang, &a.label_ja, a.number),
                        lang.pick(&a.title_ja, &a.title_en)
                    ),
                ));
            }
        }
        let (severity, kind, state) = tables::finding_words(lang, f);
        let head = match lang {
            Lang::Ja => format!("{}　重大度 {}・{}・{}", f.ref_ja, severity, kind, state),
            Lang::En => format!(
                "{}: {} severity, {}, {}",
                f.reference, severity, kind, state
            ),
        };
        b.push_str(&para(
            None,
            r#"<w:keepNext/><w:spacing w:before="120" w:after="0"/>"#,
            &[
                run(
                    &head,
                    RunStyle {
                        bold: true,
                        ..RunStyle::default()
                    },
                ),
                run(
                    &format!("　{}", f.id),
                    RunStyle {
                        size: 16,
                        ..RunStyle::default()
                    },
                ),
            ],
        ));
        let mut lines: Vec<(String, String)> = Vec::new();
        if let Some(subject) = &f.subject {
            lines.push((l("対象", "Subject"), subject.clone()));
        }
        lines.push((
            l("求められること", "Expected"),
            lang.pick(&f.expected_ja, &f.expected_en).to_owned(),
        ));
        lines.push((
            l("確認された事実", "Found"),
            lang.pick(&f.actual_ja, &f.actual_en).to_owned(),
        ));
        let mut dates = format!("{} {}", l("検出", "detected"), f.detected_on);
        if let Some(r) = &f.resolved_on {
            let _ = write!(dates, "{}{} {}", l("、", ", "), l("解決", "resolved"), r);
            if let Some(seq) = f.resolved_by {
                let _ = write!(
                    dates,
                    "{}",
                    match lang {
                        Lang::Ja => format!("（記録 {seq}）"),
                        Lang::En => format!(" (entry {seq})"),
                    }
                );
            }
        }
        if f.carried_over {
            let _ = write!(dates, "{}", l("、前期から繰越し", ", carried over"));
        }
        lines.push((l("日付", "Dates"), dates));
        if let Some(e) = &f.exception {
            lines.push((l("例外措置", "Exception"), e.clone()));
        }
        lines.push((
            l("根拠記録", "Entries"),
            f.seqs
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        ));
        for r in tables::remarks_of(report, &f.id) {
            lines.push((l("所見・対応", "Remark"), tables::remark_line(lang, r)));
        }
        for (k, v) in lines {
            b.push_str(&para(
                None,
                r#"<w:spacing w:before="0" w:after="0"/><w:ind w:left="284"/>"#,
                &[
                    run(
                        &format!("{k}{}", l("：", ": ")),
                        RunStyle {
                            bold: true,
                            size: 18,
                            ..RunStyle::default()
                        },
                    ),
                    run(
                        &v,
                        RunStyle {
                            size: 18,
                            ..RunStyle::default()
                        },
                    ),
                ],
            ));
        }
    }

    // 4 Registers, on landscape pages for their many columns.
    b.push_str(&section_break(false));
    b.push_str(&text_para(Some("Heading1"), &l("4　台帳", "4 Registers")));
    for r in &report.registers {
        let t = tables::register(r, lang);
        let arts = r
            .articles
            .iter()
            .map(|a| match lang {
                Lang::Ja => format!("第{a}条"),
                Lang::En => format!("Art. {a}"),
            })
            .collect::<Vec<_>>()
            .join(lang.pick("・", ", "));
        b.push_str(&text_para(
            Some("Heading2"),
            &format!(
                "{}{}",
                t.title,
                match lang {
                    Lang::Ja => format!("（{arts}）"),
                    Lang::En => format!(" ({arts})"),
                }
            ),
        ));
        if t.rows.is_empty() {
            b.push_str(&text_para(
                None,
                &l(
                    "期間中の記録はありません。",
                    "Nothing was recorded in the quarter.",
                ),
            ));
            continue;
        }
        let all: Vec<usize> = (0..t.headers.len()).collect();
        let rows = cells_to_strings(&t.rows, &all);
        let right: Vec<usize> = r
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == "number")
            .map(|(i, _)| i)
            .collect();
        b.push_str(&table(&TableSpec {
            headers: &t.headers,
            rows: &rows,
            total: landscape,
            size: 16,
            right: &right,
        }));
    }
    b.push_str(&section_break(true));

    // 5 Thresholds.
    b.push_str(&text_para(
        Some("Heading1"),
        &l("5　適用したしきい値", "5 Thresholds applied"),
    ));
    let t = tables::thresholds(report, lang);
    let all: Vec<usize> = (0..t.headers.len()).collect();
    b.push_str(&table(&TableSpec {
        headers: &t.headers,
        rows: &cells_to_strings(&t.rows, &all),
        total: portrait,
        size: 18,
        right: &[],
    }));
    let d = tables::non_business_days(report, lang);
    b.push_str(&text_para(Some("Heading2"), &d.title));
    if d.rows.is_empty() {
        b.push_str(&text_para(None, &l("ありません。", "None.")));
    } else {
        b.push_str(&table(&TableSpec {
            headers: &d.headers,
            rows: &cells_to_strings(&d.rows, &[0, 1]),
            total: portrait / 2,
            size: 18,
            right: &[],
        }));
    }

    // 6 Verification.
    b.push_str(&text_para(
        Some("Heading1"),
        &l("6　検証", "6 Verification"),
    ));
    b.push_str(&text_para(
        None,
        lang.pick(
            &report.verification.explanation_ja,
            &report.verification.explanation_en,
        ),
    ));
    let a = &report.anchor;
    let rows = vec![
        (l("正本", "Original"), report.file_name("json"), true),
        (l("正本の SHA-256", "SHA-256 of the original"), sha, true),
        (
            l("台帳（origin）", "Ledger (origin)"),
            a.origin.clone(),
            true,
        ),
        (
            l("対象記録数（tree size）", "Tree size"),
            a.tree_size.to_string(),
            true,
        ),
        (l("ルートハッシュ", "Root hash"), a.root.clone(), true),
        (
            l("最終記録日時（UTC）", "Last entry recorded at (UTC)"),
            a.last_recorded_at.clone(),
            true,
        ),
        (
            l("チェックポイント", "Checkpoint"),
            a.checkpoint.trim_end().to_owned(),
            true,
        ),
        (
            l("検証コマンド", "Command"),
            report.verification.command.clone(),
            true,
        ),
    ];
    b.push_str(&key_value_table(&rows, portrait));
    b
}

fn document_xml(report: &Report, json: &[u8], lang: Lang) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>{}{}</w:body></w:document>"#,
        body(report, json, lang),
        sect_pr(false)
    )
}

fn footer_xml(report: &Report, json: &[u8], lang: Lang) -> String {
    let sha = daicho_report::sha256_hex(json);
    let name = report.file_name("json");
    let note = match lang {
        Lang::Ja => format!("台帳に記録された正本は JSON（{name}）であり、本書はその写しです。正本の SHA-256: {sha}"),
        Lang::En => format!("The original anchored in the ledger is the JSON ({name}); this document is a reading of it. SHA-256 of the original: {sha}"),
    };
    let small = RunStyle {
        size: 14,
        ..RunStyle::default()
    };
    let field = |instr: &str| {
        format!(
            r#"<w:fldSimple w:instr=" {instr} ">{}</w:fldSimple>"#,
            run("1", small)
        )
    };
    let page = match lang {
        Lang::Ja => vec![field("PAGE"), run(" / ", small), field("NUMPAGES")],
        Lang::En => vec![
            run("Page ", small),
            field("PAGE"),
            run(" of ", small),
            field("NUMPAGES"),
        ],
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">{}{}</w:ftr>"#,
        para(Some("Footer"), "", &[run(&note, small)]),
        para(Some("Footer"), r#"<w:jc w:val="center"/>"#, &page)
    )
}

fn styles_xml(lang: Lang) -> String {
    let east_asia = "ja-JP";
    let main = match lang {
        Lang::Ja => "ja-JP",
        Lang::En => "en-GB",
    };
    let heading = |id: &str, name: &str, size: u32, before: u32, level: u32| {
        format!(
            r#"<w:style w:type="paragraph" w:styleId="{id}"><w:name w:val="{name}"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before="{before}" w:after="120"/><w:outlineLvl w:val="{level}"/></w:pPr><w:rPr><w:b/><w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr></w:style>"#
        )
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="{FONT_LATIN}" w:hAnsi="{FONT_LATIN}" w:eastAsia="{FONT}" w:cs="{FONT_LATIN}"/><w:sz w:val="20"/><w:szCs w:val="20"/><w:lang w:val="{main}" w:eastAsia="{east_asia}"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="80" w:line="280" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/><w:rPr><w:rFonts w:ascii="{FONT_LATIN}" w:hAnsi="{FONT_LATIN}" w:eastAsia="{FONT}" w:cs="{FONT_LATIN}"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:jc w:val="center"/><w:spacing w:before="1200" w:after="240"/></w:pPr><w:rPr><w:b/><w:sz w:val="36"/><w:szCs w:val="36"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Subtitle"><w:name w:val="Subtitle"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:jc w:val="center"/><w:spacing w:after="600"/></w:pPr><w:rPr><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style>{}{}{}<w:style w:type="paragraph" w:styleId="Footer"><w:name w:val="footer"/><w:basedOn w:val="Normal"/><w:pPr><w:spacing w:after="0"/></w:pPr></w:style><w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style><w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:basedOn w:val="TableNormal"/><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:left w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:right w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="808080"/></w:tblBorders></w:tblPr></w:style></w:styles>"#,
        heading("Heading1", "heading 1", 28, 360, 0),
        heading("Heading2", "heading 2", 24, 240, 1),
        heading("Heading3", "heading 3", 21, 160, 2),
    )
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"#;

const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rIdSettings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/><Relationship Id="rIdFonts" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable" Target="fontTable.xml"/><Relationship Id="rIdFooter1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/></Relationships>"#;

const SETTINGS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:zoom w:percent="100"/><w:updateFields w:val="true"/><w:defaultTabStop w:val="840"/><w:characterSpacingControl w:val="compressPunctuation"/><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat></w:settings>"#;

fn font_table() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:font w:name="{FONT}"><w:altName w:val="{FONT_ALT}"/><w:charset w:val="80"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font><w:font w:name="{FONT_LATIN}"><w:altName w:val="{FONT_ALT}"/><w:charset w:val="80"/><w:family w:val="modern"/><w:pitch w:val="variable"/></w:font><w:font w:name="{FONT_ALT}"><w:charset w:val="80"/><w:family w:val="swiss"/><w:pitch w:val="variable"/></w:font></w:fonts>"#
    )
}

fn core_xml(report: &Report, json: &[u8], lang: Lang) -> String {
    // The document is dated the day of issue so that it never carries the
    // time it happened to be rendered.
    let stamp = format!("{}T00:00:00Z", report.issued_on);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{}</dc:title><dc:subject>{}</dc:subject><dc:creator>{}</dc:creator><dc:description>SHA-256 {}</dc:description><dc:language>{}</dc:language><dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>"#,
        esc(lang.pick(&report.title_ja, &report.title_en)),
        esc(lang.pick(&report.period.label_ja, &report.period.label_en)),
        esc(lang.pick(&report.municipality.name_ja, &report.municipality.name_en)),
        daicho_report::sha256_hex(json),
        lang.code(),
    )
}

const APP: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>daicho</Application></Properties>"#;

/// The report as an editable Word document in `lang`.
pub fn docx(json: &[u8], lang: Lang) -> Result<Vec<u8>, OfficeError> {
    let report = read(json)?;
    let entries: Vec<(String, Vec<u8>)> = vec![
        (
            "[Content_Types].xml".into(),
            CONTENT_TYPES.as_bytes().to_vec(),
        ),
        ("_rels/.rels".into(), ROOT_RELS.as_bytes().to_vec()),
        (
            "docProps/core.xml".into(),
            core_xml(&report, json, lang).into_bytes(),
        ),
        ("docProps/app.xml".into(), APP.as_bytes().to_vec()),
        (
            "word/document.xml".into(),
            document_xml(&report, json, lang).into_bytes(),
        ),
        (
            "word/_rels/document.xml.rels".into(),
            DOCUMENT_RELS.as_bytes().to_vec(),
        ),
        ("word/styles.xml".into(), styles_xml(lang).into_bytes()),
        ("word/settings.xml".into(), SETTINGS.as_bytes().to_vec()),
        ("word/fontTable.xml".into(), font_table().into_bytes()),
        (
            "word/footer1.xml".into(),
            footer_xml(&report, json, lang).into_bytes(),
        ),
    ];
    zip_out::deterministic_zip(&report.issued_on, &entries)
}
