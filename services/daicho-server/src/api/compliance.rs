//! Compliance: every article's status over a period with the findings
//! behind it, the findings alone, and the projections they rest on.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use daicho_compliance::calendar::{parse_date, tokyo_date};
use daicho_compliance::state::PROJECTIONS;
use daicho_compliance::{FindingState, Period};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::api::bad_param;
use crate::app::AppState;
use crate::auth::{Authorized, ReadCompliance};
use crate::compliance::ComplianceError;
use crate::extract::{Path, Position, Query};
use crate::problem::{ApiError, ApiResult, ErrorCode};

/// The period of an evaluation: a fiscal quarter, or two dates.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    /// The fiscal year (April–March), named by the year it begins in: 2026 is 令和8年度.
    #[param(minimum = 2000, maximum = 2200)]
    pub fy: Option<i32>,
    /// The quarter of `fy`: 1 April–June … 4 January–March.
    #[param(minimum = 1, maximum = 4)]
    pub quarter: Option<u8>,
    /// The first day (Asia/Tokyo), instead of `fy` and `quarter`.
    #[param(format = Date, value_type = Option<String>)]
    pub from: Option<String>,
    /// The last day, included.
    #[param(format = Date, value_type = Option<String>)]
    pub to: Option<String>,
    /// The ledger size to evaluate at (default: the current size).
    #[param(value_type = Option<u64>)]
    pub as_of: Option<Position>,
}

/// The query of `GET /v1/findings`: a period as for `/v1/compliance`, and filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FindingsQuery {
    /// The fiscal year.
    #[param(minimum = 2000, maximum = 2200)]
    pub fy: Option<i32>,
    /// The quarter of `fy`.
    #[param(minimum = 1, maximum = 4)]
    pub quarter: Option<u8>,
    /// The first day, instead of `fy` and `quarter`.
    #[param(format = Date, value_type = Option<String>)]
    pub from: Option<String>,
    /// The last day, included.
    #[param(format = Date, value_type = Option<String>)]
    pub to: Option<String>,
    /// The ledger size to evaluate at.
    #[param(value_type = Option<u64>)]
    pub as_of: Option<Position>,
    /// Only findings under this article.
    #[param(minimum = 1)]
    pub article: Option<u32>,
    /// Only open or only resolved findings.
    pub status: Option<FindingStatusFilter>,
}

/// `open` or `resolved`.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatusFilter {
    /// Still open.
    Open,
    /// Resolved.
    Resolved,
}

/// The query of `GET /v1/state/{projection}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StateQuery {
    /// The ledger size (default: the current size).
    #[param(value_type = Option<u64>)]
    pub as_of: Option<Position>,
}

/// Resolves the period parameters: exactly one of `fy` with `quarter`, or
/// `from` with `to`, ending no later than today.
fn period_of(
    state: &AppState,
    fy: Option<i32>,
    quarter: Option<u8>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Period, Option<(i32, u8)>), ApiError> {
    let today = tokyo_date((state.sequencer.clock())().instant());
    let (period, quarter) = match (fy, quarter, from, to) {
        (Some(fy), Some(q), None, None) => {
            if !(2000..=2200).contains(&fy) {
                return Err(bad_param("fy", "a fiscal year from 2000 to 2200"));
            }
            let period =
                Period::fiscal_quarter(fy, q).map_err(|e| bad_param("quarter", e.to_string()))?;
            (period, Some((fy, q)))
        }
        (None, None, Some(from), Some(to)) => {
            let from_day =
                parse_date(from).ok_or_else(|| bad_param("from", "a date YYYY-MM-DD"))?;
            let to_day = parse_date(to).ok_or_else(|| bad_param("to", "a date YYYY-MM-DD"))?;
            let period =
                Period::new(from_day, to_day).map_err(|e| bad_param("to", e.to_string()))?;
            (period, None)
        }
        (Some(_), None, ..) => return Err(bad_param("quarter", "give quarter with fy")),
        (None, Some(_), ..) => return Err(bad_param("fy", "give fy with quarter")),
        (None, None, Some(_), None) => return Err(bad_param("to", "give to with from")),
        (None, None, None, Some(_)) => return Err(bad_param("from", "give from with to")),
        (None, None, None, None) => {
            return Err(bad_param("fy", "give fy and quarter, or from and to"))
        }
        _ => {
            return Err(bad_param(
                "from",
                "give fy and quarter, or from and to, not both",
            ))
        }
    };
    if period.from > today {
        let name = if quarter.is_some() { "fy" } else { "from" };
        return Err(bad_param(name, "the period has not begun"));
    }
    Ok((period, quarter))
}

