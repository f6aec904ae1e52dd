//! The identity of the regulation a catalogue encodes (`regulation.json`).

use serde::{Deserialize, Serialize};

/// Which regulation, and which version of it, the catalogue encodes.
///
/// An amendment of the regulation is recorded as a new catalogue version, so
/// that a report can say which text it was measured against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regulation {
    /// A stable identifier, e.g. `kameoka-security-standard`.
    pub id: String,
    /// The name as printed, e.g. `亀岡市情報セキュリティ対策基準規程`.
    pub name_ja: String,
    /// An English name (the source text's own subtitle where it has one).
    pub name_en: String,
    /// The instrument number (e.g. `平成27年亀岡市訓令第N号`), or `None` where the
    /// source text does not give one; the catalogue never guesses it.
    pub instrument_number: Option<String>,
    /// The date printed on the text, at the precision printed: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub dated: String,
    /// The date the text took effect (`YYYY-MM-DD`), or `None` where the source does not say.
    pub effective_date: Option<String>,
    /// The version of this regulation's text the catalogue encodes, counting from 1.
    pub version: u32,
    /// Who drafted the text, as printed (e.g. `総務部総務課 情報化推進係`).
    pub author_ja: Option<String>,
    /// The URI prefix of every schema's `$id`: event schema `T` version `N`
    /// has `$id` = `{schema_base}events/T/N.json`. It names, never locates:
    /// nothing is ever fetched from it.
    pub schema_base: String,
    /// Where the transcription this catalogue was generated from departs from
    /// the source file, and why.
    #[serde(default)]
    pub transcription_notes: Vec<TranscriptionNote>,
}

/// A correction made while generating the article text from the source file,
/// recorded so that a reader can check it against the original.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptionNote {
    /// The article the correction is in.
    pub article: u32,
    /// The paragraph (項) the correction is in.
    pub paragraph: u32,
    /// The text as the source file has it.
    pub original: String,
    /// The text as the catalogue has it.
    pub corrected: String,
    /// Why the correction was made.
    pub reason_en: String,
}
