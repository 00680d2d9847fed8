//! `/api/records`: attendance records (role `admin` or `viewer`).

use super::can_read;
use crate::repo::records::{self, Record, RecordQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use faceprint_server::auth::AuthUser;
use faceprint_server::error::{ApiError, ApiResult, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(snapshot))
}

type QueryOf<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// Records, newest first, by employee, camera and time range.
#[utoipa::path(get, path = "/api/records", tag = "records", security(("bearer" = [])), params(RecordQuery),
    responses((status = 200, body = [Record]), (status = 403, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    q: QueryOf<RecordQuery>,
) -> ApiResult<Json<Vec<Record>>> {
    can_read(&user)?;
    let Query(q) = q?;
    Ok(Json(
        state.common().db(move |c| records::query(c, &q)).await?,
    ))
}

/// The face crop kept with a record (cameras with `snapshots` on).
#[utoipa::path(get, path = "/api/records/{id}/snapshot", tag = "records", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/jpeg"), (status = 404, body = ErrorBody)))]
async fn snapshot(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    can_read(&user)?;
    let jpeg = state
        .common()
        .db(move |c| records::snapshot(c, id))
        .await?
        .ok_or_else(|| ApiError::not_found("no snapshot for this record"))?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], jpeg))
}
