//! The API suite. Every function takes the backend and runs the same
//! requests and assertions on it.

use daicho_core::receipt::Receipt;
use serde_json::{json, Value};

use super::harness::*;

pub async fn happy_path_receipt_reads_proofs_export(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    let event = src.sample_event();
    let res = app.post_event(&event).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let receipt: Receipt = serde_json::from_slice(&res.body).unwrap();
    // Offline: nothing but the ledger key and the event.
    let cp = receipt.verify(&app.ledger_key, Some(&event)).unwrap();
    assert_eq!(receipt.entry.seq, 2);
    assert_eq!(cp.size, 3);

    // Read back by seq and by id: the exact event.
    for path in [
        format!("/v1/events/{}", receipt.entry.seq),
        format!("/v1/events/by-id/{}", event.body.event_id),
    ] {
        let res = app.get(&path, Some("auditor")).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        let v = res.json();
        assert_eq!(v["seq"], 2);
        assert_eq!(v["entry_hash"], receipt.entry_hash.to_hex());
        let back = daicho_core::event::SignedEvent::from_value(v["event"].clone()).unwrap();
        assert_eq!(back, event);
    }

    // Proofs verify against the checkpoint.
    let res = app
        .get(
            &format!("/v1/proofs/inclusion?seq=2&size={}", cp.size),
            Some("reader"),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let v = res.json();
    let hashes: Vec<String> = serde_json::from_value(v["hashes"].clone()).unwrap();
    let proof = daicho_core::merkle::parse_proof_hashes(&hashes).unwrap();
    daicho_core::merkle::verify_inclusion(2, cp.size, &receipt.entry_hash, &proof, &cp.root)
        .unwrap();

    let first = app.post_event(&src.sample_event()).await;
    assert_eq!(first.status, 201);
    let later = app.checkpoint().await;
    let res = app
        .get(
            &format!("/v1/proofs/consistency?from={}&to={}", cp.size, later.size),
            Some("reader"),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let hashes: Vec<String> = serde_json::from_value(res.json()["hashes"].clone()).unwrap();
    let proof = daicho_core::merkle::parse_proof_hashes(&hashes).unwrap();
    daicho_core::merkle::verify_consistency(cp.size, later.size, &cp.root, &later.root, &proof)
        .unwrap();

    // The stored checkpoint of the receipt's size is the receipt's.
    let res = app
        .get(&format!("/v1/checkpoints/{}", cp.size), Some("reader"))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), receipt.checkpoint);

    assert_eq!(app.export_verified().await, later.size);
    app.stop().await;
}

pub async fn idempotent_retry_returns_the_original_receipt(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    let event = src.sample_event();
    let first = app.post_event(&event).await;
    assert_eq!(first.status, 201);
    let size = app.size().await;
    let again = app.post_event(&event).await;
    assert_eq!(again.status, 200, "{}", again.text());
    let a: Receipt = serde_json::from_slice(&first.body).unwrap();
    let b: Receipt = serde_json::from_slice(&again.body).unwrap();
    assert_eq!(a.entry, b.entry);
    b.verify(&app.ledger_key, Some(&event)).unwrap();
    assert_eq!(app.size().await, size);
    app.stop().await;
}

pub async fn batch_appends_all_or_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    let events: Vec<_> = (0..5).map(|_| src.sample_event()).collect();
    let body = json!({ "events": events });
    let res = app
        .post_raw("/v1/events/batch", serde_json::to_vec(&body).unwrap())
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let receipts: Vec<Receipt> = serde_json::from_value(res.json()["receipts"].clone()).unwrap();
    assert_eq!(receipts.len(), 5);
    for (r, e) in receipts.iter().zip(&events) {
        r.verify(&app.ledger_key, Some(e)).unwrap();
    }
    let seqs: Vec<u64> = receipts.iter().map(|r| r.entry.seq).collect();
    assert_eq!(seqs, vec![2, 3, 4, 5, 6]);
    assert_eq!(app.export_verified().await, 7);
    app.stop().await;
}

/// One bad input: what to send, and the status, code and pointer expected.
struct Bad {
    name: &'static str,
    path: &'static str,
    body: Vec<u8>,
    content_type: &'static str,
    status: u16,
    code: &'static str,
    pointer: Option<&'static str>,
}

