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
    /// Parses a date-time in the profile of RFC 3339 that FORMAT.md §1.4
    /// fixes: `YYYY-MM-DDTHH:MM:SS[.f…](Z|±HH:MM)` with an uppercase `T` and
    /// `Z`, and no second 60. The service and the verifier both parse with
    /// this function, so what the one accepts the other verifies.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        if !in_profile(text.as_bytes()) {
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

/// Whether `b` has the shape of FORMAT.md §1.4's profile of RFC 3339. The
/// ranges of the fields (month 1 to 12, the day within its month, hour to
/// 23, minute to 59, second to 59, offset to ±23:59) are left to the
/// RFC 3339 parser that runs next. RFC 3339 also allows a space or a
/// lowercase `t` as the separator, a lowercase `z`, and a leap second 60;
/// the profile refuses them, so that one instant has fewer spellings and
/// a second implementation needs no table of leap seconds.
fn in_profile(b: &[u8]) -> bool {
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
        && b.get(17..19) != Some(b"60".as_slice());
    if !shape {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &b[i..] {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

impl fmt::Debug for OccurredAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)
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
    use super::*;

    #[test]
    fn occurred_at_accepts_the_profile() {
        for ok in [
            "2026-04-01T09:30:00+09:00",
            "2026-04-01T00:30:00Z",
            "2026-04-01T09:30:00.5-05:30",
            "2026-04-01T09:30:00.123456789Z",
            "2016-12-31T23:59:59Z",
        ] {
            assert_eq!(OccurredAt::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn occurred_at_refuses_what_the_profile_leaves_out() {
        for bad in [
            // Other separators RFC 3339 tolerates.
            "2026-04-01 09:30:00+09:00",
            "2026-04-01t09:30:00+09:00",
            "2026-04-01T00:30:00z",
            // Second 60, on a day with a leap second and on one without.
            "2016-12-31T23:59:60Z",
            "2026-04-01T23:59:60Z",
            "2026-04-01T08:59:60+09:00",
            // Shapes and ranges.
            "2026-04-01T09:30:00",
            "2026-04-01T09:30:00.Z",
            "2026-04-01T09:30Z",
            "2026-4-01T09:30:00Z",
            "2026-04-01T09:30:00+0900",
            "2026-04-01T09:30:00+09:00 ",
            "2026-02-30T09:30:00Z",
            "2026-04-01T24:00:00Z",
            "2026-04-01T09:30:61Z",
            "2026-04-01T09:30:00+24:00",
            "",
        ] {
            assert_eq!(
                OccurredAt::parse(bad),
                Err(TimestampError::NotRfc3339),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn recorded_at_refuses_second_60_and_a_space() {
        for bad in ["2026-04-01T23:59:60.000000Z", "2026-04-01 23:59:59.000000Z"] {
            assert!(RecordedAt::parse(bad).is_err(), "{bad:?}");
        }
    }
}
