//! The HTTP API (`/v1`), its OpenAPI document and the Swagger UI.
//!
//! Every handler carries `#[utoipa::path]`; [`ApiDoc`] collects them, and
//! `openapi/openapi.json` is this document committed. Regenerate it with
//! `cargo run -p daicho-server --bin daicho -- openapi > openapi/openapi.json`.
//!
//! A handler lists its error statuses with a description only: the
//! document's `ProblemBodies` modifier gives each the problem body of
//! [`ProblemResponse`], declared once.

pub mod catalogue;
pub mod compliance;
pub mod events;
pub mod ops;
pub mod reads;
pub mod reports;
pub mod schemas;
pub mod stream;

use axum::routing::{get, post};
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi, ToResponse};
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use crate::problem::ProblemResponse;

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "daicho",
        description = "Tamper-evident audit ledger for 亀岡市情報セキュリティ対策基準規程. Conventions (URLs, timestamps, pagination, errors, roles): docs/API.md.",
        license(name = "Apache-2.0")
    ),
    paths(
        events::append_event,
        events::append_batch,
        events::append_backfill,
        events::list_events,
        stream::stream_events,
        events::get_event,
        events::get_event_by_id,
        reads::latest_checkpoint,
        reads::checkpoint_at,
        reads::inclusion_proof,
        reads::consistency_proof,
        reads::list_keys,
        reads::export_bundle,
        catalogue::list_articles,
        catalogue::get_article,
        catalogue::list_forms,
        catalogue::list_roles,
        catalogue::list_event_types,
        catalogue::get_event_type,
        compliance::evaluate_compliance,
        compliance::list_findings,
        compliance::get_state,
        reports::quarterly_report,
        ops::healthz,
        ops::readyz,
        ops::metrics,
    ),
    components(schemas(
        crate::problem::Problem,
        crate::problem::FieldError,
        crate::problem::ErrorCode,
        crate::auth::Role
    )),
    modifiers(&BearerAuth, &CommonRefusals, &ProblemBodies),
    tags(
        (name = "events", description = "Append signed events; read entries"),
        (name = "checkpoints", description = "Signed checkpoints (C2SP tlog-checkpoint)"),
        (name = "proofs", description = "RFC 9162 inclusion and consistency proofs"),
        (name = "keys", description = "The key registry"),
        (name = "export", description = "The verifiable export bundle"),
        (name = "catalogue", description = "The regulation as data"),
        (name = "compliance", description = "Article-by-article evaluation, findings and projections"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A read token from `daicho token create`; its role decides what it may read",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every operation of a path.
fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Declares on every operation the refusals every route can give, unless
/// the operation declares them itself: `400` for an unknown or malformed
/// query parameter (every endpoint refuses those) and `408` past
/// `--request-timeout-secs` (a layer over every route); and `429` where a
/// rate limit applies (`crate::rate_limit`): on every operation that takes
/// a bearer token, and on the appends, which count against their sources.
struct CommonRefusals;

/// The operations whose events count against their sources' rate limit.
const APPENDS: [&str; 3] = ["append_event", "append_batch", "append_backfill"];

impl Modify for CommonRefusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let common = [
            ("400", "An unknown or invalid parameter"),
            ("408", "The request took longer than --request-timeout-secs"),
        ];
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let takes_token = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let appends = operation
                    .operation_id
                    .as_deref()
                    .is_some_and(|id| APPENDS.contains(&id));
                let too_many = match (takes_token, appends) {
                    (true, true) => Some(
                        "The token or an event's source is over its rate limit (`rate_limited`, with `Retry-After`); nothing was appended",
                    ),
                    (false, true) => Some(
                        "An event's source is over its rate limit (`rate_limited`, with `Retry-After`); nothing was appended",
                    ),
                    (true, false) => Some(
                        "The token is over its rate limit (`rate_limited`, with `Retry-After`)",
                    ),
                    (false, false) => None,
                };
                for (status, description) in common {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::T(utoipa::openapi::Response::new(description)));
                }
                if let Some(description) = too_many {
                    operation
                        .responses
                        .responses
                        .entry("429".to_owned())
                        .or_insert_with(|| RefOr::T(rate_limited(description)));
                }
                if takes_token {
                    // The token is looked up in the database on every
                    // request (`crate::auth::authorized`).
                    operation
                        .responses
                        .responses
                        .entry("503".to_owned())
                        .or_insert_with(|| {
                            RefOr::T(utoipa::openapi::Response::new(
                                "The database cannot be reached now (`storage_unavailable`, with `Retry-After`)",
                            ))
                        });
                }
            }
        }
    }
}

