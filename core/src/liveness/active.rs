//! Active liveness: a server-issued random sequence of challenges (blink, turn left/right, look
//! up/down, smile) answered over a stream of timestamped frames.
//!
//! Why it resists replays: the challenges and their order are drawn at random per session
//! together with a nonce; frames must carry that nonce and strictly increasing timestamps no
//! older than the session, so a recording that answered another session asks for the wrong
//! things in the wrong order (and is refused outright if it carries the other nonce). One
//! identity throughout: every frame's face must match the faces seen before (embedding
//! similarity) and must not jump across the image. Passive liveness runs on every frame.
//!
//! The state is plain data (serde): a server keeps it between requests. Given the same frames
//! the outcome is always the same; randomness is used only when the session starts.
//!
//! Directions are the subject's own, for an unmirrored camera image (see
//! [`crate::landmarks::HeadPose`]). A natural blink during another challenge is ignored; a clear
//! head movement the session did not ask for fails it ("wrong order").

use crate::compare::Threshold;
use crate::detect::BoundingBox;
use crate::embed::Embedding;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::landmarks::{EyeOpenness, HeadPose};
use crate::quality::QualityProfile;
use crate::session::{observe, ClockError, FrameClock, LivenessSummary};
use rand::seq::SliceRandom;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// One thing the person is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Challenge {
    /// Close both eyes, then open them.
    Blink,
    /// Turn the head to the person's own left.
    TurnLeft,
    /// Turn the head to the person's own right.
    TurnRight,
    /// Tilt the head up.
    LookUp,
    /// Tilt the head down.
    LookDown,
    /// Smile (the mouth widens).
    Smile,
}

impl Challenge {
    /// Every challenge.
    pub const ALL: [Challenge; 6] = [
        Challenge::Blink,
        Challenge::TurnLeft,
        Challenge::TurnRight,
        Challenge::LookUp,
        Challenge::LookDown,
        Challenge::Smile,
    ];

    /// The snake_case name used in JSON ("turn_left").
    pub fn name(self) -> &'static str {
        match self {
            Challenge::Blink => "blink",
            Challenge::TurnLeft => "turn_left",
            Challenge::TurnRight => "turn_right",
            Challenge::LookUp => "look_up",
            Challenge::LookDown => "look_down",
            Challenge::Smile => "smile",
        }
    }

    /// What to tell the person, e.g. "Blink".
    pub fn instruction(self) -> &'static str {
        match self {
            Challenge::Blink => "Blink your eyes",
            Challenge::TurnLeft => "Turn your head to your left",
            Challenge::TurnRight => "Turn your head to your right",
            Challenge::LookUp => "Look up",
            Challenge::LookDown => "Look down",
            Challenge::Smile => "Smile",
        }
    }

    /// The head movement this challenge is, if it is one.
    fn movement(self) -> Option<Challenge> {
        match self {
            Challenge::Blink | Challenge::Smile => None,
            c => Some(c),
        }
    }
}

/// Settings of an active-liveness session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActiveConfig {
    /// Challenges to draw from.
    pub pool: Vec<Challenge>,
    /// How many to ask (distinct, random order).
    pub count: usize,
    /// Time allowed per challenge, from when it is asked.
    pub challenge_timeout_ms: u64,
    /// Time allowed for the whole session, from its start.
    pub session_timeout_ms: u64,
    /// |yaw| in degrees that counts as a turn.
    pub turn_degrees: f32,
    /// |pitch| in degrees that counts as looking up or down.
    pub look_degrees: f32,
    /// A movement this large (degrees) that was not asked for fails the session.
    pub wrong_action_degrees: f32,
    /// Eyelid opening / eye width under which an eye is closed, and over which it is open
    /// (the gap between is hysteresis).
    pub eye_closed: f32,
    /// See `eye_closed`.
    pub eye_open: f32,
    /// Blinks count only with |yaw| and |pitch| within this (looking down reads as closed).
    pub blink_max_pose: f32,
    /// Mouth width over eye span, relative to the narrowest seen in the session, for a smile.
    pub smile_gain: f32,
    /// Every face must match an earlier face of the session at this threshold. The default,
    /// FMR 1e-2, keeps 99.3 % of genuine pairs even across different photos; a live stream's
    /// consecutive frames match far more closely, and the jump check backs it up.
    pub identity_threshold: Threshold,
    /// Largest move of the face centre between consecutive frames, in face widths.
    pub max_jump: f32,
    /// Run passive liveness on every frame; the session fails if the mean is under the
    /// engine's liveness threshold.
    pub passive: bool,
}

