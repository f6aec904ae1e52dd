//! The API test suite, run against SQLite and against the PostgreSQL named
//! by `DAICHO_TEST_DATABASE_URL` (each test in its own schema), plus the command-line and
//! two-process tests. One integration-test binary for the crate.

mod api {
    pub mod backup;
    pub mod cli;
    pub mod compliance;
    pub mod connections;
    pub mod faults;
    pub mod harness;
    pub mod keys;
    pub mod metrics;
    pub mod rate_limits;
    pub mod reports;
    pub mod storage;
    pub mod stream;
    pub mod suite;
    pub mod tokens;
    pub mod witness;
}

// The suite's functions, for the tests declared below to call.
use api::compliance::*;
use api::metrics::*;
use api::rate_limits::*;
use api::reports::*;
use api::stream::*;
use api::suite::*;
use api::tokens::*;

daicho_testkit::on_both_backends!(
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
    compliance_findings_and_state,
    backfill_records_old_acts_as_late,
    committed_groups_reach_the_projections_from_the_writer,
    a_revoked_token_is_refused_at_once_by_every_instance,
    forged_envelopes_do_not_reveal_stored_event_ids,
    route_errors_come_before_authentication,
    quarterly_report_in_every_format,
    an_issued_report_is_anchored_and_verifies,
    metrics_show_the_ledger_the_writer_and_the_pool,
    a_token_over_its_limit_is_refused_until_retry_after,
    a_source_over_its_limit_is_refused_across_tokens,
    event_stream_sends_entries_and_checkpoints_and_resumes,
    event_stream_follows_another_instance,
    event_stream_refusals_name_the_parameter,
    event_stream_ends_on_revocation_and_shutdown,
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

/// Two witness processes and the service on loopback (SQLite: the
/// witnesses' behaviour does not depend on the store).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witnesses_cosign_refuse_forks_and_rollbacks() {
    api::witness::witnesses_cosign_refuse_forks_and_rollbacks().await;
}
