//! The regulation catalogue, read-only. The bodies are the catalogue
//! crate's own serialisation, documented here as objects.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::auth::{Authorized, ReadCatalogue};
use crate::extract::{NoQuery, Path, Query};
use crate::problem::{ApiError, ApiResult, ErrorCode};

fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<Json<Value>> {
    serde_json::to_value(v)
        .map(Json)
        .map_err(|e| ApiError::internal("serialising the catalogue", &e))
}

/// The regulation's identity and every article in order.
#[utoipa::path(
    get, path = "/v1/articles", tag = "catalogue", operation_id = "list_articles",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{regulation, chapters, articles}`: every article with its chapter, section, titles, paragraphs, items, roles, evaluation and event types", body = Object),
        (status = 401, description = "Missing or wrong token"),
    )
)]
pub async fn list_articles(
    _auth: Authorized<ReadCatalogue>,
    State(state): State<AppState>,
    _query: Query<NoQuery>,
) -> ApiResult<Json<Value>> {
    let c = &state.catalogue;
    to_json(&json!({
        "regulation": c.regulation(),
        "chapters": c.chapters(),
        "articles": c.articles(),
    }))
}

/// One article by number.
#[utoipa::path(
    get, path = "/v1/articles/{n}", tag = "catalogue", operation_id = "get_article",
    params(("n" = u32, Path, minimum = 0, maximum = 4294967295.0, description = "The article number, from 1")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article", body = Object),
        (status = 400, description = "Not an article number"),
        (status = 401, description = "Missing or wrong token"),
        (status = 404, description = "No such article"),
    )
)]
pub async fn get_article(
    _auth: Authorized<ReadCatalogue>,
    State(state): State<AppState>,
    _query: Query<NoQuery>,
    Path(n): Path<u32>,
) -> ApiResult<Json<Value>> {
    let a = state
        .catalogue
        .article(n)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    to_json(a)
}

/// The numbered forms (別記様式).
#[utoipa::path(
    get, path = "/v1/forms", tag = "catalogue", operation_id = "list_forms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{forms}`: each with its article, applicant, approver and validity", body = Object),
        (status = 401, description = "Missing or wrong token"),
    )
)]
pub async fn list_forms(
    _auth: Authorized<ReadCatalogue>,
    State(state): State<AppState>,
    _query: Query<NoQuery>,
) -> ApiResult<Json<Value>> {
    to_json(&json!({ "forms": state.catalogue.forms() }))
}

/// The roles of the regulation.
#[utoipa::path(
    get, path = "/v1/roles", tag = "catalogue", operation_id = "list_roles",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{roles}`", body = Object),
        (status = 401, description = "Missing or wrong token"),
    )
)]
pub async fn list_roles(
    _auth: Authorized<ReadCatalogue>,
    State(state): State<AppState>,
    _query: Query<NoQuery>,
) -> ApiResult<Json<Value>> {
    to_json(&json!({ "roles": state.catalogue.roles() }))
}

/// Every event type with its versions and articles.
#[utoipa::path(
    get, path = "/v1/event-types", tag = "catalogue", operation_id = "list_event_types",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{event_types}`: one summary per type", body = Object),
        (status = 401, description = "Missing or wrong token"),
    )
)]
pub async fn list_event_types(
    _auth: Authorized<ReadCatalogue>,
    State(state): State<AppState>,
    _query: Query<NoQuery>,
) -> ApiResult<Json<Value>> {
    to_json(&json!({ "event_types": state.catalogue.event_types() }))
}

/// One event type: every version with its JSON Schema and examples, and
/// the shared definitions the schemas `$ref`.
#[utoipa::path(
    get, path = "/v1/event-types/{type}", tag = "catalogue", operation_id = "get_event_type",
    params(("type" = String, Path, description = "The event type, e.g. usb.approval.granted")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{type, versions, shared_definitions}`", body = Object),
        (status = 401, description = "Missing or wrong token"),
        (status = 404, description = "No such event type"),
    )
)]
pub async fn get_event_type(
    _auth: Authorized<ReadCatalogue>,
    State(state): State<AppState>,
    _query: Query<NoQuery>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = state
        .catalogue
        .event_type(&name)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let mut v = serde_json::to_value(d).map_err(|e| ApiError::internal("serialising", &e))?;
    if let Value::Object(m) = &mut v {
        m.insert(
            "shared_definitions".into(),
            state.catalogue.shared_definitions().clone(),
        );
    }
    Ok(Json(v))
}

/// A JSON object (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[schema(value_type = Object)]
pub struct Object(#[allow(dead_code)] Value);