impl Default for ActiveConfig {
    fn default() -> Self {
        ActiveConfig {
            pool: Challenge::ALL.to_vec(),
            count: 3,
            challenge_timeout_ms: 8_000,
            session_timeout_ms: 30_000,
            turn_degrees: 20.0,
            look_degrees: 15.0,
            wrong_action_degrees: 20.0,
            eye_closed: 0.12,
            eye_open: 0.16,
            blink_max_pose: 20.0,
            smile_gain: 1.12,
            identity_threshold: Threshold::Fmr(1e-2),
            max_jump: 1.0,
            passive: true,
        }
    }
}

impl ActiveConfig {
    fn validate(&self) -> Result<()> {
        let mut distinct = self.pool.clone();
        distinct.sort_by_key(|c| *c as u8);
        distinct.dedup();
        if self.count == 0 || self.count > distinct.len() {
            return Err(Error::InvalidArgument(format!(
                "count must be 1..={} (distinct challenges in the pool)",
                distinct.len()
            )));
        }
        if self.challenge_timeout_ms == 0 || self.session_timeout_ms == 0 {
            return Err(Error::InvalidArgument("timeouts must be positive".into()));
        }
        let limits = [
            self.turn_degrees,
            self.look_degrees,
            self.wrong_action_degrees,
            self.eye_closed,
            self.eye_open,
            self.blink_max_pose,
            self.smile_gain,
            self.max_jump,
        ];
        if limits.iter().any(|v| !v.is_finite() || *v <= 0.0) || self.eye_open < self.eye_closed {
            return Err(Error::InvalidArgument(
                "active liveness limits must be positive and eye_open >= eye_closed".into(),
            ));
        }
        Ok(())
    }
}

/// Where an active-liveness session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Challenges still to do.
    InProgress,
    /// Every challenge done by one live face.
    Passed,
    /// Failed: `failure` says why.
    Failed,
}

/// Why an active session failed. Names are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The whole session took too long.
    Timeout,
    /// The current challenge was not done in time.
    ChallengeTimeout,
    /// A head movement that was not asked for (e.g. the challenges out of order).
    WrongAction,
    /// The face changed person or jumped across the image.
    IdentityChanged,
    /// Passive liveness says print or screen.
    SpoofDetected,
    /// The frame belongs to another session.
    NonceMismatch,
    /// The frame's timestamp is not after the previous one, or before the session began.
    FrameOutOfOrder,
}

impl FailureReason {
    /// What to tell the person, e.g. "the face looks like a photo or a screen".
    pub fn message(self) -> &'static str {
        match self {
            FailureReason::Timeout => "the session timed out",
            FailureReason::ChallengeTimeout => "the challenge was not completed in time",
            FailureReason::WrongAction => "a different movement than the one asked for",
            FailureReason::IdentityChanged => "a different face appeared",
            FailureReason::SpoofDetected => "the face looks like a photo or a screen",
            FailureReason::NonceMismatch => "the frame belongs to another session",
            FailureReason::FrameOutOfOrder => "frame timestamps must increase",
        }
    }
}

/// What happened on a frame, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LivenessEvent {
    /// Show this instruction now.
    Instruction {
        /// Which challenge of the session (from 0).
        index: usize,
        /// The challenge.
        challenge: Challenge,
        /// What to tell the person.
        message: String,
    },
    /// Feedback on the current challenge or on the frame (`obstacle` when the frame could not
    /// be used: no_face, multiple_faces, pose).
    Progress {
        /// The current challenge.
        challenge: Challenge,
        /// What to tell the person.
        message: String,
        /// Why the frame could not be used, if it could not.
        obstacle: Option<String>,
    },
    /// A challenge was done.
    ChallengePassed {
        /// Which challenge of the session (from 0).
        index: usize,
        /// The challenge.
        challenge: Challenge,
    },
    /// Every challenge done: the session passed.
    Passed {
        /// The face's passive-liveness score, when checked.
        passive_score: Option<f32>,
    },
    /// The session failed.
    Failed {
        /// Why.
        reason: FailureReason,
        /// What to tell the person.
        message: String,
    },
}

