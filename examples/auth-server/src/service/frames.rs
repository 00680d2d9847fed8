//! Signup and login from camera frames (REST or WebSocket): a pending account and an
//! enrollment session, or an authentication session (after active-liveness challenges when
//! configured). What to do when a session finishes — activate the account and issue tokens,
//! or refuse — is decided here; the frame plumbing is `faceprint_server::frames`.

use super::{accounts, principal, Caller};
use crate::repo::users;
use crate::state::AppState;
use faceprint::session::{AuthStatus, EnrollmentStatus};
use faceprint::{
    ActiveConfig, ActiveLivenessSession, AuthMode, AuthenticationConfig, AuthenticationSession,
    EnrollmentConfig, EnrollmentSession, Threshold,
};
use faceprint_server::auth::flows;
use faceprint_server::db::now_ms;
use faceprint_server::error::{ApiError, ApiResult};
use faceprint_server::frames::{self, Fed, FrameSession, FrameUpdate, Slot, Stage};
use serde_json::{json, Value};

/// How long a frame session may stay open (the library sessions have their own, shorter,
/// deadlines; this bounds a resumed one).
const SESSION_TTL_MS: i64 = 10 * 60 * 1000;

/// Starts a camera signup: the email is claimed by a pending account that the enrollment
/// completes (or that is removed when it fails).
pub async fn start_signup(
    state: &AppState,
    caller: &Caller,
    name: &str,
    email: &str,
) -> ApiResult<FrameSession> {
    let name = accounts::clean_name(name)?;
    let email = accounts::clean_email(email)?;
    let id = uuid::Uuid::new_v4().to_string();
    let (uid, n, e) = (id.clone(), name.clone(), email.clone());
    if state
        .common()
        .db(move |c| users::insert_pending(c, &uid, &n, &e))
        .await?
        .is_none()
    {
        return Err(ApiError::conflict(
            "already_exists",
            "an account with this email exists",
        ));
    }
    let cfg = state.config();
    let mut ec = EnrollmentConfig::new(cfg.users_collection.clone(), id.clone());
    ec.require_liveness = cfg.signup_requires_liveness;
    ec.target_samples = cfg.signup_samples.max(1);
    ec.actor = Some(principal(&id));
    let session = EnrollmentSession::start(ec, now_ms() as u64)?;
    let s = FrameSession::new(
        "signup",
        None,
        json!({ "user_id": id }),
        None,
        Stage::Enrollment(session),
        SESSION_TTL_MS,
    );
    frames::save(state.common(), &s).await?;
    state
        .common()
        .audit(
            caller
                .event("signup_session", "started")
                .target(principal(&id)),
        )
        .await?;
    Ok(s)
}

/// Starts a camera login (1:N, or 1:1 with an email; an unknown email runs the same session
/// and is refused at its end like a wrong face).
pub async fn start_login(state: &AppState, email: Option<&str>) -> ApiResult<FrameSession> {
    let cfg = state.config().clone();
    let claimed = super::login::claimed_account(state, email).await?;
    let mode = match &claimed {
        Some(Some(id)) => AuthMode::Verify {
            subject: id.clone(),
        },
        _ => AuthMode::Identify,
    };
    let mut ac = AuthenticationConfig::new(cfg.users_collection.clone(), mode);
    ac.require_liveness = cfg.login_requires_liveness;
    ac.threshold = Threshold::Fmr(if claimed.is_some() {
        cfg.verify_fmr
    } else {
        cfg.login_fmr
    });
    let now = now_ms() as u64;
    let active = if cfg.login_active_challenges > 0 {
        let config = ActiveConfig {
            count: cfg.login_active_challenges,
            ..ActiveConfig::default()
        };
        Some(ActiveLivenessSession::start(config, now)?)
    } else {
        None
    };
    let session = AuthenticationSession::start(ac, now)?;
    let s = FrameSession::new(
        "login",
        None,
        json!({ "unknown_email": matches!(claimed, Some(None)) }),
        active,
        Stage::Authentication(session),
        SESSION_TTL_MS,
    );
    frames::save(state.common(), &s).await?;
    Ok(s)
}

/// Feeds a frame and, when the session finishes, completes its flow. The answer is the
/// message the client gets (`type` is the WebSocket message type; REST returns it as is).
pub async fn process_frame(
    state: &AppState,
    caller: &Caller,
    id: &str,
    frame: bytes::Bytes,
    timestamp_ms: Option<u64>,
    slot: Slot,
) -> ApiResult<Value> {
    state.common().upload_rules().check("frame", &frame)?;
    match frames::feed(state.common(), id, frame, timestamp_ms, slot).await? {
        Fed::Dropped { frames_dropped } => Ok(
            json!({ "type": "frame_dropped", "session_id": id, "frames_dropped": frames_dropped }),
        ),
        Fed::Processed(session, update) => {
            let mut msg = serde_json::to_value(&update).map_err(ApiError::internal)?;
            msg["type"] = update.message_type().into();
            msg["session_id"] = id.into();
            if session.finished {
                finish(state, caller, &session, &update, &mut msg).await?;
            }
            Ok(msg)
        }
    }
}

