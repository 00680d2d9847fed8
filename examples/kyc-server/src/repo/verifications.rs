//! Verifications and their sealed images. Sealing and opening is the service's: these
//! functions move bytes.

use faceprint_server::db::prelude::*;
use faceprint_server::db::{Row, Value};

/// The images a verification holds.
pub const IMAGE_KINDS: &[&str] = &["document_front", "document_back", "portrait", "selfie"];

#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub user_id: String,
    pub status: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub document_step: String,
    pub selfie_step: String,
    pub document_sealed: Option<Vec<u8>>,
    pub liveness_score: Option<f32>,
    pub live: Option<bool>,
    pub match_score: Option<f32>,
    pub reasons: Vec<String>,
    pub decided_by: Option<String>,
    pub decided_ms: Option<i64>,
    pub review_note: Option<String>,
    pub images_deleted_ms: Option<i64>,
}

const COLUMNS: &str = "id, user_id, status, created_ms, updated_ms, document_step, selfie_step, \
    document_sealed, liveness_score, live, match_score, reasons, decided_by, decided_ms, \
    review_note, images_deleted_ms";

fn record(r: &Row) -> DbResult<Record> {
    let reasons: String = r.get(11)?;
    Ok(Record {
        id: r.get(0)?,
        user_id: r.get(1)?,
        status: r.get(2)?,
        created_ms: r.get(3)?,
        updated_ms: r.get(4)?,
        document_step: r.get(5)?,
        selfie_step: r.get(6)?,
        document_sealed: r.get(7)?,
        liveness_score: r.get::<Option<f64>>(8)?.map(|v| v as f32),
        live: r.get(9)?,
        match_score: r.get::<Option<f64>>(10)?.map(|v| v as f32),
        reasons: serde_json::from_str(&reasons).unwrap_or_default(),
        decided_by: r.get(12)?,
        decided_ms: r.get(13)?,
        review_note: r.get(14)?,
        images_deleted_ms: r.get(15)?,
    })
}

pub fn insert(c: &mut Sql<'_>, id: &str, user_id: &str, now: i64) -> DbResult<()> {
    c.execute(
        "INSERT INTO verifications (id, user_id, status, created_ms, updated_ms, document_step, selfie_step, reasons)
         VALUES (?1, ?2, 'in_progress', ?3, ?3, 'pending', 'pending', '[]')",
        args![id, user_id, now],
    )?;
    Ok(())
}

pub fn get(c: &mut Sql<'_>, id: &str) -> DbResult<Option<Record>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM verifications WHERE id = ?1"),
        args![id],
        record,
    )
    .optional()
}

/// A user's verifications, newest first.
pub fn of_user(c: &mut Sql<'_>, user_id: &str) -> DbResult<Vec<Record>> {
    c.query_map(
        &format!(
            "SELECT {COLUMNS} FROM verifications WHERE user_id = ?1 ORDER BY created_ms DESC, id"
        ),
        args![user_id],
        record,
    )
}

/// Verifications in `status` (every one when None), oldest change first, at most `limit`.
pub fn by_status(c: &mut Sql<'_>, status: Option<&str>, limit: u32) -> DbResult<Vec<Record>> {
    c.query_map(
        &format!(
            "SELECT {COLUMNS} FROM verifications WHERE CAST(?1 AS TEXT) IS NULL OR status = ?1
             ORDER BY updated_ms, id LIMIT ?2"
        ),
        args![status, limit],
        record,
    )
}

/// The document step done (again, when the document is replaced before the selfie).
pub fn set_document(c: &mut Sql<'_>, id: &str, sealed: &[u8], now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE verifications SET document_sealed = ?2, document_step = 'done', updated_ms = ?3 WHERE id = ?1",
        args![id, sealed, now],
    )?;
    Ok(())
}

/// What the selfie gave, and the automatic decision.
pub struct SelfieOutcome<'a> {
    pub liveness_score: Option<f32>,
    pub live: bool,
    pub match_score: Option<f32>,
    pub status: &'a str,
    pub reasons: &'a [String],
}

pub fn set_selfie(c: &mut Sql<'_>, id: &str, o: &SelfieOutcome, now: i64) -> DbResult<()> {
    let decided = (o.status != "in_progress").then_some(now);
    c.execute(
        "UPDATE verifications SET selfie_step = 'done', liveness_score = ?2, live = ?3, match_score = ?4,
           status = ?5, reasons = ?6, decided_by = CASE WHEN CAST(?7 AS BIGINT) IS NULL THEN NULL ELSE 'system' END,
           decided_ms = ?7, updated_ms = ?8
         WHERE id = ?1",
        args![
            id,
            o.liveness_score,
            o.live,
            o.match_score,
            o.status,
            serde_json::to_string(o.reasons).unwrap_or_else(|_| "[]".into()),
            decided,
            now
        ],
    )?;
    Ok(())
}

/// A verifier's decision on a case in review; false when it is not in review (any more).
pub fn set_review(
    c: &mut Sql<'_>,
    id: &str,
    status: &str,
    reviewer: &str,
    note: &str,
    now: i64,
) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE verifications SET status = ?2, decided_by = ?3, review_note = ?4, decided_ms = ?5, updated_ms = ?5
         WHERE id = ?1 AND status = 'needs_review'",
        args![id, status, reviewer, note, now],
    )? == 1)
}

