//! Frames pushed to a `push` camera: one per request (`POST /api/cameras/{id}/frames`) or a
//! stream of them over a WebSocket (`GET /api/cameras/{id}/frames/ws`). Either by an
//! administrator or by an API key scoped to the camera ([`Feeder`]).

use super::Feeder;
use crate::service::cameras as svc;
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use faceprint_server::error::{ApiError, ApiResult, ErrorBody};
use faceprint_server::upload::Upload;
use serde::Serialize;
use serde_json::json;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A gateway silent this long is disconnected.
const IDLE: Duration = Duration::from_secs(60);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(push_frame))
        .routes(routes!(push_stream))
}

#[derive(Serialize, ToSchema)]
struct Accepted {
    /// False when the pipeline was behind and the frame was dropped (counted in the status).
    queued: bool,
}

/// Push one frame (a JPEG/PNG body, multipart or base64 JSON) to a running `push` camera, as
/// an administrator or with an API key scoped to the camera (`x-api-key`).
#[utoipa::path(post, path = "/api/cameras/{id}/frames", tag = "cameras", security(("bearer" = []), ("api_key" = [])), params(("id" = String, Path)),
    responses((status = 202, body = Accepted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn push_frame(
    State(state): State<AppState>,
    feeder: Feeder,
    Path(id): Path<String>,
    upload: Upload,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    feeder.may_feed(&id)?;
    svc::push_camera(&state, &id).await?;
    let bytes = upload.require_image("frame")?.bytes.clone();
    let queued = svc::push_frame(&state, &id, bytes.to_vec()).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { queued })))
}

/// A stream of frames over a WebSocket: each binary message is one JPEG or PNG frame, answered
/// in order by a text message `{"frame": n, "queued": bool}` or `{"frame": n, "error": code,
/// "message": …}` (a frame that cannot be decoded, the server busy, the key's rate exceeded:
/// that frame is lost, the stream goes on). The socket closes when the camera stops (code
/// 1011 after an `{"error": "camera_stopped"}` message) or after 60 s without a message.
#[utoipa::path(get, path = "/api/cameras/{id}/frames/ws", tag = "cameras", security(("bearer" = []), ("api_key" = [])), params(("id" = String, Path)),
    responses((status = 101, description = "switching to the WebSocket protocol"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn push_stream(
    State(state): State<AppState>,
    feeder: Feeder,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    feeder.may_feed(&id)?;
    svc::push_camera(&state, &id).await?;
    let max = state.common().settings().limits.max_body_bytes();
    Ok(ws
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            let tracker = state.common().shutdown().tracker.clone();
            async move {
                let _ = tracker.spawn(stream(state, feeder, id, socket)).await;
            }
        }))
}

async fn stream(state: AppState, feeder: Feeder, camera: String, mut socket: WebSocket) {
    let stop = state.common().shutdown().token.clone();
    let mut n: u64 = 0;
    loop {
        let message = tokio::select! {
            m = tokio::time::timeout(IDLE, socket.recv()) => m,
            _ = stop.cancelled() => break,
        };
        let bytes = match message {
            Ok(Some(Ok(Message::Binary(b)))) => b,
            Ok(Some(Ok(Message::Text(_)))) => {
                n += 1;
                let e = ApiError::bad_request("send each frame as a binary message (JPEG or PNG)");
                if reply(&mut socket, failed(n, &e)).await.is_err() {
                    break;
                }
                continue;
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            // Closed, broken, or idle too long.
            _ => break,
        };
        n += 1;
        let answer = match accept(&state, &feeder, &camera, bytes.to_vec()).await {
            Ok(queued) => json!({ "frame": n, "queued": queued }),
            Err(e) if e.code == "camera_stopped" => {
                let _ = reply(&mut socket, failed(n, &e)).await;
                let _ = socket
                    .send(Message::Close(Some(CloseFrame {
                        code: 1011,
                        reason: "camera stopped".into(),
                    })))
                    .await;
                return;
            }
            Err(e) => failed(n, &e),
        };
        if reply(&mut socket, answer).await.is_err() {
            break;
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// One frame of the stream: the key's rate holds per frame, as it does per request.
async fn accept(
    state: &AppState,
    feeder: &Feeder,
    camera: &str,
    bytes: Vec<u8>,
) -> ApiResult<bool> {
    if let Feeder::Key(k) = feeder {
        state.common().limit_key(&k.id, k.rate_per_minute).await?;
    }
    svc::push_frame(state, camera, bytes).await
}

fn failed(n: u64, e: &ApiError) -> serde_json::Value {
    json!({ "frame": n, "error": e.code, "message": e.message })
}

async fn reply(socket: &mut WebSocket, v: serde_json::Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(v.to_string().into())).await
}
