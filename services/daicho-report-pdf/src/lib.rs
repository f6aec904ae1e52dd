//! # daicho-report-pdf: the committee's quarterly report as PDF
//!
//! [`render`] typesets a report from its JSON alone, the same bytes whose
//! SHA-256 `report.issued` anchors in the ledger, into an A4 PDF in
//! Japanese or English: a cover, the summary with a chart per chapter, the
//! table of all articles, the findings in detail with their remarks, the
//! registers, the thresholds and non-business days applied, and an
//! appendix with the signed checkpoint and the report's SHA-256 so that a
//! reader can check the paper against the ledger.
//!
//! Typst runs in-process as a library. The layout is one committed Typst
//! template (`templates/report.typ`); the report reaches it as virtual
//! files (`report.json`, and `meta.json` with the SHA-256 and the
//! language) that the template reads with Typst's `json()`, so the text
//! of the report is never spliced into markup and needs no escaping.
//!
//! Architecture Invariant: rendering touches no file system, network,
//! clock or system font. The [`typst::World`] here serves only the
//! template, the two data files and the BIZ UDGothic faces embedded in the
//! crate (OFL 1.1, see `fonts/README.md`); the document date is the
//! report's day of issue and the PDF identifier derives from the report's
//! SHA-256, so the same JSON always gives the same PDF, byte for byte.
//!
//! Architecture Invariant: this is a crate of its own because the PDF
//! engine (Typst, its layout and font stack) is by far the heaviest thing
//! in the workspace. The core, the verifier an auditor builds, and the
//! server do not depend on it, and so do not compile it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use daicho_report::model::FindingRow;
use daicho_report::{sha256_hex, Lang, Report};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::layout::PagedDocument;
use typst::syntax::{FileId, Source, VirtualPath};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_pdf::PdfOptions;

/// The layout of the report.
const TEMPLATE: &str = include_str!("../templates/report.typ");

/// BIZ UDGothic, regular and bold: a universal-design face made for public
/// documents, with the Japanese and Latin glyphs the report needs, and a
/// real bold for headings.
const FONT_REGULAR: &[u8] = include_bytes!("../fonts/BIZUDGothic-Regular.ttf");
const FONT_BOLD: &[u8] = include_bytes!("../fonts/BIZUDGothic-Bold.ttf");

