//! Time as the regulation counts it: Asia/Tokyo dates, fiscal years
//! (April–March) and their quarters, 和暦, business days (weekends,
//! national holidays and the city's closing days, from `rules/calendar.json`)
//! and operating hours.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

/// Japan Standard Time. Japan has no daylight saving time, so one fixed
/// offset places every instant on the Asia/Tokyo calendar.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("+09:00 is a valid offset"),
};

/// The calendar date of an instant in Asia/Tokyo.
pub fn tokyo_date(at: OffsetDateTime) -> Date {
    at.to_offset(JST).date()
}

/// The first instant of a date in Asia/Tokyo.
pub fn start_of(date: Date) -> OffsetDateTime {
    PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(JST)
}

/// The fiscal year (年度) a date falls in, named by the calendar year in
/// which it begins on April 1.
pub fn fiscal_year_of(date: Date) -> i32 {
    if date.month() >= Month::April {
        date.year()
    } else {
        date.year() - 1
    }
}

/// The quarter (1–4) of the fiscal year a date falls in: Q1 April–June …
/// Q4 January–March.
pub fn quarter_of(date: Date) -> u8 {
    match date.month() as u8 {
        4..=6 => 1,
        7..=9 => 2,
        10..=12 => 3,
        _ => 4,
    }
}

/// The last day of the fiscal year a date falls in (March 31).
pub fn fiscal_year_end(date: Date) -> Date {
    Date::from_calendar_date(fiscal_year_of(date) + 1, Month::March, 31).expect("March 31 exists")
}

/// The 令和 year of a fiscal year (令和元年度 is fiscal 2019), or `None`
/// before it.
pub fn reiwa_year(fiscal_year: i32) -> Option<i32> {
    (fiscal_year >= 2019).then_some(fiscal_year - 2018)
}

/// A period of whole Asia/Tokyo days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// The first day.
    #[serde(with = "date_text")]
    pub from: Date,
    /// The last day.
    #[serde(with = "date_text")]
    pub until: Date,
}

/// Why a period cannot be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The quarter is not 1–4.
    #[error("a quarter is 1, 2, 3 or 4, not {0}")]
    Quarter(u8),
    /// The fiscal year is outside the years a calendar can hold.
    #[error("fiscal year {0} is out of range")]
    FiscalYear(i32),
    /// The period ends before it starts.
    #[error("the period ends ({until}) before it starts ({from})")]
    Reversed {
        /// The first day.
        from: Date,
        /// The last day.
        until: Date,
    },
}

impl Period {
    /// A period from `from` to `until`, both included.
    pub fn new(from: Date, until: Date) -> Result<Period, PeriodError> {
        if until < from {
            return Err(PeriodError::Reversed { from, until });
        }
        Ok(Period { from, until })
    }

    /// Quarter `quarter` of fiscal year `fiscal_year`.
    pub fn fiscal_quarter(fiscal_year: i32, quarter: u8) -> Result<Period, PeriodError> {
        if !(1..=4).contains(&quarter) {
            return Err(PeriodError::Quarter(quarter));
        }
        if !(1900..=9000).contains(&fiscal_year) {
            return Err(PeriodError::FiscalYear(fiscal_year));
        }
        let (year, first_month) = match quarter {
            1 => (fiscal_year, Month::April),
            2 => (fiscal_year, Month::July),
            3 => (fiscal_year, Month::October),
            _ => (fiscal_year + 1, Month::January),
        };
        let from = Date::from_calendar_date(year, first_month, 1).expect("the 1st exists");
        let next = first_month.nth_next(3);
        let next_year = if next < first_month { year + 1 } else { year };
        let until = Date::from_calendar_date(next_year, next, 1)
            .expect("the 1st exists")
            .previous_day()
            .expect("a day before the 1st exists");
        Ok(Period { from, until })
    }

    /// The whole fiscal year `fiscal_year`.
    pub fn fiscal_year(fiscal_year: i32) -> Result<Period, PeriodError> {
        let from = Period::fiscal_quarter(fiscal_year, 1)?.from;
        let until = Period::fiscal_quarter(fiscal_year, 4)?.until;
        Ok(Period { from, until })
    }

    /// The first instant of the period.
    pub fn start(&self) -> OffsetDateTime {
        start_of(self.from)
    }

    /// The first instant after the period.
    pub fn end(&self) -> OffsetDateTime {
        start_of(
            self.until
                .next_day()
                .expect("dates before 9999 have a next day"),
        )
    }

    /// Whether an instant falls in the period.
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        at >= self.start() && at < self.end()
    }

    /// Whether a date falls in the period.
    pub fn contains_date(&self, date: Date) -> bool {
        date >= self.from && date <= self.until
    }
}

