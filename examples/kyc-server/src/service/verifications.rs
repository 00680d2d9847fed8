//! The verification workflow: a user starts a case, sends the document, then a selfie; the
//! selfie's liveness and its match with the portrait lead to the automatic decision; a case in
//! review waits for a verifier. Every change is an audit event (who, what, when, outcome,
//! score — never an image), every decision a webhook (`verification.decided`).
//!
//! Who sees what: a user their own cases (another's is 404, not 403: its existence is not
//! theirs to know); verifiers and administrators every case and its images; auditors every
//! case without images.

use super::decision::{self, Findings, Rules, Status};
use super::document::{self, DocumentFindings};
use crate::repo::verifications::{self as repo, Record, SelfieOutcome, IMAGE_KINDS};
use crate::state::AppState;
use bytes::Bytes;
use faceprint_server::auth::extract::require_account;
use faceprint_server::auth::{AuthUser, Role};
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult};
use faceprint_server::face::{check_face, FaceChecks};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A verification as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Verification {
    pub id: String,
    pub user_id: String,
    pub status: Status,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub steps: Steps,
    /// Steps done of `steps_total`.
    pub steps_done: u32,
    pub steps_total: u32,
    /// Why the case stands as it does (`mrz_check_failed`, `document_expired`,
    /// `spoof_suspected`, `face_mismatch`, `face_match_uncertain`, `visual_zone_mismatch`…).
    pub reasons: Vec<String>,
    /// `system` for the automatic decision, else the verifier's principal.
    pub decided_by: Option<String>,
    pub decided_ms: Option<i64>,
    /// The verifier's reason.
    pub review_note: Option<String>,
    /// What the document gave (after the document step).
    pub document: Option<DocumentFindings>,
    /// The images still held (`document_front`, `document_back`, `portrait`, `selfie`).
    pub images: Vec<String>,
    /// When the retention job deleted the images.
    pub images_deleted_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Steps {
    pub document: Step,
    pub liveness: Step,
    pub face_match: Step,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Step {
    /// `pending` or `done`.
    pub status: String,
    pub score: Option<f32>,
    /// Liveness: whether the selfie was live; match: whether it matched.
    pub passed: Option<bool>,
    pub threshold: Option<f32>,
}

const MAX_NOTE_CHARS: usize = 500;

pub(crate) fn target(id: &str) -> String {
    format!("verification:{id}")
}

fn is_owner(user: &AuthUser, r: &Record) -> bool {
    user.role == Role::User && user.id() == r.user_id
}

/// Staff who may see cases: a token's role, and the account still there.
async fn staff(state: &AppState, user: &AuthUser, roles: &[Role]) -> ApiResult<()> {
    user.require(roles)?;
    require_account(state.common(), user).await
}

async fn record(state: &AppState, id: &str) -> ApiResult<Option<Record>> {
    let id = id.to_string();
    state.common().db(move |c| repo::get(c, &id)).await
}

fn not_found() -> ApiError {
    ApiError::not_found("no such verification")
}

/// The case, if `user` may read it (else 404 for users, 403 for other roles).
async fn readable(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<Record> {
    if user.role != Role::User {
        staff(state, user, &[Role::Admin, Role::Verifier, Role::Auditor]).await?;
    }
    match record(state, id).await? {
        Some(r) if user.role != Role::User || is_owner(user, &r) => Ok(r),
        _ => Err(not_found()),
    }
}

/// The case if it is still open (a flow that already checked who asks).
pub(crate) async fn open_case(state: &AppState, id: &str) -> ApiResult<Option<Record>> {
    Ok(record(state, id)
        .await?
        .filter(|r| r.status == Status::InProgress.as_str()))
}

/// The case, if it is `user`'s own and still open.
pub(crate) async fn own_open(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<Record> {
    user.require(&[Role::User])?;
    let r = record(state, id)
        .await?
        .filter(|r| is_owner(user, r))
        .ok_or_else(not_found)?;
    if r.status != Status::InProgress.as_str() {
        return Err(ApiError::conflict(
            "already_decided",
            format!("this verification is {}: start a new one", r.status),
        ));
    }
    Ok(r)
}

fn seal(state: &AppState, bytes: &[u8], context: &[&str]) -> ApiResult<Vec<u8>> {
    Ok(state.common().master_key().seal_blob(bytes, context)?)
}

fn open(state: &AppState, blob: &[u8], context: &[&str]) -> ApiResult<Vec<u8>> {
    Ok(state
        .common()
        .master_key()
        .open_blob(blob, context)?
        .to_vec())
}

fn findings(state: &AppState, r: &Record) -> ApiResult<Option<DocumentFindings>> {
    let Some(blob) = &r.document_sealed else {
        return Ok(None);
    };
    let json = open(state, blob, &["kyc_document", &r.id])?;
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|e| ApiError::internal(format!("stored findings: {e}")))
}

/// The API's view of a case that holds `images`.
fn view(state: &AppState, r: Record, images: Vec<String>) -> ApiResult<Verification> {
    let document = findings(state, &r)?;
    let selfie_done = r.selfie_step == "done";
    let step =
        |done: bool, score: Option<f32>, passed: Option<bool>, threshold: Option<f32>| Step {
            status: if done { "done" } else { "pending" }.into(),
            score,
            passed,
            threshold,
        };
    let threshold = faceprint::document::DOCUMENT_THRESHOLD;
    let steps = Steps {
        document: step(r.document_step == "done", None, None, None),
        liveness: step(selfie_done, r.liveness_score, r.live, None),
        face_match: step(
            selfie_done,
            r.match_score,
            r.match_score.map(|s| s >= threshold),
            Some(threshold),
        ),
    };
    let steps_done = u32::from(r.document_step == "done") + 2 * u32::from(selfie_done);
    Ok(Verification {
        status: Status::parse(&r.status).unwrap_or(Status::InProgress),
        id: r.id,
        user_id: r.user_id,
        created_ms: r.created_ms,
        updated_ms: r.updated_ms,
        steps,
        steps_done,
        steps_total: 3,
        reasons: r.reasons,
        decided_by: r.decided_by,
        decided_ms: r.decided_ms,
        review_note: r.review_note,
        document,
        images,
        images_deleted_ms: r.images_deleted_ms,
    })
}

/// The views of `records`, their images found in one query.
async fn views(state: &AppState, records: Vec<Record>) -> ApiResult<Vec<Verification>> {
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let mut kinds = state
        .common()
        .db(move |c| repo::image_kinds_of(c, &ids))
        .await?;
    records
        .into_iter()
        .map(|r| {
            let images = kinds.remove(&r.id).unwrap_or_default();
            view(state, r, images)
        })
        .collect()
}

async fn view_one(state: &AppState, r: Record) -> ApiResult<Verification> {
    let mut v = views(state, vec![r]).await?;
    v.pop().ok_or_else(not_found)
}

pub(crate) async fn view_of(state: &AppState, id: &str) -> ApiResult<Verification> {
    view_one(state, record(state, id).await?.ok_or_else(not_found)?).await
}

/// Starts a verification for the signed-in user.
pub async fn start(state: &AppState, caller: &Caller, user: &AuthUser) -> ApiResult<Verification> {
    user.require(&[Role::User])?;
    let id = uuid::Uuid::new_v4().to_string();
    let (i, u, now) = (id.clone(), user.id().to_string(), state.now_ms());
    state
        .common()
        .db(move |c| repo::insert(c, &i, &u, now))
        .await?;
    state
        .common()
        .audit(caller.done("verification_started", &user.principal, target(&id)))
        .await?;
    view_of(state, &id).await
}

pub async fn get(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<Verification> {
    view_one(state, readable(state, user, id).await?).await
}

/// A user's own cases; staff: every case, or those in `status`.
pub async fn list(
    state: &AppState,
    user: &AuthUser,
    status: Option<Status>,
) -> ApiResult<Vec<Verification>> {
    let records = if user.role == Role::User {
        let u = user.id().to_string();
        state.common().db(move |c| repo::of_user(c, &u)).await?
    } else {
        staff(state, user, &[Role::Admin, Role::Verifier, Role::Auditor]).await?;
        let s = status.map(Status::as_str);
        state
            .common()
            .db(move |c| repo::by_status(c, s, 500))
            .await?
    };
    let records = records
        .into_iter()
        .filter(|r| status.map_or(true, |s| r.status == s.as_str()))
        .collect();
    views(state, records).await
}

/// The document step: the front (and the back of a card whose zone is there) read, the
/// images and findings sealed and kept. A page that is no document or shows no portrait is
/// refused (422) and nothing is kept: the user retakes it. Sent again before the selfie, it
/// replaces the first.
pub async fn submit_document(
    state: &AppState,
    caller: &Caller,
    user: &AuthUser,
    id: &str,
    front: Bytes,
    back: Option<Bytes>,
) -> ApiResult<Verification> {
    own_open(state, user, id).await?;
    let visual = state.config().visual_zone_check;
    let (f, b) = (front.clone(), back.clone());
    let read = state
        .common()
        .model(move |engine| document::read_pages(engine, &f, b.as_deref(), visual))
        .await;
    let read = match read {
        Ok(r) => r,
        Err(e) => {
            state
                .common()
                .audit(
                    caller
                        .event("document_submitted", "failure")
                        .actor(&user.principal)
                        .target(target(id))
                        .reason(e.code),
                )
                .await?;
            return Err(e);
        }
    };
    let json = serde_json::to_vec(&read.findings).map_err(ApiError::internal)?;
    let sealed_findings = seal(state, &json, &["kyc_document", id])?;
    let mut images = vec![
        (
            "document_front",
            seal(state, &front, &["kyc_image", id, "document_front"])?,
        ),
        (
            "portrait",
            seal(state, &read.portrait_jpeg, &["kyc_image", id, "portrait"])?,
        ),
    ];
    if let Some(b) = &back {
        images.push((
            "document_back",
            seal(state, b, &["kyc_image", id, "document_back"])?,
        ));
    }
    let (i, now, two_sided) = (id.to_string(), state.now_ms(), back.is_some());
    state
        .common()
        .db(move |c| {
            c.atomic(|c| {
                for (kind, blob) in &images {
                    repo::put_image(c, &i, kind, blob, now)?;
                }
                if !two_sided {
                    repo::drop_image(c, &i, "document_back")?;
                }
                repo::set_document(c, &i, &sealed_findings, now)?;
                Ok(())
            })
        })
        .await?;
    let outcome = read.findings.mrz_error.as_deref().unwrap_or("mrz_verified");
    state
        .common()
        .audit(
            caller
                .done("document_submitted", &user.principal, target(id))
                .reason(outcome),
        )
        .await?;
    view_of(state, id).await
}

/// How a selfie's liveness is established.
#[derive(Debug, Clone, Copy)]
pub enum LivenessEvidence {
    /// Passive liveness measured on the selfie itself.
    Passive,
    /// An active-liveness challenge session; the selfie is its most frontal frame. `score` is
    /// the mean passive score over its frames.
    Challenges { passed: bool, score: Option<f32> },
}

/// The selfie step with passive liveness: the match with the document's portrait, then the
/// decision. A selfie without a face or with several is refused (422) and the step stays
/// open. 409 `active_liveness_required` when the server asks for challenges.
pub async fn submit_selfie(
    state: &AppState,
    caller: &Caller,
    user: &AuthUser,
    id: &str,
    selfie: Bytes,
) -> ApiResult<Verification> {
    let r = own_open(state, user, id).await?;
    if state.config().liveness.active_required {
        return Err(ApiError::conflict(
            "active_liveness_required",
            "this server verifies liveness with challenges: start one at /api/verifications/{id}/liveness",
        ));
    }
    decide_selfie(
        state,
        caller,
        &user.principal,
        r,
        Some(selfie),
        LivenessEvidence::Passive,
    )
    .await
}

/// The case's document findings, or 409 when the document step is not done.
pub(crate) fn document_done(state: &AppState, r: &Record) -> ApiResult<DocumentFindings> {
    findings(state, r)?.ok_or_else(|| {
        ApiError::conflict("document_required", "send the document before the selfie")
    })
}

/// Liveness, the match of `selfie` with the portrait, then the decision, all kept and audited
/// under `actor`. `selfie` is None only for a challenge session that failed before a usable
/// frame: the case is decided on the liveness failure alone.
pub(crate) async fn decide_selfie(
    state: &AppState,
    caller: &Caller,
    actor: &str,
    r: Record,
    selfie: Option<Bytes>,
    evidence: LivenessEvidence,
) -> ApiResult<Verification> {
    let id = r.id.as_str();
    let doc = document_done(state, &r)?;
    let kind = if doc.portrait.page == "back" {
        "document_back"
    } else {
        "document_front"
    };
    let (i, k) = (id.to_string(), kind.to_string());
    let page = state
        .common()
        .db(move |c| repo::image(c, &i, &k))
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "images_expired",
                "the document's images were deleted (retention): start a new verification",
            )
        })?;
    let page = open(state, &page, &["kyc_image", id, kind])?;
    let (s, portrait) = (selfie.clone(), doc.portrait.clone());
    let (live, liveness_score, score) = state
        .common()
        .model(move |engine| {
            let Some(selfie) = s else {
                return Ok(match evidence {
                    LivenessEvidence::Challenges { passed, score } => (passed, score, None),
                    LivenessEvidence::Passive => {
                        return Err(faceprint::Error::Internal(
                            "a passive step without a selfie".into(),
                        ))
                    }
                });
            };
            // A challenge session followed the largest face through every frame: that face
            // is the selfie's, whoever else the camera caught.
            let passive = matches!(evidence, LivenessEvidence::Passive);
            let checks = FaceChecks {
                quality: None,
                liveness: passive,
                single_face: passive,
            };
            let face = check_face(engine, &selfie, &checks)?;
            let document = portrait.embed(engine, &engine.decode(&page)?)?;
            let score = engine.similarity(&document, &face.probe.embedding)?;
            let (live, liveness_score) = match evidence {
                LivenessEvidence::Challenges { passed, score } => (passed, score),
                LivenessEvidence::Passive => {
                    let l = face.liveness.ok_or_else(|| {
                        faceprint::Error::Internal("liveness not measured".into())
                    })?;
                    (l.live, Some(l.score))
                }
            };
            Ok((live, liveness_score, Some(score)))
        })
        .await?;
    let rules = Rules {
        on_mrz_check_failed: state.config().on_mrz_check_failed,
        threshold: faceprint::document::DOCUMENT_THRESHOLD,
        review_match_margin: state.config().review_match_margin,
    };
    let found = Findings {
        mrz_error: doc.mrz_error.as_deref(),
        expiry_date: doc.mrz.as_ref().and_then(|m| m.expiry_date.as_deref()),
        not_printed: doc.not_printed(),
        live,
        match_score: score,
    };
    let (status, reasons) = decision::decide(&found, &rules, &state.today());
    let sealed_selfie = selfie
        .map(|b| seal(state, &b, &["kyc_image", id, "selfie"]))
        .transpose()?;
    let (i, now, rs) = (id.to_string(), state.now_ms(), reasons.clone());
    state
        .common()
        .db(move |c| {
            c.atomic(|c| {
                if let Some(blob) = &sealed_selfie {
                    repo::put_image(c, &i, "selfie", blob, now)?;
                }
                repo::set_selfie(
                    c,
                    &i,
                    &SelfieOutcome {
                        liveness_score,
                        live,
                        match_score: score,
                        status: status.as_str(),
                        reasons: &rs,
                    },
                    now,
                )?;
                Ok(())
            })
        })
        .await?;
    let common = state.common();
    let method = match evidence {
        LivenessEvidence::Passive => "passive",
        LivenessEvidence::Challenges { .. } => "challenges",
    };
    common
        .audit(
            caller
                .event("liveness", if live { "success" } else { "failure" })
                .actor(actor)
                .target(target(id))
                .reason(method)
                .score(liveness_score),
        )
        .await?;
    if let Some(score) = score {
        common
            .audit(
                caller
                    .event(
                        "face_match",
                        if score >= rules.threshold {
                            "success"
                        } else {
                            "failure"
                        },
                    )
                    .actor(actor)
                    .target(target(id))
                    .score(Some(score)),
            )
            .await?;
    }
    decided(state, caller, "system", &r.user_id, id, status, &reasons).await?;
    view_of(state, id).await
}

/// The audit event and the webhook of a decision.
async fn decided(
    state: &AppState,
    caller: &Caller,
    by: &str,
    user_id: &str,
    id: &str,
    status: Status,
    reasons: &[String],
) -> ApiResult<()> {
    let mut event = caller
        .event("decision", status.as_str())
        .actor(by)
        .target(target(id));
    if !reasons.is_empty() {
        event = event.reason(reasons.join(","));
    }
    state.common().audit(event).await?;
    state
        .common()
        .emit(
            "verification.decided",
            serde_json::json!({
                "verification_id": id,
                "user_id": user_id,
                "status": status.as_str(),
                "reasons": reasons,
                "decided_by": by,
            }),
        )
        .await
}

/// The cases waiting for a verifier, oldest first.
pub async fn queue(state: &AppState, user: &AuthUser) -> ApiResult<Vec<Verification>> {
    staff(state, user, &[Role::Admin, Role::Verifier]).await?;
    list(state, user, Some(Status::NeedsReview)).await
}

/// A verifier decides a case in review: `approved` or `rejected`, with a reason.
pub async fn review(
    state: &AppState,
    caller: &Caller,
    verifier: &AuthUser,
    id: &str,
    decision: Status,
    note: &str,
) -> ApiResult<Verification> {
    staff(state, verifier, &[Role::Admin, Role::Verifier]).await?;
    if !matches!(decision, Status::Approved | Status::Rejected) {
        return Err(ApiError::bad_request(
            "a verifier's decision is approved or rejected",
        ));
    }
    let note = note.trim().to_string();
    if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::bad_request(format!(
            "a reason of 1 to {MAX_NOTE_CHARS} characters is required"
        )));
    }
    let case = record(state, id).await?.ok_or_else(not_found)?;
    let (i, who, now) = (id.to_string(), verifier.principal.clone(), state.now_ms());
    let status = decision.as_str();
    let changed = state
        .common()
        .db(move |c| repo::set_review(c, &i, status, &who, &note, now))
        .await?;
    if !changed {
        let now = record(state, id).await?.map_or(case.status, |r| r.status);
        return Err(ApiError::conflict(
            "not_in_review",
            format!("this verification is {now}, not needs_review"),
        ));
    }
    decided(
        state,
        caller,
        &verifier.principal,
        &case.user_id,
        id,
        decision,
        &[],
    )
    .await?;
    view_of(state, id).await
}

