//! The embedded default store: one SQLite file (bundled SQLite, WAL, synchronous=FULL), versioned
//! migrations, every template sealed under its subject's data key.

use super::crypto::{self, MasterKey};
use super::keyring::{in_subject, rotated, Keyring, TemplateRow};
use super::*;
use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
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
    // 2: the store's current master key, checked inside every write that wraps a key, so a
    // writer that opened the store before a rotation cannot wrap new subjects under a key the
    // rotation retires. A store from before it takes the newest key it holds.
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
     INSERT INTO meta (name, value)
         SELECT 'current_key_id', key_id FROM keys ORDER BY created_at DESC, rowid DESC LIMIT 1;",
    // 3: a per-collection change sequence, bumped in every transaction that adds or deletes
    // templates; search-index snapshots are tagged with it.
    "ALTER TABLE collections ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;",
];

/// `PRAGMA application_id` of a Faceprint store ("FPRT"): a SQLite file without it (and without
/// the tables of an older Faceprint store) is someone else's and is never changed.
const APPLICATION_ID: i32 = 0x4650_5254;
/// The tables of schema version 1, by which stores made before the application id are known.
const V1_TABLES: &[&str] = &["audit", "collections", "keys", "subjects", "templates"];

/// A [`TemplateStore`] in one SQLite file, encrypted at rest.
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// The master key, and keys a rotation may still need for subjects not yet re-wrapped.
    keys: Keyring,
    /// Opened read-only (asked for, or the file cannot be written): no audit rows are written.
    read_only: bool,
}

/// How to open a [`SqliteStore`]: `SqliteStore::builder(path, key)...open()`.
#[derive(Debug, Clone)]
pub struct SqliteStoreBuilder {
    path: PathBuf,
    key: MasterKey,
    previous: Vec<MasterKey>,
    create_if_missing: bool,
    read_only: bool,
}

impl SqliteStoreBuilder {
    /// Older keys, to read subjects an interrupted rotation has not re-wrapped yet.
    pub fn previous_keys(mut self, keys: Vec<MasterKey>) -> Self {
        self.previous = keys;
        self
    }

    /// Create a new store when the file does not exist (default: true). Without it a missing
    /// file is `not_found`, never a new empty store.
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }

    /// Open without writing anything (default: false): reads, verify and identify work, audit
    /// events are skipped ([`SqliteStore::is_read_only`]) and writes fail with `storage`. A
    /// file that cannot be written is opened this way by itself.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    pub fn open(self) -> Result<SqliteStore> {
        use rusqlite::OpenFlags;
        let path = self.path;
        let exists = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => true,
            Ok(_) => {
                return Err(Error::InvalidArgument(format!(
                    "{} is not a regular file, so it cannot be a store",
                    path.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(Error::io(&path, e)),
        };
        if !exists && (self.read_only || !self.create_if_missing) {
            return Err(Error::NotFound(format!("store {}", path.display())));
        }
        let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX;
        flags |= if self.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else if exists {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
        let in_file = |e: Error| match e {
            Error::StoreCorrupt(m) => Error::StoreCorrupt(format!("{}: {m}", path.display())),
            other => other,
        };
        let mut conn = Connection::open_with_flags(&path, flags)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // SQLite opens a file it may not write read-only by itself.
        let read_only = self.read_only || conn.is_readonly(rusqlite::DatabaseName::Main)?;
        if read_only {
            conn.execute_batch("PRAGMA foreign_keys=ON;")?;
            let version = schema(&conn, &path).map_err(in_file)?.version;
            if version != MIGRATIONS.len() as i64 {
                return Err(Error::Storage(format!(
                    "{} has schema version {version} and is read-only: open it writable once \
                     with this Faceprint to migrate it (to version {})",
                    path.display(),
                    MIGRATIONS.len()
                )));
            }
        } else {
            schema(&conn, &path).map_err(in_file)?;
            // WAL: readers never block the writer; FULL: a returned commit survives power loss.
            let mode: String =
                retry_busy(|| conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::Storage(format!(
                    "could not enable WAL (journal_mode is {mode})"
                )));
            }
            conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
            initialise(&mut conn, &path, &self.key)?;
        }
        let store = SqliteStore {
            path,
            conn: Mutex::new(conn),
            keys: Keyring {
                key: self.key,
                previous: self.previous,
            },
            read_only,
        };
        store.check_keys()?;
        Ok(store)
    }
}

/// Runs `f` again while SQLite answers "busy" without waiting itself (switching a new file to
/// WAL takes an exclusive lock for which the busy handler is not called), up to 10 s.
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// What the file holds, read from its header and schema.
struct Schema {
    version: i64,
    /// No tables and no version: a new file (ours to create the schema in).
    empty: bool,
    /// Application id set: created or migrated by this version of Faceprint.
    marked: bool,
}

/// Reads the file's schema state; a SQLite file that is not a Faceprint store is refused.
fn schema(conn: &Connection, path: &Path) -> Result<Schema> {
    // One statement, so one snapshot: a store another process is creating is seen whole or
    // not at all.
    let (app, version, tables): (i32, i64, Option<String>) = conn.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id()),
                (SELECT user_version FROM pragma_user_version()),
                (SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master
                     WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name))",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let tables: Vec<String> = tables
        .map(|t| t.split(',').map(String::from).collect())
        .unwrap_or_default();
    let marked = app == APPLICATION_ID;
    let empty = app == 0 && version == 0 && tables.is_empty();
    // Stores made before the application id was set: schema version 1 or later, our tables.
    let legacy = app == 0
        && version >= 1
        && V1_TABLES.iter().all(|t| tables.iter().any(|x| x == t))
        && tables
            .iter()
            .all(|t| V1_TABLES.contains(&t.as_str()) || t == "meta");
    if !(marked || empty || legacy) {
        return Err(Error::InvalidArgument(format!(
            "{} is a SQLite database but not a Faceprint store (application id {app:#x}, \
             schema version {version}, tables: {}); refusing to change it",
            path.display(),
            if tables.is_empty() {
                "none".to_string()
            } else {
                tables.join(", ")
            }
        )));
    }
    if version > MIGRATIONS.len() as i64 {
        return Err(Error::Storage(format!(
            "{} has schema version {version}; this Faceprint knows up to {}: upgrade Faceprint",
            path.display(),
            MIGRATIONS.len()
        )));
    }
    Ok(Schema {
        version,
        empty,
        marked,
    })
}

