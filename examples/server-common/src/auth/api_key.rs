//! API keys for other applications: `fpk_` + 32 random bytes, shown once, stored as SHA-256.
//! Each key is scoped to one collection and has its own rate (per minute) and optional daily
//! quota.

use super::{random_token, token_hash};
use crate::db::prelude::*;
use crate::db::Row;
use crate::error::ApiError;
use crate::state::Common;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::Serialize;

pub const HEADER: &str = "x-api-key";

/// A key as listed (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKeyInfo {
    pub id: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    pub collection: String,
    pub label: Option<String>,
    pub rate_per_minute: u32,
    pub daily_quota: Option<u64>,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
}

/// Settings of a new key.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub collection: String,
    pub label: Option<String>,
    pub rate_per_minute: u32,
    pub daily_quota: Option<u64>,
}

/// What a server lets an API key be scoped to: the face-login server any collection but its
/// users', the attendance server one of its push cameras. A server's `[app]` settings implement
/// it; the HTTP route and the `api-key create` tool both ask it.
pub trait KeyScope: Send + Sync + 'static {
    /// Ok, or why `scope` cannot be given to a key (shown to the administrator).
    fn check_scope(&self, c: &mut Sql<'_>, scope: &str) -> Result<(), String>;
}

/// The rules of every new key (scope length, rate) and then the server's scope rule.
pub fn check_new(c: &mut Sql<'_>, new: &NewApiKey, rule: &dyn KeyScope) -> Result<(), String> {
    if new.collection.trim().is_empty() || new.collection.len() > 256 {
        return Err("collection must be 1 to 256 characters".into());
    }
    if new.rate_per_minute == 0 {
        return Err("rate_per_minute must be at least 1".into());
    }
    rule.check_scope(c, &new.collection)
}

fn row_info(r: &Row) -> DbResult<ApiKeyInfo> {
    Ok(ApiKeyInfo {
        id: r.get(0)?,
        prefix: r.get(1)?,
        collection: r.get(2)?,
        label: r.get(3)?,
        rate_per_minute: r.get::<i64>(4)? as u32,
        daily_quota: r.get::<Option<i64>>(5)?.map(|q| q as u64),
        created_ms: r.get(6)?,
        revoked_ms: r.get(7)?,
        last_used_ms: r.get(8)?,
    })
}

const COLUMNS: &str = "id, prefix, collection, label, rate_per_minute, daily_quota, created_ms, revoked_ms, last_used_ms";

/// Creates a key; the secret in the answer is never shown again.
pub fn create(c: &mut Sql<'_>, new: &NewApiKey) -> DbResult<(ApiKeyInfo, String)> {
    let secret = random_token("fpk_");
    let id = uuid::Uuid::new_v4().to_string();
    let prefix: String = secret.chars().take(10).collect();
    c.execute(
        "INSERT INTO api_keys (id, hash, prefix, collection, label, rate_per_minute, daily_quota, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        args![&id, token_hash(&secret), prefix, &new.collection, &new.label, new.rate_per_minute as i64, new.daily_quota.map(|q| q as i64), now_ms()],
    )?;
    let info = get(c, &id)?.ok_or(DbError::NoRow)?;
    Ok((info, secret))
}

pub fn get(c: &mut Sql<'_>, id: &str) -> DbResult<Option<ApiKeyInfo>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"),
        args![id],
        row_info,
    )
    .optional()
}

pub fn list(c: &mut Sql<'_>) -> DbResult<Vec<ApiKeyInfo>> {
    c.query_map(
        &format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_ms DESC"),
        args![],
        row_info,
    )
}

/// Revokes a key; false when there is no such open key.
pub fn revoke(c: &mut Sql<'_>, id: &str) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE api_keys SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
        args![id, now_ms()],
    )? > 0)
}

/// The open key whose secret is `secret`.
pub fn find(c: &mut Sql<'_>, secret: &str) -> DbResult<Option<ApiKeyInfo>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM api_keys WHERE hash = ?1 AND revoked_ms IS NULL"),
        args![token_hash(secret)],
        row_info,
    )
    .optional()
}

/// Counts one call of today against the key and returns today's count (with `last_used`).
pub fn count_call(c: &mut Sql<'_>, id: &str) -> DbResult<u64> {
    let now = now_ms();
    let day = now / 86_400_000;
    c.execute(
        "INSERT INTO api_key_usage (key_id, day, count) VALUES (?1, ?2, 1)
         ON CONFLICT (key_id, day) DO UPDATE SET count = api_key_usage.count + 1",
        args![id, day],
    )?;
    c.execute(
        "UPDATE api_keys SET last_used_ms = ?2 WHERE id = ?1",
        args![id, now],
    )?;
    c.query_row(
        "SELECT count FROM api_key_usage WHERE key_id = ?1 AND day = ?2",
        args![id, day],
        |r| r.get::<i64>(0),
    )
    .map(|c| c as u64)
}

/// The caller's API key: present, open, within its rate and its daily quota.
#[derive(Clone)]
pub struct ApiKeyAuth(pub ApiKeyInfo);

impl std::fmt::Debug for ApiKeyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeyAuth({}…, {})", self.0.prefix, self.0.collection)
    }
}

impl<S> FromRequestParts<S> for ApiKeyAuth
where
    Common: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let common = Common::from_ref(state);
        let secret = parts
            .headers
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::unauthorized("no x-api-key header"))?
            .to_string();
        if secret.len() > 200 {
            return Err(ApiError::unauthorized("x-api-key too long"));
        }
        let key = common
            .db(move |c| find(c, &secret))
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
        common.limit_key(&key.id, key.rate_per_minute).await?;
        let id = key.id.clone();
        let used = common.db(move |c| count_call(c, &id)).await?;
        if let Some(q) = key.daily_quota {
            if used > q {
                metrics::counter!("faceprint_rate_limited_total", "scope" => "api_key_quota")
                    .increment(1);
                let now = now_ms();
                let until_midnight = (86_400_000 - now % 86_400_000) / 1000;
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "quota_exceeded",
                    format!("this API key's daily quota of {q} calls is used up"),
                )
                .with_retry_after(until_midnight as u64));
            }
        }
        Ok(ApiKeyAuth(key))
    }
}
