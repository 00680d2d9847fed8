//! The pages (plain HTML + JS, compiled into the binary): the user's verification flow and the
//! verifiers' queue.

use crate::state::AppState;
use axum::Router;
use faceprint_server::pages::{self, Asset, CSS, JS};

const PAGES: &[(&str, &str)] = &[
    ("/", include_str!("../../static/index.html")),
    ("/review", include_str!("../../static/review.html")),
];

const ASSETS: &[Asset] = &[
    Asset {
        name: "page.js",
        content_type: JS,
        body: include_str!("../../static/page.js"),
    },
    Asset {
        name: "kyc.js",
        content_type: JS,
        body: include_str!("../../static/kyc.js"),
    },
    Asset {
        name: "review.js",
        content_type: JS,
        body: include_str!("../../static/review.js"),
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
