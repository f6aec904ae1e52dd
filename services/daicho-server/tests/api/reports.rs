//! The quarterly report over a real service: every format with its media
//! type, file name and the SHA-256 of its JSON; the same checkpoint gives
//! the same bytes; quarters in the future or before the genesis, sizes
//! without a checkpoint and unknown formats are refused naming their
//! parameter; `daicho report --issue-with` records `report.issued`, and
//! the report's JSON verifies against the export.

use std::process::Command;

use daicho_compliance::calendar::{fiscal_year_of, quarter_of, tokyo_date};
use daicho_report::Report;
use daicho_testkit::Backend;
use serde_json::Value;

use super::harness::*;

pub async fn quarterly_report_in_every_format(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    let size = app.size().await;

    let today = tokyo_date(time::OffsetDateTime::now_utc());
    let (fy, q) = (fiscal_year_of(today), quarter_of(today));
    let code = daicho_report::wareki::quarter_code(fy, q);
    let base = format!("/v1/reports/quarterly/{fy}/{q}");
    let json = app.get(&base, Some("committee")).await;
    assert_eq!(json.status, 200, "{}", json.text());
    let header = |r: &daicho_server::client::FullResponse, name: &str| {
        r.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(json.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        header(&json, "content-disposition"),
        format!("attachment; filename=\"daicho-{code}.json\"")
    );
    let sha = daicho_report::sha256_hex(&json.body);
    assert_eq!(header(&json, "daicho-report-sha256"), sha);
    assert_eq!(header(&json, "daicho-report-tree-size"), size.to_string());
    let report = Report::from_json(&json.body).unwrap();
    assert_eq!(report.articles.len(), 87);
    assert_eq!(report.anchor.tree_size, size);
    daicho_core::checkpoint::Checkpoint::open(&report.anchor.checkpoint, &app.ledger_key).unwrap();
    // The same checkpoint, the same bytes; the auditor may ask too.
    let again = app.get(&base, Some("auditor")).await;
    assert_eq!(again.body, json.body);

    for (format, media, extension) in [
        ("pdf", "application/pdf", "pdf"),
        ("html", "text/html; charset=utf-8", "html"),
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        (
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        ("csv", "application/zip", "csv.zip"),
    ] {
        let res = app
            .get(&format!("{base}?format={format}"), Some("committee"))
            .await;
        assert_eq!(res.status, 200, "{format}: {}", res.text());
        assert_eq!(res.content_type.as_deref(), Some(media), "{format}");
        assert_eq!(
            header(&res, "content-disposition"),
            format!("attachment; filename=\"daicho-{code}.{extension}\"")
        );
        assert_eq!(header(&res, "daicho-report-sha256"), sha, "{format}");
        assert!(res.body.len() > 1000, "{format}");
    }
    let en = app
        .get(&format!("{base}?format=html&lang=en"), Some("committee"))
        .await;
    assert!(en.text().contains("<html lang=\"en\""), "English HTML");
    assert!(en.text().contains(&report.articles[36].title_en));

    // As of an earlier checkpoint: a report of its own.
    let earlier = app
        .get(&format!("{base}?as_of={}", size - 1), Some("committee"))
        .await;
    assert_eq!(earlier.status, 200, "{}", earlier.text());
    assert_eq!(
        Report::from_json(&earlier.body).unwrap().anchor.tree_size,
        size - 1
    );

    for (path, pointer) in [
        (format!("/v1/reports/quarterly/{}/1", fy + 2), "fy"),
        ("/v1/reports/quarterly/2019/1".to_owned(), "fy"),
        (format!("/v1/reports/quarterly/{fy}/5"), "quarter"),
        (format!("{base}?as_of=999999"), "as_of"),
        (format!("{base}?format=odt"), "format"),
        (format!("{base}?lang=fr"), "lang"),
    ] {
        let res = app.get(&path, Some("admin")).await;
        assert_eq!(res.status, 400, "{path}: {}", res.text());
        assert_eq!(pointers(&problem(&res)), vec![pointer.to_owned()], "{path}");
    }
    assert_eq!(app.get(&base, Some("reader")).await.status, 403);
    assert_eq!(app.get(&base, None).await.status, 401);
    app.stop().await;
}

/// `daicho report --url … --issue-with KEY` writes the file and appends
/// `report.issued` with the report's tree size and SHA-256; the JSON then
/// verifies against the export as `daicho-verify report` checks it.
pub async fn an_issued_report_is_anchored_and_verifies(backend: Backend) {
    let app = spawn_app(backend).await;
    let issuer = app.register_source(&["report.issued"]).await;
    let key = app.dir.path().join("report.key");
    daicho_server::keyfile::write_private(&key, &issuer.signer).unwrap();
    let today = tokyo_date(time::OffsetDateTime::now_utc());
    let (fy, q) = (fiscal_year_of(today), quarter_of(today));
    let out = app.dir.path().join("report.json");
    let url = app.client.base().to_owned();
    let run = Command::new(env!("CARGO_BIN_EXE_daicho"))
        .args(["report", "--url", &url, "--token", app.token("committee")])
        .args(["--fy", &fy.to_string(), "--quarter", &q.to_string()])
        .args(["--format", "json", "--out", out.to_str().unwrap()])
        .args(["--issue-with", key.to_str().unwrap()])
        .env_remove("DAICHO_DATA_DIR")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json = std::fs::read(&out).unwrap();
    let report = Report::from_json(&json).unwrap();
    let issued = app
        .get(
            &format!("/v1/events/{}", report.anchor.tree_size),
            Some("auditor"),
        )
        .await;
    assert_eq!(issued.status, 200, "{}", issued.text());
    let issued: Value = issued.json();
    assert_eq!(issued["event"]["type"], "report.issued", "{issued}");
    let payload = &issued["event"]["payload"];
    assert_eq!(payload["sha256"], daicho_report::sha256_hex(&json));
    assert_eq!(payload["tree_size"], report.anchor.tree_size);
    assert_eq!(
        (payload["fy"].clone(), payload["quarter"].clone()),
        (fy.into(), q.into())
    );

    // The auditor's check, as `daicho-verify report` makes it: the export
    // verifies, and the report recomputed from its first entries is the
    // report, byte for byte.
    let export = app.get("/v1/export", Some("auditor")).await;
    let entries =
        daicho_verify::quarterly::read_entries(&export.body[..], report.anchor.tree_size).unwrap();
    daicho_verify::quarterly::check_report(
        &json,
        &entries,
        &app.ledger_key,
        daicho_catalogue::Catalogue::embedded(),
        daicho_compliance::Rulebook::embedded(),
    )
    .unwrap();
    assert!(app.export_verified().await > report.anchor.tree_size);
    app.stop().await;
}
