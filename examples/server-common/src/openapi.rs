//! The OpenAPI document (built by utoipa from the mounted routes) at `/openapi.json`, and a
//! plain docs page at `/docs` that renders it without any script from elsewhere.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;

/// Adds the bearer and API-key schemes and the error schema every server uses.
pub fn finish(mut doc: OpenApi, title: &str, description: &str) -> OpenApi {
    doc.info.title = title.into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(description.into());
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    components.add_security_scheme(
        "api_key",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
    );
    use utoipa::PartialSchema;
    components
        .schemas
        .insert("ErrorBody".into(), crate::error::ErrorBody::schema());
    doc
}

const DOCS_HTML: &str = include_str!("../static/docs.html");
const DOCS_JS: &str = include_str!("../static/docs.js");

/// `/openapi.json`, `/docs` and its script.
pub fn router<S: Clone + Send + Sync + 'static>(doc: OpenApi) -> Router<S> {
    let doc = std::sync::Arc::new(doc);
    Router::new()
        .route(
            "/openapi.json",
            get(move || async move { Json(doc.as_ref().clone()) }),
        )
        .route("/docs", get(|| async { Html(DOCS_HTML) }))
        .route(
            "/docs/docs.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    DOCS_JS,
                )
                    .into_response()
            }),
        )
}
