//! `faceprint-kyc`: identity verification — a user's document (machine-readable zone with
//! check digits, portrait, printed text) and selfie (passive liveness, match with the
//! portrait), an automatic decision with reasons, a verifier queue, an audit trail, sealed
//! images deleted after a retention period. `app` builds the router (tests use it without a
//! socket); `run` opens everything, starts the retention job and serves until SIGTERM/SIGINT.

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

pub const NAME: &str = "faceprint-kyc";

/// Opens the engine, the store and the server database under the configured data dir.
pub fn open_state(config: &Config) -> Result<AppState, String> {
    open_state_with_clock(config, std::sync::Arc::new(state::SystemClock))
}

/// [`open_state`] deciding by `clock` (tests set the day documents are checked on).
pub fn open_state_with_clock(
    config: &Config,
    clock: std::sync::Arc<dyn state::Clock>,
) -> Result<AppState, String> {
    config.app.check()?;
    let common = Common::open(NAME, config, &[&repo::MIGRATIONS])?;
    Ok(AppState::with_clock(common, config.app.clone(), clock))
}

/// The whole HTTP application over `state`.
pub fn app(state: AppState) -> Router {
    let (routes, api) = routes::router(&state);
    faceprint_server::stack::application(
        routes,
        api,
        "Faceprint KYC",
        "Identity verification: document and selfie, automatic decision, verifier review, audit trail.",
        state,
    )
}

/// Serves on the configured address until `stop` resolves (the signal, in `main`).
pub async fn run(
    config: Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let state = open_state(&config)?;
    if let Some(day) = &config.app.fixed_today {
        tracing::warn!(day = %day, "app.fixed_today is set: documents' expiry is checked against that day, not today (demonstrations only)");
    }
    service::privacy::spawn_retention(&state);
    let listener = faceprint_server::serve::bind(config.server.listen).await?;
    faceprint_server::serve::serve(app(state.clone()), state.common().clone(), listener, stop).await
}
