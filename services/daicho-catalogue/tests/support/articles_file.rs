//! Builds `schemas/articles.json` and `schemas/chapters.json` from the
//! regulation text: the structural fields (numbers, chapters, sections,
//! Japanese titles, paragraphs, items) come from the text; the authored
//! fields (English titles, roles, evaluation, event types) are kept from the
//! committed files. Run with `DAICHO_REGENERATE_ARTICLES=1` to rewrite them.

use std::path::PathBuf;

use daicho_catalogue::{Article, Chapter, Evaluation, Heading, Item, Paragraph, Section};
use serde::Serialize;
use serde_json::Value;

use super::regulation_text::Regulation;

/// The environment variable that makes the structure test rewrite the files.
pub const REGENERATE: &str = "DAICHO_REGENERATE_ARTICLES";

pub fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// Reads `schemas/<name>` as JSON, or `Value::Null` when it does not exist
/// yet (the first generation).
pub fn read_committed(name: &str) -> Value {
    match std::fs::read(schemas_dir().join(name)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .unwrap_or_else(|error| panic!("schemas/{name} is not JSON: {error}")),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Value::Null,
        Err(error) => panic!("cannot read schemas/{name}: {error}"),
    }
}

fn authored<'a>(committed: &'a Value, list: &str, number: u32) -> Option<&'a Value> {
    committed
        .get(list)?
        .as_array()?
        .iter()
        .find(|entry| entry.get("number").and_then(Value::as_u64) == Some(u64::from(number)))
}

fn text_field(entry: Option<&Value>, key: &str) -> String {
    entry
        .and_then(|entry| entry.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn list_field(entry: Option<&Value>, key: &str) -> Vec<String> {
    entry
        .and_then(|entry| entry.get(key))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub fn expected_articles(parsed: &Regulation, committed: &Value) -> Vec<Article> {
    parsed
        .articles
        .iter()
        .map(|article| {
            let entry = authored(committed, "articles", article.number);
            let evaluation = entry
                .and_then(|entry| entry.get("evaluation"))
                .map(|value| {
                    serde_json::from_value(value.clone())
                        .expect("evaluation is evaluated, evidenced or declarative")
                })
                .unwrap_or(Evaluation::Declarative);
            Article {
                number: article.number,
                chapter: Heading {
                    number: article.chapter.0,
                    title_ja: article.chapter.1.clone(),
                },
                section: article.section.as_ref().map(|(number, title)| Heading {
                    number: *number,
                    title_ja: title.clone(),
                }),
                title_ja: article.title_ja.clone(),
                title_en: text_field(entry, "title_en"),
                paragraphs: article
                    .paragraphs
                    .iter()
                    .map(|paragraph| Paragraph {
                        reference: format!("{}-{}", article.number, paragraph.number),
                        ref_ja: format!("第{}条第{}項", article.number, paragraph.number),
                        number: paragraph.number,
                        text_ja: paragraph.text_ja.clone(),
                        items: paragraph
                            .items
                            .iter()
                            .map(|(number, text)| Item {
                                reference: format!(
                                    "{}-{}-{number}",
                                    article.number, paragraph.number
                                ),
                                ref_ja: format!(
                                    "第{}条第{}項第{number}号",
                                    article.number, paragraph.number
                                ),
                                number: *number,
                                text_ja: text.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
                roles: list_field(entry, "roles"),
                evaluation,
                event_types: list_field(entry, "event_types"),
            }
        })
        .collect()
}

pub fn expected_chapters(parsed: &Regulation, committed: &Value) -> Vec<Chapter> {
    parsed
        .chapters
        .iter()
        .map(|chapter| {
            let entry = authored(committed, "chapters", chapter.number);
            Chapter {
                number: chapter.number,
                title_ja: chapter.title_ja.clone(),
                title_en: text_field(entry, "title_en"),
                sections: chapter
                    .sections
                    .iter()
                    .map(|(number, title)| {
                        let section = entry
                            .and_then(|entry| entry.get("sections"))
                            .and_then(Value::as_array)
                            .and_then(|sections| {
                                sections.iter().find(|s| {
                                    s.get("number").and_then(Value::as_u64)
                                        == Some(u64::from(*number))
                                })
                            });
                        Section {
                            number: *number,
                            title_ja: title.clone(),
                            title_en: text_field(section, "title_en"),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct ArticlesFile<'a> {
    articles: &'a [Article],
}

#[derive(Serialize)]
struct ChaptersFile<'a> {
    chapters: &'a [Chapter],
}

fn pretty<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("catalogue types serialise");
    text.push('\n');
    text
}

pub fn write_articles(articles: &[Article]) {
    std::fs::write(
        schemas_dir().join("articles.json"),
        pretty(&ArticlesFile { articles }),
    )
    .expect("schemas/ is writable");
}

pub fn write_chapters(chapters: &[Chapter]) {
    std::fs::write(
        schemas_dir().join("chapters.json"),
        pretty(&ChaptersFile { chapters }),
    )
    .expect("schemas/ is writable");
}
