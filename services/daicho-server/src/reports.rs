//! Quarterly reports from a store: the anchor (a checkpoint the ledger kept,
//! the root and the time of its last entry), the state folded to it, the
//! report's canonical JSON, and its renderings.
//!
//! A report is anchored only at a size for which the ledger kept a signed
//! checkpoint, so that its checkpoint is one the ledger published and an
//! auditor can match it against an export.

use daicho_catalogue::Catalogue;
use daicho_compliance::calendar::{tokyo_date, Period};
use daicho_compliance::{Rulebook, State};
use daicho_core::checkpoint::CheckpointKeys as _;
use daicho_core::keys::NoteVerifier;
use daicho_core::registry::Registry;
use daicho_report::model::Anchor;
use daicho_report::{build, canonical_bytes, Input, Lang, Report};
use daicho_store::{Store, StoreError};
use serde::Deserialize;
use time::Date;

/// A rendering of a report.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// The anchored original: canonical JSON (RFC 8785).
    #[default]
    Json,
    /// A4 PDF.
    Pdf,
    /// One self-contained HTML file.
    Html,
    /// An Excel workbook.
    Xlsx,
    /// An editable Word document.
    Docx,
    /// A zip of CSV files (UTF-8 with a BOM), one per table.
    Csv,
}

impl ReportFormat {
    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            ReportFormat::Json => "application/json",
            ReportFormat::Pdf => "application/pdf",
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ReportFormat::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            ReportFormat::Csv => "application/zip",
        }
    }

    /// The name the `format` parameter takes.
    pub fn name(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Pdf => "pdf",
            ReportFormat::Html => "html",
            ReportFormat::Xlsx => "xlsx",
            ReportFormat::Docx => "docx",
            ReportFormat::Csv => "csv",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Pdf => "pdf",
            ReportFormat::Html => "html",
            ReportFormat::Xlsx => "xlsx",
            ReportFormat::Docx => "docx",
            ReportFormat::Csv => "csv.zip",
        }
    }
}

