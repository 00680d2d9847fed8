//! Enrollment over frames: collect `target_samples` faces that pass the quality gate (and
//! passive liveness when required), different enough in pose to cover the face, all of one
//! person; then enroll them in one transaction.

use super::{observe, ClockError, FrameClock, LivenessSummary};
use crate::compare::Threshold;
use crate::embed::Embedding;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::gallery::{EnrollOptions, EnrollReport};
use crate::image::Image;
use crate::landmarks::HeadPose;
use crate::quality::{QualityProfile, QualityReason};
use serde::{Deserialize, Serialize};

/// Settings of an enrollment session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentConfig {
    /// The collection to enroll into.
    pub collection: String,
    /// The subject's external id.
    pub subject: String,
    /// A name for people to read.
    pub display_name: Option<String>,
    /// Samples to collect.
    pub target_samples: usize,
    /// Quality limits every sample must meet.
    pub quality: QualityProfile,
    /// Require each sample to pass passive liveness.
    pub require_liveness: bool,
    /// A new sample's pose must differ from every kept one by this many degrees (largest of
    /// yaw/pitch difference), so the samples are not the same frame over and over. 0: off.
    pub min_pose_difference: f32,
    /// Every sample must match the first one at this threshold (one person throughout).
    pub identity_threshold: Threshold,
    /// Give up after this many frames.
    pub max_frames: usize,
    /// Give up after this many milliseconds.
    pub timeout_ms: u64,
    /// For the audit log.
    pub actor: Option<String>,
}

impl EnrollmentConfig {
    /// The defaults for enrolling `subject` into `collection`: 3 samples, the enrollment quality profile.
    pub fn new(collection: impl Into<String>, subject: impl Into<String>) -> EnrollmentConfig {
        EnrollmentConfig {
            collection: collection.into(),
            subject: subject.into(),
            display_name: None,
            target_samples: 3,
            quality: QualityProfile::enrollment(),
            require_liveness: true,
            min_pose_difference: 3.0,
            identity_threshold: Threshold::Fmr(1e-3),
            max_frames: 60,
            timeout_ms: 60_000,
            actor: None,
        }
    }
}

/// Where an enrollment session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentStatus {
    /// Still collecting samples.
    Collecting,
    /// Enrolled: `enrollment` holds the report.
    Completed,
    /// Gave up: `message` says why.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sample {
    embedding: Embedding,
    quality: f32,
    pose: HeadPose,
}

/// The answer to one frame, with the fields the servers send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentProgress {
    /// Where the session stands after this frame.
    pub status: EnrollmentStatus,
    /// Samples kept so far.
    pub completed_samples: usize,
    /// Samples wanted.
    pub target_samples: usize,
    /// Whether this frame was kept as a sample.
    pub accepted: bool,
    /// Whether a face was found in this frame.
    pub face_detected: bool,
    /// This frame's quality score, when a face was found.
    pub quality_score: Option<f32>,
    /// This frame's passive liveness, when checked.
    pub liveness: Option<LivenessSummary>,
    /// Why the frame was not kept (quality reason codes, "spoof_suspected",
    /// "similar_pose", "different_person").
    pub obstacles: Vec<String>,
    /// What to tell the person in front of the camera.
    pub message: String,
    /// When completed: what was enrolled.
    pub enrollment: Option<EnrollReport>,
}

/// An enrollment session (serialisable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentSession {
    config: EnrollmentConfig,
    clock: FrameClock,
    frames: usize,
    samples: Vec<Sample>,
    status: EnrollmentStatus,
    passive_scores: Vec<f32>,
}

impl EnrollmentSession {
    /// Starts a session at `now_ms` (the clock frame timestamps are on).
    pub fn start(config: EnrollmentConfig, now_ms: u64) -> Result<EnrollmentSession> {
        if config.target_samples == 0 || config.max_frames < config.target_samples {
            return Err(Error::InvalidArgument(
                "target_samples must be at least 1 and max_frames at least target_samples".into(),
            ));
        }
        if config.collection.is_empty() || config.subject.is_empty() {
            return Err(Error::InvalidArgument(
                "collection and subject must not be empty".into(),
            ));
        }
        config.quality.validate()?;
        Ok(EnrollmentSession {
            config,
            clock: FrameClock::start(now_ms),
            frames: 0,
            samples: Vec::new(),
            status: EnrollmentStatus::Collecting,
            passive_scores: Vec::new(),
        })
    }

    /// Where the session stands.
    pub fn status(&self) -> EnrollmentStatus {
        self.status
    }

    /// The session's settings.
    pub fn config(&self) -> &EnrollmentConfig {
        &self.config
    }

    fn progress(&self, message: impl Into<String>) -> EnrollmentProgress {
        EnrollmentProgress {
            status: self.status,
            completed_samples: self.samples.len(),
            target_samples: self.config.target_samples,
            accepted: false,
            face_detected: false,
            quality_score: None,
            liveness: None,
            obstacles: Vec::new(),
            message: message.into(),
            enrollment: None,
        }
    }

    fn give_up(&mut self, why: &str) -> EnrollmentProgress {
        self.status = EnrollmentStatus::Failed;
        self.progress(why)
    }

