//! A zip written the same way every time: entries in the order given, each
//! stamped with the report's day of issue, deflated, with fixed permissions.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

use crate::OfficeError;

/// Zips `(name, bytes)` entries in the order given, each dated `issued_on`
/// at midnight (zip timestamps carry no zone).
pub fn deterministic_zip(
    issued_on: &str,
    entries: &[(String, Vec<u8>)],
) -> Result<Vec<u8>, OfficeError> {
    let (y, m, d) = crate::ymd(issued_on)?;
    let stamp = zip::DateTime::from_date_and_time(y, m, d, 0, 0, 0)
        .map_err(|_| OfficeError::Content(format!("{issued_on} cannot be a zip timestamp")))?;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp)
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), options)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}
