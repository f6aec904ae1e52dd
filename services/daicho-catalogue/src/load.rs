//! Loading a catalogue from its files, and every check it must pass before
//! the ledger may rely on it.
//!
//! The loader collects every problem it can find instead of stopping at the
//! first, so that a municipality writing its own catalogue fixes them in one
//! round rather than one per start-up.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::article::{Article, Chapter, Evaluation};
use crate::catalogue::Catalogue;
use crate::event_type::{
    EventTypeDetail, EventTypeName, EventTypeNameError, EventTypeSummary, EventTypeVersion,
};
use crate::form::Form;
use crate::regulation::Regulation;
use crate::role::{Provision, Role};
use crate::validation::{self, escape_pointer_token, Violation, ViolationList};

/// The meta-schema every event schema must declare.
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// The file holding the definitions event schemas share.
const COMMON: &str = "events/common.json";

/// The files every catalogue has, besides one directory per event type.
const REQUIRED_FILES: [&str; 6] = [
    "regulation.json",
    "chapters.json",
    "articles.json",
    "roles.json",
    "forms.json",
    COMMON,
];

/// A catalogue was refused; every problem found is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the catalogue is refused ({} problem{}):\n{}", .problems.len(), if .problems.len() == 1 { "" } else { "s" }, ProblemList(.problems))]
pub struct CatalogueError {
    problems: Vec<Problem>,
}

impl CatalogueError {
    /// Every problem, in the order the loader found them.
    #[must_use]
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

/// One problem with a catalogue: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the catalogue directory, e.g. `articles.json`.
    pub file: String,
    /// An RFC 6901 JSON pointer into that file; empty for the whole file.
    pub pointer: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
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

struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "  {problem}")?;
        }
        Ok(())
    }
}

/// What is wrong with a catalogue at one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    /// A file every catalogue needs is absent.
    #[error("the file is missing; every catalogue has it")]
    MissingFile,
    /// A file that has no place in the layout.
    #[error("this file has no place in a catalogue: expected regulation.json, chapters.json, articles.json, roles.json, forms.json, events/common.json, events/<type>/<version>.json, or documentation ending in .md")]
    UnexpectedFile,
    /// The file is not JSON.
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// The JSON does not have the shape the file must have.
    #[error("unexpected shape: {0}")]
    Shape(String),
    /// An event-type directory is not a valid type name.
    #[error("{0}")]
    BadEventTypeName(EventTypeNameError),
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
    /// The catalogue defines an event type the ledger core reserves.
    #[error(
        "event type {0:?} is reserved for the ledger core and cannot be defined by a catalogue"
    )]
    ReservedEventType(String),
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
    #[error("the example does not validate: {}", ViolationList(.0))]
    InvalidExample(Vec<Violation>),
}

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
struct EventFile {
    path: String,
    name: EventTypeName,
    version: u32,
    schema: Value,
}

/// What the catalogue reads from an event schema besides the schema proper.
struct SchemaMeta {
    title_en: String,
    title_ja: String,
    description_en: String,
    description_ja: String,
    articles: Vec<u32>,
    forms: Vec<u32>,
    examples: Vec<Value>,
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, file: &str, pointer: impl Into<String>, kind: ProblemKind) {
        self.0.push(Problem {
            file: file.to_owned(),
            pointer: pointer.into(),
            kind,
        });
    }

    fn into_error(self) -> CatalogueError {
        CatalogueError { problems: self.0 }
    }
}

