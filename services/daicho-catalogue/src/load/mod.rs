//! Loading a catalogue from its files, and every check it must pass before
//! the ledger may rely on it.
//!
//! The loader collects every issue it can find instead of stopping at the
//! first, so that a municipality writing its own catalogue fixes them in one
//! round rather than one per start-up. Each concern has its module, in the
//! order the loader runs them: the file layout, the structure of the
//! regulation's files, the rules for schemas, the cross references, and the
//! compilation of the schemas. The error model is in `issue`.

mod compile;
mod issue;
mod layout;
mod references;
mod schema_rules;
mod structure;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::catalogue::Catalogue;
use crate::event_type::{EventTypeDetail, EventTypeSummary, EventTypeVersion};

use issue::Issues;
pub use issue::{CatalogueError, CatalogueIssue, IssueKind};
use layout::ParsedFiles;
use schema_rules::SchemaMeta;

/// Loads and checks a catalogue from its files; see [`Catalogue::from_files`].
pub(crate) fn load(files: BTreeMap<String, Vec<u8>>) -> Result<Catalogue, CatalogueError> {
    let mut issues = Issues::default();

    let Some(ParsedFiles {
        regulation,
        chapters,
        articles,
        roles,
        forms,
        common,
        event_files,
    }) = layout::parse_files(&files, &mut issues)
    else {
        return Err(issues.into_error());
    };

    structure::check_chapters_and_articles(&chapters, &articles, &mut issues);
    let role_ids = structure::check_roles(&roles, &articles, &mut issues);
    structure::check_article_roles(&articles, &role_ids, &mut issues);
    structure::check_forms(&forms, &articles, &role_ids, &mut issues);
    structure::check_version_gaps(&event_files, &mut issues);
    schema_rules::check_common(&common, &regulation, &roles, &mut issues);

    let metas: Vec<Option<SchemaMeta>> = event_files
        .iter()
        .map(|file| schema_rules::schema_meta(file, &regulation, &mut issues))
        .collect();
    references::check_event_references(&articles, &forms, &event_files, &metas, &mut issues);

    let validators = compile::compile(&common, &event_files, &metas, &mut issues);

    if issues.count() > 0 {
        return Err(issues.into_error());
    }

    let mut details: BTreeMap<String, EventTypeDetail> = BTreeMap::new();
    let mut compiled: HashMap<String, BTreeMap<u32, jsonschema::Validator>> = HashMap::new();
    for ((file, meta), validator) in event_files.into_iter().zip(metas).zip(validators) {
        let (Some(meta), Some(validator)) = (meta, validator) else {
            unreachable!(
                "a schema without metadata or validator has left an issue, and issues return early"
            );
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
