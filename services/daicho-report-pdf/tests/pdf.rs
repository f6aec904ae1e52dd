//! The PDF of the golden quarter, read back with poppler's `pdftotext` and
//! `pdfinfo`: everything the committee must find is in the text layer, in
//! either language, and the same JSON gives the same bytes.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use daicho_report::{sha256_hex, Lang, Report};
use daicho_report_pdf::{render, PdfError};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/golden/report-R08-Q1.json"
);

fn golden_json() -> &'static [u8] {
    static JSON: OnceLock<Vec<u8>> = OnceLock::new();
    JSON.get_or_init(|| std::fs::read(GOLDEN).expect("the golden report"))
}

fn golden() -> Report {
    Report::from_json(golden_json()).expect("the golden report parses")
}

fn pdf(lang: Lang) -> &'static [u8] {
    static JA: OnceLock<Vec<u8>> = OnceLock::new();
    static EN: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    };
    cell.get_or_init(|| render(golden_json(), lang).expect("the golden report renders"))
}

/// Runs a poppler tool on a PDF given on standard input.
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let mut child = match Command::new(tool)
        .args(args)
        .arg("-")
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!(
            "cannot run `{tool}` ({e}): these tests read the PDF back with poppler-utils; \
             `ops/test` installs poppler-utils (apt-get install poppler-utils)"
        ),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(pdf)
        .expect("the PDF reaches the tool");
    let out = child.wait_with_output().expect("the tool finishes");
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 from poppler")
}

/// `pdftotext` breaks lines and may space out CJK runs, so text is compared
/// with all white space removed from both sides. `-raw` keeps the order the
/// text was laid out in, so that a wrapped cell is not interleaved with its
/// neighbours.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn text_of(lang: Lang) -> String {
    squeeze(&poppler("pdftotext", &["-raw", "-enc", "UTF-8"], pdf(lang)))
}

fn missing<'a>(text: &str, wanted: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    wanted
        .into_iter()
        .filter(|w| !text.contains(&squeeze(w)))
        .collect()
}

fn info(lang: Lang) -> String {
    poppler("pdfinfo", &[], pdf(lang))
}

fn info_field(info: &str, field: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("pdfinfo has no {field}: {info}"))
        .trim()
        .to_owned()
}

#[test]
fn every_article_title_appears_exactly_as_given() {
    let report = golden();
    assert_eq!(report.articles.len(), 87);
    let text = text_of(Lang::Ja);
    let gone = missing(&text, report.articles.iter().map(|a| a.title_ja.as_str()));
    assert!(gone.is_empty(), "article titles missing: {gone:?}");
}

/// Every finding is listed under its provision, the first thirty of each
/// article in detail (and any with a remark); the document says how many
/// of an article's others it leaves out.
#[test]
fn every_finding_is_listed_by_its_provision() {
    let report = golden();
    assert!(
        !report.findings.is_empty(),
        "the golden quarter has findings"
    );
    let text = text_of(Lang::Ja);
    let gone = missing(&text, report.findings.iter().map(|f| f.ref_ja.as_str()));
    assert!(gone.is_empty(), "findings missing: {gone:?}");
    let remarked: std::collections::BTreeSet<&str> = report
        .remarks
        .iter()
        .map(|m| m.finding_id.as_str())
        .collect();
    let mut per_article: std::collections::BTreeMap<u32, usize> = Default::default();
    let mut shown = Vec::new();
    for f in &report.findings {
        let n = per_article.entry(f.article).or_default();
        *n += 1;
        if *n <= 30 || remarked.contains(f.id.as_str()) {
            shown.push(f.actual_ja.as_str());
        }
    }
    let gone = missing(&text, shown.iter().copied());
    assert!(gone.is_empty(), "what happened, missing: {gone:?}");
    for (article, n) in per_article {
        if n > 30 {
            let note = format!("ほか{}件の指摘事項は、本書では省略しています", n - 30);
            assert!(text.contains(&squeeze(&note)), "article {article}: {note}");
        }
    }
}

#[test]
fn the_title_and_the_period_are_on_the_cover() {
    let report = golden();
    let text = text_of(Lang::Ja);
    let gone = missing(
        &text,
        [
            report.title_ja.as_str(),
            report.period.label_ja.as_str(),
            report.issued_on_ja.as_str(),
            report.regulation.name_ja.as_str(),
            report.anchor.root.as_str(),
        ],
    );
    assert!(gone.is_empty(), "missing from the cover: {gone:?}");
}

