//! # daicho-report-office: the quarterly report as office documents
//!
//! The committee and the secretariat work in Excel and Word, so the report
//! is also rendered as:
//!
//! - **XLSX** ([`xlsx`]): a workbook with a summary sheet, the articles,
//!   the findings (with the remarks recorded on them), one sheet per
//!   register, the thresholds and the verification anchor. Header rows are
//!   frozen and filtered, dates are real Excel dates, counts are numbers.
//! - **CSV** ([`csv_zip`], [`csv_table`]): one file per table, UTF-8 with a
//!   byte order mark (so Excel in Japan reads it as UTF-8) and CRLF line
//!   ends, bundled in a zip.
//! - **DOCX** ([`docx`]): the same content as an editable Word document,
//!   with an empty approval box (決裁欄) the secretariat fills in and a
//!   footer on every page naming the JSON as the anchored original with
//!   its SHA-256.
//!
//! Each is rendered from the report's JSON alone, in one language: every
//! label switches with [`Lang`], and texts come from the JSON's `_ja` or
//! `_en` members.
//!
//! Architecture Invariant: rendering is deterministic. The same JSON and
//! language always give the same bytes: no clock is read, the documents'
//! creation dates are the report's `issued_on`, every zip entry carries a
//! timestamp derived from it, and entries are written in a fixed order.
//! Only the JSON is anchored in the ledger; these files are readings of it,
//! and each names the JSON's SHA-256 so that a reader can tell which JSON
//! it was made from.

mod csv_tables;
mod docx;
mod tables;
mod xlsx;
mod zip_out;

pub use csv_tables::{csv_table, csv_zip};
pub use daicho_report::Lang;
pub use docx::docx;
pub use xlsx::xlsx;

/// Why a rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// The bytes are not a report.
    #[error("not a report: {0}")]
    Report(String),
    /// The report holds a value the format cannot carry.
    #[error("invalid report content: {0}")]
    Content(String),
    /// No table has that name.
    #[error("no table named {0:?}")]
    UnknownTable(String),
    /// The workbook writer refused.
    #[error("workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The CSV writer refused.
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// The zip writer refused.
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Writing to memory failed.
    #[error("write: {0}")]
    Io(#[from] std::io::Error),
}

fn read(json: &[u8]) -> Result<daicho_report::Report, OfficeError> {
    daicho_report::Report::from_json(json).map_err(OfficeError::Report)
}

/// `(year, month, day)` of a `YYYY-MM-DD` day.
fn ymd(date: &str) -> Result<(u16, u8, u8), OfficeError> {
    let bad = || OfficeError::Content(format!("{date:?} is not a YYYY-MM-DD date"));
    if !tables::is_iso_date(date) {
        return Err(bad());
    }
    let y = date[0..4].parse().map_err(|_| bad())?;
    let m = date[5..7].parse().map_err(|_| bad())?;
    let d = date[8..10].parse().map_err(|_| bad())?;
    Ok((y, m, d))
}