/// The calendar business days are counted on (`rules/calendar.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeMap<Date, String>,
    closing_days: Vec<((u8, u8), (u8, u8))>,
    covers: Period,
}

/// `rules/calendar.json` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarFile {
    #[allow(dead_code)]
    description_en: String,
    #[allow(dead_code)]
    description_ja: String,
    time_zone_offset: String,
    weekend: Vec<String>,
    closing_days: Vec<ClosingDays>,
    covers: Period,
    holidays: Vec<Holiday>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClosingDays {
    from: String,
    until: String,
}

/// A national holiday.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Holiday {
    #[serde(with = "date_text")]
    date: Date,
    name_ja: String,
}

impl CalendarFile {
    /// Checks the file and builds the calendar; each problem is a JSON
    /// pointer into the file and what is wrong.
    pub(crate) fn build(self) -> Result<Calendar, Vec<(String, String)>> {
        let mut problems = Vec::new();
        if self.time_zone_offset != "+09:00" {
            problems.push((
                "/time_zone_offset".to_owned(),
                "the regulation's times are Asia/Tokyo: \"+09:00\"".to_owned(),
            ));
        }
        if self.weekend != ["saturday", "sunday"] {
            problems.push((
                "/weekend".to_owned(),
                "the city's offices close on [\"saturday\", \"sunday\"]".to_owned(),
            ));
        }
        let mut closing_days = Vec::new();
        for (i, c) in self.closing_days.iter().enumerate() {
            match (month_day(&c.from), month_day(&c.until)) {
                (Some(from), Some(until)) if from <= until => closing_days.push((from, until)),
                _ => problems.push((
                    format!("/closing_days/{i}"),
                    "expected {\"from\": \"MM-DD\", \"until\": \"MM-DD\"} within one calendar year"
                        .to_owned(),
                )),
            }
        }
        let mut holidays = BTreeMap::new();
        for (i, h) in self.holidays.into_iter().enumerate() {
            if h.name_ja.trim().is_empty() {
                problems.push((format!("/holidays/{i}/name_ja"), "empty name".to_owned()));
            }
            if !self.covers.contains_date(h.date) {
                problems.push((
                    format!("/holidays/{i}/date"),
                    "outside the period the calendar covers".to_owned(),
                ));
            }
            if holidays.insert(h.date, h.name_ja).is_some() {
                problems.push((format!("/holidays/{i}/date"), "listed twice".to_owned()));
            }
        }
        if problems.is_empty() {
            Ok(Calendar {
                holidays,
                closing_days,
                covers: self.covers,
            })
        } else {
            Err(problems)
        }
    }
}

fn month_day(text: &str) -> Option<(u8, u8)> {
    let (m, d) = text.split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (m, d): (u8, u8) = (m.parse().ok()?, d.parse().ok()?);
    let month = Month::try_from(m).ok()?;
    // A leap year admits every month-day pair.
    Date::from_calendar_date(2024, month, d).ok()?;
    Some((m, d))
}

impl Calendar {
    /// The days the calendar lists holidays for.
    pub fn covers(&self) -> Period {
        self.covers
    }

    /// The national holiday on `date`, if any.
    pub fn holiday(&self, date: Date) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    /// Whether the city's offices are open on `date`: not a weekend, a
    /// national holiday or a closing day.
    pub fn is_business_day(&self, date: Date) -> bool {
        if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
            return false;
        }
        if self.holidays.contains_key(&date) {
            return false;
        }
        let md = (date.month() as u8, date.day());
        !self
            .closing_days
            .iter()
            .any(|(from, until)| *from <= md && md <= *until)
    }

    /// The last instant by which something is due that must happen within
    /// `n` business days of `at`: the end of the `n`th business day after
    /// the day of `at` (with `n = 0`, the end of that day).
    pub fn business_days_after(&self, at: OffsetDateTime, n: u32) -> OffsetDateTime {
        let mut date = tokyo_date(at);
        let mut left = n;
        while left > 0 {
            date = date.next_day().expect("dates before 9999 have a next day");
            if self.is_business_day(date) {
                left -= 1;
            }
        }
        start_of(date.next_day().expect("dates before 9999 have a next day"))
    }

    /// Business days from the day of `from` to the day of `to` (0 when on
    /// the same day or earlier).
    pub fn business_days_between(&self, from: OffsetDateTime, to: OffsetDateTime) -> u32 {
        let (mut date, last) = (tokyo_date(from), tokyo_date(to));
        let mut n = 0;
        while date < last {
            date = date.next_day().expect("dates before 9999 have a next day");
            if self.is_business_day(date) {
                n += 1;
            }
        }
        n
    }
}

