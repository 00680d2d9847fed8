//! `/api/auth/refresh`, `/api/auth/logout`, `/api/auth/admin/login`.

use crate::auth::flows;
use crate::auth::sessions::IssuedTokens;
use crate::auth::AuthUser;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::Common;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The three routes, for a server whose state gives out its `Common`.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Common: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(admin_login))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {
    refresh_token: String,
}

/// Trade a refresh token for new tokens. The presented token dies; presenting it again
/// revokes the whole session.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = IssuedTokens), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn refresh(
    State(common): State<Common>,
    caller: Caller,
    body: Result<Json<RefreshRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<IssuedTokens>> {
    let Json(body) = body?;
    Ok(Json(
        flows::refresh(
            &common,
            &body.refresh_token,
            caller.event("refresh", "success"),
        )
        .await?,
    ))
}

/// End the current session (its refresh token and access tokens stop working).
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(
    State(common): State<Common>,
    user: AuthUser,
    caller: Caller,
) -> ApiResult<StatusCode> {
    flows::logout(&common, &user, caller.event("logout", "success")).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AdminLoginRequest {
    username: String,
    password: String,
}

/// Staff login with a password (accounts made by the server's `admin create`; the account's
/// role is in the token). Five failures in a row lock the account for 15 minutes; every
/// refusal is the same 401.
#[utoipa::path(post, path = "/api/auth/admin/login", tag = "auth", request_body = AdminLoginRequest,
    responses((status = 200, body = IssuedTokens), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn admin_login(
    State(common): State<Common>,
    caller: Caller,
    body: Result<Json<AdminLoginRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<IssuedTokens>> {
    let Json(body) = body?;
    if body.username.len() > 64 || body.password.len() > 1024 {
        return Err(ApiError::authentication_failed("oversized credentials"));
    }
    Ok(Json(
        flows::admin_login(
            &common,
            &body.username,
            &body.password,
            &caller.client,
            caller.event("admin_login", "failure"),
        )
        .await?,
    ))
}
