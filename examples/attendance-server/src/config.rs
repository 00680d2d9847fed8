//! The attendance server's own settings: the `[app]` section of its configuration.

use serde::{Deserialize, Serialize};

/// 127.0.0.1:8081, data in ./faceprint-attendance-data.
pub const DEFAULTS: faceprint_server::config::Defaults = faceprint_server::config::Defaults {
    port: 8081,
    data_dir: "faceprint-attendance-data",
};

pub type Config = faceprint_server::Config<AppConfig>;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// The template-store collection that holds the employees' faces.
    pub employees_collection: String,
    /// False-match rate of identifying a tracked face among all employees (1:N).
    pub identify_fmr: f64,
    /// A track is identified again only when its best face's quality rose by this much since
    /// the last attempt (0..1): once per track, not once per frame.
    pub reidentify_quality_gain: f32,
    /// One person seen again on one camera within this many seconds of their last sighting
    /// extends the same record instead of starting a new one.
    pub cooldown_secs: u64,
    /// Keep each track nobody was identified in (`/api/unknown-tracks`: camera, times, quality;
    /// a face crop only on cameras with `snapshots`). Off: they are only counted per day.
    pub keep_unknown_tracks: bool,
    /// Cameras running at once; more are refused when enabled.
    pub max_streams: usize,
    /// Processed frames a face may go undetected before its track ends.
    pub track_max_missed: u32,
    /// Frames a camera's pipeline may hold waiting; beyond it frames are dropped and counted.
    pub frame_queue: usize,
    /// Work starts at this local time (HH:MM, UTC unless `utc_offset_minutes`): later first
    /// check-ins are `late` in the daily summary.
    pub workday_start: String,
    /// The site's offset from UTC, for days and `workday_start`.
    pub utc_offset_minutes: i32,
    /// `file` and `dir` cameras read only inside this directory (links followed and checked).
    /// Default: `media/` in the data directory, made at start.
    pub media_root: Option<std::path::PathBuf>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            employees_collection: "employees".into(),
            identify_fmr: 1e-4,
            reidentify_quality_gain: 0.15,
            cooldown_secs: 300,
            keep_unknown_tracks: false,
            max_streams: 8,
            track_max_missed: 10,
            frame_queue: 4,
            workday_start: "09:00".into(),
            utc_offset_minutes: 0,
            media_root: None,
        }
    }
}

/// An API key of the attendance server feeds one push camera: its scope is that camera's id
/// (a gateway in front of a camera pushes frames with it, and can do nothing else).
impl faceprint_server::auth::api_key::KeyScope for AppConfig {
    fn check_scope(
        &self,
        c: &mut faceprint_server::db::Sql<'_>,
        scope: &str,
    ) -> Result<(), String> {
        match crate::repo::cameras::get(c, scope).map_err(|e| e.to_string())? {
            Some(camera) if camera.kind == crate::repo::cameras::SourceKind::Push => Ok(()),
            Some(_) => Err(format!(
                "camera {scope} reads its own source: keys are for push cameras"
            )),
            None => Err(format!(
                "no camera {scope}: an API key's collection is the id of the push camera it feeds"
            )),
        }
    }
}