    /// Feeds one frame. When the last sample is collected the subject is enrolled and the
    /// progress carries the report.
    pub fn feed(
        &mut self,
        engine: &Engine,
        timestamp_ms: u64,
        image: &Image,
    ) -> Result<EnrollmentProgress> {
        if self.status != EnrollmentStatus::Collecting {
            return Err(Error::SessionFinished(
                format!("{:?}", self.status).to_lowercase(),
            ));
        }
        match self.clock.tick(timestamp_ms, self.config.timeout_ms) {
            Err(ClockError::OutOfOrder) => {
                return Ok(self.give_up("frame timestamps must increase"))
            }
            Err(ClockError::Expired) => return Ok(self.give_up("the enrollment session timed out")),
            Ok(()) => self.frames += 1,
        }
        let obs = observe(
            engine,
            image,
            &self.config.quality,
            self.config.require_liveness,
        )?;
        let mut p = self.progress("");
        p.face_detected = obs.face.is_some();
        p.quality_score = obs.quality.as_ref().map(|q| q.score);
        if let Some(l) = &obs.liveness {
            p.liveness = Some(LivenessSummary::record(&mut self.passive_scores, l));
        }
        match (&obs.quality, &obs.embedding, obs.pose) {
            (Some(q), Some(e), Some(pose)) => {
                p.obstacles
                    .extend(q.reasons.iter().map(|r| r.as_str().to_string()));
                if obs.liveness.as_ref().is_some_and(|l| !l.live) {
                    p.obstacles.push("spoof_suspected".into());
                }
                if p.obstacles.is_empty() {
                    if let Some(first) = self.samples.first() {
                        let (t, _) = engine.resolve_threshold(self.config.identity_threshold)?;
                        if first.embedding.similarity(e)? < t {
                            p.obstacles.push("different_person".into());
                        }
                    }
                }
                let similar = self.samples.iter().any(|s| {
                    (s.pose.yaw - pose.yaw)
                        .abs()
                        .max((s.pose.pitch - pose.pitch).abs())
                        < self.config.min_pose_difference
                });
                if p.obstacles.is_empty() && similar {
                    p.obstacles.push("similar_pose".into());
                }
                if p.obstacles.is_empty() {
                    self.samples.push(Sample {
                        embedding: e.clone(),
                        quality: q.score,
                        pose,
                    });
                    p.accepted = true;
                }
            }
            _ => p.obstacles.push(QualityReason::NoFace.as_str().to_string()),
        }
        p.completed_samples = self.samples.len();
        if self.samples.len() >= self.config.target_samples {
            let report = self.enroll(engine)?;
            self.status = EnrollmentStatus::Completed;
            p.status = self.status;
            p.enrollment = Some(report);
            p.message = "enrollment complete".into();
            return Ok(p);
        }
        if self.frames >= self.config.max_frames {
            self.status = EnrollmentStatus::Failed;
            p.status = self.status;
            p.message = format!(
                "gave up after {} frames with {} of {} samples",
                self.frames,
                self.samples.len(),
                self.config.target_samples
            );
            return Ok(p);
        }
        p.message = match p.obstacles.first() {
            Some(o) => advice(o),
            None if p.accepted => format!(
                "sample {} of {} taken{}",
                self.samples.len(),
                self.config.target_samples,
                if self.config.min_pose_difference > 0.0 {
                    ": now turn your head slightly"
                } else {
                    ""
                }
            ),
            None => String::new(),
        };
        Ok(p)
    }

    fn enroll(&self, engine: &Engine) -> Result<EnrollReport> {
        let options = EnrollOptions {
            display_name: self.config.display_name.clone(),
            actor: self.config.actor.clone(),
            sources: (0..self.samples.len())
                .map(|i| format!("enrollment-session frame sample {}", i + 1))
                .collect(),
            ..Default::default()
        };
        let (embeddings, quality): (Vec<_>, Vec<_>) = self
            .samples
            .iter()
            .map(|s| (s.embedding.clone(), Some(s.quality)))
            .unzip();
        engine.enroll_scored_embeddings(
            &self.config.collection,
            &self.config.subject,
            embeddings,
            quality,
            &options,
        )
    }
}

fn advice(obstacle: &str) -> String {
    let reasons = [
        QualityReason::NoFace,
        QualityReason::MultipleFaces,
        QualityReason::TooSmall,
        QualityReason::FacePartiallyOutside,
        QualityReason::Blurry,
        QualityReason::TooDark,
        QualityReason::Overexposed,
        QualityReason::LowContrast,
        QualityReason::PoseYaw,
        QualityReason::PosePitch,
        QualityReason::PoseRoll,
        QualityReason::EyesClosed,
        QualityReason::MaskOrOcclusion,
        QualityReason::LowConfidence,
        QualityReason::LowScore,
    ];
    if let Some(r) = reasons.iter().find(|r| r.as_str() == obstacle) {
        return r.advice().to_string();
    }
    match obstacle {
        "spoof_suspected" => "the face looks like a photo or a screen".into(),
        "similar_pose" => "turn your head slightly for the next sample".into(),
        "different_person" => "a different face appeared".into(),
        o => o.replace('_', " "),
    }
}
