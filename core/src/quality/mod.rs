//! Face quality: a practical subset of ISO/IEC 29794-5 — size, sharpness, exposure, contrast,
//! head pose, eyes open, lower-face occlusion, detector confidence, face count — folded into one
//! 0..1 score, plus reason codes a user can act on ("move closer", "too dark") checked against
//! a [`QualityProfile`] (enrollment is stricter than login).
//!
//! The score does not depend on the profile: it is the product of per-factor scores, each a
//! ramp between a "bad" and a "good" value calibrated on LFW so clean faces score near 1 and a
//! single serious defect (blur σ 4, a quarter of the light, eyes 12 px apart) pulls it under 0.5.

mod mask;
mod metrics;

pub use mask::MaskDetector;
pub use metrics::ImageMetrics;

use crate::detect::Face;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::landmarks::{EyeOpenness, FaceMesh, HeadPose, IrisModel, MeshLandmarks};
use serde::{Deserialize, Serialize};

/// Why a face fails its profile. Names are stable (JSON, bindings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum QualityReason {
    /// No face in the image.
    NoFace,
    /// More than one face where one was expected.
    MultipleFaces,
    /// Eyes closer than the profile's minimum: move closer or use a higher resolution.
    TooSmall,
    /// The face runs off the image edge.
    FacePartiallyOutside,
    /// The face is out of focus or moving.
    Blurry,
    /// Too dark.
    TooDark,
    /// Too bright.
    Overexposed,
    /// Too flat (fog, glare, a washed-out print).
    LowContrast,
    /// The head is turned too far left or right.
    PoseYaw,
    /// The head is tilted too far up or down.
    PosePitch,
    /// The head is tilted too far towards a shoulder.
    PoseRoll,
    /// An eye is closed.
    EyesClosed,
    /// A mask, hand or object covers the lower face.
    MaskOrOcclusion,
    /// The detector is unsure this is a face (often occlusion or extreme pose).
    LowConfidence,
    /// The unified score is under the profile's minimum without one dominant cause.
    LowScore,
}

impl QualityReason {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            QualityReason::NoFace => "no_face",
            QualityReason::MultipleFaces => "multiple_faces",
            QualityReason::TooSmall => "too_small",
            QualityReason::FacePartiallyOutside => "face_partially_outside",
            QualityReason::Blurry => "blurry",
            QualityReason::TooDark => "too_dark",
            QualityReason::Overexposed => "overexposed",
            QualityReason::LowContrast => "low_contrast",
            QualityReason::PoseYaw => "pose_yaw",
            QualityReason::PosePitch => "pose_pitch",
            QualityReason::PoseRoll => "pose_roll",
            QualityReason::EyesClosed => "eyes_closed",
            QualityReason::MaskOrOcclusion => "mask_or_occlusion",
            QualityReason::LowConfidence => "low_confidence",
            QualityReason::LowScore => "low_score",
        }
    }

    /// A short instruction for the person in front of the camera.
    pub fn advice(self) -> &'static str {
        match self {
            QualityReason::NoFace => "no face found: look at the camera",
            QualityReason::MultipleFaces => "more than one face: only one person in view",
            QualityReason::TooSmall => "face too small: move closer",
            QualityReason::FacePartiallyOutside => "face cut off: centre your face in the frame",
            QualityReason::Blurry => "image blurred: hold still and check focus",
            QualityReason::TooDark => "too dark: add light in front of you",
            QualityReason::Overexposed => "too bright: avoid direct light on the face",
            QualityReason::LowContrast => "low contrast: improve the lighting",
            QualityReason::PoseYaw => "head turned: face the camera",
            QualityReason::PosePitch => "head tilted up or down: look straight ahead",
            QualityReason::PoseRoll => "head tilted sideways: hold it upright",
            QualityReason::EyesClosed => "eyes closed: open your eyes",
            QualityReason::MaskOrOcclusion => "lower face covered: remove mask or obstruction",
            QualityReason::LowConfidence => "face unclear: remove obstructions and face the camera",
            QualityReason::LowScore => "overall quality too low: improve light, focus and pose",
        }
    }
}

