//! The chart of a chapter: one horizontal bar, its articles stacked by
//! status, drawn as inline SVG so that the file needs nothing else.
//!
//! Colour is never the only carrier: every segment wide enough carries its
//! count, the legend names each colour, the SVG's `<title>` and `<desc>`
//! say the same in words, and the words follow the bar as text.

use daicho_report::model::{ChapterRow, StatusCount};
use daicho_report::Lang;
use maud::{html, Markup};

use crate::labels;

/// The drawing's width in SVG units; the bar scales to the page.
const WIDTH: u64 = 600;
/// The bar's height in SVG units.
const HEIGHT: u64 = 28;
/// A segment narrower than this carries no count inside it; the words
/// under the bar still give it.
const LABELLED_WIDTH: u64 = 22;

/// The fill and the colour of the count drawn on it, per status.
pub(crate) fn fill(status: &str) -> (&'static str, &'static str) {
    match status {
        "compliant" => ("#3f8a54", "#ffffff"),
        "non_compliant" => ("#c0392b", "#ffffff"),
        "compliant_by_exception" => ("#4f78b8", "#ffffff"),
        "no_records" => ("#a9a9a9", "#000000"),
        "evidenced" => ("#77c2b3", "#000000"),
        "evidence_missing" => ("#e3a33a", "#000000"),
        _ => ("#e4e4e4", "#000000"),
    }
}

/// A status's name in the report's language.
pub(crate) fn status_name(lang: Lang, s: &StatusCount) -> &str {
    lang.pick(&s.label_ja, &s.label_en)
}

/// The counts in words: `適合 4、不適合 4` or `compliant 4, non-compliant 4`.
fn in_words(lang: Lang, by_status: &[StatusCount]) -> String {
    let parts: Vec<String> = by_status
        .iter()
        .filter(|s| s.count > 0)
        .map(|s| format!("{} {}", status_name(lang, s), s.count))
        .collect();
    parts.join(lang.pick("、", ", "))
}

/// The legend shared by every chapter's bar.
pub(crate) fn legend(lang: Lang, by_status: &[StatusCount]) -> Markup {
    html! {
        ul.legend aria-label=(labels::t(lang, "凡例", "Legend")) {
            @for s in by_status {
                li {
                    svg.swatch width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" {
                        rect x="0.5" y="0.5" width="13" height="13" fill=(fill(&s.status).0) stroke="#555555" {}
                    }
                    " " (status_name(lang, s))
                }
            }
        }
    }
}

/// One chapter's bar, with its caption and its counts in words.
pub(crate) fn chapter_bar(lang: Lang, chapter: &ChapterRow) -> Markup {
    let total: u64 = chapter.by_status.iter().map(|s| s.count).sum();
    let name = labels::chapter(lang, chapter.number, &chapter.label_ja);
    let title = lang.pick(&chapter.title_ja, &chapter.title_en);
    let words = in_words(lang, &chapter.by_status);
    let id = format!("chart-ch{}", chapter.number);
    let mut segments = Vec::new();
    let mut before = 0u64;
    for s in chapter.by_status.iter().filter(|s| s.count > 0) {
        // Integer edges: the same counts always give the same drawing.
        let x0 = before * WIDTH / total.max(1);
        before += s.count;
        let x1 = before * WIDTH / total.max(1);
        segments.push((s, x0, x1 - x0));
    }
    html! {
        figure.chart {
            figcaption {
                span.chapter-label { (name) } " " (title)
                span.chapter-range {
                    " ("
                    (labels::article(lang, chapter.articles[0], &format!("第{}条", chapter.articles[0])))
                    "–"
                    (labels::article(lang, chapter.articles[1], &format!("第{}条", chapter.articles[1])))
                    ")"
                }
            }
            div.bar-box {
            svg.bar viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) preserveAspectRatio="none"
                role="img" aria-labelledby=(format!("{id}-t {id}-d")) {
                title id=(format!("{id}-t")) { (name) " " (title) }
                desc id=(format!("{id}-d")) { (words) }
                @for (s, x, w) in &segments {
                    rect x=(x) y="0" width=(w) height=(HEIGHT) fill=(fill(&s.status).0)
                        stroke="#ffffff" stroke-width="1" {}
                }
            }
            // The counts sit in HTML over the bar, so that they keep their
            // shape however the bar is stretched.
            div.bar-counts aria-hidden="true" {
                @for (s, x, w) in &segments {
                    @if *w >= LABELLED_WIDTH {
                        span style=(format!("left:{:.2}%;width:{:.2}%;color:{}",
                            *x as f64 * 100.0 / WIDTH as f64, *w as f64 * 100.0 / WIDTH as f64, fill(&s.status).1)) {
                            (s.count)
                        }
                    }
                }
            }
            }
            p.chart-words {
                (words)
                span.chart-findings {
                    " / " (labels::t(lang, "指摘", "findings")) " " (chapter.findings)
                    " (" (labels::t(lang, "未解決", "open")) " " (chapter.open) ")"
                }
            }
        }
    }
}
