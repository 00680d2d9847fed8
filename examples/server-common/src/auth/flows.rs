//! The token flows every server has: open a session, refresh with rotation, log out, and the
//! administrators' password login with lockout. The events go to the audit trail.

use super::sessions::{self, ClientInfo, IssuedTokens, Opened, RefreshRefused};
use super::{admins, password, AuthUser};
use crate::error::{ApiError, ApiResult};
use crate::events::Event;
use crate::state::Common;

/// Tokens for an opened session.
pub fn issue(
    common: &Common,
    principal: &str,
    role: &str,
    opened: Opened,
) -> ApiResult<IssuedTokens> {
    Ok(IssuedTokens {
        access_token: common.tokens().issue(principal, &opened.session_id, role)?,
        refresh_token: opened.refresh_token,
        token_type: "Bearer",
        expires_in: common.tokens().access_ttl_secs(),
        session_id: opened.session_id,
    })
}

/// Opens a session for `principal` and issues its tokens.
pub async fn open_session(
    common: &Common,
    principal: &str,
    role: &str,
    client: &ClientInfo,
) -> ApiResult<IssuedTokens> {
    let (p, r, c) = (principal.to_string(), role.to_string(), client.clone());
    let ttl = common.settings().tokens.refresh_ttl_secs;
    let opened = common
        .db(move |conn| sessions::open(conn, &p, &r, ttl, &c))
        .await?;
    issue(common, principal, role, opened)
}

/// Rotates a refresh token. Every refusal is the same 401; a reused token also revokes its
/// session (and the event says so).
pub async fn refresh(common: &Common, token: &str, base: Event) -> ApiResult<IssuedTokens> {
    if token.is_empty() || token.len() > 200 {
        return Err(ApiError::unauthorized("malformed refresh token"));
    }
    let t = token.to_string();
    match common.db(move |c| sessions::rotate(c, &t)).await? {
        Ok(rotated) => {
            let opened = Opened {
                session_id: rotated.session_id,
                refresh_token: rotated.refresh_token,
            };
            let tokens = issue(common, &rotated.principal, &rotated.role, opened)?;
            common
                .audit(
                    Event {
                        actor: Some(rotated.principal.clone()),
                        target: Some(rotated.principal),
                        ..base
                    }
                    .outcome("success"),
                )
                .await?;
            Ok(tokens)
        }
        Err(refused) => {
            let reason = match &refused {
                RefreshRefused::Unknown => "unknown_token",
                RefreshRefused::Reused { .. } => "refresh_token_reuse",
                RefreshRefused::Revoked => "session_revoked",
                RefreshRefused::Expired => "session_expired",
            };
            if let RefreshRefused::Reused {
                session_id,
                principal,
            } = &refused
            {
                tracing::warn!(session = %session_id, principal = %principal, "a used refresh token was presented again: the session is revoked");
                common
                    .audit(
                        Event {
                            target: Some(principal.clone()),
                            ..base.clone()
                        }
                        .outcome("refused")
                        .reason(reason),
                    )
                    .await?;
            }
            metrics::counter!("faceprint_refresh_refused_total", "reason" => reason).increment(1);
            Err(ApiError::unauthorized(format!("refresh refused: {reason}")))
        }
    }
}

/// Ends the caller's session.
pub async fn logout(common: &Common, user: &AuthUser, base: Event) -> ApiResult<()> {
    let (p, s) = (user.principal.clone(), user.session_id.clone());
    common
        .db(move |c| sessions::revoke(c, &p, &s, "logout"))
        .await?;
    common
        .audit(
            base.actor(user.principal.clone())
                .target(user.principal.clone()),
        )
        .await
}

/// An administrator's password login. Unknown names, wrong passwords and locked accounts get
/// the same answer in about the same time (a dummy hash is checked for unknown names).
pub async fn admin_login(
    common: &Common,
    username: &str,
    password_text: &str,
    client: &ClientInfo,
    base: Event,
) -> ApiResult<IssuedTokens> {
    let name = username.trim().to_string();
    let n = name.clone();
    let record = common.db(move |c| admins::find(c, &n)).await?;
    let pw = zeroize::Zeroizing::new(password_text.to_string());
    let Some(record) = record else {
        common.blocking(move || password::verify_dummy(&pw)).await?;
        common
            .audit(base.outcome("failure").reason("unknown_user"))
            .await?;
        return Err(ApiError::authentication_failed("unknown admin"));
    };
    let locked = record
        .locked_until_ms
        .is_some_and(|t| t > crate::db::now_ms());
    let hash = record.password_hash.clone();
    let ok = common
        .blocking(move || password::verify(&pw, &hash))
        .await?;
    let principal = format!("admin:{}", record.info.id);
    if locked || !ok {
        let id = record.info.id.clone();
        let now_locked = if ok {
            true
        } else {
            common.db(move |c| admins::record_failure(c, &id)).await?
        };
        let reason = if locked {
            "locked"
        } else if now_locked {
            "wrong_password_now_locked"
        } else {
            "wrong_password"
        };
        common
            .audit(base.target(principal).outcome("failure").reason(reason))
            .await?;
        return Err(ApiError::authentication_failed(format!(
            "admin login refused: {reason}"
        )));
    }
    let id = record.info.id.clone();
    common.db(move |c| admins::record_success(c, &id)).await?;
    let tokens = open_session(common, &principal, &record.info.role, client).await?;
    common
        .audit(
            base.actor(principal.clone())
                .target(principal)
                .outcome("success"),
        )
        .await?;
    Ok(tokens)
}
