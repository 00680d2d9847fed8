//! `/api/admin`: statistics and users (role `admin`); the audit trail, webhooks and API keys
//! are the common crate's (`faceprint_server::routes::admin`).

use crate::repo::users::User;
use crate::service::admin::{self, Stats, UserPage};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use faceprint_server::auth::AdminUser;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiResult, ErrorBody};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats))
        .routes(routes!(list_users))
        .routes(routes!(delete_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
}

type QueryOf<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    /// Window in days (default 30).
    days: Option<u32>,
}

/// Users, open sessions, signups and logins per day, success rate, failure reasons, liveness
/// rejections.
#[utoipa::path(get, path = "/api/admin/stats", tag = "admin", security(("bearer" = [])), params(StatsQuery),
    responses((status = 200, body = Stats), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn stats(
    State(state): State<AppState>,
    _admin: AdminUser,
    q: QueryOf<StatsQuery>,
) -> ApiResult<Json<Stats>> {
    let Query(q) = q?;
    Ok(Json(admin::stats(&state, q.days.unwrap_or(30)).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct UsersQuery {
    /// Part of a name or email.
    search: Option<String>,
    offset: Option<u32>,
    /// At most 200 (default 50).
    limit: Option<u32>,
}

/// Users, newest first, with search and pagination.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", security(("bearer" = [])), params(UsersQuery),
    responses((status = 200, body = UserPage), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    _admin: AdminUser,
    q: QueryOf<UsersQuery>,
) -> ApiResult<Json<UserPage>> {
    let Query(q) = q?;
    Ok(Json(
        admin::list_users(
            &state,
            q.search,
            q.offset.unwrap_or(0),
            q.limit.unwrap_or(50),
        )
        .await?,
    ))
}

/// Delete a user: templates and their key erased, sessions ended.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn delete_user(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin::delete_user(&state, &caller, &a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable a user: no login, sessions ended, faces skipped by identification.
#[utoipa::path(post, path = "/api/admin/users/{id}/disable", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn disable_user(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        admin::set_disabled(&state, &caller, &a.principal, &id, true).await?,
    ))
}

/// Enable a disabled user.
#[utoipa::path(post, path = "/api/admin/users/{id}/enable", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn enable_user(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        admin::set_disabled(&state, &caller, &a.principal, &id, false).await?,
    ))
}
