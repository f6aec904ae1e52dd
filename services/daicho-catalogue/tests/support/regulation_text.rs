//! Reads the structure of the regulation out of its plain-text transcription
//! (`tests/regulation/kameoka-security-standard.ja.txt`): chapters,
//! sections, article titles, paragraphs (項) and items (号).
//!
//! The tests use it twice: to check that `schemas/articles.json` and
//! `schemas/chapters.json` still say what the text says, and, with
//! `DAICHO_REGENERATE_ARTICLES=1`, to rewrite their structural fields.
//!
//! The transcription came from a paged document, so a sentence can be split
//! across a page break (a blank line in the middle of a sentence). A line
//! that is neither a heading nor a 項/号 marker therefore continues the text
//! before it. Two page breaks also repeated a character; those are listed in
//! [`CORRECTIONS`] and mirrored in `regulation.json`'s `transcription_notes`.

use std::path::PathBuf;

/// The repository's copy of the regulation text, relative to the
/// repository's root; `tests/regulation/README.md` says where it comes from.
pub const REGULATION_COPY: &str = "tests/regulation/kameoka-security-standard.ja.txt";

/// The original the copy is kept identical to, relative to `../shared`
/// beside the repository.
pub const REGULATION_ORIGINAL: &str = "regulation/kameoka-security-standard.ja.txt";

/// Reads the repository's copy of the regulation text.
pub fn read_regulation_text() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(REGULATION_COPY);
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "the regulation text is needed to check the catalogue against it, but it could not be read at {} ({error})",
            path.display()
        )
    })
}

