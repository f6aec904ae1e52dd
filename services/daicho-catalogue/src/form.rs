//! The numbered forms (別記様式) of the regulation (`forms.json`).

use serde::{Deserialize, Serialize};

use crate::role::Provision;

/// One of the regulation's numbered forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    /// The form number (別記第N号様式).
    pub number: u32,
    /// The Japanese name as printed, e.g. `USBメモリ等使用申請書`.
    pub name_ja: String,
    /// An English name.
    pub name_en: String,
    /// What kind of document the form is.
    pub kind: FormKind,
    /// The provisions that prescribe the form.
    pub provisions: Vec<Provision>,
    /// The roles that fill in or submit the form.
    pub submitted_by: Vec<String>,
    /// The roles the form is submitted to.
    pub submitted_to: Vec<String>,
    /// The roles whose approval (承諾・承認・許可) the form seeks.
    pub approved_by: Vec<String>,
    /// The roles whose consent (同意) the form also needs.
    pub consented_by: Vec<String>,
    /// The roles that confirm an entry on the form (確認).
    pub confirmed_by: Vec<String>,
    /// How long an approval on this form lasts, where the regulation says.
    pub validity: Option<Validity>,
    /// When the form is due, for forms the regulation puts on a calendar.
    pub deadline: Option<Deadline>,
    /// The event types that record the form's use.
    pub event_types: Vec<String>,
    /// What a reader should know that the fields above do not say, in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_en: Option<String>,
}

/// What kind of document a form is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// An application that is approved or refused (申請書).
    Application,
    /// A plan submitted on a calendar (計画書).
    Plan,
    /// A report of something that happened (報告書).
    Report,
    /// A running record or ledger filled in as things happen (記録簿・台帳).
    Record,
}

/// How long an approval lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validity {
    /// The end of the approval.
    pub until: ValidityEnd,
}

/// The end of an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidityEnd {
    /// March 31 of the fiscal year (April–March) in which it was approved.
    FiscalYearEnd,
    /// The end of the period stated on the application.
    RequestedPeriodEnd,
}

/// When a calendar-bound form is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    /// The due day within the month of submission.
    pub due: Due,
    /// The period the form covers.
    pub covers: Covers,
}

/// The due day of a calendar-bound form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// By this day of the month (e.g. `{"day_of_month": 20}`).
    DayOfMonth(u8),
    /// By the last day of the month.
    EndOfMonth,
}

/// The period a calendar-bound form covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Covers {
    /// The month after the month of submission.
    NextMonth,
}
