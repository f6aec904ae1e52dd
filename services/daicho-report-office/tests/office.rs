//! The office renderings of the golden quarter, read back with independent
//! readers: calamine for the workbook, the csv crate for the tables, the
//! zip archive's XML for the Word document.

use std::io::{Cursor, Read};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use daicho_report::Report;
use daicho_report_office::{csv_table, csv_zip, docx, xlsx, Lang};

fn golden() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/report-R08-Q1.json"
    );
    std::fs::read(path).expect("the golden report")
}

fn report() -> Report {
    Report::from_json(&golden()).expect("a report")
}

fn zip_entry(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let mut entry = archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} in the zip"));
    let mut out = String::new();
    entry.read_to_string(&mut out).expect("UTF-8");
    out
}

fn zip_names(bytes: &[u8]) -> Vec<String> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    archive.file_names().map(str::to_owned).collect()
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The text of a WordprocessingML part: the contents of its `<w:t>`
/// elements, unescaped, one element per line.
fn word_text(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<w:t") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        if !after[..open_end].ends_with('/')
            && (after.as_bytes()[4] == b'>' || after.as_bytes()[4] == b' ')
        {
            let body = &after[open_end + 1..];
            let close = body.find("</w:t>").expect("closed w:t");
            out.push_str(&xml_unescape(&body[..close]));
            out.push('\n');
        }
        rest = &after[open_end..];
    }
    out
}

fn workbook(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx calamine reads")
}

#[test]
fn articles_sheet_holds_every_article_with_its_number_and_title() {
    let report = report();
    let mut wb = workbook(xlsx(&golden(), Lang::Ja).unwrap());
    let range = wb.worksheet_range("条文別").expect("the articles sheet");
    let rows: Vec<_> = range.rows().collect();
    assert_eq!(rows.len(), 1 + 87, "a header row and 87 articles");
    assert_eq!(rows[0][0], Data::String("条番号".into()));
    for (row, article) in rows[1..].iter().zip(&report.articles) {
        assert_eq!(
            row[0],
            Data::Float(f64::from(article.number)),
            "numbers are numbers"
        );
        assert_eq!(row[2], Data::String(article.title_ja.clone()));
        assert_eq!(row[5], Data::String(article.status_ja.clone()));
    }
}

#[test]
fn findings_sheet_carries_each_findings_reference() {
    let report = report();
    let mut wb = workbook(xlsx(&golden(), Lang::Ja).unwrap());
    let range = wb.worksheet_range("指摘事項").expect("the findings sheet");
    assert_eq!(range.rows().count(), 1 + report.findings.len());
    let first = range.rows().nth(1).unwrap();
    assert_eq!(first[0], Data::String(report.findings[0].id.clone()));
    assert_eq!(first[2], Data::String(report.findings[0].ref_ja.clone()));
    assert!(
        matches!(first[9], Data::DateTime(_)),
        "detected_on is a date: {:?}",
        first[9]
    );
}

