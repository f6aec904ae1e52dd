//! The workbook: a summary, the articles, the findings, one sheet per
//! register, the thresholds, and the verification anchor.

use daicho_report::{Lang, Report};
use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};

use crate::tables::{self, Cell, Table};
use crate::{read, ymd, OfficeError};

/// The font every cell is set in; a name only, nothing is embedded, and a
/// reader without it gets the application's substitute.
const FONT: &str = "BIZ UDGothic";

/// The widest a column grows before its text wraps.
const MAX_WIDTH: f64 = 60.0;

struct Formats {
    title: Format,
    heading: Format,
    header: Format,
    text: Format,
    wrap: Format,
    number: Format,
    date: Format,
    number_left: Format,
    date_left: Format,
    label: Format,
}

impl Formats {
    fn new() -> Formats {
        let base = Format::new()
            .set_font_name(FONT)
            .set_font_size(10)
            .set_align(FormatAlign::Top);
        Formats {
            title: base.clone().set_bold().set_font_size(14),
            heading: base.clone().set_bold().set_font_size(11),
            header: base
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_background_color(Color::RGB(0xDDE4EE))
                .set_border(FormatBorder::Thin),
            text: base.clone(),
            wrap: base.clone().set_text_wrap(),
            number: base.clone().set_num_format("0"),
            date: base.clone().set_num_format("yyyy-mm-dd"),
            number_left: base
                .clone()
                .set_num_format("0")
                .set_align(FormatAlign::Left),
            date_left: base
                .clone()
                .set_num_format("yyyy-mm-dd")
                .set_align(FormatAlign::Left),
            label: base.set_bold().set_background_color(Color::RGB(0xF2F2F2)),
        }
    }
}

/// How wide text looks in a cell: full-width characters take two columns.
fn display_width(s: &str) -> usize {
    s.lines()
        .map(|line| {
            line.chars()
                .map(|c| if (c as u32) < 0x1100 { 1 } else { 2 })
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
}

/// The height of one line of 10-point text, in points.
const ROW_HEIGHT: f64 = 13.5;

/// How many lines text takes in a column `width` characters wide.
fn wrapped_lines(s: &str, width: f64) -> usize {
    s.lines()
        .map(|line| ((display_width(line) as f64 / width).ceil() as usize).max(1))
        .sum::<usize>()
        .max(1)
}

fn date_of(s: &str) -> Result<ExcelDateTime, OfficeError> {
    let (y, m, d) = ymd(s)?;
    Ok(ExcelDateTime::from_ymd(y, m, d)?)
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    wrap: bool,
    f: &Formats,
) -> Result<(), OfficeError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(s) => {
            sheet.write_string_with_format(row, col, s, if wrap { &f.wrap } else { &f.text })?;
        }
        // Counts and entry numbers stay far inside f64's exact range.
        Cell::Number(n) => {
            sheet.write_number_with_format(row, col, *n as f64, &f.number)?;
        }
        Cell::Date(s) => {
            sheet.write_datetime_with_format(row, col, date_of(s)?, &f.date)?;
        }
    }
    Ok(())
}