pub(crate) fn load(files: BTreeMap<String, Vec<u8>>) -> Result<Catalogue, CatalogueError> {
    let mut problems = Problems::default();

    let event_paths = classify_files(&files, &mut problems);
    let regulation: Option<Regulation> = parse_typed(&files, "regulation.json", &mut problems);
    let chapters = parse_typed::<ChaptersFile>(&files, "chapters.json", &mut problems)
        .map(|file| file.chapters);
    let articles = parse_typed::<ArticlesFile>(&files, "articles.json", &mut problems)
        .map(|file| file.articles);
    let roles =
        parse_typed::<RolesFile>(&files, "roles.json", &mut problems).map(|file| file.roles);
    let forms =
        parse_typed::<FormsFile>(&files, "forms.json", &mut problems).map(|file| file.forms);
    let common = parse_typed::<Value>(&files, COMMON, &mut problems);
    let event_files: Vec<EventFile> = event_paths
        .into_iter()
        .filter_map(|(path, name, version)| {
            parse_typed::<Value>(&files, &path, &mut problems).map(|schema| EventFile {
                path,
                name,
                version,
                schema,
            })
        })
        .collect();

    // Without every top-level file there is nothing to cross-check against.
    let (Some(regulation), Some(chapters), Some(articles), Some(roles), Some(forms), Some(common)) =
        (regulation, chapters, articles, roles, forms, common)
    else {
        return Err(problems.into_error());
    };

    check_chapters_and_articles(&chapters, &articles, &mut problems);
    let role_ids = check_roles(&roles, &articles, &mut problems);
    check_article_roles(&articles, &role_ids, &mut problems);
    check_forms(&forms, &articles, &role_ids, &mut problems);
    check_version_gaps(&event_files, &mut problems);
    check_common(&common, &regulation, &roles, &mut problems);

    let metas: Vec<Option<SchemaMeta>> = event_files
        .iter()
        .map(|file| schema_meta(file, &regulation, &mut problems))
        .collect();
    check_event_references(&articles, &forms, &event_files, &metas, &mut problems);

    let validators = compile(&common, &event_files, &metas, &mut problems);

    if !problems.0.is_empty() {
        return Err(problems.into_error());
    }

    let mut details: BTreeMap<String, EventTypeDetail> = BTreeMap::new();
    let mut compiled: HashMap<String, BTreeMap<u32, jsonschema::Validator>> = HashMap::new();
    for ((file, meta), validator) in event_files.into_iter().zip(metas).zip(validators) {
        let (Some(meta), Some(validator)) = (meta, validator) else {
            unreachable!("a schema without metadata or validator has left a problem, and problems return early");
        };
        compiled
            .entry(file.name.as_str().to_owned())
            .or_default()
            .insert(file.version, validator);
        details
            .entry(file.name.as_str().to_owned())
            .or_insert_with(|| EventTypeDetail {
                name: file.name.clone(),
                versions: Vec::new(),
            })
            .versions
            .push(EventTypeVersion {
                version: file.version,
                title_en: meta.title_en,
                title_ja: meta.title_ja,
                description_en: meta.description_en,
                description_ja: meta.description_ja,
                articles: meta.articles,
                forms: meta.forms,
                schema: file.schema,
                examples: meta.examples,
            });
    }
    let summaries = details.values_mut().map(summarise).collect();
    let actor_roles = roles
        .iter()
        .filter(|role| role.is_actor_role())
        .map(|role| role.id.clone())
        .collect();

    Ok(Catalogue {
        regulation,
        chapters,
        articles,
        roles,
        forms,
        shared_definitions: common,
        summaries,
        details,
        validators: compiled,
        actor_roles,
    })
}

/// Sorts the versions of a detail and derives its summary.
fn summarise(detail: &mut EventTypeDetail) -> EventTypeSummary {
    detail.versions.sort_by_key(|version| version.version);
    let latest = detail
        .versions
        .last()
        .expect("an event type exists only through at least one version file");
    let articles: BTreeSet<u32> = detail
        .versions
        .iter()
        .flat_map(|version| version.articles.iter().copied())
        .collect();
    let forms: BTreeSet<u32> = detail
        .versions
        .iter()
        .flat_map(|version| version.forms.iter().copied())
        .collect();
    EventTypeSummary {
        name: detail.name.clone(),
        versions: detail
            .versions
            .iter()
            .map(|version| version.version)
            .collect(),
        latest_version: latest.version,
        articles: articles.into_iter().collect(),
        forms: forms.into_iter().collect(),
        title_en: latest.title_en.clone(),
        title_ja: latest.title_ja.clone(),
        description_en: latest.description_en.clone(),
        description_ja: latest.description_ja.clone(),
    }
}

