//! `/api/review`: the verifier queue, and a verifier's decision on a case.

use super::JsonOf;
use crate::service::decision::Status;
use crate::service::verifications::{self as svc, Verification};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use faceprint_server::auth::AuthUser;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiResult, ErrorBody};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(queue))
        .routes(routes!(decide))
}

/// The cases waiting for a verifier, oldest first, with their findings (roles `verifier`,
/// `admin`).
#[utoipa::path(get, path = "/api/review/queue", tag = "review", security(("bearer" = [])),
    responses((status = 200, body = [Verification]), (status = 403, body = ErrorBody)))]
async fn queue(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<Verification>>> {
    Ok(Json(svc::queue(&state, &user).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewRequest {
    /// `approved` or `rejected`.
    decision: Status,
    /// Why (1 to 500 characters), kept with the case.
    reason: String,
}

/// Decide a case in `needs_review` (roles `verifier`, `admin`); 409 `not_in_review` otherwise.
#[utoipa::path(post, path = "/api/verifications/{id}/review", tag = "review", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ReviewRequest,
    responses((status = 200, body = Verification), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn decide(
    State(state): State<AppState>,
    user: AuthUser,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonOf<ReviewRequest>,
) -> ApiResult<Json<Verification>> {
    let Json(r) = body?;
    Ok(Json(
        svc::review(&state, &caller, &user, &id, r.decision, &r.reason).await?,
    ))
}
