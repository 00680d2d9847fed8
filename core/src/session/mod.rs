//! Frame sessions, as face-login and KYC servers run them: state machines fed one camera frame
//! at a time, serialisable (serde) so a server can keep the state in its own store between
//! requests. [`EnrollmentSession`] collects good samples and enrolls them;
//! [`AuthenticationSession`] verifies or identifies. Active liveness is in
//! [`crate::liveness::active`].

mod authentication;
mod enrollment;

pub use authentication::{
    AuthMode, AuthStatus, AuthenticationConfig, AuthenticationProgress, AuthenticationSession,
};
pub use enrollment::{EnrollmentConfig, EnrollmentProgress, EnrollmentSession, EnrollmentStatus};

use crate::detect::{self, Face};
use crate::embed::Embedding;
use crate::engine::Engine;
use crate::error::Result;
use crate::image::Image;
use crate::landmarks::{EyeOpenness, HeadPose};
use crate::liveness::Liveness;
use crate::quality::{QualityProfile, QualityReport};
use serde::{Deserialize, Serialize};

/// Another face at least this fraction of the main face's area makes the frame ambiguous;
/// smaller ones (people in the background) are ignored.
const RIVAL_AREA: f32 = 0.5;

/// What one frame shows, measured once and shared by every check of a session.
#[derive(Debug, Clone)]
pub(crate) struct Observation {
    /// Faces comparable in size to the main one (itself included).
    pub face_count: usize,
    pub face: Option<Face>,
    pub embedding: Option<Embedding>,
    pub quality: Option<QualityReport>,
    pub pose: Option<HeadPose>,
    pub eyes: Option<EyeOpenness>,
    pub mouth_ratio: Option<f32>,
    pub liveness: Option<Liveness>,
}

/// Detects the largest face, then measures quality (with `profile`'s models), embedding and,
/// when asked, passive liveness.
pub(crate) fn observe(
    engine: &Engine,
    image: &Image,
    profile: &QualityProfile,
    passive: bool,
) -> Result<Observation> {
    let faces = engine.detect(image)?;
    let Some(face) = detect::largest(&faces).copied() else {
        return Ok(Observation {
            face_count: 0,
            face: None,
            embedding: None,
            quality: None,
            pose: None,
            eyes: None,
            mouth_ratio: None,
            liveness: None,
        });
    };
    let rivals = faces
        .iter()
        .filter(|f| f.bbox.area() >= RIVAL_AREA * face.bbox.area())
        .count();
    let (quality, mesh) = engine.assess(image, &face, rivals, profile)?;
    let embedding = engine.embed(image, std::slice::from_ref(&face))?.pop();
    let liveness = if passive {
        Some(engine.face_liveness(image, &face)?)
    } else {
        None
    };
    Ok(Observation {
        face_count: rivals,
        face: Some(face),
        embedding,
        pose: quality.pose,
        eyes: quality.eyes,
        mouth_ratio: mesh.as_ref().map(|m| m.mouth_width_ratio()),
        quality: Some(quality),
        liveness,
    })
}

/// Passive-liveness data as the servers send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivenessSummary {
    /// This frame's score.
    pub score: f32,
    /// Whether this frame's score is at or over the threshold.
    pub live: bool,
    /// Mean over the session's frames so far.
    pub session_mean: f32,
    /// The liveness threshold used.
    pub threshold: f32,
}

impl LivenessSummary {
    /// Adds this frame's score to a session's `history` and summarises both.
    pub(crate) fn record(history: &mut Vec<f32>, l: &Liveness) -> LivenessSummary {
        history.push(l.score);
        LivenessSummary {
            score: l.score,
            live: l.live,
            session_mean: history.iter().sum::<f32>() / history.len() as f32,
            threshold: l.threshold,
        }
    }
}

/// A session's frame clock: when it began and the last frame's timestamp. Frames must come
/// strictly later than the previous one and not before the start (a replayed or reordered
/// stream), and within the session's deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FrameClock {
    started_ms: u64,
    last_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClockError {
    OutOfOrder,
    Expired,
}

impl FrameClock {
    pub fn start(now_ms: u64) -> FrameClock {
        FrameClock {
            started_ms: now_ms,
            last_ms: None,
        }
    }

    /// Takes a frame stamped `now`. An in-order frame is recorded even when it is past
    /// `deadline_ms` from the start.
    pub fn tick(&mut self, now: u64, deadline_ms: u64) -> std::result::Result<(), ClockError> {
        if now < self.started_ms || self.last_ms.is_some_and(|l| now <= l) {
            return Err(ClockError::OutOfOrder);
        }
        self.last_ms = Some(now);
        if now - self.started_ms > deadline_ms {
            return Err(ClockError::Expired);
        }
        Ok(())
    }
}
