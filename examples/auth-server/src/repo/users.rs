//! The `users` table: accounts of the face-login server. The face templates live in the
//! engine's encrypted store under the user's id; this table holds no biometric data.

use faceprint_server::db::prelude::*;
use faceprint_server::db::Row;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    /// `active` or `disabled` (`pending` while a signup is being enrolled).
    pub status: String,
    pub created_ms: i64,
    pub last_login_ms: Option<i64>,
    /// Face templates enrolled.
    pub faces: u32,
}

const COLUMNS: &str = "id, name, email, status, created_ms, last_login_ms, faces";

fn row(r: &Row) -> DbResult<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        status: r.get(3)?,
        created_ms: r.get(4)?,
        last_login_ms: r.get(5)?,
        faces: r.get::<i64>(6)? as u32,
    })
}

/// Inserts a pending account; `None` when the email is taken.
pub fn insert_pending(c: &mut Sql<'_>, id: &str, name: &str, email: &str) -> DbResult<Option<()>> {
    let n = c.execute(
        "INSERT INTO users (id, name, email, status, created_ms) VALUES (?1, ?2, ?3, 'pending', ?4)
         ON CONFLICT(email) DO NOTHING",
        args![id, name, email, now_ms()],
    )?;
    Ok((n > 0).then_some(()))
}

pub fn activate(c: &mut Sql<'_>, id: &str, faces: u32) -> DbResult<()> {
    c.execute(
        "UPDATE users SET status = 'active', faces = ?2 WHERE id = ?1",
        args![id, faces as i64],
    )?;
    Ok(())
}

pub fn get(c: &mut Sql<'_>, id: &str) -> DbResult<Option<User>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        args![id],
        row,
    )
    .optional()
}

pub fn find_by_email(c: &mut Sql<'_>, email: &str) -> DbResult<Option<User>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE email = ?1"),
        args![email],
        row,
    )
    .optional()
}

pub fn touch_login(c: &mut Sql<'_>, id: &str) -> DbResult<()> {
    c.execute(
        "UPDATE users SET last_login_ms = ?2 WHERE id = ?1",
        args![id, now_ms()],
    )?;
    Ok(())
}

pub fn add_faces(c: &mut Sql<'_>, id: &str, n: u32) -> DbResult<()> {
    c.execute(
        "UPDATE users SET faces = faces + ?2 WHERE id = ?1",
        args![id, n as i64],
    )?;
    Ok(())
}

pub fn set_status(c: &mut Sql<'_>, id: &str, status: &str) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE users SET status = ?2 WHERE id = ?1 AND status != 'pending'",
        args![id, status],
    )? > 0)
}

/// Deletes the account row and its login sessions in one transaction.
pub fn delete(c: &mut Sql<'_>, id: &str) -> DbResult<bool> {
    c.atomic(|c| {
        faceprint_server::auth::sessions::delete_all(c, &format!("user:{id}"))?;
        let n = c.execute("DELETE FROM users WHERE id = ?1", args![id])?;
        Ok(n > 0)
    })
}

/// Signups that never finished (the process died between the row and the enrollment),
/// older than `age_ms`.
pub fn stale_pending(c: &mut Sql<'_>, age_ms: i64) -> DbResult<Vec<String>> {
    c.query_map(
        "SELECT id FROM users WHERE status = 'pending' AND created_ms < ?1",
        args![now_ms() - age_ms],
        |r| r.get(0),
    )
}

/// A page of users, newest first, optionally matching `search` in name or email.
pub fn list(
    c: &mut Sql<'_>,
    search: Option<&str>,
    limit: u32,
    offset: u32,
) -> DbResult<(Vec<User>, i64)> {
    let pattern = search.map(|s| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    // lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
    let filter = "status != 'pending' AND (CAST(?1 AS TEXT) IS NULL
        OR lower(name) LIKE lower(?1) ESCAPE '\\' OR lower(email) LIKE lower(?1) ESCAPE '\\')";
    let total = c.query_one(
        &format!("SELECT COUNT(*) FROM users WHERE {filter}"),
        args![&pattern],
    )?;
    let rows = c.query_map(
        &format!(
            "SELECT {COLUMNS} FROM users WHERE {filter} ORDER BY created_ms DESC LIMIT ?2 OFFSET ?3"
        ),
        args![&pattern, limit as i64, offset as i64],
        row,
    )?;
    Ok((rows, total))
}
