//! The one API error type, rendered as RFC 9457 `application/problem+json`.
//!
//! Every failure a handler can meet becomes an [`ApiError`] with a stable
//! machine-readable [`ErrorCode`]; clients branch on `code`, never on the
//! human-readable `title` or `detail`. Internal failures are logged once,
//! with their cause chain, where they are converted, and the client sees
//! only `internal`.

use std::fmt;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use daicho_catalogue::ValidationError;
use daicho_core::event::EventError;
use daicho_core::jcs::JcsError;
use daicho_core::registry::RegistryError;
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

use crate::sequencer::AppendError;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A stable error code. The string forms are part of the API contract
/// (docs/API.md lists them) and never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not strict JSON (syntax, duplicate key, inexact integer).
    MalformedJson,
    /// JSON, but not the expected shape: a missing, unknown or mistyped field.
    InvalidRequest,
    /// The body's `Content-Type` is not `application/json`.
    UnsupportedMediaType,
    /// A query or path parameter is not valid.
    InvalidParameter,
    /// The body exceeds the configured size limit.
    BodyTooLarge,
    /// A batch holds more events than the configured limit, or none.
    BatchTooLarge,
    /// The catalogue has no such event type.
    UnknownEventType,
    /// The event type exists, but not in that schema version.
    UnknownSchemaVersion,
    /// The actor's role is not a role of the regulation.
    UnknownActorRole,
    /// The payload does not satisfy its type's schema; `errors` lists every violation.
    InvalidPayload,
    /// `occurred_at` is outside the accepted window around the server's clock.
    OccurredAtOutOfWindow,
    /// The signing key is not registered.
    UnknownKey,
    /// The signing key was revoked.
    KeyRevoked,
    /// The signing key may not sign this event type.
    TypeOutOfScope,
    /// The event's `source` is not the holder the key was registered to.
    WrongSource,
    /// The signature does not verify under the named key.
    BadSignature,
    /// A registry event (`daicho.key.*`) the registry refuses.
    InvalidRegistryEvent,
    /// The event id was already appended with different content.
    EventIdConflict,
    /// Missing or wrong bearer token.
    Unauthorized,
    /// The token's role may not do this.
    Forbidden,
    /// No such route (said to anyone: the routes are public), or no such
    /// resource (said only after the caller proved it may look).
    NotFound,
    /// The route exists, not with this method (said to anyone).
    MethodNotAllowed,
    /// The request took longer than the configured timeout.
    Timeout,
    /// The bearer token or the event's source is over its rate limit on
    /// this instance; retry after `Retry-After` seconds. Nothing was
    /// appended.
    RateLimited,
    /// The service is starting, stopping, or cannot reach its database.
    Unavailable,
    /// The ledger's storage cannot take writes now (disk full, failing
    /// I/O); retry after `Retry-After` seconds.
    StorageUnavailable,
    /// Something failed inside the service; the log has the cause.
    Internal,
}

