//! `GET /ws/face`: signup and login from camera frames over one WebSocket (the loop is the
//! common crate's `frames::socket`).
//!
//! This server's start messages: `start_enrollment {name, email}` and `start_authentication
//! {email?}`. Frame messages: `enrollment_progress`, `enrollment_complete`,
//! `liveness_instruction`, `authentication_result`.

use crate::service::frames as flows;
use crate::state::AppState;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult};
use faceprint_server::frames::socket::{self, FrameFlows};
use faceprint_server::frames::{FrameSession, Slot};
use faceprint_server::Common;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde_json::Value;

pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    ws: WebSocketUpgrade,
) -> Response {
    socket::upgrade(Flows(state), caller, ws)
}

#[derive(Clone)]
struct Flows(AppState);

fn text<'a>(message: &'a Value, field: &str) -> ApiResult<&'a str> {
    message[field]
        .as_str()
        .ok_or_else(|| ApiError::bad_request(format!("{field} is required (a string)")))
}

impl FrameFlows for Flows {
    fn common(&self) -> &Common {
        self.0.common()
    }

    fn start<'a>(
        &'a self,
        caller: &'a Caller,
        kind: &'a str,
        message: &'a Value,
    ) -> Option<BoxFuture<'a, ApiResult<FrameSession>>> {
        let state = &self.0;
        match kind {
            "start_enrollment" => Some(
                async move {
                    let (name, email) = (text(message, "name")?, text(message, "email")?);
                    flows::start_signup(state, caller, name, email).await
                }
                .boxed(),
            ),
            "start_authentication" => Some(
                async move { flows::start_login(state, message["email"].as_str()).await }.boxed(),
            ),
            _ => None,
        }
    }

    fn process(
        &self,
        caller: Caller,
        session_id: String,
        frame: bytes::Bytes,
        timestamp_ms: Option<u64>,
        slot: Slot,
    ) -> BoxFuture<'static, ApiResult<Value>> {
        let state = self.0.clone();
        async move {
            flows::process_frame(&state, &caller, &session_id, frame, timestamp_ms, slot).await
        }
        .boxed()
    }

    fn cancel(&self, session_id: String) -> BoxFuture<'static, ApiResult<()>> {
        let state = self.0.clone();
        async move { flows::cancel(&state, &session_id).await.map(|_| ()) }.boxed()
    }
}