/// Writes a table with its header at `top`: frozen and filtered when it is
/// the sheet's only table, columns as wide as their content up to
/// [`MAX_WIDTH`], wider text wrapped. Returns the row after the table.
fn write_table(
    sheet: &mut Worksheet,
    top: u32,
    table: &Table,
    main: bool,
    f: &Formats,
) -> Result<u32, OfficeError> {
    let mut widths: Vec<usize> = table.headers.iter().map(|h| display_width(h)).collect();
    for row in &table.rows {
        for (i, cell) in row.iter().enumerate() {
            let w = match cell {
                Cell::Date(_) => 10,
                other => display_width(&other.display()),
            };
            if let Some(slot) = widths.get_mut(i) {
                *slot = (*slot).max(w);
            }
        }
    }
    for (i, h) in table.headers.iter().enumerate() {
        let col = u16::try_from(i).map_err(|_| OfficeError::Content("too many columns".into()))?;
        sheet.write_string_with_format(top, col, h, &f.header)?;
        if main {
            let width = (widths[i] as f64 + 2.0).clamp(6.0, MAX_WIDTH);
            sheet.set_column_width(col, width)?;
        }
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r =
            top + 1 + u32::try_from(r).map_err(|_| OfficeError::Content("too many rows".into()))?;
        let mut lines = 1;
        for (i, cell) in row.iter().enumerate() {
            let wrap = widths.get(i).is_some_and(|w| *w as f64 + 2.0 > MAX_WIDTH);
            write_cell(sheet, r, i as u16, cell, wrap, f)?;
            if let (true, Cell::Text(s)) = (wrap, cell) {
                lines = lines.max(wrapped_lines(s, MAX_WIDTH - 2.0));
            }
        }
        // Neither Excel nor LibreOffice grows a row for wrapped text when it
        // opens a file, so the row is given the height its text needs.
        if lines > 1 {
            sheet.set_row_height(r, ROW_HEIGHT * lines as f64)?;
        }
    }
    let last_row = top + table.rows.len() as u32;
    if main {
        sheet.set_freeze_panes(top + 1, 0)?;
        sheet.set_repeat_rows(top, top)?;
        let last_col = table.headers.len().saturating_sub(1) as u16;
        sheet.autofilter(top, 0, last_row, last_col)?;
    }
    Ok(last_row + 1)
}

/// Prints on A4 landscape, one page wide, so that a printed sheet (or a
/// PDF made from it) keeps each row on one page.
fn print_setup(sheet: &mut Worksheet) {
    sheet.set_paper_size(9);
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
}

/// Makes a register's title a sheet name Excel accepts: no `[]:*?/\`, at
/// most 31 characters, and unlike every name already taken (Excel compares
/// sheet names without regard to case).
fn sheet_name(title: &str, taken: &[String]) -> String {
    let clean: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').trim().to_owned();
    let base: String = clean.chars().take(31).collect();
    let is_taken = |name: &str| {
        taken
            .iter()
            .any(|t| t.to_lowercase() == name.to_lowercase())
    };
    if !base.is_empty() && !is_taken(&base) {
        return base;
    }
    (2..)
        .map(|n| {
            let suffix = format!("~{n}");
            let stem: String = clean.chars().take(31 - suffix.chars().count()).collect();
            format!("{stem}{suffix}")
        })
        .find(|name| !is_taken(name))
        .unwrap_or_default()
}

fn key_values(
    sheet: &mut Worksheet,
    top: u32,
    rows: &[(String, Cell)],
    f: &Formats,
) -> Result<u32, OfficeError> {
    for (i, (k, v)) in rows.iter().enumerate() {
        let r = top + i as u32;
        sheet.write_string_with_format(r, 0, k, &f.label)?;
        // A value beside its label reads left to right, whatever its type.
        match v {
            Cell::Number(n) => {
                sheet.write_number_with_format(r, 1, *n as f64, &f.number_left)?;
            }
            Cell::Date(d) => {
                sheet.write_datetime_with_format(r, 1, date_of(d)?, &f.date_left)?;
            }
            other => write_cell(sheet, r, 1, other, true, f)?,
        }
        if let Cell::Text(s) = v {
            let lines = s.lines().count().max(1) as f64;
            if lines > 1.0 || display_width(s) > 90 {
                let wrapped = (display_width(s) as f64 / 90.0).ceil().max(lines);
                sheet.set_row_height(r, 14.0 * wrapped)?;
            }
        }
    }
    Ok(top + rows.len() as u32)
}