pub async fn bad_inputs_are_refused_and_leave_the_ledger_unchanged(backend: Backend) {
    let app = spawn_app(backend).await;
    let sample = sample();
    let src = app.register_source(&[]).await;
    let revoked = app.register_source(&[]).await;
    app.revoke(&revoked).await;
    let other_type = "zz_test.other_scope";
    let narrow = app.register_source(&[other_type]).await;
    let unknown = {
        let signer = daicho_server::keyfile::generate("stranger").unwrap();
        Source {
            signer,
            name: "stranger".into(),
        }
    };
    let replayed = src.sample_event();
    assert_eq!(app.post_event(&replayed).await.status, 201);

    let good = src.sample_event();
    let good_value = serde_json::to_value(&good).unwrap();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good_value.clone();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let mut bad_sig = good.clone();
    bad_sig.signature = src.sample_event().signature;
    let replay_changed = {
        let mut u = replayed.body.clone();
        u.actor.id = daicho_core::event::Label::parse("someone-else").unwrap();
        u.sign(&src.signer)
    };
    let one_bad_batch = {
        let mut second = src.sample_event();
        second.signature = good.signature;
        serde_json::to_vec(&json!({ "events": [src.sample_event(), second, src.sample_event()] }))
            .unwrap()
    };
    let too_many = serde_json::to_vec(&json!({
        "events": (0..TEST_MAX_BATCH + 1).map(|_| src.sample_event()).collect::<Vec<_>>()
    }))
    .unwrap();
    let huge = with(&|v| v["payload"]["zz_padding"] = json!("x".repeat(TEST_MAX_BODY)));
    let old = with(&|v| v["occurred_at"] = json!("2001-01-01T00:00:00+09:00"));

    let table = vec![
        Bad {
            name: "malformed JSON",
            path: "/v1/events",
            body: b"{\"event_id\": ".to_vec(),
            content_type: "application/json",
            status: 400,
            code: "malformed_json",
            pointer: Some(""),
        },
        Bad {
            name: "duplicate key",
            path: "/v1/events",
            body: br#"{"a":1,"a":2}"#.to_vec(),
            content_type: "application/json",
            status: 400,
            code: "malformed_json",
            pointer: Some(""),
        },
        Bad {
            name: "not JSON media type",
            path: "/v1/events",
            body: good.canonical_bytes(),
            content_type: "text/plain",
            status: 415,
            code: "unsupported_media_type",
            pointer: None,
        },
        Bad {
            name: "wrong type",
            path: "/v1/events",
            body: with(&|v| v["schema_version"] = json!("1")),
            content_type: "application/json",
            status: 422,
            code: "invalid_request",
            pointer: Some("/schema_version"),
        },
        Bad {
            name: "missing field",
            path: "/v1/events",
            body: with(&|v| {
                v.as_object_mut().unwrap().remove("actor");
            }),
            content_type: "application/json",
            status: 422,
            code: "invalid_request",
            pointer: Some("/actor"),
        },
        Bad {
            name: "unknown field",
            path: "/v1/events",
            body: with(&|v| v["extra"] = json!(1)),
            content_type: "application/json",
            status: 422,
            code: "invalid_request",
            pointer: Some("/extra"),
        },
        Bad {
            name: "unknown key",
            path: "/v1/events",
            body: unknown.sample_event().canonical_bytes(),
            content_type: "application/json",
            status: 403,
            code: "unknown_key",
            pointer: Some("/key_id"),
        },
        Bad {
            name: "revoked key",
            path: "/v1/events",
            body: revoked.sample_event().canonical_bytes(),
            content_type: "application/json",
            status: 403,
            code: "key_revoked",
            pointer: Some("/key_id"),
        },
        Bad {
            name: "bad signature",
            path: "/v1/events",
            body: bad_sig.canonical_bytes(),
            content_type: "application/json",
            status: 403,
            code: "bad_signature",
            pointer: Some("/signature"),
        },
        Bad {
            name: "type outside the key's scope",
            path: "/v1/events",
            body: narrow.sample_event().canonical_bytes(),
            content_type: "application/json",
            status: 403,
            code: "type_out_of_scope",
            pointer: Some("/type"),
        },
        Bad {
            name: "replay with different content",
            path: "/v1/events",
            body: replay_changed.canonical_bytes(),
            content_type: "application/json",
            status: 409,
            code: "event_id_conflict",
            pointer: Some("/event_id"),
        },
        Bad {
            name: "oversize body",
            path: "/v1/events",
            body: huge,
            content_type: "application/json",
            status: 413,
            code: "body_too_large",
            pointer: None,
        },
        Bad {
            name: "oversize batch",
            path: "/v1/events/batch",
            body: too_many,
            content_type: "application/json",
            status: 422,
            code: "batch_too_large",
            pointer: Some("/events"),
        },
        Bad {
            name: "empty batch",
            path: "/v1/events/batch",
            body: br#"{"events":[]}"#.to_vec(),
            content_type: "application/json",
            status: 422,
            code: "batch_too_large",
            pointer: Some("/events"),
        },
        Bad {
            name: "one bad event in a batch",
            path: "/v1/events/batch",
            body: one_bad_batch,
            content_type: "application/json",
            status: 403,
            code: "bad_signature",
            pointer: Some("/events/1/signature"),
        },
        Bad {
            name: "occurred_at outside the window",
            path: "/v1/events",
            body: old,
            content_type: "application/json",
            status: 422,
            code: "occurred_at_out_of_window",
            pointer: Some("/occurred_at"),
        },
    ];
    let _ = sample;

    let size = app.size().await;
    let exported = app.export_verified().await;
    assert_eq!(exported, size);
    for bad in table {
        let res = app
            .client
            .exchange(
                hyper::Method::POST,
                bad.path,
                None,
                Some(bad.content_type),
                bad.body.into(),
            )
            .await
            .unwrap();
        assert_eq!(
            res.status.as_u16(),
            bad.status,
            "{}: {}",
            bad.name,
            res.text()
        );
        let p = problem(&res);
        assert_eq!(p["code"], bad.code, "{}: {p}", bad.name);
        assert_eq!(p["status"], bad.status, "{}", bad.name);
        if let Some(ptr) = bad.pointer {
            assert!(
                pointers(&p).iter().any(|x| x == ptr),
                "{}: expected pointer {ptr:?} in {p}",
                bad.name
            );
        }
        // The ledger is unchanged, and still verifies.
        assert_eq!(app.size().await, size, "{} changed the ledger", bad.name);
        assert_eq!(app.export_verified().await, size, "{}", bad.name);
    }
    app.stop().await;
}

