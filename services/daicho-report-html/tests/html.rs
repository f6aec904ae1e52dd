//! The HTML report of the golden generated quarter: every article and
//! finding present, no request of any kind, the same bytes on every run,
//! both languages, and a real headless Chromium that renders it, prints
//! it and makes no request while doing so.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use daicho_report::{Lang, Report};
use daicho_report_html::render;
use scraper::{ElementRef, Html, Selector};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/golden/report-R08-Q1.json"
);

/// Debian's Chromium, which `ops/test` installs.
const CHROMIUM: &str = "/usr/bin/chromium";

/// The hosts Chromium itself calls at start whatever the page (its
/// component updater, its account service, its clock), even with the
/// background networking switched off. They bypass the test's proxy and
/// resolve to nothing, so they reach no network; every other request,
/// which can only come from the page, goes to the proxy and fails the test.
const BROWSER_OWN_HOSTS: [&str; 3] = [
    "update.googleapis.com",
    "accounts.google.com",
    "clients2.google.com",
];

/// How long one browser run may take before the test fails.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

fn golden() -> Vec<u8> {
    std::fs::read(GOLDEN).expect("the golden report exists")
}

fn report() -> Report {
    Report::from_json(&golden()).expect("the golden report reads back")
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("a valid selector")
}

fn text(e: ElementRef<'_>) -> String {
    e.text().collect()
}

/// The golden JSON with one member changed, as a test of what the
/// renderer does with content the generated quarter lacks.
fn golden_with(change: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&golden()).unwrap();
    change(&mut v);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn the_article_table_has_one_row_per_article_in_order_with_its_exact_title() {
    let report = report();
    let doc = Html::parse_document(&render(&golden(), Lang::Ja).unwrap());
    let rows: Vec<ElementRef> = doc
        .select(&sel("table.articles tbody tr[data-article]"))
        .collect();
    assert_eq!(rows.len(), 87);
    assert_eq!(doc.select(&sel("tr[data-article]")).count(), 87);
    for (row, article) in rows.iter().zip(&report.articles) {
        assert_eq!(
            row.value().attr("data-article"),
            Some(article.number.to_string().as_str())
        );
        let cells: Vec<String> = row.select(&sel("th, td")).map(text).collect();
        assert_eq!(cells[0], article.label_ja);
        assert_eq!(cells[1], article.title_ja, "the title exactly as given");
        assert_eq!(cells[2], article.status_ja, "the status in words");
        assert_eq!(cells[4], article.events.to_string());
        assert_eq!(cells[5], article.refs_with_findings_ja.join("、"));
    }
    let heads: Vec<String> = doc
        .select(&sel("table.articles thead th[scope=col]"))
        .map(text)
        .collect();
    assert_eq!(heads.len(), 6);
    assert_eq!(
        doc.select(&sel("table.articles tbody th[scope=row]"))
            .count(),
        87
    );
    assert_eq!(doc.select(&sel("table.articles > caption")).count(), 1);
}

#[test]
fn every_finding_is_shown_under_its_chapter_and_article() {
    let report = report();
    let html = render(&golden(), Lang::Ja).unwrap();
    let doc = Html::parse_document(&html);
    assert!(
        !report.findings.is_empty(),
        "the golden quarter has findings"
    );
    assert_eq!(
        doc.select(&sel("article.finding")).count(),
        report.findings.len()
    );
    for f in &report.findings {
        let card = doc
            .select(&sel(&format!(
                "#findings-article-{} article.finding",
                f.article
            )))
            .find(|e| e.value().attr("data-finding") == Some(f.id.as_str()))
            .unwrap_or_else(|| panic!("finding {} is under article {}", f.id, f.article));
        let body = text(card);
        for part in [
            &f.ref_ja,
            &f.expected_ja,
            &f.actual_ja,
            &f.state_ja,
            &f.detected_on,
        ] {
            assert!(
                body.contains(part.as_str()),
                "finding {} shows {part}",
                f.id
            );
        }
        let seqs: Vec<String> = f.seqs.iter().map(u64::to_string).collect();
        assert!(
            body.contains(&seqs.join(" ")),
            "finding {} shows its entries",
            f.id
        );
    }
}

