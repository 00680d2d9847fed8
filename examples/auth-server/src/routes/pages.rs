//! The browser pages (plain HTML + JS, compiled into the binary): `/` for signup and login by
//! face, `/admin` for the administrators.

use crate::state::AppState;
use axum::Router;
use faceprint_server::pages::{self, Asset, CSS, JS};

const PAGES: &[(&str, &str)] = &[
    ("/", include_str!("../../static/index.html")),
    ("/admin", include_str!("../../static/admin.html")),
];

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.js",
        content_type: JS,
        body: include_str!("../../static/app.js"),
    },
    Asset {
        name: "admin.js",
        content_type: JS,
        body: include_str!("../../static/admin.js"),
    },
    Asset {
        name: "style.css",
        content_type: CSS,
        body: include_str!("../../static/style.css"),
    },
];

pub fn router() -> Router<AppState> {
    pages::router(PAGES, ASSETS)
}