pub async fn catalogue_violations_name_every_pointer(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = sample();
    let src = app.register_source(&[]).await;
    let size = app.size().await;
    let app = &app;
    let src = &src;
    let post = |event_type: String,
                version: u32,
                role: String,
                payload: serde_json::Map<String, Value>| {
        let e = sign_event(&src.signer, &src.name, &event_type, version, &role, payload);
        async move { app.post_event(&e).await }
    };
    // Unknown type, version, role.
    let cases = [
        (
            post(
                "zz_test.unknown_type".into(),
                1,
                s.role.clone(),
                s.payload.clone(),
            )
            .await,
            "unknown_event_type",
            "/type",
        ),
        (
            post(s.event_type.clone(), 999, s.role.clone(), s.payload.clone()).await,
            "unknown_schema_version",
            "/schema_version",
        ),
        (
            post(
                s.event_type.clone(),
                s.version,
                "zz_not_a_role".into(),
                s.payload.clone(),
            )
            .await,
            "unknown_actor_role",
            "/actor/role",
        ),
    ];
    for (res, code, ptr) in cases {
        assert_eq!(res.status, 422, "{}", res.text());
        let p = problem(&res);
        assert_eq!(p["code"], code);
        assert_eq!(pointers(&p), vec![ptr.to_owned()], "{p}");
    }
    // A payload with two faults: both are listed, under /payload.
    let mut payload = s.payload.clone();
    let mut expected = Vec::new();
    if let Some(req) = &s.required {
        payload.remove(req);
        expected.push(format!("/payload/{req}"));
    }
    if s.closed {
        payload.insert("zz_unknown".into(), json!(1));
        expected.push("/payload/zz_unknown".to_owned());
    }
    assert!(
        !expected.is_empty(),
        "the sample type has no required or closed properties"
    );
    let res = post(s.event_type.clone(), s.version, s.role.clone(), payload).await;
    assert_eq!(res.status, 422, "{}", res.text());
    let p = problem(&res);
    assert_eq!(p["code"], "invalid_payload");
    let got = pointers(&p);
    for e in &expected {
        assert!(got.contains(e), "expected {e} in {got:?}");
    }
    assert_eq!(app.size().await, size);
    assert_eq!(app.export_verified().await, size);
}

