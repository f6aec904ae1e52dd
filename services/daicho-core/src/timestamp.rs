//! Timestamps as they appear in hashed JSON (FORMAT.md §1.4).

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Why a timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Not an RFC 3339 date-time with an explicit offset.
    #[error("expected an RFC 3339 date-time with an offset, such as 2026-04-01T09:30:00+09:00")]
    NotRfc3339,
    /// A `recorded_at` value not in the ledger's one fixed form.
    #[error("expected a UTC time in the form YYYY-MM-DDTHH:MM:SS.ffffffZ")]
    NotCanonical,
    /// The time cannot be represented.
    #[error("time out of range")]
    OutOfRange,
}

/// When an act happened, as the submitter stated it: RFC 3339 with an offset.
/// The original text is kept because it is signed.
#[derive(Clone, PartialEq, Eq)]
pub struct OccurredAt {
    text: String,
    at: OffsetDateTime,
}

impl OccurredAt {
    /// Parses an RFC 3339 date-time in the one subset FORMAT.md §1.4
    /// allows: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1 to 9
    /// digits, then `Z` or `±HH:MM`; upper-case `T` and `Z`, seconds up to
    /// 59, and no `-00:00`.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        if !occurred_at_syntax(text) {
            return Err(TimestampError::NotRfc3339);
        }
        let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| TimestampError::NotRfc3339)?;
        Ok(OccurredAt {
            text: text.to_owned(),
            at,
        })
    }
    /// The instant.
    pub fn instant(&self) -> OffsetDateTime {
        self.at
    }
    /// The text as submitted.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for OccurredAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)
    }
}

/// Whether `text` has the shape §1.4 allows for `occurred_at`; the calendar
/// (days of the month, leap years) is left to the RFC 3339 parser.
fn occurred_at_syntax(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    if b.len() < 20
        || !(digits(0..4) && digits(5..7) && digits(8..10) && digits(11..13))
        || !(digits(14..16) && digits(17..19))
        || (b[4], b[7], b[10], b[13], b[16]) != (b'-', b'-', b'T', b':', b':')
        || two(11) > 23
        || two(14) > 59
        || two(17) > 59
    {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|d| d.is_ascii_digit()).count();
        if !(1..=9).contains(&n) {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest {
        b"Z" => true,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let offset = [*h1, *h2, *m1, *m2];
            offset.iter().all(u8::is_ascii_digit)
                && (h1 - b'0') * 10 + (h2 - b'0') <= 23
                && (m1 - b'0') * 10 + (m2 - b'0') <= 59
                && !(*sign == b'-' && offset == *b"0000")
        }
        _ => false,
    }
}

/// When the ledger recorded an entry: UTC with microseconds, in exactly one
/// textual form so that it hashes the same everywhere.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordedAt {
    micros: i64,
}

impl RecordedAt {
    /// From microseconds since the Unix epoch. The caller owns the clock.
    pub fn from_unix_micros(micros: i64) -> Result<Self, TimestampError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
            .map_err(|_| TimestampError::OutOfRange)?;
        Ok(RecordedAt { micros })
    }
    /// From an instant, truncated to whole microseconds.
    pub fn from_datetime(at: OffsetDateTime) -> Result<Self, TimestampError> {
        let micros = i64::try_from(at.unix_timestamp_nanos().div_euclid(1000))
            .map_err(|_| TimestampError::OutOfRange)?;
        Self::from_unix_micros(micros)
    }
    /// Microseconds since the Unix epoch.
    pub fn unix_micros(&self) -> i64 {
        self.micros
    }
    /// The instant.
    pub fn instant(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.micros) * 1000)
            .expect("checked at construction")
    }
    /// Parses the canonical form and nothing else.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| TimestampError::NotCanonical)?;
        let r = Self::from_datetime(at)?;
        if r.to_string() != text {
            return Err(TimestampError::NotCanonical);
        }
        Ok(r)
    }
}

impl fmt::Display for RecordedAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.instant().to_offset(UtcOffset::UTC);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        )
    }
}

impl fmt::Debug for RecordedAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

macro_rules! string_serde {
    ($t:ty, $to:expr) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                #[allow(clippy::redundant_closure_call)]
                s.serialize_str(&($to)(self))
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$t>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_serde;

string_serde!(OccurredAt, |t: &OccurredAt| t.text.clone());
string_serde!(RecordedAt, |t: &RecordedAt| t.to_string());

#[cfg(test)]
mod tests {
    use super::OccurredAt;

    #[test]
    fn occurred_at_accepts_the_subset_of_rfc_3339_the_format_allows() {
        for ok in [
            "2026-04-02T10:15:00+09:00",
            "2026-04-02T10:15:00Z",
            "2026-04-02T10:15:00.5Z",
            "2026-04-02T10:15:00.123456789-05:30",
            "2026-04-02T10:15:00+00:00",
            "2024-02-29T23:59:59+14:00",
        ] {
            assert!(OccurredAt::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn occurred_at_refuses_what_implementations_read_differently() {
        for bad in [
            "2026-04-02t10:15:00Z",
            "2026-04-02T10:15:00z",
            "2026-04-02 10:15:00Z",
            "2026-12-31T23:59:60Z",
            "2026-04-02T10:15:00-00:00",
            "2026-04-02T10:15:00.Z",
            "2026-04-02T10:15:00.1234567890Z",
            "2026-04-02T10:15:00",
            "2026-04-02T10:15:00+0900",
            "2026-04-02T10:15:00+24:00",
            "2026-04-02T24:00:00Z",
            "2025-02-29T10:15:00Z",
            "+2026-04-02T10:15:00Z",
        ] {
            assert!(OccurredAt::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn occurred_at_refuses_what_the_profile_leaves_out() {
        for bad in [
            "2016-12-31T23:59:60Z",
            "2026-04-01T08:59:60+09:00",
            "2026-04-01T09:30Z",
            "2026-4-01T09:30:00Z",
            "2026-04-01T09:30:00+09:00 ",
            "2026-04-01T09:30:61Z",
            "",
        ] {
            assert!(OccurredAt::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn recorded_at_refuses_second_60_and_a_space() {
        for bad in ["2026-04-01T23:59:60.000000Z", "2026-04-01 23:59:59.000000Z"] {
            assert!(super::RecordedAt::parse(bad).is_err(), "{bad:?}");
        }
    }
}
