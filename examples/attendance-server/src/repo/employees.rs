//! The `employees` table. Faces live in the template store under the employee's id.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Employee {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub department: Option<String>,
    /// `active`, or `archived` (faces kept, never matched).
    pub status: String,
    pub created_ms: i64,
    /// Face photos enrolled.
    pub photos: i64,
    /// Last time a camera recorded them.
    pub last_seen_ms: Option<i64>,
}

const COLUMNS: &str = "id, name, email, department, status, created_ms, photos, last_seen_ms";

fn row(r: &Row) -> rusqlite::Result<Employee> {
    Ok(Employee {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        department: r.get(3)?,
        status: r.get(4)?,
        created_ms: r.get(5)?,
        photos: r.get(6)?,
        last_seen_ms: r.get(7)?,
    })
}

/// None when the email is taken.
pub fn insert(conn: &Connection, e: &Employee) -> rusqlite::Result<Option<()>> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO employees (id, name, email, department, status, created_ms, photos)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
        params![e.id, e.name, e.email, e.department, e.status, e.created_ms],
    )?;
    Ok((n == 1).then_some(()))
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<Employee>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM employees WHERE id = ?1"),
        [id],
        row,
    )
    .optional()
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Employee>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM employees ORDER BY name, id"
    ))?;
    let rows = st.query_map([], row)?;
    rows.collect()
}

/// Changes name, email and department; false when there is no such employee or the email is
/// another's.
pub fn update(conn: &Connection, e: &Employee) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE OR IGNORE employees SET name = ?2, email = ?3, department = ?4 WHERE id = ?1",
        params![e.id, e.name, e.email, e.department],
    )? == 1)
}

pub fn set_status(conn: &Connection, id: &str, status: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE employees SET status = ?2 WHERE id = ?1",
        params![id, status],
    )? == 1)
}

pub fn set_photos(conn: &Connection, id: &str, photos: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE employees SET photos = ?2 WHERE id = ?1",
        params![id, photos],
    )?;
    Ok(())
}

pub fn seen(conn: &Connection, id: &str, at_ms: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE employees SET last_seen_ms = max(coalesce(last_seen_ms, 0), ?2) WHERE id = ?1",
        params![id, at_ms],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM employees WHERE id = ?1", [id])? == 1)
}
