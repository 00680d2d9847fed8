//! `/health` (what runs), `/health/live` (the process answers), `/health/ready` (it can take
//! work: models loaded, database reachable, not shutting down).

use crate::error::{ApiError, ApiResult};
use crate::state::Common;
use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub server: &'static str,
    pub version: &'static str,
    pub uptime_secs: u64,
    pub detector: String,
    pub embedder: String,
    pub model_slots: usize,
    pub model_slots_in_use: usize,
}

async fn health(State(common): State<Common>) -> Json<Health> {
    Json(Health {
        status: if common.is_draining() {
            "draining"
        } else {
            "ok"
        },
        server: common.name(),
        version: env!("CARGO_PKG_VERSION"),
        uptime_secs: common.uptime().as_secs(),
        detector: common.engine().detector_id().to_string(),
        embedder: common.engine().embedder_id().to_string(),
        model_slots: common.model_gate().size(),
        model_slots_in_use: common.model_gate().in_use(),
    })
}

async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "live" }))
}

async fn ready(State(common): State<Common>) -> ApiResult<Json<serde_json::Value>> {
    if common.is_draining() {
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        ));
    }
    common
        .db(|c| c.query_row("SELECT 1", &[], |_| Ok(())))
        .await?;
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

/// The health and metrics routes every server mounts.
pub fn router<S>() -> Router<S>
where
    Common: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(crate::metrics::render))
}
