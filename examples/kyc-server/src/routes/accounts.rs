//! `/api/auth/register`, `/api/auth/login` (end users, with a password), `/api/me` (the
//! user's account, export, erasure), `/api/users/{id}` (an administrator erases a user).

use super::JsonOf;
use crate::service::privacy::{self, UserExport};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use faceprint_server::auth::flows::{self, Accounts};
use faceprint_server::auth::{AdminUser, AuthUser, IssuedTokens, Role};
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult, ErrorBody};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Registration and login: no token yet (limited per client IP by the caller).
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me, erase_me))
        .routes(routes!(export))
        .routes(routes!(erase_user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Credentials {
    /// 1 to 64 letters, digits, `.`, `_`, `-`, `@` (an email address works).
    username: String,
    /// At least 10 characters.
    password: String,
}

#[derive(Serialize, ToSchema)]
struct Registered {
    user_id: String,
    #[serde(flatten)]
    tokens: IssuedTokens,
}

/// Create an account (role `user`) and sign in.
#[utoipa::path(post, path = "/api/auth/register", tag = "accounts", request_body = Credentials,
    responses((status = 201, body = Registered), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonOf<Credentials>,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    let Json(c) = body?;
    let (user_id, tokens) = flows::register(
        state.common(),
        &c.username,
        &c.password,
        &caller.client,
        caller.event("register", "success"),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Registered { user_id, tokens })))
}

/// Sign in with a password. Five failures in a row lock the account for 15 minutes; every
/// refusal is the same 401. (Staff sign in at `/api/auth/admin/login`.)
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts", request_body = Credentials,
    responses((status = 200, body = IssuedTokens), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonOf<Credentials>,
) -> ApiResult<Json<IssuedTokens>> {
    let Json(c) = body?;
    if c.username.len() > 64 || c.password.len() > 1024 {
        return Err(ApiError::authentication_failed("oversized credentials"));
    }
    Ok(Json(
        flows::password_login(
            state.common(),
            Accounts::EndUsers,
            &c.username,
            &c.password,
            &caller.client,
            caller.event("login", "failure"),
        )
        .await?,
    ))
}

#[derive(Serialize, ToSchema)]
struct Me {
    principal: String,
    role: Role,
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(user: AuthUser) -> Json<Me> {
    Json(Me {
        principal: user.principal,
        role: user.role,
    })
}

/// Everything the server holds about the signed-in user: account, cases with their findings,
/// the images still kept, the audit events about them.
#[utoipa::path(get, path = "/api/me/export", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = UserExport), (status = 403, body = ErrorBody)))]
async fn export(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<UserExport>> {
    Ok(Json(privacy::export(&state, &user).await?))
}

/// Erase the signed-in user: account, sessions, every case and image.
#[utoipa::path(delete, path = "/api/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody)))]
async fn erase_me(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
) -> ApiResult<StatusCode> {
    user.require(&[Role::User])?;
    privacy::erase(&state, &caller, &user.principal, user.id()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An administrator erases a user (a deletion request made elsewhere).
#[utoipa::path(delete, path = "/api/users/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn erase_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    privacy::erase(&state, &caller, &admin.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