/// The fonts and the standard library, parsed once per process: they do
/// not depend on the report.
struct Static {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static STATIC: LazyLock<Static> = LazyLock::new(|| {
    let fonts: Vec<Font> = [FONT_REGULAR, FONT_BOLD]
        .into_iter()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Static {
        library: LazyHash::new(Library::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The bytes are not a report.
    #[error("not a report: {0}")]
    Report(String),
    /// The report's day of issue is not a date.
    #[error("the day of issue {0:?} is not a date (YYYY-MM-DD)")]
    IssuedOn(String),
    /// Typst refused the template or the data; the messages are Typst's.
    #[error("typesetting failed: {}", .0.join("; "))]
    Typeset(Vec<String>),
}

/// Renders the report in `json` as a PDF in `lang`.
///
/// The JSON is checked to be a report (`Report::from_json`) and then
/// handed to the template as it is. Warnings are treated as errors: a
/// report that does not typeset cleanly is not issued.
pub fn render(json: &[u8], lang: Lang) -> Result<Vec<u8>, PdfError> {
    typeset(TEMPLATE, json, lang)
}

/// Renders `json` with the given template.
fn typeset(template: &str, json: &[u8], lang: Lang) -> Result<Vec<u8>, PdfError> {
    let report = Report::from_json(json).map_err(PdfError::Report)?;
    let issued_on =
        date_of(&report.issued_on).ok_or_else(|| PdfError::IssuedOn(report.issued_on.clone()))?;
    let sha256 = sha256_hex(json);
    let (printed, omitted) = printed(report);
    let meta = serde_json::json!({ "sha256": sha256, "lang": lang.code(), "omitted": omitted });
    let printed = serde_json::to_vec(&printed).expect("a report serialises");

    let world = ReportWorld {
        main: Source::new(file_id(MAIN), template.to_owned()),
        report: Bytes::new(printed),
        meta: Bytes::new(meta.to_string().into_bytes()),
        today: issued_on,
    };

    let compiled = typst::compile::<PagedDocument>(&world);
    if !compiled.warnings.is_empty() {
        return Err(PdfError::Typeset(messages(&compiled.warnings)));
    }
    let document = compiled
        .output
        .map_err(|e| PdfError::Typeset(messages(&e)))?;

    // The identifier is derived from the report itself and the language,
    // and no timestamp is passed: the template sets the document date to the
    // day of issue.
    let ident = format!("daicho-report/{sha256}/{}", lang.code());
    let options = PdfOptions {
        ident: Smart::Custom(&ident),
        timestamp: None,
        tagged: true,
        ..PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|e| PdfError::Typeset(messages(&e)))
}

/// Findings an article shows in detail; beyond them, only those that carry
/// a remark or head the carried-over list.
const DETAIL_LIMIT: usize = 30;
/// Open findings carried over that the summary lists.
const CARRIED_LIMIT: usize = 50;
/// Rows a register shows.
const REGISTER_LIMIT: usize = 200;

/// What the document prints of a report, and how much it leaves out.
///
/// A committee member reads the PDF: each article shows its first findings
/// in detail and every finding that carries a remark, and each register its
/// first rows. The JSON, XLSX and CSV hold every finding and row, and the
/// appendix's SHA-256 anchors them. At 10⁶ entries a quarter can hold over
/// ten thousand findings: printed in full they made thousands of pages that
/// nobody reads, and handing them all to the template took most of the
/// rendering time, so the cut is made here rather than in the template.
/// The counts left out are passed beside the report (`meta.omitted`), so
/// that the document says how many and where they are.
fn printed(mut report: Report) -> (Report, serde_json::Value) {
    let remarked: std::collections::BTreeSet<String> = report
        .remarks
        .iter()
        .map(|m| m.finding_id.clone())
        .collect();
    let is_carried = |f: &FindingRow| f.carried_over && f.state == "open";
    let carried_total = report.findings.iter().filter(|f| is_carried(f)).count();
    let mut per_article: BTreeMap<u32, usize> = BTreeMap::new();
    let mut omitted_findings: BTreeMap<String, u64> = BTreeMap::new();
    let mut carried_shown = 0;
    report.findings.retain(|f| {
        let n = per_article.entry(f.article).or_default();
        *n += 1;
        let keep = *n <= DETAIL_LIMIT
            || remarked.contains(&f.id)
            || (is_carried(f) && carried_shown < CARRIED_LIMIT);
        if keep && is_carried(f) {
            carried_shown += 1;
        }
        if !keep {
            *omitted_findings.entry(f.article.to_string()).or_default() += 1;
        }
        keep
    });
    let mut omitted_rows: BTreeMap<String, u64> = BTreeMap::new();
    for g in &mut report.registers {
        if g.rows.len() > REGISTER_LIMIT {
            omitted_rows.insert(g.id.clone(), (g.rows.len() - REGISTER_LIMIT) as u64);
            g.rows.truncate(REGISTER_LIMIT);
        }
    }
    let omitted = serde_json::json!({
        "findings": omitted_findings,
        "carried": carried_total - carried_shown,
        "rows": omitted_rows,
    });
    (report, omitted)
}

const MAIN: &str = "/report.typ";
const REPORT_JSON: &str = "/report.json";
const META_JSON: &str = "/meta.json";

fn file_id(path: &str) -> FileId {
    FileId::new(None, VirtualPath::new(path))
}

/// `2026-06-30` as a Typst date.
fn date_of(iso: &str) -> Option<Datetime> {
    let mut parts = iso.split('-');
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Datetime::from_ymd(year, month, day)
}

fn messages(diagnostics: &[SourceDiagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| {
            let mut message = d.message.to_string();
            for hint in &d.hints {
                message.push_str(" (hint: ");
                message.push_str(hint);
                message.push(')');
            }
            message
        })
        .collect()
}

/// Everything Typst may see while typesetting one report: the template,
/// the two data files and the embedded fonts, and nothing else.
struct ReportWorld {
    main: Source,
    report: Bytes,
    meta: Bytes,
    today: Datetime,
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &STATIC.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &STATIC.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == file_id(REPORT_JSON) {
            Ok(self.report.clone())
        } else if id == file_id(META_JSON) {
            Ok(self.meta.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.text().to_owned()))
        } else {
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        STATIC.fonts.get(index).cloned()
    }

    /// The day of issue, so that nothing in the document depends on when it
    /// was rendered.
    fn today(&self, _offset: Option<i64>) -> Option<Datetime> {
        Some(self.today)
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().as_rootless_path().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_fonts_are_biz_udgothic_regular_and_bold() {
        let families: Vec<_> = STATIC
            .fonts
            .iter()
            .map(|f| (f.info().family.clone(), f.info().variant.weight.to_number()))
            .collect();
        assert_eq!(
            families,
            [
                ("BIZ UDGothic".to_owned(), 400),
                ("BIZ UDGothic".to_owned(), 700)
            ]
        );
    }

    const GOLDEN: &[u8] = include_bytes!("../../../tests/golden/report-R08-Q1.json");

    #[test]
    fn typst_errors_come_back_with_their_messages() {
        let broken = "#let r = json(\"report.json\")\n#r.no_such_member";
        match typeset(broken, GOLDEN, Lang::Ja) {
            Err(PdfError::Typeset(messages)) => assert!(
                messages.iter().any(|m| m.contains("no_such_member")),
                "{messages:?}"
            ),
            other => panic!("expected a typesetting error, got {other:?}"),
        }
    }

    #[test]
    fn the_template_sees_no_other_file() {
        let nosy = "#read(\"/etc/passwd\")";
        assert!(matches!(
            typeset(nosy, GOLDEN, Lang::Ja),
            Err(PdfError::Typeset(_))
        ));
    }

    #[test]
    fn warnings_are_refused_too() {
        let warns = "#set text(font: \"No Such Family\")\nText";
        match typeset(warns, GOLDEN, Lang::Ja) {
            Err(PdfError::Typeset(messages)) => {
                assert!(
                    messages.iter().any(|m| m.contains("no such family")),
                    "{messages:?}"
                )
            }
            other => panic!("expected a warning refused, got {other:?}"),
        }
    }

    #[test]
    fn a_day_of_issue_must_be_a_date() {
        assert!(date_of("2026-06-30").is_some());
        assert!(date_of("2026-06-31").is_none());
        assert!(date_of("2026-06").is_none());
        assert!(date_of("2026-06-30-1").is_none());
    }
}
