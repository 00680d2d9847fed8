//! The nested reports (enrollment, quality, frame sessions) as typed JS objects with camelCase
//! fields. Each is converted field by field from the core's type, so a field the core adds or
//! renames is a compile error here rather than a silent difference from index.d.ts. Enums
//! travel as their stable snake_case names (the same strings the C ABI, Python and the servers
//! use), typed in TypeScript as unions of those names.

use napi_derive::napi;
use serde::Serialize;

use crate::results::{Face, Subject};

/// The stable name of a core enum: its serde name.
fn name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        // Every enum named here is a unit enum that serialises to a string.
        other => format!("{other:?}"),
    }
}

/// A newly enrolled face that already matches another subject.
#[napi(object)]
pub struct DuplicateWarning {
    pub other_subject: String,
    pub score: f64,
    pub threshold: f64,
}

/// What `enroll` stored.
#[napi(object)]
pub struct EnrollReport {
    pub subject: Subject,
    pub template_ids: Vec<String>,
    pub warnings: Vec<DuplicateWarning>,
}

impl From<faceprint::EnrollReport> for EnrollReport {
    fn from(r: faceprint::EnrollReport) -> EnrollReport {
        EnrollReport {
            subject: r.subject.into(),
            template_ids: r.template_ids,
            warnings: r
                .warnings
                .into_iter()
                .map(|w| DuplicateWarning {
                    other_subject: w.other_subject,
                    score: w.score as f64,
                    threshold: w.threshold as f64,
                })
                .collect(),
        }
    }
}

/// Pixel statistics of the inner face.
#[napi(object)]
pub struct ImageMetrics {
    /// Laplacian variance rescaled to a typical contrast: low when blurred or upscaled.
    pub sharpness: f64,
    /// Mean luma, 0..1.
    pub brightness: f64,
    /// RMS contrast of luma, 0..1.
    pub contrast: f64,
    /// Fraction of pixels clipped to black.
    pub shadows_clipped: f64,
    /// Fraction of pixels clipped to white.
    pub highlights_clipped: f64,
}

/// Head pose in degrees.
#[napi(object)]
pub struct HeadPose {
    pub yaw: f64,
    pub pitch: f64,
    pub roll: f64,
    /// What the angles came from.
    #[napi(ts_type = "'mesh' | 'five_point'")]
    pub source: String,
}

impl From<faceprint::HeadPose> for HeadPose {
    fn from(p: faceprint::HeadPose) -> HeadPose {
        HeadPose {
            yaw: p.yaw as f64,
            pitch: p.pitch as f64,
            roll: p.roll as f64,
            source: name(&p.source),
        }
    }
}

/// Eyelid opening over eye width, per eye.
#[napi(object)]
pub struct EyeOpenness {
    pub left: f64,
    pub right: f64,
}

impl From<faceprint::EyeOpenness> for EyeOpenness {
    fn from(e: faceprint::EyeOpenness) -> EyeOpenness {
        EyeOpenness {
            left: e.left as f64,
            right: e.right as f64,
        }
    }
}

/// The factors whose product is the quality score, each 0..1.
#[napi(object)]
pub struct QualityFactors {
    pub size: f64,
    pub sharpness: f64,
    pub exposure: f64,
    pub contrast: f64,
    pub pose: f64,
    pub confidence: f64,
    pub eyes: Option<f64>,
    pub mask: Option<f64>,
}

/// The quality of one face (or of an image without a usable face).
#[napi(object)]
pub struct QualityReport {
    /// Unified quality, 0 (unusable) .. 1.
    pub score: f64,
    /// True when `reasons` is empty.
    pub passed: bool,
    pub profile: String,
    /// What to fix, most important first.
    #[napi(
        ts_type = "Array<'no_face' | 'multiple_faces' | 'too_small' | 'face_partially_outside' | 'blurry' | 'too_dark' | 'overexposed' | 'low_contrast' | 'pose_yaw' | 'pose_pitch' | 'pose_roll' | 'eyes_closed' | 'mask_or_occlusion' | 'low_confidence' | 'low_score'>"
    )]
    pub reasons: Vec<String>,
    /// Faces found in the image.
    pub face_count: u32,
    /// The face assessed (the largest), if any.
    pub face: Option<Face>,
    pub inter_eye_distance: Option<f64>,
    pub detector_confidence: Option<f64>,
    pub metrics: Option<ImageMetrics>,
    pub pose: Option<HeadPose>,
    /// With landmarks on.
    pub eyes: Option<EyeOpenness>,
    /// Probability the lower face is covered (with the mask model on).
    pub mask_probability: Option<f64>,
    pub factors: Option<QualityFactors>,
}