/// Why a report was not made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The quarter is not a fiscal quarter.
    #[error("{0}")]
    Quarter(String),
    /// The quarter has not begun.
    #[error("{label} begins on {from}, after today ({today})")]
    Future {
        /// The quarter's label.
        label: String,
        /// Its first day.
        from: Date,
        /// Today, in Asia/Tokyo.
        today: Date,
    },
    /// The quarter ended before the ledger began.
    #[error("{label} ended on {until}, before the ledger's genesis on {genesis}")]
    BeforeGenesis {
        /// The quarter's label.
        label: String,
        /// Its last day.
        until: Date,
        /// The day the genesis entry was recorded.
        genesis: Date,
    },
    /// No checkpoint was kept at the size asked for.
    #[error("the ledger kept no signed checkpoint of size {0}; a report is anchored at a checkpoint (GET /v1/checkpoints lists them)")]
    NoCheckpoint(u64),
    /// The ledger has no checkpoint at all.
    #[error("the ledger has no checkpoint yet")]
    Empty,
    /// A stored checkpoint does not open under the ledger key.
    #[error("the stored checkpoint of size {0} does not open under the ledger key")]
    BadCheckpoint(u64),
    /// The report could not be built.
    #[error(transparent)]
    Build(#[from] daicho_report::BuildError),
    /// A rendering failed.
    #[error("rendering the report failed: {0}")]
    Render(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks that a quarter can be reported on: it has begun by `today`, and
/// it did not end before the ledger's genesis.
pub async fn check_quarter(
    store: &Store,
    fiscal_year: i32,
    quarter: u8,
    today: Date,
) -> Result<Period, ReportError> {
    let period = Period::fiscal_quarter(fiscal_year, quarter)
        .map_err(|e| ReportError::Quarter(e.to_string()))?;
    let label = daicho_report::wareki::quarter_label_ja(fiscal_year, quarter);
    if period.from > today {
        return Err(ReportError::Future {
            label,
            from: period.from,
            today,
        });
    }
    if let Some(genesis) = store.entry(0).await? {
        let genesis_day = tokyo_date(genesis.event.body.occurred_at.instant())
            .min(tokyo_date(genesis.entry.recorded_at.instant()));
        if period.until < genesis_day {
            return Err(ReportError::BeforeGenesis {
                label,
                until: period.until,
                genesis: genesis_day,
            });
        }
    }
    Ok(period)
}

/// The anchor at `as_of` (default: the newest checkpoint the ledger kept).
pub async fn anchor(
    store: &Store,
    registry: &Registry,
    as_of: Option<u64>,
) -> Result<Anchor, ReportError> {
    let (size, note) = match as_of {
        Some(size) => (
            size,
            store
                .checkpoint_at(size)
                .await?
                .ok_or(ReportError::NoCheckpoint(size))?,
        ),
        None => {
            let latest = store.latest_checkpoint().await?.ok_or(ReportError::Empty)?;
            (latest.size, latest.note)
        }
    };
    let checkpoint = registry
        .open_checkpoint(&note)
        .map_err(|_| ReportError::BadCheckpoint(size))?;
    if size == 0 {
        return Err(ReportError::NoCheckpoint(0));
    }
    let last = store
        .entry(size - 1)
        .await?
        .ok_or(ReportError::NoCheckpoint(size))?;
    // The checkpoint's own note, without the cosignatures witnesses may
    // have added since: those carry their own times, and the report must
    // be the same whenever it is made.
    let note = own_signature_only(&note, registry.ledger_key());
    Ok(Anchor {
        origin: checkpoint.origin,
        tree_size: size,
        root: checkpoint.root.to_base64(),
        last_recorded_at: last.entry.recorded_at.to_string(),
        checkpoint: note,
    })
}

/// The note with only the ledger key's signature lines.
fn own_signature_only(note: &str, ledger_key: &NoteVerifier) -> String {
    let Some((body, sigs)) = note.split_once("\n\n") else {
        return note.to_owned();
    };
    let prefix = format!("\u{2014} {} ", ledger_key.name());
    let own: String = sigs
        .split_terminator('\n')
        .filter(|l| l.starts_with(&prefix))
        .map(|l| format!("{l}\n"))
        .collect();
    format!("{body}\n\n{own}")
}

/// Builds the report and returns it with its canonical JSON.
pub fn build_report(
    catalogue: &Catalogue,
    rulebook: &Rulebook,
    state: &State,
    fiscal_year: i32,
    quarter: u8,
    anchor: Anchor,
) -> Result<(Report, Vec<u8>), ReportError> {
    let report = build(&Input {
        catalogue,
        rulebook,
        state,
        fiscal_year,
        quarter,
        anchor,
    })?;
    let json = canonical_bytes(&report);
    Ok((report, json))
}

/// Renders the report's JSON in `format` and `lang`. JSON is returned as
/// it is, whatever the language: it holds both.
pub fn render(json: &[u8], format: ReportFormat, lang: Lang) -> Result<Vec<u8>, ReportError> {
    let e = |e: &dyn std::fmt::Display| ReportError::Render(e.to_string());
    match format {
        ReportFormat::Json => Ok(json.to_vec()),
        ReportFormat::Html => daicho_report_html::render(json, lang)
            .map(String::into_bytes)
            .map_err(|x| e(&x)),
        ReportFormat::Xlsx => daicho_report_office::xlsx(json, lang).map_err(|x| e(&x)),
        ReportFormat::Docx => daicho_report_office::docx(json, lang).map_err(|x| e(&x)),
        ReportFormat::Csv => daicho_report_office::csv_zip(json, lang).map_err(|x| e(&x)),
        ReportFormat::Pdf => daicho_report_pdf::render(json, lang).map_err(|x| e(&x)),
    }
}
