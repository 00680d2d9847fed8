//! `/api/records` and `/api/attendance`: attendance records, the day's summary and CSV export
//! (role `admin` or `viewer`).

use super::Reader;
use crate::repo::records::{self, CropOf, Record, RecordQuery, UnknownTrack};
use crate::service::attendance::{self, DaySummary};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use faceprint_server::error::{ApiError, ApiResult, ErrorBody};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(export_csv))
        .routes(routes!(snapshot))
        .routes(routes!(summary))
        .routes(routes!(unknown_tracks))
        .routes(routes!(unknown_snapshot))
}

type QueryOf<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// Records, newest first, by employee, camera and time range.
#[utoipa::path(get, path = "/api/records", tag = "records", security(("bearer" = [])), params(RecordQuery),
    responses((status = 200, body = [Record]), (status = 403, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    _reader: Reader,
    q: QueryOf<RecordQuery>,
) -> ApiResult<Json<Vec<Record>>> {
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
    _reader: Reader,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    crop(&state, CropOf::Record, id).await
}

/// The same records as CSV (site times, employee and camera names beside their ids).
#[utoipa::path(get, path = "/api/records/export.csv", tag = "records", security(("bearer" = [])), params(RecordQuery),
    responses((status = 200, content_type = "text/csv"), (status = 403, body = ErrorBody)))]
async fn export_csv(
    State(state): State<AppState>,
    _reader: Reader,
    q: QueryOf<RecordQuery>,
) -> ApiResult<impl IntoResponse> {
    let Query(q) = q?;
    let body = attendance::csv(&state, q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"attendance.csv\"",
            ),
        ],
        body,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct SummaryQuery {
    /// YYYY-MM-DD in site time (default: today).
    day: Option<String>,
}

/// A day per active employee: `present` (first seen by `app.workday_start`), `late` or
/// `absent`, with first and last sighting and visits.
#[utoipa::path(get, path = "/api/attendance/summary", tag = "records", security(("bearer" = [])), params(SummaryQuery),
    responses((status = 200, body = DaySummary), (status = 400, body = ErrorBody)))]
async fn summary(
    State(state): State<AppState>,
    _reader: Reader,
    q: QueryOf<SummaryQuery>,
) -> ApiResult<Json<DaySummary>> {
    let Query(q) = q?;
    Ok(Json(attendance::summary(&state, q.day.as_deref()).await?))
}

/// Tracks nobody was identified in, newest first (kept only with `app.keep_unknown_tracks`;
/// otherwise they are only counted in the day's summary). `employee_id` is not a filter here.
#[utoipa::path(get, path = "/api/unknown-tracks", tag = "records", security(("bearer" = [])), params(RecordQuery),
    responses((status = 200, body = [UnknownTrack]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn unknown_tracks(
    State(state): State<AppState>,
    _reader: Reader,
    q: QueryOf<RecordQuery>,
) -> ApiResult<Json<Vec<UnknownTrack>>> {
    let Query(q) = q?;
    if q.employee_id.is_some() {
        return Err(ApiError::bad_request(
            "unknown tracks have no employee: filter by camera_id, from_ms, to_ms",
        ));
    }
    Ok(Json(
        state
            .common()
            .db(move |c| records::unknown_tracks(c, &q))
            .await?,
    ))
}

/// The face crop kept with an unknown track (cameras with `snapshots` on).
#[utoipa::path(get, path = "/api/unknown-tracks/{id}/snapshot", tag = "records", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/jpeg"), (status = 404, body = ErrorBody)))]
async fn unknown_snapshot(
    State(state): State<AppState>,
    _reader: Reader,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    crop(&state, CropOf::UnknownTrack, id).await
}

async fn crop(state: &AppState, of: CropOf, id: i64) -> ApiResult<impl IntoResponse> {
    let jpeg = state
        .common()
        .db(move |c| records::snapshot(c, of, id))
        .await?
        .ok_or_else(|| ApiError::not_found("no snapshot kept with it"))?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], jpeg))
}