/// The answer to one frame, with the fields a server sends to its client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveFrameResult {
    /// Where the session stands after this frame.
    pub status: SessionStatus,
    /// What happened on this frame, in order.
    pub events: Vec<LivenessEvent>,
    /// Whether a face was found in this frame.
    pub face_detected: bool,
    /// Why the frame could not be used (no_face, multiple_faces, pose).
    pub obstacles: Vec<String>,
    /// Challenges completed / asked.
    pub completed: usize,
    /// Challenges asked.
    pub total: usize,
    /// The challenge to do now.
    pub challenge: Option<Challenge>,
    /// Its instruction.
    pub instruction: Option<String>,
    /// This frame's passive liveness, when checked.
    pub liveness: Option<LivenessSummary>,
    /// This frame's head pose.
    pub pose: Option<HeadPose>,
    /// This frame's eye opening.
    pub eyes: Option<EyeOpenness>,
    /// Why the session failed, once it has.
    pub failure: Option<FailureReason>,
    /// What to tell the person.
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct BlinkState {
    seen_open: bool,
    seen_closed: bool,
}

/// Faces kept to check identity against: the first and the most recent ones.
const MAX_REFERENCES: usize = 8;

/// An active-liveness session (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveLivenessSession {
    nonce: String,
    config: ActiveConfig,
    challenges: Vec<Challenge>,
    clock: FrameClock,
    current: usize,
    challenge_started_ms: u64,
    status: SessionStatus,
    failure: Option<FailureReason>,
    references: Vec<Embedding>,
    last_box: Option<BoundingBox>,
    blink: BlinkState,
    narrowest_mouth: Option<f32>,
    passive_scores: Vec<f32>,
    frames: usize,
}

impl ActiveLivenessSession {
    /// Starts a session at `now_ms` (the clock frames will be stamped with), drawing the
    /// challenges and nonce from the OS's random source.
    pub fn start(config: ActiveConfig, now_ms: u64) -> Result<ActiveLivenessSession> {
        Self::start_with_rng(config, now_ms, &mut rand::rngs::OsRng)
    }

    /// As [`Self::start`] with a given random source (tests, reproducible demos).
    pub fn start_with_rng(
        config: ActiveConfig,
        now_ms: u64,
        rng: &mut impl RngCore,
    ) -> Result<ActiveLivenessSession> {
        config.validate()?;
        let mut pool = config.pool.clone();
        pool.sort_by_key(|c| *c as u8);
        pool.dedup();
        pool.shuffle(rng);
        pool.truncate(config.count);
        let mut nonce = [0u8; 16];
        rng.fill_bytes(&mut nonce);
        Ok(ActiveLivenessSession {
            nonce: crate::models::hex(&nonce),
            config,
            challenges: pool,
            clock: FrameClock::start(now_ms),
            current: 0,
            challenge_started_ms: now_ms,
            status: SessionStatus::InProgress,
            failure: None,
            references: Vec::new(),
            last_box: None,
            blink: BlinkState::default(),
            narrowest_mouth: None,
            passive_scores: Vec::new(),
            frames: 0,
        })
    }

    /// The token frames of this session must carry.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The challenges asked, in order.
    pub fn challenges(&self) -> &[Challenge] {
        &self.challenges
    }

    /// Where the session stands.
    pub fn status(&self) -> SessionStatus {
        self.status
    }

    /// Why the session failed, once it has.
    pub fn failure(&self) -> Option<FailureReason> {
        self.failure
    }

    /// The instruction to show now (None once finished).
    pub fn instruction(&self) -> Option<LivenessEvent> {
        (self.status == SessionStatus::InProgress)
            .then(|| self.instruction_event())
            .flatten()
    }

    fn instruction_event(&self) -> Option<LivenessEvent> {
        let c = *self.challenges.get(self.current)?;
        Some(LivenessEvent::Instruction {
            index: self.current,
            challenge: c,
            message: c.instruction().to_string(),
        })
    }

    /// A session restored from stored state must be one this library could have written: the
    /// state comes from wherever the caller kept it, so a damaged or forged one is an error,
    /// not an index out of bounds.
    fn check_state(&self) -> Result<()> {
        let fits = !self.challenges.is_empty()
            && (self.current < self.challenges.len()
                || self.current == self.challenges.len()
                    && self.status != SessionStatus::InProgress);
        if !fits {
            return Err(Error::InvalidArgument(format!(
                "liveness session state is inconsistent (challenge {} of {}): it was damaged or not \
                 written by this library; start a new session",
                self.current,
                self.challenges.len()
            )));
        }
        Ok(())
    }

    fn fail(&mut self, reason: FailureReason, events: &mut Vec<LivenessEvent>) {
        self.status = SessionStatus::Failed;
        self.failure = Some(reason);
        events.push(LivenessEvent::Failed {
            reason,
            message: reason.message().to_string(),
        });
    }

