//! `/api/auth`: signup with a face, login by face, refresh, logout, administrator login.

use crate::service::accounts::{self, SignedUp, SignupInput};
use crate::service::login::{self, LoginInput};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use faceprint_server::auth::flows;
use faceprint_server::auth::sessions::IssuedTokens;
use faceprint_server::auth::AuthUser;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult, ErrorBody};
use faceprint_server::upload::Upload;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login_by_face))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(admin_login))
}

/// Signup form (multipart; or JSON with `photo` as base64 / data URL).
#[derive(ToSchema)]
#[allow(dead_code)]
struct SignupForm {
    name: String,
    email: String,
    /// A photo with one face (JPEG, PNG, WebP or BMP).
    #[schema(value_type = String, format = Binary)]
    photo: Vec<u8>,
}

/// Login form (multipart, raw image body, or JSON with `photo` as base64 / data URL).
#[derive(ToSchema)]
#[allow(dead_code)]
struct LoginForm {
    #[schema(value_type = String, format = Binary)]
    photo: Vec<u8>,
    /// Optional: check against this account only (1:1) instead of every account.
    email: Option<String>,
}

/// Create an account from a name, an email and a face photo; answers its first tokens.
#[utoipa::path(post, path = "/api/auth/signup", tag = "auth",
    request_body(content = SignupForm, content_type = "multipart/form-data"),
    responses((status = 201, body = SignedUp), (status = 409, description = "email or face already registered", body = ErrorBody),
        (status = 422, description = "no face, several faces, poor quality or liveness failed", body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn signup(
    State(state): State<AppState>,
    caller: Caller,
    upload: Upload,
) -> ApiResult<(StatusCode, Json<SignedUp>)> {
    let photo = upload.require_image("photo")?.clone();
    let input = SignupInput {
        name: upload.require_text("name")?.to_string(),
        email: upload.require_text("email")?.to_string(),
        photo,
    };
    let out = accounts::signup(&state, &caller, input).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Log in by face: 1:N over every account (or 1:1 with `email`), passive liveness required
/// by default. Every failure answers the same 401 `authentication_failed`.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    request_body(content = LoginForm, content_type = "multipart/form-data"),
    responses((status = 200, body = IssuedTokens), (status = 401, description = "no match, or liveness failed (`liveness_failed`)", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login_by_face(
    State(state): State<AppState>,
    caller: Caller,
    upload: Upload,
) -> ApiResult<Json<IssuedTokens>> {
    let photo = upload.require_image("photo")?.clone();
    let email = upload.text("email").map(str::to_string);
    Ok(Json(
        login::login_by_face(&state, &caller, LoginInput { photo, email }).await?,
    ))
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
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<RefreshRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<IssuedTokens>> {
    let Json(body) = body?;
    Ok(Json(
        flows::refresh(
            state.common(),
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
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
) -> ApiResult<StatusCode> {
    flows::logout(state.common(), &user, caller.event("logout", "success")).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AdminLoginRequest {
    username: String,
    password: String,
}

/// Administrator login with a password (accounts made by `faceprint-auth admin create`).
/// Five failures in a row lock the account for 15 minutes; every refusal is the same 401.
#[utoipa::path(post, path = "/api/auth/admin/login", tag = "auth", request_body = AdminLoginRequest,
    responses((status = 200, body = IssuedTokens), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn admin_login(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<AdminLoginRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<IssuedTokens>> {
    let Json(body) = body?;
    if body.username.len() > 64 || body.password.len() > 1024 {
        return Err(ApiError::authentication_failed("oversized credentials"));
    }
    Ok(Json(
        flows::admin_login(
            state.common(),
            &body.username,
            &body.password,
            &caller.client,
            caller.event("admin_login", "failure"),
        )
        .await?,
    ))
}