/// Sorts the files into the layout, returning the event schema files as
/// (path, type, version), and reports files with no place in it.
fn classify_files(
    files: &BTreeMap<String, Vec<u8>>,
    problems: &mut Problems,
) -> Vec<(String, EventTypeName, u32)> {
    for required in REQUIRED_FILES {
        if !files.contains_key(required) {
            problems.push(required, "", ProblemKind::MissingFile);
        }
    }
    let mut event_paths = Vec::new();
    for path in files.keys() {
        if path.ends_with(".md") || REQUIRED_FILES.contains(&path.as_str()) {
            continue;
        }
        let parts: Vec<&str> = path.split('/').collect();
        let ["events", type_name, version_file] = parts[..] else {
            problems.push(path, "", ProblemKind::UnexpectedFile);
            continue;
        };
        let name = match EventTypeName::parse(type_name) {
            Ok(name) => name,
            Err(error) => {
                problems.push(path, "", ProblemKind::BadEventTypeName(error));
                continue;
            }
        };
        if name.is_reserved() {
            problems.push(path, "", ProblemKind::ReservedEventType(name.to_string()));
            continue;
        }
        let Some(version) = parse_version(version_file) else {
            problems.push(path, "", ProblemKind::BadVersion(version_file.to_owned()));
            continue;
        };
        event_paths.push((path.clone(), name, version));
    }
    event_paths
}

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
    problems: &mut Problems,
) -> Option<T> {
    let bytes = files.get(file)?;
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(deserializer) {
        Ok(value) => Some(value),
        Err(error) => {
            let inner = error.inner();
            if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                problems.push(file, "", ProblemKind::NotJson(inner.to_string()));
            } else {
                problems.push(
                    file,
                    path_to_pointer(error.path()),
                    ProblemKind::Shape(inner.to_string()),
                );
            }
            None
        }
    }
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&escape_pointer_token(key));
            }
            Segment::Unknown => {}
        }
    }
    pointer
}

fn check_chapters_and_articles(
    chapters: &[Chapter],
    articles: &[Article],
    problems: &mut Problems,
) {
    for (index, chapter) in chapters.iter().enumerate() {
        let expected = position(index);
        if chapter.number != expected {
            problems.push(
                "chapters.json",
                format!("/chapters/{index}/number"),
                ProblemKind::OutOfOrder {
                    expected,
                    found: chapter.number,
                },
            );
        }
        for (section_index, section) in chapter.sections.iter().enumerate() {
            let expected = position(section_index);
            if section.number != expected {
                problems.push(
                    "chapters.json",
                    format!("/chapters/{index}/sections/{section_index}/number"),
                    ProblemKind::OutOfOrder {
                        expected,
                        found: section.number,
                    },
                );
            }
        }
    }
    let mut previous_chapter = 0;
    for (index, article) in articles.iter().enumerate() {
        let at = format!("/articles/{index}");
        let expected = position(index);
        if article.number != expected {
            problems.push(
                "articles.json",
                format!("{at}/number"),
                ProblemKind::OutOfOrder {
                    expected,
                    found: article.number,
                },
            );
        }
        if article.chapter.number < previous_chapter {
            problems.push(
                "articles.json",
                format!("{at}/chapter/number"),
                ProblemKind::Inconsistent(format!(
                    "article {} is in chapter {} but follows an article of chapter {previous_chapter}: chapters run in order",
                    article.number, article.chapter.number
                )),
            );
        }
        previous_chapter = article.chapter.number;
        let chapter = chapters
            .iter()
            .find(|chapter| chapter.number == article.chapter.number);
        match chapter {
            None => problems.push(
                "articles.json",
                format!("{at}/chapter/number"),
                ProblemKind::Inconsistent(format!(
                    "chapter {} is not in chapters.json",
                    article.chapter.number
                )),
            ),
            Some(chapter) if chapter.title_ja != article.chapter.title_ja => problems.push(
                "articles.json",
                format!("{at}/chapter/title_ja"),
                ProblemKind::Inconsistent(format!(
                    "chapter {} is titled {:?} here but {:?} in chapters.json",
                    chapter.number, article.chapter.title_ja, chapter.title_ja
                )),
            ),
            Some(chapter) => match (&article.section, chapter.sections.is_empty()) {
                (None, true) => {}
                (None, false) => problems.push(
                    "articles.json",
                    format!("{at}/section"),
                    ProblemKind::Inconsistent(format!(
                        "chapter {} has sections, so the article needs one",
                        chapter.number
                    )),
                ),
                (Some(section), _) => {
                    match chapter.sections.iter().find(|s| s.number == section.number) {
                        None => problems.push(
                            "articles.json",
                            format!("{at}/section/number"),
                            ProblemKind::Inconsistent(format!(
                                "chapter {} has no section {} in chapters.json",
                                chapter.number, section.number
                            )),
                        ),
                        Some(known) if known.title_ja != section.title_ja => problems.push(
                            "articles.json",
                            format!("{at}/section/title_ja"),
                            ProblemKind::Inconsistent(format!(
                                "section {}-{} is titled {:?} here but {:?} in chapters.json",
                                chapter.number, section.number, section.title_ja, known.title_ja
                            )),
                        ),
                        Some(_) => {}
                    }
                }
            },
        }
        for (paragraph_index, paragraph) in article.paragraphs.iter().enumerate() {
            let expected = position(paragraph_index);
            if paragraph.number != expected {
                problems.push(
                    "articles.json",
                    format!("{at}/paragraphs/{paragraph_index}/number"),
                    ProblemKind::OutOfOrder {
                        expected,
                        found: paragraph.number,
                    },
                );
            }
            for (item_index, item) in paragraph.items.iter().enumerate() {
                let expected = position(item_index);
                if item.number != expected {
                    problems.push(
                        "articles.json",
                        format!("{at}/paragraphs/{paragraph_index}/items/{item_index}/number"),
                        ProblemKind::OutOfOrder {
                            expected,
                            found: item.number,
                        },
                    );
                }
            }
        }
        if article.evaluation != Evaluation::Declarative && article.event_types.is_empty() {
            problems.push(
                "articles.json",
                format!("{at}/event_types"),
                ProblemKind::Inconsistent(format!(
                    "article {} is {:?} but lists no event types: an evaluated or evidenced article needs the events that evidence it, or else it is declarative",
                    article.number, article.evaluation
                )),
            );
        }
    }
}

