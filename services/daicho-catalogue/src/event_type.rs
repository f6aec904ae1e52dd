//! The rule for the event types a catalogue defines, and the public views
//! of event-type schemas.

use daicho_core::event::EventType;
use serde::Serialize;

/// Why a catalogue may not define an event type of this name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventTypeRuleError {
    /// The name has fewer than two segments.
    #[error("event type {0:?} must have at least two dot-separated segments, as in `object.verb`")]
    TooFewSegments(String),
    /// A segment is empty, has a character outside `[a-z0-9_]`, or does not
    /// start with a letter.
    #[error("event type {name:?}: segment {segment:?} must match [a-z][a-z0-9_]*")]
    BadSegment {
        /// The whole name.
        name: String,
        /// The offending segment.
        segment: String,
    },
    /// The ledger refuses the name for a reason besides its segments (its
    /// length).
    #[error("event type {name:?}: {reason}")]
    NotAnEventType {
        /// The whole name.
        name: String,
        /// The ledger's reason, from [`EventType::parse`].
        reason: &'static str,
    },
    /// The name is one of the ledger's own (`daicho.*`).
    #[error(
        "event type {0:?} is reserved for the ledger core and cannot be defined by a catalogue"
    )]
    Reserved(String),
}

/// The catalogue's rule for the event types it defines: a name the ledger
/// accepts ([`EventType::parse`]) that is not the ledger's own, and that
/// reads as `object.verb` or `object.sub.verb`.
///
/// - Every `daicho.*` name belongs to the ledger ([`EventType::is_ledger_type`]):
///   the door leaves such events to the ledger and the key registry refuses
///   to let a source sign them, so a catalogue schema for one could never
///   apply.
/// - At least two segments, each starting with a letter, so that a type
///   names the object acted on and the act, and lifecycle families share a
///   stem (`usb.approval.requested`, `usb.approval.granted`).
///
/// # Errors
/// [`EventTypeRuleError`] says which part of the rule the name breaks.
pub fn definable_event_type(name: &str) -> Result<EventType, EventTypeRuleError> {
    let segments: Vec<&str> = name.split('.').collect();
    if segments.len() < 2 {
        return Err(EventTypeRuleError::TooFewSegments(name.to_owned()));
    }
    for segment in segments {
        let starts_with_letter = segment.starts_with(|c: char| c.is_ascii_lowercase());
        if !starts_with_letter || !EventType::is_segment(segment) {
            return Err(EventTypeRuleError::BadSegment {
                name: name.to_owned(),
                segment: segment.to_owned(),
            });
        }
    }
    let event_type =
        EventType::parse(name).map_err(|reason| EventTypeRuleError::NotAnEventType {
            name: name.to_owned(),
            reason,
        })?;
    if event_type.is_ledger_type() {
        return Err(EventTypeRuleError::Reserved(name.to_owned()));
    }
    Ok(event_type)
}

/// One line of the event-type list: a type, its versions and what it is for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventTypeSummary {
    /// The type name.
    #[serde(rename = "type")]
    pub name: EventType,
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
    pub name: EventType,
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
