//! The figures the rules measure against (`rules/thresholds.json`), each
//! beside the regulation's words it stands for. An evaluation states the
//! thresholds it applied.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, Time};

use crate::calendar::{tokyo_date, Calendar, JST};

/// All thresholds, as the file holds them and as an evaluation reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// What the figures stand for, in English.
    pub description_en: String,
    /// What the figures stand for, in Japanese.
    pub description_ja: String,
    /// Named latencies (直ちに, 速やかに, あらかじめ…).
    pub latencies: BTreeMap<String, Latency>,
    /// Named cadences (定期的に, 毎年度…).
    pub cadences: BTreeMap<String, Cadence>,
    /// Named ages after which an open item is reported.
    pub ageing: BTreeMap<String, Latency>,
    /// The hours processing terminals may be operated without a form 10.
    pub operating_hours: OperatingHours,
    /// When an entry counts as recorded late.
    pub late_entry: LateEntry,
}

/// A time allowed after a trigger: hours, or business days, not both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// The regulation's words.
    pub words_ja: String,
    /// Hours after the trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<u32>,
    /// Business days after the day of the trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_days: Option<u32>,
    /// How the figure reads the words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_en: Option<String>,
}

impl Latency {
    /// The last instant the awaited act may happen at, for a trigger at `at`.
    pub fn due(&self, at: OffsetDateTime, calendar: &Calendar) -> OffsetDateTime {
        match (self.hours, self.business_days) {
            (Some(h), _) => at + Duration::hours(i64::from(h)),
            (None, Some(d)) => calendar.business_days_after(at, d),
            (None, None) => at,
        }
    }

    /// The figure in Japanese, e.g. `4時間` or `3営業日`.
    pub fn figure_ja(&self) -> String {
        match (self.hours, self.business_days) {
            (Some(h), _) => format!("{h}時間"),
            (None, Some(d)) => format!("{d}営業日"),
            (None, None) => "事前".to_owned(),
        }
    }

    /// The figure in English.
    pub fn figure_en(&self) -> String {
        match (self.hours, self.business_days) {
            (Some(h), _) => format!("{h} hours"),
            (None, Some(d)) => format!("{d} business days"),
            (None, None) => "beforehand".to_owned(),
        }
    }
}

/// How often a record must be present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cadence {
    /// The regulation's words.
    pub words_ja: String,
    /// The period each record covers.
    pub per: CadenceUnit,
    /// How the figure reads the words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_en: Option<String>,
}

/// The unit of a cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CadenceUnit {
    /// A business day of the calendar (第24条第2項: 業務が終了した時点で).
    BusinessDay,
    /// A calendar month.
    Month,
    /// A fiscal quarter.
    Quarter,
    /// A fiscal year.
    FiscalYear,
}

impl CadenceUnit {
    /// How a window of this unit is named in English.
    pub fn name_en(self) -> &'static str {
        match self {
            CadenceUnit::BusinessDay => "business day",
            CadenceUnit::Month => "month",
            CadenceUnit::Quarter => "quarter",
            CadenceUnit::FiscalYear => "fiscal year",
        }
    }
}

/// The hours processing terminals may be operated (第24条第5項).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatingHours {
    /// The regulation's words.
    pub words_ja: String,
    /// Opening time, `HH:MM`.
    pub from: String,
    /// Closing time, `HH:MM`.
    pub until: String,
    /// Whether only business days count as operating days.
    pub business_days_only: bool,
}

impl OperatingHours {
    /// Whether `at` falls within operating hours.
    pub fn contains(&self, at: OffsetDateTime, calendar: &Calendar) -> bool {
        let local = at.to_offset(JST);
        if self.business_days_only && !calendar.is_business_day(tokyo_date(at)) {
            return false;
        }
        let (Some(from), Some(until)) = (hh_mm(&self.from), hh_mm(&self.until)) else {
            return false;
        };
        local.time() >= from && local.time() < until
    }
}

/// Parses `HH:MM`.
pub(crate) fn hh_mm(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

/// When an entry counts as recorded late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LateEntry {
    /// The words.
    pub words_ja: String,
    /// Days between the act and its recording beyond which it is late.
    pub days: u32,
    /// How the figure reads the words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_en: Option<String>,
}

impl Thresholds {
    /// Checks what serde cannot: each problem is a JSON pointer and what is
    /// wrong.
    pub(crate) fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (group, map) in [("latencies", &self.latencies), ("ageing", &self.ageing)] {
            for (name, l) in map {
                if l.hours.is_some() && l.business_days.is_some() {
                    out.push((
                        format!("/{group}/{name}"),
                        "give hours or business_days, not both".to_owned(),
                    ));
                }
            }
        }
        for (field, value) in [
            ("from", &self.operating_hours.from),
            ("until", &self.operating_hours.until),
        ] {
            if hh_mm(value).is_none() {
                out.push((
                    format!("/operating_hours/{field}"),
                    "expected HH:MM".to_owned(),
                ));
            }
        }
        if hh_mm(&self.operating_hours.from) >= hh_mm(&self.operating_hours.until) {
            out.push((
                "/operating_hours".to_owned(),
                "the hours must open before they close".to_owned(),
            ));
        }
        out
    }
}
