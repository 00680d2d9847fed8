//! Frame sessions: the library's `EnrollmentSession` and `AuthenticationSession` (optionally
//! preceded by active-liveness challenges), or challenges alone keeping the most frontal frame
//! as a selfie, driven one camera frame at a time over REST or WebSocket ([`socket`]). State lives in the server database, sealed under the master key, and is saved
//! after every frame, so a restarted server resumes open sessions. One frame per session is
//! processed at a time: a frame that arrives while another is processed, or when every model
//! slot is busy (WebSocket), is dropped and counted, never queued.

pub mod socket;

use crate::db::prelude::*;
use crate::error::{ApiError, ApiResult};
use crate::state::Common;
use faceprint::liveness::{ActiveConfig, ActiveFrameResult, SessionStatus};
use faceprint::session::{
    AuthStatus, AuthenticationProgress, EnrollmentProgress, EnrollmentStatus,
};
use faceprint::{ActiveLivenessSession, AuthenticationSession, EnrollmentSession};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the frames are fed to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stage {
    Enrollment(EnrollmentSession),
    Authentication(AuthenticationSession),
    /// Nothing after the challenges: the session ends when they pass or fail.
    Liveness(SelfieCapture),
}

/// What a challenges-only session keeps: the frame where the face was most frontal with open
/// eyes — a selfie taken during the challenges, so the face compared later is the one that
/// performed them (every frame of a session must show the same face).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SelfieCapture {
    /// The frame as the client sent it.
    #[serde(default, with = "base64_bytes")]
    pub frame: Option<Vec<u8>>,
    /// Its head turn away from the camera: |yaw| + |pitch| in degrees.
    pub turn_degrees: Option<f32>,
}

impl SelfieCapture {
    /// Keeps `frame` if its face is more frontal than the one kept, eyes open.
    fn offer(&mut self, r: &ActiveFrameResult, frame: &[u8]) {
        if !r.face_detected || !r.obstacles.is_empty() || r.status == SessionStatus::Failed {
            return;
        }
        // Eyes not measured (no iris model) do not disqualify a frame.
        let eyes_open = r
            .eyes
            .as_ref()
            .map_or(true, |e| e.min() >= ActiveConfig::default().eye_open);
        let Some(turn) = r.pose.as_ref().map(|p| p.yaw.abs() + p.pitch.abs()) else {
            return;
        };
        if eyes_open && self.turn_degrees.map_or(true, |best| turn < best) {
            self.frame = Some(frame.to_vec());
            self.turn_degrees = Some(turn);
        }
    }
}

mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| {
                base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}

/// A frame session as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameSession {
    pub id: String,
    /// The server's flow (`signup`, `login`…): what to do when the stage finishes.
    pub purpose: String,
    /// The principal that started it, when it was started signed in.
    pub owner: Option<String>,
    /// The flow's own data (the pending user's id…).
    pub data: Value,
    /// Active-liveness challenges that must pass before the stage sees any frame.
    pub active: Option<ActiveLivenessSession>,
    pub stage: Stage,
    pub frames: u64,
    pub last_timestamp_ms: u64,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub finished: bool,
}

/// The answer to one frame.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum FrameUpdate {
    Active(Box<ActiveFrameResult>),
    Enrollment(Box<EnrollmentProgress>),
    Authentication(Box<AuthenticationProgress>),
}

impl FrameUpdate {
    /// The WebSocket message type of this update.
    pub fn message_type(&self) -> &'static str {
        match self {
            FrameUpdate::Active(_) => "liveness_instruction",
            FrameUpdate::Enrollment(p) if p.status == EnrollmentStatus::Completed => {
                "enrollment_complete"
            }
            FrameUpdate::Enrollment(_) => "enrollment_progress",
            FrameUpdate::Authentication(p) if p.status != AuthStatus::InProgress => {
                "authentication_result"
            }
            FrameUpdate::Authentication(_) => "liveness_instruction",
        }
    }
}

/// The state of a session as its client sees it (`GET`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionStatusView {
    pub session_id: String,
    pub purpose: String,
    /// `active_liveness`, `enrollment` or `authentication`.
    pub stage: &'static str,
    /// `in_progress`, `completed`, `authenticated`, `rejected`, `passed` (challenges only),
    /// `failed` or `cancelled`.
    pub status: String,
    pub frames: u64,
    pub frames_dropped: u64,
    pub expires_ms: i64,
    /// The current active-liveness instruction, if any.
    pub instruction: Option<String>,
}

impl FrameSession {
    pub fn new(
        purpose: &str,
        owner: Option<String>,
        data: Value,
        active: Option<ActiveLivenessSession>,
        stage: Stage,
        ttl_ms: i64,
    ) -> FrameSession {
        let now = now_ms();
        FrameSession {
            id: uuid::Uuid::new_v4().to_string(),
            purpose: purpose.into(),
            owner,
            data,
            active,
            stage,
            frames: 0,
            last_timestamp_ms: 0,
            created_ms: now,
            expires_ms: now + ttl_ms,
            finished: false,
        }
    }