#[test]
fn remarks_are_joined_to_their_finding() {
    let json = golden_with(|v| {
        let id = v["findings"][3]["id"].clone();
        v["remarks"] = serde_json::json!([{
            "seq": 4000, "finding_id": id, "kind": "remediation_plan", "kind_ja": "改善計画",
            "text": "所管課において台帳を点検し、分類を追記する。", "remarked_by": "secretariat",
            "remarked_by_ja": "事務局", "accepted_by": null, "due": "2026-07-31",
            "on": "2026-06-20", "actor": "K-10001"
        }]);
    });
    let report = Report::from_json(&json).unwrap();
    let doc = Html::parse_document(&render(&json, Lang::Ja).unwrap());
    let target = &report.findings[3].id;
    for card in doc.select(&sel("article.finding")) {
        let has = text(card).contains("台帳を点検し");
        assert_eq!(
            has,
            card.value().attr("data-finding") == Some(target.as_str())
        );
    }
}

#[test]
fn changes_carried_over_findings_and_exceptions_are_shown_when_the_json_has_them() {
    let json = golden_with(|v| {
        let changes = &mut v["changes"];
        changes["comparable"] = true.into();
        changes["previous_findings"] = 12.into();
        changes["articles"] = serde_json::json!([{
            "article": 7, "label_ja": "第7条", "title_ja": "情報資産の取扱い",
            "from": "compliant", "from_ja": "適合", "to": "non_compliant", "to_ja": "不適合",
            "direction": "worse"
        }]);
        v["findings"][0]["carried_over"] = true.into();
        v["findings"][0]["exception"] = "EXC-2026-0001".into();
    });
    let report = Report::from_json(&json).unwrap();
    let doc = Html::parse_document(&render(&json, Lang::Ja).unwrap());
    let summary = doc.select(&sel("#summary")).next().unwrap();
    let row: Vec<String> = summary
        .select(&sel("tbody tr"))
        .find(|r| text(*r).contains("情報資産の取扱い"))
        .expect("the changed article is listed")
        .select(&sel("th, td"))
        .map(text)
        .collect();
    assert_eq!(row, ["第7条", "情報資産の取扱い", "適合", "不適合", "悪化"]);
    assert!(text(summary).contains("前期の指摘事項: 12件"));
    let carried = &report.findings[0];
    let link = summary
        .select(&sel(&format!("a[href='#finding-{}']", carried.id)))
        .next()
        .expect("the carried-over finding is listed and linked");
    assert_eq!(text(link), carried.ref_ja);
    let card = doc
        .select(&sel(&format!("#finding-{}", carried.id)))
        .next()
        .unwrap();
    assert!(text(card).contains("EXC-2026-0001"));
    assert!(text(card).contains("前期から繰越し"));
    let en = render(&json, Lang::En).unwrap();
    assert!(en.contains("Changes since the previous quarter") && en.contains(">worse<"));
}

#[test]
fn the_document_names_its_language_and_fits_a_phone() {
    for (lang, code) in [(Lang::Ja, "ja"), (Lang::En, "en")] {
        let doc = Html::parse_document(&render(&golden(), lang).unwrap());
        let root = doc.select(&sel("html")).next().unwrap();
        assert_eq!(root.value().attr("lang"), Some(code));
        assert_eq!(doc.select(&sel("head > meta[charset=utf-8]")).count(), 1);
        let viewport = doc
            .select(&sel("head > meta[name=viewport]"))
            .next()
            .unwrap();
        assert_eq!(
            viewport.value().attr("content"),
            Some("width=device-width, initial-scale=1")
        );
        let title = text(doc.select(&sel("head > title")).next().unwrap());
        assert!(title.contains(match lang {
            Lang::Ja => "令和8年度 第1四半期",
            Lang::En => "FY2026 Q1",
        }));
    }
}

