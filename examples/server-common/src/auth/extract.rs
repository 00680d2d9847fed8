//! Extractors that put the caller in a handler's signature: `AuthUser` (a valid access token of
//! an open session), `MaybeAuthUser` (none only when no credentials were sent — a bad token is
//! still refused), `AdminUser` (an administrator), `AuditReader` (an administrator or an
//! auditor).

use super::sessions;
use crate::error::ApiError;
use crate::state::Common;
use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

/// What a caller may do. Each server uses the roles it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
    Verifier,
    Auditor,
    /// Reads what the server shows (the attendance server's dashboards), changes nothing.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
            Role::Verifier => "verifier",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "user" => Role::User,
            "admin" => Role::Admin,
            "verifier" => Role::Verifier,
            "auditor" => Role::Auditor,
            "viewer" => Role::Viewer,
            _ => return None,
        })
    }
}

/// A caller with a valid access token of an open session.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// `user:<id>` or `admin:<id>`.
    pub principal: String,
    pub role: Role,
    pub session_id: String,
}

impl AuthUser {
    /// The id after the principal's kind.
    pub fn id(&self) -> &str {
        self.principal
            .split_once(':')
            .map_or(&self.principal, |(_, id)| id)
    }

    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the role {}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }
}

/// Marks routes whose token may come as the `access_token` query parameter: what a browser
/// fetches by itself (an `<img>` of a live MJPEG view) cannot send a header. Add it as an
/// `Extension` layer on those routes only (request logs carry paths, never queries).
#[derive(Debug, Clone, Copy)]
pub struct QueryToken;

/// The bearer token of the request, if any (header, or `access_token` query for WebSocket
/// upgrades and routes marked with [`QueryToken`], which browsers cannot send headers with).
pub fn bearer(parts: &Parts) -> Option<String> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        let (scheme, token) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    if parts.headers.get(header::UPGRADE).is_some()
        || parts.extensions.get::<QueryToken>().is_some()
    {
        let q = parts.uri.query()?;
        return q
            .split('&')
            .find_map(|kv| kv.strip_prefix("access_token=").map(str::to_string));
    }
    None
}

impl AuthUser {
    /// Checks a token and that its session is open.
    pub async fn from_token(common: &Common, token: &str) -> Result<AuthUser, ApiError> {
        let claims = common.tokens().decode(token)?;
        let role = Role::parse(&claims.role)
            .ok_or_else(|| ApiError::unauthorized("unknown role in token"))?;
        let (sid, principal) = (claims.sid.clone(), claims.sub.clone());
        let active = common
            .db(move |c| sessions::is_active(c, &sid, &principal))
            .await?;
        if !active {
            return Err(ApiError::unauthorized("session revoked or expired"));
        }
        Ok(AuthUser {
            principal: claims.sub,
            role,
            session_id: claims.sid,
        })
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    Common: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        let token = bearer(parts).ok_or_else(|| ApiError::unauthorized("no bearer token"))?;
        let user = AuthUser::from_token(&Common::from_ref(state), &token).await?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// `None` only when the request carries no credentials at all.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl<S> FromRequestParts<S> for MaybeAuthUser
where
    Common: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if bearer(parts).is_none() {
            return Ok(MaybeAuthUser(None));
        }
        <AuthUser as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(|u| MaybeAuthUser(Some(u)))
    }
}

impl<S> OptionalFromRequestParts<S> for AuthUser
where
    Common: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        MaybeAuthUser::from_request_parts(parts, state)
            .await
            .map(|m| m.0)
    }
}

/// An administrator (role `admin`, account still present).
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

/// Who may read the audit trail: an administrator or an auditor (account still present).
#[derive(Debug, Clone)]
pub struct AuditReader(pub AuthUser);

impl<S> FromRequestParts<S> for AuditReader
where
    Common: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = <AuthUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        user.require(&[Role::Admin, Role::Auditor])?;
        require_account(&Common::from_ref(state), &user).await?;
        Ok(AuditReader(user))
    }
}

/// 401 when the staff account behind a token was removed after it was issued.
pub async fn require_account(common: &Common, user: &AuthUser) -> Result<(), ApiError> {
    let id = user.id().to_string();
    if common.db(move |c| super::admins::exists(c, &id)).await? {
        Ok(())
    } else {
        Err(ApiError::unauthorized("account gone"))
    }
}

impl<S> FromRequestParts<S> for AdminUser
where
    Common: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = <AuthUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        user.require(&[Role::Admin])?;
        // An administrator removed after the token was issued is refused at once.
        require_account(&Common::from_ref(state), &user).await?;
        Ok(AdminUser(user))
    }
}
