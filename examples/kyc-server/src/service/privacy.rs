//! Privacy: images deleted after the retention period (a background job), a user erased with
//! all their cases and images, and a user's data exported for an access request.

use super::verifications::{self, Verification};
use crate::repo::verifications as repo;
use crate::state::AppState;
use base64::Engine as _;
use faceprint_server::auth::flows::Accounts;
use faceprint_server::auth::{admins, sessions, AuthUser, Role};
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult};
use faceprint_server::events::{self, Event, EventQuery};
use faceprint_server::frames;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Deletes the images older than the retention period; answers how many cases lost theirs.
pub async fn sweep(state: &AppState) -> ApiResult<usize> {
    let now = state.now_ms();
    let cutoff = now - (state.config().image_retention_secs as i64).saturating_mul(1000);
    let ids = state
        .common()
        .db(move |c| {
            c.atomic(|c| {
                let ids = repo::delete_images_before(c, cutoff, now)?;
                Ok(ids)
            })
        })
        .await?;
    for id in &ids {
        state
            .common()
            .audit(
                Event::new("images_deleted", "success")
                    .actor("system")
                    .target(format!("verification:{id}"))
                    .reason("retention"),
            )
            .await?;
    }
    if !ids.is_empty() {
        tracing::info!(cases = ids.len(), "retention: images deleted");
    }
    Ok(ids.len())
}

/// Runs [`sweep`] every `app.retention_sweep_secs` until shutdown.
pub fn spawn_retention(state: &AppState) {
    let state = state.clone();
    let shutdown = state.common().shutdown().clone();
    let every = Duration::from_secs(state.config().retention_sweep_secs);
    shutdown.clone().spawn(async move {
        loop {
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e.message, "retention sweep failed; retrying next round");
            }
            tokio::select! {
                _ = shutdown.token.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    });
}

/// The end-user account behind `user_id` (404 for staff or nobody).
async fn end_user(state: &AppState, user_id: &str) -> ApiResult<admins::AdminInfo> {
    let id = user_id.to_string();
    state
        .common()
        .db(move |c| admins::get(c, &id))
        .await?
        .filter(|a| a.role == Role::User.as_str())
        .ok_or_else(|| ApiError::not_found("no such user"))
}

/// Erases a user: their cases, images, sign-in and challenge sessions, and account. The audit trail keeps what it
/// holds (who did what, when — no image, no document data).
pub async fn erase(state: &AppState, caller: &Caller, actor: &str, user_id: &str) -> ApiResult<()> {
    end_user(state, user_id).await?;
    let id = user_id.to_string();
    let principal = Accounts::EndUsers.principal(user_id);
    let p = principal.clone();
    let cases = state
        .common()
        .db(move |c| {
            c.atomic(|c| {
                let n = repo::delete_of_user(c, &id)?;
                sessions::delete_all(c, &p)?;
                frames::delete_of_owner(c, &p)?;
                admins::delete(c, &id)?;
                Ok(n)
            })
        })
        .await?;
    tracing::info!(cases, "user erased");
    state
        .common()
        .audit(caller.done("erase_user", actor, principal))
        .await
}

/// Everything the server holds about a user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserExport {
    pub account: admins::AdminInfo,
    pub verifications: Vec<Verification>,
    /// Base64 images still held, by verification id and kind.
    #[schema(value_type = Object)]
    pub images: BTreeMap<String, BTreeMap<String, String>>,
    /// Audit events by the user, about the user, or about their cases.
    pub events: Vec<Event>,
}

/// The signed-in user's data (access request).
pub async fn export(state: &AppState, user: &AuthUser) -> ApiResult<UserExport> {
    user.require(&[Role::User])?;
    let account = end_user(state, user.id()).await?;
    let verifications = verifications::list(state, user, None).await?;
    let mut images = BTreeMap::new();
    for v in &verifications {
        let kinds = verifications::images_of(state, &v.id)
            .await?
            .into_iter()
            .map(|(kind, bytes)| {
                (
                    kind,
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                )
            })
            .collect();
        images.insert(v.id.clone(), kinds);
    }
    let mut queries = vec![
        EventQuery {
            actor: Some(user.principal.clone()),
            limit: Some(500),
            ..Default::default()
        },
        EventQuery {
            target: Some(user.principal.clone()),
            limit: Some(500),
            ..Default::default()
        },
    ];
    queries.extend(verifications.iter().map(|v| EventQuery {
        target: Some(format!("verification:{}", v.id)),
        limit: Some(500),
        ..Default::default()
    }));
    let events = state
        .common()
        .db(move |c| {
            let mut all = BTreeMap::new();
            for q in &queries {
                for e in events::query(c, q)? {
                    all.insert(e.id, e);
                }
            }
            Ok(all.into_values().collect::<Vec<_>>())
        })
        .await?;
    Ok(UserExport {
        account,
        verifications,
        images,
        events,
    })
}
