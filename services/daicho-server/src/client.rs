//! A small HTTP/1.1 client for the `daicho` commands that talk to a running
//! service (`key register`, `key revoke`, `export --url`), the tests and the
//! load generator. Plain HTTP only: daicho is meant to sit behind the
//! municipality's TLS terminator, and the client never fetches anything but
//! the URL it is given.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Why a request failed before a response arrived.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not an `http://host:port` base.
    #[error("invalid URL {0:?}: expected http://HOST:PORT")]
    Url(String),
    /// The request could not be built.
    #[error("invalid request: {0}")]
    Request(#[from] hyper::http::Error),
    /// Connecting or exchanging the request failed.
    #[error("request failed: {0}")]
    Transport(#[from] hyper_util::client::legacy::Error),
    /// Reading the response body failed.
    #[error("reading the response failed: {0}")]
    Body(#[from] hyper::Error),
}

/// A response read in full.
#[derive(Debug)]
pub struct FullResponse {
    /// The status.
    pub status: StatusCode,
    /// The `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
    /// Every header.
    pub headers: hyper::HeaderMap,
}

impl FullResponse {
    /// The value of header `name`, if present and text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The body as JSON (`Value::Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    /// The body as text, lossily.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client for one service base URL. Cheap to clone; connections are pooled.
#[derive(Clone, Debug)]
pub struct Client {
    base: String,
    inner: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
}

impl Client {
    /// A client for `base`, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: &str) -> Result<Client, ClientError> {
        let base = base.trim_end_matches('/');
        if !base.starts_with("http://") || base.parse::<hyper::Uri>().is_err() {
            return Err(ClientError::Url(base.to_owned()));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(256)
            .build(connector);
        Ok(Client {
            base: base.to_owned(),
            inner,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request and returns the response with its body still streaming.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<Response<Incoming>, ClientError> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        Ok(self.inner.request(req.body(Full::new(body))?).await?)
    }

    /// Sends a request and reads the whole response.
    pub async fn exchange(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<FullResponse, ClientError> {
        let res = self.send(method, path, token, content_type, body).await?;
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers = res.headers().clone();
        let body = res.into_body().collect().await?.to_bytes();
        Ok(FullResponse {
            status,
            content_type,
            body,
            headers,
        })
    }

    /// `GET path` with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Result<FullResponse, ClientError> {
        self.exchange(Method::GET, path, token, None, Bytes::new())
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(
        &self,
        path: &str,
        body: impl Into<Bytes>,
    ) -> Result<FullResponse, ClientError> {
        self.exchange(
            Method::POST,
            path,
            None,
            Some("application/json"),
            body.into(),
        )
        .await
    }
}
