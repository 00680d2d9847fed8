//! The dashboard page (plain HTML + JS, compiled into the binary): cameras with their live
//! views, today's attendance and each employee's history.

use crate::state::AppState;
use axum::Router;
use faceprint_server::pages::{self, Asset, CSS, JS};

const PAGES: &[(&str, &str)] = &[("/", include_str!("../../static/index.html"))];

const ASSETS: &[Asset] = &[
    Asset {
        name: "attendance.js",
        content_type: JS,
        body: include_str!("../../static/attendance.js"),
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
