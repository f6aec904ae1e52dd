//! Liveness, readiness and metrics: unauthenticated, for the operator's
//! monitoring (bind the service to a private address).

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::schemas::Readiness;
use crate::app::AppState;
use crate::extract::{NoQuery, Query};
use crate::metrics::{self, Gauges, PoolUsage};
use crate::sequencer::WriterHealth;

/// The process is alive.
#[utoipa::path(
    get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "Alive", body = String, content_type = "text/plain"))
)]
pub async fn healthz(_query: Query<NoQuery>) -> &'static str {
    "ok\n"
}

/// The service accepts appends: not shutting down, database reachable, and
/// the writer's last group commit (if any since start) succeeded.
#[utoipa::path(
    get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready", body = Readiness),
    )
)]
pub async fn readyz(State(state): State<AppState>, _query: Query<NoQuery>) -> Response {
    let db = state.store.size().await;
    let writer = state.sequencer.writer_health();
    let ok = state.is_ready() && db.is_ok() && writer == WriterHealth::Ok;
    if let Err(e) = &db {
        tracing::warn!(error = %e, "readiness: database unreachable");
    }
    let body = Readiness {
        status: if ok { "ready" } else { "unavailable" }.to_owned(),
        writer: metrics::writer_state(&writer).to_owned(),
        tree_size: state.sequencer.snapshot().size,
        backend: state.store.backend().to_owned(),
        witnesses_down: state
            .witnesses
            .statuses()
            .into_iter()
            .filter(|w| !w.up)
            .map(|w| w.name)
            .collect(),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Prometheus metrics.
#[utoipa::path(
    get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<AppState>, _query: Query<NoQuery>) -> Response {
    let snapshot = state.sequencer.snapshot();
    let writer = state.sequencer.writer_health();
    let witnesses = state.witnesses.statuses();
    let text = state.metrics.render(Gauges {
        tree_size: snapshot.size,
        checkpoint_age_seconds: snapshot.checkpoint_signed_at.elapsed().as_secs_f64(),
        writer: &writer,
        pool: PoolUsage::of(&state.store),
        witnesses: &witnesses,
    });
    ([(CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}
