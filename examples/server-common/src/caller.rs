//! Who is asking and from where: the client's address and user agent (stored with login
//! sessions, shown to their owner) and the request id (stored with audit events).

use crate::auth::sessions::ClientInfo;
use crate::events::Event;
use crate::request_id::RequestId;
use crate::state::Common;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub client: ClientInfo,
    pub request_id: Option<RequestId>,
}

impl Caller {
    /// A successful `action` by `actor` on `target`, for the audit trail.
    pub fn done(&self, action: &str, actor: impl Into<String>, target: impl Into<String>) -> Event {
        self.event(action, "success").actor(actor).target(target)
    }

    /// An audit event stamped with this request's id.
    pub fn event(&self, action: &str, outcome: &str) -> Event {
        let e = Event::new(action, outcome);
        match &self.request_id {
            Some(r) => e.request(r),
            None => e,
        }
    }
}

impl<S> FromRequestParts<S> for Caller
where
    Common: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let common = Common::from_ref(state);
        let ip = common.rate_limits().client_ip(parts).to_string();
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect());
        let request_id = RequestId::from_request_parts(parts, state).await?;
        Ok(Caller {
            client: ClientInfo {
                user_agent,
                ip: Some(ip),
            },
            request_id: Some(request_id),
        })
    }
}
