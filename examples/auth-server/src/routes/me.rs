//! `/api/me`: the signed-in user's profile, sessions, faces, history and account deletion.

use crate::repo::users::User;
use crate::service::accounts;
use crate::service::principal;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use faceprint_server::auth::sessions::{self, SessionInfo};
use faceprint_server::auth::{AuthUser, Role};
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult, ErrorBody};
use faceprint_server::events::Event;
use faceprint_server::upload::Upload;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(profile, delete_account))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(revoke_other_sessions))
        .routes(routes!(add_face))
        .routes(routes!(history))
}

fn user_only(user: &AuthUser) -> ApiResult<()> {
    user.require(&[Role::User])
}

/// The signed-in user's account.
#[utoipa::path(get, path = "/api/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
async fn profile(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<User>> {
    user_only(&user)?;
    Ok(Json(accounts::profile(&state, user.id()).await?))
}

/// Delete the account: its face templates and their encryption key are erased, its sessions
/// end.
#[utoipa::path(delete, path = "/api/me", tag = "me", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn delete_account(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
) -> ApiResult<StatusCode> {
    user_only(&user)?;
    accounts::delete_account(&state, &caller, user.id(), &user.principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Open sessions of the account (`current` marks this one).
#[utoipa::path(get, path = "/api/me/sessions", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = [SessionInfo]), (status = 401, body = ErrorBody)))]
async fn list_sessions(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<SessionInfo>>> {
    user_only(&user)?;
    let (p, s) = (user.principal.clone(), user.session_id.clone());
    Ok(Json(
        state
            .common()
            .db(move |c| sessions::list_open(c, &p, &s))
            .await?,
    ))
}

/// End one session of the account.
#[utoipa::path(delete, path = "/api/me/sessions/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn revoke_session(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user_only(&user)?;
    let (p, sid) = (user.principal.clone(), id.clone());
    if !state
        .common()
        .db(move |c| sessions::revoke(c, &p, &sid, "revoked_by_user"))
        .await?
    {
        return Err(ApiError::not_found("no such open session"));
    }
    state
        .common()
        .audit(
            caller
                .event("revoke_session", "success")
                .actor(user.principal.clone())
                .target(user.principal.clone()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
struct Revoked {
    revoked: usize,
}

/// End every session of the account except this one.
#[utoipa::path(post, path = "/api/me/sessions/revoke-others", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Revoked), (status = 401, body = ErrorBody)))]
async fn revoke_other_sessions(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
) -> ApiResult<Json<Revoked>> {
    user_only(&user)?;
    let (p, keep) = (user.principal.clone(), user.session_id.clone());
    let revoked = state
        .common()
        .db(move |c| sessions::revoke_all(c, &p, Some(&keep), "revoked_by_user"))
        .await?;
    state
        .common()
        .audit(
            caller
                .event("revoke_other_sessions", "success")
                .actor(user.principal.clone())
                .target(user.principal.clone()),
        )
        .await?;
    Ok(Json(Revoked { revoked }))
}

/// Add a face to the account (it must match the account's faces and pass enrollment quality).
#[utoipa::path(post, path = "/api/me/faces", tag = "me", security(("bearer" = [])),
    request_body(content = String, content_type = "image/jpeg", description = "a photo (or multipart `photo`, or JSON with base64 `photo`)"),
    responses((status = 200, body = User), (status = 422, description = "a different person, poor quality or liveness failed", body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn add_face(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
    upload: Upload,
) -> ApiResult<Json<User>> {
    user_only(&user)?;
    let photo = upload.require_image("photo")?.clone();
    Ok(Json(
        accounts::add_face(&state, &caller, user.id(), photo).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// Events older than this id (the last id of the previous page).
    before_id: Option<i64>,
    /// At most 500 (default 100).
    limit: Option<u32>,
}

/// The account's authentication history, newest first: logins, refreshes, verifications,
/// session changes — outcomes and scores, never images.
#[utoipa::path(get, path = "/api/me/history", tag = "me", security(("bearer" = [])), params(HistoryQuery),
    responses((status = 200, body = [Event]), (status = 401, body = ErrorBody)))]
async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<Event>>> {
    user_only(&user)?;
    let Query(q) = q?;
    debug_assert!(principal(user.id()) == user.principal);
    Ok(Json(
        accounts::history(&state, user.id(), q.before_id, q.limit).await?,
    ))
}
