//! The selfie step by liveness challenges: `POST /api/verifications/{id}/liveness` starts a
//! session for the user's case; its frames go to `/api/liveness/{session_id}/frames` (REST) or
//! over the WebSocket `/ws/liveness` (`resume {session_id}`, then `process_frame`). A session
//! id is a capability: whoever holds it may post its frames (the frames must show one face
//! throughout, and only the case's owner could start it).

use crate::service::liveness as svc;
use crate::state::AppState;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use faceprint_server::auth::AuthUser;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult, ErrorBody};
use faceprint_server::frames::socket::{self, FrameFlows};
use faceprint_server::frames::{FrameSession, SessionStatusView, Slot};
use faceprint_server::upload::Upload;
use faceprint_server::Common;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(status, cancel))
        .routes(routes!(post_frame))
}

/// Start the selfie step as a challenge session (after the document): follow each
/// instruction on camera; when the challenges pass, the most frontal frame is the selfie and
/// the case is decided.
#[utoipa::path(post, path = "/api/verifications/{id}/liveness", tag = "verifications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 201, body = SessionStatusView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn start(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<SessionStatusView>)> {
    let s = svc::start(&state, &caller, &user, &id).await?;
    Ok((StatusCode::CREATED, Json(s.view(0))))
}

/// A challenge session's status and current instruction.
#[utoipa::path(get, path = "/api/liveness/{session_id}", tag = "verifications", params(("session_id" = String, Path)),
    responses((status = 200, body = SessionStatusView), (status = 404, body = ErrorBody)))]
async fn status(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> ApiResult<Json<SessionStatusView>> {
    let (s, dropped) = faceprint_server::frames::load(state.common(), &session_id).await?;
    Ok(Json(s.view(dropped)))
}

/// End a challenge session early (the step stays open).
#[utoipa::path(delete, path = "/api/liveness/{session_id}", tag = "verifications", params(("session_id" = String, Path)),
    responses((status = 200, body = SessionStatusView), (status = 404, body = ErrorBody)))]
async fn cancel(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> ApiResult<Json<SessionStatusView>> {
    Ok(Json(svc::cancel(&state, &session_id).await?.view(0)))
}

/// Post one camera frame (a JPEG body, multipart `frame`, or JSON with base64 `frame` and
/// `timestamp_ms`): `liveness_instruction` while challenges remain, `liveness_result` (with
/// the case) at the end, or `frame_dropped`.
#[utoipa::path(post, path = "/api/liveness/{session_id}/frames", tag = "verifications", params(("session_id" = String, Path)),
    request_body(content = String, content_type = "image/jpeg"),
    responses((status = 200, description = "the frame's message", body = Object), (status = 404, body = ErrorBody),
        (status = 409, description = "the session has finished", body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn post_frame(
    State(state): State<AppState>,
    caller: Caller,
    Path(session_id): Path<String>,
    upload: Upload,
) -> ApiResult<Json<Value>> {
    let frame = upload.require_image("frame")?.bytes.clone();
    let ts = upload.timestamp_ms()?;
    Ok(Json(
        svc::process_frame(&state, &caller, &session_id, frame, ts, Slot::Wait).await?,
    ))
}

/// `GET /ws/liveness`: a started session's frames over one WebSocket.
pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    ws: WebSocketUpgrade,
) -> Response {
    socket::upgrade(Flows(state), caller, ws)
}

#[derive(Clone)]
struct Flows(AppState);

impl FrameFlows for Flows {
    fn common(&self) -> &Common {
        self.0.common()
    }

    /// Sessions start over REST, signed in; the socket only resumes them.
    fn start<'a>(
        &'a self,
        _caller: &'a Caller,
        kind: &'a str,
        _message: &'a Value,
    ) -> Option<BoxFuture<'a, ApiResult<FrameSession>>> {
        (kind == "start_liveness").then(|| {
            async {
                Err(ApiError::bad_request(
                    "start the session with POST /api/verifications/{id}/liveness, then resume it here",
                ))
            }
            .boxed()
        })
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
            svc::process_frame(&state, &caller, &session_id, frame, timestamp_ms, slot).await
        }
        .boxed()
    }

    fn cancel(&self, session_id: String) -> BoxFuture<'static, ApiResult<()>> {
        let state = self.0.clone();
        async move { svc::cancel(&state, &session_id).await.map(|_| ()) }.boxed()
    }
}