fn summary_sheet(
    sheet: &mut Worksheet,
    report: &Report,
    lang: Lang,
    f: &Formats,
) -> Result<(), OfficeError> {
    let l = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    sheet.set_column_width(0, 26)?;
    sheet.set_column_width(1, 46)?;
    for col in 2..12 {
        sheet.set_column_width(col, 11)?;
    }
    sheet.write_string_with_format(
        0,
        0,
        lang.pick(&report.title_ja, &report.title_en),
        &f.title,
    )?;
    sheet.set_row_height(0, 22)?;
    let period = match lang {
        Lang::Ja => format!(
            "{}（{} ～ {}）",
            report.period.label_ja, report.period.from_ja, report.period.until_ja
        ),
        Lang::En => format!(
            "{} ({} to {})",
            report.period.label_en, report.period.from, report.period.until
        ),
    };
    let mut cover = vec![
        (
            l("宛先", "To"),
            Cell::Text(
                lang.pick(
                    &report.municipality.committee_ja,
                    &report.municipality.committee_en,
                )
                .to_owned(),
            ),
        ),
        (
            l("団体", "Municipality"),
            Cell::Text(
                lang.pick(&report.municipality.name_ja, &report.municipality.name_en)
                    .to_owned(),
            ),
        ),
    ];
    if let Some(s) = &report.municipality.secretariat_ja {
        cover.push((l("事務局", "Secretariat (Japanese)"), Cell::Text(s.clone())));
    }
    cover.extend([
        (
            l("対象規程", "Regulation"),
            Cell::Text(format!(
                "{}（{}）",
                lang.pick(&report.regulation.name_ja, &report.regulation.name_en),
                report.regulation.dated
            )),
        ),
        (l("対象期間", "Period"), Cell::Text(period)),
        (
            l("発行日", "Issued on"),
            Cell::Date(report.issued_on.clone()),
        ),
    ]);
    if lang == Lang::Ja {
        cover.push((
            l("発行日（和暦）", ""),
            Cell::Text(report.issued_on_ja.clone()),
        ));
    }
    if let Some(j) = &report.judged_until {
        cover.push((l("判定時点", "Judged until"), Cell::Text(j.clone())));
    }
    cover.push((
        l("対象記録", "Entries covered"),
        Cell::Text(match lang {
            Lang::Ja => format!("台帳の先頭{}件", report.anchor.tree_size),
            Lang::En => format!("the first {} ledger entries", report.anchor.tree_size),
        }),
    ));
    let mut row = key_values(sheet, 2, &cover, f)? + 1;

    sheet.write_string_with_format(row, 0, l("概要", "Summary"), &f.heading)?;
    row += 1;
    for sentence in match lang {
        Lang::Ja => &report.summary.plain_ja,
        Lang::En => &report.summary.plain_en,
    } {
        sheet.merge_range(row, 0, row, 8, sentence, &f.wrap)?;
        let lines = (display_width(sentence) as f64 / 150.0).ceil().max(1.0);
        sheet.set_row_height(row, 15.0 * lines)?;
        row += 1;
    }
    row += 1;

    // Articles per status, with the previous quarter beside when the ledger
    // holds it.
    let mut status = Table {
        name: String::new(),
        title: String::new(),
        headers: vec![l("状況", "Status"), l("条数", "Articles")],
        rows: Vec::new(),
    };
    if report.changes.comparable {
        status.headers.push(
            lang.pick(
                &report.changes.previous_label_ja,
                &report.changes.previous_label_en,
            )
            .to_owned(),
        );
    }
    for s in &report.summary.by_status {
        let mut r = vec![
            Cell::Text(lang.pick(&s.label_ja, &s.label_en).to_owned()),
            Cell::Number(s.count as i64),
        ];
        if report.changes.comparable {
            let prev = report
                .changes
                .previous_by_status
                .iter()
                .find(|p| p.status == s.status);
            r.push(prev.map_or(Cell::Empty, |p| Cell::Number(p.count as i64)));
        }
        status.rows.push(r);
    }
    sheet.write_string_with_format(row, 0, l("状況別の条数", "Articles by status"), &f.heading)?;
    row = write_table(sheet, row + 1, &status, false, f)? + 1;

    let s = &report.summary;
    let mut counts = vec![
        (l("指摘事項", "Findings"), Cell::Number(s.findings as i64)),
        (
            l("うち未解決", "of which open"),
            Cell::Number(s.open as i64),
        ),
        (
            l("うち解決済", "of which resolved"),
            Cell::Number(s.resolved as i64),
        ),
        (
            l("前期からの繰越し", "carried over"),
            Cell::Number(s.carried_over as i64),
        ),
        (
            l("繰越しのうち未解決", "carried over and open"),
            Cell::Number(s.carried_over_open as i64),
        ),
        (
            l("例外措置の対象", "under an exception"),
            Cell::Number(s.under_exception as i64),
        ),
    ];
    for sev in &s.by_severity {
        counts.push((
            match lang {
                Lang::Ja => format!("重大度 {}", sev.label_ja),
                Lang::En => format!("severity {}", sev.severity),
            },
            Cell::Number(sev.count as i64),
        ));
    }
    counts.push((
        l("期間中の記録", "Events in the quarter"),
        Cell::Number(s.events as i64),
    ));
    counts.push((
        l("うち遅延記録", "of which recorded late"),
        Cell::Number(s.late_entries as i64),
    ));
    sheet.write_string_with_format(
        row,
        0,
        l("指摘事項と記録の件数", "Findings and events"),
        &f.heading,
    )?;
    row = key_values(sheet, row + 1, &counts, f)? + 1;

    let mut chapters = Table {
        name: String::new(),
        title: String::new(),
        headers: vec![
            l("章", "Chapter"),
            l("見出し", "Title"),
            l("条", "Articles"),
        ],
        rows: Vec::new(),
    };
    for st in &report.summary.by_status {
        chapters
            .headers
            .push(lang.pick(&st.label_ja, &st.label_en).to_owned());
    }
    chapters.headers.push(l("指摘", "Findings"));
    chapters.headers.push(l("未解決", "Open"));
    for c in &report.chapters {
        let mut r = vec![
            Cell::Text(tables::chapter_label(lang, &c.label_ja, c.number)),
            Cell::Text(lang.pick(&c.title_ja, &c.title_en).to_owned()),
            Cell::Text(format!("{}–{}", c.articles[0], c.articles[1])),
        ];
        for st in &report.summary.by_status {
            let n = c
                .by_status
                .iter()
                .find(|b| b.status == st.status)
                .map_or(0, |b| b.count);
            r.push(Cell::Number(n as i64));
        }
        r.push(Cell::Number(c.findings as i64));
        r.push(Cell::Number(c.open as i64));
        chapters.rows.push(r);
    }
    sheet.write_string_with_format(row, 0, l("章別", "By chapter"), &f.heading)?;
    row += 1;
    for (i, h) in chapters.headers.iter().enumerate() {
        sheet.write_string_with_format(row, i as u16, h, &f.header)?;
    }
    sheet.set_row_height(row, 42)?;
    for (i, r) in chapters.rows.iter().enumerate() {
        for (j, cell) in r.iter().enumerate() {
            write_cell(sheet, row + 1 + i as u32, j as u16, cell, j == 1, f)?;
        }
    }
    row += chapters.rows.len() as u32 + 2;

    if !report.changes.articles.is_empty() {
        sheet.write_string_with_format(
            row,
            0,
            match lang {
                Lang::Ja => format!("{}からの変化", report.changes.previous_label_ja),
                Lang::En => format!("Changes since {}", report.changes.previous_label_en),
            },
            &f.heading,
        )?;
        row += 1;
        for c in &report.changes.articles {
            let line = match lang {
                Lang::Ja => format!("{} {}：{} → {}", c.label_ja, c.title_ja, c.from_ja, c.to_ja),
                Lang::En => format!(
                    "Article {}: {} → {} ({})",
                    c.article, c.from, c.to, c.direction
                ),
            };
            sheet.merge_range(row, 0, row, 8, &line, &f.text)?;
            row += 1;
        }
    }
    Ok(())
}