impl std::fmt::Display for QualityReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Limits a face must meet, and which optional models to run. Every limit is in the unit of
/// the matching [`QualityReport`] field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityProfile {
    /// The profile's name ("authentication", "enrollment", or the caller's).
    pub name: String,
    /// Minimum unified score.
    pub min_score: f32,
    /// Minimum distance between the eye centres, in pixels.
    pub min_inter_eye_distance: f32,
    /// Minimum sharpness ([`ImageMetrics::sharpness`]).
    pub min_sharpness: f32,
    /// Minimum mean luma, 0..1.
    pub min_brightness: f32,
    /// Maximum mean luma, 0..1.
    pub max_brightness: f32,
    /// Maximum share of inner-face pixels clipped to black.
    pub max_shadows_clipped: f32,
    /// Maximum share of inner-face pixels clipped to white.
    pub max_highlights_clipped: f32,
    /// Minimum RMS contrast of luma, 0..1.
    pub min_contrast: f32,
    /// Maximum yaw in degrees.
    pub max_yaw: f32,
    /// Maximum pitch in degrees.
    pub max_pitch: f32,
    /// Maximum roll in degrees.
    pub max_roll: f32,
    /// Minimum eyelid opening over eye width (with landmarks on).
    pub min_eye_openness: f32,
    /// Maximum probability that the lower face is covered (with the mask model on).
    pub max_mask_probability: f32,
    /// Minimum detector confidence.
    pub min_detector_confidence: f32,
    /// Reject images with more than one face.
    pub single_face: bool,
    /// Run FaceMesh (accurate pose) and Iris (eyes open). Off: five-point pose, no eye check.
    pub landmarks: bool,
    /// Run the mask model.
    pub mask: bool,
}

impl Default for QualityProfile {
    fn default() -> Self {
        QualityProfile::enrollment()
    }
}

impl QualityProfile {
    /// For templates that will be matched for years: frontal, sharp, open eyes, no mask.
    pub fn enrollment() -> QualityProfile {
        QualityProfile {
            name: "enrollment".into(),
            min_score: 0.5,
            min_inter_eye_distance: 30.0,
            min_sharpness: 6.0,
            min_brightness: 0.2,
            max_brightness: 0.85,
            max_shadows_clipped: 0.15,
            max_highlights_clipped: 0.15,
            min_contrast: 0.05,
            max_yaw: 25.0,
            max_pitch: 25.0,
            max_roll: 25.0,
            min_eye_openness: 0.12,
            max_mask_probability: 0.5,
            min_detector_confidence: 0.8,
            single_face: true,
            landmarks: true,
            mask: true,
        }
    }

    /// For a login or check-in frame: more pose and light tolerated, no mask model.
    pub fn authentication() -> QualityProfile {
        QualityProfile {
            name: "authentication".into(),
            min_score: 0.35,
            min_inter_eye_distance: 20.0,
            min_sharpness: 4.0,
            min_brightness: 0.12,
            max_brightness: 0.92,
            max_shadows_clipped: 0.3,
            max_highlights_clipped: 0.3,
            min_contrast: 0.03,
            max_yaw: 40.0,
            max_pitch: 35.0,
            max_roll: 40.0,
            min_eye_openness: 0.0,
            max_mask_probability: 1.0,
            min_detector_confidence: 0.6,
            single_face: false,
            landmarks: false,
            mask: false,
        }
    }

    /// A preset by name: "enrollment" or "authentication".
    pub fn named(name: &str) -> Result<QualityProfile> {
        match name {
            "enrollment" => Ok(QualityProfile::enrollment()),
            "authentication" | "login" => Ok(QualityProfile::authentication()),
            other => Err(Error::InvalidArgument(format!(
                "unknown quality profile {other:?} (enrollment, authentication)"
            ))),
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let values = [
            self.min_score,
            self.min_inter_eye_distance,
            self.min_sharpness,
            self.min_brightness,
            self.max_brightness,
            self.max_shadows_clipped,
            self.max_highlights_clipped,
            self.min_contrast,
            self.max_yaw,
            self.max_pitch,
            self.max_roll,
            self.min_eye_openness,
            self.max_mask_probability,
            self.min_detector_confidence,
        ];
        if values.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(Error::InvalidArgument(format!(
                "quality profile {:?}: limits must be finite and non-negative",
                self.name
            )));
        }
        if self.min_brightness > self.max_brightness {
            return Err(Error::InvalidArgument(format!(
                "quality profile {:?}: min_brightness is above max_brightness",
                self.name
            )));
        }
        Ok(())
    }
}

/// Per-factor scores (0..1) whose product is the unified score; `None` when not measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QualityFactors {
    /// From the distance between the eyes.
    pub size: f32,
    /// From sharpness.
    pub sharpness: f32,
    /// From brightness and clipping.
    pub exposure: f32,
    /// From contrast.
    pub contrast: f32,
    /// From head pose.
    pub pose: f32,
    /// From the detector's confidence.
    pub confidence: f32,
    /// From eye opening (with landmarks on).
    pub eyes: Option<f32>,
    /// From the mask model (when on).
    pub mask: Option<f32>,
}

