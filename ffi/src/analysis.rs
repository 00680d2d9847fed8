//! Quality reports and passive liveness.

use crate::engine::{faceprint_engine, faceprint_image};
use crate::faces::faceprint_face;
use crate::handle::{borrow, json_string, optional_string, MaybeOut, Out};
use crate::status::{faceprint_error, faceprint_status, guard};
use faceprint_core::QualityProfile;
use std::ffi::c_char;

/// The headline of a quality report; the full report (reasons with advice, every measure) is
/// available as JSON.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct faceprint_quality_summary {
    /// 0 (unusable) .. 1.
    pub score: f32,
    /// No reason to reject the image under the profile.
    pub passed: bool,
    pub face_count: usize,
}

/// The result of `faceprint_liveness`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct faceprint_liveness_result {
    /// Probability that the face is live, 0..1.
    pub score: f32,
    pub threshold: f32,
    pub live: bool,
    pub face: faceprint_face,
}

/// Judges an image for enrollment or authentication. `profile` is "enrollment" or
/// "authentication" (NULL: "authentication"); `profile_json` (NULL for none) overrides its
/// limits, e.g. `{"min_inter_eye_distance": 40}`. Either out-parameter may be NULL, not both.
/// No face is not an error here: the report says so (`face_count` 0, reason `no_face`).
#[no_mangle]
pub unsafe extern "C" fn faceprint_quality(
    engine: *const faceprint_engine,
    image: *const faceprint_image,
    profile: *const c_char,
    profile_json: *const c_char,
    summary: *mut faceprint_quality_summary,
    report_json: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let image = borrow(image, "image")?;
        let name = optional_string(profile, "profile")?.unwrap_or("authentication");
        let over = optional_string(profile_json, "profile_json")?.unwrap_or("");
        let (summary, json) = (MaybeOut::new(summary), MaybeOut::new(report_json));
        if !summary.wanted() && !json.wanted() {
            return Err(crate::status::Failure::Null("summary and report_json"));
        }
        let profile = QualityProfile::from_json(name, over)?;
        let report = engine.0.quality(&image.0, &profile)?;
        let text = if json.wanted() {
            Some(json_string(&report)?)
        } else {
            None
        };
        summary.write(faceprint_quality_summary {
            score: report.score,
            passed: report.passed,
            face_count: report.face_count,
        });
        if let Some(text) = text {
            json.write(text);
        }
        Ok(())
    })
}

/// Passive (single-frame) liveness of the largest face; `FACEPRINT_STATUS_NO_FACE` without one.
#[no_mangle]
pub unsafe extern "C" fn faceprint_liveness(
    engine: *const faceprint_engine,
    image: *const faceprint_image,
    out: *mut faceprint_liveness_result,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let image = borrow(image, "image")?;
        let out = Out::new(out, "out")?;
        let l = engine.0.liveness(&image.0)?;
        out.write(faceprint_liveness_result {
            score: l.score,
            threshold: l.threshold,
            live: l.live,
            face: faceprint_face::from(&l.face),
        });
        Ok(())
    })
}
