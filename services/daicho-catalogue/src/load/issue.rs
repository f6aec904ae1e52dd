//! The loader's error model: a refused catalogue lists every issue found,
//! each with its file, a JSON pointer into it and what is wrong.

use std::fmt;

use crate::event_type::EventTypeRuleError;
use crate::validation::{Joined, Violation};

/// A catalogue was refused; every issue found is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the catalogue is refused ({} problem{}):\n  {}", .issues.len(), if .issues.len() == 1 { "" } else { "s" }, Joined(.issues, "\n  "))]
pub struct CatalogueError {
    issues: Vec<CatalogueIssue>,
}

impl CatalogueError {
    /// Every issue, in the order the loader found them.
    #[must_use]
    pub fn issues(&self) -> &[CatalogueIssue] {
        &self.issues
    }
}

/// One issue with a catalogue: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueIssue {
    /// The file, relative to the catalogue directory, e.g. `articles.json`.
    pub file: String,
    /// An RFC 6901 JSON pointer into that file; empty for the whole file.
    pub pointer: String,
    /// What is wrong.
    pub kind: IssueKind,
}

impl fmt::Display for CatalogueIssue {
    // `file#pointer` is how a JSON reference addresses a place in a file,
    // so the location can be pasted into any JSON-pointer-aware tool.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: {}", self.file, self.kind)
        } else {
            write!(f, "{}#{}: {}", self.file, self.pointer, self.kind)
        }
    }
}

/// What is wrong with a catalogue at one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueKind {
    /// A file every catalogue needs is absent.
    #[error("the file is missing; every catalogue has it")]
    MissingFile,
    /// A file that has no place in the layout.
    #[error("this file has no place in a catalogue: expected regulation.json, chapters.json, articles.json, roles.json, forms.json, events/common.json, events/<type>/<version>.json, rules/*.json (the compliance rules), or documentation ending in .md")]
    UnexpectedFile,
    /// The file is not JSON.
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// The JSON does not have the shape the file must have.
    #[error("unexpected shape: {0}")]
    Shape(String),
    /// An event-type directory names a type the catalogue may not define:
    /// a malformed name or one of the ledger's own.
    #[error("{0}")]
    EventTypeRule(EventTypeRuleError),
    /// A schema file name is not a version number.
    #[error("the file name {0:?} must be a version: a positive integer without leading zeros, then .json (e.g. 1.json)")]
    BadVersion(String),
    /// The versions of an event type have a gap.
    #[error("the versions of {event_type} must run 1, 2, 3… without gaps, but are {versions:?}")]
    VersionGap {
        /// The event type.
        event_type: String,
        /// The versions found.
        versions: Vec<u32>,
    },
    /// A reference to an article the catalogue does not have.
    #[error("article {0} does not exist in articles.json")]
    UnknownArticle(u32),
    /// A reference to a paragraph or item the article does not have.
    #[error("provision {0} does not exist in articles.json")]
    UnknownProvision(String),
    /// A reference to an event type the catalogue does not define.
    #[error("event type {0:?} is not defined: there is no events/{0}/<version>.json")]
    UnknownEventType(String),
    /// A reference to a role the catalogue does not define.
    #[error("role {0:?} is not defined in roles.json")]
    UnknownRole(String),
    /// A reference to a form the catalogue does not define.
    #[error("form {0} is not defined in forms.json")]
    UnknownForm(u32),
    /// The same id or reference appears twice.
    #[error("{0} appears more than once")]
    Duplicate(String),
    /// Numbers that must run 1, 2, 3… do not.
    #[error(
        "expected number {expected}, found {found}: numbers run 1, 2, 3… in order without gaps"
    )]
    OutOfOrder {
        /// The number this position must have.
        expected: u32,
        /// The number it has.
        found: u32,
    },
    /// Two files say different things about the same thing.
    #[error("{0}")]
    Inconsistent(String),
    /// A schema breaks one of the catalogue's rules for schemas.
    #[error("{0}")]
    SchemaRule(String),
    /// A schema is not a valid JSON Schema, or a `$ref` in it does not resolve.
    #[error("the schema does not compile: {0}")]
    SchemaCompile(String),
    /// A schema's example does not satisfy the schema.
    #[error("the example does not validate: {}", Joined(.0, "; "))]
    InvalidExample(Vec<Violation>),
}

/// The issues found so far; every check adds to it and goes on.
#[derive(Default)]
pub(super) struct Issues(Vec<CatalogueIssue>);

impl Issues {
    pub(super) fn push(&mut self, file: &str, pointer: impl Into<String>, kind: IssueKind) {
        self.0.push(CatalogueIssue {
            file: file.to_owned(),
            pointer: pointer.into(),
            kind,
        });
    }

    /// How many issues have been found; a check compares the count before
    /// and after to learn whether it found any.
    pub(super) fn count(&self) -> usize {
        self.0.len()
    }

    pub(super) fn into_error(self) -> CatalogueError {
        CatalogueError { issues: self.0 }
    }
}
