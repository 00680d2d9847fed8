//! Request ids: every request gets an `x-request-id` (a UUID, or the caller's own if it sent a
//! sane one), echoed on the answer, put in the error body and in every log line of the request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestId, RequestId as TowerRequestId};

pub const HEADER: &str = "x-request-id";

pub fn header_name() -> HeaderName {
    HeaderName::from_static(HEADER)
}

/// Makes a UUID v4 id.
#[derive(Clone, Copy, Default)]
pub struct MakeUuid;

impl MakeRequestId for MakeUuid {
    fn make_request_id<B>(&mut self, _req: &Request<B>) -> Option<TowerRequestId> {
        let id = uuid::Uuid::new_v4().to_string();
        Some(TowerRequestId::new(id.parse().ok()?))
    }
}

/// Drops a caller's request id that is too long or not printable, so the one we make is used.
pub async fn sanitize(mut req: axum::extract::Request) -> axum::extract::Request {
    let bad = req
        .headers()
        .get(HEADER)
        .is_some_and(|v| v.len() > 128 || !v.as_bytes().iter().all(|b| b.is_ascii_graphic()));
    if bad {
        req.headers_mut().remove(HEADER);
    }
    req
}

/// The current request's id, for handlers and services that record it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(
            parts
                .headers
                .get(HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
        ))
    }
}
