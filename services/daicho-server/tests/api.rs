//! The API test suite, run against SQLite and against PostgreSQL at
//! 127.0.0.1:5432 (each test in its own schema), plus the command-line and
//! two-process tests. One integration-test binary for the crate.

mod api {
    pub mod cli;
    pub mod connections;
    pub mod harness;
    pub mod storage;
    pub mod suite;
}

use api::harness::Backend;

/// Runs each suite function on both backends.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::api::suite::$name(crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::api::suite::$name(crate::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    happy_path_receipt_reads_proofs_export,
    idempotent_retry_returns_the_original_receipt,
    batch_appends_all_or_nothing,
    bad_inputs_are_refused_and_leave_the_ledger_unchanged,
    catalogue_violations_name_every_pointer,
    invalid_payload_table,
    auth_matrix_and_no_existence_leak,
    public_checkpoint_by_configuration,
    pagination_follows_the_cursor,
    keys_as_of_a_past_seq,
    catalogue_endpoints,
    ops_endpoints,
    restart_keeps_the_ledger,
    retry_after_revocation_returns_the_original_receipt,
    retry_after_the_window_returns_the_original_receipt,
    metrics_do_not_count_retries,
    parameter_refusals_name_the_parameter,
    forged_envelopes_do_not_reveal_stored_event_ids,
    route_errors_come_before_authentication,
);

/// `openapi/openapi.json` is the document the code generates. To update it
/// after changing the API, run from the workspace root:
/// `cargo run -p daicho-server --bin daicho -- openapi > openapi/openapi.json`
/// (or run this test with `DAICHO_UPDATE_OPENAPI=1`), and review the diff.
#[test]
fn openapi_document_is_committed() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json");
    let generated = daicho_server::api::openapi_json();
    if std::env::var_os("DAICHO_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from the generated document; run \
         `cargo run -p daicho-server --bin daicho -- openapi > openapi/openapi.json` and review the diff"
    );
}
