//! Request ids: every request gets an `x-request-id`, always a UUID of ours, echoed on the
//! answer, put in the error body, the audit trail and every log line of the request. A caller's
//! own `x-request-id` (when sane) is kept only as `client_request_id`: in the log line and
//! echoed as `x-client-request-id`, never as our id (a client could otherwise write what the
//! audit trail says, or make two requests share an id).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestId, RequestId as TowerRequestId};

pub const HEADER: &str = "x-request-id";
/// Where a caller's own request id goes.
pub const CLIENT_HEADER: &str = "x-client-request-id";

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

/// Moves a caller's `x-request-id` to `x-client-request-id` (dropped when too long or not
/// printable), so the one we make is the request's id.
pub async fn sanitize(mut req: axum::extract::Request) -> axum::extract::Request {
    let headers = req.headers_mut();
    headers.remove(CLIENT_HEADER);
    if let Some(theirs) = headers.remove(HEADER) {
        if theirs.len() <= 128 && theirs.as_bytes().iter().all(|b| b.is_ascii_graphic()) {
            headers.insert(HeaderName::from_static(CLIENT_HEADER), theirs);
        }
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
