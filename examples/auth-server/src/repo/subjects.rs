//! `recognition_subjects`: the recognition API's subject names and the store ids behind them.

use faceprint_server::db::prelude::*;

/// The store id of `name`, if the subject exists.
pub fn id_of(c: &mut Sql<'_>, collection: &str, name: &str) -> DbResult<Option<String>> {
    c.query_row(
        "SELECT subject_id FROM recognition_subjects WHERE collection = ?1 AND name = ?2",
        args![collection, name],
        |r| r.get(0),
    )
    .optional()
}

/// The name of store id `id`.
pub fn name_of(c: &mut Sql<'_>, collection: &str, id: &str) -> DbResult<Option<String>> {
    c.query_row(
        "SELECT name FROM recognition_subjects WHERE collection = ?1 AND subject_id = ?2",
        args![collection, id],
        |r| r.get(0),
    )
    .optional()
}

/// Creates `name`; `None` when it exists.
pub fn create(c: &mut Sql<'_>, collection: &str, name: &str) -> DbResult<Option<String>> {
    let id = uuid::Uuid::new_v4().to_string();
    let n = c.execute(
        "INSERT INTO recognition_subjects (collection, name, subject_id, created_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        args![collection, name, &id, now_ms()],
    )?;
    Ok((n > 0).then_some(id))
}

/// The id of `name`, creating the subject when it is new.
pub fn get_or_create(c: &mut Sql<'_>, collection: &str, name: &str) -> DbResult<String> {
    match id_of(c, collection, name)? {
        Some(id) => Ok(id),
        None => match create(c, collection, name)? {
            Some(id) => Ok(id),
            None => id_of(c, collection, name)?.ok_or(DbError::NoRow),
        },
    }
}

/// Every (name, id) of the collection, by name.
pub fn list(c: &mut Sql<'_>, collection: &str) -> DbResult<Vec<(String, String)>> {
    c.query_map(
        "SELECT name, subject_id FROM recognition_subjects WHERE collection = ?1 ORDER BY name",
        args![collection],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Renames; false when `old` is missing, an error (constraint) when `new` exists.
pub fn rename(c: &mut Sql<'_>, collection: &str, old: &str, new: &str) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE recognition_subjects SET name = ?3 WHERE collection = ?1 AND name = ?2",
        args![collection, old, new],
    )? > 0)
}

pub fn delete(c: &mut Sql<'_>, collection: &str, name: &str) -> DbResult<bool> {
    Ok(c.execute(
        "DELETE FROM recognition_subjects WHERE collection = ?1 AND name = ?2",
        args![collection, name],
    )? > 0)
}
