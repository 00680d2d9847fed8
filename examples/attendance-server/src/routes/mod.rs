//! The HTTP surface: one module per resource, each with its own router; this file lists them.

pub mod cameras;
pub mod employees;
pub mod pages;
pub mod records;

use crate::state::AppState;
use axum::Router;
use faceprint_server::auth::{AuthUser, Role};
use faceprint_server::error::ApiError;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Every route of the server and the OpenAPI document built from them.
pub fn router(_state: &AppState) -> (Router<AppState>, OpenApi) {
    let (routes, api) = OpenApiRouter::<AppState>::new()
        .merge(faceprint_server::routes::session::router())
        .merge(faceprint_server::routes::admin::router())
        .merge(employees::router())
        .merge(cameras::router())
        .merge(records::router())
        .split_for_parts();
    let router = Router::new()
        .merge(routes)
        .merge(pages::router())
        .merge(faceprint_server::health::router());
    (router, api)
}

/// Reads are for administrators and viewers.
pub fn can_read(user: &AuthUser) -> Result<(), ApiError> {
    user.require(&[Role::Admin, Role::Viewer])
}