pub async fn auth_matrix_and_no_existence_leak(backend: Backend) {
    let app = spawn_app(backend).await;
    // (path, roles allowed)
    let matrix: &[(&str, &[&str])] = &[
        ("/v1/events", &["committee", "auditor", "admin"]),
        ("/v1/events/0", &["committee", "auditor", "admin"]),
        ("/v1/keys", &["committee", "auditor", "admin"]),
        ("/v1/export", &["auditor", "admin"]),
        (
            "/v1/checkpoint",
            &["reader", "committee", "auditor", "admin"],
        ),
        (
            "/v1/checkpoints/1",
            &["reader", "committee", "auditor", "admin"],
        ),
        (
            "/v1/proofs/inclusion?seq=0&size=1",
            &["reader", "committee", "auditor", "admin"],
        ),
        (
            "/v1/proofs/consistency?from=1&to=1",
            &["reader", "committee", "auditor", "admin"],
        ),
        ("/v1/articles", &["reader", "committee", "auditor", "admin"]),
        (
            "/v1/event-types",
            &["reader", "committee", "auditor", "admin"],
        ),
    ];
    for (path, allowed) in matrix {
        let res = app.client.get(path, None).await.unwrap();
        assert_eq!(res.status, 401, "{path} without a token");
        assert_eq!(problem(&res)["code"], "unauthorized");
        let res = app.client.get(path, Some("daicho_wrong")).await.unwrap();
        assert_eq!(res.status, 401, "{path} with a wrong token");
        for role in ["reader", "committee", "auditor", "admin"] {
            let res = app.get(path, Some(role)).await;
            let expect = if allowed.contains(&role) { 200 } else { 403 };
            assert_eq!(res.status, expect, "{path} as {role}: {}", res.text());
        }
    }
    // A missing resource and an existing one look the same to a caller
    // without the right: 401 or 403, never 404.
    for path in [
        "/v1/events/0",
        "/v1/events/999999",
        "/v1/events/by-id/00000000-0000-4000-8000-000000000000",
        "/v1/events/not-a-number",
    ] {
        assert_eq!(
            app.client.get(path, None).await.unwrap().status,
            401,
            "{path}"
        );
        assert_eq!(app.get(path, Some("reader")).await.status, 403, "{path}");
    }
    assert_eq!(
        app.get("/v1/events/999999", Some("auditor")).await.status,
        404
    );
    app.stop().await;
}

pub async fn public_checkpoint_by_configuration(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.public_checkpoint = true).await;
    let res = app.client.get("/v1/checkpoint", None).await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(
        res.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
    daicho_core::checkpoint::Checkpoint::open(&res.text(), &app.ledger_key).unwrap();
    // Only the latest checkpoint is public.
    assert_eq!(
        app.client
            .get("/v1/checkpoints/1", None)
            .await
            .unwrap()
            .status,
        401
    );
    app.stop().await;
}

