//! The embedded default store: one SQLite file (bundled SQLite, WAL, synchronous=FULL), versioned
//! migrations, every template sealed under its subject's data key.

use super::crypto::{self, DataKey, MasterKey};
use super::*;
use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    "CREATE TABLE keys (
         key_id TEXT PRIMARY KEY,
         check_blob BLOB NOT NULL,
         created_at INTEGER NOT NULL
     );
     CREATE TABLE collections (
         id INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE,
         model_id TEXT NOT NULL,
         dim INTEGER NOT NULL,
         created_at INTEGER NOT NULL
     );
     CREATE TABLE subjects (
         id INTEGER PRIMARY KEY,
         collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
         external_id TEXT NOT NULL,
         display_name TEXT,
         metadata TEXT NOT NULL DEFAULT '{}',
         disabled INTEGER NOT NULL DEFAULT 0,
         created_at INTEGER NOT NULL,
         updated_at INTEGER NOT NULL,
         key_id TEXT NOT NULL,
         wrapped_key BLOB NOT NULL,
         UNIQUE (collection_id, external_id)
     );
     CREATE TABLE templates (
         id TEXT PRIMARY KEY,
         subject_id INTEGER NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
         model_id TEXT NOT NULL,
         model_version TEXT NOT NULL,
         dim INTEGER NOT NULL,
         quality REAL,
         source TEXT,
         created_at INTEGER NOT NULL,
         ciphertext BLOB NOT NULL
     );
     CREATE INDEX templates_by_subject ON templates(subject_id);
     CREATE TABLE audit (
         id INTEGER PRIMARY KEY,
         at INTEGER NOT NULL,
         action TEXT NOT NULL,
         collection TEXT,
         subject TEXT,
         outcome TEXT NOT NULL,
         score REAL,
         latency_ms REAL,
         actor TEXT
     );
     CREATE INDEX audit_by_collection ON audit(collection, id);",
];

/// A [`TemplateStore`] in one SQLite file, encrypted at rest.
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
    key: MasterKey,
    /// Keys a rotation may still need for subjects not yet re-wrapped.
    previous: Vec<MasterKey>,
}

/// What a key rotation did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rotation {
    pub new_key_id: String,
    pub rewrapped: u64,
    pub already_done: u64,
}

fn subject_aad(collection: &str, external_id: &str) -> Vec<u8> {
    crypto::aad(&["subject-key", collection, external_id])
}

