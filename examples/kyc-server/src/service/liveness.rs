//! The selfie step by challenges: an active-liveness session (blink, turn…) whose frames come
//! over REST or the WebSocket (`faceprint_server::frames`). When the challenges pass, the
//! session's most frontal frame is the selfie and the case is decided as with a passive one. A
//! session that fails on a spoof decides the case (`spoof_suspected`); any other failure (time
//! out, a move not asked for, another face) leaves the step open for another session. A
//! finished session is deleted: the selfie it kept is sealed with the case.

use super::verifications::{self, LivenessEvidence, Verification};
use crate::state::AppState;
use faceprint::liveness::{FailureReason, LivenessEvent, SessionStatus};
use faceprint::ActiveLivenessSession;
use faceprint_server::auth::AuthUser;
use faceprint_server::caller::Caller;
use faceprint_server::db::now_ms;
use faceprint_server::error::{ApiError, ApiResult};
use faceprint_server::frames::{self, Fed, FrameSession, FrameUpdate, Slot};
use serde_json::{json, Value};

/// What the sessions of this server are for.
const PURPOSE: &str = "kyc_selfie";

/// How long a session may stay open (the challenges have their own, shorter, deadlines; this
/// bounds a resumed one).
const SESSION_TTL_MS: i64 = 10 * 60 * 1000;

/// Starts a challenge session for the user's open case whose document is in.
pub async fn start(
    state: &AppState,
    caller: &Caller,
    user: &AuthUser,
    id: &str,
) -> ApiResult<FrameSession> {
    let r = verifications::own_open(state, user, id).await?;
    verifications::document_done(state, &r)?;
    // Frames are stamped with the wall clock, whatever clock the server decides by.
    let active =
        ActiveLivenessSession::start(state.config().liveness.challenges.clone(), now_ms() as u64)?;
    let s = FrameSession::challenges(
        PURPOSE,
        Some(user.principal.clone()),
        json!({ "verification_id": id }),
        active,
        SESSION_TTL_MS,
    );
    frames::save(state.common(), &s).await?;
    state
        .common()
        .audit(caller.done(
            "liveness_session_started",
            &user.principal,
            verifications::target(id),
        ))
        .await?;
    Ok(s)
}

/// Feeds a frame; when the session ends, decides the case (or leaves the step open). The
/// answer is the client's message: `liveness_instruction` while challenges remain,
/// `liveness_result` at the end (with the case as it then stands), or `frame_dropped`.
pub async fn process_frame(
    state: &AppState,
    caller: &Caller,
    session_id: &str,
    frame: bytes::Bytes,
    timestamp_ms: Option<u64>,
    slot: Slot,
) -> ApiResult<Value> {
    state.common().upload_rules().check("frame", &frame)?;
    match frames::feed(state.common(), session_id, frame, timestamp_ms, slot).await? {
        Fed::Dropped { frames_dropped } => Ok(json!({
            "type": "frame_dropped", "session_id": session_id, "frames_dropped": frames_dropped
        })),
        Fed::Processed(session, update) => {
            let mut msg = serde_json::to_value(&update).map_err(ApiError::internal)?;
            msg["session_id"] = session_id.into();
            msg["type"] = "liveness_instruction".into();
            if session.finished {
                msg["type"] = "liveness_result".into();
                if let FrameUpdate::Active(result) = &update {
                    let case = finish(state, caller, &session, result).await?;
                    msg["verification"] = serde_json::to_value(case).map_err(ApiError::internal)?;
                }
                // Its frames are in the case now, or of no more use: the session goes.
                frames::delete(state.common(), session_id).await?;
            }
            Ok(msg)
        }
    }
}

/// Ends a session early.
pub async fn cancel(state: &AppState, session_id: &str) -> ApiResult<FrameSession> {
    frames::cancel(state.common(), session_id).await
}

/// Decides the case of a finished session, or audits why the step stays open. The case as it
/// stands, or None when it was decided meanwhile (by a passive selfie) or is gone.
async fn finish(
    state: &AppState,
    caller: &Caller,
    s: &FrameSession,
    last: &faceprint::liveness::ActiveFrameResult,
) -> ApiResult<Option<Verification>> {
    let (Some(id), Some(owner)) = (s.data["verification_id"].as_str(), s.owner.as_deref()) else {
        return Err(ApiError::internal("a liveness session without its case"));
    };
    if s.purpose != PURPOSE {
        return Err(ApiError::internal("not a KYC liveness session"));
    }
    let Some(case) = verifications::open_case(state, id).await? else {
        return Ok(None);
    };
    let evidence = match last.status {
        SessionStatus::Passed => LivenessEvidence::Challenges {
            passed: true,
            score: last.events.iter().find_map(|e| match e {
                LivenessEvent::Passed { passive_score } => *passive_score,
                _ => None,
            }),
        },
        _ if last.failure == Some(FailureReason::SpoofDetected) => LivenessEvidence::Challenges {
            passed: false,
            score: last.liveness.as_ref().map(|l| l.session_mean),
        },
        _ => {
            let reason = last
                .failure
                .map(|f| serde_json::to_value(f).ok())
                .and_then(|v| v.and_then(|v| v.as_str().map(str::to_string)))
                .unwrap_or_else(|| "cancelled".into());
            state
                .common()
                .audit(
                    caller
                        .event("liveness", "failure")
                        .actor(owner)
                        .target(verifications::target(id))
                        .reason(format!("challenges: {reason}")),
                )
                .await?;
            return Ok(Some(verifications::view_of(state, id).await?));
        }
    };
    let selfie = s.kept_selfie().map(bytes::Bytes::copy_from_slice);
    verifications::decide_selfie(state, caller, owner, case, selfie, evidence)
        .await
        .map(Some)
}
