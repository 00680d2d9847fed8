//! The face-login server's own settings: the `[app]` section of its configuration.

use serde::{Deserialize, Serialize};

/// 127.0.0.1:8080, data in ./faceprint-data.
pub const DEFAULTS: faceprint_server::config::Defaults = faceprint_server::config::Defaults {
    port: 8080,
    data_dir: "faceprint-data",
};

pub type Config = faceprint_server::Config<AppConfig>;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// The template-store collection that holds the users' faces.
    pub users_collection: String,
    /// False-match rate of a login by face (1:N over every user: stricter than 1:1).
    pub login_fmr: f64,
    /// False-match rate of a 1:1 check of the signed-in user's face, and of the face added to
    /// an account (it must match the account's faces).
    pub verify_fmr: f64,
    /// Logins must pass passive liveness (a photo of a photo is refused).
    pub login_requires_liveness: bool,
    /// Signups must pass passive liveness.
    pub signup_requires_liveness: bool,
    /// Refuse a signup whose face already belongs to an account (at `login_fmr`): two accounts
    /// with one face would make login by face ambiguous.
    pub refuse_duplicate_faces: bool,
    /// Faces one account may hold.
    pub max_faces_per_user: u32,
    /// Active-liveness challenges (blink, turn, smile…) a frame login must pass before its
    /// face is matched; 0: passive liveness only.
    pub login_active_challenges: usize,
    /// Samples a camera signup collects.
    pub signup_samples: usize,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            users_collection: "users".into(),
            login_fmr: 1e-5,
            verify_fmr: 1e-4,
            login_requires_liveness: true,
            signup_requires_liveness: true,
            refuse_duplicate_faces: true,
            max_faces_per_user: 10,
            login_active_challenges: 0,
            signup_samples: 3,
        }
    }
}

/// API keys (CompreFace-style recognition) get any collection but the users' own: a key must
/// not read or change the faces people sign in with.
impl faceprint_server::auth::api_key::KeyScope for AppConfig {
    fn check_scope(
        &self,
        _c: &mut faceprint_server::db::Sql<'_>,
        scope: &str,
    ) -> Result<(), String> {
        if scope == self.users_collection {
            return Err("the users' collection cannot be given to an API key".into());
        }
        Ok(())
    }
}
