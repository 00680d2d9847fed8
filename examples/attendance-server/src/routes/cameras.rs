//! `/api/cameras` (changes: role `admin`; reads: `admin` or `viewer`), the live view
//! `/stream/{camera}` and `/stream/status`: what each camera is doing. Pushed frames are
//! `ingest.rs`.

use super::Reader;
use crate::repo::cameras::{self, Camera};
use crate::service::cameras::{self as svc, CameraInput};
use crate::service::status::StatusView;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Json;
use faceprint_server::auth::AdminUser;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .merge(
            // The live view is an <img>: its token comes in the query.
            OpenApiRouter::new()
                .routes(routes!(live))
                .layer(axum::Extension(faceprint_server::auth::QueryToken)),
        )
        .routes(routes!(status_all))
        .routes(routes!(status))
}

type JsonOf<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

#[utoipa::path(get, path = "/api/cameras", tag = "cameras", security(("bearer" = [])),
    responses((status = 200, body = [Camera]), (status = 403, body = ErrorBody)))]
async fn list(State(state): State<AppState>, _reader: Reader) -> ApiResult<Json<Vec<Camera>>> {
    let all = state.common().db(cameras::list).await?;
    Ok(Json(all.into_iter().map(Camera::shown).collect()))
}

/// Add a camera: an RTSP/HTTP URL, a video file, a directory of frames, or `push` (frames
/// sent to `POST /api/cameras/{id}/frames`). Enabled cameras start at once (409
/// `too_many_streams` beyond `app.max_streams`).
#[utoipa::path(post, path = "/api/cameras", tag = "cameras", security(("bearer" = [])), request_body = CameraInput,
    responses((status = 201, body = Camera), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    body: JsonOf<CameraInput>,
) -> ApiResult<(StatusCode, Json<Camera>)> {
    let Json(input) = body?;
    let c = svc::save(&state, &caller, &a.principal, None, input).await?;
    Ok((StatusCode::CREATED, Json(c.shown())))
}

#[utoipa::path(get, path = "/api/cameras/{id}", tag = "cameras", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Camera), (status = 404, body = ErrorBody)))]
async fn get(
    State(state): State<AppState>,
    _reader: Reader,
    Path(id): Path<String>,
) -> ApiResult<Json<Camera>> {
    Ok(Json(svc::get(&state, &id).await?.shown()))
}

/// Change a camera (it restarts with the new settings, or stops when disabled).
#[utoipa::path(put, path = "/api/cameras/{id}", tag = "cameras", security(("bearer" = [])), params(("id" = String, Path)), request_body = CameraInput,
    responses((status = 200, body = Camera), (status = 404, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonOf<CameraInput>,
) -> ApiResult<Json<Camera>> {
    let Json(input) = body?;
    Ok(Json(
        svc::save(&state, &caller, &a.principal, Some(&id), input)
            .await?
            .shown(),
    ))
}

/// Stop and remove a camera (its records stay).
#[utoipa::path(delete, path = "/api/cameras/{id}", tag = "cameras", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    svc::delete(&state, &caller, &a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every camera's status, whichever node runs it (`node`).
#[utoipa::path(get, path = "/stream/status", tag = "cameras", security(("bearer" = [])),
    responses((status = 200, body = [StatusView]), (status = 403, body = ErrorBody)))]
async fn status_all(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<StatusView>>> {
    let views = svc::status_all(&state, &headers).await?;
    Ok(Json(views.into_iter().map(|v| reader.shows(v)).collect()))
}

/// One camera's status: frame rates in and processed, dropped frames, tracks in view, records,
/// reconnections, the last error, and the node running it (asked in turn when it is another).
#[utoipa::path(get, path = "/stream/status/{camera}", tag = "cameras", security(("bearer" = [])), params(("camera" = String, Path)),
    responses((status = 200, body = StatusView), (status = 404, body = ErrorBody)))]
async fn status(
    State(state): State<AppState>,
    reader: Reader,
    Path(camera): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<StatusView>> {
    Ok(Json(
        reader.shows(svc::status(&state, &camera, &headers).await?),
    ))
}

/// The camera's frames with boxes, track ids and names drawn, as MJPEG
/// (`multipart/x-mixed-replace`, for an `<img>`; the token may be the `access_token` query
/// parameter). Any node answers: one that does not run the camera relays the node that does
/// (502 `node_unreachable` when that node does not answer). 409 when the camera is not
/// running, 503 beyond 16 viewers.
#[utoipa::path(get, path = "/stream/{camera}", tag = "cameras", security(("bearer" = [])), params(("camera" = String, Path)),
    responses((status = 200, content_type = "multipart/x-mixed-replace"), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn live(
    State(state): State<AppState>,
    _reader: Reader,
    Path(camera): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<axum::response::Response> {
    if let Some(node) = svc::live_node(&state, &camera, &headers).await? {
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        return faceprint_server::cluster::relay(&node, path, &headers).await;
    }
    let view = state
        .cameras()
        .live(&camera)
        .ok_or_else(|| ApiError::conflict("camera_stopped", "the camera is not running"))?;
    let (frames, viewer) = view.watch().ok_or_else(ApiError::busy)?;
    let stop = state.common().shutdown().token.clone();
    let parts = futures_util::stream::unfold(
        (frames, viewer, stop),
        |(mut frames, viewer, stop)| async move {
            tokio::select! {
                changed = frames.changed() => changed.ok()?,
                // Server shutting down: end the stream so the connection can close.
                _ = stop.cancelled() => return None,
            }
            let jpeg = frames.borrow_and_update().clone()?;
            let mut part = Vec::with_capacity(jpeg.len() + 96);
            part.extend_from_slice(
                format!(
                    "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                    jpeg.len()
                )
                .as_bytes(),
            );
            part.extend_from_slice(&jpeg);
            part.extend_from_slice(b"\r\n");
            Some((
                Ok::<_, std::convert::Infallible>(bytes::Bytes::from(part)),
                (frames, viewer, stop),
            ))
        },
    );
    axum::response::Response::builder()
        .header(
            axum::http::header::CONTENT_TYPE,
            "multipart/x-mixed-replace; boundary=frame",
        )
        .header(axum::http::header::CACHE_CONTROL, "no-store")
        .body(axum::body::Body::from_stream(parts))
        .map_err(ApiError::internal)
}