#[test]
fn every_register_row_is_printed() {
    let report = golden();
    let text = text_of(Lang::Ja);
    let ids: Vec<&str> = report
        .registers
        .iter()
        .flat_map(|g| g.rows.iter().filter_map(|row| row[0].as_str()))
        .collect();
    assert!(ids.len() > 60);
    let gone = missing(&text, ids);
    assert!(gone.is_empty(), "register rows missing: {gone:?}");
}

#[test]
fn the_appendix_states_the_sha256_of_the_json_and_the_signed_checkpoint() {
    let report = golden();
    let text = text_of(Lang::Ja);
    let sha = sha256_hex(golden_json());
    assert!(text.contains(&sha), "the SHA-256 {sha} is not in the text");
    let gone = missing(&text, [report.anchor.checkpoint.as_str()]);
    assert!(gone.is_empty(), "the checkpoint is not in the text");
}

#[test]
fn the_document_has_pages_a_title_and_a_language() {
    let report = golden();
    let info = info(Lang::Ja);
    let pages: u32 = info_field(&info, "Pages").parse().expect("a page count");
    assert!(pages > 3, "only {pages} pages");
    assert_eq!(info_field(&info, "Title"), report.title_ja);
    assert!(
        info_field(&info, "Page size").contains("595.")
            && info_field(&info, "Page size").contains("841."),
        "not A4: {info}"
    );
    assert_eq!(info_field(&info, "Tagged"), "yes");
    assert_eq!(
        info_field(&info, "CreationDate"),
        "Tue Jun 30 00:00:00 2026 UTC"
    );
    let xmp = poppler("pdfinfo", &["-meta"], pdf(Lang::Ja));
    assert!(
        xmp.contains("<dc:language><rdf:Bag><rdf:li>ja-JP</rdf:li>"),
        "the language is not Japanese: {xmp}"
    );
}

#[test]
fn the_english_rendering_speaks_english() {
    let report = golden();
    let text = text_of(Lang::En);
    let gone = missing(&text, report.articles.iter().map(|a| a.title_en.as_str()));
    assert!(gone.is_empty(), "English titles missing: {gone:?}");
    let gone = missing(
        &text,
        [
            report.title_en.as_str(),
            report.period.label_en.as_str(),
            report.verification.explanation_en.as_str(),
        ],
    );
    assert!(gone.is_empty(), "missing in English: {gone:?}");
    assert!(
        !text.contains(&squeeze(&report.title_ja)),
        "the Japanese title is in the English PDF"
    );
    assert_eq!(info_field(&info(Lang::En), "Title"), report.title_en);
    let xmp = poppler("pdfinfo", &["-meta"], pdf(Lang::En));
    assert!(
        xmp.contains("<rdf:li>en-GB</rdf:li>"),
        "the language is not English: {xmp}"
    );
}

#[test]
fn the_same_json_gives_the_same_bytes() {
    let again = render(golden_json(), Lang::Ja).expect("renders again");
    assert!(
        again == pdf(Lang::Ja),
        "two renderings of the same JSON differ"
    );
}

#[test]
fn a_different_report_gives_a_different_pdf() {
    let mut report: serde_json::Value = serde_json::from_slice(golden_json()).unwrap();
    report["articles"][0]["title_ja"] = "目的と範囲".into();
    let changed = serde_json::to_vec(&report).unwrap();
    let pdf_changed = render(&changed, Lang::Ja).expect("renders");
    assert!(pdf_changed != pdf(Lang::Ja));
    assert!(squeeze(&poppler(
        "pdftotext",
        &["-raw", "-enc", "UTF-8"],
        &pdf_changed
    ))
    .contains("目的と範囲"));
}

#[test]
fn what_is_not_a_report_is_refused() {
    assert!(matches!(render(b"{}", Lang::Ja), Err(PdfError::Report(_))));
    let mut report: serde_json::Value = serde_json::from_slice(golden_json()).unwrap();
    report["issued_on"] = "30 June 2026".into();
    let bad = serde_json::to_vec(&report).unwrap();
    assert!(matches!(render(&bad, Lang::Ja), Err(PdfError::IssuedOn(_))));
}

#[test]
fn only_the_embedded_faces_are_used_and_bold_is_the_real_bold() {
    let fonts = poppler("pdffonts", &[], pdf(Lang::Ja));
    let names: Vec<&str> = fonts
        .lines()
        .skip(2)
        .map(|l| {
            let name = l.split_whitespace().next().unwrap_or("");
            assert!(l.contains(" yes yes yes "), "not embedded as a subset: {l}");
            name.split_once('+').map_or(name, |(_, n)| n)
        })
        .collect();
    assert_eq!(
        names,
        ["BIZUDGothic-Regular", "BIZUDGothic-Bold"],
        "{fonts}"
    );
}