impl QualityFactors {
    fn product(&self) -> f32 {
        [
            self.size,
            self.sharpness,
            self.exposure,
            self.contrast,
            self.pose,
            self.confidence,
            self.eyes.unwrap_or(1.0),
            self.mask.unwrap_or(1.0),
        ]
        .iter()
        .product()
    }
}

/// The quality of one face (or of an image without a usable face).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Unified quality, 0 (unusable) .. 1.
    pub score: f32,
    /// True when `reasons` is empty.
    pub passed: bool,
    /// The profile it was measured against.
    pub profile: String,
    /// What to fix, most important first.
    pub reasons: Vec<QualityReason>,
    /// Faces found in the image.
    pub face_count: usize,
    /// The face assessed (the largest), if any.
    pub face: Option<Face>,
    /// Distance between the eye centres, in pixels.
    pub inter_eye_distance: Option<f32>,
    /// The detector's confidence in the face.
    pub detector_confidence: Option<f32>,
    /// Pixel statistics of the inner face.
    pub metrics: Option<ImageMetrics>,
    /// Head pose.
    pub pose: Option<HeadPose>,
    /// Eyelid opening over eye width per eye (with landmarks on).
    pub eyes: Option<EyeOpenness>,
    /// Probability the lower face is covered (with the mask model on).
    pub mask_probability: Option<f32>,
    /// The factors of the score.
    pub factors: Option<QualityFactors>,
}

impl QualityReport {
    /// The report for an image without a face.
    pub(crate) fn no_face(profile: &QualityProfile) -> QualityReport {
        QualityReport {
            score: 0.0,
            passed: false,
            profile: profile.name.clone(),
            reasons: vec![QualityReason::NoFace],
            face_count: 0,
            face: None,
            inter_eye_distance: None,
            detector_confidence: None,
            metrics: None,
            pose: None,
            eyes: None,
            mask_probability: None,
            factors: None,
        }
    }

    /// `QualityRejected` naming the reasons, if the face did not pass.
    pub fn require_passed(&self) -> Result<()> {
        if self.passed {
            return Ok(());
        }
        Err(Error::QualityRejected(format!(
            "{} (score {:.2}, profile {})",
            self.reasons
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            self.score,
            self.profile
        )))
    }
}

// Ramps from measurements of 80 random LFW faces, clean and degraded (README, "Quality"):
// clean p5 → factor 1; the severities → under 0.5.
/// Sharpness on a log scale: bad, good (clean p5 16; blur σ 2 p95 5, σ 4 p95 1).
const SHARPNESS_RAMP: (f32, f32) = (3.0, 12.0);
/// Inter-eye distance (pixels): bad, good (12 px → 0.14).
const SIZE_RAMP: (f32, f32) = (10.0, 24.0);
/// Brightness 0..1: too dark ramp (bad, good) and overexposed ramp (good, bad). Clean p5
/// 0.32; a quarter of the light p95 0.16.
const DARK_RAMP: (f32, f32) = (0.10, 0.25);
const BRIGHT_RAMP: (f32, f32) = (0.80, 0.95);
/// Fraction of clipped pixels: good, bad.
const CLIP_RAMP: (f32, f32) = (0.05, 0.5);
/// RMS contrast 0..1: bad, good.
const CONTRAST_RAMP: (f32, f32) = (0.02, 0.06);
/// Largest of |yaw|, |pitch| in degrees: good, bad.
const POSE_RAMP: (f32, f32) = (25.0, 60.0);
/// Detector score: bad, good.
const CONFIDENCE_RAMP: (f32, f32) = (0.5, 0.8);
/// Eyelid opening / eye width: bad, good.
const EYES_RAMP: (f32, f32) = (0.08, 0.16);

/// 0 at `bad`, 1 at `good`, linear between (either direction).
fn ramp(v: f32, bad: f32, good: f32) -> f32 {
    if !v.is_finite() {
        return 0.0;
    }
    ((v - bad) / (good - bad)).clamp(0.0, 1.0)
}

/// The optional models a report may use.
pub(crate) struct QualityModels<'a> {
    pub mesh: Option<&'a FaceMesh>,
    pub iris: Option<&'a IrisModel>,
    pub mask: Option<&'a MaskDetector>,
}