    /// A session of active-liveness challenges alone, keeping a selfie (see [`SelfieCapture`]).
    pub fn challenges(
        purpose: &str,
        owner: Option<String>,
        data: Value,
        active: ActiveLivenessSession,
        ttl_ms: i64,
    ) -> FrameSession {
        let stage = Stage::Liveness(SelfieCapture::default());
        FrameSession::new(purpose, owner, data, Some(active), stage, ttl_ms)
    }

    fn in_active_stage(&self) -> bool {
        self.active
            .as_ref()
            .is_some_and(|a| a.status() != SessionStatus::Passed)
            || matches!(self.stage, Stage::Liveness(_))
    }

    /// The selfie a challenges-only session kept so far (whether or not its challenges
    /// passed: see `active`).
    pub fn kept_selfie(&self) -> Option<&[u8]> {
        match &self.stage {
            Stage::Liveness(c) => c.frame.as_deref(),
            _ => None,
        }
    }

    pub fn view(&self, frames_dropped: u64) -> SessionStatusView {
        let (stage, status) = if self.in_active_stage() {
            let a = self.active.as_ref().map(|a| a.status());
            (
                "active_liveness",
                if a == Some(SessionStatus::Failed) {
                    "failed".to_string()
                } else if a == Some(SessionStatus::Passed) {
                    "passed".to_string()
                } else {
                    "in_progress".to_string()
                },
            )
        } else {
            match &self.stage {
                Stage::Enrollment(e) => ("enrollment", snake(&e.status())),
                Stage::Authentication(a) => ("authentication", snake(&a.status())),
                Stage::Liveness(_) => ("active_liveness", "passed".to_string()),
            }
        };
        let status = if status == "collecting" {
            "in_progress".to_string()
        } else {
            status
        };
        let status = if self.finished && status == "in_progress" {
            "cancelled".to_string()
        } else {
            status
        };
        SessionStatusView {
            session_id: self.id.clone(),
            purpose: self.purpose.clone(),
            stage,
            status,
            frames: self.frames,
            frames_dropped,
            expires_ms: self.expires_ms,
            instruction: self
                .active
                .as_ref()
                .filter(|_| self.in_active_stage())
                .and_then(|a| a.instruction())
                .map(|e| match e {
                    faceprint::liveness::LivenessEvent::Instruction { message, .. } => message,
                    other => format!("{other:?}"),
                }),
        }
    }