fn verification_sheet(
    sheet: &mut Worksheet,
    report: &Report,
    json: &[u8],
    lang: Lang,
    f: &Formats,
) -> Result<(), OfficeError> {
    let l = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(1, 100)?;
    sheet.write_string_with_format(0, 0, l("検証", "Verification"), &f.title)?;
    let a = &report.anchor;
    let rows = vec![
        (l("正本", "Original"), Cell::Text(report.file_name("json"))),
        (l("正本の SHA-256", "SHA-256 of the original"), Cell::Text(daicho_report::sha256_hex(json))),
        (l("台帳（origin）", "Ledger (origin)"), Cell::Text(a.origin.clone())),
        (l("対象記録数（tree size）", "Tree size"), Cell::Number(a.tree_size as i64)),
        (l("ルートハッシュ", "Root hash"), Cell::Text(a.root.clone())),
        (l("最終記録日時（UTC）", "Last entry recorded at (UTC)"), Cell::Text(a.last_recorded_at.clone())),
        (l("チェックポイント", "Checkpoint"), Cell::Text(a.checkpoint.trim_end().to_owned())),
        (l("検証コマンド", "Command"), Cell::Text(report.verification.command.clone())),
        (
            l("説明", "What it checks"),
            Cell::Text(lang.pick(&report.verification.explanation_ja, &report.verification.explanation_en).to_owned()),
        ),
        (
            l("注記", "Note"),
            Cell::Text(l(
                "台帳に記録された正本は JSON であり、このブックはその写しである。",
                "The original anchored in the ledger is the JSON; this workbook is a reading of it.",
            )),
        ),
    ];
    key_values(sheet, 2, &rows, f)?;
    Ok(())
}

