//! `/api/face`: checks of the signed-in user's face.

use crate::service::accounts::{self, FaceCheck};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use faceprint_server::auth::{AuthUser, Role};
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiResult, ErrorBody};
use faceprint_server::upload::Upload;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify))
}

/// 1:1: is the face in this photo the signed-in user's? (Step-up checks before a sensitive
/// action.) Passive liveness is checked when logins require it.
#[utoipa::path(post, path = "/api/face/verify", tag = "face", security(("bearer" = [])),
    request_body(content = String, content_type = "image/jpeg", description = "a photo (or multipart `photo`, or JSON with base64 `photo`)"),
    responses((status = 200, body = FaceCheck), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn verify(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
    upload: Upload,
) -> ApiResult<Json<FaceCheck>> {
    user.require(&[Role::User])?;
    let photo = upload.require_image("photo")?.clone();
    Ok(Json(
        accounts::verify_own_face(&state, &caller, user.id(), photo).await?,
    ))
}