    /// Feeds one decoded frame (blocking: run it on the model gate); `frame` is what the
    /// client sent, kept when the session keeps a selfie.
    fn feed(
        &mut self,
        engine: &faceprint::Engine,
        timestamp_ms: u64,
        image: &faceprint::Image,
        frame: &[u8],
    ) -> faceprint::Result<FrameUpdate> {
        self.frames += 1;
        self.last_timestamp_ms = timestamp_ms;
        if let Some(active) = self
            .active
            .as_mut()
            .filter(|a| a.status() != SessionStatus::Passed)
        {
            let nonce = active.nonce().to_string();
            let r = active.feed(engine, &nonce, timestamp_ms, image)?;
            if let Stage::Liveness(capture) = &mut self.stage {
                capture.offer(&r, frame);
                self.finished = r.status != SessionStatus::InProgress;
            }
            if r.status == SessionStatus::Failed {
                self.finished = true;
            }
            return Ok(FrameUpdate::Active(Box::new(r)));
        }
        Ok(match &mut self.stage {
            Stage::Enrollment(e) => {
                let p = e.feed(engine, timestamp_ms, image)?;
                self.finished = p.status != EnrollmentStatus::Collecting;
                FrameUpdate::Enrollment(Box::new(p))
            }
            Stage::Authentication(a) => {
                let p = a.feed(engine, timestamp_ms, image)?;
                self.finished = p.status != AuthStatus::InProgress;
                FrameUpdate::Authentication(Box::new(p))
            }
            Stage::Liveness(_) => {
                return Err(faceprint::Error::SessionFinished("passed".into()));
            }
        })
    }
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn seal(common: &Common, s: &FrameSession) -> ApiResult<Vec<u8>> {
    let json = zeroize::Zeroizing::new(serde_json::to_vec(s).map_err(ApiError::internal)?);
    common
        .master_key()
        .seal_blob(&json, &["frame_session", &s.id])
        .map_err(ApiError::from)
}

/// Saves a new or changed session.
pub async fn save(common: &Common, s: &FrameSession) -> ApiResult<()> {
    let blob = seal(common, s)?;
    let (id, purpose, owner, finished, created, expires) = (
        s.id.clone(),
        s.purpose.clone(),
        s.owner.clone(),
        s.finished,
        s.created_ms,
        s.expires_ms,
    );
    common
        .db(move |c| {
            c.execute(
                "INSERT INTO frame_sessions (id, purpose, owner, state, finished, created_ms, updated_ms, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(id) DO UPDATE SET state = excluded.state, finished = excluded.finished, updated_ms = excluded.updated_ms",
                args![id, purpose, owner, blob, finished as i64, created, now_ms(), expires],
            )?;
            Ok(())
        })
        .await
}

/// Loads a session and its dropped-frame count; an unknown or expired one is `not_found`.
pub async fn load(common: &Common, id: &str) -> ApiResult<(FrameSession, u64)> {
    let i = id.to_string();
    let row: Option<(Vec<u8>, i64, i64)> = common
        .db(move |c| {
            c.query_row(
                "SELECT state, frames_dropped, expires_ms FROM frame_sessions WHERE id = ?1",
                args![i],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
        })
        .await?;
    let Some((blob, dropped, expires)) = row else {
        return Err(ApiError::not_found("no such frame session"));
    };
    if expires < now_ms() {
        return Err(ApiError::not_found(
            "the frame session has expired; start a new one",
        ));
    }
    let json = common
        .master_key()
        .open_blob(&blob, &["frame_session", id])?;
    let s: FrameSession = serde_json::from_slice(&json)
        .map_err(|e| ApiError::internal(format!("frame session state: {e}")))?;
    Ok((s, dropped as u64))
}

/// Counts a dropped frame.
pub async fn count_drop(common: &Common, id: &str) -> ApiResult<()> {
    metrics::counter!("faceprint_frames_dropped_total").increment(1);
    let i = id.to_string();
    common
        .db(move |c| {
            c.execute(
                "UPDATE frame_sessions SET frames_dropped = frames_dropped + 1 WHERE id = ?1",
                args![i],
            )
            .map(|_| ())
        })
        .await
}

/// Whether to wait for a model slot (REST: up to the queue wait, then 503) or take one only
/// if free (WebSocket: drop the frame otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Wait,
    IfFree,
}

/// What became of a frame.
pub enum Fed {
    Processed(Box<FrameSession>, FrameUpdate),
    /// Another frame of the session was in flight, or no model slot was free.
    Dropped {
        frames_dropped: u64,
    },
}

/// Feeds one frame (`bytes`, checked by the upload rules) to session `id`, saves the new
/// state, and answers the update. `timestamp_ms` defaults to the server clock.
pub async fn feed(
    common: &Common,
    id: &str,
    bytes: bytes::Bytes,
    timestamp_ms: Option<u64>,
    slot: Slot,
) -> ApiResult<Fed> {
    if !common.try_begin(id) {
        count_drop(common, id).await?;
        let (_, dropped) = load(common, id).await?;
        return Ok(Fed::Dropped {
            frames_dropped: dropped,
        });
    }
    let out = feed_locked(common, id, bytes, timestamp_ms, slot).await;
    common.end(id);
    out
}

async fn feed_locked(
    common: &Common,
    id: &str,
    bytes: bytes::Bytes,
    timestamp_ms: Option<u64>,
    slot: Slot,
) -> ApiResult<Fed> {
    let (mut session, dropped) = load(common, id).await?;
    if session.finished {
        return Err(ApiError::from(faceprint::Error::SessionFinished(
            session.view(dropped).status,
        )));
    }
    let ts = timestamp_ms.unwrap_or_else(|| (now_ms() as u64).max(session.last_timestamp_ms + 1));
    let work = move |engine: &faceprint::Engine| -> faceprint::Result<(FrameSession, FrameUpdate)> {
        let image = engine.decode(&bytes)?;
        let update = session.feed(engine, ts, &image, &bytes)?;
        Ok((session, update))
    };
    let result = match slot {
        Slot::Wait => common.model(work).await?,
        Slot::IfFree => {
            let engine = common.engine().clone();
            match common.model_gate().run_now(move || work(&engine)).await {
                Some(r) => r?.map_err(ApiError::from)?,
                None => {
                    count_drop(common, id).await?;
                    return Ok(Fed::Dropped {
                        frames_dropped: dropped + 1,
                    });
                }
            }
        }
    };
    let (session, update) = result;
    save(common, &session).await?;
    Ok(Fed::Processed(Box::new(session), update))
}

/// Ends a session early.
pub async fn cancel(common: &Common, id: &str) -> ApiResult<FrameSession> {
    let (mut s, _) = load(common, id).await?;
    s.finished = true;
    save(common, &s).await?;
    Ok(s)
}

/// Removes a session and its state (a flow done with it).
pub async fn delete(common: &Common, id: &str) -> ApiResult<()> {
    let i = id.to_string();
    common
        .db(move |c| {
            c.execute("DELETE FROM frame_sessions WHERE id = ?1", args![i])
                .map(|_| ())
        })
        .await
}

/// Removes every session `owner` started (erasing a user), inside the caller's transaction.
pub fn delete_of_owner(c: &mut Sql<'_>, owner: &str) -> DbResult<usize> {
    c.execute("DELETE FROM frame_sessions WHERE owner = ?1", args![owner])
        .map(|n| n as usize)
}

/// Removes sessions that expired more than an hour ago (their state included).
pub async fn purge_expired(common: &Common) -> ApiResult<usize> {
    common
        .db(|c| {
            c.execute(
                "DELETE FROM frame_sessions WHERE expires_ms < ?1",
                args![now_ms() - 3_600_000],
            )
            .map(|n| n as usize)
        })
        .await
}