/// The golden quarter has no remark, no exception, nothing carried over and
/// nothing to compare; a report with all of them renders them too.
#[test]
fn remarks_exceptions_carried_over_findings_and_changes_are_printed() {
    let mut report: serde_json::Value = serde_json::from_slice(golden_json()).unwrap();
    let first = report["findings"][0]["id"].clone();
    report["remarks"] = serde_json::json!([{
        "seq": 4000,
        "finding_id": first,
        "kind": "accepted_risk",
        "kind_ja": "リスク受容",
        "text": "代替の管理策により受容する。",
        "remarked_by": "committee",
        "remarked_by_ja": "情報化推進委員会",
        "accepted_by": "ciso K-10001",
        "due": null,
        "on": "2026-06-20",
        "actor": "K-10001"
    }]);
    report["findings"][1]["exception"] = "EXC-2026-0001".into();
    report["findings"][2]["carried_over"] = true.into();
    report["changes"]["comparable"] = true.into();
    report["changes"]["articles"] = serde_json::json!([{
        "article": 37,
        "label_ja": "第37条",
        "title_ja": "USBメモリの取扱い",
        "from": "compliant",
        "from_ja": "適合",
        "to": "non_compliant",
        "to_ja": "不適合",
        "direction": "worse"
    }]);
    report["registers"][0]["rows"] = serde_json::json!([]);
    report["non_business_days"] = serde_json::json!([]);
    let json = serde_json::to_vec(&report).unwrap();

    let ja = squeeze(&poppler(
        "pdftotext",
        &["-raw", "-enc", "UTF-8"],
        &render(&json, Lang::Ja).expect("renders in Japanese"),
    ));
    for wanted in [
        "代替の管理策により受容する。",
        "cisoK-10001",
        "EXC-2026-0001",
        "前期から繰越し",
        "悪化",
        "期間中の記録はありません。",
    ] {
        assert!(ja.contains(wanted), "{wanted} is not in the Japanese PDF");
    }
    let en = squeeze(&poppler(
        "pdftotext",
        &["-raw", "-enc", "UTF-8"],
        &render(&json, Lang::En).expect("renders in English"),
    ));
    for wanted in [
        "acceptedrisk",
        "HandlingofUSBmemory",
        "worse",
        "carriedover",
    ] {
        assert!(en.contains(wanted), "{wanted} is not in the English PDF");
    }
}

/// A quarter with more findings in one article, and more rows in one
/// register, than the document shows: the first ones are shown, every
/// finding with a remark is shown, and the rest are counted in a note that
/// says where every one of them is.
#[test]
fn long_lists_show_their_first_items_and_say_how_many_are_left_out() {
    let mut report: serde_json::Value = serde_json::from_slice(golden_json()).unwrap();
    let template = report["findings"][0].clone();
    let article = template["article"].clone();
    let mut findings: Vec<serde_json::Value> = (0..45)
        .map(|i| {
            let mut f = template.clone();
            f["id"] = format!("long-{i:02}").into();
            f["actual_ja"] = format!("長い一覧の{i}番目の記録").into();
            f
        })
        .collect();
    // The last one carries a remark: it is shown although it is beyond the
    // first thirty.
    let remark = serde_json::json!({
        "seq": 1, "finding_id": "long-44", "kind": "note", "kind_ja": "備考",
        "text": "委員会で確認した", "remarked_by": null, "remarked_by_ja": null,
        "accepted_by": null, "due": null, "on": "2026-06-30", "actor": "S-0001"
    });
    findings.extend(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["article"] != article)
            .cloned(),
    );
    report["findings"] = findings.into();
    report["remarks"] = vec![remark].into();
    let register = &mut report["registers"][0];
    let row = register["rows"][0].clone();
    register["rows"] = vec![row; 230].into();
    let json = serde_json::to_vec(&report).unwrap();
    let pdf = render(&json, Lang::Ja).expect("the long report renders");
    let text = squeeze(&poppler("pdftotext", &["-raw", "-enc", "UTF-8"], &pdf));
    assert!(
        text.contains(&squeeze("長い一覧の29番目の記録")),
        "the 30th is shown"
    );
    assert!(
        !text.contains(&squeeze("長い一覧の30番目の記録")),
        "the 31st is not"
    );
    assert!(
        text.contains(&squeeze("長い一覧の44番目の記録")),
        "a remarked finding is shown"
    );
    assert!(
        text.contains(&squeeze("ほか14件の指摘事項は、本書では省略しています")),
        "{text}"
    );
    assert!(text.contains(&squeeze("ほか30件の記録は、本書では省略しています")));
}