#[test]
fn nothing_in_the_file_points_outside_it() {
    for lang in [Lang::Ja, Lang::En] {
        let html = render(&golden(), lang).unwrap();
        let doc = Html::parse_document(&html);
        for e in doc.select(&sel("[src], [href], [srcset], [action], [data], [poster]")) {
            for name in ["src", "href", "srcset", "action", "data", "poster"] {
                if let Some(v) = e.value().attr(name) {
                    let v = v.trim().to_ascii_lowercase();
                    assert!(
                        !(v.starts_with("http:") || v.starts_with("https:") || v.starts_with("//")),
                        "<{} {name}={v:?}> points outside the file",
                        e.value().name()
                    );
                    assert!(v.starts_with('#'), "only links within the file: {v:?}");
                }
            }
        }
        for tag in ["script", "link", "img", "iframe", "object", "embed"] {
            assert_eq!(doc.select(&sel(tag)).count(), 0, "no <{tag}>");
        }
        let style: String = doc.select(&sel("style")).map(text).collect();
        for needle in ["url(", "@import", "@font-face"] {
            assert!(
                !style.contains(needle),
                "the stylesheet loads nothing: {needle}"
            );
        }
        assert!(style.contains("@media print") && style.contains("size: A4"));
        assert!(style.contains("display: table-header-group"));
    }
}

#[test]
fn the_same_json_gives_the_same_bytes() {
    for lang in [Lang::Ja, Lang::En] {
        let first = render(&golden(), lang).unwrap();
        let second = render(&golden(), lang).unwrap();
        assert!(first == second, "two renderings differ");
    }
}

#[test]
fn english_switches_every_label() {
    let report = report();
    let en = render(&golden(), Lang::En).unwrap();
    let doc = Html::parse_document(&en);
    let heads: Vec<String> = doc
        .select(&sel("table.articles thead th"))
        .map(text)
        .collect();
    assert_eq!(heads[0], "Article");
    for a in &report.articles {
        assert!(en.contains(&a.title_en), "{} in English", a.label_ja);
    }
    assert!(en.contains(&report.summary.plain_en[0]));
    assert!(en.contains(&report.verification.explanation_en));
    // The frame's Japanese words are gone; Japanese left in an English
    // rendering is the JSON's own and is marked lang="ja".
    for frame in [
        "条項別の遵守状況",
        "指摘事項の詳細",
        "検証のための付録",
        "見出し",
        "重大度",
    ] {
        assert!(!en.contains(frame), "{frame} is translated");
    }
    for h in doc.select(&sel("h2, h3, h4, th, caption, dt")) {
        let t = text(h);
        let japanese = t.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c));
        let marked =
            h.select(&sel("[lang=ja]")).next().is_some() || h.value().attr("lang") == Some("ja");
        assert!(
            !japanese || marked,
            "unmarked Japanese in an English label: {t}"
        );
    }
}

#[test]
fn every_chapter_has_an_accessible_chart_of_its_articles() {
    let report = report();
    let doc = Html::parse_document(&render(&golden(), Lang::Ja).unwrap());
    let charts: Vec<ElementRef> = doc.select(&sel("figure.chart")).collect();
    assert_eq!(charts.len(), report.chapters.len());
    for (figure, chapter) in charts.iter().zip(&report.chapters) {
        let svg = figure.select(&sel("svg.bar")).next().unwrap();
        assert_eq!(svg.value().attr("role"), Some("img"));
        assert!(text(figure.select(&sel("svg title")).next().unwrap()).contains(&chapter.title_ja));
        let desc = text(figure.select(&sel("svg desc")).next().unwrap());
        let words = text(figure.select(&sel(".chart-words")).next().unwrap());
        for s in chapter.by_status.iter().filter(|s| s.count > 0) {
            let said = format!("{} {}", s.label_ja, s.count);
            assert!(desc.contains(&said) && words.contains(&said), "{said}");
        }
        let segments = figure.select(&sel("svg.bar rect")).count();
        assert_eq!(
            segments,
            chapter.by_status.iter().filter(|s| s.count > 0).count()
        );
    }
    assert_eq!(
        doc.select(&sel("ul.legend li")).count(),
        report.summary.by_status.len()
    );
}

#[test]
fn text_from_the_json_is_escaped() {
    let json = golden_with(|v| {
        v["articles"][0]["title_ja"] = "<script>alert(1)</script>目的".into();
    });
    let html = render(&json, Lang::Ja).unwrap();
    let doc = Html::parse_document(&html);
    assert_eq!(doc.select(&sel("script")).count(), 0);
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;目的"));
}

