//! `/api/employees`: employees and their faces (changes: role `admin`; reads: `admin` or
//! `viewer`).

use super::Reader;
use crate::repo::employees::{self, Employee};
use crate::service::employees::{self as svc, EmployeeInput, EnrollAnswer};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use faceprint_server::auth::AdminUser;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiResult, ErrorBody};
use faceprint_server::upload::Upload;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(enroll, delete_faces))
        .routes(routes!(archive))
        .routes(routes!(unarchive))
}

type JsonOf<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// Every employee with their photo count and when a camera last saw them.
#[utoipa::path(get, path = "/api/employees", tag = "employees", security(("bearer" = [])),
    responses((status = 200, body = [Employee]), (status = 403, body = ErrorBody)))]
async fn list(State(state): State<AppState>, _reader: Reader) -> ApiResult<Json<Vec<Employee>>> {
    Ok(Json(state.common().db(employees::list).await?))
}

/// Add an employee (then their faces: `POST /api/employees/{id}/faces`).
#[utoipa::path(post, path = "/api/employees", tag = "employees", security(("bearer" = [])), request_body = EmployeeInput,
    responses((status = 201, body = Employee), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    body: JsonOf<EmployeeInput>,
) -> ApiResult<(StatusCode, Json<Employee>)> {
    let Json(input) = body?;
    let e = svc::create(&state, &caller, &a.principal, input).await?;
    Ok((StatusCode::CREATED, Json(e)))
}

#[utoipa::path(get, path = "/api/employees/{id}", tag = "employees", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Employee), (status = 404, body = ErrorBody)))]
async fn get(
    State(state): State<AppState>,
    _reader: Reader,
    Path(id): Path<String>,
) -> ApiResult<Json<Employee>> {
    Ok(Json(svc::get(&state, &id).await?))
}

/// Change an employee's name, email or department.
#[utoipa::path(put, path = "/api/employees/{id}", tag = "employees", security(("bearer" = [])), params(("id" = String, Path)), request_body = EmployeeInput,
    responses((status = 200, body = Employee), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonOf<EmployeeInput>,
) -> ApiResult<Json<Employee>> {
    let Json(input) = body?;
    Ok(Json(
        svc::update(&state, &caller, &a.principal, &id, input).await?,
    ))
}

/// Delete an employee, their faces and their attendance records.
#[utoipa::path(delete, path = "/api/employees/{id}", tag = "employees", security(("bearer" = [])), params(("id" = String, Path)),
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

/// Face photos (multipart, any number of files; or one raw image body).
#[derive(ToSchema)]
#[allow(dead_code)]
struct PhotosForm {
    #[schema(value_type = Vec<String>, format = Binary)]
    photo: Vec<Vec<u8>>,
}

/// Add faces from one or several photos. Each must show one face passing the enrollment
/// quality profile; the others are listed in `rejected` with their reason (422 when none
/// passed).
#[utoipa::path(post, path = "/api/employees/{id}/faces", tag = "employees", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = PhotosForm, content_type = "multipart/form-data"),
    responses((status = 200, body = EnrollAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn enroll(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
    upload: Upload,
) -> ApiResult<Json<EnrollAnswer>> {
    let photos = upload
        .images
        .into_iter()
        .map(|i| (i.field, i.bytes))
        .collect();
    Ok(Json(
        svc::enroll(&state, &caller, &a.principal, &id, photos).await?,
    ))
}

/// Remove every face of the employee.
#[utoipa::path(delete, path = "/api/employees/{id}/faces", tag = "employees", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Employee), (status = 404, body = ErrorBody)))]
async fn delete_faces(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Employee>> {
    Ok(Json(
        svc::delete_faces(&state, &caller, &a.principal, &id).await?,
    ))
}

/// Archive: faces kept but never matched (someone who left, on leave…).
#[utoipa::path(post, path = "/api/employees/{id}/archive", tag = "employees", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Employee), (status = 404, body = ErrorBody)))]
async fn archive(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Employee>> {
    Ok(Json(
        svc::set_archived(&state, &caller, &a.principal, &id, true).await?,
    ))
}

/// Bring an archived employee back: their faces match again.
#[utoipa::path(post, path = "/api/employees/{id}/unarchive", tag = "employees", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Employee), (status = 404, body = ErrorBody)))]
async fn unarchive(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Employee>> {
    Ok(Json(
        svc::set_archived(&state, &caller, &a.principal, &id, false).await?,
    ))
}