pub async fn pagination_follows_the_cursor(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    let events: Vec<_> = (0..7).map(|_| src.sample_event()).collect();
    let res = app
        .post_raw(
            "/v1/events/batch",
            serde_json::to_vec(&json!({ "events": events })).unwrap(),
        )
        .await;
    assert_eq!(res.status, 201);
    let mut seen = Vec::new();
    let mut path = "/v1/events?limit=3".to_owned();
    loop {
        let res = app.get(&path, Some("committee")).await;
        assert_eq!(res.status, 200, "{}", res.text());
        let v = res.json();
        for e in v["entries"].as_array().unwrap() {
            seen.push(e["seq"].as_u64().unwrap());
        }
        match v["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, (0..9).collect::<Vec<_>>());
    let res = app.get("/v1/events?after=7", Some("committee")).await;
    assert_eq!(res.json()["entries"].as_array().unwrap().len(), 1);
    assert!(res.json().get("next").is_none());
    let res = app.get("/v1/events?limit=x", Some("committee")).await;
    assert_eq!(res.status, 400);
    assert_eq!(problem(&res)["code"], "invalid_parameter");
    let res = app.get("/v1/events?bogus=1", Some("committee")).await;
    assert_eq!(res.status, 400, "unknown query parameters are refused");
    app.stop().await;
}

pub async fn keys_as_of_a_past_seq(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.register_source(&[]).await; // seq 1
    app.revoke(&a).await; // seq 2
    let now = app.get("/v1/keys", Some("committee")).await.json();
    let then = app.get("/v1/keys?as_of=1", Some("committee")).await.json();
    let find = |v: &Value| {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["key_id"] == a.signer.key_id().as_str())
            .cloned()
            .unwrap()
    };
    assert_eq!(find(&now)["revoked_at"], 2);
    assert_eq!(find(&then)["revoked_at"], Value::Null);
    assert_eq!(then["as_of"], 1);
    let genesis = app.get("/v1/keys?as_of=0", Some("committee")).await.json();
    assert_eq!(genesis["keys"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.get("/v1/keys?as_of=99", Some("committee")).await.status,
        400
    );
    app.stop().await;
}

pub async fn catalogue_endpoints(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = daicho_catalogue::Catalogue::embedded();
    let v = app.get("/v1/articles", Some("reader")).await.json();
    assert_eq!(v["articles"].as_array().unwrap().len(), c.articles().len());
    let a1 = app.get("/v1/articles/1", Some("reader")).await;
    assert_eq!(a1.status, 200);
    assert_eq!(
        app.get("/v1/articles/100000", Some("reader")).await.status,
        404
    );
    assert_eq!(
        app.get("/v1/forms", Some("reader")).await.json()["forms"]
            .as_array()
            .unwrap()
            .len(),
        c.forms().len()
    );
    assert_eq!(
        app.get("/v1/roles", Some("reader")).await.json()["roles"]
            .as_array()
            .unwrap()
            .len(),
        c.roles().len()
    );
    let types = app.get("/v1/event-types", Some("reader")).await.json();
    assert_eq!(
        types["event_types"].as_array().unwrap().len(),
        c.event_types().len()
    );
    let s = sample();
    let t = app
        .get(&format!("/v1/event-types/{}", s.event_type), Some("reader"))
        .await;
    assert_eq!(t.status, 200);
    assert!(t.json()["versions"][0]["schema"].is_object());
    assert_eq!(
        app.get("/v1/event-types/zz.none", Some("reader"))
            .await
            .status,
        404
    );
    app.stop().await;
}

pub async fn ops_endpoints(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    assert_eq!(app.client.get("/healthz", None).await.unwrap().status, 200);
    let ready = app.client.get("/readyz", None).await.unwrap();
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["tree_size"], 3);
    let m = app.client.get("/metrics", None).await.unwrap().text();
    assert!(m.contains("daicho_appended_events_total 2\n"), "{m}");
    assert!(m.contains("daicho_tree_size 3\n"), "{m}");
    assert!(
        m.contains("daicho_append_duration_seconds_count 2\n"),
        "{m}"
    );
    assert!(m.contains("daicho_checkpoint_age_seconds "), "{m}");
    let docs = app.client.get("/docs/", None).await.unwrap();
    assert_eq!(docs.status, 200);
    assert!(
        docs.text().contains("swagger"),
        "Swagger UI is served from the binary"
    );
    let spec = app.client.get("/openapi.json", None).await.unwrap();
    assert_eq!(spec.status, 200);
    assert_eq!(spec.json()["info"]["title"], "daicho");
    let unknown = app.client.get("/v1/nothing", None).await.unwrap();
    assert_eq!(unknown.status, 404);
    assert_eq!(problem(&unknown)["code"], "not_found");
    let res = app.client.get("/healthz", None).await.unwrap();
    let _ = res;
    app.stop().await;
}

pub async fn restart_keeps_the_ledger(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    let before = app.checkpoint().await;
    app.running.take().unwrap().shutdown().await.unwrap();
    let cfg = test_config(app.dir.path().join("data"), app.database_url.clone());
    let running = daicho_server::app::start(cfg).await.unwrap();
    app.client = daicho_server::client::Client::new(&format!("http://{}", running.addr)).unwrap();
    app.running = Some(running);
    let after = app.checkpoint().await;
    assert_eq!(before.size, after.size);
    assert_eq!(before.root, after.root);
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    assert_eq!(app.export_verified().await, 4);
    app.stop().await;
}

/// Issue 4's table of invalid payloads through the door: each is refused
/// with 422 `invalid_payload` and exactly the pointers at fault, and the
/// ledger is unchanged after every one.
pub async fn invalid_payload_table(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&["usb.taken_out"]).await;
    let size = app.size().await;
    let example = json!({
        "device": {"asset_id": "USB-0042", "kind": "usb_memory", "serial": "HWENC-88120"},
        "carrier": {"name": "亀岡 太郎", "staff_id": "K-10234"},
        "reason": "exchange_with_government_or_contractor",
        "ledger_entry": {"form": 13, "application_id": "L13-2026-0041"},
    });
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = example.clone();
        f(&mut v);
        v.as_object().unwrap().clone()
    };
    let table: Vec<(&str, serde_json::Map<String, Value>, Vec<&str>)> = vec![
        (
            "missing field",
            edit(&|v| {
                v.as_object_mut().unwrap().remove("reason");
            }),
            vec!["/payload/reason"],
        ),
        (
            "wrong type",
            edit(&|v| v["device"] = json!("USB-0042")),
            vec!["/payload/device"],
        ),
        (
            "unknown field",
            edit(&|v| v["colour"] = json!("red")),
            vec!["/payload/colour"],
        ),
        (
            "bad enum",
            edit(&|v| v["reason"] = json!("because")),
            vec!["/payload/reason"],
        ),
        (
            "nested missing field",
            edit(&|v| {
                v["device"].as_object_mut().unwrap().remove("kind");
            }),
            vec!["/payload/device/kind"],
        ),
        (
            "nested unknown field",
            edit(&|v| v["device"]["owner"] = json!("x")),
            vec!["/payload/device/owner"],
        ),
        (
            "two faults at once",
            edit(&|v| {
                v["reason"] = json!(7);
                v["ledger_entry"]["form"] = json!("13");
            }),
            vec!["/payload/reason", "/payload/ledger_entry/form"],
        ),
    ];
    for (name, payload, want) in table {
        let e = sign_event(
            &src.signer,
            &src.name,
            "usb.taken_out",
            1,
            "info_manager",
            payload,
        );
        let res = app.post_event(&e).await;
        assert_eq!(res.status, 422, "{name}: {}", res.text());
        let p = problem(&res);
        assert_eq!(p["code"], "invalid_payload", "{name}: {p}");
        let mut got = pointers(&p);
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        assert_eq!(got, want, "{name}: {p}");
        assert_eq!(app.size().await, size, "{name} changed the ledger");
    }
    // The untouched example is accepted, so the refusals above were the faults'.
    let ok = sign_event(
        &src.signer,
        &src.name,
        "usb.taken_out",
        1,
        "info_manager",
        example.as_object().unwrap().clone(),
    );
    assert_eq!(app.post_event(&ok).await.status, 201);
    assert_eq!(app.export_verified().await, size + 1);
}

