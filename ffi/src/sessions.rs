//! Frame-by-frame sessions: active liveness, enrollment and authentication. Each frame's answer
//! is JSON (the same fields the reference servers send). A session handle is used by one
//! thread at a time; different sessions may run in parallel on one engine.

use crate::engine::{faceprint_engine, faceprint_image};
use crate::handle::{
    borrow, borrow_mut, free, into_raw, json_string, optional_string, string, Out,
};
use crate::status::{faceprint_error, faceprint_status, guard, quiet, FfiResult};
use faceprint_core::session::{AuthenticationConfig, EnrollmentConfig};
use faceprint_core::{
    ActiveConfig, ActiveLivenessSession, AuthenticationSession, Engine, EnrollmentSession, Image,
};
use std::ffi::{c_char, CString};

/// The body every `_feed` shares: check the arguments, feed the frame, answer its JSON.
unsafe fn feed_frame<S, P: serde::Serialize>(
    session: *mut S,
    engine: *const faceprint_engine,
    image: *const faceprint_image,
    answer_json: *mut *mut c_char,
    err: *mut *mut faceprint_error,
    feed: impl FnOnce(&mut S, &Engine, &Image) -> FfiResult<P>,
) -> faceprint_status {
    guard(err, || {
        let s = borrow_mut(session, "session")?;
        let engine = borrow(engine, "engine")?;
        let image = borrow(image, "image")?;
        let out = Out::new(answer_json, "answer_json")?;
        let answer = feed(s, &engine.0, &image.0)?;
        out.write(json_string(&answer)?);
        Ok(())
    })
}

/// An active-liveness (challenge-response) session. One thread at a time.
pub struct faceprint_liveness_session {
    session: ActiveLivenessSession,
    nonce: CString,
}

/// An enrollment session collecting samples frame by frame. One thread at a time.
pub struct faceprint_enrollment_session(EnrollmentSession);

/// A login session matching frame by frame. One thread at a time.
pub struct faceprint_authentication_session(AuthenticationSession);

/// Starts an active-liveness session at `now_ms` (the clock frame timestamps are on).
/// `config_json` (NULL: defaults) e.g. `{"count": 2, "pool": ["blink", "turn_left"]}`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_liveness_session_start(
    config_json: *const c_char,
    now_ms: u64,
    out: *mut *mut faceprint_liveness_session,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let config =
            ActiveConfig::from_json(optional_string(config_json, "config_json")?.unwrap_or(""))?;
        let out = Out::new(out, "out")?;
        let session = ActiveLivenessSession::start(config, now_ms)?;
        let nonce = CString::new(session.nonce()).unwrap_or_default();
        out.write(into_raw(faceprint_liveness_session { session, nonce }));
        Ok(())
    })
}

/// The session's nonce, which every frame must carry; owned by the session ("" for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_liveness_session_nonce(
    session: *const faceprint_liveness_session,
) -> *const c_char {
    quiet(c"".as_ptr(), || {
        session.as_ref().map_or(c"".as_ptr(), |s| s.nonce.as_ptr())
    })
}

/// The challenges asked, in order, as a JSON array of names.
#[no_mangle]
pub unsafe extern "C" fn faceprint_liveness_session_challenges(
    session: *const faceprint_liveness_session,
    challenges_json: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let s = borrow(session, "session")?;
        let out = Out::new(challenges_json, "challenges_json")?;
        out.write(json_string(&s.session.challenges())?);
        Ok(())
    })
}

/// Feeds one frame stamped `timestamp_ms` carrying `nonce`. `*result_json` receives the frame
/// result (status, events, instruction, ...). A finished session answers
/// `FACEPRINT_STATUS_SESSION_FINISHED`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_liveness_session_feed(
    session: *mut faceprint_liveness_session,
    engine: *const faceprint_engine,
    nonce: *const c_char,
    timestamp_ms: u64,
    image: *const faceprint_image,
    result_json: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    feed_frame(
        session,
        engine,
        image,
        result_json,
        err,
        |s, engine, image| {
            let nonce = string(nonce, "nonce")?;
            Ok(s.session.feed(engine, nonce, timestamp_ms, image)?)
        },
    )
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_liveness_session_free(session: *mut faceprint_liveness_session) {
    free(session)
}

/// Starts an enrollment session. `config_json` needs `collection` and `subject`; the rest
/// (`target_samples`, `require_liveness`, `quality`, ...) default.
#[no_mangle]
pub unsafe extern "C" fn faceprint_enrollment_session_start(
    config_json: *const c_char,
    now_ms: u64,
    out: *mut *mut faceprint_enrollment_session,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let config = EnrollmentConfig::from_json(string(config_json, "config_json")?)?;
        let out = Out::new(out, "out")?;
        out.write(into_raw(faceprint_enrollment_session(
            EnrollmentSession::start(config, now_ms)?,
        )));
        Ok(())
    })
}

/// Feeds one frame; `*progress_json` receives the progress. The last sample enrolls the
/// subject (the progress then carries the report).
#[no_mangle]
pub unsafe extern "C" fn faceprint_enrollment_session_feed(
    session: *mut faceprint_enrollment_session,
    engine: *const faceprint_engine,
    timestamp_ms: u64,
    image: *const faceprint_image,
    progress_json: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    feed_frame(
        session,
        engine,
        image,
        progress_json,
        err,
        |s, engine, image| Ok(s.0.feed(engine, timestamp_ms, image)?),
    )
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_enrollment_session_free(
    session: *mut faceprint_enrollment_session,
) {
    free(session)
}

/// Starts an authentication session. `config_json` needs `collection`; `mode` defaults to
/// identify (`{"mode": {"mode": "verify", "subject": "ana"}}` for 1:1).
#[no_mangle]
pub unsafe extern "C" fn faceprint_authentication_session_start(
    config_json: *const c_char,
    now_ms: u64,
    out: *mut *mut faceprint_authentication_session,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let config = AuthenticationConfig::from_json(string(config_json, "config_json")?)?;
        let out = Out::new(out, "out")?;
        out.write(into_raw(faceprint_authentication_session(
            AuthenticationSession::start(config, now_ms)?,
        )));
        Ok(())
    })
}

/// Feeds one frame; `*progress_json` receives the progress (status, subject, score, ...).
#[no_mangle]
pub unsafe extern "C" fn faceprint_authentication_session_feed(
    session: *mut faceprint_authentication_session,
    engine: *const faceprint_engine,
    timestamp_ms: u64,
    image: *const faceprint_image,
    progress_json: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    feed_frame(
        session,
        engine,
        image,
        progress_json,
        err,
        |s, engine, image| Ok(s.0.feed(engine, timestamp_ms, image)?),
    )
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_authentication_session_free(
    session: *mut faceprint_authentication_session,
) {
    free(session)
}
