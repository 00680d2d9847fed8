//! Verifications and their sealed images. Sealing and opening is the service's: these
//! functions move bytes.

use rusqlite::{params, Connection, OptionalExtension, Row};

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

fn record(r: &Row) -> rusqlite::Result<Record> {
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
        liveness_score: r.get::<_, Option<f64>>(8)?.map(|v| v as f32),
        live: r.get(9)?,
        match_score: r.get::<_, Option<f64>>(10)?.map(|v| v as f32),
        reasons: serde_json::from_str(&reasons).unwrap_or_default(),
        decided_by: r.get(12)?,
        decided_ms: r.get(13)?,
        review_note: r.get(14)?,
        images_deleted_ms: r.get(15)?,
    })
}

pub fn insert(conn: &Connection, id: &str, user_id: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO verifications (id, user_id, status, created_ms, updated_ms, document_step, selfie_step, reasons)
         VALUES (?1, ?2, 'in_progress', ?3, ?3, 'pending', 'pending', '[]')",
        params![id, user_id, now],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<Record>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM verifications WHERE id = ?1"),
        [id],
        record,
    )
    .optional()
}

/// A user's verifications, newest first.
pub fn of_user(conn: &Connection, user_id: &str) -> rusqlite::Result<Vec<Record>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM verifications WHERE user_id = ?1 ORDER BY created_ms DESC, id"
    ))?;
    let rows = st.query_map([user_id], record)?;
    rows.collect()
}

/// Verifications in `status` (every one when None), oldest change first, at most `limit`.
pub fn by_status(
    conn: &Connection,
    status: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<Record>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM verifications WHERE ?1 IS NULL OR status = ?1
         ORDER BY updated_ms, id LIMIT ?2"
    ))?;
    let rows = st.query_map(params![status, limit], record)?;
    rows.collect()
}

/// The document step done (again, when the document is replaced before the selfie).
pub fn set_document(conn: &Connection, id: &str, sealed: &[u8], now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE verifications SET document_sealed = ?2, document_step = 'done', updated_ms = ?3 WHERE id = ?1",
        params![id, sealed, now],
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

pub fn set_selfie(
    conn: &Connection,
    id: &str,
    o: &SelfieOutcome,
    now: i64,
) -> rusqlite::Result<()> {
    let decided = (o.status != "in_progress").then_some(now);
    conn.execute(
        "UPDATE verifications SET selfie_step = 'done', liveness_score = ?2, live = ?3, match_score = ?4,
           status = ?5, reasons = ?6, decided_by = CASE WHEN ?7 IS NULL THEN NULL ELSE 'system' END,
           decided_ms = ?7, updated_ms = ?8
         WHERE id = ?1",
        params![
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
    conn: &Connection,
    id: &str,
    status: &str,
    reviewer: &str,
    note: &str,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE verifications SET status = ?2, decided_by = ?3, review_note = ?4, decided_ms = ?5, updated_ms = ?5
         WHERE id = ?1 AND status = 'needs_review'",
        params![id, status, reviewer, note, now],
    )? == 1)
}

pub fn put_image(
    conn: &Connection,
    id: &str,
    kind: &str,
    sealed: &[u8],
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO verification_images (verification_id, kind, sealed, created_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (verification_id, kind) DO UPDATE SET sealed = excluded.sealed, created_ms = excluded.created_ms",
        params![id, kind, sealed, now],
    )?;
    Ok(())
}

pub fn drop_image(conn: &Connection, id: &str, kind: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM verification_images WHERE verification_id = ?1 AND kind = ?2",
        params![id, kind],
    )?;
    Ok(())
}

pub fn image(conn: &Connection, id: &str, kind: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row(
        "SELECT sealed FROM verification_images WHERE verification_id = ?1 AND kind = ?2",
        params![id, kind],
        |r| r.get(0),
    )
    .optional()
}

/// The kinds of image each of `ids` still holds, in one query (lists and queues).
pub fn image_kinds_of(
    conn: &Connection,
    ids: &[String],
) -> rusqlite::Result<std::collections::HashMap<String, Vec<String>>> {
    let ids = serde_json::to_string(ids)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    let mut st = conn.prepare(
        "SELECT verification_id, kind FROM verification_images
         WHERE verification_id IN (SELECT value FROM json_each(?1)) ORDER BY verification_id, kind",
    )?;
    let mut out = std::collections::HashMap::<String, Vec<String>>::new();
    for row in st.query_map([ids], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
        let (id, kind) = row?;
        out.entry(id).or_default().push(kind);
    }
    Ok(out)
}

/// Every image a verification still holds: (kind, sealed).
pub fn images(conn: &Connection, id: &str) -> rusqlite::Result<Vec<(String, Vec<u8>)>> {
    let mut st = conn.prepare(
        "SELECT kind, sealed FROM verification_images WHERE verification_id = ?1 ORDER BY kind",
    )?;
    let rows = st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Deletes every image uploaded before `cutoff_ms`; answers the verifications they belonged
/// to (now marked as without images).
pub fn delete_images_before(
    conn: &Connection,
    cutoff_ms: i64,
    now: i64,
) -> rusqlite::Result<Vec<String>> {
    let ids: Vec<String> = {
        let mut st = conn.prepare(
            "SELECT DISTINCT verification_id FROM verification_images WHERE created_ms < ?1 ORDER BY 1",
        )?;
        let rows = st.query_map([cutoff_ms], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    conn.execute(
        "DELETE FROM verification_images WHERE created_ms < ?1",
        [cutoff_ms],
    )?;
    for id in &ids {
        conn.execute(
            "UPDATE verifications SET images_deleted_ms = ?2 WHERE id = ?1",
            params![id, now],
        )?;
    }
    Ok(ids)
}

/// Deletes a user's verifications and their images; answers how many verifications.
pub fn delete_of_user(conn: &Connection, user_id: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM verification_images WHERE verification_id IN (SELECT id FROM verifications WHERE user_id = ?1)",
        [user_id],
    )?;
    conn.execute("DELETE FROM verifications WHERE user_id = ?1", [user_id])
}
