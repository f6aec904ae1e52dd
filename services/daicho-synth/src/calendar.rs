//! The quarter's calendar on Asia/Tokyo time: its days, business days and
//! months, and the text forms of moments and dates.
//!
//! Moments are whole seconds since the Unix epoch. Japan has no daylight
//! saving time, so a fixed +09:00 offset is exact for every date.

use time::{Date, Duration, Month};

/// Seconds in an hour.
pub(crate) const HOUR: i64 = 3600;
/// Seconds in a day.
pub(crate) const DAY: i64 = 24 * HOUR;
const JST: i64 = 9 * HOUR;

/// One quarter of a fiscal year (April to March).
#[derive(Debug, Clone)]
pub(crate) struct Quarter {
    pub(crate) fiscal_year: i32,
    /// The first day.
    pub(crate) first: Date,
    /// The day after the last.
    pub(crate) end: Date,
    /// The business days of the catalogue's calendar within the quarter:
    /// Monday to Friday without national holidays and closing days.
    pub(crate) business_days: Vec<Date>,
}

impl Quarter {
    /// Quarter `q` (1 = April–June … 4 = January–March) of `fiscal_year`.
    pub(crate) fn new(fiscal_year: i32, q: u8) -> Quarter {
        let q = q.clamp(1, 4);
        let (year, month) = match q {
            1 => (fiscal_year, 4),
            2 => (fiscal_year, 7),
            3 => (fiscal_year, 10),
            _ => (fiscal_year + 1, 1),
        };
        let first = date(year, month, 1);
        let end = add_months(first, 3);
        let mut business_days = Vec::new();
        let mut day = first;
        while day < end {
            // The city's calendar, with national holidays and closing days,
            // is the one the rules judge operating hours and deadlines by.
            if daicho_compliance::Rulebook::embedded()
                .calendar()
                .is_business_day(day)
            {
                business_days.push(day);
            }
            day = day.next_day().expect("in range");
        }
        Quarter {
            fiscal_year,
            first,
            end,
            business_days,
        }
    }

    /// The first day of each month of the quarter.
    pub(crate) fn months(&self) -> [Date; 3] {
        [
            self.first,
            add_months(self.first, 1),
            add_months(self.first, 2),
        ]
    }

    /// The last day of the fiscal year, when 様式12 approvals lapse.
    pub(crate) fn fiscal_year_end(&self) -> Date {
        date(self.fiscal_year + 1, 3, 31)
    }

    /// The first moment of the quarter.
    pub(crate) fn start(&self) -> i64 {
        at(self.first, 0, 0)
    }

    /// The first moment after the quarter.
    pub(crate) fn stop(&self) -> i64 {
        at(self.end, 0, 0)
    }

    /// The business days from `from` (inclusive) to `until` (exclusive).
    pub(crate) fn business_days_between(&self, from: Date, until: Date) -> Vec<Date> {
        self.business_days
            .iter()
            .copied()
            .filter(|d| *d >= from && *d < until)
            .collect()
    }
}

/// A calendar date; the inputs are known to be valid.
pub(crate) fn date(year: i32, month: u8, day: u8) -> Date {
    Date::from_calendar_date(year, Month::try_from(month).expect("a month"), day).expect("a date")
}

/// The first day of the month `n` months after `first`'s month.
pub(crate) fn add_months(first: Date, n: u8) -> Date {
    let index = first.year() * 12 + i32::from(u8::from(first.month())) - 1 + i32::from(n);
    date(index.div_euclid(12), (index.rem_euclid(12) + 1) as u8, 1)
}

/// The last day of `first`'s month.
pub(crate) fn month_end(first: Date) -> Date {
    add_months(first, 1).previous_day().expect("in range")
}

/// The moment `hour:minute` on `day`, Tokyo time.
pub(crate) fn at(day: Date, hour: i64, minute: i64) -> i64 {
    day.midnight().assume_utc().unix_timestamp() - JST + hour * HOUR + minute * 60
}

/// The Tokyo date of a moment.
pub(crate) fn day_of(moment: i64) -> Date {
    Date::from_julian_day((moment + JST).div_euclid(DAY) as i32 + 2_440_588).expect("in range")
}

/// `day` plus `n` days.
pub(crate) fn plus_days(day: Date, n: i64) -> Date {
    day + Duration::days(n)
}

/// RFC 3339 with the +09:00 offset, e.g. `2026-04-01T09:30:00+09:00`.
pub(crate) fn timestamp(moment: i64) -> String {
    let local = moment + JST;
    let day = day_of(moment);
    let seconds = local.rem_euclid(DAY);
    format!(
        "{}T{:02}:{:02}:{:02}+09:00",
        date_text(day),
        seconds / HOUR,
        seconds % HOUR / 60,
        seconds % 60
    )
}

/// `YYYY-MM-DD`.
pub(crate) fn date_text(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// `YYYY-MM`.
pub(crate) fn month_text(day: Date) -> String {
    format!("{:04}-{:02}", day.year(), u8::from(day.month()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_print_on_tokyo_time() {
        let day = date(2026, 4, 1);
        assert_eq!(timestamp(at(day, 9, 30)), "2026-04-01T09:30:00+09:00");
        assert_eq!(timestamp(at(day, 0, 0)), "2026-04-01T00:00:00+09:00");
        assert_eq!(day_of(at(day, 23, 59)), day);
        assert_eq!(day_of(at(day, 0, 0)), day);
    }

    #[test]
    fn the_fourth_quarter_is_january_to_march_of_the_next_year() {
        let q = Quarter::new(2026, 4);
        assert_eq!(q.first, date(2027, 1, 1));
        assert_eq!(q.end, date(2027, 4, 1));
        assert_eq!(q.fiscal_year_end(), date(2027, 3, 31));
        assert_eq!(month_end(date(2027, 2, 1)), date(2027, 2, 28));
        assert!(q
            .business_days
            .iter()
            .all(|d| d.weekday() != time::Weekday::Sunday));
    }
}