impl From<faceprint::QualityReport> for QualityReport {
    fn from(r: faceprint::QualityReport) -> QualityReport {
        QualityReport {
            score: r.score as f64,
            passed: r.passed,
            profile: r.profile,
            reasons: r.reasons.iter().map(|c| c.as_str().to_string()).collect(),
            face_count: r.face_count as u32,
            face: r.face.as_ref().map(Face::from),
            inter_eye_distance: r.inter_eye_distance.map(f64::from),
            detector_confidence: r.detector_confidence.map(f64::from),
            metrics: r.metrics.map(|m| ImageMetrics {
                sharpness: m.sharpness as f64,
                brightness: m.brightness as f64,
                contrast: m.contrast as f64,
                shadows_clipped: m.shadows_clipped as f64,
                highlights_clipped: m.highlights_clipped as f64,
            }),
            pose: r.pose.map(HeadPose::from),
            eyes: r.eyes.map(EyeOpenness::from),
            mask_probability: r.mask_probability.map(f64::from),
            factors: r.factors.map(|f| QualityFactors {
                size: f.size as f64,
                sharpness: f.sharpness as f64,
                exposure: f.exposure as f64,
                contrast: f.contrast as f64,
                pose: f.pose as f64,
                confidence: f.confidence as f64,
                eyes: f.eyes.map(f64::from),
                mask: f.mask.map(f64::from),
            }),
        }
    }
}

/// Passive liveness of a session's frame.
#[napi(object)]
pub struct LivenessSummary {
    /// This frame's score.
    pub score: f64,
    pub live: bool,
    /// Mean over the session's frames so far.
    pub session_mean: f64,
    pub threshold: f64,
}

impl From<faceprint::session::LivenessSummary> for LivenessSummary {
    fn from(l: faceprint::session::LivenessSummary) -> LivenessSummary {
        LivenessSummary {
            score: l.score as f64,
            live: l.live,
            session_mean: l.session_mean as f64,
            threshold: l.threshold as f64,
        }
    }
}

/// An enrollment session's answer to one frame.
#[napi(object)]
pub struct EnrollmentProgress {
    #[napi(ts_type = "'collecting' | 'completed' | 'failed'")]
    pub status: String,
    pub completed_samples: u32,
    pub target_samples: u32,
    /// Whether this frame was kept as a sample.
    pub accepted: bool,
    pub face_detected: bool,
    pub quality_score: Option<f64>,
    pub liveness: Option<LivenessSummary>,
    /// Why the frame was not kept: quality reason names, "spoof_suspected", "similar_pose",
    /// "different_person".
    pub obstacles: Vec<String>,
    pub message: String,
    /// When completed: what was enrolled.
    pub enrollment: Option<EnrollReport>,
}

impl From<faceprint::session::EnrollmentProgress> for EnrollmentProgress {
    fn from(p: faceprint::session::EnrollmentProgress) -> EnrollmentProgress {
        EnrollmentProgress {
            status: name(&p.status),
            completed_samples: p.completed_samples as u32,
            target_samples: p.target_samples as u32,
            accepted: p.accepted,
            face_detected: p.face_detected,
            quality_score: p.quality_score.map(f64::from),
            liveness: p.liveness.map(LivenessSummary::from),
            obstacles: p.obstacles,
            message: p.message,
            enrollment: p.enrollment.map(EnrollReport::from),
        }
    }
}

/// An authentication session's answer to one frame.
#[napi(object)]
pub struct AuthenticationProgress {
    #[napi(ts_type = "'in_progress' | 'authenticated' | 'rejected' | 'failed'")]
    pub status: String,
    pub frames_used: u32,
    pub max_frames: u32,
    pub face_detected: bool,
    pub quality_score: Option<f64>,
    pub liveness: Option<LivenessSummary>,
    pub obstacles: Vec<String>,
    /// The matched (or best, if not matched) subject of this frame.
    pub subject: Option<String>,
    pub score: Option<f64>,
    pub threshold: Option<f64>,
    pub fmr: Option<f64>,
    pub message: String,
}

impl From<faceprint::session::AuthenticationProgress> for AuthenticationProgress {
    fn from(p: faceprint::session::AuthenticationProgress) -> AuthenticationProgress {
        AuthenticationProgress {
            status: name(&p.status),
            frames_used: p.frames_used as u32,
            max_frames: p.max_frames as u32,
            face_detected: p.face_detected,
            quality_score: p.quality_score.map(f64::from),
            liveness: p.liveness.map(LivenessSummary::from),
            obstacles: p.obstacles,
            subject: p.subject,
            score: p.score.map(f64::from),
            threshold: p.threshold.map(f64::from),
            fmr: p.fmr,
            message: p.message,
        }
    }
}

