//! A server's browser pages: plain HTML + JS + CSS compiled into the binary, served with the
//! common security headers (the CSP allows only same-origin scripts and styles).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// A file under `/static/`.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// The pages (path → HTML) and their assets at `/static/{name}`.
pub fn router<S>(
    pages: &'static [(&'static str, &'static str)],
    assets: &'static [Asset],
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut router = Router::new();
    for (path, html) in pages {
        router = router.route(path, get(move || async move { Html(*html) }));
    }
    router.route(
        "/static/{file}",
        get(move |Path(file): Path<String>| async move { asset(assets, &file) }),
    )
}

fn asset(assets: &[Asset], file: &str) -> Response {
    match assets.iter().find(|a| a.name == file) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            a.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Content types of the assets.
pub const JS: &str = "text/javascript; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";
