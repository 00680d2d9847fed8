//! API keys for other applications: `fpk_` + 32 random bytes, shown once, stored as SHA-256.
//! Each key is scoped to one collection and has its own rate (per minute) and optional daily
//! quota.

use super::{random_token, token_hash};
use crate::db::now_ms;
use crate::error::ApiError;
use crate::state::Common;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use rusqlite::{params, Connection, OptionalExtension};
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
    fn check_scope(&self, conn: &Connection, scope: &str) -> Result<(), String>;
}

/// The rules of every new key (scope length, rate) and then the server's scope rule.
pub fn check_new(conn: &Connection, new: &NewApiKey, rule: &dyn KeyScope) -> Result<(), String> {
    if new.collection.trim().is_empty() || new.collection.len() > 256 {
        return Err("collection must be 1 to 256 characters".into());
    }
    if new.rate_per_minute == 0 {
        return Err("rate_per_minute must be at least 1".into());
    }
    rule.check_scope(conn, &new.collection)
}

fn row_info(r: &rusqlite::Row) -> rusqlite::Result<ApiKeyInfo> {
    Ok(ApiKeyInfo {
        id: r.get(0)?,
        prefix: r.get(1)?,
        collection: r.get(2)?,
        label: r.get(3)?,
        rate_per_minute: r.get::<_, i64>(4)? as u32,
        daily_quota: r.get::<_, Option<i64>>(5)?.map(|q| q as u64),
        created_ms: r.get(6)?,
        revoked_ms: r.get(7)?,
        last_used_ms: r.get(8)?,
    })
}

const COLUMNS: &str = "id, prefix, collection, label, rate_per_minute, daily_quota, created_ms, revoked_ms, last_used_ms";

/// Creates a key; the secret in the answer is never shown again.
pub fn create(conn: &Connection, new: &NewApiKey) -> rusqlite::Result<(ApiKeyInfo, String)> {
    let secret = random_token("fpk_");
    let id = uuid::Uuid::new_v4().to_string();
    let prefix: String = secret.chars().take(10).collect();
    conn.execute(
        "INSERT INTO api_keys (id, hash, prefix, collection, label, rate_per_minute, daily_quota, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![id, token_hash(&secret), prefix, new.collection, new.label, new.rate_per_minute as i64, new.daily_quota.map(|q| q as i64), now_ms()],
    )?;
    let info = get(conn, &id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    Ok((info, secret))
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<ApiKeyInfo>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"),
        [id],
        row_info,
    )
    .optional()
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<ApiKeyInfo>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM api_keys ORDER BY created_ms DESC"
    ))?;
    let rows = st.query_map([], row_info)?;
    rows.collect()
}

/// Revokes a key; false when there is no such open key.
pub fn revoke(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE api_keys SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
        params![id, now_ms()],
    )? > 0)
}

/// The open key whose secret is `secret`.
pub fn find(conn: &Connection, secret: &str) -> rusqlite::Result<Option<ApiKeyInfo>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM api_keys WHERE hash = ?1 AND revoked_ms IS NULL"),
        [token_hash(secret)],
        row_info,
    )
    .optional()
}

/// Counts one call of today against the key and returns today's count (with `last_used`).
pub fn count_call(conn: &Connection, id: &str) -> rusqlite::Result<u64> {
    let now = now_ms();
    let day = now / 86_400_000;
    conn.execute(
        "INSERT INTO api_key_usage (key_id, day, count) VALUES (?1, ?2, 1)
         ON CONFLICT(key_id, day) DO UPDATE SET count = count + 1",
        params![id, day],
    )?;
    conn.execute(
        "UPDATE api_keys SET last_used_ms = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    conn.query_row(
        "SELECT count FROM api_key_usage WHERE key_id = ?1 AND day = ?2",
        params![id, day],
        |r| r.get::<_, i64>(0),
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
        common
            .rate_limits()
            .check_key(&key.id, key.rate_per_minute)?;
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
