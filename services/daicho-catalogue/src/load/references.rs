//! Cross references between the regulation's files and the event schemas.

use std::collections::{BTreeMap, BTreeSet};

use super::issue::{IssueKind, Issues};
use super::layout::EventFile;
use super::schema_rules::SchemaMeta;
use crate::article::Article;
use crate::form::Form;

/// Checks that articles, forms and event schemas refer to one another
/// consistently: every reference resolves, and the article → event type map
/// in articles.json agrees with the event type → article map in `x-articles`.
pub(super) fn check_event_references(
    articles: &[Article],
    forms: &[Form],
    event_files: &[EventFile],
    metas: &[Option<SchemaMeta>],
    issues: &mut Issues,
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
                issues.push(
                    &file.path,
                    format!("/x-articles/{index}"),
                    IssueKind::UnknownArticle(*article),
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
                issues.push(
                    &file.path,
                    format!("/x-forms/{index}"),
                    IssueKind::UnknownForm(*form),
                );
            }
        }
    }
    let mut listed: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for (index, article) in articles.iter().enumerate() {
        for (type_index, event_type) in article.event_types.iter().enumerate() {
            let at = format!("/articles/{index}/event_types/{type_index}");
            if !defined.contains(event_type.as_str()) {
                issues.push(
                    "articles.json",
                    at,
                    IssueKind::UnknownEventType(event_type.clone()),
                );
                continue;
            }
            if !listed
                .entry(event_type.as_str())
                .or_default()
                .insert(article.number)
            {
                issues.push(
                    "articles.json",
                    at,
                    IssueKind::Duplicate(format!("event type {event_type:?}")),
                );
                continue;
            }
            if !unusable.contains(event_type.as_str())
                && !served
                    .get(event_type.as_str())
                    .is_some_and(|set| set.contains(&article.number))
            {
                issues.push(
                    "articles.json",
                    at,
                    IssueKind::Inconsistent(format!(
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
                issues.push(
                    &file.path,
                    format!("/x-articles/{index}"),
                    IssueKind::Inconsistent(format!(
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
                issues.push(
                    "forms.json",
                    format!("/forms/{index}/event_types/{type_index}"),
                    IssueKind::UnknownEventType(event_type.clone()),
                );
            }
        }
    }
}