/// A 429 answer: its description and the `Retry-After` header it carries.
fn rate_limited(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let seconds = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1));
    let mut response = utoipa::openapi::Response::new(description);
    response.headers.insert(
        "Retry-After".to_owned(),
        utoipa::openapi::header::HeaderBuilder::new()
            .schema(seconds)
            .description(Some("Seconds to wait before the request can pass"))
            .build(),
    );
    response
}

/// Gives every error response (status 400 or above) that an operation
/// declares without a body the body of [`ProblemResponse`], so that the
/// problem's media type and schema are declared once and each operation
/// states only its error statuses and what they mean there.
struct ProblemBodies;

impl Modify for ProblemBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let RefOr::T(problem) = ProblemResponse::response().1 else {
            unreachable!("a derived response is inline")
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                for (status, response) in operation.responses.responses.iter_mut() {
                    let is_error = status.parse::<u16>().is_ok_and(|s| s >= 400);
                    if let RefOr::T(response) = response {
                        if is_error && response.content.is_empty() {
                            response.content = problem.content.clone();
                        }
                    }
                }
            }
        }
    }
}

/// The OpenAPI document as pretty JSON with a final newline, exactly as
/// committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    s.push('\n');
    s
}

/// A 400 `invalid_parameter` naming the query or path parameter at fault.
pub(crate) fn bad_param(name: &str, message: impl Into<String>) -> crate::problem::ApiError {
    let message = message.into();
    crate::problem::ApiError::new(crate::problem::ErrorCode::InvalidParameter)
        .detail(format!("{name}: {message}"))
        .at(name, message)
}

/// Every route, before state and layers.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/events",
            post(events::append_event).get(events::list_events),
        )
        .route("/v1/events/batch", post(events::append_batch))
        .route("/v1/events/stream", get(stream::stream_events))
        .route("/v1/events/backfill", post(events::append_backfill))
        .route("/v1/events/{seq}", get(events::get_event))
        .route("/v1/events/by-id/{event_id}", get(events::get_event_by_id))
        .route("/v1/checkpoint", get(reads::latest_checkpoint))
        .route("/v1/checkpoints/{size}", get(reads::checkpoint_at))
        .route("/v1/proofs/inclusion", get(reads::inclusion_proof))
        .route("/v1/proofs/consistency", get(reads::consistency_proof))
        .route("/v1/keys", get(reads::list_keys))
        .route("/v1/export", get(reads::export_bundle))
        .route("/v1/articles", get(catalogue::list_articles))
        .route("/v1/articles/{n}", get(catalogue::get_article))
        .route("/v1/forms", get(catalogue::list_forms))
        .route("/v1/roles", get(catalogue::list_roles))
        .route("/v1/event-types", get(catalogue::list_event_types))
        .route("/v1/event-types/{type}", get(catalogue::get_event_type))
        .route("/v1/compliance", get(compliance::evaluate_compliance))
        .route("/v1/findings", get(compliance::list_findings))
        .route("/v1/state/{projection}", get(compliance::get_state))
        .route(
            "/v1/reports/quarterly/{fy}/{quarter}",
            get(reports::quarterly_report),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
}
