//! The committee's quarterly report, in every format, anchored at a
//! checkpoint the ledger kept.

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use daicho_compliance::calendar::tokyo_date;
use daicho_report::Lang;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::bad_param;
use crate::app::AppState;
use crate::auth::{Authorized, ReadCompliance};
use crate::compliance::ComplianceError;
use crate::extract::{Path, Position, Query};
use crate::problem::{ApiError, ApiResult};
use crate::reports::{self, ReportError, ReportFormat};

/// The response header that carries the SHA-256 of the report's JSON, the
/// digest `report.issued` anchors, whatever the format served.
pub const REPORT_SHA256_HEADER: &str = "daicho-report-sha256";
/// The response header that carries the tree size the report is anchored at.
pub const REPORT_TREE_SIZE_HEADER: &str = "daicho-report-tree-size";

/// The language of a rendering.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LangParam {
    /// Japanese.
    #[default]
    Ja,
    /// English.
    En,
}

/// The query of `GET /v1/reports/quarterly/{fy}/{quarter}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// json (the anchored original, default), pdf, html, xlsx, docx or csv (a zip of CSV files).
    pub format: Option<ReportFormat>,
    /// ja (default) or en; the JSON holds both.
    pub lang: Option<LangParam>,
    /// The tree size of a checkpoint the ledger kept (default: the newest).
    #[param(value_type = Option<u64>, minimum = 1)]
    pub as_of: Option<Position>,
}

fn report_error(e: ReportError) -> ApiError {
    match e {
        ReportError::Quarter(m) => bad_param("quarter", m),
        e @ (ReportError::Future { .. } | ReportError::BeforeGenesis { .. }) => {
            bad_param("fy", e.to_string())
        }
        e @ ReportError::NoCheckpoint(_) => bad_param("as_of", e.to_string()),
        ReportError::Store(e) => ApiError::store("making a report", &e),
        other => ApiError::internal("making a report", &other),
    }
}

/// The quarterly compliance report of fiscal year `fy`, quarter `quarter`:
/// every article's status with the findings behind it, the registers,
/// remarks and thresholds, anchored at a signed checkpoint. The JSON is
/// the original (canonical, RFC 8785); every other format is rendered
/// from it, and the same checkpoint always gives the same bytes.
#[utoipa::path(
    get, path = "/v1/reports/quarterly/{fy}/{quarter}", tag = "compliance", operation_id = "quarterly_report",
    params(
        ("fy" = i32, Path, description = "The fiscal year (April–March), named by the year it begins in: 2026 is 令和8年度", minimum = 2000, maximum = 2200),
        ("quarter" = u8, Path, description = "1 April–June … 4 January–March", minimum = 1, maximum = 4),
        ReportQuery
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report; `Content-Disposition` names the file (daicho-R08-Q1.pdf), `daicho-report-sha256` gives the SHA-256 of its JSON and `daicho-report-tree-size` the tree size it is anchored at",
            content(
                (Object = "application/json"),
                (String = "application/pdf"),
                (String = "text/html; charset=utf-8"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (String = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                (String = "application/zip"),
            )),
        (status = 400, description = "A quarter in the future or before the ledger's genesis, or a size with no checkpoint; the pointer names the parameter"),
        (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The role may not read compliance (committee, auditor and admin may)"),
    )
)]
pub async fn quarterly_report(
    _auth: Authorized<ReadCompliance>,
    State(state): State<AppState>,
    Path((fy, quarter)): Path<(i32, u8)>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    if !(2000..=2200).contains(&fy) {
        return Err(bad_param("fy", "a fiscal year from 2000 to 2200"));
    }
    if !(1..=4).contains(&quarter) {
        return Err(bad_param("quarter", "a quarter from 1 to 4"));
    }
    let format = q.format.unwrap_or_default();
    let lang = match q.lang.unwrap_or_default() {
        LangParam::Ja => Lang::Ja,
        LangParam::En => Lang::En,
    };
    let today = tokyo_date((state.sequencer.clock())().instant());
    reports::check_quarter(&state.store, fy, quarter, today)
        .await
        .map_err(report_error)?;
    let anchor = reports::anchor(
        &state.store,
        &state.sequencer.snapshot().registry,
        q.as_of.map(|p| p.0),
    )
    .await
    .map_err(report_error)?;
    let size = anchor.tree_size;
    let compliance = state.compliance.clone();
    let built = compliance
        .with_state(&state.store, Some(size), |s| {
            reports::build_report(
                compliance.catalogue(),
                compliance.rulebook(),
                s,
                fy,
                quarter,
                anchor,
            )
        })
        .await
        .map_err(|e| match e {
            ComplianceError::AsOfBeyond { size, .. } => {
                bad_param("as_of", format!("the ledger holds {size} entries"))
            }
            ComplianceError::Store(e) => ApiError::store("making a report", &e),
        })?;
    let (report, json) = built.map_err(report_error)?;
    let sha256 = daicho_report::sha256_hex(&json);
    let file_name = report.file_name(format.extension());
    // Rendering a PDF takes CPU time; it runs off the async workers.
    let body = tokio::task::spawn_blocking(move || reports::render(&json, format, lang))
        .await
        .map_err(|e| ApiError::internal("rendering a report", &e))?
        .map_err(report_error)?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    headers.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
            .expect("file names are ASCII"),
    );
    headers.insert(
        REPORT_SHA256_HEADER,
        HeaderValue::from_str(&sha256).expect("hex is ASCII"),
    );
    headers.insert(REPORT_TREE_SIZE_HEADER, HeaderValue::from(size));
    Ok(response)
}