/// Issue 3 point 2: the same event id with the same bytes answers with the
/// original receipt even when the event would be refused today (its key
/// revoked since); other bytes under that id are a conflict, not a
/// signature refusal.
pub async fn retry_after_revocation_returns_the_original_receipt(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    let event = src.sample_event();
    let first = app.post_event(&event).await;
    assert_eq!(first.status, 201, "{}", first.text());
    app.revoke(&src).await;
    let size = app.size().await;

    let again = app.post_event(&event).await;
    assert_eq!(again.status, 200, "{}", again.text());
    let a: Receipt = serde_json::from_slice(&first.body).unwrap();
    let b: Receipt = serde_json::from_slice(&again.body).unwrap();
    assert_eq!(a.entry.seq, b.entry.seq);
    assert_eq!(a.entry_hash, b.entry_hash);
    b.verify(&app.ledger_key, Some(&event)).unwrap();

    // In a batch too, beside another retry.
    let body = json!({ "events": [event, event] });
    let res = app
        .post_raw("/v1/events/batch", serde_json::to_vec(&body).unwrap())
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let receipts: Vec<Receipt> = serde_json::from_value(res.json()["receipts"].clone()).unwrap();
    assert!(receipts.iter().all(|r| r.entry_hash == a.entry_hash));

    // The same id with other content (still valid for its schema): the
    // revoked key no longer authorises anything, so the refusal is
    // `key_revoked`, and a key that cannot sign learns nothing of which ids
    // are stored.
    let mut other = event.body.clone();
    other.occurred_at = daicho_core::timestamp::OccurredAt::parse(&now_rfc3339()).unwrap();
    let other = other.sign(&src.signer);
    let res = app.post_event(&other).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(problem(&res)["code"], "key_revoked");

    // A new event under the revoked key is still refused.
    let res = app.post_event(&src.sample_event()).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(problem(&res)["code"], "key_revoked");

    assert_eq!(app.size().await, size);
    assert_eq!(app.export_verified().await, size);
    app.stop().await;
}

/// A retry of an event whose `occurred_at` has left the window since it
/// was appended still gets its original receipt.
pub async fn retry_after_the_window_returns_the_original_receipt(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.max_past_secs = 2).await;
    let src = app.register_source(&[]).await;
    let event = src.sample_event();
    let first = app.post_event(&event).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let size = app.size().await;
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    // A new event that old is refused...
    let mut old = src.sample_event().body;
    old.occurred_at = event.body.occurred_at.clone();
    let res = app.post_event(&old.sign(&src.signer)).await;
    assert_eq!(problem(&res)["code"], "occurred_at_out_of_window");
    // ...but the appended one is a retry.
    let again = app.post_event(&event).await;
    assert_eq!(again.status, 200, "{}", again.text());
    let a: Receipt = serde_json::from_slice(&first.body).unwrap();
    let b: Receipt = serde_json::from_slice(&again.body).unwrap();
    assert_eq!((a.entry.seq, a.entry_hash), (b.entry.seq, b.entry_hash));
    assert_eq!(app.size().await, size);
    app.stop().await;
}

