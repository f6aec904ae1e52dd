//! Extractors that turn axum's own rejections into our problem bodies, so
//! that a client sees one error format whatever layer refused its request.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
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

/// `axum::extract::Query` with our error body; unknown parameters are
/// refused when `T` denies unknown fields.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| {
                ApiError::new(ErrorCode::InvalidParameter).detail(e.body_text())
            })
    }
}

/// `axum::extract::Path` with our error body.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e: PathRejection| {
                ApiError::new(ErrorCode::InvalidParameter).detail(e.body_text())
            })
    }
}