/// Assesses `face` of `image` (one of `face_count` faces) against `profile`.
pub(crate) fn assess(
    image: &Image,
    face: &Face,
    face_count: usize,
    profile: &QualityProfile,
    models: &QualityModels<'_>,
) -> Result<(QualityReport, Option<MeshLandmarks>)> {
    let metrics = metrics::measure(image, face)?;
    let mesh = match models.mesh {
        Some(m) => Some(m.landmarks(image, face)?),
        None => None,
    };
    let pose = match &mesh {
        Some(m) => m.pose(),
        None => HeadPose::from_five_points(face),
    };
    let eyes = match (models.iris, &mesh) {
        (Some(iris), Some(m)) => Some(iris.openness(image, m.eye_corners())?),
        _ => None,
    };
    let mask_probability = match models.mask {
        Some(m) => Some(m.mask_probability(image, face)?),
        None => None,
    };
    let ied = face.inter_eye_distance();
    let factors = QualityFactors {
        size: ramp(ied, SIZE_RAMP.0, SIZE_RAMP.1),
        sharpness: ramp(
            metrics.sharpness.max(1e-3).ln(),
            SHARPNESS_RAMP.0.ln(),
            SHARPNESS_RAMP.1.ln(),
        ),
        exposure: ramp(metrics.brightness, DARK_RAMP.0, DARK_RAMP.1)
            * ramp(metrics.brightness, BRIGHT_RAMP.1, BRIGHT_RAMP.0)
            * ramp(
                metrics.shadows_clipped.max(metrics.highlights_clipped),
                CLIP_RAMP.1,
                CLIP_RAMP.0,
            ),
        contrast: ramp(metrics.contrast, CONTRAST_RAMP.0, CONTRAST_RAMP.1),
        pose: ramp(
            pose.yaw.abs().max(pose.pitch.abs()),
            POSE_RAMP.1,
            POSE_RAMP.0,
        ),
        confidence: ramp(face.score, CONFIDENCE_RAMP.0, CONFIDENCE_RAMP.1),
        eyes: eyes.map(|e| ramp(e.min(), EYES_RAMP.0, EYES_RAMP.1)),
        mask: mask_probability.map(|p| ramp(p, 0.9, 0.3)),
    };
    let score = factors.product();

    let mut reasons = Vec::new();
    let mut fail = |cond: bool, r: QualityReason| {
        if cond {
            reasons.push(r)
        }
    };
    let (w, h) = (image.width() as f32, image.height() as f32);
    let b = &face.bbox;
    fail(
        profile.single_face && face_count > 1,
        QualityReason::MultipleFaces,
    );
    fail(
        ied < profile.min_inter_eye_distance,
        QualityReason::TooSmall,
    );
    // A box more than 10 % of its size past an edge has part of the face missing.
    let (mx, my) = (0.1 * b.width(), 0.1 * b.height());
    fail(
        b.x1 < -mx || b.y1 < -my || b.x2 > w + mx || b.y2 > h + my,
        QualityReason::FacePartiallyOutside,
    );
    fail(
        mask_probability.is_some_and(|p| p > profile.max_mask_probability),
        QualityReason::MaskOrOcclusion,
    );
    fail(
        eyes.is_some_and(|e| e.min() < profile.min_eye_openness),
        QualityReason::EyesClosed,
    );
    fail(
        metrics.sharpness < profile.min_sharpness,
        QualityReason::Blurry,
    );
    fail(
        metrics.brightness < profile.min_brightness
            || metrics.shadows_clipped > profile.max_shadows_clipped,
        QualityReason::TooDark,
    );
    fail(
        metrics.brightness > profile.max_brightness
            || metrics.highlights_clipped > profile.max_highlights_clipped,
        QualityReason::Overexposed,
    );
    fail(
        metrics.contrast < profile.min_contrast,
        QualityReason::LowContrast,
    );
    fail(pose.yaw.abs() > profile.max_yaw, QualityReason::PoseYaw);
    fail(
        pose.pitch.abs() > profile.max_pitch,
        QualityReason::PosePitch,
    );
    fail(pose.roll.abs() > profile.max_roll, QualityReason::PoseRoll);
    fail(
        face.score < profile.min_detector_confidence,
        QualityReason::LowConfidence,
    );
    if reasons.is_empty() && score < profile.min_score {
        reasons.push(QualityReason::LowScore);
    }
    let report = QualityReport {
        score,
        passed: reasons.is_empty(),
        profile: profile.name.clone(),
        reasons,
        face_count,
        face: Some(*face),
        inter_eye_distance: Some(ied),
        detector_confidence: Some(face.score),
        metrics: Some(metrics),
        pose: Some(pose),
        eyes,
        mask_probability,
        factors: Some(factors),
    };
    Ok((report, mesh))
}
