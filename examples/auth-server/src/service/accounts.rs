//! Accounts: signup (enrolls the face), profile, extra faces, 1:1 check of one's own face,
//! history, and deletion (templates and their key erased).

use super::{principal, Caller};
use crate::repo::users::{self, User};
use crate::state::AppState;
use faceprint::{EnrollOptions, QualityProfile, Threshold};
use faceprint_server::auth::sessions::{self, IssuedTokens};
use faceprint_server::db::DbError;
use faceprint_server::error::{ApiError, ApiResult};
use faceprint_server::events::{Event, EventQuery};
use faceprint_server::face::{check_face, CheckedFace, FaceChecks};
use faceprint_server::upload::UploadedImage;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

pub struct SignupInput {
    pub name: String,
    pub email: String,
    pub photo: UploadedImage,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedUp {
    pub user: User,
    #[serde(flatten)]
    pub tokens: IssuedTokens,
}

/// Trims, NFC-normalises and checks a display name.
pub fn clean_name(name: &str) -> ApiResult<String> {
    let n: String = name.trim().nfc().collect();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "name must be 1 to 100 characters without control characters",
        ));
    }
    Ok(n)
}

/// Lower-cases and checks an email address (shape only: no mail is sent).
pub fn clean_email(email: &str) -> ApiResult<String> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.matches('@').count() == 1;
    if !valid {
        return Err(ApiError::bad_request("email is not a valid address"));
    }
    Ok(e)
}

fn spoof_error() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "liveness_failed",
        "the face did not pass the liveness check; use a live camera, not a photo or a screen",
    )
}