#[test]
fn the_appendix_states_the_checkpoint_digest_and_command() {
    let report = report();
    let doc = Html::parse_document(&render(&golden(), Lang::Ja).unwrap());
    let appendix = text(doc.select(&sel("#verification")).next().unwrap());
    let checkpoint = text(
        doc.select(&sel("#verification pre.checkpoint"))
            .next()
            .unwrap(),
    );
    assert_eq!(checkpoint, report.anchor.checkpoint);
    assert!(appendix.contains(&daicho_report::sha256_hex(&golden())));
    assert!(appendix.contains(&report.verification.command));
    assert!(appendix.contains(&report.verification.explanation_ja));
}

#[test]
fn a_document_that_is_not_a_report_is_refused() {
    assert!(render(b"{}", Lang::Ja).is_err());
    let other = golden_with(|v| v["format"] = "daicho-report/v0".into());
    assert!(render(&other, Lang::Ja).is_err());
}

/// The output of one browser run.
struct Run {
    stdout: String,
    stderr: String,
}

/// Runs Chromium headless on `page` with `extra` arguments, every request
/// sent through a proxy that is a listener of this test, and returns its
/// output; fails if the browser errs, hangs, or touches the network.
fn chromium(page: &Path, extra: &[String]) -> Run {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the browser test needs Debian's chromium, which ops/test installs \
         (apt-get install chromium)"
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (connections, stop) = (connections.clone(), stop.clone());
        std::thread::spawn(move || {
            while stop.load(Ordering::SeqCst) == 0 {
                match listener.accept() {
                    Ok(_) => {
                        connections.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        })
    };
    let profile = tempfile::tempdir().unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let err = tempfile::NamedTempFile::new().unwrap();
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    args.push(format!("--proxy-server=http://127.0.0.1:{port}"));
    args.push(format!(
        "--proxy-bypass-list={}",
        BROWSER_OWN_HOSTS.join(";")
    ));
    let unresolved: Vec<String> = BROWSER_OWN_HOSTS
        .iter()
        .map(|h| format!("MAP {h} ~NOTFOUND"))
        .collect();
    args.push(format!("--host-resolver-rules={}", unresolved.join(", ")));
    args.push("--disable-features=NetworkTimeServiceQuerying".to_owned());
    args.extend(extra.iter().cloned());
    args.push(format!("file://{}", page.display()));
    // A group of its own, so that a hung browser is stopped with all the
    // processes it started, and with nothing else.
    let mut child = Command::new(CHROMIUM)
        .process_group(0)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Give a request sent just before exit the time to be accepted.
    std::thread::sleep(Duration::from_millis(200));
    stop.store(1, Ordering::SeqCst);
    watcher.join().unwrap();
    let mut stdout = String::new();
    let mut stderr = String::new();
    out.reopen().unwrap().read_to_string(&mut stdout).unwrap();
    err.reopen().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(status.success(), "chromium failed ({status}): {stderr}");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the page made a network request through the proxy: {args:?}"
    );
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    Run { stdout, stderr }
}

fn written(dir: &Path, name: &str, html: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, html).unwrap();
    path
}

#[test]
fn a_headless_browser_renders_the_report_without_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let page = written(
        dir.path(),
        "report.html",
        &render(&golden(), Lang::Ja).unwrap(),
    );

    let run = chromium(&page, &["--dump-dom".to_owned()]);
    let dom = Html::parse_document(&run.stdout);
    assert_eq!(
        dom.select(&sel("table.articles tr[data-article]")).count(),
        87,
        "the browser's DOM holds every article row; stderr: {}",
        run.stderr
    );

    for (name, size) in [("laptop.png", "1280,2000"), ("phone.png", "390,1600")] {
        let shot = dir.path().join(name);
        chromium(
            &page,
            &[
                format!("--screenshot={}", shot.display()),
                format!("--window-size={size}"),
                "--hide-scrollbars".to_owned(),
            ],
        );
        let png = std::fs::read(&shot).unwrap_or_else(|_| panic!("{name} was written"));
        assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
        assert!(
            png.len() > 50_000,
            "{name} shows the report ({} bytes)",
            png.len()
        );
    }

    let pdf = dir.path().join("report.pdf");
    chromium(
        &page,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".to_owned(),
        ],
    );
    let pdf = std::fs::read(&pdf).expect("the PDF was written");
    assert!(pdf.starts_with(b"%PDF"));
    assert!(
        pdf.len() > 100_000,
        "the PDF holds the report ({} bytes)",
        pdf.len()
    );
}