impl ErrorCode {
    /// The string form, as it appears in `code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::BatchTooLarge => "batch_too_large",
            ErrorCode::UnknownEventType => "unknown_event_type",
            ErrorCode::UnknownSchemaVersion => "unknown_schema_version",
            ErrorCode::UnknownActorRole => "unknown_actor_role",
            ErrorCode::InvalidPayload => "invalid_payload",
            ErrorCode::OccurredAtOutOfWindow => "occurred_at_out_of_window",
            ErrorCode::UnknownKey => "unknown_key",
            ErrorCode::KeyRevoked => "key_revoked",
            ErrorCode::TypeOutOfScope => "type_out_of_scope",
            ErrorCode::WrongSource => "wrong_source",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::InvalidRegistryEvent => "invalid_registry_event",
            ErrorCode::EventIdConflict => "event_id_conflict",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Timeout => "timeout",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::StorageUnavailable => "storage_unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status every error of this code carries.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::MalformedJson | ErrorCode::InvalidParameter => StatusCode::BAD_REQUEST,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::InvalidRequest
            | ErrorCode::BatchTooLarge
            | ErrorCode::UnknownEventType
            | ErrorCode::UnknownSchemaVersion
            | ErrorCode::UnknownActorRole
            | ErrorCode::InvalidPayload
            | ErrorCode::OccurredAtOutOfWindow
            | ErrorCode::InvalidRegistryEvent => StatusCode::UNPROCESSABLE_ENTITY,
            // The signature is the write's credential: a key that cannot
            // authorise this event is a refusal of the writer, not of the
            // content.
            ErrorCode::UnknownKey
            | ErrorCode::KeyRevoked
            | ErrorCode::TypeOutOfScope
            | ErrorCode::WrongSource
            | ErrorCode::BadSignature
            | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::EventIdConflict => StatusCode::CONFLICT,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Timeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable | ErrorCode::StorageUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "The body is not valid JSON",
            ErrorCode::InvalidRequest => "The request does not have the expected shape",
            ErrorCode::UnsupportedMediaType => "The body must be application/json",
            ErrorCode::InvalidParameter => "A parameter is not valid",
            ErrorCode::BodyTooLarge => "The body is too large",
            ErrorCode::BatchTooLarge => "The batch size is not allowed",
            ErrorCode::UnknownEventType => "Unknown event type",
            ErrorCode::UnknownSchemaVersion => "Unknown schema version",
            ErrorCode::UnknownActorRole => "Unknown actor role",
            ErrorCode::InvalidPayload => "The payload does not match its schema",
            ErrorCode::OccurredAtOutOfWindow => "occurred_at is outside the accepted window",
            ErrorCode::UnknownKey => "The signing key is not registered",
            ErrorCode::KeyRevoked => "The signing key was revoked",
            ErrorCode::TypeOutOfScope => "The signing key may not sign this event type",
            ErrorCode::WrongSource => "The event's source is not the key's holder",
            ErrorCode::BadSignature => "The signature does not verify",
            ErrorCode::InvalidRegistryEvent => "The registry refuses this event",
            ErrorCode::EventIdConflict => "The event id was already used for other content",
            ErrorCode::Unauthorized => "Missing or invalid bearer token",
            ErrorCode::Forbidden => "The token's role does not allow this",
            ErrorCode::NotFound => "Not found",
            ErrorCode::MethodNotAllowed => "Method not allowed",
            ErrorCode::Timeout => "The request timed out",
            ErrorCode::RateLimited => "Too many requests",
            ErrorCode::Unavailable => "The service is unavailable",
            ErrorCode::StorageUnavailable => "The ledger's storage cannot take writes now",
            ErrorCode::Internal => "Internal error",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One input fault: where (an RFC 6901 pointer into the request body, or
/// the parameter's name for query parameters) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// RFC 6901 JSON pointer into the request body (`""` is the whole body).
    pub pointer: String,
    /// What is wrong, for a developer to act on.
    pub message: String,
}

/// The RFC 9457 problem details body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:daicho:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// The stable machine-readable code.
    pub code: ErrorCode,
    /// An explanation of this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For bad input: every fault with its JSON pointer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The response of every refusal in the OpenAPI document: a [`Problem`]
/// as `application/problem+json`. Operations list their error statuses
/// with a description only, and the document's `ProblemBodies` modifier
/// (in `api`) gives each this body.
#[derive(ToResponse)]
#[response(
    description = "An RFC 9457 problem",
    content_type = "application/problem+json"
)]
pub struct ProblemResponse(pub Problem);

/// An API failure, turned into a problem response.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The stable code; it fixes the status.
    pub code: ErrorCode,
    /// What happened, for people.
    pub detail: Option<String>,
    /// The input faults, with pointers.
    pub errors: Vec<FieldError>,
    /// Seconds for `Retry-After`, where the code's own is not fixed
    /// (`rate_limited`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a code and no detail.
    pub fn new(code: ErrorCode) -> Self {
        ApiError {
            code,
            detail: None,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// Adds a detail message.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the seconds of `Retry-After` (at least 1).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// Adds one fault at `pointer`.
    pub fn at(mut self, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push(FieldError {
            pointer: pointer.into(),
            message: message.into(),
        });
        self
    }

    /// Prefixes every pointer with `prefix` (e.g. `/events/3` inside a batch).
    pub fn under(mut self, prefix: &str) -> Self {
        for e in &mut self.errors {
            e.pointer = format!("{prefix}{}", e.pointer);
        }
        self
    }

    /// An internal failure: logs `error` with its whole cause chain once,
    /// here, and returns the bare `internal` problem that reveals nothing.
    pub fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = error.to_string();
        let mut source = error.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(error = %chain, "{context}");
        ApiError::new(ErrorCode::Internal)
    }

    /// A store failure while serving a request: `storage_unavailable` (503
    /// with Retry-After) when the database cannot be reached or cannot
    /// store anything now, which a client waits out; an internal error
    /// otherwise. Either is logged for the operator.
    pub fn store(context: &str, error: &daicho_store::StoreError) -> Self {
        let logged = ApiError::internal(context, error);
        if error.is_storage_unavailable() {
            ApiError::new(ErrorCode::StorageUnavailable).detail(
                "the ledger's database cannot be reached now; retry after the interval given",
            )
        } else {
            logged
        }
    }

    /// The body this error renders as.
    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("urn:daicho:problem:{}", self.code),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            code: self.code,
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let body = serde_json::to_vec(&self.problem()).expect("a problem serialises");
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.code == ErrorCode::StorageUnavailable {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(STORAGE_RETRY_AFTER_SECS),
            );
        }
        if self.code == ErrorCode::RateLimited {
            let secs = self.retry_after.unwrap_or(1).max(1);
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.code == ErrorCode::Unauthorized {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"daicho\""),
            );
        }
        res
    }
}

