//! The `users` table: accounts of the face-login server. The face templates live in the
//! engine's encrypted store under the user's id; this table holds no biometric data.

use faceprint_server::db::now_ms;
use rusqlite::{params, Connection, OptionalExtension};
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

fn row(r: &rusqlite::Row) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        status: r.get(3)?,
        created_ms: r.get(4)?,
        last_login_ms: r.get(5)?,
        faces: r.get::<_, i64>(6)? as u32,
    })
}

/// Inserts a pending account; `None` when the email is taken.
pub fn insert_pending(
    conn: &Connection,
    id: &str,
    name: &str,
    email: &str,
) -> rusqlite::Result<Option<()>> {
    let n = conn.execute(
        "INSERT INTO users (id, name, email, status, created_ms) VALUES (?1, ?2, ?3, 'pending', ?4)
         ON CONFLICT(email) DO NOTHING",
        params![id, name, email, now_ms()],
    )?;
    Ok((n > 0).then_some(()))
}

pub fn activate(conn: &Connection, id: &str, faces: u32) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET status = 'active', faces = ?2 WHERE id = ?1",
        params![id, faces as i64],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        [id],
        row,
    )
    .optional()
}

pub fn find_by_email(conn: &Connection, email: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE email = ?1"),
        [email],
        row,
    )
    .optional()
}

pub fn touch_login(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET last_login_ms = ?2 WHERE id = ?1",
        params![id, now_ms()],
    )?;
    Ok(())
}

pub fn add_faces(conn: &Connection, id: &str, n: u32) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET faces = faces + ?2 WHERE id = ?1",
        params![id, n as i64],
    )?;
    Ok(())
}

pub fn set_status(conn: &Connection, id: &str, status: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE users SET status = ?2 WHERE id = ?1 AND status != 'pending'",
        params![id, status],
    )? > 0)
}

/// Deletes the account row and its login sessions in one transaction.
pub fn delete(conn: &mut Connection, id: &str) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    faceprint_server::auth::sessions::delete_all(&tx, &format!("user:{id}"))?;
    let n = tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
    tx.commit()?;
    Ok(n > 0)
}

/// Signups that never finished (the process died between the row and the enrollment),
/// older than `age_ms`.
pub fn stale_pending(conn: &Connection, age_ms: i64) -> rusqlite::Result<Vec<String>> {
    let mut st =
        conn.prepare("SELECT id FROM users WHERE status = 'pending' AND created_ms < ?1")?;
    let rows = st.query_map([now_ms() - age_ms], |r| r.get(0))?;
    rows.collect()
}

/// A page of users, newest first, optionally matching `search` in name or email.
pub fn list(
    conn: &Connection,
    search: Option<&str>,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(Vec<User>, i64)> {
    let pattern = search.map(|s| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let filter = "status != 'pending' AND (?1 IS NULL OR name LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\')";
    let total = conn.query_row(
        &format!("SELECT COUNT(*) FROM users WHERE {filter}"),
        [&pattern],
        |r| r.get(0),
    )?;
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM users WHERE {filter} ORDER BY created_ms DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = st.query_map(params![pattern, limit as i64, offset as i64], row)?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total))
}