fn evaluation_error(e: ComplianceError) -> ApiError {
    match e {
        ComplianceError::AsOfBeyond { size, .. } => {
            bad_param("as_of", format!("the ledger holds {size} entries"))
        }
        ComplianceError::Store(e) => ApiError::store("evaluating compliance", &e),
    }
}

fn canonical_json(value: &impl Serialize) -> Response {
    (
        [(CONTENT_TYPE, "application/json")],
        daicho_core::jcs::canonicalize(value),
    )
        .into_response()
}

/// Every article's status over a period, with the findings behind it, as
/// canonical JSON (RFC 8785): the same ledger size, catalogue and period
/// always give the same bytes.
#[utoipa::path(
    get, path = "/v1/compliance", tag = "compliance", operation_id = "evaluate_compliance",
    params(ComplianceQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The evaluation (format daicho-evaluation/v1)", body = Object),
        (status = 400, description = "A period or ledger size that does not exist; the pointer names the parameter"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The role may not read compliance"),
    )
)]
pub async fn evaluate_compliance(
    _auth: Authorized<ReadCompliance>,
    State(state): State<AppState>,
    Query(q): Query<ComplianceQuery>,
) -> ApiResult<Response> {
    let (period, quarter) = period_of(&state, q.fy, q.quarter, q.from.as_deref(), q.to.as_deref())?;
    let evaluation = state
        .compliance
        .evaluate(
            &state.store,
            period,
            quarter,
            q.as_of.map(|p| p.0),
            (state.sequencer.clock())().instant(),
        )
        .await
        .map_err(evaluation_error)?;
    Ok(canonical_json(&evaluation))
}

/// The findings of a period, by article and status.
#[derive(Debug, Serialize)]
struct FindingsView<'a> {
    period: &'a daicho_compliance::evaluation::PeriodInfo,
    tree_size: u64,
    findings: Vec<&'a daicho_compliance::Finding>,
}

/// The findings of a period, optionally of one article or status.
#[utoipa::path(
    get, path = "/v1/findings", tag = "compliance", operation_id = "list_findings",
    params(FindingsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The period, the ledger size and the findings", body = Object),
        (status = 400, description = "A period, article or ledger size that does not exist; the pointer names the parameter"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The role may not read compliance"),
    )
)]
pub async fn list_findings(
    _auth: Authorized<ReadCompliance>,
    State(state): State<AppState>,
    Query(q): Query<FindingsQuery>,
) -> ApiResult<Response> {
    let (period, quarter) = period_of(&state, q.fy, q.quarter, q.from.as_deref(), q.to.as_deref())?;
    if let Some(n) = q.article {
        if state.catalogue.article(n).is_none() {
            return Err(bad_param("article", "no such article"));
        }
    }
    let evaluation = state
        .compliance
        .evaluate(
            &state.store,
            period,
            quarter,
            q.as_of.map(|p| p.0),
            (state.sequencer.clock())().instant(),
        )
        .await
        .map_err(evaluation_error)?;
    let findings = evaluation
        .findings
        .iter()
        .filter(|f| q.article.is_none_or(|n| f.article == n))
        .filter(|f| match q.status {
            None => true,
            Some(FindingStatusFilter::Open) => f.state == FindingState::Open,
            Some(FindingStatusFilter::Resolved) => f.state == FindingState::Resolved,
        })
        .collect();
    Ok(canonical_json(&FindingsView {
        period: &evaluation.period,
        tree_size: evaluation.tree_size,
        findings,
    }))
}

/// A projection of the ledger's state: `applications`, `assets`,
/// `event_types`, `sections`, `sources` or `staff`.
#[utoipa::path(
    get, path = "/v1/state/{projection}", tag = "compliance", operation_id = "get_state",
    params(("projection" = String, Path, description = "applications, assets, event_types, sections, sources or staff"), StateQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The projection as of the ledger size", body = Object),
        (status = 400, description = "A ledger size that does not exist"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The role may not read compliance"),
        (status = 404, description = "No such projection"),
    )
)]
pub async fn get_state(
    _auth: Authorized<ReadCompliance>,
    State(state): State<AppState>,
    Path(projection): Path<String>,
    Query(q): Query<StateQuery>,
) -> ApiResult<Response> {
    if !PROJECTIONS.contains(&projection.as_str()) {
        return Err(ApiError::new(ErrorCode::NotFound)
            .detail(format!("projections are {}", PROJECTIONS.join(", ")))
            .at("projection", "no such projection"));
    }
    let value = state
        .compliance
        .with_state(&state.store, q.as_of.map(|p| p.0), |s| {
            s.projection(&projection)
        })
        .await
        .map_err(evaluation_error)?
        .expect("a listed projection exists");
    Ok(canonical_json(&value))
}