/// The `Retry-After` of a `storage_unavailable` refusal, in seconds: long
/// enough that waiting clients do not hammer a full disk, short enough that
/// appends resume soon after an operator made room.
const STORAGE_RETRY_AFTER_SECS: &str = "30";

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// A body that is not strict JSON: the whole body is at fault.
impl From<JcsError> for ApiError {
    fn from(e: JcsError) -> Self {
        ApiError::new(ErrorCode::MalformedJson)
            .detail(e.to_string())
            .at("", e.to_string())
    }
}

/// An event envelope that does not parse, with the pointer at fault.
impl From<EventError> for ApiError {
    fn from(e: EventError) -> Self {
        match e {
            EventError::Json(j) => j.into(),
            EventError::Shape { pointer, message } => ApiError::new(ErrorCode::InvalidRequest)
                .detail(format!("{message} at {pointer:?}"))
                .at(pointer, message),
        }
    }
}

/// A payload the catalogue refuses: every schema violation with its
/// pointer under `/payload`.
impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        let detail = e.to_string();
        match e {
            ValidationError::UnknownType { .. } => ApiError::new(ErrorCode::UnknownEventType)
                .detail(detail.clone())
                .at("/type", detail),
            ValidationError::UnknownVersion { .. } => {
                ApiError::new(ErrorCode::UnknownSchemaVersion)
                    .detail(detail.clone())
                    .at("/schema_version", detail)
            }
            ValidationError::UnknownRole { role, .. } => ApiError::new(ErrorCode::UnknownActorRole)
                .detail(detail)
                .at("/actor/role", format!("unknown role {role:?}")),
            ValidationError::InvalidPayload(violations) => {
                let mut err = ApiError::new(ErrorCode::InvalidPayload).detail(format!(
                    "the payload has {} violation(s) of its schema",
                    violations.len()
                ));
                for v in violations {
                    err = err.at(format!("/payload{}", v.pointer), v.message);
                }
                err
            }
        }
    }
}

/// A registry refusal, with the field of the event it is about.
impl From<&RegistryError> for ApiError {
    fn from(e: &RegistryError) -> Self {
        let detail = e.to_string();
        let (code, pointer) = match e {
            RegistryError::UnknownKey(_) => (ErrorCode::UnknownKey, "/key_id".to_owned()),
            RegistryError::Revoked { .. } => (ErrorCode::KeyRevoked, "/key_id".to_owned()),
            RegistryError::OutOfScope { .. } => (ErrorCode::TypeOutOfScope, "/type".to_owned()),
            RegistryError::WrongSource { .. } => (ErrorCode::WrongSource, "/source".to_owned()),
            RegistryError::BadSignature(_) => (ErrorCode::BadSignature, "/signature".to_owned()),
            RegistryError::BadPayload { pointer, .. } => {
                (ErrorCode::InvalidRegistryEvent, pointer.clone())
            }
            RegistryError::AlreadyRegistered(_) | RegistryError::AlreadyRevoked(_) => (
                ErrorCode::InvalidRegistryEvent,
                "/payload/key_id".to_owned(),
            ),
            RegistryError::BadGenesis(_) | RegistryError::LateGenesis => {
                (ErrorCode::InvalidRegistryEvent, "/type".to_owned())
            }
        };
        ApiError::new(code)
            .detail(detail.clone())
            .at(pointer, detail)
    }
}

/// The sequencer's refusals; its internal failures are logged here.
impl From<AppendError> for ApiError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Conflict(id) => ApiError::new(ErrorCode::EventIdConflict)
                .detail(format!(
                    "event id {id} was already appended with different content; nothing was \
                     appended"
                ))
                .at("/event_id", "already used for different content"),
            AppendError::Rejected(r) => (&r).into(),
            AppendError::Unavailable => ApiError::new(ErrorCode::Unavailable)
                .detail("the service is shutting down; retry against another instance"),
            AppendError::Internal(e) => ApiError::internal("appending", &*e),
            AppendError::StorageUnavailable(e) => {
                // Logged like an internal failure, for the operator; the
                // client learns only that it should come back later.
                let _ = ApiError::internal("appending: the storage cannot take writes", &*e);
                ApiError::new(ErrorCode::StorageUnavailable).detail(
                    "the ledger's storage cannot take writes now; nothing is lost by retrying \
                     the same bytes later",
                )
            }
        }
    }
}
