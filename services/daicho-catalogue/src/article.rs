//! Chapters, sections and articles (`chapters.json`, `articles.json`).

use serde::{Deserialize, Serialize};

/// A chapter (章) of the regulation with its sections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chapter {
    /// The chapter number, from 1.
    pub number: u32,
    /// The Japanese title as printed.
    pub title_ja: String,
    /// An English title.
    pub title_en: String,
    /// The sections (節) of the chapter in order; empty where the chapter has none.
    pub sections: Vec<Section>,
}

/// A section (節) of a chapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The section number within its chapter, from 1.
    pub number: u32,
    /// The Japanese title as printed.
    pub title_ja: String,
    /// An English title.
    pub title_en: String,
}

/// The number and Japanese title of the chapter or section an article sits in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heading {
    /// The chapter or section number.
    pub number: u32,
    /// The Japanese title as printed.
    pub title_ja: String,
}

/// One article (条) of the regulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    /// The article number; articles are numbered 1, 2, 3… without gaps.
    pub number: u32,
    /// The chapter the article sits in.
    pub chapter: Heading,
    /// The section the article sits in, or `None` in a chapter without sections.
    pub section: Option<Heading>,
    /// The Japanese title exactly as printed beside 第N条.
    pub title_ja: String,
    /// An English title.
    pub title_en: String,
    /// The paragraphs (項) in order; the first is the unnumbered opening paragraph.
    pub paragraphs: Vec<Paragraph>,
    /// The ids of the roles the article binds or empowers.
    pub roles: Vec<String>,
    /// How the article is evaluated in the compliance report.
    pub evaluation: Evaluation,
    /// The event types that bear on the article.
    pub event_types: Vec<String>,
}

/// A paragraph (項) of an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paragraph {
    /// A machine reference, `{article}-{paragraph}`, e.g. `37-1`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The Japanese citation, e.g. `第37条第1項`.
    pub ref_ja: String,
    /// The paragraph number, from 1.
    pub number: u32,
    /// The Japanese text of the paragraph (without its items).
    pub text_ja: String,
    /// The items (号) of the paragraph in order; often empty.
    pub items: Vec<Item>,
}

/// An item (号) of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// A machine reference, `{article}-{paragraph}-{item}`, e.g. `37-3-2`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The Japanese citation, e.g. `第37条第3項第2号`.
    pub ref_ja: String,
    /// The item number, from 1.
    pub number: u32,
    /// The Japanese text of the item.
    pub text_ja: String,
}

/// How the compliance report treats an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evaluation {
    /// Rules over events decide whether the article was complied with.
    Evaluated,
    /// Events record that the obligation was carried out; the report checks
    /// their presence and cadence.
    Evidenced,
    /// Purpose, definitions, scope or delegation: shown in the report, with
    /// nothing to evaluate.
    Declarative,
}
