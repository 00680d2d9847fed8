//! The HTTP surface: one module per resource, each with its own router; this file lists them.

pub mod admin;
pub mod auth;
pub mod compreface;
pub mod face;
pub mod me;
pub mod pages;
pub mod sessions;
pub mod ws;

use crate::state::AppState;
use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Every route of the server and the OpenAPI document built from them.
pub fn router(state: &AppState) -> (Router<AppState>, OpenApi) {
    // Unauthenticated routes are limited per client IP.
    let (public, public_api) = OpenApiRouter::<AppState>::new()
        .merge(auth::router())
        .merge(faceprint_server::routes::session::router())
        .merge(sessions::public_router())
        .split_for_parts();
    let public = faceprint_server::rate_limit::public(
        public.route("/ws/face", axum::routing::get(ws::upgrade)),
        state.common(),
    );
    let (private, mut api) = OpenApiRouter::<AppState>::new()
        .merge(me::router())
        .merge(admin::router())
        .merge(faceprint_server::routes::admin::router())
        .merge(face::router())
        .merge(compreface::router())
        .merge(sessions::router())
        .split_for_parts();
    api.merge(public_api);
    let router = Router::new()
        .merge(public)
        .merge(private)
        .merge(pages::router())
        .merge(faceprint_server::health::router());
    (router, api)
}