/// The 1-based number a 0-based position must carry.
fn position(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

fn provision_exists(articles: &[Article], provision: &Provision) -> bool {
    let Some(article) = provision
        .article
        .checked_sub(1)
        .and_then(|i| articles.get(i as usize))
    else {
        return false;
    };
    let Some(paragraph_number) = provision.paragraph else {
        return provision.item.is_none();
    };
    let Some(paragraph) = paragraph_number
        .checked_sub(1)
        .and_then(|i| article.paragraphs.get(i as usize))
    else {
        return false;
    };
    provision
        .item
        .is_none_or(|item| item >= 1 && item as usize <= paragraph.items.len())
}

fn provision_label(provision: &Provision) -> String {
    let mut label = format!("第{}条", provision.article);
    if let Some(paragraph) = provision.paragraph {
        label.push_str(&format!("第{paragraph}項"));
    }
    if let Some(item) = provision.item {
        label.push_str(&format!("第{item}号"));
    }
    label
}

/// Checks roles.json and returns the set of role ids.
fn check_roles(roles: &[Role], articles: &[Article], problems: &mut Problems) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (index, role) in roles.iter().enumerate() {
        if !ids.insert(role.id.clone()) {
            problems.push(
                "roles.json",
                format!("/roles/{index}/id"),
                ProblemKind::Duplicate(format!("role {:?}", role.id)),
            );
        }
        for (provision_index, provision) in role.defined_in.iter().enumerate() {
            if !provision_exists(articles, provision) {
                problems.push(
                    "roles.json",
                    format!("/roles/{index}/defined_in/{provision_index}"),
                    ProblemKind::UnknownProvision(provision_label(provision)),
                );
            }
        }
    }
    for (index, role) in roles.iter().enumerate() {
        for (member_index, member) in role.members.iter().enumerate() {
            let at = format!("/roles/{index}/members/{member_index}");
            match roles.iter().find(|candidate| &candidate.id == member) {
                None => problems.push("roles.json", at, ProblemKind::UnknownRole(member.clone())),
                Some(candidate) if !candidate.is_actor_role() => problems.push(
                    "roles.json",
                    at,
                    ProblemKind::Inconsistent(format!(
                        "{member:?} is itself a collective term; members must be actor roles"
                    )),
                ),
                Some(_) => {}
            }
        }
    }
    ids
}