fn template_aad(collection: &str, external_id: &str, template_id: &str, model_id: &str) -> Vec<u8> {
    crypto::aad(&["template", collection, external_id, template_id, model_id])
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` with its master key.
    pub fn open(path: impl AsRef<Path>, key: MasterKey) -> Result<SqliteStore> {
        SqliteStore::open_with_previous_keys(path, key, Vec::new())
    }

    /// Opens with older keys too, to read subjects a rotation has not re-wrapped yet.
    pub fn open_with_previous_keys(
        path: impl AsRef<Path>,
        key: MasterKey,
        previous: Vec<MasterKey>,
    ) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL: readers never block the writer; FULL: a returned commit survives power loss.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Storage(format!(
                "could not enable WAL (journal_mode is {mode})"
            )));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
        migrate(&mut conn)?;
        let store = SqliteStore {
            path,
            conn: Mutex::new(conn),
            key,
            previous,
        };
        store.check_keys()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn key_id(&self) -> &str {
        self.key.id()
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new store records its key's check value; an existing one must recognise the key.
    fn check_keys(&self) -> Result<()> {
        let conn = self.conn();
        let known: Vec<(String, Vec<u8>)> = conn
            .prepare("SELECT key_id, check_blob FROM keys")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<std::result::Result<_, _>>()?;
        if known.is_empty() {
            conn.execute(
                "INSERT INTO keys (key_id, check_blob, created_at) VALUES (?1, ?2, ?3)",
                params![self.key.id(), crypto::key_check(&self.key)?, now_ms()],
            )?;
            return Ok(());
        }
        for k in std::iter::once(&self.key).chain(&self.previous) {
            match known.iter().find(|(id, _)| id == k.id()) {
                Some((_, blob)) => crypto::verify_key_check(k, blob)?,
                None => {
                    return Err(Error::WrongKey(format!(
                        "key {} is not one of this store's keys ({})",
                        k.id(),
                        known
                            .iter()
                            .map(|k| k.0.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )))
                }
            }
        }
        Ok(())
    }

    fn key_for(&self, key_id: &str) -> Result<&MasterKey> {
        std::iter::once(&self.key)
            .chain(&self.previous)
            .find(|k| k.id() == key_id)
            .ok_or_else(|| {
                Error::WrongKey(format!(
                    "a subject's key is wrapped by key {key_id}; open the store with it as a previous key \
                     (an interrupted rotation resumes with `keys rotate`)"
                ))
            })
    }

    fn collection_row(conn: &Connection, name: &str) -> Result<(i64, Collection)> {
        conn.query_row(
            "SELECT id, name, model_id, dim, created_at FROM collections WHERE name = ?1",
            [name],
            |r| {
                Ok((
                    r.get(0)?,
                    Collection {
                        name: r.get(1)?,
                        model_id: r.get(2)?,
                        dim: r.get::<_, i64>(3)? as usize,
                        created_at: r.get(4)?,
                    },
                ))
            },
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("collection {name:?}")))
    }

    /// (row id, key id, wrapped key) of a subject.
    fn subject_key_row(
        conn: &Connection,
        cid: i64,
        external_id: &str,
    ) -> Result<(i64, String, Vec<u8>)> {
        conn.query_row(
            "SELECT id, key_id, wrapped_key FROM subjects WHERE collection_id = ?1 AND external_id = ?2",
            params![cid, external_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("subject {external_id:?}")))
    }

    fn data_key(
        &self,
        collection: &str,
        external_id: &str,
        key_id: &str,
        wrapped: &[u8],
    ) -> Result<DataKey> {
        crypto::unwrap(
            self.key_for(key_id)?,
            wrapped,
            &subject_aad(collection, external_id),
        )
    }

    fn read_subject(r: &rusqlite::Row<'_>, collection: &str) -> rusqlite::Result<Subject> {
        let metadata: String = r.get(2)?;
        Ok(Subject {
            collection: collection.to_string(),
            external_id: r.get(0)?,
            display_name: r.get(1)?,
            metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
            disabled: r.get::<_, i64>(3)? != 0,
            created_at: r.get(4)?,
            updated_at: r.get(5)?,
            templates: r.get::<_, i64>(6)? as usize,
        })
    }

    const SUBJECT_COLUMNS: &'static str =
        "s.external_id, s.display_name, s.metadata, s.disabled, s.created_at, s.updated_at,
         (SELECT COUNT(*) FROM templates t WHERE t.subject_id = s.id)";

    fn decrypt_rows(
        &self,
        collection: &Collection,
        rows: Vec<TemplateRow>,
    ) -> Result<Vec<Template>> {
        let mut keys: std::collections::HashMap<String, DataKey> = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let subject = row.subject.clone();
            if !keys.contains_key(&subject) {
                let k = self.data_key(&collection.name, &subject, &row.key_id, &row.wrapped_key)?;
                keys.insert(subject.clone(), k);
            }
            if row.model_id != collection.model_id || row.dim != collection.dim {
                return Err(Error::StoreCorrupt(format!(
                    "template {} is {} x{} in collection {} of {} x{}",
                    row.id,
                    row.model_id,
                    row.dim,
                    collection.name,
                    collection.model_id,
                    collection.dim
                )));
            }
            let aad = template_aad(&collection.name, &subject, &row.id, &row.model_id);
            let v = crypto::open_vector(&keys[&subject], &row.ciphertext, &aad, row.dim)?;
            let embedding = Embedding::new(row.model_id.as_str(), v)
                .map_err(|e| Error::StoreCorrupt(format!("template {}: {e}", row.id)))?;
            out.push(Template {
                id: row.id,
                subject,
                model_version: row.model_version,
                quality: row.quality,
                source: row.source,
                created_at: row.created_at,
                embedding,
            });
        }
        Ok(out)
    }

    fn template_rows(&self, cid: i64, subject: Option<&str>) -> Result<Vec<TemplateRow>> {
        let conn = self.conn();
        let sql = "SELECT s.external_id, s.key_id, s.wrapped_key, t.id, t.model_id, t.model_version, t.dim, t.quality,
                          t.source, t.created_at, t.ciphertext
                   FROM templates t JOIN subjects s ON s.id = t.subject_id
                   WHERE s.collection_id = ?1 AND (?2 IS NULL OR s.external_id = ?2)
                   ORDER BY s.external_id, t.created_at, t.id";
        let rows = conn
            .prepare_cached(sql)?
            .query_map(params![cid, subject], |r| {
                Ok(TemplateRow {
                    subject: r.get(0)?,
                    key_id: r.get(1)?,
                    wrapped_key: r.get(2)?,
                    id: r.get(3)?,
                    model_id: r.get(4)?,
                    model_version: r.get(5)?,
                    dim: r.get::<_, i64>(6)? as usize,
                    quality: r.get(7)?,
                    source: r.get(8)?,
                    created_at: r.get(9)?,
                    ciphertext: r.get(10)?,
                })
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Re-wraps every subject key under `new` (templates keep their data keys, so they are not
    /// rewritten). Commits in batches, so a crash loses at most one batch of work and a rerun —
    /// with the old key among the previous keys — carries on where it stopped.
    pub fn rotate_key(
        &mut self,
        new: MasterKey,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Rotation> {
        {
            let conn = self.conn();
            conn.execute(
                "INSERT OR IGNORE INTO keys (key_id, check_blob, created_at) VALUES (?1, ?2, ?3)",
                params![new.id(), crypto::key_check(&new)?, now_ms()],
            )?;
        }
        if new.id() != self.key.id() {
            let old = std::mem::replace(&mut self.key, new.clone());
            self.previous.push(old);
        }
        let (total, done): (u64, u64) = self.conn().query_row(
            "SELECT COUNT(*), COALESCE(SUM(key_id = ?1), 0) FROM subjects",
            [new.id()],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?;
        let mut rewrapped = 0u64;
        loop {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let batch: Vec<(i64, String, String, String, Vec<u8>)> = tx
                .prepare(
                    "SELECT s.id, c.name, s.external_id, s.key_id, s.wrapped_key FROM subjects s
                     JOIN collections c ON c.id = s.collection_id WHERE s.key_id != ?1 ORDER BY s.id LIMIT 500",
                )?
                .query_map([new.id()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                .collect::<std::result::Result<_, _>>()?;
            if batch.is_empty() {
                break;
            }
            for (id, coll, ext, key_id, wrapped) in &batch {
                let aad = subject_aad(coll, ext);
                let dk = crypto::unwrap(self.key_for(key_id)?, wrapped, &aad)?;
                tx.execute(
                    "UPDATE subjects SET key_id = ?1, wrapped_key = ?2 WHERE id = ?3",
                    params![new.id(), crypto::wrap(&new, &dk, &aad)?, id],
                )?;
            }
            tx.commit()?;
            rewrapped += batch.len() as u64;
            progress(done + rewrapped, total);
        }
        // Retire keys no subject needs any more: from now on they do not open the store.
        self.conn().execute(
            "DELETE FROM keys WHERE key_id != ?1 AND key_id NOT IN (SELECT DISTINCT key_id FROM subjects)",
            [new.id()],
        )?;
        self.previous.clear();
        Ok(Rotation {
            new_key_id: new.id().to_string(),
            rewrapped,
            already_done: done,
        })
    }

    /// SQLite's own consistency check ("ok" when healthy).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// A template row with its subject's wrapped data key.
struct TemplateRow {
    subject: String,
    key_id: String,
    wrapped_key: Vec<u8>,
    id: String,
    model_id: String,
    model_version: String,
    dim: usize,
    quality: Option<f32>,
    source: Option<String>,
    created_at: i64,
    ciphertext: Vec<u8>,
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version as usize > MIGRATIONS.len() {
        return Err(Error::Storage(format!(
            "the store has schema version {version}; this Faceprint knows up to {}: upgrade Faceprint",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

impl TemplateStore for SqliteStore {
    fn ensure_collection(&self, name: &str, model_id: &str, dim: usize) -> Result<Collection> {
        check_external_id(name)?;
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO collections (name, model_id, dim, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, model_id, dim as i64, now_ms()],
        )?;
        let (_, c) = Self::collection_row(&conn, name)?;
        if c.model_id != model_id || c.dim != dim {
            return Err(Error::ModelMismatch {
                left: model_id.to_string(),
                right: c.model_id,
            });
        }
        Ok(c)
    }

    fn collection(&self, name: &str) -> Result<Collection> {
        Ok(Self::collection_row(&self.conn(), name)?.1)
    }

    fn collections(&self) -> Result<Vec<Collection>> {
        let conn = self.conn();
        let v = conn
            .prepare("SELECT name, model_id, dim, created_at FROM collections ORDER BY name")?
            .query_map([], |r| {
                Ok(Collection {
                    name: r.get(0)?,
                    model_id: r.get(1)?,
                    dim: r.get::<_, i64>(2)? as usize,
                    created_at: r.get(3)?,
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        Ok(v)
    }

    fn upsert_subject(
        &self,
        collection: &str,
        external_id: &str,
        display_name: Option<&str>,
        metadata: Option<&serde_json::Value>,
    ) -> Result<Subject> {
        check_external_id(external_id)?;
        let meta = metadata.map(|m| m.to_string());
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (cid, _) = Self::collection_row(&tx, collection)?;
            let now = now_ms();
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT id FROM subjects WHERE collection_id = ?1 AND external_id = ?2",
                    params![cid, external_id],
                    |r| r.get(0),
                )
                .optional()?;
            match exists {
                Some(id) => {
                    tx.execute(
                        "UPDATE subjects SET display_name = COALESCE(?1, display_name),
                         metadata = COALESCE(?2, metadata), updated_at = ?3 WHERE id = ?4",
                        params![display_name, meta, now, id],
                    )?;
                }
                None => {
                    let wrapped = crypto::wrap(
                        &self.key,
                        &DataKey::generate(),
                        &subject_aad(collection, external_id),
                    )?;
                    tx.execute(
                        "INSERT INTO subjects (collection_id, external_id, display_name, metadata, created_at,
                         updated_at, key_id, wrapped_key) VALUES (?1, ?2, ?3, COALESCE(?4, '{}'), ?5, ?5, ?6, ?7)",
                        params![cid, external_id, display_name, meta, now, self.key.id(), wrapped],
                    )?;
                }
            }
            tx.commit()?;
        }
        self.subject(collection, external_id)
    }

    fn subject(&self, collection: &str, external_id: &str) -> Result<Subject> {
        let conn = self.conn();
        let (cid, _) = Self::collection_row(&conn, collection)?;
        let sql = format!(
            "SELECT {} FROM subjects s WHERE s.collection_id = ?1 AND s.external_id = ?2",
            Self::SUBJECT_COLUMNS
        );
        conn.query_row(&sql, params![cid, external_id], |r| {
            Self::read_subject(r, collection)
        })
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("subject {external_id:?}")))
    }

    fn list_subjects(&self, collection: &str, offset: usize, limit: usize) -> Result<Vec<Subject>> {
        let conn = self.conn();
        let (cid, _) = Self::collection_row(&conn, collection)?;
        let sql = format!(
            "SELECT {} FROM subjects s WHERE s.collection_id = ?1 ORDER BY s.external_id LIMIT ?2 OFFSET ?3",
            Self::SUBJECT_COLUMNS
        );
        let v = conn
            .prepare(&sql)?
            .query_map(
                params![cid, limit.min(i64::MAX as usize) as i64, offset as i64],
                |r| Self::read_subject(r, collection),
            )?
            .collect::<std::result::Result<_, _>>()?;
        Ok(v)
    }

    fn set_disabled(&self, collection: &str, external_id: &str, disabled: bool) -> Result<()> {
        let conn = self.conn();
        let (cid, _) = Self::collection_row(&conn, collection)?;
        let n = conn.execute(
            "UPDATE subjects SET disabled = ?1, updated_at = ?2 WHERE collection_id = ?3 AND external_id = ?4",
            params![disabled as i64, now_ms(), cid, external_id],
        )?;
        if n == 0 {
            return Err(Error::NotFound(format!("subject {external_id:?}")));
        }
        Ok(())
    }

    fn add_templates(
        &self,
        collection: &str,
        external_id: &str,
        templates: &[NewTemplate],
    ) -> Result<Vec<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (cid, c) = Self::collection_row(&tx, collection)?;
        check_templates(&c, templates)?;
        let (sid, key_id, wrapped) = Self::subject_key_row(&tx, cid, external_id)?;
        let dk = self.data_key(collection, external_id, &key_id, &wrapped)?;
        let now = now_ms();
        let mut ids = Vec::with_capacity(templates.len());
        for t in templates {
            let id = new_id();
            let aad = template_aad(collection, external_id, &id, &c.model_id);
            let sealed = crypto::seal_vector(&dk, t.embedding.vector(), &aad)?;
            tx.execute(
                "INSERT INTO templates (id, subject_id, model_id, model_version, dim, quality, source, created_at,
                 ciphertext) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![id, sid, c.model_id, t.model_version, c.dim as i64, t.quality, t.source, now, sealed],
            )?;
            ids.push(id);
        }
        tx.execute(
            "UPDATE subjects SET updated_at = ?1 WHERE id = ?2",
            params![now, sid],
        )?;
        tx.commit()?;
        Ok(ids)
    }

    fn templates(&self, collection: &str, external_id: &str) -> Result<Vec<Template>> {
        let (cid, c) = Self::collection_row(&self.conn(), collection)?;
        // Distinguish "no such subject" from "no templates".
        Self::subject_key_row(&self.conn(), cid, external_id)?;
        let rows = self.template_rows(cid, Some(external_id))?;
        self.decrypt_rows(&c, rows)
    }

    fn all_templates(&self, collection: &str) -> Result<Vec<Template>> {
        let (cid, c) = Self::collection_row(&self.conn(), collection)?;
        let rows = self.template_rows(cid, None)?;
        self.decrypt_rows(&c, rows)
    }

    fn delete_subject(&self, collection: &str, external_id: &str) -> Result<()> {
        let conn = self.conn();
        let (cid, _) = Self::collection_row(&conn, collection)?;
        // Templates go by cascade; the wrapped data key goes with the row.
        let n = conn.execute(
            "DELETE FROM subjects WHERE collection_id = ?1 AND external_id = ?2",
            params![cid, external_id],
        )?;
        if n == 0 {
            return Err(Error::NotFound(format!("subject {external_id:?}")));
        }
        Ok(())
    }

    fn record_audit(&self, e: &AuditEvent) -> Result<()> {
        self.conn().execute(
            "INSERT INTO audit (at, action, collection, subject, outcome, score, latency_ms, actor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                e.at,
                e.action.as_str(),
                e.collection,
                e.subject,
                e.outcome,
                e.score,
                e.latency_ms,
                e.actor
            ],
        )?;
        Ok(())
    }

    fn audit(&self, collection: Option<&str>, limit: usize) -> Result<Vec<AuditEvent>> {
        let conn = self.conn();
        let v = conn
            .prepare(
                "SELECT at, action, collection, subject, outcome, score, latency_ms, actor FROM audit
                 WHERE ?1 IS NULL OR collection = ?1 ORDER BY id DESC LIMIT ?2",
            )?
            .query_map(params![collection, limit.min(i64::MAX as usize) as i64], |r| {
                let action: String = r.get(1)?;
                Ok(AuditEvent {
                    at: r.get(0)?,
                    action: AuditAction::parse(&action).unwrap_or(AuditAction::Verify),
                    collection: r.get(2)?,
                    subject: r.get(3)?,
                    outcome: r.get(4)?,
                    score: r.get(5)?,
                    latency_ms: r.get(6)?,
                    actor: r.get(7)?,
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("faceprint-sqlite-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d.join("store.db")
    }

    #[test]
    fn conforms() {
        let p = tmp("conform");
        super::super::conformance::run(&SqliteStore::open(&p, MasterKey::generate()).unwrap());
    }

    fn one_template(store: &SqliteStore, subject: &str) {
        store.ensure_collection("c", "m", 3).unwrap();
        store.upsert_subject("c", subject, None, None).unwrap();
        let e = Embedding::new("m", vec![1.0, 2.0, 2.0]).unwrap();
        let t = NewTemplate {
            embedding: e,
            model_version: "1".into(),
            quality: None,
            source: None,
        };
        store.add_templates("c", subject, &[t]).unwrap();
    }

    #[test]
    fn wrong_key_is_refused_at_open_and_vectors_never_hit_the_disk_in_clear() {
        let p = tmp("wrongkey");
        let key = MasterKey::generate();
        {
            let s = SqliteStore::open(&p, key.clone()).unwrap();
            one_template(&s, "alice");
        }
        let e = SqliteStore::open(&p, MasterKey::generate()).err().unwrap();
        assert_eq!(e.code(), ErrorCode::WrongKey);
        let s = SqliteStore::open(&p, key).unwrap();
        assert_eq!(
            s.templates("c", "alice").unwrap()[0].embedding.vector(),
            &[1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0]
        );
        // The unit vector's bytes appear nowhere in the file or its WAL.
        let needle: Vec<u8> = [1.0f32 / 3.0, 2.0 / 3.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        for f in [p.clone(), p.with_extension("db-wal")] {
            if let Ok(bytes) = std::fs::read(&f) {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{} holds a plaintext vector",
                    f.display()
                );
            }
        }
    }

    #[test]
    fn ciphertext_swapped_between_subjects_fails_to_decrypt() {
        let p = tmp("swap");
        let s = SqliteStore::open(&p, MasterKey::generate()).unwrap();
        one_template(&s, "alice");
        one_template(&s, "bob");
        {
            let conn = s.conn();
            let alice: Vec<u8> = conn
                .query_row("SELECT t.ciphertext FROM templates t JOIN subjects s ON s.id = t.subject_id WHERE s.external_id = 'alice'", [], |r| r.get(0))
                .unwrap();
            conn.execute("UPDATE templates SET ciphertext = ?1 WHERE subject_id = (SELECT id FROM subjects WHERE external_id = 'bob')", [alice])
                .unwrap();
        }
        assert_eq!(
            s.templates("c", "bob").unwrap_err().code(),
            ErrorCode::Decrypt
        );
        assert!(s.templates("c", "alice").is_ok());
        // Truncated ciphertext: a distinct, clear error.
        s.conn()
            .execute(
                "UPDATE templates SET ciphertext = substr(ciphertext, 1, 10)",
                [],
            )
            .unwrap();
        assert_eq!(
            s.templates("c", "alice").unwrap_err().code(),
            ErrorCode::Decrypt
        );
    }

    #[test]
    fn deleting_a_subject_destroys_its_key_and_templates() {
        let p = tmp("erase");
        let s = SqliteStore::open(&p, MasterKey::generate()).unwrap();
        one_template(&s, "alice");
        let copy: Vec<u8> = s
            .conn()
            .query_row("SELECT ciphertext FROM templates", [], |r| r.get(0))
            .unwrap();
        s.delete_subject("c", "alice").unwrap();
        let left: i64 = s
            .conn()
            .query_row("SELECT COUNT(*) FROM templates", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
        // Re-enrolling the same id gets a new data key: the old ciphertext does not open with it.
        one_template(&s, "alice");
        s.conn()
            .execute("UPDATE templates SET ciphertext = ?1", [copy])
            .unwrap();
        assert_eq!(
            s.templates("c", "alice").unwrap_err().code(),
            ErrorCode::Decrypt
        );
    }

    #[test]
    fn rotation_rewraps_every_subject_and_resumes_after_a_crash() {
        let p = tmp("rotate");
        let old = MasterKey::generate();
        let new = MasterKey::generate();
        {
            let s = SqliteStore::open(&p, old.clone()).unwrap();
            s.ensure_collection("c", "m", 3).unwrap();
            for i in 0..1200 {
                s.upsert_subject("c", &format!("s{i:04}"), None, None)
                    .unwrap();
            }
            one_template(&s, "s1199");
        }
        // The first batch of 500 commits, then the process "dies".
        let crashed = std::panic::catch_unwind(|| {
            let mut s = SqliteStore::open(&p, old.clone()).unwrap();
            s.rotate_key(new.clone(), |done, _| {
                if done >= 500 {
                    panic!("killed mid-rotation")
                }
            })
        });
        assert!(crashed.is_err());
        // Half-rotated: the new key alone cannot read subjects still under the old key...
        let half = SqliteStore::open(&p, new.clone()).unwrap();
        assert_eq!(
            half.templates("c", "s1199").unwrap_err().code(),
            ErrorCode::WrongKey
        );
        drop(half);
        // ...and resuming with the old key as a previous key finishes the job.
        let mut s =
            SqliteStore::open_with_previous_keys(&p, new.clone(), vec![old.clone()]).unwrap();
        let r = s.rotate_key(new.clone(), |_, _| {}).unwrap();
        assert_eq!((r.already_done, r.rewrapped), (500, 700));
        drop(s);
        let s = SqliteStore::open(&p, new).unwrap();
        assert_eq!(s.templates("c", "s1199").unwrap().len(), 1);
        assert_eq!(s.integrity_check().unwrap(), "ok");
        // The old key is retired: it no longer opens the store.
        assert_eq!(
            SqliteStore::open(&p, old).err().unwrap().code(),
            ErrorCode::WrongKey
        );
    }
}
