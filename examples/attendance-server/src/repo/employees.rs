//! The `employees` table. Faces live in the template store under the employee's id.

use faceprint_server::db::prelude::*;
use faceprint_server::db::Row;
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

fn row(r: &Row) -> DbResult<Employee> {
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
pub fn insert(c: &mut Sql<'_>, e: &Employee) -> DbResult<Option<()>> {
    let n = c.execute(
        "INSERT INTO employees (id, name, email, department, status, created_ms, photos)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) ON CONFLICT DO NOTHING",
        args![
            &e.id,
            &e.name,
            &e.email,
            &e.department,
            &e.status,
            e.created_ms
        ],
    )?;
    Ok((n == 1).then_some(()))
}

pub fn get(c: &mut Sql<'_>, id: &str) -> DbResult<Option<Employee>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM employees WHERE id = ?1"),
        args![id],
        row,
    )
    .optional()
}

pub fn list(c: &mut Sql<'_>) -> DbResult<Vec<Employee>> {
    c.query_map(
        &format!("SELECT {COLUMNS} FROM employees ORDER BY name, id"),
        args![],
        row,
    )
}

/// Changes name, email and department; false when there is no such employee or the email is
/// another's.
pub fn update(c: &mut Sql<'_>, e: &Employee) -> DbResult<bool> {
    let updated = c.atomic(|c| {
        c.execute(
            "UPDATE employees SET name = ?2, email = ?3, department = ?4 WHERE id = ?1",
            args![&e.id, &e.name, &e.email, &e.department],
        )
    });
    match updated {
        Ok(n) => Ok(n == 1),
        Err(DbError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn set_status(c: &mut Sql<'_>, id: &str, status: &str) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE employees SET status = ?2 WHERE id = ?1",
        args![id, status],
    )? == 1)
}

pub fn set_photos(c: &mut Sql<'_>, id: &str, photos: i64) -> DbResult<()> {
    c.execute(
        "UPDATE employees SET photos = ?2 WHERE id = ?1",
        args![id, photos],
    )?;
    Ok(())
}

pub fn seen(c: &mut Sql<'_>, id: &str, at_ms: i64) -> DbResult<()> {
    c.execute(
        "UPDATE employees SET last_seen_ms = CASE WHEN coalesce(last_seen_ms, 0) > ?2
             THEN last_seen_ms ELSE ?2 END WHERE id = ?1",
        args![id, at_ms],
    )?;
    Ok(())
}

pub fn delete(c: &mut Sql<'_>, id: &str) -> DbResult<bool> {
    Ok(c.execute("DELETE FROM employees WHERE id = ?1", args![id])? == 1)
}