fn check_article_roles(articles: &[Article], role_ids: &BTreeSet<String>, problems: &mut Problems) {
    for (index, article) in articles.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for (role_index, role) in article.roles.iter().enumerate() {
            let at = format!("/articles/{index}/roles/{role_index}");
            if !role_ids.contains(role) {
                problems.push("articles.json", at, ProblemKind::UnknownRole(role.clone()));
            } else if !seen.insert(role) {
                problems.push(
                    "articles.json",
                    at,
                    ProblemKind::Duplicate(format!("role {role:?}")),
                );
            }
        }
    }
}

fn check_forms(
    forms: &[Form],
    articles: &[Article],
    role_ids: &BTreeSet<String>,
    problems: &mut Problems,
) {
    for (index, form) in forms.iter().enumerate() {
        let at = format!("/forms/{index}");
        let expected = position(index);
        if form.number != expected {
            problems.push(
                "forms.json",
                format!("{at}/number"),
                ProblemKind::OutOfOrder {
                    expected,
                    found: form.number,
                },
            );
        }
        for (provision_index, provision) in form.provisions.iter().enumerate() {
            if !provision_exists(articles, provision) {
                problems.push(
                    "forms.json",
                    format!("{at}/provisions/{provision_index}"),
                    ProblemKind::UnknownProvision(provision_label(provision)),
                );
            }
        }
        let role_lists = [
            ("submitted_by", &form.submitted_by),
            ("submitted_to", &form.submitted_to),
            ("approved_by", &form.approved_by),
            ("consented_by", &form.consented_by),
            ("confirmed_by", &form.confirmed_by),
        ];
        for (field, list) in role_lists {
            for (role_index, role) in list.iter().enumerate() {
                if !role_ids.contains(role) {
                    problems.push(
                        "forms.json",
                        format!("{at}/{field}/{role_index}"),
                        ProblemKind::UnknownRole(role.clone()),
                    );
                }
            }
        }
    }
}

fn check_version_gaps(event_files: &[EventFile], problems: &mut Problems) {
    let mut versions: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for file in event_files {
        versions
            .entry(file.name.as_str())
            .or_default()
            .push(file.version);
    }
    for (name, mut found) in versions {
        found.sort_unstable();
        if found
            .iter()
            .enumerate()
            .any(|(index, version)| *version != position(index))
        {
            problems.push(
                &format!("events/{name}"),
                "",
                ProblemKind::VersionGap {
                    event_type: name.to_owned(),
                    versions: found,
                },
            );
        }
    }
}

fn check_common(common: &Value, regulation: &Regulation, roles: &[Role], problems: &mut Problems) {
    let Some(object) = common.as_object() else {
        problems.push(
            COMMON,
            "",
            ProblemKind::SchemaRule("the shared definitions must be a JSON object".to_owned()),
        );
        return;
    };
    if object.get("$schema").and_then(Value::as_str) != Some(DRAFT_2020_12) {
        problems.push(
            COMMON,
            "/$schema",
            ProblemKind::SchemaRule(format!("must be {DRAFT_2020_12:?}")),
        );
    }
    let expected_id = format!("{}{COMMON}", regulation.schema_base);
    if object.get("$id").and_then(Value::as_str) != Some(expected_id.as_str()) {
        problems.push(
            COMMON,
            "/$id",
            ProblemKind::SchemaRule(format!(
                "must be {expected_id:?} (schema_base of regulation.json + the file's path)"
            )),
        );
    }
    if !object.get("$defs").is_some_and(Value::is_object) {
        problems.push(
            COMMON,
            "/$defs",
            ProblemKind::SchemaRule("must be an object of shared definitions".to_owned()),
        );
    }
    check_closed_objects(common, "", COMMON, problems);
    // Payloads that name a role use this definition; it must list exactly the
    // catalogue's roles, or a role added to roles.json could never appear in
    // a payload (and a removed one still could).
    if let Some(role_enum) = common.pointer("/$defs/role/enum").and_then(Value::as_array) {
        let listed: BTreeSet<&str> = role_enum.iter().filter_map(Value::as_str).collect();
        let defined: BTreeSet<&str> = roles.iter().map(|role| role.id.as_str()).collect();
        if listed != defined {
            let missing: Vec<&&str> = defined.difference(&listed).collect();
            let extra: Vec<&&str> = listed.difference(&defined).collect();
            problems.push(
                COMMON,
                "/$defs/role/enum",
                ProblemKind::Inconsistent(format!(
                    "must list exactly the role ids of roles.json; missing {missing:?}, not in roles.json {extra:?}"
                )),
            );
        }
    }
}

