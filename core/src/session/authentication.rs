//! Authentication over frames: verify a claimed subject (1:1) or identify (1:N) from a few
//! frames, with optional passive liveness, a quality gate, a frame budget and a deadline.

use super::{observe, ClockError, FrameClock, LivenessSummary};
use crate::compare::Threshold;
use crate::engine::{Engine, FaceEmbedding};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::quality::QualityProfile;
use serde::{Deserialize, Serialize};

/// How an authentication session matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum AuthMode {
    /// 1:1 against a claimed subject.
    Verify {
        /// The subject the person claims to be.
        subject: String,
    },
    /// 1:N over the collection.
    Identify,
}

/// Settings of an authentication (login) session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthenticationConfig {
    /// The collection to match against.
    pub collection: String,
    /// 1:1 against a claimed subject, or 1:N.
    pub mode: AuthMode,
    /// Require passive liveness: frames that look like a spoof are not matched, and
    /// `max_spoof_frames` of them fail the session.
    pub require_liveness: bool,
    /// Frames that look like a spoof before the session fails.
    pub max_spoof_frames: usize,
    /// Minimum match confidence (default: FMR 1e-4).
    pub threshold: Threshold,
    /// Quality limits a frame must meet to be matched.
    pub quality: QualityProfile,
    /// Give up (rejected) after this many frames without a match.
    pub max_frames: usize,
    /// Give up (failed) after this many milliseconds.
    pub timeout_ms: u64,
    /// For the audit log.
    pub actor: Option<String>,
}

impl AuthenticationConfig {
    /// The defaults for `mode` over `collection`: passive liveness required, FMR 1e-4.
    pub fn new(collection: impl Into<String>, mode: AuthMode) -> AuthenticationConfig {
        AuthenticationConfig {
            collection: collection.into(),
            mode,
            require_liveness: true,
            max_spoof_frames: 3,
            threshold: Threshold::Fmr(1e-4),
            quality: QualityProfile::authentication(),
            max_frames: 10,
            timeout_ms: 15_000,
            actor: None,
        }
    }
}

/// Where an authentication session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthStatus {
    /// Still looking.
    InProgress,
    /// Matched: `subject` and `score` say who and how well.
    Authenticated,
    /// No match within the frame budget.
    Rejected,
    /// Timed out, spoof suspected, or bad frame clock.
    Failed,
}

/// The answer to one frame, with the fields the servers send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationProgress {
    /// Where the session stands after this frame.
    pub status: AuthStatus,
    /// Frames fed so far.
    pub frames_used: usize,
    /// Frames allowed.
    pub max_frames: usize,
    /// Whether a face was found in this frame.
    pub face_detected: bool,
    /// This frame's quality score, when a face was found.
    pub quality_score: Option<f32>,
    /// This frame's passive liveness, when checked.
    pub liveness: Option<LivenessSummary>,
    /// Why the frame could not be used (quality reason names, "spoof_suspected").
    pub obstacles: Vec<String>,
    /// The matched (or best, if not matched) subject of this frame.
    pub subject: Option<String>,
    /// The similarity of the subject above.
    pub score: Option<f32>,
    /// The similarity the decision used.
    pub threshold: Option<f32>,
    /// The false-match rate of that threshold (absent when uncalibrated).
    pub fmr: Option<f64>,
    /// What to tell the person in front of the camera.
    pub message: String,
}

/// An authentication session (serialisable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationSession {
    config: AuthenticationConfig,
    clock: FrameClock,
    frames: usize,
    spoof_frames: usize,
    passive_scores: Vec<f32>,
    status: AuthStatus,
    best: Option<(String, f32)>,
}

impl AuthenticationSession {
    /// Starts a session at `now_ms` (the clock frame timestamps are on).
    pub fn start(config: AuthenticationConfig, now_ms: u64) -> Result<AuthenticationSession> {
        if config.max_frames == 0 || config.max_spoof_frames == 0 {
            return Err(Error::InvalidArgument(
                "max_frames and max_spoof_frames must be at least 1".into(),
            ));
        }
        config.quality.validate()?;
        Ok(AuthenticationSession {
            config,
            clock: FrameClock::start(now_ms),
            frames: 0,
            spoof_frames: 0,
            passive_scores: Vec::new(),
            status: AuthStatus::InProgress,
            best: None,
        })
    }

