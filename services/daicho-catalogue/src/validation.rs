//! Validation at the ledger's door: the errors, and the translation of JSON
//! Schema failures into violations a source system's developer can act on.

use std::fmt;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde::Serialize;
use serde_json::Value;

/// Why an event was refused at the door.
///
/// An act done by a role the regulation does not empower is *not* an error
/// here: it happened and is recorded, and the rule engine flags it later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The catalogue has no event type of this name.
    #[error("unknown event type {event_type:?}")]
    UnknownType {
        /// The type the event named.
        event_type: String,
    },
    /// The event type exists but not in this version.
    #[error(
        "event type {event_type:?} has no schema version {version}; known versions: {known:?}"
    )]
    UnknownVersion {
        /// The type the event named.
        event_type: String,
        /// The version the event named.
        version: u32,
        /// The versions the catalogue holds, ascending.
        known: Vec<u32>,
    },
    /// The actor's role is not one an event may be signed in.
    #[error("unknown actor role {role:?}; actor roles are: {}", known.join(", "))]
    UnknownRole {
        /// The role the event named.
        role: String,
        /// The roles an actor may have, ascending. Collective terms such as
        /// 情報資産管理責任者 are not among them: an act is always done in one
        /// of their member roles.
        known: Vec<String>,
    },
    /// The payload does not satisfy the schema; every violation is listed.
    #[error("the payload does not match its schema: {}", Joined(.0, "; "))]
    InvalidPayload(Vec<Violation>),
}

/// One way a payload fails its schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Violation {
    /// An RFC 6901 JSON pointer into the payload, e.g. `/device/serial`.
    /// For a missing required property it points at where the property
    /// should be; for an unknown property, at the property itself.
    pub pointer: String,
    /// What is wrong, phrased so that a developer can fix it.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(payload)"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

/// Displays a list's items (the first field) with the separator (the
/// second field) between them.
pub(crate) struct Joined<'a, T>(pub(crate) &'a [T], pub(crate) &'static str);

impl<T: fmt::Display> fmt::Display for Joined<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, item) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(self.1)?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

/// Runs `validator` on `payload` and returns every violation, sorted by
/// pointer so that the list is stable from one run to the next.
pub(crate) fn violations(validator: &jsonschema::Validator, payload: &Value) -> Vec<Violation> {
    let mut violations = Vec::new();
    for error in validator.iter_errors(payload) {
        push_violations(&error, &mut violations);
    }
    violations.sort();
    violations.dedup();
    violations
}

fn push_violations(error: &jsonschema::ValidationError<'_>, out: &mut Vec<Violation>) {
    let at = error.instance_path().as_str().to_owned();
    let instance = error.instance();
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            out.push(Violation {
                pointer: format!("{at}/{}", escape_pointer_token(&name)),
                message: format!("required property {name:?} is missing"),
            });
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            // One violation per property, each pointing at the property, so a
            // developer sees exactly which keys to remove or rename.
            for name in unexpected {
                out.push(Violation {
                    pointer: format!("{at}/{}", escape_pointer_token(name)),
                    message: format!(
                        "property {name:?} is not defined by this event type's schema; remove it or check its spelling"
                    ),
                });
            }
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(single) => single.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            out.push(Violation {
                pointer: at,
                message: format!(
                    "must be of type {expected}, but is {} {}",
                    json_type(instance),
                    brief(instance)
                ),
            });
        }
        ValidationErrorKind::Enum { options } => out.push(Violation {
            pointer: at,
            message: format!("must be one of {options}, but is {}", brief(instance)),
        }),
        ValidationErrorKind::Constant { expected_value } => out.push(Violation {
            pointer: at,
            message: format!("must be {expected_value}, but is {}", brief(instance)),
        }),
        ValidationErrorKind::Format { format } => {
            let expectation = match format.as_str() {
                "date-time" => {
                    "an RFC 3339 date-time with an explicit UTC offset, e.g. \"2026-04-01T09:00:00+09:00\"".to_owned()
                }
                "date" => "an RFC 3339 full date, e.g. \"2026-04-01\"".to_owned(),
                "uuid" => "a UUID, e.g. \"0190f3c2-6a1e-7c3d-9b2a-3f5e8d1c4b7a\"".to_owned(),
                other => format!("a valid {other:?}"),
            };
            out.push(Violation {
                pointer: at,
                message: format!("must be {expectation}, but is {}", brief(instance)),
            });
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // Listing every branch's failures would drown the useful one, so
            // the alternatives are summarised and the branches' own messages
            // appended.
            let branches: Vec<String> = context
                .iter()
                .map(|branch| {
                    let mut inner = Vec::new();
                    for error in branch {
                        push_violations(error, &mut inner);
                    }
                    Joined(&inner, "; ").to_string()
                })
                .collect();
            out.push(Violation {
                pointer: at,
                message: format!(
                    "must match one of {} alternatives; each fails: [{}]",
                    branches.len(),
                    branches.join("] or [")
                ),
            });
        }
        _ => out.push(Violation {
            pointer: at,
            message: error.to_string(),
        }),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The value as JSON, shortened so that a huge payload does not flood the message.
fn brief(value: &Value) -> String {
    const LIMIT: usize = 80;
    let text = value.to_string();
    if text.chars().count() <= LIMIT {
        text
    } else {
        let cut: String = text.chars().take(LIMIT).collect();
        format!("{cut}…")
    }
}

pub(crate) use daicho_core::pointer::escape_token as escape_pointer_token;
