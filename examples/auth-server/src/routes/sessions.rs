//! `/api/sessions`: signup and login from camera frames over REST (the WebSocket at `/ws/face`
//! does the same). A session id is a capability: whoever holds it may post its frames.

use crate::service::frames;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiResult, ErrorBody};
use faceprint_server::frames::{SessionStatusView, Slot};
use faceprint_server::upload::Upload;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Starting sessions is unauthenticated (rate-limited per IP with the other auth routes).
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_enrollment))
        .routes(routes!(start_authentication))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status, cancel))
        .routes(routes!(post_frame))
}

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartEnrollment {
    name: String,
    email: String,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct StartAuthentication {
    /// Optional: check against this account only.
    email: Option<String>,
}

/// Start a camera signup: post frames until `enrollment_complete` (with tokens).
#[utoipa::path(post, path = "/api/sessions/enrollment", tag = "frame sessions", request_body = StartEnrollment,
    responses((status = 201, body = SessionStatusView), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn start_enrollment(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<StartEnrollment>,
) -> ApiResult<(StatusCode, Json<SessionStatusView>)> {
    let Json(b) = body?;
    let s = frames::start_signup(&state, &caller, &b.name, &b.email).await?;
    Ok((StatusCode::CREATED, Json(s.view(0))))
}

/// Start a camera login: post frames until `authentication_result` (with tokens on success).
#[utoipa::path(post, path = "/api/sessions/authentication", tag = "frame sessions", request_body = StartAuthentication,
    responses((status = 201, body = SessionStatusView), (status = 429, body = ErrorBody)))]
async fn start_authentication(
    State(state): State<AppState>,
    body: Option<Json<StartAuthentication>>,
) -> ApiResult<(StatusCode, Json<SessionStatusView>)> {
    let b = body.map(|Json(b)| b).unwrap_or_default();
    let s = frames::start_login(&state, b.email.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(s.view(0))))
}

/// A session's stage, status and counters.
#[utoipa::path(get, path = "/api/sessions/{id}", tag = "frame sessions", params(("id" = String, Path)),
    responses((status = 200, body = SessionStatusView), (status = 404, body = ErrorBody)))]
async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionStatusView>> {
    let (s, dropped) = faceprint_server::frames::load(state.common(), &id).await?;
    Ok(Json(s.view(dropped)))
}

/// Cancel a session (a cancelled signup frees its email).
#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "frame sessions", params(("id" = String, Path)),
    responses((status = 200, body = SessionStatusView), (status = 404, body = ErrorBody)))]
async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionStatusView>> {
    Ok(Json(frames::cancel(&state, &id).await?.view(0)))
}

/// Post one frame (a JPEG body, multipart `frame`, or JSON with base64 `frame` and
/// `timestamp_ms`). The answer is the same message the WebSocket sends: `enrollment_progress`,
/// `enrollment_complete`, `liveness_instruction`, `authentication_result` or `frame_dropped`.
#[utoipa::path(post, path = "/api/sessions/{id}/frames", tag = "frame sessions", params(("id" = String, Path)),
    request_body(content = String, content_type = "image/jpeg"),
    responses((status = 200, description = "the frame's message", body = Object), (status = 404, body = ErrorBody), (status = 409, description = "the session has finished", body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn post_frame(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    upload: Upload,
) -> ApiResult<Json<Value>> {
    let frame = upload.require_image("frame")?.bytes.clone();
    let ts = upload.timestamp_ms()?;
    Ok(Json(
        frames::process_frame(&state, &caller, &id, frame, ts, Slot::Wait).await?,
    ))
}
