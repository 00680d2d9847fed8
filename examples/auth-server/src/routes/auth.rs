//! `/api/auth`: signup with a face, login by face (refresh, logout and administrator login are
//! the common crate's, `faceprint_server::routes::session`).

use crate::service::accounts::{self, SignedUp, SignupInput};
use crate::service::login::{self, LoginInput};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use faceprint_server::auth::sessions::IssuedTokens;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiResult, ErrorBody};
use faceprint_server::upload::Upload;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login_by_face))
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