/// Requires `"additionalProperties": false` on every object schema that
/// declares `properties`, so that a misspelt property is refused at the door
/// instead of being stored and silently ignored by every rule.
fn check_closed_objects(schema: &Value, pointer: &str, file: &str, problems: &mut Problems) {
    let Value::Object(map) = schema else {
        return;
    };
    if map.contains_key("properties")
        && map.get("additionalProperties") != Some(&Value::Bool(false))
    {
        problems.push(
            file,
            pointer,
            ProblemKind::SchemaRule(
                "an object schema with \"properties\" must set \"additionalProperties\": false, so that unknown properties are refused"
                    .to_owned(),
            ),
        );
    }
    for keyword in [
        "properties",
        "$defs",
        "patternProperties",
        "dependentSchemas",
    ] {
        if let Some(Value::Object(children)) = map.get(keyword) {
            for (name, child) in children {
                check_closed_objects(
                    child,
                    &format!("{pointer}/{keyword}/{}", escape_pointer_token(name)),
                    file,
                    problems,
                );
            }
        }
    }
    for keyword in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(children)) = map.get(keyword) {
            for (index, child) in children.iter().enumerate() {
                check_closed_objects(
                    child,
                    &format!("{pointer}/{keyword}/{index}"),
                    file,
                    problems,
                );
            }
        }
    }
    for keyword in [
        "items",
        "not",
        "if",
        "then",
        "else",
        "additionalProperties",
        "contains",
        "propertyNames",
    ] {
        if let Some(child) = map.get(keyword) {
            check_closed_objects(child, &format!("{pointer}/{keyword}"), file, problems);
        }
    }
}

/// Checks an event schema against the catalogue's rules for schemas and
/// reads its metadata; `None` if the metadata is unusable.
fn schema_meta(
    file: &EventFile,
    regulation: &Regulation,
    problems: &mut Problems,
) -> Option<SchemaMeta> {
    let path = file.path.as_str();
    let Some(object) = file.schema.as_object() else {
        problems.push(
            path,
            "",
            ProblemKind::SchemaRule("an event schema must be a JSON object".to_owned()),
        );
        return None;
    };
    let before = problems.0.len();
    if object.get("$schema").and_then(Value::as_str) != Some(DRAFT_2020_12) {
        problems.push(
            path,
            "/$schema",
            ProblemKind::SchemaRule(format!("must be {DRAFT_2020_12:?}")),
        );
    }
    let expected_id = format!(
        "{}events/{}/{}.json",
        regulation.schema_base, file.name, file.version
    );
    if object.get("$id").and_then(Value::as_str) != Some(expected_id.as_str()) {
        problems.push(
            path,
            "/$id",
            ProblemKind::SchemaRule(format!(
                "must be {expected_id:?} (schema_base of regulation.json + the file's path)"
            )),
        );
    }
    let mut text = |key: &str, what: &str| -> String {
        match object.get(key).and_then(Value::as_str) {
            Some(value) if !value.trim().is_empty() => value.to_owned(),
            _ => {
                problems.push(
                    path,
                    format!("/{}", escape_pointer_token(key)),
                    ProblemKind::SchemaRule(format!("must be a non-empty string: {what}")),
                );
                String::new()
            }
        }
    };
    let title_en = text("title", "the English title");
    let title_ja = text("x-title-ja", "the Japanese title");
    let description_en = text("description", "the English description");
    let description_ja = text("x-description-ja", "the Japanese description");
    if object.get("type").and_then(Value::as_str) != Some("object") {
        problems.push(
            path,
            "/type",
            ProblemKind::SchemaRule("must be \"object\": a payload is a JSON object".to_owned()),
        );
    }
    if object.get("additionalProperties") != Some(&Value::Bool(false)) {
        problems.push(
            path,
            "/additionalProperties",
            ProblemKind::SchemaRule(
                "must be false, so that unknown properties are refused".to_owned(),
            ),
        );
    } else {
        check_closed_objects(&file.schema, "", path, problems);
    }
    let articles = number_list(
        object.get("x-articles"),
        "/x-articles",
        path,
        true,
        problems,
    );
    let forms = match object.get("x-forms") {
        None => Vec::new(),
        Some(value) => number_list(Some(value), "/x-forms", path, false, problems),
    };
    let examples = match object.get("examples").and_then(Value::as_array) {
        Some(examples) if !examples.is_empty() => examples.clone(),
        _ => {
            problems.push(
                path,
                "/examples",
                ProblemKind::SchemaRule("must be a non-empty array of valid payloads".to_owned()),
            );
            Vec::new()
        }
    };
    (problems.0.len() == before).then_some(SchemaMeta {
        title_en,
        title_ja,
        description_en,
        description_ja,
        articles,
        forms,
        examples,
    })
}