/// One thing that happened on an active-liveness frame; `event` says which, and which other
/// fields are set: `instruction` (index, challenge, message), `progress` (challenge, message,
/// obstacle), `challenge_passed` (index, challenge), `passed` (passiveScore), `failed`
/// (reason, message).
#[napi(object)]
pub struct LivenessEvent {
    #[napi(ts_type = "'instruction' | 'progress' | 'challenge_passed' | 'passed' | 'failed'")]
    pub event: String,
    pub index: Option<u32>,
    #[napi(ts_type = "'blink' | 'turn_left' | 'turn_right' | 'look_up' | 'look_down' | 'smile'")]
    pub challenge: Option<String>,
    pub message: Option<String>,
    /// Why the frame could not be used: no_face, multiple_faces, pose.
    pub obstacle: Option<String>,
    pub passive_score: Option<f64>,
    #[napi(
        ts_type = "'timeout' | 'challenge_timeout' | 'wrong_action' | 'identity_changed' | 'spoof_detected' | 'nonce_mismatch' | 'frame_out_of_order'"
    )]
    pub reason: Option<String>,
}

impl From<faceprint::liveness::LivenessEvent> for LivenessEvent {
    fn from(e: faceprint::liveness::LivenessEvent) -> LivenessEvent {
        use faceprint::liveness::LivenessEvent as E;
        let mut out = LivenessEvent {
            event: String::new(),
            index: None,
            challenge: None,
            message: None,
            obstacle: None,
            passive_score: None,
            reason: None,
        };
        match e {
            E::Instruction {
                index,
                challenge,
                message,
            } => {
                out.event = "instruction".into();
                out.index = Some(index as u32);
                out.challenge = Some(challenge.name().into());
                out.message = Some(message);
            }
            E::Progress {
                challenge,
                message,
                obstacle,
            } => {
                out.event = "progress".into();
                out.challenge = Some(challenge.name().into());
                out.message = Some(message);
                out.obstacle = obstacle;
            }
            E::ChallengePassed { index, challenge } => {
                out.event = "challenge_passed".into();
                out.index = Some(index as u32);
                out.challenge = Some(challenge.name().into());
            }
            E::Passed { passive_score } => {
                out.event = "passed".into();
                out.passive_score = passive_score.map(f64::from);
            }
            E::Failed { reason, message } => {
                out.event = "failed".into();
                out.reason = Some(name(&reason));
                out.message = Some(message);
            }
        }
        out
    }
}

/// An active-liveness session's answer to one frame.
#[napi(object)]
pub struct ActiveFrameResult {
    #[napi(ts_type = "'in_progress' | 'passed' | 'failed'")]
    pub status: String,
    /// What happened on this frame, in order.
    pub events: Vec<LivenessEvent>,
    pub face_detected: bool,
    pub obstacles: Vec<String>,
    /// Challenges completed / asked.
    pub completed: u32,
    pub total: u32,
    /// The challenge to do now.
    #[napi(ts_type = "'blink' | 'turn_left' | 'turn_right' | 'look_up' | 'look_down' | 'smile'")]
    pub challenge: Option<String>,
    pub instruction: Option<String>,
    pub liveness: Option<LivenessSummary>,
    pub pose: Option<HeadPose>,
    pub eyes: Option<EyeOpenness>,
    #[napi(
        ts_type = "'timeout' | 'challenge_timeout' | 'wrong_action' | 'identity_changed' | 'spoof_detected' | 'nonce_mismatch' | 'frame_out_of_order'"
    )]
    pub failure: Option<String>,
    pub message: String,
}

impl From<faceprint::liveness::ActiveFrameResult> for ActiveFrameResult {
    fn from(r: faceprint::liveness::ActiveFrameResult) -> ActiveFrameResult {
        ActiveFrameResult {
            status: name(&r.status),
            events: r.events.into_iter().map(LivenessEvent::from).collect(),
            face_detected: r.face_detected,
            obstacles: r.obstacles,
            completed: r.completed as u32,
            total: r.total as u32,
            challenge: r.challenge.map(|c| c.name().to_string()),
            instruction: r.instruction,
            liveness: r.liveness.map(LivenessSummary::from),
            pose: r.pose.map(HeadPose::from),
            eyes: r.eyes.map(EyeOpenness::from),
            failure: r.failure.map(|f| name(&f)),
            message: r.message,
        }
    }
}