    fn passive_mean(&self) -> Option<f32> {
        (!self.passive_scores.is_empty())
            .then(|| self.passive_scores.iter().sum::<f32>() / self.passive_scores.len() as f32)
    }

    /// Feeds one frame stamped `timestamp_ms` and carrying `nonce`.
    pub fn feed(
        &mut self,
        engine: &Engine,
        nonce: &str,
        timestamp_ms: u64,
        image: &Image,
    ) -> Result<ActiveFrameResult> {
        self.check_state()?;
        if self.status != SessionStatus::InProgress {
            return Err(Error::SessionFinished(
                format!("{:?}", self.status).to_lowercase(),
            ));
        }
        let mut events = Vec::new();
        let mut obstacles = Vec::new();
        let mut face_detected = false;
        let (mut pose, mut eyes, mut liveness) = (None, None, None);
        self.step(
            engine,
            nonce,
            timestamp_ms,
            image,
            &mut events,
            &mut obstacles,
            &mut face_detected,
            &mut pose,
            &mut eyes,
            &mut liveness,
        )?;
        let challenge = (self.status == SessionStatus::InProgress)
            .then(|| self.challenges.get(self.current).copied())
            .flatten();
        let message = match (self.status, self.failure) {
            (SessionStatus::Passed, _) => "liveness confirmed".to_string(),
            (_, Some(r)) => r.message().to_string(),
            _ => obstacles
                .first()
                .cloned()
                .or_else(|| challenge.map(|c| c.instruction().to_string()))
                .unwrap_or_default(),
        };
        Ok(ActiveFrameResult {
            status: self.status,
            events,
            face_detected,
            obstacles,
            completed: self.current,
            total: self.challenges.len(),
            challenge,
            instruction: challenge.map(|c| c.instruction().to_string()),
            liveness,
            pose,
            eyes,
            failure: self.failure,
            message,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        engine: &Engine,
        nonce: &str,
        now: u64,
        image: &Image,
        events: &mut Vec<LivenessEvent>,
        obstacles: &mut Vec<String>,
        face_detected: &mut bool,
        pose_out: &mut Option<HeadPose>,
        eyes_out: &mut Option<EyeOpenness>,
        liveness_out: &mut Option<LivenessSummary>,
    ) -> Result<()> {
        if !constant_time_eq(nonce.as_bytes(), self.nonce.as_bytes()) {
            self.fail(FailureReason::NonceMismatch, events);
            return Ok(());
        }
        match self.clock.tick(now, self.config.session_timeout_ms) {
            Err(ClockError::OutOfOrder) => {
                self.fail(FailureReason::FrameOutOfOrder, events);
                return Ok(());
            }
            Err(ClockError::Expired) => {
                self.fail(FailureReason::Timeout, events);
                return Ok(());
            }
            Ok(()) => self.frames += 1,
        }
        if now - self.challenge_started_ms > self.config.challenge_timeout_ms {
            self.fail(FailureReason::ChallengeTimeout, events);
            return Ok(());
        }
        if self.frames == 1 {
            events.extend(self.instruction_event());
        }
        let challenge = self.challenges[self.current];
        let profile = QualityProfile {
            landmarks: true,
            mask: false,
            ..QualityProfile::authentication()
        };
        let obs = observe(engine, image, &profile, self.config.passive)?;
        let obstacle = |o: &str, events: &mut Vec<LivenessEvent>, obstacles: &mut Vec<String>| {
            obstacles.push(o.to_string());
            events.push(LivenessEvent::Progress {
                challenge,
                message: o.replace('_', " "),
                obstacle: Some(o.to_string()),
            });
        };
        let (Some(face), Some(embedding), Some(pose)) = (obs.face, &obs.embedding, obs.pose) else {
            obstacle("no_face", events, obstacles);
            return Ok(());
        };
        *face_detected = true;
        if obs.face_count > 1 {
            // Someone else in view (or a photo held up): the frame is not used.
            obstacle("multiple_faces", events, obstacles);
            return Ok(());
        }
        *pose_out = Some(pose);
        *eyes_out = obs.eyes;

        // One identity: the face must not jump, and must match a face seen before.
        if let Some(last) = self.last_box {
            let (cx, cy) = centre(&face.bbox);
            let (lx, ly) = centre(&last);
            let jump = ((cx - lx).powi(2) + (cy - ly).powi(2)).sqrt();
            if jump > self.config.max_jump * last.width().max(face.bbox.width()) {
                self.fail(FailureReason::IdentityChanged, events);
                return Ok(());
            }
        }
        if !self.references.is_empty() {
            let (t, _) = engine.resolve_threshold(self.config.identity_threshold)?;
            let mut best = f32::MIN;
            for r in &self.references {
                best = best.max(r.similarity(embedding)?);
            }
            if best < t {
                self.fail(FailureReason::IdentityChanged, events);
                return Ok(());
            }
        }
        if self.references.len() >= MAX_REFERENCES {
            self.references.remove(1);
        }
        self.references.push(embedding.clone());
        self.last_box = Some(face.bbox);

        if let Some(l) = &obs.liveness {
            *liveness_out = Some(LivenessSummary::record(&mut self.passive_scores, l));
        }
        if let Some(m) = obs.mouth_ratio {
            self.narrowest_mouth = Some(self.narrowest_mouth.map_or(m, |n| n.min(m)));
        }

        // A clear movement nobody asked for. The previous challenge's movement is allowed
        // (the head is on its way back).
        let previous = self.current.checked_sub(1).map(|i| self.challenges[i]);
        if let Some(moved) = self.movement(&pose, self.config.wrong_action_degrees) {
            if Some(moved) != challenge.movement() && Some(moved) != previous {
                self.fail(FailureReason::WrongAction, events);
                return Ok(());
            }
        }

        let done = match challenge {
            Challenge::Blink => self.blink_step(&pose, obs.eyes, events, challenge),
            Challenge::Smile => match (obs.mouth_ratio, self.narrowest_mouth) {
                (Some(m), Some(n)) => m >= n * self.config.smile_gain,
                _ => false,
            },
            movement => self.movement(&pose, self.movement_threshold(movement)) == Some(movement),
        };
        if done {
            events.push(LivenessEvent::ChallengePassed {
                index: self.current,
                challenge,
            });
            self.current += 1;
            self.challenge_started_ms = now;
            self.blink = BlinkState::default();
            if self.current == self.challenges.len() {
                let mean = self.passive_mean();
                let threshold = engine.config().liveness_threshold;
                if self.config.passive && mean.map_or(true, |m| m < threshold) {
                    self.fail(FailureReason::SpoofDetected, events);
                } else {
                    self.status = SessionStatus::Passed;
                    events.push(LivenessEvent::Passed {
                        passive_score: mean,
                    });
                }
            } else {
                events.extend(self.instruction_event());
            }
        }
        Ok(())
    }

    fn movement_threshold(&self, c: Challenge) -> f32 {
        match c {
            Challenge::LookUp | Challenge::LookDown => self.config.look_degrees,
            _ => self.config.turn_degrees,
        }
    }

    /// The strongest head movement at least `degrees` away from level, if any.
    fn movement(&self, pose: &HeadPose, degrees: f32) -> Option<Challenge> {
        let yaw = (pose.yaw.abs() >= degrees).then_some(if pose.yaw > 0.0 {
            Challenge::TurnLeft
        } else {
            Challenge::TurnRight
        });
        let pitch = (pose.pitch.abs() >= degrees).then_some(if pose.pitch > 0.0 {
            Challenge::LookUp
        } else {
            Challenge::LookDown
        });
        match (yaw, pitch) {
            (Some(y), Some(p)) => Some(if pose.yaw.abs() >= pose.pitch.abs() {
                y
            } else {
                p
            }),
            (y, p) => y.or(p),
        }
    }

    /// Open, then closed, then open again, all while facing the camera.
    fn blink_step(
        &mut self,
        pose: &HeadPose,
        eyes: Option<EyeOpenness>,
        events: &mut Vec<LivenessEvent>,
        challenge: Challenge,
    ) -> bool {
        let Some(eyes) = eyes else { return false };
        let limit = self.config.blink_max_pose;
        if pose.yaw.abs() > limit || pose.pitch.abs() > limit {
            events.push(LivenessEvent::Progress {
                challenge,
                message: "face the camera to blink".into(),
                obstacle: Some("pose".into()),
            });
            return false;
        }
        let e = eyes.min();
        if e >= self.config.eye_open {
            if self.blink.seen_closed {
                return true;
            }
            self.blink.seen_open = true;
        } else if e < self.config.eye_closed && self.blink.seen_open && !self.blink.seen_closed {
            self.blink.seen_closed = true;
            events.push(LivenessEvent::Progress {
                challenge,
                message: "eyes closed, now open them".into(),
                obstacle: None,
            });
        }
        false
    }
}

fn centre(b: &BoundingBox) -> (f32, f32) {
    ((b.x1 + b.x2) / 2.0, (b.y1 + b.y2) / 2.0)
}

/// Compares without leaking where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