/// Reads an array of distinct positive integers (article or form numbers).
fn number_list(
    value: Option<&Value>,
    pointer: &str,
    path: &str,
    non_empty: bool,
    problems: &mut Problems,
) -> Vec<u32> {
    let what = if non_empty {
        "a non-empty array of distinct positive integers"
    } else {
        "an array of distinct positive integers"
    };
    let Some(array) = value.and_then(Value::as_array) else {
        problems.push(
            path,
            pointer,
            ProblemKind::SchemaRule(format!("must be {what}")),
        );
        return Vec::new();
    };
    if non_empty && array.is_empty() {
        problems.push(
            path,
            pointer,
            ProblemKind::SchemaRule(format!(
                "must be {what}: every event type serves at least one article"
            )),
        );
    }
    let mut numbers = Vec::new();
    for (index, element) in array.iter().enumerate() {
        match element
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
        {
            Some(number) if numbers.contains(&number) => {
                problems.push(
                    path,
                    format!("{pointer}/{index}"),
                    ProblemKind::Duplicate(number.to_string()),
                );
            }
            Some(number) => numbers.push(number),
            None => problems.push(
                path,
                format!("{pointer}/{index}"),
                ProblemKind::SchemaRule(format!("must be {what}")),
            ),
        }
    }
    numbers
}

/// Checks that articles, forms and event schemas refer to one another
/// consistently: every reference resolves, and the article → event type map
/// in articles.json agrees with the event type → article map in `x-articles`.
fn check_event_references(
    articles: &[Article],
    forms: &[Form],
    event_files: &[EventFile],
    metas: &[Option<SchemaMeta>],
    problems: &mut Problems,
) {
    let defined: BTreeSet<&str> = event_files.iter().map(|file| file.name.as_str()).collect();
    // A type with a version whose metadata is unusable has already been
    // reported; comparing its articles would only add a misleading echo.
    let unusable: BTreeSet<&str> = event_files
        .iter()
        .zip(metas)
        .filter(|(_, meta)| meta.is_none())
        .map(|(file, _)| file.name.as_str())
        .collect();
    // For each type, the articles that some version names.
    let mut served: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for (file, meta) in event_files.iter().zip(metas) {
        let Some(meta) = meta else { continue };
        for (index, article) in meta.articles.iter().enumerate() {
            if *article == 0 || *article as usize > articles.len() {
                problems.push(
                    &file.path,
                    format!("/x-articles/{index}"),
                    ProblemKind::UnknownArticle(*article),
                );
            } else {
                served
                    .entry(file.name.as_str())
                    .or_default()
                    .insert(*article);
            }
        }
        for (index, form) in meta.forms.iter().enumerate() {
            if !forms.iter().any(|known| known.number == *form) {
                problems.push(
                    &file.path,
                    format!("/x-forms/{index}"),
                    ProblemKind::UnknownForm(*form),
                );
            }
        }
    }
    let mut listed: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for (index, article) in articles.iter().enumerate() {
        for (type_index, event_type) in article.event_types.iter().enumerate() {
            let at = format!("/articles/{index}/event_types/{type_index}");
            if !defined.contains(event_type.as_str()) {
                problems.push(
                    "articles.json",
                    at,
                    ProblemKind::UnknownEventType(event_type.clone()),
                );
                continue;
            }
            if !listed
                .entry(event_type.as_str())
                .or_default()
                .insert(article.number)
            {
                problems.push(
                    "articles.json",
                    at,
                    ProblemKind::Duplicate(format!("event type {event_type:?}")),
                );
                continue;
            }
            if !unusable.contains(event_type.as_str())
                && !served
                    .get(event_type.as_str())
                    .is_some_and(|set| set.contains(&article.number))
            {
                problems.push(
                    "articles.json",
                    at,
                    ProblemKind::Inconsistent(format!(
                        "article {} lists {event_type}, but no version of {event_type} names article {} in x-articles",
                        article.number, article.number
                    )),
                );
            }
        }
    }
    for (file, meta) in event_files.iter().zip(metas) {
        let Some(meta) = meta else { continue };
        for (index, article) in meta.articles.iter().enumerate() {
            let known = *article >= 1 && *article as usize <= articles.len();
            if known
                && !listed
                    .get(file.name.as_str())
                    .is_some_and(|set| set.contains(article))
            {
                problems.push(
                    &file.path,
                    format!("/x-articles/{index}"),
                    ProblemKind::Inconsistent(format!(
                        "names article {article}, but articles.json does not list {} under article {article}",
                        file.name
                    )),
                );
            }
        }
    }
    for (index, form) in forms.iter().enumerate() {
        for (type_index, event_type) in form.event_types.iter().enumerate() {
            if !defined.contains(event_type.as_str()) {
                problems.push(
                    "forms.json",
                    format!("/forms/{index}/event_types/{type_index}"),
                    ProblemKind::UnknownEventType(event_type.clone()),
                );
            }
        }
    }
}

