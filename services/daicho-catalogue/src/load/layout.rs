//! The catalogue's file layout: which files a catalogue has, where each event
//! schema sits, and reading a file into its typed form with the place of any
//! error.

use std::collections::BTreeMap;

use daicho_core::event::EventType;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::issue::{IssueKind, Issues};
use crate::article::{Article, Chapter};
use crate::event_type::definable_event_type;
use crate::form::Form;
use crate::regulation::Regulation;
use crate::role::Role;
use daicho_core::pointer::from_path as path_to_pointer;

/// The file holding the definitions event schemas share.
pub(super) const COMMON: &str = "events/common.json";

/// The files every catalogue has, besides one directory per event type.
/// The directory of the compliance rules data, read by `daicho-compliance`.
pub(crate) const RULES_DIR: &str = "rules/";
/// The directory of the report's JSON Schema: it describes what daicho
/// writes, not an event, so the catalogue holds it but does not load it.
pub(crate) const REPORT_DIR: &str = "report/";

const REQUIRED_FILES: [&str; 6] = [
    "regulation.json",
    "chapters.json",
    "articles.json",
    "roles.json",
    "forms.json",
    COMMON,
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChaptersFile {
    chapters: Vec<Chapter>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticlesFile {
    articles: Vec<Article>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesFile {
    roles: Vec<Role>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormsFile {
    forms: Vec<Form>,
}

/// One event schema file, parsed as JSON.
pub(super) struct EventFile {
    /// The path, relative to the catalogue directory.
    pub(super) path: String,
    /// The type, from the directory's name.
    pub(super) name: EventType,
    /// The version, from the file's name.
    pub(super) version: u32,
    /// The schema as written.
    pub(super) schema: Value,
}

/// Every file of a catalogue in its typed form, before any cross-check.
pub(super) struct ParsedFiles {
    pub(super) regulation: Regulation,
    pub(super) chapters: Vec<Chapter>,
    pub(super) articles: Vec<Article>,
    pub(super) roles: Vec<Role>,
    pub(super) forms: Vec<Form>,
    /// The shared definitions, `events/common.json`.
    pub(super) common: Value,
    /// The event schemas that parsed, in path order.
    pub(super) event_files: Vec<EventFile>,
}

/// Sorts the files into the layout and parses each into its typed form.
/// `None` if a top-level file is missing or does not parse: without every
/// one of them there is nothing to cross-check against. An event schema that
/// does not parse is left out of the result, its issue recorded.
pub(super) fn parse_files(
    files: &BTreeMap<String, Vec<u8>>,
    issues: &mut Issues,
) -> Option<ParsedFiles> {
    let event_paths = classify_files(files, issues);
    let regulation: Option<Regulation> = parse_typed(files, "regulation.json", issues);
    let chapters =
        parse_typed::<ChaptersFile>(files, "chapters.json", issues).map(|file| file.chapters);
    let articles =
        parse_typed::<ArticlesFile>(files, "articles.json", issues).map(|file| file.articles);
    let roles = parse_typed::<RolesFile>(files, "roles.json", issues).map(|file| file.roles);
    let forms = parse_typed::<FormsFile>(files, "forms.json", issues).map(|file| file.forms);
    let common = parse_typed::<Value>(files, COMMON, issues);
    let event_files = event_paths
        .into_iter()
        .filter_map(|(path, name, version)| {
            parse_typed::<Value>(files, &path, issues).map(|schema| EventFile {
                path,
                name,
                version,
                schema,
            })
        })
        .collect();
    Some(ParsedFiles {
        regulation: regulation?,
        chapters: chapters?,
        articles: articles?,
        roles: roles?,
        forms: forms?,
        common: common?,
        event_files,
    })
}

/// Sorts the files into the layout, returning the event schema files as
/// (path, type, version), and reports files with no place in it.
fn classify_files(
    files: &BTreeMap<String, Vec<u8>>,
    issues: &mut Issues,
) -> Vec<(String, EventType, u32)> {
    for required in REQUIRED_FILES {
        if !files.contains_key(required) {
            issues.push(required, "", IssueKind::MissingFile);
        }
    }
    let mut event_paths = Vec::new();
    for path in files.keys() {
        // `rules/` holds the compliance rules, thresholds and calendar,
        // which `daicho-compliance` loads and checks against this catalogue.
        // `report/` holds the JSON Schema of the quarterly report.
        if path.ends_with(".md")
            || path.starts_with(RULES_DIR)
            || path.starts_with(REPORT_DIR)
            || REQUIRED_FILES.contains(&path.as_str())
        {
            continue;
        }
        let parts: Vec<&str> = path.split('/').collect();
        let ["events", type_name, version_file] = parts[..] else {
            issues.push(path, "", IssueKind::UnexpectedFile);
            continue;
        };
        let name = match definable_event_type(type_name) {
            Ok(name) => name,
            Err(error) => {
                issues.push(path, "", IssueKind::EventTypeRule(error));
                continue;
            }
        };
        let Some(version) = parse_version(version_file) else {
            issues.push(path, "", IssueKind::BadVersion(version_file.to_owned()));
            continue;
        };
        event_paths.push((path.clone(), name, version));
    }
    event_paths
}

/// Reads a schema file name as its version: `1.json` is version 1.
fn parse_version(file_name: &str) -> Option<u32> {
    let digits = file_name.strip_suffix(".json")?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Parses a file into `T`, reporting a syntax error with its line and column,
/// and a shape error with the JSON pointer of the offending value.
fn parse_typed<T: DeserializeOwned>(
    files: &BTreeMap<String, Vec<u8>>,
    file: &str,
    issues: &mut Issues,
) -> Option<T> {
    let bytes = files.get(file)?;
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(deserializer) {
        Ok(value) => Some(value),
        Err(error) => {
            let inner = error.inner();
            if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                issues.push(file, "", IssueKind::NotJson(inner.to_string()));
            } else {
                issues.push(
                    file,
                    path_to_pointer(error.path()),
                    IssueKind::Shape(inner.to_string()),
                );
            }
            None
        }
    }
}
