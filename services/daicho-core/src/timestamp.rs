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
    /// Parses an RFC 3339 date-time; an offset (`Z` or `±HH:MM`) is required.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
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