/// Brings a new or older store up to date in one `BEGIN IMMEDIATE` transaction: the schema, the
/// application id and, in a new store, the first master key. Two processes creating the same
/// store at once are serialised by it: the second finds the first one's store and its key.
fn initialise(conn: &mut Connection, path: &Path, key: &MasterKey) -> Result<()> {
    let has_key = |c: &Connection| -> Result<bool> {
        Ok(c.query_row("SELECT EXISTS (SELECT 1 FROM keys)", [], |r| r.get(0))?)
    };
    let s = schema(conn, path)?;
    if s.marked && s.version == MIGRATIONS.len() as i64 && has_key(conn)? {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the lock: another process may have done it meanwhile.
    let s = schema(&tx, path)?;
    let from = if s.empty { 0 } else { s.version as usize };
    for sql in &MIGRATIONS[from..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    if !has_key(&tx)? {
        tx.execute(
            "INSERT INTO keys (key_id, check_blob, created_at) VALUES (?1, ?2, ?3)",
            params![key.id(), crypto::key_check(key)?, now_ms()],
        )?;
        set_current_key(&tx, key.id())?;
    }
    tx.commit()?;
    Ok(())
}

fn set_current_key(conn: &Connection, key_id: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (name, value) VALUES ('current_key_id', ?1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [key_id],
    )?;
    Ok(())
}

fn current_key(conn: &Connection) -> Result<String> {
    conn.query_row(
        "SELECT value FROM meta WHERE name = 'current_key_id'",
        [],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| Error::StoreCorrupt("the store records no current master key".into()))
}

/// What a key rotation did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rotation {
    /// The key every subject is wrapped under now.
    pub new_key_id: String,
    /// Subjects re-wrapped by this run.
    pub rewrapped: u64,
    /// Subjects an earlier, interrupted run had already re-wrapped.
    pub already_done: u64,
}

impl SqliteStore {
    /// How to open the store at `path` (creating it, read-only, with previous keys).
    pub fn builder(path: impl AsRef<Path>, key: MasterKey) -> SqliteStoreBuilder {
        SqliteStoreBuilder {
            path: path.as_ref().to_path_buf(),
            key,
            previous: Vec::new(),
            create_if_missing: true,
            read_only: false,
        }
    }

    /// Opens (creating if needed) the store at `path` with its master key.
    pub fn open(path: impl AsRef<Path>, key: MasterKey) -> Result<SqliteStore> {
        SqliteStore::builder(path, key).open()
    }

    /// Opens with older keys too, to read subjects a rotation has not re-wrapped yet.
    pub fn open_with_previous_keys(
        path: impl AsRef<Path>,
        key: MasterKey,
        previous: Vec<MasterKey>,
    ) -> Result<SqliteStore> {
        SqliteStore::builder(path, key)
            .previous_keys(previous)
            .open()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The fingerprint of the key the store is open with ([`MasterKey::id`]).
    pub fn key_id(&self) -> &str {
        self.keys.key.id()
    }

    /// Opened read-only: reads work, audit events are not recorded.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key must be one of the store's and its current one; previous keys the store no
    /// longer holds wrap nothing and are ignored.
    fn check_keys(&self) -> Result<()> {
        let conn = self.conn();
        let known: Vec<(String, Vec<u8>)> = conn
            .prepare("SELECT key_id, check_blob FROM keys")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<std::result::Result<_, _>>()?;
        self.keys.verify(&known, &current_key(&conn)?)
    }

    /// Inside a write transaction: the store must still be under this handle's key. A rotation
    /// by another handle or process since this one opened makes every write that wraps or
    /// unwraps a subject key fail here, before anything is written.
    fn check_current_key(&self, tx: &Connection) -> Result<()> {
        if self.read_only {
            return Err(Error::Storage(format!(
                "{} is open read-only",
                self.path.display()
            )));
        }
        let current = current_key(tx)?;
        if current != self.keys.key.id() {
            return Err(rotated(&current, self.keys.key.id()));
        }
        Ok(())
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
    /// rewritten). The first transaction makes `new` the store's current key, so from then on
    /// every other handle still on the old key fails its writes with `wrong_key` instead of
    /// wrapping new subjects under a key about to be retired. Commits in batches: a crash loses
    /// at most one batch, and a rerun (with the old key among the previous keys) carries on. The
    /// old keys are dropped in the same transaction that finds no subject left under them.
    pub fn rotate_key(
        &mut self,
        new: MasterKey,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Rotation> {
        if self.read_only {
            return Err(Error::Storage(format!(
                "{} is open read-only",
                self.path.display()
            )));
        }
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current = current_key(&tx)?;
            if current != self.keys.key.id() && current != new.id() {
                return Err(rotated(&current, self.keys.key.id()));
            }
            tx.execute(
                "INSERT OR IGNORE INTO keys (key_id, check_blob, created_at) VALUES (?1, ?2, ?3)",
                params![new.id(), crypto::key_check(&new)?, now_ms()],
            )?;
            set_current_key(&tx, new.id())?;
            tx.commit()?;
        }
        if new.id() != self.keys.key.id() {
            let old = std::mem::replace(&mut self.keys.key, new.clone());
            self.keys.previous.push(old);
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
                // Retire the keys no subject needs: from now on they do not open the store.
                tx.execute("DELETE FROM keys WHERE key_id != ?1", [new.id()])?;
                tx.commit()?;
                break;
            }
            for (id, coll, ext, key_id, wrapped) in &batch {
                tx.execute(
                    "UPDATE subjects SET key_id = ?1, wrapped_key = ?2 WHERE id = ?3",
                    params![
                        new.id(),
                        self.keys.rewrap(&new, coll, ext, key_id, wrapped)?,
                        id
                    ],
                )?;
            }
            tx.commit()?;
            rewrapped += batch.len() as u64;
            progress(done + rewrapped, total);
        }
        // Index snapshots are sealed under the master key too: re-wrap them, or the next open
        // of a large collection would rebuild its graph.
        let collections: Vec<String> = self.collections()?.into_iter().map(|c| c.name).collect();
        let old: Vec<&MasterKey> = self.keys.previous.iter().collect();
        super::snapshots::rewrap(&self.path, &old, &new, &collections)?;
        self.keys.previous.clear();
        Ok(Rotation {
            new_key_id: new.id().to_string(),
            rewrapped,
            already_done: done,
        })
    }

    /// Inside a write transaction: creates the subject, its data key wrapped under the current
    /// master key, or updates its name and metadata. Returns (row id, key id, wrapped key).
    fn upsert_in(
        &self,
        tx: &Connection,
        cid: i64,
        collection: &str,
        external_id: &str,
        display_name: Option<&str>,
        metadata: Option<&serde_json::Value>,
    ) -> Result<(i64, String, Vec<u8>)> {
        self.check_current_key(tx)?;
        let meta = metadata.map(|m| m.to_string());
        let now = now_ms();
        match Self::subject_key_row(tx, cid, external_id) {
            Ok(row) => {
                tx.execute(
                    "UPDATE subjects SET display_name = COALESCE(?1, display_name),
                     metadata = COALESCE(?2, metadata), updated_at = ?3 WHERE id = ?4",
                    params![display_name, meta, now, row.0],
                )?;
                Ok(row)
            }
            Err(e) if e.code() == crate::ErrorCode::NotFound => {
                let wrapped = self.keys.new_wrapped_key(collection, external_id)?;
                tx.execute(
                    "INSERT INTO subjects (collection_id, external_id, display_name, metadata, created_at,
                     updated_at, key_id, wrapped_key) VALUES (?1, ?2, ?3, COALESCE(?4, '{}'), ?5, ?5, ?6, ?7)",
                    params![cid, external_id, display_name, meta, now, self.keys.key.id(), wrapped],
                )?;
                Ok((
                    tx.last_insert_rowid(),
                    self.keys.key.id().to_string(),
                    wrapped,
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// Inside a write transaction: seals and inserts a subject's templates.
    fn insert_templates(
        &self,
        tx: &Connection,
        c: &Collection,
        external_id: &str,
        (sid, key_id, wrapped): (i64, &str, &[u8]),
        templates: &[NewTemplate],
    ) -> Result<Vec<String>> {
        let sealed = self
            .keys
            .seal_templates(c, external_id, (key_id, wrapped), templates)?;
        let now = now_ms();
        let mut ids = Vec::with_capacity(templates.len());
        for (t, (id, sealed)) in templates.iter().zip(sealed) {
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
        Ok(ids)
    }

    /// SQLite's own consistency check ("ok" when healthy).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// Scales a decrypted vector to unit length, as `Embedding::new` does; a vector that is not
/// finite or is all zeros is corrupt.
fn normalise(v: &mut [f32]) -> Result<()> {
    if v.iter().any(|x| !x.is_finite()) {
        return Err(Error::StoreCorrupt(
            "vector has NaN or infinite values".into(),
        ));
    }
    let norm = v.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    if norm < 1e-12 {
        return Err(Error::StoreCorrupt("vector is all zeros".into()));
    }
    let inv = (1.0 / norm) as f32;
    v.iter_mut().for_each(|x| *x *= inv);
    Ok(())
}

/// Inside a write transaction that adds or deletes templates of collection `cid`.
fn bump_change_seq(tx: &Connection, cid: i64) -> Result<()> {
    tx.execute(
        "UPDATE collections SET change_seq = change_seq + 1 WHERE id = ?1",
        [cid],
    )?;
    Ok(())
}

fn insert_audit(conn: &Connection, e: &AuditEvent) -> Result<()> {
    conn.execute(
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

impl TemplateStore for SqliteStore {
    fn ensure_collection(&self, name: &str, model_id: &str, dim: usize) -> Result<Collection> {
        let name = normalize_id(name)?;
        let conn = self.conn();
        let c = match Self::collection_row(&conn, &name) {
            Ok((_, c)) => c,
            Err(e) if e.code() == crate::ErrorCode::NotFound => {
                conn.execute(
                    "INSERT OR IGNORE INTO collections (name, model_id, dim, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![name, model_id, dim as i64, now_ms()],
                )?;
                Self::collection_row(&conn, &name)?.1
            }
            Err(e) => return Err(e),
        };
        if c.model_id != model_id || c.dim != dim {
            return Err(Error::CollectionModel {
                collection: name.to_string(),
                collection_model: c.model_id,
                engine_model: model_id.to_string(),
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
        let external_id = normalize_id(external_id)?;
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (cid, _) = Self::collection_row(&tx, collection)?;
            self.upsert_in(&tx, cid, collection, &external_id, display_name, metadata)?;
            tx.commit()?;
        }
        self.subject(collection, &external_id)
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
        self.check_current_key(&tx)?;
        let (cid, c) = Self::collection_row(&tx, collection)?;
        check_templates(&c, templates)?;
        let (sid, key_id, wrapped) = Self::subject_key_row(&tx, cid, external_id)?;
        let ids =
            self.insert_templates(&tx, &c, external_id, (sid, &key_id, &wrapped), templates)?;
        bump_change_seq(&tx, cid)?;
        tx.commit()?;
        Ok(ids)
    }

    fn enroll(&self, e: &Enrollment<'_>) -> Result<(Subject, Vec<String>)> {
        let external_id = normalize_id(e.external_id)?;
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (cid, c) = Self::collection_row(&tx, e.collection)?;
            check_templates(&c, e.templates)?;
            let (sid, key_id, wrapped) = self.upsert_in(
                &tx,
                cid,
                e.collection,
                &external_id,
                e.display_name,
                e.metadata,
            )?;
            self.insert_templates(&tx, &c, &external_id, (sid, &key_id, &wrapped), e.templates)
                .and_then(|ids| {
                    insert_audit(&tx, e.audit)?;
                    bump_change_seq(&tx, cid)?;
                    tx.commit()?;
                    Ok(ids)
                })
        }
        .and_then(|ids| Ok((self.subject(e.collection, &external_id)?, ids)))
    }

    fn templates(&self, collection: &str, external_id: &str) -> Result<Vec<Template>> {
        let (cid, c) = Self::collection_row(&self.conn(), collection)?;
        // Distinguish "no such subject" from "no templates".
        Self::subject_key_row(&self.conn(), cid, external_id)?;
        let rows = self.template_rows(cid, Some(external_id))?;
        self.keys.decrypt_subject(&c, rows)
    }

    fn all_templates(&self, collection: &str) -> Result<CollectionTemplates> {
        let (cid, c) = Self::collection_row(&self.conn(), collection)?;
        let rows = self.template_rows(cid, None)?;
        Ok(self.keys.decrypt_rows(&c, rows))
    }

    fn delete_subject(&self, collection: &str, external_id: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (cid, _) = Self::collection_row(&tx, collection)?;
        // Templates go by cascade; the wrapped data key goes with the row.
        let n = tx.execute(
            "DELETE FROM subjects WHERE collection_id = ?1 AND external_id = ?2",
            params![cid, external_id],
        )?;
        if n == 0 {
            return Err(Error::NotFound(format!("subject {external_id:?}")));
        }
        bump_change_seq(&tx, cid)?;
        tx.commit()?;
        Ok(())
    }

    fn template_subject(&self, collection: &str, template_id: &str) -> Result<String> {
        let conn = self.conn();
        let (cid, _) = Self::collection_row(&conn, collection)?;
        conn.query_row(
            "SELECT s.external_id FROM templates t JOIN subjects s ON s.id = t.subject_id
             WHERE t.id = ?1 AND s.collection_id = ?2",
            params![template_id, cid],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("template {template_id:?}")))
    }

    fn delete_template(&self, collection: &str, template_id: &str) -> Result<String> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (cid, _) = Self::collection_row(&tx, collection)?;
        let subject: Option<(i64, String)> = tx
            .query_row(
                "SELECT s.id, s.external_id FROM templates t JOIN subjects s ON s.id = t.subject_id
                 WHERE t.id = ?1 AND s.collection_id = ?2",
                params![template_id, cid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (sid, external_id) =
            subject.ok_or_else(|| Error::NotFound(format!("template {template_id:?}")))?;
        tx.execute("DELETE FROM templates WHERE id = ?1", params![template_id])?;
        tx.execute(
            "UPDATE subjects SET updated_at = ?2 WHERE id = ?1",
            params![sid, now_ms()],
        )?;
        bump_change_seq(&tx, cid)?;
        tx.commit()?;
        Ok(external_id)
    }

    /// Two queries in one read transaction (the collection's subjects with their wrapped keys,
    /// then its templates in table order: no sort, ciphertexts copied into one buffer), then
    /// subject keys unwrapped and templates decrypted in parallel straight into the flat vector
    /// array, without an allocation per template.
    fn collection_vectors(&self, collection: &str) -> Result<CollectionVectors> {
        use rayon::prelude::*;
        let started = std::time::Instant::now();
        let mut out = CollectionVectors::default();
        // Per subject: (key id, wrapped key's place in `wrapped`).
        let mut keys: Vec<(u32, (usize, usize))> = Vec::new();
        let mut key_ids: Vec<String> = Vec::new();
        let mut wrapped: Vec<u8> = Vec::new();
        let mut arena: Vec<u8> = Vec::new();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        // A row of another model or size: the subject is damaged.
        let mut misfits: Vec<(u32, String)> = Vec::new();
        let c = {
            let conn = self.conn();
            let tx = conn.unchecked_transaction()?;
            let (cid, c) = Self::collection_row(&tx, collection)?;
            out.dim = c.dim;
            let mut row_of: HashMap<i64, u32> = HashMap::new();
            let mut stmt = tx.prepare(
                "SELECT id, external_id, disabled, key_id, wrapped_key FROM subjects
                 WHERE collection_id = ?1",
            )?;
            let mut rows = stmt.query([cid])?;
            while let Some(r) = rows.next()? {
                row_of.insert(r.get(0)?, out.subjects.len() as u32);
                out.subjects.push((r.get(1)?, r.get::<_, i64>(2)? != 0));
                let key_id = r.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?;
                let k = match key_ids.iter().position(|k| k == key_id) {
                    Some(k) => k,
                    None => {
                        key_ids.push(key_id.to_string());
                        key_ids.len() - 1
                    }
                };
                let w = r.get_ref(4)?.as_blob().map_err(rusqlite::Error::from)?;
                keys.push((k as u32, (wrapped.len(), w.len())));
                wrapped.extend_from_slice(w);
            }
            drop(rows);
            drop(stmt);
            let (n, bytes): (i64, i64) = tx.query_row(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(t.ciphertext)), 0)
                 FROM templates t CROSS JOIN subjects s ON s.id = t.subject_id
                 WHERE s.collection_id = ?1",
                [cid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            out.templates.reserve(n as usize);
            spans.reserve(n as usize);
            arena.reserve(bytes as usize);
            // Templates drive the join (read in table order); the subject is a row-id lookup.
            let mut stmt = tx.prepare(
                "SELECT t.subject_id, t.id, t.model_id, t.dim, t.ciphertext
                 FROM templates t CROSS JOIN subjects s ON s.id = t.subject_id
                 WHERE s.collection_id = ?1",
            )?;
            let mut rows = stmt.query([cid])?;
            while let Some(r) = rows.next()? {
                let Some(&subject) = row_of.get(&r.get::<_, i64>(0)?) else {
                    continue;
                };
                let template_id: String = r.get(1)?;
                let model = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
                let dim = r.get::<_, i64>(3)?;
                if model != c.model_id || dim != c.dim as i64 {
                    misfits.push((
                        subject,
                        format!(
                            "template {template_id} is {model} x{dim} in a collection of {} x{}",
                            c.model_id, c.dim
                        ),
                    ));
                }
                let blob = r.get_ref(4)?.as_blob().map_err(rusqlite::Error::from)?;
                spans.push((arena.len(), blob.len()));
                arena.extend_from_slice(blob);
                out.templates.push((subject, template_id));
            }
            c
        };
        let read = started.elapsed();
        let dim = c.dim;
        let names = &out.subjects;
        let mut has_templates = vec![false; names.len()];
        for t in &out.templates {
            has_templates[t.0 as usize] = true;
        }
        // Threads only for large collections: a small one needs none (and an application that
        // never loads a large one never starts the thread pool).
        let parallel = out.templates.len() >= 4096;
        let unwrap_one =
            |aad: &mut Vec<u8>, (i, (k, (at, len))): (usize, &(u32, (usize, usize)))| {
                if !has_templates[i] {
                    return None;
                }
                let external_id = names[i].0.as_str();
                crypto::aad_into(aad, &["subject-key", &c.name, external_id]);
                Some(
                    self.keys
                        .key_for(&key_ids[*k as usize])
                        .and_then(|master| crypto::unwrap(master, &wrapped[*at..*at + len], aad)),
                )
            };
        let data_keys: Vec<Option<Result<crypto::DataKey>>> = if parallel {
            keys.par_iter()
                .enumerate()
                .map_init(Vec::new, unwrap_one)
                .collect()
        } else {
            let mut aad = Vec::new();
            keys.iter()
                .enumerate()
                .map(|x| unwrap_one(&mut aad, x))
                .collect()
        };
        out.vectors = vec![0f32; out.templates.len() * dim];
        let templates = &out.templates;
        let decrypt_one = |(aad, scratch): &mut (Vec<u8>, Vec<u8>), (t, v): (usize, &mut [f32])| {
            let (subject, template_id) = &templates[t];
            let key = match &data_keys[*subject as usize] {
                Some(Ok(key)) => key,
                // Reported once per subject, below.
                _ => return None,
            };
            let (at, len) = spans[t];
            crypto::aad_into(
                aad,
                &[
                    "template",
                    &c.name,
                    &names[*subject as usize].0,
                    template_id,
                    &c.model_id,
                ],
            );
            crypto::open_vector_into(key, &arena[at..at + len], aad, scratch, v)
                .and_then(|()| normalise(v))
                .err()
                .map(|e| {
                    let m = match e {
                        Error::Decrypt(m) | Error::StoreCorrupt(m) => m,
                        other => other.to_string(),
                    };
                    (
                        *subject,
                        Error::Decrypt(format!("template {template_id}: {m}")),
                    )
                })
        };
        let buffers = || (Vec::new(), Vec::with_capacity(dim * 4));
        let failed: Vec<(u32, Error)> = if parallel {
            out.vectors
                .par_chunks_mut(dim.max(1))
                .enumerate()
                .map_init(buffers, decrypt_one)
                .flatten()
                .collect()
        } else {
            let mut b = buffers();
            out.vectors
                .chunks_mut(dim.max(1))
                .enumerate()
                .filter_map(|x| decrypt_one(&mut b, x))
                .collect()
        };
        log::debug!(
            "collection {collection:?}: {} templates read in {:.0} ms, decrypted in {:.0} ms",
            out.templates.len(),
            read.as_secs_f64() * 1e3,
            (started.elapsed() - read).as_secs_f64() * 1e3
        );
        drop(arena);
        // Subjects that did not open: named, and all their templates left out.
        let mut bad: HashMap<u32, Error> = HashMap::new();
        for (i, k) in data_keys.into_iter().enumerate() {
            if let Some(Err(e)) = k {
                bad.insert(i as u32, e);
            }
        }
        for (subject, why) in misfits {
            bad.entry(subject).or_insert(Error::StoreCorrupt(why));
        }
        for (subject, e) in failed {
            bad.entry(subject).or_insert(e);
        }
        if !bad.is_empty() {
            let mut vectors = Vec::with_capacity(out.vectors.len());
            let mut kept = Vec::with_capacity(out.templates.len());
            for (t, v) in std::mem::take(&mut out.templates)
                .into_iter()
                .zip(out.vectors.chunks_exact(dim))
            {
                if !bad.contains_key(&t.0) {
                    vectors.extend_from_slice(v);
                    kept.push(t);
                }
            }
            out.templates = kept;
            out.vectors = vectors;
            let mut bad: Vec<(u32, Error)> = bad.into_iter().collect();
            bad.sort_by_key(|b| b.0);
            for (i, e) in bad {
                let subject = out.subjects[i as usize].0.clone();
                out.damaged.push(DamagedSubject {
                    collection: c.name.clone(),
                    code: e.code().as_str().to_string(),
                    message: in_subject(e, &c.name, &subject).to_string(),
                    subject,
                });
            }
        }
        Ok(out)
    }

    fn change_seq(&self, collection: &str) -> Result<Option<u64>> {
        let seq: Option<i64> = self
            .conn()
            .query_row(
                "SELECT change_seq FROM collections WHERE name = ?1",
                [collection],
                |r| r.get(0),
            )
            .optional()?;
        match seq {
            Some(s) => Ok(Some(s as u64)),
            None => Err(Error::NotFound(format!("collection {collection:?}"))),
        }
    }

    fn load_index_snapshot(&self, collection: &str) -> Result<Option<Vec<u8>>> {
        let keys: Vec<&MasterKey> = self.keys.all().collect();
        Ok(super::snapshots::load(&self.path, collection, &keys)?
            .map(|mut plain| std::mem::take(&mut *plain)))
    }

    fn has_index_snapshot(&self, collection: &str) -> bool {
        super::snapshots::exists(&self.path, collection)
    }

    fn keeps_index_snapshots(&self) -> bool {
        !self.read_only
    }

    fn save_index_snapshot(&self, collection: &str, snapshot: &[u8]) -> Result<()> {
        if self.read_only {
            return Err(Error::Storage(format!(
                "{} is open read-only: the index snapshot is not saved",
                self.path.display()
            )));
        }
        super::snapshots::save(&self.path, collection, &self.keys.key, snapshot)
    }

    fn record_audit(&self, e: &AuditEvent) -> Result<()> {
        if self.read_only {
            // Nothing may be written: reads still answer (see SqliteStoreBuilder::read_only).
            return Ok(());
        }
        insert_audit(&self.conn(), e)
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

    fn enrollment<'a>(
        subject: &'a str,
        templates: &'a [NewTemplate],
        audit: &'a AuditEvent,
    ) -> Enrollment<'a> {
        Enrollment {
            collection: "c",
            external_id: subject,
            display_name: None,
            metadata: None,
            templates,
            audit,
        }
    }

    fn new_template() -> NewTemplate {
        NewTemplate {
            embedding: Embedding::new("m", vec![1.0, 2.0, 2.0]).unwrap(),
            model_version: "1".into(),
            quality: None,
            source: Some("a.jpg".into()),
        }
    }

    fn audit_event() -> AuditEvent {
        AuditEvent {
            at: 0,
            action: AuditAction::Enroll,
            collection: Some("c".into()),
            subject: None,
            outcome: "ok".into(),
            score: None,
            latency_ms: None,
            actor: None,
        }
    }

    fn count(s: &SqliteStore, sql: &str) -> i64 {
        s.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_writer_opened_before_a_rotation_cannot_wrap_subjects_under_the_retired_key() {
        let p = tmp("rotate-live");
        let k1 = MasterKey::generate();
        let k2 = MasterKey::generate();
        let live = SqliteStore::open(&p, k1.clone()).unwrap();
        one_template(&live, "before");
        // Another handle (another process, in real life) rotates to K2.
        let mut rotator = SqliteStore::open(&p, k1.clone()).unwrap();
        rotator.rotate_key(k2.clone(), |_, _| {}).unwrap();
        drop(rotator);
        // The live handle still holds K1: every write that wraps or unwraps a key is refused.
        let t = [new_template()];
        let e = live
            .enroll(&enrollment("after", &t, &audit_event()))
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::WrongKey, "{e}");
        assert!(e.to_string().contains("rotated"), "{e}");
        assert_eq!(
            live.upsert_subject("c", "after", None, None)
                .unwrap_err()
                .code(),
            ErrorCode::WrongKey
        );
        assert_eq!(
            live.add_templates("c", "before", &t).unwrap_err().code(),
            ErrorCode::WrongKey
        );
        drop(live);
        // Nothing was wrapped by K1: K2 opens every subject, and K1 no longer opens the store.
        let s = SqliteStore::open(&p, k2.clone()).unwrap();
        assert_eq!(
            count(
                &s,
                "SELECT COUNT(*) FROM subjects WHERE key_id != (SELECT value FROM meta)"
            ),
            0
        );
        assert_eq!(s.all_templates("c").unwrap().templates.len(), 1);
        assert_eq!(
            SqliteStore::open(&p, k1).err().unwrap().code(),
            ErrorCode::WrongKey
        );
        // And the store rotates again.
        drop(s);
        let mut s = SqliteStore::open(&p, k2).unwrap();
        s.rotate_key(MasterKey::generate(), |_, _| {}).unwrap();
    }

    #[test]
    fn enrollment_commits_subject_templates_and_audit_together_or_not_at_all() {
        let p = tmp("enroll-atomic");
        let s = SqliteStore::open(&p, MasterKey::generate()).unwrap();
        s.ensure_collection("c", "m", 3).unwrap();
        // The audit row fails as a full disk would make it fail.
        s.conn()
            .execute_batch(
                "CREATE TRIGGER fail_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .unwrap();
        let t = [new_template(), new_template()];
        let e = s
            .enroll(&enrollment("alice", &t, &audit_event()))
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Storage, "{e}");
        assert_eq!(count(&s, "SELECT COUNT(*) FROM subjects"), 0);
        assert_eq!(count(&s, "SELECT COUNT(*) FROM templates"), 0);
        s.conn().execute_batch("DROP TRIGGER fail_audit").unwrap();
        let (subject, ids) = s.enroll(&enrollment("alice", &t, &audit_event())).unwrap();
        assert_eq!((subject.templates, ids.len()), (2, 2));
        assert_eq!(count(&s, "SELECT COUNT(*) FROM audit"), 1);
    }

    #[test]
    fn concurrent_creators_make_one_store_with_one_key() {
        for trial in 0..12 {
            let p = tmp(&format!("create-race-{trial}"));
            let keys: Vec<MasterKey> = (0..4).map(|_| MasterKey::generate()).collect();
            let barrier = std::sync::Barrier::new(keys.len());
            let results: Vec<Result<String>> = std::thread::scope(|scope| {
                let handles: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        let (p, b) = (&p, &barrier);
                        scope.spawn(move || {
                            b.wait();
                            SqliteStore::open(p, k.clone()).map(|s| s.key_id().to_string())
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let opened: Vec<&String> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
            assert_eq!(opened.len(), 1, "trial {trial}: {results:?}");
            for e in results.iter().filter_map(|r| r.as_ref().err()) {
                assert_eq!(e.code(), ErrorCode::WrongKey, "trial {trial}: {e}");
            }
            let s = SqliteStore::open(
                &p,
                keys.iter().find(|k| k.id() == opened[0]).unwrap().clone(),
            )
            .unwrap();
            assert_eq!(count(&s, "SELECT COUNT(*) FROM keys"), 1);
        }
    }

    #[test]
    fn missing_foreign_and_read_only_files() {
        let p = tmp("modes");
        let key = MasterKey::generate();
        let e = SqliteStore::builder(&p, key.clone())
            .create_if_missing(false)
            .open()
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::NotFound);
        assert!(!p.exists(), "a missing store must not be created");
        // Someone else's SQLite file: refused and left as it was.
        let foreign = p.with_file_name("foreign.db");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
        let before = std::fs::read(&foreign).unwrap();
        let e = SqliteStore::open(&foreign, key.clone()).err().unwrap();
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e}");
        assert!(e.to_string().contains("not a Faceprint store"), "{e}");
        assert_eq!(std::fs::read(&foreign).unwrap(), before);
        // Not SQLite at all.
        let junk = p.with_file_name("junk.db");
        std::fs::write(&junk, vec![0x42u8; 8192]).unwrap();
        assert_eq!(
            SqliteStore::open(&junk, key.clone()).err().unwrap().code(),
            ErrorCode::StoreCorrupt
        );
        // Read-only: reads work, the audit is skipped, writes are refused.
        {
            let s = SqliteStore::open(&p, key.clone()).unwrap();
            one_template(&s, "alice");
        }
        let ro = SqliteStore::builder(&p, key)
            .read_only(true)
            .open()
            .unwrap();
        assert!(ro.is_read_only());
        assert_eq!(ro.templates("c", "alice").unwrap().len(), 1);
        ro.record_audit(&audit_event()).unwrap();
        assert_eq!(count(&ro, "SELECT COUNT(*) FROM audit"), 0);
        assert_eq!(
            ro.upsert_subject("c", "bob", None, None)
                .unwrap_err()
                .code(),
            ErrorCode::Storage
        );
    }

    #[test]
    fn a_damaged_subject_is_named_and_does_not_hide_the_others() {
        let p = tmp("damaged");
        let s = SqliteStore::open(&p, MasterKey::generate()).unwrap();
        one_template(&s, "alice");
        one_template(&s, "bob");
        one_template(&s, "carol");
        s.conn()
            .execute(
                "UPDATE templates SET ciphertext = zeroblob(40) WHERE subject_id = (SELECT id FROM subjects WHERE external_id = 'bob')",
                [],
            )
            .unwrap();
        let all = s.all_templates("c").unwrap();
        assert_eq!(all.templates.len(), 2);
        assert_eq!(all.damaged.len(), 1);
        assert_eq!(
            (
                all.damaged[0].subject.as_str(),
                all.damaged[0].code.as_str()
            ),
            ("bob", "decrypt")
        );
        let e = s.templates("c", "bob").unwrap_err();
        assert!(
            e.to_string().contains(r#"subject "bob" in collection "c""#),
            "{e}"
        );
        // The index's fast path leaves bob out the same way.
        let fast = s.collection_vectors("c").unwrap();
        assert_eq!(fast.templates.len(), 2);
        assert_eq!(fast.vectors.len(), 2 * fast.dim);
        assert_eq!(
            (
                fast.damaged[0].subject.as_str(),
                fast.damaged[0].code.as_str()
            ),
            ("bob", "decrypt")
        );
        assert!(fast
            .templates
            .iter()
            .all(|t| fast.subjects[t.0 as usize].0 != "bob"));
    }

    #[test]
    fn the_fast_collection_read_gives_what_the_templates_say() {
        let p = tmp("vectors");
        let s = SqliteStore::open(&p, MasterKey::generate()).unwrap();
        for (who, n) in [("zoe", 3), ("adam", 1), ("mia", 2)] {
            for _ in 0..n {
                one_template(&s, who);
            }
        }
        s.set_disabled("c", "mia", true).unwrap();
        let fast = s.collection_vectors("c").unwrap();
        let disabled: std::collections::HashSet<String> = ["mia".to_string()].into();
        let slow =
            CollectionVectors::from_templates(fast.dim, s.all_templates("c").unwrap(), &disabled);
        // The same templates, subjects, flags and vectors (the order may differ).
        let by_id = |v: &CollectionVectors| {
            let mut rows: Vec<(String, String, bool, Vec<u32>)> = v
                .templates
                .iter()
                .enumerate()
                .map(|(i, (subject, id))| {
                    let (name, disabled) = v.subjects[*subject as usize].clone();
                    let bits = v.vectors[i * v.dim..(i + 1) * v.dim]
                        .iter()
                        .map(|x| x.to_bits())
                        .collect();
                    (id.clone(), name, disabled, bits)
                })
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(fast.templates.len(), 6);
        assert_eq!(by_id(&fast), by_id(&slow));
        assert!(fast.damaged.is_empty());
    }

    #[test]
    fn subject_ids_are_nfc_and_refuse_what_cannot_be_seen() {
        let p = tmp("ids");
        let s = SqliteStore::open(&p, MasterKey::generate()).unwrap();
        s.ensure_collection("c", "m", 3).unwrap();
        let composed = s.upsert_subject("c", "Jos\u{e9}", None, None).unwrap();
        let decomposed = s.upsert_subject("c", "Jose\u{301}", None, None).unwrap();
        assert_eq!(composed.external_id, decomposed.external_id);
        assert_eq!(s.list_subjects("c", 0, 10).unwrap().len(), 1);
        for bad in [
            "alice\u{200b}",
            "\u{202e}ecila",
            "a\u{2066}b",
            "bob\n",
            " carol",
            "\u{feff}dave",
        ] {
            assert_eq!(
                s.upsert_subject("c", bad, None, None).unwrap_err().code(),
                ErrorCode::InvalidArgument,
                "{bad:?}"
            );
        }
        let long: String = "\u{e9}".repeat(256);
        assert!(
            s.upsert_subject("c", &long, None, None).is_ok(),
            "256 characters (512 bytes) fit"
        );
        let e = s
            .upsert_subject("c", &format!("{long}x"), None, None)
            .unwrap_err();
        assert!(e.to_string().contains("257 characters"), "{e}");
    }
}