#[test]
fn every_register_has_a_sheet_and_its_dates_are_dates() {
    let report = report();
    let mut wb = workbook(xlsx(&golden(), Lang::Ja).unwrap());
    let names = wb.sheet_names();
    assert_eq!(names.len(), 5 + report.registers.len());
    for register in &report.registers {
        let name = names
            .iter()
            .find(|n| register.title_ja.starts_with(n.as_str()))
            .unwrap_or_else(|| panic!("a sheet for {}", register.id))
            .clone();
        let range = wb.worksheet_range(&name).unwrap();
        assert_eq!(range.rows().count(), 1 + register.rows.len(), "{name}");
        for (c, column) in register.columns.iter().enumerate() {
            for (r, row) in register.rows.iter().enumerate() {
                let cell = range.get((r + 1, c)).unwrap();
                match (&row[c], column.kind.as_str()) {
                    (serde_json::Value::String(s), "date") => {
                        let Data::DateTime(d) = cell else {
                            panic!("{name} {} row {r}: {cell:?} is not a date", column.key)
                        };
                        assert_eq!(d.as_datetime().unwrap().date().to_string(), *s);
                    }
                    (serde_json::Value::Number(n), _) => {
                        assert_eq!(*cell, Data::Float(n.as_f64().unwrap()));
                    }
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn register_sheet_names_fit_excel_and_are_unique_in_english() {
    let report = report();
    let mut wb = workbook(xlsx(&golden(), Lang::En).unwrap());
    let names = wb.sheet_names();
    assert_eq!(&names[..3], ["Summary", "Articles", "Findings"]);
    assert_eq!(names.len(), 5 + report.registers.len());
    let mut lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    lower.sort();
    lower.dedup();
    assert_eq!(lower.len(), names.len(), "unique: {names:?}");
    assert!(names.iter().all(|n| n.chars().count() <= 31), "{names:?}");
    let header = wb.worksheet_range("Articles").unwrap();
    assert_eq!(header.get((0, 2)), Some(&Data::String("Title".into())));
    assert_eq!(
        header.get((1, 2)),
        Some(&Data::String(report.articles[0].title_en.clone()))
    );
}

#[test]
fn table_sheets_freeze_and_filter_their_header_row() {
    let bytes = xlsx(&golden(), Lang::Ja).unwrap();
    let report = report();
    // Sheets 2 (articles), 3 (findings) and one per register are tables.
    for n in 2..(4 + report.registers.len()) {
        let xml = zip_entry(&bytes, &format!("xl/worksheets/sheet{n}.xml"));
        assert!(
            xml.contains(
                r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
            ),
            "sheet{n} freezes its header row"
        );
        assert!(
            xml.contains("<autoFilter ref=\"A1:"),
            "sheet{n} filters its header row"
        );
    }
}

#[test]
fn workbook_is_dated_the_day_of_issue() {
    let bytes = xlsx(&golden(), Lang::Ja).unwrap();
    let core = zip_entry(&bytes, "docProps/core.xml");
    assert!(
        core.contains(">2026-06-30T00:00:00Z</dcterms:created>"),
        "{core}"
    );
    assert!(core.contains("<dc:title>情報セキュリティ対策基準 遵守状況報告書</dc:title>"));
}

#[test]
fn verification_sheet_names_the_jsons_sha256() {
    let json = golden();
    let mut wb = workbook(xlsx(&json, Lang::Ja).unwrap());
    let range = wb.worksheet_range("検証").unwrap();
    let sha = daicho_report::sha256_hex(&json);
    assert!(range
        .cells()
        .any(|(_, _, c)| *c == Data::String(sha.clone())));
    let checkpoint = report().anchor.checkpoint.trim_end().to_owned();
    assert!(range
        .cells()
        .any(|(_, _, c)| *c == Data::String(checkpoint.clone())));
}

fn check_csv_shape(bytes: &[u8]) -> Vec<csv::StringRecord> {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a byte order mark");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(text.ends_with("\r\n"));
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "every line ends in CRLF"
    );
    csv::Reader::from_reader(&bytes[3..])
        .records()
        .collect::<Result<_, _>>()
        .expect("CSV the csv crate parses")
}

#[test]
fn articles_csv_has_a_bom_crlf_and_87_records() {
    let report = report();
    let bytes = csv_table(&golden(), Lang::Ja, "articles").unwrap();
    let records = check_csv_shape(&bytes);
    assert_eq!(records.len(), 87);
    for (r, a) in records.iter().zip(&report.articles) {
        assert_eq!(&r[0], a.number.to_string());
        assert_eq!(&r[2], a.title_ja);
    }
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(&reader.headers().unwrap()[2], "見出し");
}

#[test]
fn csv_zip_lists_every_table_in_a_fixed_order() {
    let report = report();
    let bytes = csv_zip(&golden(), Lang::Ja).unwrap();
    let mut expected = vec!["articles.csv".to_owned(), "findings.csv".to_owned()];
    expected.extend(report.registers.iter().map(|r| format!("{}.csv", r.id)));
    expected.push("thresholds.csv".into());
    expected.push("non_business_days.csv".into());
    assert_eq!(zip_names(&bytes), expected);
    let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
    for name in &expected {
        let mut entry = archive.by_name(name).unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        check_csv_shape(&data);
        assert_eq!(
            data,
            csv_table(&golden(), Lang::Ja, name.trim_end_matches(".csv")).unwrap()
        );
    }
    let findings = csv_table(&golden(), Lang::Ja, "findings").unwrap();
    assert_eq!(check_csv_shape(&findings).len(), report.findings.len());
    assert!(csv_table(&golden(), Lang::Ja, "nothing").is_err());
}

#[test]
fn english_csv_has_english_headers() {
    let bytes = csv_table(&golden(), Lang::En, "articles").unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        reader.headers().unwrap().iter().take(3).collect::<Vec<_>>(),
        ["No.", "Article", "Title"]
    );
    let register = &report().registers[0];
    let bytes = csv_table(&golden(), Lang::En, &register.id).unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(&reader.headers().unwrap()[0], register.columns[0].label_en);
}

#[test]
fn docx_holds_every_article_title_and_a_footer_with_the_sha256() {
    let json = golden();
    let report = report();
    let bytes = docx(&json, Lang::Ja).unwrap();
    let document = word_text(&zip_entry(&bytes, "word/document.xml"));
    for a in &report.articles {
        assert!(
            document.contains(&format!("{}\n", a.title_ja)),
            "{} {}",
            a.label_ja,
            a.title_ja
        );
    }
    for f in &report.findings {
        assert!(document.contains(&f.actual_ja), "finding {}", f.id);
    }
    assert!(document.contains("決裁欄"));
    assert!(document.contains(&report.verification.command));
    let footer = word_text(&zip_entry(&bytes, "word/footer1.xml"));
    assert!(
        footer.contains(&daicho_report::sha256_hex(&json)),
        "{footer}"
    );
    let styles = zip_entry(&bytes, "word/styles.xml");
    assert!(styles.contains(r#"w:eastAsia="BIZ UDGothic""#));
    let core = zip_entry(&bytes, "docProps/core.xml");
    assert!(core.contains(">2026-06-30T00:00:00Z</dcterms:created>"));
}

#[test]
fn every_section_of_the_docx_carries_the_footer() {
    let bytes = docx(&golden(), Lang::Ja).unwrap();
    let xml = zip_entry(&bytes, "word/document.xml");
    let sections = xml.matches("<w:sectPr>").count();
    assert!(sections >= 2, "portrait and landscape sections");
    assert_eq!(
        xml.matches(r#"<w:footerReference w:type="default" r:id="rIdFooter1"/>"#)
            .count(),
        sections
    );
    let rels = zip_entry(&bytes, "word/_rels/document.xml.rels");
    assert!(rels.contains(r#"Id="rIdFooter1""#) && rels.contains(r#"Target="footer1.xml""#));
}

#[test]
fn english_docx_speaks_english() {
    let report = report();
    let bytes = docx(&golden(), Lang::En).unwrap();
    let document = word_text(&zip_entry(&bytes, "word/document.xml"));
    assert!(document.contains(&report.title_en));
    assert!(document.contains("1 Summary\n"));
    assert!(document.contains("Approval\n"));
    assert!(!document.contains("決裁欄"));
    for a in &report.articles {
        assert!(
            document.contains(&format!("{}\n", a.title_en)),
            "{}",
            a.title_en
        );
    }
    let footer = word_text(&zip_entry(&bytes, "word/footer1.xml"));
    assert!(footer.starts_with("The original anchored in the ledger is the JSON"));
}

#[test]
fn each_format_renders_the_same_bytes_twice() {
    let json = golden();
    for lang in [Lang::Ja, Lang::En] {
        assert_eq!(
            xlsx(&json, lang).unwrap(),
            xlsx(&json, lang).unwrap(),
            "xlsx {lang:?}"
        );
        assert_eq!(
            csv_zip(&json, lang).unwrap(),
            csv_zip(&json, lang).unwrap(),
            "csv {lang:?}"
        );
        assert_eq!(
            docx(&json, lang).unwrap(),
            docx(&json, lang).unwrap(),
            "docx {lang:?}"
        );
    }
    // A rendering on another thread, a moment later, is the same bytes.
    let json2 = json.clone();
    let other = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        (
            xlsx(&json2, Lang::Ja).unwrap(),
            docx(&json2, Lang::Ja).unwrap(),
            csv_zip(&json2, Lang::Ja).unwrap(),
        )
    })
    .join()
    .unwrap();
    assert_eq!(other.0, xlsx(&json, Lang::Ja).unwrap());
    assert_eq!(other.1, docx(&json, Lang::Ja).unwrap());
    assert_eq!(other.2, csv_zip(&json, Lang::Ja).unwrap());
}

#[test]
fn zip_entries_are_dated_the_day_of_issue() {
    for bytes in [
        csv_zip(&golden(), Lang::Ja).unwrap(),
        docx(&golden(), Lang::Ja).unwrap(),
    ] {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        for i in 0..archive.len() {
            let entry = archive.by_index(i).unwrap();
            let t = entry.last_modified().unwrap();
            assert_eq!(
                (t.year(), t.month(), t.day(), t.hour(), t.minute()),
                (2026, 6, 30, 0, 0),
                "{}",
                entry.name()
            );
        }
    }
}

#[test]
fn a_json_that_is_not_a_report_is_refused() {
    assert!(xlsx(b"{}", Lang::Ja).is_err());
    assert!(docx(b"not json", Lang::Ja).is_err());
    assert!(csv_zip(br#"{"format":"other"}"#, Lang::Ja).is_err());
}

/// The golden quarter with one remark recorded on its first finding.
fn golden_with_a_remark() -> (Vec<u8>, String) {
    let mut value: serde_json::Value = serde_json::from_slice(&golden()).unwrap();
    let finding_id = value["findings"][0]["id"].as_str().unwrap().to_owned();
    value["remarks"] = serde_json::json!([{
        "seq": 4500,
        "finding_id": finding_id,
        "kind": "remediation_plan",
        "kind_ja": "改善計画",
        "text": "分類の手順を見直し、登録と同日に分類する。",
        "remarked_by": "secretariat",
        "remarked_by_ja": "事務局",
        "accepted_by": null,
        "due": "2026-07-31",
        "on": "2026-06-20",
        "actor": "K-10001"
    }]);
    (serde_json::to_vec(&value).unwrap(), finding_id)
}

#[test]
fn remarks_are_joined_to_their_finding_in_every_format() {
    let (json, finding_id) = golden_with_a_remark();
    let expected = "2026-06-20 改善計画（事務局）：分類の手順を見直し、登録と同日に分類する。（期限 2026-07-31）";

    let mut wb = workbook(xlsx(&json, Lang::Ja).unwrap());
    let range = wb.worksheet_range("指摘事項").unwrap();
    let rows: Vec<_> = range.rows().collect();
    let remarks_col = rows[0]
        .iter()
        .position(|c| *c == Data::String("所見・対応".into()))
        .unwrap();
    for row in &rows[1..] {
        let want = if row[0] == Data::String(finding_id.clone()) {
            expected
        } else {
            ""
        };
        let got = match &row[remarks_col] {
            Data::String(s) => s.as_str(),
            _ => "",
        };
        assert_eq!(got, want, "{:?}", row[0]);
    }

    let csv = csv_table(&json, Lang::Ja, "findings").unwrap();
    let records = check_csv_shape(&csv);
    assert_eq!(&records[0][0], finding_id);
    assert_eq!(records[0].iter().next_back().unwrap(), expected);

    let document = word_text(&zip_entry(
        &docx(&json, Lang::Ja).unwrap(),
        "word/document.xml",
    ));
    assert!(document.contains(expected), "the remark under its finding");
}
