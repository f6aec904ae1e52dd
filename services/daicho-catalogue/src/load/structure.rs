//! Structural checks of the regulation's own files: numbering, chapters and
//! sections, roles, forms, the provisions they cite, and the versions of each
//! event type.

use std::collections::{BTreeMap, BTreeSet};

use super::issue::{IssueKind, Issues};
use super::layout::EventFile;
use crate::article::{Article, Chapter, Evaluation};
use crate::form::Form;
use crate::role::{Provision, Role};

/// Checks the numbering of chapters, sections, articles, paragraphs and
/// items, that each article's chapter and section agree with chapters.json,
/// and that an evaluated or evidenced article lists event types.
pub(super) fn check_chapters_and_articles(
    chapters: &[Chapter],
    articles: &[Article],
    issues: &mut Issues,
) {
    for (index, chapter) in chapters.iter().enumerate() {
        check_numbered(
            chapter.number,
            index,
            "chapters.json",
            || format!("/chapters/{index}/number"),
            issues,
        );
        for (section_index, section) in chapter.sections.iter().enumerate() {
            check_numbered(
                section.number,
                section_index,
                "chapters.json",
                || format!("/chapters/{index}/sections/{section_index}/number"),
                issues,
            );
        }
    }
    let mut previous_chapter = 0;
    for (index, article) in articles.iter().enumerate() {
        let at = format!("/articles/{index}");
        check_numbered(
            article.number,
            index,
            "articles.json",
            || format!("{at}/number"),
            issues,
        );
        if article.chapter.number < previous_chapter {
            issues.push(
                "articles.json",
                format!("{at}/chapter/number"),
                IssueKind::Inconsistent(format!(
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
            None => issues.push(
                "articles.json",
                format!("{at}/chapter/number"),
                IssueKind::Inconsistent(format!(
                    "chapter {} is not in chapters.json",
                    article.chapter.number
                )),
            ),
            Some(chapter) if chapter.title_ja != article.chapter.title_ja => issues.push(
                "articles.json",
                format!("{at}/chapter/title_ja"),
                IssueKind::Inconsistent(format!(
                    "chapter {} is titled {:?} here but {:?} in chapters.json",
                    chapter.number, article.chapter.title_ja, chapter.title_ja
                )),
            ),
            Some(chapter) => match (&article.section, chapter.sections.is_empty()) {
                (None, true) => {}
                (None, false) => issues.push(
                    "articles.json",
                    format!("{at}/section"),
                    IssueKind::Inconsistent(format!(
                        "chapter {} has sections, so the article needs one",
                        chapter.number
                    )),
                ),
                (Some(section), _) => {
                    match chapter.sections.iter().find(|s| s.number == section.number) {
                        None => issues.push(
                            "articles.json",
                            format!("{at}/section/number"),
                            IssueKind::Inconsistent(format!(
                                "chapter {} has no section {} in chapters.json",
                                chapter.number, section.number
                            )),
                        ),
                        Some(known) if known.title_ja != section.title_ja => issues.push(
                            "articles.json",
                            format!("{at}/section/title_ja"),
                            IssueKind::Inconsistent(format!(
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
            check_numbered(
                paragraph.number,
                paragraph_index,
                "articles.json",
                || format!("{at}/paragraphs/{paragraph_index}/number"),
                issues,
            );
            for (item_index, item) in paragraph.items.iter().enumerate() {
                check_numbered(
                    item.number,
                    item_index,
                    "articles.json",
                    || format!("{at}/paragraphs/{paragraph_index}/items/{item_index}/number"),
                    issues,
                );
            }
        }
        if article.evaluation != Evaluation::Declarative && article.event_types.is_empty() {
            issues.push(
                "articles.json",
                format!("{at}/event_types"),
                IssueKind::Inconsistent(format!(
                    "article {} is {:?} but lists no event types: an evaluated or evidenced article needs the events that evidence it, or else it is declarative",
                    article.number, article.evaluation
                )),
            );
        }
    }
}

/// Records an issue if the thing at the 0-based `index` of its list does
/// not carry the number `index + 1`; `pointer` names its number field.
fn check_numbered(
    number: u32,
    index: usize,
    file: &str,
    pointer: impl FnOnce() -> String,
    issues: &mut Issues,
) {
    let expected = position(index);
    if number != expected {
        issues.push(
            file,
            pointer(),
            IssueKind::OutOfOrder {
                expected,
                found: number,
            },
        );
    }
}

/// The 1-based number a 0-based position must carry.
fn position(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// Whether the article, and the paragraph and item if named, exist.
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

/// The provision as the regulation writes it, e.g. 第37条第1項第2号.
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
pub(super) fn check_roles(
    roles: &[Role],
    articles: &[Article],
    issues: &mut Issues,
) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (index, role) in roles.iter().enumerate() {
        if !ids.insert(role.id.clone()) {
            issues.push(
                "roles.json",
                format!("/roles/{index}/id"),
                IssueKind::Duplicate(format!("role {:?}", role.id)),
            );
        }
        for (provision_index, provision) in role.defined_in.iter().enumerate() {
            if !provision_exists(articles, provision) {
                issues.push(
                    "roles.json",
                    format!("/roles/{index}/defined_in/{provision_index}"),
                    IssueKind::UnknownProvision(provision_label(provision)),
                );
            }
        }
    }
    for (index, role) in roles.iter().enumerate() {
        for (member_index, member) in role.members.iter().enumerate() {
            let at = format!("/roles/{index}/members/{member_index}");
            match roles.iter().find(|candidate| &candidate.id == member) {
                None => issues.push("roles.json", at, IssueKind::UnknownRole(member.clone())),
                Some(candidate) if !candidate.is_actor_role() => issues.push(
                    "roles.json",
                    at,
                    IssueKind::Inconsistent(format!(
                        "{member:?} is itself a collective term; members must be actor roles"
                    )),
                ),
                Some(_) => {}
            }
        }
    }
    ids
}

/// Checks that each article names only defined roles, each once.
pub(super) fn check_article_roles(
    articles: &[Article],
    role_ids: &BTreeSet<String>,
    issues: &mut Issues,
) {
    for (index, article) in articles.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for (role_index, role) in article.roles.iter().enumerate() {
            let at = format!("/articles/{index}/roles/{role_index}");
            if !role_ids.contains(role) {
                issues.push("articles.json", at, IssueKind::UnknownRole(role.clone()));
            } else if !seen.insert(role) {
                issues.push(
                    "articles.json",
                    at,
                    IssueKind::Duplicate(format!("role {role:?}")),
                );
            }
        }
    }
}

/// Checks the numbering of forms and that their provisions and roles exist.
pub(super) fn check_forms(
    forms: &[Form],
    articles: &[Article],
    role_ids: &BTreeSet<String>,
    issues: &mut Issues,
) {
    for (index, form) in forms.iter().enumerate() {
        let at = format!("/forms/{index}");
        check_numbered(
            form.number,
            index,
            "forms.json",
            || format!("{at}/number"),
            issues,
        );
        for (provision_index, provision) in form.provisions.iter().enumerate() {
            if !provision_exists(articles, provision) {
                issues.push(
                    "forms.json",
                    format!("{at}/provisions/{provision_index}"),
                    IssueKind::UnknownProvision(provision_label(provision)),
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
                    issues.push(
                        "forms.json",
                        format!("{at}/{field}/{role_index}"),
                        IssueKind::UnknownRole(role.clone()),
                    );
                }
            }
        }
    }
}

/// Checks that the versions of each event type run 1, 2, 3… without gaps.
pub(super) fn check_version_gaps(event_files: &[EventFile], issues: &mut Issues) {
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
            issues.push(
                &format!("events/{name}"),
                "",
                IssueKind::VersionGap {
                    event_type: name.to_owned(),
                    versions: found,
                },
            );
        }
    }
}
