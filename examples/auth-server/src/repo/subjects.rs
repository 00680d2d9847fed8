//! `recognition_subjects`: the recognition API's subject names and the store ids behind them.

use faceprint_server::db::now_ms;
use rusqlite::{params, Connection, OptionalExtension};

/// The store id of `name`, if the subject exists.
pub fn id_of(conn: &Connection, collection: &str, name: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT subject_id FROM recognition_subjects WHERE collection = ?1 AND name = ?2",
        params![collection, name],
        |r| r.get(0),
    )
    .optional()
}

/// The name of store id `id`.
pub fn name_of(conn: &Connection, collection: &str, id: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT name FROM recognition_subjects WHERE collection = ?1 AND subject_id = ?2",
        params![collection, id],
        |r| r.get(0),
    )
    .optional()
}

/// Creates `name`; `None` when it exists.
pub fn create(conn: &Connection, collection: &str, name: &str) -> rusqlite::Result<Option<String>> {
    let id = uuid::Uuid::new_v4().to_string();
    let n = conn.execute(
        "INSERT INTO recognition_subjects (collection, name, subject_id, created_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        params![collection, name, id, now_ms()],
    )?;
    Ok((n > 0).then_some(id))
}

/// The id of `name`, creating the subject when it is new.
pub fn get_or_create(conn: &Connection, collection: &str, name: &str) -> rusqlite::Result<String> {
    match id_of(conn, collection, name)? {
        Some(id) => Ok(id),
        None => match create(conn, collection, name)? {
            Some(id) => Ok(id),
            None => id_of(conn, collection, name)?.ok_or(rusqlite::Error::QueryReturnedNoRows),
        },
    }
}

/// Every (name, id) of the collection, by name.
pub fn list(conn: &Connection, collection: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut st = conn.prepare(
        "SELECT name, subject_id FROM recognition_subjects WHERE collection = ?1 ORDER BY name",
    )?;
    let rows = st.query_map([collection], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Renames; false when `old` is missing, an error (constraint) when `new` exists.
pub fn rename(conn: &Connection, collection: &str, old: &str, new: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE recognition_subjects SET name = ?3 WHERE collection = ?1 AND name = ?2",
        params![collection, old, new],
    )? > 0)
}

pub fn delete(conn: &Connection, collection: &str, name: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM recognition_subjects WHERE collection = ?1 AND name = ?2",
        params![collection, name],
    )? > 0)
}
