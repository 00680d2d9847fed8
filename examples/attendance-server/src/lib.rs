//! `faceprint-attendance`: attendance from camera streams. `app` builds the router (tests use
//! it without a socket); `run` opens everything, starts the enabled cameras and serves until
//! SIGTERM/SIGINT.

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

pub const NAME: &str = "faceprint-attendance";

/// Opens the engine, the store and the server database under the configured data dir.
pub fn open_state(config: &Config) -> Result<AppState, String> {
    service::calendar::parse_clock(&config.app.workday_start)
        .map_err(|e| format!("app.workday_start: {e}"))?;
    if !(-840..=840).contains(&config.app.utc_offset_minutes) {
        return Err("app.utc_offset_minutes must be within -840..=840".into());
    }
    let common = Common::open(NAME, config, &[&repo::MIGRATIONS])?;
    let media_root = config
        .app
        .media_root
        .clone()
        .unwrap_or_else(|| config.server.data_dir.join("media"));
    if config.app.media_root.is_none() {
        std::fs::create_dir_all(&media_root)
            .map_err(|e| format!("cannot make the media root {}: {e}", media_root.display()))?;
    }
    // Resolved once, so every source's resolved path is compared with the real directory.
    let resolved = media_root.canonicalize().map_err(|e| {
        format!(
            "app.media_root {}: {e} (file and dir cameras read only inside it)",
            media_root.display()
        )
    })?;
    let sources = service::source::SourcePolicy {
        media_root: resolved,
        media_root_given: std::path::absolute(&media_root).unwrap_or(media_root),
        allow_private: config.outbound.allow_private_networks,
    };
    Ok(AppState::new(common, config.app.clone(), sources))
}

/// The whole HTTP application over `state`.
pub fn app(state: AppState) -> Router {
    let (routes, api) = routes::router(&state);
    faceprint_server::stack::application(
        routes,
        api,
        "Faceprint attendance",
        "Employees and their faces, cameras, live status and attendance records.",
        state,
    )
}

/// Places the enabled cameras (a restart resumes them all, the leases of the run before freed
/// first): on SQLite all run here; with several nodes on PostgreSQL this node takes its
/// share. A camera that cannot start is logged and left stopped, the others run. Returns how
/// many run here.
pub async fn start_cameras(state: &AppState) -> Result<usize, String> {
    let s = state.clone();
    tokio::task::spawn_blocking(move || {
        let node = s.common().node();
        s.common()
            .database()
            .write(|c| faceprint_server::cluster::release_previous(c, node))
            .map_err(|e| e.to_string())?;
        s.cameras()
            .place(s.common(), s.config(), None)
            .map_err(|e| e.to_string())?;
        Ok(s.cameras().running_count())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Serves on the configured address until `stop` resolves (the signal, in `main`).
pub async fn run(
    config: Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let state = open_state(&config)?;
    // Bound first: the camera leases name this node by the address it answers on.
    let listener = faceprint_server::serve::bind(config.server.listen).await?;
    if let Ok(addr) = listener.local_addr() {
        state.common().node().bound(addr);
    }
    let started = start_cameras(&state).await?;
    tracing::info!(cameras = started, "cameras started");
    state
        .common()
        .shutdown()
        .spawn(service::cameras::keep_placed(state.clone()));
    let result =
        faceprint_server::serve::serve(app(state.clone()), state.common().clone(), listener, stop)
            .await;
    // Every pipeline writes its open visits before the process ends.
    let s = state.clone();
    let _ = tokio::task::spawn_blocking(move || s.cameras().stop_all(s.common())).await;
    result
}
