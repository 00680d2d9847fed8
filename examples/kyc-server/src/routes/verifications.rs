//! `/api/verifications`: a user's cases and their steps (document, selfie); every case for
//! staff; a case's images.

use crate::service::decision::Status;
use crate::service::verifications::{self as svc, Verification};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use faceprint_server::auth::AuthUser;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult, ErrorBody};
use faceprint_server::upload::{ImageFormat, Upload};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, start))
        .routes(routes!(get))
        .routes(routes!(document))
        .routes(routes!(selfie))
        .routes(routes!(image))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// in_progress, approved, rejected or needs_review.
    status: Option<String>,
}

/// The caller's own cases (a user), or every case (verifier, admin, auditor), newest first
/// for users, oldest change first for staff.
#[utoipa::path(get, path = "/api/verifications", tag = "verifications", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = [Verification]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<Verification>>> {
    let Query(q) = q?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ApiError::bad_request("status is in_progress, approved, rejected or needs_review")
        })?),
    };
    Ok(Json(svc::list(&state, &user, status).await?))
}

/// Start a verification (role `user`); then send the document, then a selfie.
#[utoipa::path(post, path = "/api/verifications", tag = "verifications", security(("bearer" = [])),
    responses((status = 201, body = Verification), (status = 403, body = ErrorBody)))]
async fn start(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<Verification>)> {
    Ok((
        StatusCode::CREATED,
        Json(svc::start(&state, &caller, &user).await?),
    ))
}

/// A case with its status, each step's progress and the document's findings.
#[utoipa::path(get, path = "/api/verifications/{id}", tag = "verifications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Verification), (status = 404, body = ErrorBody)))]
async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Verification>> {
    Ok(Json(svc::get(&state, &user, &id).await?))
}

/// The document's pages.
#[derive(ToSchema)]
#[allow(dead_code)]
struct DocumentForm {
    /// The page with the portrait (a passport's data page, a card's front).
    #[schema(value_type = String, format = Binary)]
    front: Vec<u8>,
    /// A card's back, where its machine-readable zone is.
    #[schema(value_type = Option<String>, format = Binary)]
    back: Option<Vec<u8>>,
}

/// The document step: the zone read and checked, the portrait found, the printed text
/// compared with the zone. 422 `no_document` / `no_portrait` when the photo is unusable
/// (nothing kept: retake it); sent again before the selfie, it replaces the first.
#[utoipa::path(post, path = "/api/verifications/{id}/document", tag = "verifications", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = DocumentForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Verification), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn document(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
    Path(id): Path<String>,
    upload: Upload,
) -> ApiResult<Json<Verification>> {
    let front = upload.require_image("front")?.bytes.clone();
    let back = upload
        .images
        .iter()
        .find(|i| i.field == "back")
        .map(|i| i.bytes.clone());
    Ok(Json(
        svc::submit_document(&state, &caller, &user, &id, front, back).await?,
    ))
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct SelfieForm {
    #[schema(value_type = String, format = Binary)]
    selfie: Vec<u8>,
}

/// The selfie step: passive liveness, the match with the portrait, then the decision
/// (`approved`, `rejected` or `needs_review`, with reasons). 422 `no_face` /
/// `multiple_faces` when the photo is unusable (the step stays open).
#[utoipa::path(post, path = "/api/verifications/{id}/selfie", tag = "verifications", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = SelfieForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Verification), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn selfie(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
    Path(id): Path<String>,
    upload: Upload,
) -> ApiResult<Json<Verification>> {
    let selfie = upload.require_image("selfie")?.bytes.clone();
    Ok(Json(
        svc::submit_selfie(&state, &caller, &user, &id, selfie).await?,
    ))
}

/// One of a case's images (`document_front`, `document_back`, `portrait`, `selfie`), for its
/// owner, verifiers and administrators; 404 once deleted by retention.
#[utoipa::path(get, path = "/api/verifications/{id}/images/{kind}", tag = "verifications", security(("bearer" = [])),
    params(("id" = String, Path), ("kind" = String, Path)),
    responses((status = 200, content_type = "image/jpeg"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn image(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, kind)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let bytes = svc::image(&state, &user, &id, &kind).await?;
    let mime = match ImageFormat::sniff(&bytes) {
        Some(f) => f.mime(),
        None => "application/octet-stream",
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    ))
}
