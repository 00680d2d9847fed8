//! The token flows every server has: open a session, refresh with rotation, log out, and the
//! administrators' password login with lockout. The events go to the audit trail.

use super::sessions::{self, ClientInfo, IssuedTokens, Opened, RefreshRefused};
use super::{admins, password, AuthUser, Role};
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

/// A staff member's password login (administrators, verifiers, auditors, viewers: accounts
/// made by the server's `admin create`).
pub async fn admin_login(
    common: &Common,
    username: &str,
    password_text: &str,
    client: &ClientInfo,
    base: Event,
) -> ApiResult<IssuedTokens> {
    password_login(
        common,
        Accounts::Staff,
        username,
        password_text,
        client,
        base,
    )
    .await
}

/// Which password accounts a login route admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accounts {
    /// Staff (any role but `user`); principal `admin:<id>`.
    Staff,
    /// End users who registered themselves (role `user`, the KYC server's); principal
    /// `user:<id>`.
    EndUsers,
}

impl Accounts {
    fn admits(self, role: &str) -> bool {
        (role == Role::User.as_str()) == (self == Accounts::EndUsers)
    }

    /// The principal of an account of this kind.
    pub fn principal(self, id: &str) -> String {
        match self {
            Accounts::Staff => format!("admin:{id}"),
            Accounts::EndUsers => format!("user:{id}"),
        }
    }
}

/// A password login. Unknown names, wrong passwords, locked accounts and accounts of the other
/// kind get the same answer in about the same time (a dummy hash is checked for unknown
/// names); five failures in a row lock an account for 15 minutes.
pub async fn password_login(
    common: &Common,
    kind: Accounts,
    username: &str,
    password_text: &str,
    client: &ClientInfo,
    base: Event,
) -> ApiResult<IssuedTokens> {
    let name = username.trim().to_string();
    let n = name.clone();
    let record = common
        .db(move |c| admins::find(c, &n))
        .await?
        .filter(|r| kind.admits(&r.info.role));
    let pw = zeroize::Zeroizing::new(password_text.to_string());
    let Some(record) = record else {
        common.blocking(move || password::verify_dummy(&pw)).await?;
        common
            .audit(base.outcome("failure").reason("unknown_user"))
            .await?;
        return Err(ApiError::authentication_failed("unknown account"));
    };
    let locked = record
        .locked_until_ms
        .is_some_and(|t| t > crate::db::now_ms());
    let hash = record.password_hash.clone();
    let ok = common
        .blocking(move || password::verify(&pw, &hash))
        .await?;
    let principal = kind.principal(&record.info.id);
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
            "login refused: {reason}"
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

/// Registers an end user (role `user`) with a password and signs them in: 400 for a bad
/// username or a short password, 409 `already_exists` for a taken name.
pub async fn register(
    common: &Common,
    username: &str,
    password_text: &str,
    client: &ClientInfo,
    base: Event,
) -> ApiResult<(String, IssuedTokens)> {
    let name = username.trim().to_string();
    admins::check_username(&name).map_err(ApiError::bad_request)?;
    let pw = zeroize::Zeroizing::new(password_text.to_string());
    let hash = common
        .blocking(move || password::hash(&pw))
        .await?
        .map_err(ApiError::bad_request)?;
    let n = name.clone();
    let created = common
        .db(move |c| admins::create(c, &n, &hash, Role::User.as_str()))
        .await?
        .ok_or_else(|| ApiError::conflict("already_exists", "that username is taken"))?;
    let principal = Accounts::EndUsers.principal(&created.id);
    let tokens = open_session(common, &principal, Role::User.as_str(), client).await?;
    common
        .audit(base.actor(principal.clone()).target(principal))
        .await?;
    Ok((created.id, tokens))
}
