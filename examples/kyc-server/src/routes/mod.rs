//! The HTTP surface: one module per resource, each with its own router; this file lists them.
//! Roles: `user` (their own cases), `verifier` (the review queue), `admin` (everything, plus
//! webhooks and erasing users), `auditor` (cases and the audit trail, no images).

pub mod accounts;
pub mod liveness;
pub mod pages;
pub mod review;
pub mod verifications;

use crate::state::AppState;
use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Every route of the server and the OpenAPI document built from them.
pub fn router(state: &AppState) -> (Router<AppState>, OpenApi) {
    // Unauthenticated routes (register, logins, refresh) are limited per client IP.
    let (public, public_api) = OpenApiRouter::<AppState>::new()
        .merge(accounts::public_router())
        .merge(faceprint_server::routes::session::router())
        .split_for_parts();
    let public = faceprint_server::rate_limit::public(
        public.route("/ws/liveness", axum::routing::get(liveness::upgrade)),
        state.common(),
    );
    let (private, mut api) = OpenApiRouter::<AppState>::new()
        .merge(faceprint_server::routes::admin::router())
        .merge(accounts::router())
        .merge(verifications::router())
        .merge(liveness::router())
        .merge(review::router())
        .split_for_parts();
    api.merge(public_api);
    let router = Router::new()
        .merge(public)
        .merge(private)
        .merge(pages::router())
        .merge(faceprint_server::health::router());
    (router, api)
}

type JsonOf<T> = Result<axum::Json<T>, axum::extract::rejection::JsonRejection>;
