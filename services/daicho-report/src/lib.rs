//! # daicho-report: the committee's quarterly report as data
//!
//! [`build`] turns the projections at one ledger size into a [`Report`]:
//! the compliance evaluation of the quarter (every article's status and
//! the findings behind it), the change since the previous quarter, the
//! registers the committee reviews, the remarks recorded on findings, the
//! thresholds applied, and the anchor: the tree size, its root and the
//! checkpoint the ledger key signed at that size.
//!
//! The report adds no judgement of its own. Its canonical JSON
//! ([`canonical_bytes`]) is the original: `report.issued` anchors its
//! SHA-256 in the ledger, every rendered format (PDF, HTML, DOCX, XLSX,
//! CSV) is made from it alone, and `daicho-verify report` recomputes it
//! from an export and compares it byte for byte.
//!
//! Architecture Invariant: this crate is pure like the compliance crate it
//! reads. The anchor (with its signed checkpoint) is a parameter and the
//! date of issue is the day the last covered entry was recorded, so the
//! same ledger prefix, catalogue and version always give the same bytes.

mod build;
pub mod model;
mod registers;
pub mod wareki;

pub use build::{
    anchor_at, anchor_of, build, canonical_bytes, quarter_first_day, sha256_hex, BuildError, Input,
    TITLE_EN, TITLE_JA,
};
pub use model::{Lang, Report, REPORT_FORMAT, REPORT_FORMAT_VERSION};
