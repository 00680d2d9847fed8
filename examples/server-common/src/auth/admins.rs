//! Password accounts: staff (administrators, verifiers, auditors, viewers) created from the
//! command line (the password read from stdin, never a default), and the end users a server
//! lets register themselves (role `user`: the KYC server's). Argon2id hashes, and a lockout
//! after repeated failed logins.

use crate::db::prelude::*;
use serde::Serialize;

/// Failed logins in a row that lock an account, and for how long.
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminInfo {
    pub id: String,
    pub username: String,
    pub role: String,
    pub created_ms: i64,
}

pub struct AdminRecord {
    pub info: AdminInfo,
    pub password_hash: String,
    pub failed_logins: i64,
    pub locked_until_ms: Option<i64>,
}

/// Checks a username: 1..=64 characters of letters, digits, `.`, `_`, `-`, `@`.
pub fn check_username(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err(
            "a username is 1 to 64 characters of letters, digits, '.', '_', '-' or '@'".into(),
        );
    }
    Ok(())
}

pub fn create(
    c: &mut Sql<'_>,
    username: &str,
    password_hash: &str,
    role: &str,
) -> DbResult<Option<AdminInfo>> {
    let id = uuid::Uuid::new_v4().to_string();
    let n = c.execute(
        "INSERT INTO admins (id, username, password_hash, role, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(username) DO NOTHING",
        args![&id, username, password_hash, role, now_ms()],
    )?;
    if n == 0 {
        return Ok(None);
    }
    Ok(find(c, username)?.map(|r| r.info))
}

pub fn find(c: &mut Sql<'_>, username: &str) -> DbResult<Option<AdminRecord>> {
    c.query_row(
        "SELECT id, username, role, created_ms, password_hash, failed_logins, locked_until_ms FROM admins WHERE username = ?1",
        args![username],
        |r| {
            Ok(AdminRecord {
                info: AdminInfo { id: r.get(0)?, username: r.get(1)?, role: r.get(2)?, created_ms: r.get(3)? },
                password_hash: r.get(4)?,
                failed_logins: r.get(5)?,
                locked_until_ms: r.get(6)?,
            })
        },
    )
    .optional()
}

/// An account by id.
pub fn get(c: &mut Sql<'_>, id: &str) -> DbResult<Option<AdminInfo>> {
    c.query_row(
        "SELECT id, username, role, created_ms FROM admins WHERE id = ?1",
        args![id],
        |r| {
            Ok(AdminInfo {
                id: r.get(0)?,
                username: r.get(1)?,
                role: r.get(2)?,
                created_ms: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Deletes an account (its sessions are the caller's to revoke); false when there was none.
pub fn delete(c: &mut Sql<'_>, id: &str) -> DbResult<bool> {
    Ok(c.execute("DELETE FROM admins WHERE id = ?1", args![id])? > 0)
}

pub fn exists(c: &mut Sql<'_>, id: &str) -> DbResult<bool> {
    c.query_row("SELECT 1 FROM admins WHERE id = ?1", args![id], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
}

/// Records a failed login; locks the account at the limit. Returns whether it is now locked.
pub fn record_failure(c: &mut Sql<'_>, id: &str) -> DbResult<bool> {
    let now = now_ms();
    c.execute(
        "UPDATE admins SET failed_logins = failed_logins + 1,
           locked_until_ms = CASE WHEN failed_logins + 1 >= ?2 THEN ?3 ELSE locked_until_ms END
         WHERE id = ?1",
        args![id, MAX_FAILED_LOGINS, now + LOCKOUT_MS],
    )?;
    c.query_row(
        "SELECT locked_until_ms FROM admins WHERE id = ?1",
        args![id],
        |r| r.get::<Option<i64>>(0),
    )
    .map(|l| l.is_some_and(|t| t > now))
}

pub fn record_success(c: &mut Sql<'_>, id: &str) -> DbResult<()> {
    c.execute(
        "UPDATE admins SET failed_logins = 0, locked_until_ms = NULL WHERE id = ?1",
        args![id],
    )?;
    Ok(())
}
