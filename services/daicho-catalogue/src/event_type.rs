//! Event type names and the public views of event-type schemas.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Event types the ledger core defines for itself; a catalogue that defines
/// one is refused, because the core's meaning of these must not be shadowed.
pub const RESERVED_EVENT_TYPES: [&str; 3] = [
    "daicho.genesis",
    "daicho.key.registered",
    "daicho.key.revoked",
];

/// A well-formed event type name: lowercase dotted `object.verb` or
/// `object.sub.verb`, each segment `[a-z0-9_]+` starting with a letter.
///
/// Built only through [`EventTypeName::parse`], so a value of this type never
/// needs checking again. Reserved names parse (the core uses them); whether a
/// catalogue may define one is the loader's question.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct EventTypeName(String);

/// Why a string is not an event type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventTypeNameError {
    /// The name has fewer than two segments.
    #[error("event type {0:?} must have at least two dot-separated segments, as in `object.verb`")]
    TooFewSegments(String),
    /// A segment is empty or has a character outside `[a-z0-9_]`, or does not start with a letter.
    #[error("event type {name:?}: segment {segment:?} must match [a-z][a-z0-9_]*")]
    BadSegment {
        /// The whole name.
        name: String,
        /// The offending segment.
        segment: String,
    },
}

impl EventTypeName {
    /// Parses a name, refusing anything that is not lowercase dotted segments.
    ///
    /// # Errors
    /// [`EventTypeNameError`] says which rule the name breaks.
    pub fn parse(name: &str) -> Result<Self, EventTypeNameError> {
        let segments: Vec<&str> = name.split('.').collect();
        if segments.len() < 2 {
            return Err(EventTypeNameError::TooFewSegments(name.to_owned()));
        }
        for segment in segments {
            let mut chars = segment.chars();
            let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
            let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !starts_with_letter || !rest_ok {
                return Err(EventTypeNameError::BadSegment {
                    name: name.to_owned(),
                    segment: segment.to_owned(),
                });
            }
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the ledger core reserves this name for itself.
    #[must_use]
    pub fn is_reserved(&self) -> bool {
        RESERVED_EVENT_TYPES.contains(&self.0.as_str())
    }
}

impl FromStr for EventTypeName {
    type Err = EventTypeNameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::parse(name)
    }
}

impl<'de> Deserialize<'de> for EventTypeName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for EventTypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EventTypeName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// One line of the event-type list: a type, its versions and what it is for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventTypeSummary {
    /// The type name.
    #[serde(rename = "type")]
    pub name: EventTypeName,
    /// Every version the catalogue holds, ascending.
    pub versions: Vec<u32>,
    /// The newest version; new events should use it.
    pub latest_version: u32,
    /// The articles the type serves, over all versions, ascending.
    pub articles: Vec<u32>,
    /// The forms the type records the use of, over all versions, ascending.
    pub forms: Vec<u32>,
    /// The newest version's English title.
    pub title_en: String,
    /// The newest version's Japanese title.
    pub title_ja: String,
    /// The newest version's English description.
    pub description_en: String,
    /// The newest version's Japanese description.
    pub description_ja: String,
}

/// Everything the catalogue knows about one event type: every version's
/// schema and examples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventTypeDetail {
    /// The type name.
    #[serde(rename = "type")]
    pub name: EventTypeName,
    /// The versions, ascending.
    pub versions: Vec<EventTypeVersion>,
}

/// One version of an event type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventTypeVersion {
    /// The version number, from 1.
    pub version: u32,
    /// The English title (the schema's `title`).
    pub title_en: String,
    /// The Japanese title (`x-title-ja`).
    pub title_ja: String,
    /// The English description (`description`).
    pub description_en: String,
    /// The Japanese description (`x-description-ja`).
    pub description_ja: String,
    /// The articles this version serves (`x-articles`).
    pub articles: Vec<u32>,
    /// The forms this version records the use of (`x-forms`; may be empty).
    pub forms: Vec<u32>,
    /// The JSON Schema as stored; its `$ref`s point into
    /// [`Catalogue::shared_definitions`](crate::Catalogue::shared_definitions).
    pub schema: serde_json::Value,
    /// The schema's `examples`, each a valid payload.
    pub examples: Vec<serde_json::Value>,
}
