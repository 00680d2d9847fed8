//! The HTTP surface: one module per resource, each with its own router; this file lists them.

pub mod cameras;
pub mod employees;
pub mod ingest;
pub mod pages;
pub mod records;

use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::Router;
use faceprint_server::auth::api_key::{self, ApiKeyAuth, ApiKeyInfo};
use faceprint_server::auth::{AdminUser, AuthUser, Role};
use faceprint_server::error::ApiError;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Every route of the server and the OpenAPI document built from them.
pub fn router(state: &AppState) -> (Router<AppState>, OpenApi) {
    // Unauthenticated routes (logins, refresh) are limited per client IP.
    let (public, public_api) = OpenApiRouter::<AppState>::new()
        .merge(faceprint_server::routes::session::router())
        .split_for_parts();
    let public = faceprint_server::rate_limit::public(public, state.common());
    let (routes, mut api) = OpenApiRouter::<AppState>::new()
        .merge(faceprint_server::routes::admin::router())
        .merge(employees::router())
        .merge(cameras::router())
        .merge(ingest::router())
        .merge(records::router())
        .split_for_parts();
    api.merge(public_api);
    let router = Router::new()
        .merge(public)
        .merge(routes)
        .merge(pages::router())
        .merge(faceprint_server::health::router());
    (router, api)
}

/// A signed-in administrator or viewer: who may read cameras, employees and records.
pub struct Reader(pub AuthUser);

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        user.require(&[Role::Admin, Role::Viewer])?;
        Ok(Reader(user))
    }
}

impl Reader {
    /// A camera's status as this reader may see it: the error's detail for admins only.
    pub fn shows(
        &self,
        view: crate::service::status::StatusView,
    ) -> crate::service::status::StatusView {
        if self.0.role == Role::Admin {
            view
        } else {
            view.for_viewer()
        }
    }
}

/// Who may push frames to a camera: an administrator, or an API key scoped to that camera
/// (sent as `x-api-key`; it is rate-limited like any key).
pub enum Feeder {
    Admin(String),
    Key(ApiKeyInfo),
}

impl Feeder {
    /// Forbidden unless this feeder may push to `camera_id`.
    pub fn may_feed(&self, camera_id: &str) -> Result<(), ApiError> {
        match self {
            Feeder::Key(k) if k.collection != camera_id => {
                Err(ApiError::forbidden("this API key feeds another camera"))
            }
            _ => Ok(()),
        }
    }

    /// The audit actor.
    pub fn actor(&self) -> String {
        match self {
            Feeder::Admin(p) => p.clone(),
            Feeder::Key(k) => format!("api_key:{}", k.id),
        }
    }
}

impl FromRequestParts<AppState> for Feeder {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(api_key::HEADER) {
            let ApiKeyAuth(key) = ApiKeyAuth::from_request_parts(parts, state).await?;
            return Ok(Feeder::Key(key));
        }
        let AdminUser(a) = AdminUser::from_request_parts(parts, state).await?;
        Ok(Feeder::Admin(a.principal))
    }
}