/// Resolves `$ref`s to the catalogue's own files and refuses everything
/// else: the ledger runs in a closed network and must never reach out.
#[derive(Clone)]
struct CatalogueRetriever(Arc<HashMap<String, Value>>);

impl jsonschema::Retrieve for CatalogueRetriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0.get(uri.as_str()).cloned().ok_or_else(|| {
            format!("{uri} is not a file of this catalogue; a schema may $ref only the catalogue's own files (nothing is fetched from a network or disk)")
                .into()
        })
    }
}

/// Compiles the shared definitions and every event schema, and validates
/// every example; returns one validator per event file (`None` where it
/// failed or was not attempted).
fn compile(
    common: &Value,
    event_files: &[EventFile],
    metas: &[Option<SchemaMeta>],
    problems: &mut Problems,
) -> Vec<Option<jsonschema::Validator>> {
    let mut documents = HashMap::new();
    if let Some(id) = common.get("$id").and_then(Value::as_str) {
        documents.insert(id.to_owned(), common.clone());
    }
    for file in event_files {
        if let Some(id) = file.schema.get("$id").and_then(Value::as_str) {
            documents.insert(id.to_owned(), file.schema.clone());
        }
    }
    let retriever = CatalogueRetriever(Arc::new(documents));
    let build = |schema: &Value| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .with_retriever(retriever.clone())
            .build(schema)
    };
    if let Err(error) = build(common) {
        problems.push(COMMON, "", ProblemKind::SchemaCompile(error.to_string()));
        // Every event schema leans on the shared definitions; compiling them
        // now would only repeat this problem once per schema.
        return event_files.iter().map(|_| None).collect();
    }
    event_files
        .iter()
        .zip(metas)
        .map(|(file, meta)| {
            let validator = match build(&file.schema) {
                Ok(validator) => validator,
                Err(error) => {
                    problems.push(
                        &file.path,
                        "",
                        ProblemKind::SchemaCompile(error.to_string()),
                    );
                    return None;
                }
            };
            for (index, example) in meta
                .iter()
                .flat_map(|meta| meta.examples.iter())
                .enumerate()
            {
                let violations = validation::violations(&validator, example);
                if !violations.is_empty() {
                    problems.push(
                        &file.path,
                        format!("/examples/{index}"),
                        ProblemKind::InvalidExample(violations),
                    );
                }
            }
            Some(validator)
        })
        .collect()
}
