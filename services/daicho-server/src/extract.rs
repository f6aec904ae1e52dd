//! Extractors that turn axum's own rejections into our problem bodies, so
//! that a client sees one error format whatever layer refused its request.

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, ErrorCode};

/// The raw bytes of a JSON request body, after the media type and the size
/// limit were checked. Parsing is left to the handler because the ledger's
/// parser is stricter than serde's (duplicate keys, inexact integers) and
/// reports JSON pointers.
#[derive(Debug)]
pub struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType)
                .detail("send the body with Content-Type: application/json"));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        Ok(JsonBytes(bytes))
    }
}

fn bytes_rejection(r: BytesRejection) -> ApiError {
    if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::BodyTooLarge).detail(r.body_text())
    } else {
        ApiError::new(ErrorCode::InvalidRequest).detail(r.body_text())
    }
}

/// `axum::extract::Query` with our error body, whose pointer names the
/// parameter at fault; unknown parameters are refused when `T` denies
/// unknown fields (every query type of the API does, and [`NoQuery`] is
/// the one for endpoints that take none).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| {
                let text = e.body_text();
                // axum renders serde's error after this prefix, with the
                // parameter's name first when serde knows it.
                let message = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                parameter_error(parameter_named(message).unwrap_or(""), message)
            })
    }
}

/// The query of an endpoint that takes no parameters: any is refused.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

/// `axum::extract::Path` with our error body, whose pointer names the
/// path parameter.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(p) => Ok(Path(p.0)),
            Err(e) => {
                let name = match &e {
                    PathRejection::FailedToDeserializePathParams(f) => match f.kind() {
                        ErrorKind::ParseErrorAtKey { key, .. }
                        | ErrorKind::DeserializeError { key, .. }
                        | ErrorKind::InvalidUtf8InPathParam { key } => Some(key.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                // Every route of the API has at most one path parameter, so
                // its name is the pointer when axum does not say.
                let name = match name {
                    Some(n) => n,
                    None => RawPathParams::from_request_parts(parts, state)
                        .await
                        .ok()
                        .and_then(|raw| raw.iter().next().map(|(k, _)| k.to_owned()))
                        .unwrap_or_default(),
                };
                let text = e.body_text();
                let message = text.strip_prefix("Invalid URL: ").unwrap_or(&text);
                Err(parameter_error(&name, message))
            }
        }
    }
}

fn parameter_error(name: &str, message: &str) -> ApiError {
    let detail = if name.is_empty() {
        message.to_owned()
    } else {
        format!("{name}: {message}")
    };
    ApiError::new(ErrorCode::InvalidParameter)
        .detail(detail)
        .at(name, message)
}

/// The parameter a serde error about a query string is about: the path
/// `serde_path_to_error` puts first (`seq: invalid digit found in string`),
/// or the field an unknown or missing field error quotes.
fn parameter_named(message: &str) -> Option<&str> {
    for lead in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(lead) {
            return rest.split('`').next();
        }
    }
    let (head, _) = message.split_once(": ")?;
    let is_name = !head.is_empty()
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    is_name.then_some(head)
}

/// The largest position or size the API takes: 2^53 − 1, the largest
/// integer the ledger's strict JSON carries exactly (FORMAT.md §1), since
/// positions appear as JSON integers in entries and receipts. The OpenAPI
/// document states the same maximum, exactly.
pub const MAX_POSITION: u64 = (1 << 53) - 1;

/// A sequence number or tree size taken from a query or a path: at most
/// [`MAX_POSITION`], so that a larger number is a bad parameter at the door
/// instead of a store failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position(pub u64);

impl<'de> serde::Deserialize<'de> for Position {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        if n > MAX_POSITION {
            return Err(serde::de::Error::custom(format!(
                "{n} is beyond the largest position, {MAX_POSITION}"
            )));
        }
        Ok(Position(n))
    }
}

#[cfg(test)]
mod tests {
    use super::parameter_named;

    #[test]
    fn the_parameter_is_named_from_serdes_message() {
        assert_eq!(
            parameter_named("seq: invalid digit found in string"),
            Some("seq")
        );
        assert_eq!(
            parameter_named("unknown field `bogus`, expected `seq` or `size`"),
            Some("bogus")
        );
        assert_eq!(parameter_named("missing field `from`"), Some("from"));
        assert_eq!(parameter_named("something else"), None);
    }
}
