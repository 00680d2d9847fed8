//! The KYC server's own settings: the `[app]` section of its configuration.

use serde::{Deserialize, Serialize};

/// 127.0.0.1:8082, data in ./faceprint-kyc-data.
pub const DEFAULTS: faceprint_server::config::Defaults = faceprint_server::config::Defaults {
    port: 8082,
    data_dir: "faceprint-kyc-data",
};

pub type Config = faceprint_server::Config<AppConfig>;

/// What a zone whose check digits fail leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MrzPolicy {
    /// `rejected` with `mrz_check_failed`.
    Reject,
    /// `needs_review` with `mrz_check_failed` (a verifier looks at the page).
    Review,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// Seconds document images and selfies are kept (sealed) after upload; then the retention
    /// job deletes them. The case, its findings and its audit trail stay.
    pub image_retention_secs: u64,
    /// How often the retention job runs.
    pub retention_sweep_secs: u64,
    /// What a zone whose check digits fail leads to: `reject` or `review`.
    pub on_mrz_check_failed: MrzPolicy,
    /// A selfie matching the portrait at most this far below the document threshold goes to
    /// a verifier (`face_match_uncertain`) instead of being rejected (`face_mismatch`); 1
    /// sends every mismatch to a verifier.
    pub review_match_margin: f32,
    /// Read the document's printed text and send a case whose zone names or dates are not
    /// printed there to a verifier (`visual_zone_mismatch`): names carry no check digit.
    pub visual_zone_check: bool,
    /// The offset from UTC of the day a document's expiry is compared with.
    pub utc_offset_minutes: i32,
    /// Compare documents' expiry with this day (YYYY-MM-DD) instead of today: for
    /// demonstrations with specimen documents, every one of which has expired. Never in
    /// production: the server warns at start when it is set.
    pub fixed_today: Option<String>,
    /// How the selfie step proves a live person.
    pub liveness: LivenessSettings,
}

/// `[app.liveness]`: passive liveness on one selfie, or a challenge session (blink, turn…)
/// whose most frontal frame becomes the selfie.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LivenessSettings {
    /// Refuse single selfies: only a challenge session completes the step.
    pub active_required: bool,
    /// The challenge sessions (`[app.liveness.challenges]`: `count`, `pool`, timeouts…).
    pub challenges: faceprint::ActiveConfig,
}

impl Default for LivenessSettings {
    fn default() -> Self {
        LivenessSettings {
            active_required: false,
            challenges: faceprint::ActiveConfig {
                count: 2,
                ..faceprint::ActiveConfig::default()
            },
        }
    }
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            image_retention_secs: 30 * 24 * 3600,
            retention_sweep_secs: 60,
            on_mrz_check_failed: MrzPolicy::Reject,
            review_match_margin: 0.1,
            visual_zone_check: true,
            utc_offset_minutes: 0,
            fixed_today: None,
            liveness: LivenessSettings::default(),
        }
    }
}

impl AppConfig {
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.review_match_margin) {
            return Err("app.review_match_margin must be within 0..=1 (1: no mismatch is rejected without a verifier)".into());
        }
        if !(-840..=840).contains(&self.utc_offset_minutes) {
            return Err("app.utc_offset_minutes must be within -840..=840".into());
        }
        if let Some(day) = &self.fixed_today {
            faceprint_server::calendar::parse_day(day, 0)
                .map_err(|e| format!("app.fixed_today: {e}"))?;
        }
        faceprint::ActiveLivenessSession::start(self.liveness.challenges.clone(), 0)
            .map_err(|e| format!("app.liveness.challenges: {e}"))?;
        if self.image_retention_secs == 0 || self.retention_sweep_secs == 0 {
            return Err("app.image_retention_secs and app.retention_sweep_secs must be > 0".into());
        }
        Ok(())
    }
}

/// The KYC server gives out no API keys: every call is made by a signed-in person.
impl faceprint_server::auth::api_key::KeyScope for AppConfig {
    fn check_scope(
        &self,
        _c: &mut faceprint_server::db::Sql<'_>,
        _scope: &str,
    ) -> Result<(), String> {
        Err("the KYC server has no API keys: users and staff sign in".into())
    }
}
