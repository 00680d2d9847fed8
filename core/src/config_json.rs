//! Settings given as JSON, laid over the defaults: the form the C ABI and the language bindings
//! pass them in, so `{"collection": "staff", "subject": "ana"}` is a complete enrollment config.
//! An object whose keys all exist in the default merges key by key (recursively); anything else
//! replaces, so `{"score": 0.5}` replaces a default `{"fmr": 1e-4}` threshold instead of
//! joining it. Unknown keys are errors.

use crate::error::{Error, Result};
use crate::gallery::EnrollOptions;
use crate::liveness::ActiveConfig;
use crate::quality::QualityProfile;
use crate::session::{AuthMode, AuthenticationConfig, EnrollmentConfig};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) if keys_within(slot, &v) => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Both are objects and every key of `over` is already in `base` (a struct, not an enum variant).
fn keys_within(base: &Value, over: &Value) -> bool {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => o.keys().all(|k| b.contains_key(k)),
        _ => false,
    }
}

/// `json` (an object, or empty for the defaults) laid over `base`.
pub(crate) fn overlay<T: Serialize + DeserializeOwned>(
    base: &T,
    json: &str,
    what: &str,
) -> Result<T> {
    let mut value = serde_json::to_value(base)
        .map_err(|e| Error::Internal(format!("{what} defaults to JSON: {e}")))?;
    if !json.trim().is_empty() {
        let over: Value = serde_json::from_str(json)
            .map_err(|e| Error::InvalidArgument(format!("{what}: not valid JSON: {e}")))?;
        if !over.is_object() {
            return Err(Error::InvalidArgument(format!(
                "{what}: expected a JSON object, got {over}"
            )));
        }
        merge(&mut value, over);
    }
    serde_json::from_value(value).map_err(|e| Error::InvalidArgument(format!("{what}: {e}")))
}

impl crate::EngineConfig {
    /// Engine settings from JSON over the defaults (`{"liveness_threshold": 0.7,
    /// "detection": {"max_faces": 1}, "threshold": {"fmr": 1e-5}}`).
    pub fn from_json(json: &str) -> Result<crate::EngineConfig> {
        overlay(&crate::EngineConfig::default(), json, "engine config")
    }
}

impl EnrollmentConfig {
    /// An enrollment config from JSON over [`EnrollmentConfig::new`]'s defaults; `collection`
    /// and `subject` are required.
    pub fn from_json(json: &str) -> Result<EnrollmentConfig> {
        let config = overlay(&EnrollmentConfig::new("", ""), json, "enrollment config")?;
        Ok(config)
    }
}

impl AuthenticationConfig {
    /// An authentication config from JSON over [`AuthenticationConfig::new`]'s defaults;
    /// `collection` is required, `mode` defaults to identify
    /// (`{"mode": {"mode": "verify", "subject": "ana"}}` for 1:1).
    pub fn from_json(json: &str) -> Result<AuthenticationConfig> {
        overlay(
            &AuthenticationConfig::new("", AuthMode::Identify),
            json,
            "authentication config",
        )
    }
}

impl ActiveConfig {
    /// An active-liveness config from JSON over the defaults.
    pub fn from_json(json: &str) -> Result<ActiveConfig> {
        overlay(&ActiveConfig::default(), json, "liveness config")
    }
}

impl QualityProfile {
    /// The named preset (`enrollment`, `authentication`) with JSON overrides laid over it.
    pub fn from_json(preset: &str, json: &str) -> Result<QualityProfile> {
        let profile = overlay(&QualityProfile::named(preset)?, json, "quality profile")?;
        profile.validate()?;
        Ok(profile)
    }
}

impl EnrollOptions {
    /// Enrollment options from JSON: `display_name`, `metadata`, `face_policy`
    /// (`require_one` | `largest`), `sources`, `actor`, `duplicate_threshold`.
    pub fn from_json(json: &str) -> Result<EnrollOptions> {
        overlay(&EnrollOptions::default(), json, "enroll options")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::Threshold;

    #[test]
    fn overrides_merge_into_the_defaults() {
        let c = EnrollmentConfig::from_json(
            r#"{"collection":"staff","subject":"ana","target_samples":5,"quality":{"min_inter_eye_distance":40}}"#,
        )
        .unwrap();
        assert_eq!(
            (c.collection.as_str(), c.subject.as_str()),
            ("staff", "ana")
        );
        assert_eq!(c.target_samples, 5);
        assert_eq!(c.quality.min_inter_eye_distance, 40.0);
        // Untouched keys keep the preset.
        let d = EnrollmentConfig::new("staff", "ana");
        assert_eq!(c.max_frames, d.max_frames);
        assert_eq!(c.quality.max_yaw, d.quality.max_yaw);

        let a = AuthenticationConfig::from_json(
            r#"{"collection":"staff","mode":{"mode":"verify","subject":"ana"},"threshold":{"score":0.5}}"#,
        )
        .unwrap();
        assert_eq!(
            a.mode,
            AuthMode::Verify {
                subject: "ana".into()
            }
        );
        assert_eq!(a.threshold, Threshold::Score(0.5));

        let o =
            EnrollOptions::from_json(r#"{"face_policy":"largest","sources":["a.jpg"]}"#).unwrap();
        assert_eq!(o.face_policy, crate::FacePolicy::Largest);
        assert_eq!(EnrollOptions::from_json("").unwrap().sources.len(), 0);
    }

    #[test]
    fn names_match_their_json() {
        for c in crate::Challenge::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.name());
        }
        for p in [crate::FacePolicy::RequireOne, crate::FacePolicy::Largest] {
            let name = serde_json::to_value(p).unwrap();
            assert_eq!(
                name.as_str().unwrap().parse::<crate::FacePolicy>().unwrap(),
                p
            );
        }
        assert!("both".parse::<crate::FacePolicy>().is_err());
    }

    #[test]
    fn bad_json_is_an_invalid_argument() {
        for bad in [
            "{",
            "[1]",
            r#"{"collection":"c","nope":1}"#,
            r#"{"target_samples":"x"}"#,
        ] {
            let e = EnrollmentConfig::from_json(bad).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::InvalidArgument, "{bad}: {e}");
        }
        let e = QualityProfile::from_json("enrollment", r#"{"min_sharpness":-1}"#).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidArgument);
        assert!(QualityProfile::from_json("nope", "").is_err());
    }
}