/// Every image a case still holds, opened: (kind, bytes). For flows that already checked who
/// asks (the owner's export).
pub(crate) async fn images_of(state: &AppState, id: &str) -> ApiResult<Vec<(String, Vec<u8>)>> {
    let i = id.to_string();
    let sealed = state.common().db(move |c| repo::images(c, &i)).await?;
    sealed
        .into_iter()
        .map(|(kind, blob)| {
            let bytes = open(state, &blob, &["kyc_image", id, &kind])?;
            Ok((kind, bytes))
        })
        .collect()
}

/// One image of a case: its owner, verifiers and administrators (auditors read the trail,
/// not the pictures). 404 once the retention job deleted it.
pub async fn image(state: &AppState, user: &AuthUser, id: &str, kind: &str) -> ApiResult<Vec<u8>> {
    if user.role == Role::Auditor {
        return Err(ApiError::forbidden(
            "auditors read the trail, not the images",
        ));
    }
    let r = readable(state, user, id).await?;
    if !IMAGE_KINDS.contains(&kind) {
        return Err(ApiError::not_found(format!(
            "no image {kind:?}: one of {}",
            IMAGE_KINDS.join(", ")
        )));
    }
    let (i, k) = (r.id.clone(), kind.to_string());
    let blob = state
        .common()
        .db(move |c| repo::image(c, &i, &k))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no {kind} image (not sent, or deleted)")))?;
    open(state, &blob, &["kyc_image", id, kind])
}
