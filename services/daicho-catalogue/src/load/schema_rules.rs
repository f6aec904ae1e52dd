//! The catalogue's rules for schemas: the shared definitions and every event
//! schema declare the right dialect and identity, close their objects, and
//! carry the metadata the catalogue publishes.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::issue::{IssueKind, Issues};
use super::layout::{EventFile, COMMON};
use crate::regulation::Regulation;
use crate::role::Role;
use crate::validation::escape_pointer_token;

/// The meta-schema every event schema must declare.
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// What the catalogue reads from an event schema besides the schema proper.
pub(super) struct SchemaMeta {
    /// `title`.
    pub(super) title_en: String,
    /// `x-title-ja`.
    pub(super) title_ja: String,
    /// `description`.
    pub(super) description_en: String,
    /// `x-description-ja`.
    pub(super) description_ja: String,
    /// `x-articles`: the articles the schema serves.
    pub(super) articles: Vec<u32>,
    /// `x-forms`: the forms whose use it records.
    pub(super) forms: Vec<u32>,
    /// `examples`: payloads the schema must accept.
    pub(super) examples: Vec<Value>,
}

/// Checks the shared definitions: dialect, identity, closed objects, and a
/// role list that matches roles.json.
pub(super) fn check_common(
    common: &Value,
    regulation: &Regulation,
    roles: &[Role],
    issues: &mut Issues,
) {
    let Some(object) = common.as_object() else {
        issues.push(
            COMMON,
            "",
            IssueKind::SchemaRule("the shared definitions must be a JSON object".to_owned()),
        );
        return;
    };
    check_dialect_and_id(object, COMMON, regulation, issues);
    if !object.get("$defs").is_some_and(Value::is_object) {
        issues.push(
            COMMON,
            "/$defs",
            IssueKind::SchemaRule("must be an object of shared definitions".to_owned()),
        );
    }
    check_closed_objects(common, "", COMMON, issues);
    // Payloads that name a role use this definition; it must list exactly the
    // catalogue's roles, or a role added to roles.json could never appear in
    // a payload (and a removed one still could).
    if let Some(role_enum) = common.pointer("/$defs/role/enum").and_then(Value::as_array) {
        let listed: BTreeSet<&str> = role_enum.iter().filter_map(Value::as_str).collect();
        let defined: BTreeSet<&str> = roles.iter().map(|role| role.id.as_str()).collect();
        if listed != defined {
            let missing: Vec<&&str> = defined.difference(&listed).collect();
            let extra: Vec<&&str> = listed.difference(&defined).collect();
            issues.push(
                COMMON,
                "/$defs/role/enum",
                IssueKind::Inconsistent(format!(
                    "must list exactly the role ids of roles.json; missing {missing:?}, not in roles.json {extra:?}"
                )),
            );
        }
    }
}

/// Requires the draft 2020-12 dialect and the `$id` that the file's place
/// gives it: `schema_base` of regulation.json followed by the file's path,
/// so that a `$ref` between the catalogue's files resolves to the file meant.
fn check_dialect_and_id(
    object: &Map<String, Value>,
    path: &str,
    regulation: &Regulation,
    issues: &mut Issues,
) {
    if object.get("$schema").and_then(Value::as_str) != Some(DRAFT_2020_12) {
        issues.push(
            path,
            "/$schema",
            IssueKind::SchemaRule(format!("must be {DRAFT_2020_12:?}")),
        );
    }
    let expected_id = format!("{}{path}", regulation.schema_base);
    if object.get("$id").and_then(Value::as_str) != Some(expected_id.as_str()) {
        issues.push(
            path,
            "/$id",
            IssueKind::SchemaRule(format!(
                "must be {expected_id:?} (schema_base of regulation.json + the file's path)"
            )),
        );
    }
}

/// Requires `"additionalProperties": false` on every object schema that
/// declares `properties`, so that a misspelt property is refused at the door
/// instead of being stored and silently ignored by every rule.
fn check_closed_objects(schema: &Value, pointer: &str, file: &str, issues: &mut Issues) {
    let Value::Object(map) = schema else {
        return;
    };
    if map.contains_key("properties")
        && map.get("additionalProperties") != Some(&Value::Bool(false))
    {
        issues.push(
            file,
            pointer,
            IssueKind::SchemaRule(
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
                    issues,
                );
            }
        }
    }
    for keyword in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(children)) = map.get(keyword) {
            for (index, child) in children.iter().enumerate() {
                check_closed_objects(child, &format!("{pointer}/{keyword}/{index}"), file, issues);
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
            check_closed_objects(child, &format!("{pointer}/{keyword}"), file, issues);
        }
    }
}

/// Checks an event schema against the catalogue's rules for schemas and
/// reads its metadata; `None` if the metadata is unusable.
pub(super) fn schema_meta(
    file: &EventFile,
    regulation: &Regulation,
    issues: &mut Issues,
) -> Option<SchemaMeta> {
    let path = file.path.as_str();
    let Some(object) = file.schema.as_object() else {
        issues.push(
            path,
            "",
            IssueKind::SchemaRule("an event schema must be a JSON object".to_owned()),
        );
        return None;
    };
    let before = issues.count();
    check_dialect_and_id(object, path, regulation, issues);
    let mut text = |key: &str, what: &str| -> String {
        match object.get(key).and_then(Value::as_str) {
            Some(value) if !value.trim().is_empty() => value.to_owned(),
            _ => {
                issues.push(
                    path,
                    format!("/{}", escape_pointer_token(key)),
                    IssueKind::SchemaRule(format!("must be a non-empty string: {what}")),
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
        issues.push(
            path,
            "/type",
            IssueKind::SchemaRule("must be \"object\": a payload is a JSON object".to_owned()),
        );
    }
    if object.get("additionalProperties") != Some(&Value::Bool(false)) {
        issues.push(
            path,
            "/additionalProperties",
            IssueKind::SchemaRule(
                "must be false, so that unknown properties are refused".to_owned(),
            ),
        );
    } else {
        check_closed_objects(&file.schema, "", path, issues);
    }
    let articles = number_list(object.get("x-articles"), "/x-articles", path, true, issues);
    let forms = match object.get("x-forms") {
        None => Vec::new(),
        Some(value) => number_list(Some(value), "/x-forms", path, false, issues),
    };
    let examples = match object.get("examples").and_then(Value::as_array) {
        Some(examples) if !examples.is_empty() => examples.clone(),
        _ => {
            issues.push(
                path,
                "/examples",
                IssueKind::SchemaRule("must be a non-empty array of valid payloads".to_owned()),
            );
            Vec::new()
        }
    };
    (issues.count() == before).then_some(SchemaMeta {
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
    issues: &mut Issues,
) -> Vec<u32> {
    let what = if non_empty {
        "a non-empty array of distinct positive integers"
    } else {
        "an array of distinct positive integers"
    };
    let Some(array) = value.and_then(Value::as_array) else {
        issues.push(
            path,
            pointer,
            IssueKind::SchemaRule(format!("must be {what}")),
        );
        return Vec::new();
    };
    if non_empty && array.is_empty() {
        issues.push(
            path,
            pointer,
            IssueKind::SchemaRule(format!(
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
                issues.push(
                    path,
                    format!("{pointer}/{index}"),
                    IssueKind::Duplicate(number.to_string()),
                );
            }
            Some(number) => numbers.push(number),
            None => issues.push(
                path,
                format!("{pointer}/{index}"),
                IssueKind::SchemaRule(format!("must be {what}")),
            ),
        }
    }
    numbers
}