/// The report as an XLSX workbook in `lang`.
pub fn xlsx(json: &[u8], lang: Lang) -> Result<Vec<u8>, OfficeError> {
    let report = read(json)?;
    let f = Formats::new();
    let l = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    let mut workbook = Workbook::new();
    let (y, m, d) = ymd(&report.issued_on)?;
    // The creation date is the day of issue: without it the writer stamps
    // the current time and no two renderings would be the same bytes.
    let created = ExcelDateTime::from_ymd(y, m, d)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(lang.pick(&report.title_ja, &report.title_en))
            .set_subject(lang.pick(&report.period.label_ja, &report.period.label_en))
            .set_author(lang.pick(&report.municipality.name_ja, &report.municipality.name_en))
            .set_company(lang.pick(&report.municipality.name_ja, &report.municipality.name_en))
            .set_comment(format!("SHA-256 {}", daicho_report::sha256_hex(json)))
            .set_creation_datetime(&created),
    );

    let fixed = [
        l("概要", "Summary"),
        l("条文別", "Articles"),
        l("指摘事項", "Findings"),
        l("しきい値", "Thresholds"),
        l("検証", "Verification"),
    ];
    let mut taken: Vec<String> = fixed.to_vec();

    let sheet = workbook.add_worksheet().set_name(&fixed[0])?;
    print_setup(sheet);
    summary_sheet(sheet, &report, lang, &f)?;

    let sheet = workbook.add_worksheet().set_name(&fixed[1])?;
    print_setup(sheet);
    write_table(sheet, 0, &tables::articles(&report, lang), true, &f)?;

    let sheet = workbook.add_worksheet().set_name(&fixed[2])?;
    print_setup(sheet);
    write_table(sheet, 0, &tables::findings(&report, lang), true, &f)?;

    for register in &report.registers {
        let table = tables::register(register, lang);
        let name = sheet_name(&table.title, &taken);
        taken.push(name.clone());
        let sheet = workbook.add_worksheet().set_name(&name)?;
        print_setup(sheet);
        write_table(sheet, 0, &table, true, &f)?;
    }

    let sheet = workbook.add_worksheet().set_name(&fixed[3])?;
    print_setup(sheet);
    let next = write_table(sheet, 0, &tables::thresholds(&report, lang), true, &f)?;
    let days = tables::non_business_days(&report, lang);
    sheet.write_string_with_format(next + 1, 0, &days.title, &f.heading)?;
    write_table(sheet, next + 2, &days, false, &f)?;

    let sheet = workbook.add_worksheet().set_name(&fixed[4])?;
    print_setup(sheet);
    verification_sheet(sheet, &report, json, lang, &f)?;

    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::sheet_name;

    #[test]
    fn sheet_names_are_short_clean_and_unique() {
        let taken = vec!["Summary".to_owned()];
        assert_eq!(sheet_name("summary", &taken), "summary~2");
        let long = "USB memory and asset carry-outs (form 13)";
        let name = sheet_name(long, &taken);
        assert_eq!(name.chars().count(), 31);
        let taken = vec![name.clone()];
        let second = sheet_name(long, &taken);
        assert_ne!(second, name);
        assert!(second.chars().count() <= 31);
        assert_eq!(sheet_name("a/b:c", &[]), "a_b_c");
    }
}