/// A correction to the transcription: (article, paragraph, original, corrected, reason).
pub type Correction = (u32, u32, &'static str, &'static str, &'static str);

/// Characters a page break repeated in the transcription. Each must apply
/// exactly once, so that a corrected transcription makes the test fail and
/// the entry is removed rather than left to rot.
pub const CORRECTIONS: &[Correction] = &[
    (
        18,
        3,
        "によりネネットワーク管理者",
        "によりネットワーク管理者",
        "A page break in the transcription repeated the character ネ.",
    ),
    (
        53,
        2,
        "活用しななければならない",
        "活用しなければならない",
        "A page break in the transcription repeated the character な.",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    pub number: u32,
    pub title_ja: String,
    pub sections: Vec<(u32, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub number: u32,
    pub chapter: (u32, String),
    pub section: Option<(u32, String)>,
    pub title_ja: String,
    pub paragraphs: Vec<Paragraph>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub number: u32,
    pub text_ja: String,
    pub items: Vec<(u32, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regulation {
    pub chapters: Vec<Chapter>,
    pub articles: Vec<Article>,
    /// Article titles as the table of contents (目次) gives them, by number.
    pub contents_titles: Vec<(u32, String)>,
}

/// Parses `第 N X title`, tolerating spaces inside the number (`第 8 6 条`)
/// and full-width digits; returns the number and the title.
fn heading(line: &str, marker: char) -> Option<(u32, String)> {
    let rest = line.strip_prefix('第')?;
    let mut digits = String::new();
    for (index, c) in rest.char_indices() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if ('０'..='９').contains(&c) {
            digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8));
        } else if c.is_whitespace() {
            continue;
        } else if c == marker && !digits.is_empty() {
            let title = rest[index + c.len_utf8()..].trim();
            return Some((digits.parse().ok()?, title.to_owned()));
        } else {
            return None;
        }
    }
    None
}

/// Parses a marker line standing alone, `第N項` or `第N号`.
fn marker(line: &str, marker: char) -> Option<u32> {
    heading(line, marker)
        .filter(|(_, rest)| rest.is_empty())
        .map(|(number, _)| number)
}

/// A table-of-contents line ends with a page number; the title is what comes before it.
fn strip_page_number(title: &str) -> Option<String> {
    let trimmed = title.trim_end();
    let without = trimmed.trim_end_matches(|c: char| c.is_ascii_digit());
    (without.len() < trimmed.len() && without.ends_with(char::is_whitespace))
        .then(|| without.trim().to_owned())
}

pub fn parse(text: &str) -> Regulation {
    // Headings the transcription set in bold sit on the line of the heading
    // before them (`第2節 …**第47条 …**`); splitting at `**` restores one
    // heading per line.
    let lines: Vec<String> = text
        .lines()
        .flat_map(|line| {
            line.split("**")
                .map(str::trim)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|line| !line.is_empty())
        .collect();

    // The body starts at the first chapter-1 heading that carries no page number.
    let body_start = lines
        .iter()
        .position(|line| {
            heading(line, '章')
                .is_some_and(|(n, title)| n == 1 && strip_page_number(&title).is_none())
        })
        .expect("the regulation text has a body starting with 第1章");
    let contents_titles = lines[..body_start]
        .iter()
        .filter_map(|line| heading(line, '条'))
        .map(|(number, title)| {
            let title = strip_page_number(&title).unwrap_or_else(|| {
                panic!("table of contents line for 第{number}条 has no page number: {title:?}")
            });
            (number, title)
        })
        .collect();

    let mut chapters: Vec<Chapter> = Vec::new();
    let mut articles: Vec<Article> = Vec::new();
    for (offset, line) in lines[body_start..].iter().enumerate() {
        let line_no = body_start + offset;
        let next_chapter = chapters.len() as u32 + 1;
        if let Some((number, title)) = heading(line, '章').filter(|(n, _)| *n == next_chapter) {
            chapters.push(Chapter {
                number,
                title_ja: title,
                sections: Vec::new(),
            });
            continue;
        }
        if let Some(chapter) = chapters.last_mut() {
            let next_section = chapter.sections.len() as u32 + 1;
            if let Some((number, title)) = heading(line, '節').filter(|(n, _)| *n == next_section)
            {
                chapter.sections.push((number, title));
                continue;
            }
        }
        let next_article = articles.len() as u32 + 1;
        if let Some((number, title)) = heading(line, '条').filter(|(n, _)| *n == next_article) {
            let chapter = chapters
                .last()
                .unwrap_or_else(|| panic!("第{number}条 comes before any chapter"));
            articles.push(Article {
                number,
                chapter: (chapter.number, chapter.title_ja.clone()),
                section: chapter.sections.last().cloned(),
                title_ja: title,
                paragraphs: vec![Paragraph {
                    number: 1,
                    text_ja: String::new(),
                    items: Vec::new(),
                }],
            });
            continue;
        }
        let article = articles
            .last_mut()
            .unwrap_or_else(|| panic!("line {line_no} ({line:?}) comes before the first article"));
        let paragraph_count = article.paragraphs.len() as u32;
        if marker(line, '項') == Some(paragraph_count + 1) {
            article.paragraphs.push(Paragraph {
                number: paragraph_count + 1,
                text_ja: String::new(),
                items: Vec::new(),
            });
            continue;
        }
        let paragraph = article
            .paragraphs
            .last_mut()
            .expect("an article starts with its first paragraph");
        let item_count = paragraph.items.len() as u32;
        if marker(line, '号') == Some(item_count + 1) {
            paragraph.items.push((item_count + 1, String::new()));
            continue;
        }
        // Anything else is text: it belongs to the last item if the
        // paragraph has reached its items, else to the paragraph, and
        // continues whatever text is already there.
        match paragraph.items.last_mut() {
            Some((_, text)) => text.push_str(line),
            None => paragraph.text_ja.push_str(line),
        }
    }

    for (article_number, paragraph_number, original, corrected, _) in CORRECTIONS {
        let paragraph = articles
            .get_mut(*article_number as usize - 1)
            .and_then(|article| article.paragraphs.get_mut(*paragraph_number as usize - 1))
            .unwrap_or_else(|| panic!("correction for 第{article_number}条第{paragraph_number}項 names a paragraph the text lacks"));
        assert_eq!(
            paragraph.text_ja.matches(original).count(),
            1,
            "the correction {original:?} → {corrected:?} no longer applies exactly once to 第{article_number}条第{paragraph_number}項; \
             if the transcription was fixed, remove it from CORRECTIONS and from regulation.json's transcription_notes"
        );
        paragraph.text_ja = paragraph.text_ja.replace(original, corrected);
    }

    for article in &articles {
        for paragraph in &article.paragraphs {
            assert!(
                !paragraph.text_ja.is_empty(),
                "第{}条第{}項 has no text: the parser lost track of the structure",
                article.number,
                paragraph.number
            );
        }
    }
    Regulation {
        chapters,
        articles,
        contents_titles,
    }
}