/// Dates as `YYYY-MM-DD` text.
pub(crate) mod date_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| serde::de::Error::custom("expected a date YYYY-MM-DD"))
    }

    /// The `YYYY-MM-DD` text of a date.
    pub fn format(date: Date) -> String {
        date.format(FORMAT).expect("dates format")
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        (text.len() == 10)
            .then(|| Date::parse(text, FORMAT).ok())
            .flatten()
    }
}

pub use date_text::{format as format_date, parse as parse_date};

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn calendar() -> Calendar {
        crate::Rulebook::embedded().calendar().clone()
    }

    #[test]
    fn fiscal_quarters_run_april_to_march() {
        let q1 = Period::fiscal_quarter(2026, 1).unwrap();
        assert_eq!(
            (q1.from, q1.until),
            (date!(2026 - 04 - 01), date!(2026 - 06 - 30))
        );
        let q4 = Period::fiscal_quarter(2026, 4).unwrap();
        assert_eq!(
            (q4.from, q4.until),
            (date!(2027 - 01 - 01), date!(2027 - 03 - 31))
        );
        let q3 = Period::fiscal_quarter(2026, 3).unwrap();
        assert_eq!(q3.until, date!(2026 - 12 - 31));
        assert_eq!(
            Period::fiscal_quarter(2026, 5),
            Err(PeriodError::Quarter(5))
        );
        assert_eq!(fiscal_year_of(date!(2027 - 03 - 31)), 2026);
        assert_eq!(fiscal_year_of(date!(2027 - 04 - 01)), 2027);
        assert_eq!(quarter_of(date!(2027 - 02 - 10)), 4);
        assert_eq!(
            fiscal_year_end(date!(2026 - 04 - 01)),
            date!(2027 - 03 - 31)
        );
        assert_eq!(reiwa_year(2026), Some(8));
        assert_eq!(reiwa_year(2019), Some(1));
        assert_eq!(reiwa_year(2018), None);
    }

    #[test]
    fn a_period_is_placed_in_tokyo_time() {
        let q1 = Period::fiscal_quarter(2026, 1).unwrap();
        // 2026-03-31T15:00Z is midnight on April 1 in Tokyo.
        assert!(q1.contains(datetime!(2026-03-31 15:00 UTC)));
        assert!(!q1.contains(datetime!(2026-03-31 14:59:59 UTC)));
        assert!(q1.contains(datetime!(2026-06-30 14:59:59 UTC)));
        assert!(!q1.contains(datetime!(2026-06-30 15:00 UTC)));
    }

    #[test]
    fn business_days_skip_weekends_holidays_and_closing_days() {
        let c = calendar();
        assert!(c.is_business_day(date!(2026 - 05 - 01))); // Friday
        assert!(!c.is_business_day(date!(2026 - 05 - 06))); // substitute holiday
        assert!(!c.is_business_day(date!(2026 - 09 - 22))); // 国民の休日
        assert!(!c.is_business_day(date!(2026 - 12 - 29))); // closing day
        assert!(!c.is_business_day(date!(2027 - 01 - 03))); // closing day
        assert!(c.is_business_day(date!(2027 - 01 - 04)));
        assert_eq!(c.holiday(date!(2026 - 11 - 23)), Some("勤労感謝の日"));
        // Friday 1 May 2026 + 1 business day is Thursday 7 May (Golden Week).
        let due = c.business_days_after(datetime!(2026-05-01 10:00 +09:00), 1);
        assert_eq!(due, datetime!(2026-05-08 00:00 +09:00));
        assert_eq!(
            c.business_days_between(
                datetime!(2026-12-28 10:00 +09:00),
                datetime!(2027-01-05 09:00 +09:00)
            ),
            2
        );
    }

    #[test]
    fn calendar_files_are_checked() {
        let file: CalendarFile = serde_json::from_value(serde_json::json!({
            "description_en": "x", "description_ja": "x",
            "time_zone_offset": "+00:00", "weekend": ["sunday"],
            "closing_days": [{"from": "12-32", "until": "12-31"}],
            "covers": {"from": "2026-01-01", "until": "2026-12-31"},
            "holidays": [
                {"date": "2026-01-01", "name_ja": "元日"},
                {"date": "2026-01-01", "name_ja": "元日"},
                {"date": "2027-01-01", "name_ja": "元日"}
            ]
        }))
        .unwrap();
        let problems = file.build().unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/time_zone_offset",
                "/weekend",
                "/closing_days/0",
                "/holidays/1/date",
                "/holidays/2/date"
            ]
        );
    }
}