/// Completes a finished session: tokens for a signup or login that succeeded, clean-up and an
/// audit event otherwise.
async fn finish(
    state: &AppState,
    caller: &Caller,
    s: &FrameSession,
    update: &FrameUpdate,
    msg: &mut Value,
) -> ApiResult<()> {
    let common = state.common();
    match (s.purpose.as_str(), update) {
        ("signup", FrameUpdate::Enrollment(p)) => {
            let uid = s.data["user_id"].as_str().unwrap_or_default().to_string();
            if p.status != EnrollmentStatus::Completed {
                let u = uid.clone();
                common.db(move |c| users::delete(c, &u)).await?;
                common
                    .audit(
                        caller
                            .event("signup", "failure")
                            .target(principal(&uid))
                            .reason("enrollment_failed"),
                    )
                    .await?;
                return Ok(());
            }
            let report = p
                .enrollment
                .as_ref()
                .ok_or_else(|| ApiError::internal("completed enrollment without a report"))?;
            if state.config().refuse_duplicate_faces && !report.warnings.is_empty() {
                // The face already belongs to an account: undo the enrollment.
                let (u, col) = (uid.clone(), state.config().users_collection.clone());
                common
                    .model(move |e| e.delete_subject(&col, &u, Some("signup")))
                    .await?;
                let u = uid.clone();
                common.db(move |c| users::delete(c, &u)).await?;
                common
                    .audit(
                        caller
                            .event("signup", "refused")
                            .target(principal(&uid))
                            .reason("face_already_registered"),
                    )
                    .await?;
                *msg = json!({ "type": "error", "session_id": s.id, "error": "face_already_registered", "message": "this face already belongs to an account; log in instead" });
                return Ok(());
            }
            let (u, faces, client) = (
                uid.clone(),
                report.template_ids.len() as u32,
                caller.client.clone(),
            );
            common.db(move |c| users::activate(c, &u, faces)).await?;
            let tokens = flows::open_session(common, &principal(&uid), "user", &client).await?;
            let u = uid.clone();
            let user = common.db(move |c| users::get(c, &u)).await?;
            msg["tokens"] = serde_json::to_value(&tokens).map_err(ApiError::internal)?;
            msg["user"] = serde_json::to_value(&user).map_err(ApiError::internal)?;
            // The report's template ids and warnings stay on the server.
            if let Some(obj) = msg.as_object_mut() {
                obj.remove("enrollment");
            }
            common
                .audit(
                    caller
                        .event("signup", "success")
                        .actor(principal(&uid))
                        .target(principal(&uid)),
                )
                .await?;
            common
                .emit(
                    "enrollment",
                    json!({ "user_id": uid, "kind": "signup_frames", "outcome": "success" }),
                )
                .await?;
        }
        ("login", FrameUpdate::Authentication(p)) => {
            let unknown_email = s.data["unknown_email"].as_bool().unwrap_or(false);
            let matched = p.status == AuthStatus::Authenticated && !unknown_email;
            let uid = p.subject.clone().filter(|_| matched);
            let user = match &uid {
                Some(u) => {
                    let u = u.clone();
                    common
                        .db(move |c| users::get(c, &u))
                        .await?
                        .filter(|u| u.status == "active")
                }
                None => None,
            };
            let Some(user) = user else {
                let reason = match p.status {
                    AuthStatus::Failed if p.obstacles.iter().any(|o| o == "spoof_suspected") => {
                        "spoof_suspected"
                    }
                    AuthStatus::Failed => "session_failed",
                    _ if matched => "account_inactive",
                    _ => "no_match",
                };
                msg["status"] = if p.status == AuthStatus::Authenticated {
                    "rejected".into()
                } else {
                    msg["status"].clone()
                };
                msg["subject"] = Value::Null;
                common
                    .audit(
                        caller
                            .event("login", "failure")
                            .reason(reason)
                            .score(p.score),
                    )
                    .await?;
                common
                    .emit(
                        "authentication",
                        json!({ "outcome": "failure", "reason": reason, "channel": "frames" }),
                    )
                    .await?;
                return Ok(());
            };
            let tokens =
                flows::open_session(common, &principal(&user.id), "user", &caller.client).await?;
            let u = user.id.clone();
            common.db(move |c| users::touch_login(c, &u)).await?;
            msg["tokens"] = serde_json::to_value(&tokens).map_err(ApiError::internal)?;
            msg["subject"] = Value::Null;
            msg["user"] = serde_json::to_value(&user).map_err(ApiError::internal)?;
            common
                .audit(
                    caller
                        .event("login", "success")
                        .actor(principal(&user.id))
                        .target(principal(&user.id))
                        .score(p.score),
                )
                .await?;
            common.emit("authentication", json!({ "user_id": user.id, "outcome": "success", "score": p.score, "channel": "frames" })).await?;
            metrics::counter!("faceprint_logins_total", "outcome" => "success").increment(1);
        }
        ("login", FrameUpdate::Active(r)) => {
            common
                .audit(
                    caller.event("login", "failure").reason(
                        r.failure
                            .map(|f| format!("{f:?}").to_lowercase())
                            .unwrap_or_else(|| "active_liveness_failed".into()),
                    ),
                )
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Cancels a session; a cancelled signup releases its email.
pub async fn cancel(state: &AppState, id: &str) -> ApiResult<FrameSession> {
    let s = frames::cancel(state.common(), id).await?;
    if s.purpose == "signup" {
        if let Some(uid) = s.data["user_id"].as_str().map(str::to_string) {
            let u = uid.clone();
            let pending = state
                .common()
                .db(move |c| users::get(c, &u))
                .await?
                .is_some_and(|u| u.status == "pending");
            if pending {
                state.common().db(move |c| users::delete(c, &uid)).await?;
            }
        }
    }
    Ok(s)
}
