//! 和暦: the Japanese era calendar the committee reads dates in.

use time::{Date, Month};

/// The era and year of a date: `("令和", 8)`. 令和 began on 1 May 2019,
/// 平成 on 8 January 1989; earlier dates are written in the Western
/// calendar.
fn era(date: Date) -> Option<(&'static str, i32)> {
    let reiwa = Date::from_calendar_date(2019, Month::May, 1).expect("a date");
    let heisei = Date::from_calendar_date(1989, Month::January, 8).expect("a date");
    if date >= reiwa {
        Some(("令和", date.year() - 2018))
    } else if date >= heisei {
        Some(("平成", date.year() - 1988))
    } else {
        None
    }
}

fn year_text(n: i32) -> String {
    if n == 1 {
        "元".to_owned()
    } else {
        n.to_string()
    }
}

/// `令和8年4月1日`.
pub fn date_ja(date: Date) -> String {
    match era(date) {
        Some((name, y)) => format!(
            "{name}{}年{}月{}日",
            year_text(y),
            date.month() as u8,
            date.day()
        ),
        None => format!("{}年{}月{}日", date.year(), date.month() as u8, date.day()),
    }
}

/// The era year of a fiscal year, named by the era in force on its first
/// day (April 1); fiscal 2019 began under 平成 but is 令和元年度 by the
/// government's usage, so 令和 is used from fiscal 2019.
fn fiscal_era(fiscal_year: i32) -> Option<(&'static str, i32)> {
    if fiscal_year >= 2019 {
        Some(("令和", fiscal_year - 2018))
    } else if fiscal_year >= 1989 {
        Some(("平成", fiscal_year - 1988))
    } else {
        None
    }
}

/// `令和8年度 第1四半期`.
pub fn quarter_label_ja(fiscal_year: i32, quarter: u8) -> String {
    match fiscal_era(fiscal_year) {
        Some((name, y)) => format!("{name}{}年度 第{quarter}四半期", year_text(y)),
        None => format!("{fiscal_year}年度 第{quarter}四半期"),
    }
}

/// `FY2026 Q1`.
pub fn quarter_label_en(fiscal_year: i32, quarter: u8) -> String {
    format!("FY{fiscal_year} Q{quarter}")
}

/// `R08-Q1`, as file names carry it.
pub fn quarter_code(fiscal_year: i32, quarter: u8) -> String {
    match fiscal_era(fiscal_year) {
        Some(("令和", y)) => format!("R{y:02}-Q{quarter}"),
        Some((_, y)) => format!("H{y:02}-Q{quarter}"),
        None => format!("{fiscal_year}-Q{quarter}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_are_written_in_the_era_in_force() {
        assert_eq!(date_ja(date!(2026 - 04 - 01)), "令和8年4月1日");
        assert_eq!(date_ja(date!(2019 - 05 - 01)), "令和元年5月1日");
        assert_eq!(date_ja(date!(2019 - 04 - 30)), "平成31年4月30日");
        assert_eq!(date_ja(date!(1989 - 01 - 07)), "1989年1月7日");
    }

    #[test]
    fn quarters_are_named_by_the_fiscal_year() {
        assert_eq!(quarter_label_ja(2026, 1), "令和8年度 第1四半期");
        assert_eq!(quarter_label_ja(2019, 4), "令和元年度 第4四半期");
        assert_eq!(quarter_label_ja(2018, 2), "平成30年度 第2四半期");
        assert_eq!(quarter_code(2026, 1), "R08-Q1");
        assert_eq!(quarter_label_en(2026, 3), "FY2026 Q3");
    }
}