    /// Where the session stands.
    pub fn status(&self) -> AuthStatus {
        self.status
    }

    fn progress(&self, message: impl Into<String>) -> AuthenticationProgress {
        AuthenticationProgress {
            status: self.status,
            frames_used: self.frames,
            max_frames: self.config.max_frames,
            face_detected: false,
            quality_score: None,
            liveness: None,
            obstacles: Vec::new(),
            subject: None,
            score: None,
            threshold: None,
            fmr: None,
            message: message.into(),
        }
    }

    /// Matches one frame taken at `timestamp_ms` (after the previous one) and says where the session stands.
    pub fn feed(
        &mut self,
        engine: &Engine,
        timestamp_ms: u64,
        image: &Image,
    ) -> Result<AuthenticationProgress> {
        if self.status != AuthStatus::InProgress {
            return Err(Error::SessionFinished(
                format!("{:?}", self.status).to_lowercase(),
            ));
        }
        if let Err(e) = self.clock.tick(timestamp_ms, self.config.timeout_ms) {
            self.status = AuthStatus::Failed;
            return Ok(self.progress(match e {
                ClockError::OutOfOrder => "frame timestamps must increase",
                ClockError::Expired => "the authentication session timed out",
            }));
        }
        self.frames += 1;
        let obs = observe(
            engine,
            image,
            &self.config.quality,
            self.config.require_liveness,
        )?;
        let mut p = self.progress("");
        p.face_detected = obs.face.is_some();
        p.quality_score = obs.quality.as_ref().map(|q| q.score);
        if let Some(q) = &obs.quality {
            p.obstacles
                .extend(q.reasons.iter().map(|r| r.as_str().to_string()));
        } else {
            p.obstacles.push("no_face".into());
        }
        if let Some(l) = &obs.liveness {
            p.liveness = Some(LivenessSummary::record(&mut self.passive_scores, l));
            if !l.live {
                self.spoof_frames += 1;
                p.obstacles.push("spoof_suspected".into());
                if self.spoof_frames >= self.config.max_spoof_frames {
                    self.status = AuthStatus::Failed;
                    p.status = self.status;
                    p.message = "the face looks like a photo or a screen".into();
                    return Ok(p);
                }
            }
        }
        if p.obstacles.is_empty() {
            if let (Some(face), Some(embedding)) = (obs.face, obs.embedding) {
                let probe = FaceEmbedding { face, embedding };
                let actor = self.config.actor.as_deref();
                let (subject, score, threshold, fmr, matched) = match &self.config.mode {
                    AuthMode::Verify { subject } => {
                        let v = engine.verify_embedding(
                            &self.config.collection,
                            subject,
                            &probe,
                            Some(self.config.threshold),
                            actor,
                        )?;
                        (Some(v.subject), v.score, v.threshold, v.fmr, v.matched)
                    }
                    AuthMode::Identify => {
                        let id = engine.identify_embedding(
                            &self.config.collection,
                            &probe,
                            1,
                            Some(self.config.threshold),
                            actor,
                        )?;
                        let best = id.candidates.first();
                        (
                            best.map(|c| c.subject.clone()),
                            best.map_or(f32::MIN, |c| c.score),
                            id.threshold,
                            id.fmr,
                            best.is_some_and(|c| c.matched),
                        )
                    }
                };
                p.subject = subject.clone();
                p.score = (score > f32::MIN).then_some(score);
                p.threshold = Some(threshold);
                p.fmr = fmr;
                if matched {
                    self.status = AuthStatus::Authenticated;
                    p.status = self.status;
                    p.message = "authenticated".into();
                    return Ok(p);
                }
                if let Some(s) = subject {
                    if self.best.as_ref().map_or(true, |b| score > b.1) {
                        self.best = Some((s, score));
                    }
                }
            }
        }
        if self.frames >= self.config.max_frames {
            self.status = AuthStatus::Rejected;
            p.status = self.status;
            p.message = "no match".into();
            return Ok(p);
        }
        p.message = match p.obstacles.first() {
            Some(o) => o.replace('_', " "),
            None => "not matched yet: hold still and face the camera".into(),
        };
        Ok(p)
    }
}