/// Signs up: a pending row (the email is claimed), the face checked and enrolled, the account
/// activated and a session opened. A crash in between leaves a pending row that the next start
/// removes with its templates; an answered signup is on disk in both stores.
pub async fn signup(state: &AppState, caller: &Caller, input: SignupInput) -> ApiResult<SignedUp> {
    let common = state.common().clone();
    let cfg = state.config().clone();
    let name = clean_name(&input.name)?;
    let email = clean_email(&input.email)?;
    let checks = FaceChecks {
        quality: Some(QualityProfile::enrollment()),
        liveness: cfg.signup_requires_liveness,
        single_face: true,
    };
    let bytes = input.photo.bytes.clone();
    let collection = cfg.users_collection.clone();
    let dup = cfg.refuse_duplicate_faces;
    let login_fmr = cfg.login_fmr;
    let (face, duplicate): (CheckedFace, Option<f32>) = common
        .model(move |engine| {
            let face = check_face(engine, &bytes, &checks)?;
            let mut duplicate = None;
            if dup && !face.is_spoof() {
                match engine.identify_embedding(
                    &collection,
                    &face.probe,
                    1,
                    Some(Threshold::Fmr(login_fmr)),
                    None,
                ) {
                    Ok(id) => {
                        duplicate = id.candidates.first().filter(|c| c.matched).map(|c| c.score)
                    }
                    Err(faceprint::Error::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok((face, duplicate))
        })
        .await?;
    if face.is_spoof() {
        common
            .audit(
                caller
                    .event("signup", "refused")
                    .reason("spoof_suspected")
                    .score(face.liveness.as_ref().map(|l| l.score)),
            )
            .await?;
        return Err(spoof_error());
    }
    if duplicate.is_some() {
        common
            .audit(
                caller
                    .event("signup", "refused")
                    .reason("face_already_registered"),
            )
            .await?;
        return Err(ApiError::conflict(
            "face_already_registered",
            "this face already belongs to an account; log in instead",
        ));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let (uid, n, e) = (id.clone(), name.clone(), email.clone());
    if common
        .db(move |c| users::insert_pending(c, &uid, &n, &e))
        .await?
        .is_none()
    {
        return Err(ApiError::conflict(
            "already_exists",
            "an account with this email exists",
        ));
    }
    let (uid, collection) = (id.clone(), cfg.users_collection.clone());
    let embedding = face.probe.embedding.clone();
    let enrolled = common
        .model(move |engine| {
            let options = EnrollOptions {
                actor: Some(principal(&uid)),
                sources: vec!["signup".into()],
                ..EnrollOptions::default()
            };
            engine.enroll_embeddings(&collection, &uid, vec![embedding], &options)
        })
        .await;
    if let Err(err) = enrolled {
        let uid = id.clone();
        let _ = common.db(move |c| users::delete(c, &uid)).await;
        return Err(err);
    }
    let uid = id.clone();
    let ttl = common.settings().tokens.refresh_ttl_secs;
    let client = caller.client.clone();
    let (user, opened) = common
        .db(move |c| {
            users::activate(c, &uid, 1)?;
            let opened = sessions::open(c, &principal(&uid), "user", ttl, &client)?;
            let user = users::get(c, &uid)?.ok_or(DbError::NoRow)?;
            Ok((user, opened))
        })
        .await?;
    let tokens = faceprint_server::auth::flows::issue(&common, &principal(&id), "user", opened)?;
    common
        .audit(
            caller
                .event("signup", "success")
                .actor(principal(&id))
                .target(principal(&id)),
        )
        .await?;
    metrics::counter!("faceprint_signups_total").increment(1);
    common
        .emit(
            "enrollment",
            serde_json::json!({ "user_id": id, "kind": "signup", "outcome": "success" }),
        )
        .await?;
    Ok(SignedUp { user, tokens })
}

/// Removes signups that a crash left half done (row without an enrollment, or an enrollment
/// whose account never became active).
pub async fn clean_up_pending(state: &AppState) -> ApiResult<usize> {
    let common = state.common().clone();
    let stale = common.db(|c| users::stale_pending(c, 15 * 60_000)).await?;
    for id in &stale {
        let (uid, collection) = (id.clone(), state.config().users_collection.clone());
        if let Err(e) = common
            .model(move |e| e.delete_subject(&collection, &uid, Some("cleanup")))
            .await
        {
            if e.code != "not_found" {
                return Err(e);
            }
        }
        let uid = id.clone();
        common.db(move |c| users::delete(c, &uid)).await?;
        tracing::warn!(user = %id, "removed an unfinished signup");
    }
    Ok(stale.len())
}

pub async fn profile(state: &AppState, user_id: &str) -> ApiResult<User> {
    let uid = user_id.to_string();
    state
        .common()
        .db(move |c| users::get(c, &uid))
        .await?
        .filter(|u| u.status == "active")
        .ok_or_else(|| ApiError::unauthorized("account gone or disabled"))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FaceCheck {
    pub matched: bool,
    pub score: f32,
    pub threshold: f32,
    pub fmr: Option<f64>,
    pub liveness_score: Option<f32>,
}

/// 1:1: is this the signed-in user's face?
pub async fn verify_own_face(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    photo: UploadedImage,
) -> ApiResult<FaceCheck> {
    profile(state, user_id).await?;
    let (uid, collection, fmr) = (
        user_id.to_string(),
        state.config().users_collection.clone(),
        state.config().verify_fmr,
    );
    let liveness = state.config().login_requires_liveness;
    let actor = principal(user_id);
    let (face, v) = state
        .common()
        .model(move |engine| {
            let checks = FaceChecks {
                quality: None,
                liveness,
                single_face: false,
            };
            let face = check_face(engine, &photo.bytes, &checks)?;
            let v = engine.verify_embedding(
                &collection,
                &uid,
                &face.probe,
                Some(Threshold::Fmr(fmr)),
                Some(&actor),
            )?;
            Ok((face, v))
        })
        .await?;
    let matched = v.matched && !face.is_spoof();
    let reason = if face.is_spoof() {
        Some("spoof_suspected")
    } else if !v.matched {
        Some("no_match")
    } else {
        None
    };
    let mut e = caller
        .event("verify", if matched { "success" } else { "failure" })
        .actor(principal(user_id))
        .target(principal(user_id))
        .score(Some(v.score));
    if let Some(r) = reason {
        e = e.reason(r);
    }
    state.common().audit(e).await?;
    Ok(FaceCheck {
        matched,
        score: v.score,
        threshold: v.threshold,
        fmr: v.fmr,
        liveness_score: face.liveness.map(|l| l.score),
    })
}

/// Adds a face to the account: it must pass enrollment quality (and liveness when signups
/// need it) and match the account's faces, so nobody adds a second person to an account.
pub async fn add_face(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    photo: UploadedImage,
) -> ApiResult<User> {
    let user = profile(state, user_id).await?;
    if user.faces >= state.config().max_faces_per_user {
        return Err(ApiError::conflict(
            "too_many_faces",
            format!(
                "an account holds at most {} faces",
                state.config().max_faces_per_user
            ),
        ));
    }
    let cfg = state.config().clone();
    let uid = user_id.to_string();
    let (face, v) = state
        .common()
        .model(move |engine| {
            let checks = FaceChecks {
                quality: Some(QualityProfile::enrollment()),
                liveness: cfg.signup_requires_liveness,
                single_face: true,
            };
            let face = check_face(engine, &photo.bytes, &checks)?;
            let v = engine.verify_embedding(
                &cfg.users_collection,
                &uid,
                &face.probe,
                Some(Threshold::Fmr(cfg.verify_fmr)),
                Some(&principal(&uid)),
            )?;
            Ok((face, v))
        })
        .await?;
    if face.is_spoof() {
        return Err(spoof_error());
    }
    if !v.matched {
        state
            .common()
            .audit(
                caller
                    .event("add_face", "refused")
                    .actor(principal(user_id))
                    .target(principal(user_id))
                    .score(Some(v.score))
                    .reason("different_person"),
            )
            .await?;
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "different_person",
            "this face does not match the account's faces",
        ));
    }
    let (uid, collection) = (user_id.to_string(), state.config().users_collection.clone());
    let embedding = face.probe.embedding.clone();
    state
        .common()
        .model(move |engine| {
            let options = EnrollOptions {
                actor: Some(principal(&uid)),
                sources: vec!["added".into()],
                ..EnrollOptions::default()
            };
            engine.enroll_embeddings(&collection, &uid, vec![embedding], &options)
        })
        .await?;
    let uid = user_id.to_string();
    let user = state
        .common()
        .db(move |c| {
            users::add_faces(c, &uid, 1)?;
            users::get(c, &uid)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("account gone"))?;
    state
        .common()
        .audit(
            caller
                .event("add_face", "success")
                .actor(principal(user_id))
                .target(principal(user_id)),
        )
        .await?;
    state
        .common()
        .emit(
            "enrollment",
            serde_json::json!({ "user_id": user_id, "kind": "add_face", "outcome": "success" }),
        )
        .await?;
    Ok(user)
}

/// Deletes the account: templates and their data key first (a crash after leaves an account
/// without a face that a second delete finishes), then the row and its sessions.
pub async fn delete_account(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    actor: &str,
) -> ApiResult<()> {
    let (uid, collection, who) = (
        user_id.to_string(),
        state.config().users_collection.clone(),
        actor.to_string(),
    );
    match state
        .common()
        .model(move |e| e.delete_subject(&collection, &uid, Some(&who)))
        .await
    {
        Ok(()) => {}
        Err(e) if e.code == "not_found" => {}
        Err(e) => return Err(e),
    }
    let uid = user_id.to_string();
    let existed = state.common().db(move |c| users::delete(c, &uid)).await?;
    if !existed {
        return Err(ApiError::not_found("no such account"));
    }
    state
        .common()
        .audit(
            caller
                .event("delete_account", "success")
                .actor(actor)
                .target(principal(user_id)),
        )
        .await?;
    Ok(())
}

/// The account's own authentication history (logins, refreshes, verifications…).
pub async fn history(
    state: &AppState,
    user_id: &str,
    before_id: Option<i64>,
    limit: Option<u32>,
) -> ApiResult<Vec<Event>> {
    let q = EventQuery {
        target: Some(principal(user_id)),
        before_id,
        limit,
        ..EventQuery::default()
    };
    state
        .common()
        .db(move |c| faceprint_server::events::query(c, &q))
        .await
}