fn appended_total(metrics: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("daicho_appended_events_total "))
        .expect("the series is rendered")
        .parse()
        .unwrap()
}

/// `daicho_appended_events_total` counts entries, not answers: retries
/// (single, in a batch, or twice in one batch) add nothing.
pub async fn metrics_do_not_count_retries(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    let event = src.sample_event();
    assert_eq!(app.post_event(&event).await.status, 201);
    let metrics = || async { app.client.get("/metrics", None).await.unwrap().text() };
    let before = appended_total(&metrics().await);
    assert_eq!(before, 2, "the registration and the event");
    assert_eq!(app.post_event(&event).await.status, 200);
    assert_eq!(appended_total(&metrics().await), before);

    let fresh = src.sample_event();
    let body = json!({ "events": [event, fresh, fresh] });
    let res = app
        .post_raw("/v1/events/batch", serde_json::to_vec(&body).unwrap())
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(appended_total(&metrics().await), before + 1);
    assert_eq!(app.size().await, 4);
    app.stop().await;
}

/// Query and path refusals name the parameter; numbers no entry can have
/// are refused at the door, never a 500; every endpoint refuses unknown
/// query parameters.
pub async fn parameter_refusals_name_the_parameter(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    assert_eq!(app.post_event(&src.sample_event()).await.status, 201);
    let id = new_event_id();
    let beyond = "9007199254740992"; // 2^53, one past the largest position
    let huge = "18446744073709551616"; // u64::MAX + 1
    let cases: Vec<(String, &str)> = vec![
        ("/v1/proofs/inclusion?seq=abc".into(), "seq"),
        ("/v1/proofs/inclusion?seq=0&bogus=1".into(), "bogus"),
        ("/v1/proofs/inclusion".into(), "seq"),
        (format!("/v1/proofs/inclusion?seq={beyond}"), "seq"),
        (format!("/v1/proofs/inclusion?seq=0&size={huge}"), "size"),
        (format!("/v1/proofs/consistency?from=1&to={beyond}"), "to"),
        ("/v1/proofs/consistency?from=-1".into(), "from"),
        (format!("/v1/keys?as_of={beyond}"), "as_of"),
        ("/v1/keys?x=1".into(), "x"),
        ("/v1/events/abc".into(), "seq"),
        (format!("/v1/events/{beyond}"), "seq"),
        (format!("/v1/events/{huge}"), "seq"),
        (format!("/v1/events?after={beyond}"), "after"),
        ("/v1/events?limit=x".into(), "limit"),
        ("/v1/events?limit=0".into(), "limit"),
        ("/v1/events?limit=1001".into(), "limit"),
        ("/v1/proofs/consistency?from=0".into(), "from"),
        ("/v1/events?page=2".into(), "page"),
        ("/v1/events/0?x=1".into(), "x"),
        (format!("/v1/events/by-id/{id}?x=1"), "x"),
        ("/v1/checkpoint?foo=1".into(), "foo"),
        (format!("/v1/checkpoints/{beyond}"), "size"),
        ("/v1/checkpoints/abc".into(), "size"),
        ("/v1/checkpoints/1?x=1".into(), "x"),
        ("/v1/export?x=1".into(), "x"),
        ("/v1/articles?x=1".into(), "x"),
        ("/v1/articles/abc".into(), "n"),
        ("/v1/articles/1?x=1".into(), "x"),
        ("/v1/forms?x=1".into(), "x"),
        ("/v1/roles?x=1".into(), "x"),
        ("/v1/event-types?x=1".into(), "x"),
        ("/v1/event-types/zz.none?x=1".into(), "x"),
        ("/healthz?x=1".into(), "x"),
        ("/readyz?x=1".into(), "x"),
        ("/metrics?x=1".into(), "x"),
    ];
    for (path, pointer) in &cases {
        let res = app.get(path, Some("admin")).await;
        assert_eq!(res.status, 400, "{path}: {}", res.text());
        let p = problem(&res);
        assert_eq!(p["code"], "invalid_parameter", "{path}: {p}");
        assert_eq!(pointers(&p), vec![pointer.to_string()], "{path}: {p}");
    }
    // The largest position is valid: nothing comes after it.
    let res = app
        .get("/v1/events?after=9007199254740991", Some("admin"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["entries"], json!([]));
    for path in [
        "/v1/events/9007199254740991",
        "/v1/checkpoints/9007199254740991",
    ] {
        let res = app.get(path, Some("admin")).await;
        assert_eq!(res.status, 404, "{path}: {}", res.text());
    }
    // An append with a query parameter is refused before anything else.
    let res = app
        .post_raw("/v1/events?x=1", src.sample_event().canonical_bytes())
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert_eq!(pointers(&problem(&res)), vec!["x".to_owned()]);
    assert_eq!(app.size().await, 3);
    app.stop().await;
}

/// An envelope whose signature does not hold is refused the same way
/// whether or not its event id is in the ledger, so that nobody learns
/// which ids exist without a credential; the exact bytes of an appended
/// event still get their receipt, and the holder of the key still learns
/// of a reused id.
/// Makes an envelope under a given event id.
type Forgery<'a> = dyn Fn(daicho_core::event::EventId) -> daicho_core::event::SignedEvent + 'a;

pub async fn forged_envelopes_do_not_reveal_stored_event_ids(backend: Backend) {
    let app = spawn_app(backend).await;
    let src = app.register_source(&[]).await;
    let stored = src.sample_event();
    let first = app.post_event(&stored).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let size = app.size().await;
    let stranger = daicho_core::keys::NoteSigner::from_seed("stranger", [9; 32]).unwrap();

    // Each forgery is tried under the stored id and under a fresh one.
    let forgeries: Vec<(&str, Box<Forgery<'_>>)> = vec![
        (
            "bad_signature",
            Box::new(|id| {
                let mut e = src.sample_event();
                e.body.event_id = id;
                e
            }),
        ),
        (
            "unknown_key",
            Box::new(|id| {
                let mut e = src.sample_event().body;
                e.event_id = id;
                e.key_id = stranger.key_id();
                e.sign(&stranger)
            }),
        ),
    ];
    for (code, forge) in &forgeries {
        for id in [stored.body.event_id.clone(), new_event_id()] {
            let single = app.post_event(&forge(id.clone())).await;
            assert_eq!(single.status, 403, "{code} {id}: {}", single.text());
            assert_eq!(problem(&single)["code"], *code, "{id}");
            let body = json!({ "events": [src.sample_event(), forge(id.clone())] });
            let batch = app
                .post_raw("/v1/events/batch", serde_json::to_vec(&body).unwrap())
                .await;
            assert_eq!(batch.status, 403, "batch {code} {id}: {}", batch.text());
            let p = problem(&batch);
            assert_eq!(p["code"], *code, "{id}");
            assert!(pointers(&p)[0].starts_with("/events/1/"), "{p}");
        }
    }
    assert_eq!(app.size().await, size);

    // The original bytes are a retry; the key holder reusing the id for
    // other content is told of the conflict.
    assert_eq!(app.post_event(&stored).await.status, 200);
    let mut reuse = src.sample_event().body;
    reuse.event_id = stored.body.event_id.clone();
    let res = app.post_event(&reuse.sign(&src.signer)).await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert_eq!(problem(&res)["code"], "event_id_conflict");
    assert_eq!(app.size().await, size);
    app.stop().await;
}

/// Which routes and methods exist is public (the OpenAPI document says
/// so), so a wrong route or method is answered before any token is looked
/// at; which *resources* exist is not, and stays behind authorisation.
pub async fn route_errors_come_before_authentication(backend: Backend) {
    use hyper::Method;
    let app = spawn_app(backend).await;
    for token in [None, Some("daicho_wrong"), Some(app.token("reader"))] {
        for path in ["/v1/no-such-route", "/v1/events/1/extra", "/nothing"] {
            let res = app.client.get(path, token).await.unwrap();
            assert_eq!(res.status, 404, "{path} {token:?}");
            assert_eq!(problem(&res)["code"], "not_found");
        }
        for (method, path, allow) in [
            (Method::DELETE, "/v1/events/1", "GET"),
            (Method::POST, "/v1/checkpoint", "GET"),
            (Method::GET, "/v1/events/batch", "POST"),
            (Method::PUT, "/v1/events", "GET,POST"),
        ] {
            let res = app
                .client
                .exchange(method.clone(), path, token, None, Default::default())
                .await
                .unwrap();
            assert_eq!(res.status, 405, "{method} {path} {token:?}");
            assert_eq!(problem(&res)["code"], "method_not_allowed");
            let mut allowed: Vec<String> = res
                .header("allow")
                .unwrap_or_default()
                .split(',')
                .map(|m| m.trim().to_owned())
                .filter(|m| m != "HEAD")
                .collect();
            allowed.sort();
            assert_eq!(allowed.join(","), allow, "{method} {path}");
        }
    }
    // A resource that does not exist is still 401 without a token.
    let res = app.client.get("/v1/events/999999", None).await.unwrap();
    assert_eq!(res.status, 401);
    app.stop().await;
}
