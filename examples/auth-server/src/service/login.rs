//! Login by face (1:N over every user, or 1:1 when an email is given), with passive liveness
//! required by default. Unknown email, wrong face and disabled account get one answer after
//! the same model work, so the answer and its timing tell nothing about who has an account.

use super::{principal, Caller};
use crate::repo::users;
use crate::state::AppState;
use faceprint::{QualityProfile, Threshold};
use faceprint_server::auth::flows;
use faceprint_server::auth::sessions::IssuedTokens;
use faceprint_server::error::{ApiError, ApiResult};
use faceprint_server::face::{check_face, FaceChecks};
use faceprint_server::upload::UploadedImage;

pub struct LoginInput {
    pub photo: UploadedImage,
    pub email: Option<String>,
}

/// The account an email claims: `None` without an email, `Some(None)` for an unknown one
/// (which the caller must refuse only after the same model work as a wrong face).
pub async fn claimed_account(
    state: &AppState,
    email: Option<&str>,
) -> ApiResult<Option<Option<String>>> {
    let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let email = email.to_lowercase();
    let id = state
        .common()
        .db(move |c| users::find_by_email(c, &email))
        .await?
        .map(|u| u.id);
    Ok(Some(id))
}

pub async fn login_by_face(
    state: &AppState,
    caller: &Caller,
    input: LoginInput,
) -> ApiResult<IssuedTokens> {
    let common = state.common().clone();
    let cfg = state.config().clone();
    // 1:1 when an email is given; an unknown email still runs the same model work.
    let claimed = claimed_account(state, input.email.as_deref()).await?;
    let bytes = input.photo.bytes.clone();
    let claimed_id = claimed.clone().flatten();
    let (face, best) = common
        .model(move |engine| {
            let checks = FaceChecks {
                quality: Some(QualityProfile::authentication()),
                liveness: cfg.login_requires_liveness,
                single_face: true,
            };
            let face = check_face(engine, &bytes, &checks)?;
            let threshold = Some(Threshold::Fmr(if claimed.is_some() {
                cfg.verify_fmr
            } else {
                cfg.login_fmr
            }));
            let best = match &claimed_id {
                Some(id) => match engine.verify_embedding(
                    &cfg.users_collection,
                    id,
                    &face.probe,
                    threshold,
                    None,
                ) {
                    Ok(v) => Some((v.subject, v.score, v.matched)),
                    Err(faceprint::Error::NotFound(_) | faceprint::Error::SubjectDisabled(_)) => {
                        None
                    }
                    Err(e) => return Err(e),
                },
                None => match engine.identify_embedding(
                    &cfg.users_collection,
                    &face.probe,
                    1,
                    threshold,
                    None,
                ) {
                    Ok(id) => id
                        .candidates
                        .into_iter()
                        .next()
                        .map(|c| (c.subject, c.score, c.matched)),
                    Err(faceprint::Error::NotFound(_)) => None,
                    Err(e) => return Err(e),
                },
            };
            // An unknown email ran the same work and fails like a wrong face.
            let best = if matches!(claimed, Some(None)) {
                None
            } else {
                best
            };
            Ok((face, best))
        })
        .await
        .inspect_err(|e| {
            if e.code == "quality_rejected" || e.code == "no_face" || e.code == "multiple_faces" {
                metrics::counter!("faceprint_logins_total", "outcome" => "bad_photo").increment(1);
            }
        })?;
    let liveness_score = face.liveness.as_ref().map(|l| l.score);
    if face.is_spoof() {
        metrics::counter!("faceprint_logins_total", "outcome" => "spoof").increment(1);
        common
            .audit(
                caller
                    .event("login", "refused")
                    .reason("spoof_suspected")
                    .score(liveness_score),
            )
            .await?;
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "liveness_failed",
            "the face did not pass the liveness check; use a live camera, not a photo or a screen",
        ));
    }
    let matched = best
        .as_ref()
        .filter(|(_, _, m)| *m)
        .map(|(s, score, _)| (s.clone(), *score));
    let Some((user_id, score)) = matched else {
        metrics::counter!("faceprint_logins_total", "outcome" => "no_match").increment(1);
        let target = best.as_ref().map(|(s, _, _)| principal(s));
        let mut e = caller
            .event("login", "failure")
            .reason("no_match")
            .score(best.as_ref().map(|b| b.1));
        e.target = target;
        common.audit(e).await?;
        common
            .emit(
                "authentication",
                serde_json::json!({ "outcome": "failure", "reason": "no_match" }),
            )
            .await?;
        return Err(ApiError::authentication_failed("no matching face"));
    };
    metrics::histogram!("faceprint_match_score", "op" => "login").record(score as f64);
    let uid = user_id.clone();
    let user = common.db(move |c| users::get(c, &uid)).await?;
    if !user.is_some_and(|u| u.status == "active") {
        common
            .audit(
                caller
                    .event("login", "failure")
                    .target(principal(&user_id))
                    .reason("account_inactive")
                    .score(Some(score)),
            )
            .await?;
        return Err(ApiError::authentication_failed(
            "account disabled or unfinished",
        ));
    }
    let tokens = flows::open_session(&common, &principal(&user_id), "user", &caller.client).await?;
    let uid = user_id.clone();
    common.db(move |c| users::touch_login(c, &uid)).await?;
    common
        .audit(
            caller
                .event("login", "success")
                .actor(principal(&user_id))
                .target(principal(&user_id))
                .score(Some(score)),
        )
        .await?;
    metrics::counter!("faceprint_logins_total", "outcome" => "success").increment(1);
    common
        .emit(
            "authentication",
            serde_json::json!({ "user_id": user_id, "outcome": "success", "score": score }),
        )
        .await?;
    Ok(tokens)
}
