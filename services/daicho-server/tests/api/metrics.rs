//! The gauges an operator alerts on, read from a scrape of `/metrics`.

use std::time::Instant;

use serde_json::json;

use super::harness::*;

/// The value of the sample `series` (name and labels, as rendered).
pub fn sample_value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{metrics}"))
        .parse()
        .unwrap_or_else(|e| panic!("{series}: {e}"))
}

/// The tree size is the number of entries appended, the newest checkpoint
/// is younger than the appends that made it, the writer is healthy, and
/// the pool shows its connections within the configured maximum.
pub async fn metrics_show_the_ledger_the_writer_and_the_pool(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    let started = Instant::now();
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    let batch = json!({ "events": [src.sample_event(), src.sample_event()] });
    let res = app
        .post_raw("/v1/events/batch", serde_json::to_vec(&batch).unwrap())
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let m = app.get("/metrics", None).await;
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(
        m.content_type.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let m = m.text();

    // The genesis, the registration, one event and a batch of two.
    assert_eq!(sample_value(&m, "daicho_tree_size"), 5.0);
    assert_eq!(app.size().await, 5);
    assert_eq!(sample_value(&m, "daicho_appended_events_total"), 4.0);
    // The newest checkpoint was signed by the batch's commit, after
    // `started`.
    let age = sample_value(&m, "daicho_checkpoint_age_seconds");
    assert!((0.0..=elapsed).contains(&age), "{age} not in 0..={elapsed}");

    assert_eq!(sample_value(&m, "daicho_writer_healthy"), 1.0);
    assert_eq!(sample_value(&m, "daicho_writer_state{state=\"ok\"}"), 1.0);
    assert_eq!(
        sample_value(&m, "daicho_writer_state{state=\"storage_unavailable\"}"),
        0.0
    );
    assert_eq!(
        sample_value(&m, "daicho_writer_state{state=\"failing\"}"),
        0.0
    );

    // daicho-store opens at most 8 connections per pool.
    let max = sample_value(&m, "daicho_db_connections_max");
    assert_eq!(max, 8.0);
    let in_use = sample_value(&m, "daicho_db_connections_in_use");
    let idle = sample_value(&m, "daicho_db_connections_idle");
    // The pool has served the reads above, and keeps what it opened.
    assert!(in_use + idle >= 1.0, "in use {in_use}, idle {idle}");
    assert!(in_use + idle <= max, "in use {in_use}, idle {idle}");

    assert_eq!(
        sample_value(&m, "daicho_rate_limited_requests_total{limit=\"token\"}"),
        0.0
    );
    app.stop().await;
}
