//! The tables as CSV: UTF-8 with a byte order mark, CRLF line ends.

use daicho_report::{Lang, Report};

use crate::tables::{self, Table};
use crate::{read, zip_out, OfficeError};

/// The byte order mark that tells Excel the file is UTF-8; without it,
/// Excel in a Japanese locale reads CSV as Shift_JIS.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn write_table(table: &Table) -> Result<Vec<u8>, OfficeError> {
    let mut out = BOM.to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(&table.headers)?;
        for row in &table.rows {
            w.write_record(row.iter().map(|c| c.display()))?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// One table as CSV: `articles`, `findings`, `thresholds`,
/// `non_business_days`, or a register's id such as `incidents`.
pub fn csv_table(json: &[u8], lang: Lang, table: &str) -> Result<Vec<u8>, OfficeError> {
    let report = read(json)?;
    let found = tables::all(&report, lang)
        .into_iter()
        .find(|t| t.name == table)
        .ok_or_else(|| OfficeError::UnknownTable(table.to_owned()))?;
    write_table(&found)
}

/// Every table as a CSV file (`articles.csv`, `findings.csv`, one
/// `<register id>.csv` per register, `thresholds.csv`,
/// `non_business_days.csv`), in that order, in one zip.
pub fn csv_zip(json: &[u8], lang: Lang) -> Result<Vec<u8>, OfficeError> {
    let report: Report = read(json)?;
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for table in tables::all(&report, lang) {
        let name = format!("{}.csv", table.name);
        if entries.iter().any(|(n, _)| *n == name) {
            return Err(OfficeError::Content(format!("two tables are named {name}")));
        }
        entries.push((name, write_table(&table)?));
    }
    zip_out::deterministic_zip(&report.issued_on, &entries)
}