pub fn put_image(c: &mut Sql<'_>, id: &str, kind: &str, sealed: &[u8], now: i64) -> DbResult<()> {
    c.execute(
        "INSERT INTO verification_images (verification_id, kind, sealed, created_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (verification_id, kind) DO UPDATE SET sealed = excluded.sealed, created_ms = excluded.created_ms",
        args![id, kind, sealed, now],
    )?;
    Ok(())
}

pub fn drop_image(c: &mut Sql<'_>, id: &str, kind: &str) -> DbResult<()> {
    c.execute(
        "DELETE FROM verification_images WHERE verification_id = ?1 AND kind = ?2",
        args![id, kind],
    )?;
    Ok(())
}

pub fn image(c: &mut Sql<'_>, id: &str, kind: &str) -> DbResult<Option<Vec<u8>>> {
    c.query_row(
        "SELECT sealed FROM verification_images WHERE verification_id = ?1 AND kind = ?2",
        args![id, kind],
        |r| r.get(0),
    )
    .optional()
}

/// The kinds of image each of `ids` still holds, in one query (lists and queues).
pub fn image_kinds_of(
    c: &mut Sql<'_>,
    ids: &[String],
) -> DbResult<std::collections::HashMap<String, Vec<String>>> {
    let mut out = std::collections::HashMap::<String, Vec<String>>::new();
    if ids.is_empty() {
        return Ok(out);
    }
    // One argument per id: `IN (?1, ?2, …)` reads the same in SQLite and PostgreSQL.
    let places: Vec<String> = (1..=ids.len()).map(|i| format!("?{i}")).collect();
    let args: Vec<Value> = ids.iter().map(Value::from).collect();
    let rows = c.query_map(
        &format!(
            "SELECT verification_id, kind FROM verification_images
             WHERE verification_id IN ({}) ORDER BY verification_id, kind",
            places.join(", ")
        ),
        &args,
        |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
    )?;
    for (id, kind) in rows {
        out.entry(id).or_default().push(kind);
    }
    Ok(out)
}

/// Every image a verification still holds: (kind, sealed).
pub fn images(c: &mut Sql<'_>, id: &str) -> DbResult<Vec<(String, Vec<u8>)>> {
    c.query_map(
        "SELECT kind, sealed FROM verification_images WHERE verification_id = ?1 ORDER BY kind",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Deletes every image uploaded before `cutoff_ms`; answers the verifications they belonged
/// to (now marked as without images).
pub fn delete_images_before(c: &mut Sql<'_>, cutoff_ms: i64, now: i64) -> DbResult<Vec<String>> {
    let ids: Vec<String> = c.query_map(
        "SELECT DISTINCT verification_id FROM verification_images WHERE created_ms < ?1 ORDER BY 1",
        args![cutoff_ms],
        |r| r.get(0),
    )?;
    c.execute(
        "DELETE FROM verification_images WHERE created_ms < ?1",
        args![cutoff_ms],
    )?;
    for id in &ids {
        c.execute(
            "UPDATE verifications SET images_deleted_ms = ?2 WHERE id = ?1",
            args![id, now],
        )?;
    }
    Ok(ids)
}

/// Deletes a user's verifications and their images; answers how many verifications.
pub fn delete_of_user(c: &mut Sql<'_>, user_id: &str) -> DbResult<usize> {
    c.execute(
        "DELETE FROM verification_images WHERE verification_id IN (SELECT id FROM verifications WHERE user_id = ?1)",
        args![user_id],
    )?;
    c.execute(
        "DELETE FROM verifications WHERE user_id = ?1",
        args![user_id],
    )
    .map(|n| n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A case's rows on both databases: its images listed, kept past the cutoff and deleted
    /// before it, and everything of a user erased.
    #[test]
    fn a_case_and_its_images_on_both_databases() {
        let dir = tempfile::tempdir().unwrap();
        for db in
            faceprint_server::testing::test_databases(dir.path(), &[&super::super::MIGRATIONS])
        {
            db.write(|c| {
                insert(c, "v1", "u1", 1_000)?;
                insert(c, "v2", "u1", 2_000)?;
                put_image(c, "v1", "document_front", b"sealed-1", 1_000)?;
                put_image(c, "v1", "selfie", b"sealed-2", 5_000)?;
                put_image(c, "v2", "portrait", b"sealed-3", 5_000)?;
                // The same kind again replaces it.
                put_image(c, "v1", "selfie", b"sealed-4", 6_000)?;
                set_document(c, "v1", b"findings", 1_500)?;
                let kinds = image_kinds_of(c, &["v1".into(), "v2".into(), "v3".into()])?;
                assert_eq!(kinds["v1"], ["document_front", "selfie"]);
                assert_eq!(kinds["v2"], ["portrait"]);
                assert!(!kinds.contains_key("v3"));
                assert_eq!(image(c, "v1", "selfie")?.as_deref(), Some(&b"sealed-4"[..]));
                assert_eq!(delete_images_before(c, 2_000, 9_000)?, ["v1"]);
                assert_eq!(images(c, "v1")?.len(), 1);
                let v1 = get(c, "v1")?.expect("v1");
                assert_eq!(
                    (v1.document_step.as_str(), v1.images_deleted_ms),
                    ("done", Some(9_000))
                );
                assert_eq!(by_status(c, Some("in_progress"), 10)?.len(), 2);
                assert_eq!(of_user(c, "u1")?.len(), 2);
                assert_eq!(delete_of_user(c, "u1")?, 2);
                assert!(of_user(c, "u1")?.is_empty());
                Ok(())
            })
            .unwrap();
        }
    }
}
