//! The compliance endpoints over a real service: an IC card reported lost
//! and not invalidated is a finding of 第17条第2項 until the invalidation is
//! recorded; evaluations are canonical and reproducible as of a ledger
//! size; periods, sizes and projections that do not exist are refused
//! naming their parameter.

use daicho_catalogue::Catalogue;
use daicho_compliance::calendar::{fiscal_year_of, quarter_of, tokyo_date};
use daicho_testkit::Backend;
use serde_json::{json, Value};

use super::harness::*;

fn example(event_type: &str) -> serde_json::Map<String, Value> {
    let d = Catalogue::embedded().event_type(event_type).unwrap();
    let Some(Value::Object(ex)) = d.versions.last().unwrap().examples.first().cloned() else {
        panic!("{event_type} has an example")
    };
    ex
}

pub async fn compliance_findings_and_state(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app
        .register_source(&["ic_card.loss.reported", "ic_card.invalidated"])
        .await;
    let card = format!("IC-{}", random_suffix());
    let two_days_ago = (time::OffsetDateTime::now_utc() - time::Duration::days(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut loss = example("ic_card.loss.reported");
    loss.insert("card_id".into(), json!(card));
    loss.insert("noticed_at".into(), json!(two_days_ago));
    let e = sign_event(
        &src.signer,
        &src.name,
        "ic_card.loss.reported",
        1,
        "staff",
        loss,
    );
    assert_eq!(app.post_event(&e).await.status, 201);
    let after_loss = app.size().await;

    let today = tokyo_date(time::OffsetDateTime::now_utc());
    let (fy, q) = (fiscal_year_of(today), quarter_of(today));
    let path = format!("/v1/compliance?fy={fy}&quarter={q}");
    let res = app.get(&path, Some("committee")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let evaluation = res.json();
    assert_eq!(evaluation["articles"].as_array().unwrap().len(), 87);
    assert_eq!(evaluation["tree_size"], after_loss);
    let a17 = &evaluation["articles"][16];
    assert_eq!(
        (a17["number"].clone(), a17["status"].clone()),
        (json!(17), json!("non_compliant"))
    );
    assert_eq!(a17["status_ja"], "不適合");
    let open = app
        .get(
            &format!("/v1/findings?fy={fy}&quarter={q}&article=17&status=open"),
            Some("auditor"),
        )
        .await
        .json();
    // The card was never issued in this ledger, which 第17条第1項's
    // lifecycle reports too; the latency is 第17条第2項's.
    let f = open["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["ref"] == "17-2")
        .expect("a 17-2 finding")
        .clone();
    let f = &f;
    assert_eq!(f["ref_ja"], "第17条第2項");
    assert_eq!(f["subject"], json!(card));

    let mut invalidated = example("ic_card.invalidated");
    invalidated.insert("card_id".into(), json!(card));
    let e = sign_event(
        &src.signer,
        &src.name,
        "ic_card.invalidated",
        1,
        "network_admin",
        invalidated,
    );
    assert_eq!(app.post_event(&e).await.status, 201);
    let resolved = app
        .get(
            &format!("/v1/findings?fy={fy}&quarter={q}&article=17&status=resolved"),
            Some("auditor"),
        )
        .await
        .json();
    let resolved: Vec<&Value> = resolved["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ref"] == "17-2")
        .collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(
        resolved[0]["id"], f["id"],
        "the same finding, now resolved: {f} {}",
        resolved[0]
    );
    assert_eq!(resolved[0]["state"], "resolved");

    // As of the earlier size, the finding is open again, and the same request
    // gives the same bytes.
    let past =
        format!("/v1/findings?fy={fy}&quarter={q}&article=17&status=open&as_of={after_loss}");
    let a = app.get(&past, Some("auditor")).await;
    let b = app.get(&past, Some("auditor")).await;
    assert!(a.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == f["id"]));
    assert_eq!(a.text(), b.text());

    let state = app.get("/v1/state/assets", Some("committee")).await;
    assert_eq!(state.status, 200, "{}", state.text());
    assert_eq!(
        state.json()["state"][&card]["last_event"],
        "ic_card.invalidated"
    );

    for (path, pointer) in [
        (format!("/v1/compliance?fy={fy}&quarter=5"), "quarter"),
        (format!("/v1/compliance?fy={fy}"), "quarter"),
        (format!("/v1/compliance?fy={}&quarter=1", fy + 1), "fy"),
        ("/v1/compliance?from=2026-04-01".to_owned(), "to"),
        (
            "/v1/compliance?from=2026-04-31&to=2026-05-01".to_owned(),
            "from",
        ),
        (
            format!("/v1/compliance?fy={fy}&quarter={q}&as_of=999999"),
            "as_of",
        ),
        (
            format!("/v1/findings?fy={fy}&quarter={q}&article=88"),
            "article",
        ),
        (
            format!("/v1/findings?fy={fy}&quarter={q}&status=closed"),
            "status",
        ),
        ("/v1/state/assets?as_of=999999".to_owned(), "as_of"),
    ] {
        let res = app.get(&path, Some("admin")).await;
        assert_eq!(res.status, 400, "{path}: {}", res.text());
        assert_eq!(pointers(&problem(&res)), vec![pointer.to_owned()], "{path}");
    }
    let res = app.get("/v1/state/nothing", Some("admin")).await;
    assert_eq!(res.status, 404);
    assert_eq!(pointers(&problem(&res)), vec!["projection".to_owned()]);
    assert_eq!(app.get(&path, Some("reader")).await.status, 403);
    assert_eq!(app.get(&path, None).await.status, 401);
    app.stop().await;
}

/// An act older than the `occurred_at` window is refused at the ordinary
/// door and recorded through the backfill, which only an administrator's
/// token opens; the evaluation of its quarter counts it as a late entry.
pub async fn backfill_records_old_acts_as_late(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&["ic_card.issued"]).await;
    let mut issued = example("ic_card.issued");
    issued.insert("card_id".into(), json!(format!("IC-{}", random_suffix())));
    let event = daicho_testkit::EventBuilder::new(&src.signer, "ic_card.issued", &src.name)
        .id(new_event_id())
        .occurred_at("2025-04-10T10:00:00+09:00")
        .actor("staff-0001", "network_admin")
        .payload(Value::Object(issued))
        .sign();
    let res = app.post_event(&event).await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert_eq!(problem(&res)["code"], "occurred_at_out_of_window");

    let body = serde_json::to_vec(
        &json!({"events": [serde_json::from_slice::<Value>(&event.canonical_bytes()).unwrap()]}),
    )
    .unwrap();
    let post = |role: Option<&'static str>| {
        let body = body.clone();
        let app = &app;
        async move {
            app.client
                .exchange(
                    axum::http::Method::POST,
                    "/v1/events/backfill",
                    role.map(|r| app.token(r)),
                    Some("application/json"),
                    body.into(),
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(post(None).await.status, 401);
    assert_eq!(post(Some("committee")).await.status, 403);
    assert_eq!(post(Some("auditor")).await.status, 403);
    let res = post(Some("admin")).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        post(Some("admin")).await.status,
        200,
        "a retry gets its receipts"
    );

    let evaluation = app
        .get("/v1/compliance?fy=2025&quarter=1", Some("auditor"))
        .await
        .json();
    let a17 = &evaluation["articles"][16];
    assert_eq!(a17["events"], 1);
    assert_eq!(a17["late_entries"], 1, "{a17}");
    app.stop().await;
}

/// What the writer commits reaches the projections without a trip through
/// the store, and the state it gives is the one a fold of the store gives.
pub async fn committed_groups_reach_the_projections_from_the_writer(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[sample().event_type.as_str()]).await;
    let state = &app.running.as_ref().unwrap().state;
    let (compliance, store) = (&state.compliance, &state.store);
    compliance.catch_up(store).await.unwrap();
    let before = compliance.catch_up_cost();
    let from = app.size().await;

    for _ in 0..3 {
        assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    }
    app.append_batch(&src, 10).await;
    let size = app.size().await;
    assert_eq!(size, from + 13);

    // No compliance request until the follower has them: a request would
    // catch up from the store itself.
    let waited = std::time::Instant::now();
    while compliance.size().await < size {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(20),
            "the projections did not follow"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let after = compliance.catch_up_cost();
    assert_eq!(after.entries - before.entries, 13);
    assert_eq!(after.handed_over - before.handed_over, 13, "{after:?}");
    assert_eq!(after.reading, before.reading, "nothing was read back");

    // The same state as a fold of the store's entries.
    let folded =
        daicho_server::compliance::fold_prefix(store, Catalogue::embedded(), size, &|_| {})
            .await
            .unwrap();
    let period = daicho_compliance::Period::fiscal_quarter(2026, 1).unwrap();
    let rulebook = daicho_compliance::Rulebook::embedded();
    let judge = |s: &daicho_compliance::State| {
        let projections: Vec<Value> = daicho_compliance::state::PROJECTIONS
            .iter()
            .map(|p| s.projection(p).unwrap())
            .collect();
        let evaluation = daicho_compliance::evaluate(
            Catalogue::embedded(),
            rulebook,
            s,
            period,
            Some((2026, 1)),
        );
        (
            s.size(),
            s.facts().len(),
            projections,
            evaluation.canonical_bytes(),
        )
    };
    let kept = compliance.with_state(store, None, judge).await.unwrap();
    assert_eq!(kept.0, size);
    assert!(
        kept == judge(&folded),
        "the state kept current differs from a fold of the store"
    );
    app.stop().await;
}
