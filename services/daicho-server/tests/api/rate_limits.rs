//! Rate limits per token and per source: a request over its limit gets 429
//! `rate_limited` with `Retry-After`, appends nothing, and passes once the
//! client waited that long.
//!
//! The rates are slow (one request every few seconds) so that no allowance
//! comes back while a test sends its requests, however loaded the machine.

use std::time::Duration;

use axum::http::Method;
use daicho_core::event::SignedEvent;
use daicho_core::keys::NoteSigner;
use daicho_server::auth;
use daicho_server::client::FullResponse;
use serde_json::{json, Value};

use super::harness::*;
use super::metrics::sample_value;

/// One allowance back every four seconds.
const RATE: f64 = 0.25;

/// A backfill of `events` with `token`.
async fn backfill(app: &TestApp, token: &str, events: &[SignedEvent]) -> FullResponse {
    let events: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_slice(&e.canonical_bytes()).unwrap())
        .collect();
    app.client
        .exchange(
            Method::POST,
            "/v1/events/backfill",
            Some(token),
            Some("application/json"),
            serde_json::to_vec(&json!({ "events": events }))
                .unwrap()
                .into(),
        )
        .await
        .unwrap()
}

/// A new administrator's token.
async fn another_admin_token(app: &TestApp) -> String {
    let token = auth::new_token();
    app.running
        .as_ref()
        .unwrap()
        .state
        .store
        .insert_token(auth::token_hash(&token), "admin", "second")
        .await
        .unwrap();
    token
}

/// Checks a 429: the problem's code and a `Retry-After` of whole seconds,
/// at least 1 and at most the time one allowance takes to come back.
/// Returns it.
fn retry_after(res: &FullResponse) -> Duration {
    assert_eq!(res.status, 429, "{}", res.text());
    assert_eq!(problem(res)["code"], "rate_limited");
    let header = res.header("retry-after").expect("a Retry-After header");
    let secs: u64 = header.parse().expect("Retry-After in whole seconds");
    assert!(
        (1..=(1.0 / RATE).ceil() as u64).contains(&secs),
        "Retry-After {secs}"
    );
    Duration::from_secs(secs)
}

/// Whether the event is in the ledger.
async fn stored(app: &TestApp, event: &SignedEvent) -> bool {
    let path = format!("/v1/events/by-id/{}", event.body.event_id);
    let res = app.get(&path, Some("auditor")).await;
    match res.status.as_u16() {
        200 => true,
        404 => false,
        s => panic!("{s}: {}", res.text()),
    }
}

/// A token over its limit is refused with 429 while another token goes
/// on; the refused backfill appends nothing, and the same request passes
/// after `Retry-After`.
pub async fn a_token_over_its_limit_is_refused_until_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |cfg| {
        cfg.rate_limits.token_per_second = Some(RATE);
        cfg.rate_limits.token_burst = Some(2);
    })
    .await;
    let src = app.register_source(&[]).await;
    let admin = app.token("admin").to_owned();
    for _ in 0..2 {
        let res = backfill(&app, &admin, &[src.sample_event()]).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let size = app.size().await;
    let event = src.sample_event();
    let refused = backfill(&app, &admin, std::slice::from_ref(&event)).await;
    let wait = retry_after(&refused);
    // Every route that takes the token refuses it now.
    retry_after(&app.get("/v1/checkpoint", Some("admin")).await);
    assert!(!stored(&app, &event).await, "a refused request appended");
    assert_eq!(app.size().await, size);

    // Another token is not held back.
    let second = another_admin_token(&app).await;
    let res = backfill(&app, &second, &[src.sample_event()]).await;
    assert_eq!(res.status, 201, "{}", res.text());

    tokio::time::sleep(wait).await;
    let res = backfill(&app, &admin, std::slice::from_ref(&event)).await;
    assert_eq!(
        res.status,
        201,
        "after Retry-After, the refused event is appended anew: {}",
        res.text()
    );
    assert!(stored(&app, &event).await);
    let m = app.get("/metrics", None).await.text();
    assert_eq!(
        sample_value(&m, "daicho_rate_limited_requests_total{limit=\"token\"}"),
        2.0
    );
    app.stop().await;
}

/// A source over its limit is refused whatever token brings its events
/// (and without one), a batch counting each event, while another source
/// goes on; the refused requests append nothing, and the source's event
/// passes after `Retry-After`.
pub async fn a_source_over_its_limit_is_refused_across_tokens(backend: Backend) {
    let app = spawn_app_with(backend, |cfg| {
        cfg.rate_limits.source_per_second = Some(RATE);
        cfg.rate_limits.source_burst = Some(TEST_MAX_BATCH as u32);
    })
    .await;
    let limited = app.register_source(&[]).await;
    let other = app.register_source(&[]).await;
    // An event naming the source, signed by a key nobody registered, is
    // refused by the writer and spends none of the source's allowance.
    let forger = NoteSigner::from_seed("forger", [7; 32]).unwrap();
    let s = sample();
    let forged = sign_event(
        &forger,
        &limited.name,
        &s.event_type,
        s.version,
        &s.role,
        s.payload,
    );
    let res = app.post_event(&forged).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(problem(&res)["code"], "unknown_key");
    // One batch spends the source's whole burst (and would be refused had
    // the forgery spent any of it).
    let batch: Vec<SignedEvent> = (0..TEST_MAX_BATCH)
        .map(|_| limited.sample_event())
        .collect();
    let body = json!({ "events": batch });
    let res = app
        .post_raw("/v1/events/batch", serde_json::to_vec(&body).unwrap())
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let size = app.size().await;

    let first = another_admin_token(&app).await;
    let second = another_admin_token(&app).await;
    let event = limited.sample_event();
    retry_after(&backfill(&app, &first, std::slice::from_ref(&event)).await);
    let wait = retry_after(&backfill(&app, &second, std::slice::from_ref(&event)).await);
    retry_after(&app.post_event(&event).await);
    // A batch holding one of its events is refused whole.
    let mixed = json!({ "events": [other.sample_event(), event.clone()] });
    retry_after(
        &app.post_raw("/v1/events/batch", serde_json::to_vec(&mixed).unwrap())
            .await,
    );
    assert!(!stored(&app, &event).await, "a refused request appended");
    assert_eq!(app.size().await, size);

    // Another source, with the same token, is not held back.
    let res = backfill(&app, &first, &[other.sample_event()]).await;
    assert_eq!(res.status, 201, "{}", res.text());

    tokio::time::sleep(wait).await;
    let res = backfill(&app, &second, std::slice::from_ref(&event)).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert!(stored(&app, &event).await);
    let m = app.get("/metrics", None).await.text();
    assert_eq!(
        sample_value(&m, "daicho_rate_limited_requests_total{limit=\"source\"}"),
        4.0
    );
    // The four 429s and the forgery.
    assert_eq!(
        sample_value(&m, "daicho_append_requests_total{outcome=\"refused\"}"),
        5.0
    );
    app.stop().await;
}
