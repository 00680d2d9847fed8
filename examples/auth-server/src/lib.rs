//! `faceprint-auth`: the face-login reference server. `app` builds the router (tests use it
//! without a socket); `run` opens everything and serves until SIGTERM/SIGINT.

pub mod config;
pub mod repo;
pub mod routes;
pub mod service;
pub mod state;

use axum::Router;
use config::Config;
use faceprint_server::Common;
use state::AppState;
use std::future::Future;

pub const NAME: &str = "faceprint-auth";

/// Opens the engine, the store and the server database under the configured data dir.
pub fn open_state(config: &Config) -> Result<AppState, String> {
    let common = Common::open(NAME, config, &[&repo::MIGRATIONS])?;
    Ok(AppState::new(common, config.app.clone()))
}

/// The whole HTTP application over `state`.
pub fn app(state: AppState) -> Router {
    let (routes, api) = routes::router(&state);
    faceprint_server::stack::application(
        routes,
        api,
        "Faceprint face login",
        "Sign up and log in by face; sessions, profile and history; administration; multi-tenant recognition with API keys.",
        state,
    )
}

/// Serves on the configured address until `stop` resolves (the signal, in `main`).
pub async fn run(
    config: Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let state = open_state(&config)?;
    let cleaned = service::accounts::clean_up_pending(&state)
        .await
        .map_err(|e| e.to_string())?;
    if cleaned > 0 {
        tracing::warn!(cleaned, "removed signups a previous run left unfinished");
    }
    let listener = faceprint_server::serve::bind(config.server.listen).await?;
    faceprint_server::serve::serve(app(state.clone()), state.common().clone(), listener, stop).await
}
