//! The PostgreSQL store (cargo feature `postgres`): the SQLite store's data model, migrations,
//! audit log and encryption in a PostgreSQL schema that many engine and server nodes share.
//! Every template is sealed under its subject's data key exactly as in the SQLite store
//! ([`super::keyring`]); the database sees ciphertext only.
//!
//! Concurrency: every write is one transaction. Writes that wrap or use subject keys read the
//! store's current master key `FOR SHARE`, a rotation takes it `FOR UPDATE`, so no writer can
//! wrap a subject under a key a running rotation retires. A broken connection (the server
//! restarted, the network dropped) is replaced on the next call; a write is acknowledged only
//! after its commit.

mod follow;
mod pool;
mod vectors;

pub use pool::PgPool;
pub use vectors::SearchMode;

use super::keyring::{rotated, Keyring, TemplateRow};
use super::*;
use crate::error::Error;
use crate::store::crypto::{self, MasterKey};
use postgres::{Client, GenericClient, Transaction};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Schema migrations, applied in order inside one transaction under an advisory lock;
/// `schema_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: the SQLite store's schema version 3, in PostgreSQL types, plus sealed index snapshots.
    "CREATE TABLE keys (
         key_id TEXT PRIMARY KEY,
         check_blob BYTEA NOT NULL,
         created_at BIGINT NOT NULL
     );
     CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE collections (
         id BIGSERIAL PRIMARY KEY,
         name TEXT NOT NULL UNIQUE,
         model_id TEXT NOT NULL,
         dim INTEGER NOT NULL,
         created_at BIGINT NOT NULL,
         change_seq BIGINT NOT NULL DEFAULT 0
     );
     CREATE TABLE subjects (
         id BIGSERIAL PRIMARY KEY,
         collection_id BIGINT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
         external_id TEXT NOT NULL,
         display_name TEXT,
         metadata TEXT NOT NULL DEFAULT '{}',
         disabled BOOLEAN NOT NULL DEFAULT false,
         created_at BIGINT NOT NULL,
         updated_at BIGINT NOT NULL,
         key_id TEXT NOT NULL,
         wrapped_key BYTEA NOT NULL,
         UNIQUE (collection_id, external_id)
     );
     CREATE TABLE templates (
         id TEXT PRIMARY KEY,
         subject_id BIGINT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
         model_id TEXT NOT NULL,
         model_version TEXT NOT NULL,
         dim INTEGER NOT NULL,
         quality REAL,
         source TEXT,
         created_at BIGINT NOT NULL,
         ciphertext BYTEA NOT NULL
     );
     CREATE INDEX templates_by_subject ON templates(subject_id);
     CREATE TABLE audit (
         id BIGSERIAL PRIMARY KEY,
         at BIGINT NOT NULL,
         action TEXT NOT NULL,
         collection TEXT,
         subject TEXT,
         outcome TEXT NOT NULL,
         score REAL,
         latency_ms DOUBLE PRECISION,
         actor TEXT
     );
     CREATE INDEX audit_by_collection ON audit(collection, id);
     CREATE TABLE index_snapshots (
         collection TEXT PRIMARY KEY,
         sealed BYTEA NOT NULL,
         saved_at BIGINT NOT NULL
     );",
    // 2: the change log other nodes catch up from (see `follow`).
    "CREATE TABLE changes (
         collection_id BIGINT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
         seq BIGINT NOT NULL,
         subject TEXT NOT NULL,
         at BIGINT NOT NULL,
         PRIMARY KEY (collection_id, seq)
     );",
    // 3: how each collection is searched (see `vectors`).
    "ALTER TABLE collections ADD COLUMN search_mode TEXT NOT NULL DEFAULT 'encrypted';",
];

/// How many idle connections a handle keeps (to the primary, and as many to a replica).
const MAX_IDLE_CONNECTIONS: usize = 8;

/// How long a handle trusts the search mode it read for a collection: another node's switch
/// is noticed within this time. (A search that finds the mode changed under it says so, and the
/// engine searches the other way at once.)
const SEARCH_MODE_KEPT: Duration = Duration::from_secs(1);

/// A [`TemplateStore`] in a PostgreSQL schema, encrypted at rest.
///
/// Its calls block (it is a synchronous client): from async code, call it on a blocking
/// thread (`tokio::task::spawn_blocking`), never on an async worker, where the client panics.
pub struct PgStore {
    /// The database every write and read goes to.
    primary: PgPool,
    /// A read replica for the `pgvector` mode's searches ([`PgStoreBuilder::read_replica`]).
    replica: Option<PgPool>,
    keys: Keyring,
    /// Other nodes' changes, as the listener hears of them.
    heard: Arc<follow::Heard>,
    /// Each collection's search mode as last read, and when: asked before every search and
    /// write, it costs no round trip while fresh.
    modes: Mutex<HashMap<String, (Instant, SearchMode)>>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.heard.close();
    }
}

/// How to open a [`PgStore`]: `PgStore::builder(url, key)...open()`.
#[derive(Debug, Clone)]
pub struct PgStoreBuilder {
    url: String,
    key: MasterKey,
    previous: Vec<MasterKey>,
    schema: String,
    replica: Option<String>,
}

impl PgStoreBuilder {
    /// Older keys, to read subjects an interrupted rotation has not re-wrapped yet.
    pub fn previous_keys(mut self, keys: Vec<MasterKey>) -> Self {
        self.previous = keys;
        self
    }

    /// The PostgreSQL schema the store's tables live in (default `faceprint`): several stores
    /// can share one database. Lower-case letters, digits and `_`, not starting with a digit.
    pub fn schema(mut self, schema: &str) -> Self {
        self.schema = schema.to_string();
        self
    }

    /// A read replica of the database (PostgreSQL streaming replication) that serves the
    /// searches of collections in the `pgvector` mode, taking them off the primary. A replica
    /// lags its primary a little: a template enrolled a moment ago may not be found there yet.
    /// Its answers are checked against the primary, so a subject deleted or disabled there is
    /// never answered; a replica that cannot be reached leaves the searches to the primary.
    pub fn read_replica(mut self, url: &str) -> Self {
        self.replica = Some(url.to_string());
        self
    }

    /// Connects, creates or migrates the schema (the first master key goes in with a new one)
    /// and checks the key.
    pub fn open(self) -> Result<PgStore> {
        let pool = |url: &str| PgPool::new(url, &self.schema, MAX_IDLE_CONNECTIONS, "faceprint");
        let replica = match &self.replica {
            Some(url) => Some(pool(url)?),
            None => None,
        };
        let store = PgStore {
            primary: pool(&self.url)?,
            replica,
            keys: Keyring {
                key: self.key,
                previous: self.previous,
            },
            heard: Arc::default(),
            modes: Mutex::default(),
        };
        store.with(|client| initialise(client, store.schema(), &store.keys.key))?;
        store.check_keys()?;
        follow::listen(
            store.primary.config().clone(),
            store.schema().to_string(),
            store.heard.clone(),
        )?;
        Ok(store)
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        // The server's message with its SQLSTATE: "db error" alone says nothing.
        match e.as_db_error() {
            Some(db) => Error::Storage(format!(
                "PostgreSQL: {} ({})",
                db.message(),
                db.code().code()
            )),
            None => Error::Storage(format!("PostgreSQL: {e}")),
        }
    }
}

/// Creates or migrates the schema in one transaction under an advisory lock, so that nodes
/// starting together create it once; a new schema gets the first master key.
fn initialise(client: &mut Client, schema: &str, key: &MasterKey) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('faceprint-schema:' || $1))",
        &[&schema],
    )?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         SET LOCAL search_path TO {schema};
         CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
    ))?;
    let version: Option<i32> = tx
        .query_opt("SELECT version FROM schema_version", &[])?
        .map(|r| r.get(0));
    let version = version.unwrap_or(0) as usize;
    if version > MIGRATIONS.len() {
        return Err(Error::Storage(format!(
            "PostgreSQL schema {schema} has version {version}; this Faceprint knows up to {}: \
             upgrade Faceprint",
            MIGRATIONS.len()
        )));
    }
    for sql in &MIGRATIONS[version..] {
        tx.batch_execute(sql)?;
    }
    tx.execute("DELETE FROM schema_version", &[])?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES ($1)",
        &[&(MIGRATIONS.len() as i32)],
    )?;
    let has_key: bool = tx
        .query_one("SELECT EXISTS (SELECT 1 FROM keys)", &[])?
        .get(0);
    if !has_key {
        tx.execute(
            "INSERT INTO keys (key_id, check_blob, created_at) VALUES ($1, $2, $3)",
            &[&key.id(), &crypto::key_check(key)?, &now_ms()],
        )?;
        set_current_key(&mut tx, key.id())?;
    }
    tx.commit()?;
    Ok(())
}

fn set_current_key(tx: &mut impl GenericClient, key_id: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (name, value) VALUES ('current_key_id', $1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[&key_id],
    )?;
    Ok(())
}

/// The store's current master key; `lock` is `FOR SHARE` in writers, `FOR UPDATE` in a
/// rotation.
fn current_key(c: &mut impl GenericClient, lock: &str) -> Result<String> {
    c.query_opt(
        &format!("SELECT value FROM meta WHERE name = 'current_key_id' {lock}"),
        &[],
    )?
    .map(|r| r.get(0))
    .ok_or_else(|| Error::StoreCorrupt("the store records no current master key".into()))
}

fn not_found_collection(name: &str) -> Error {
    Error::NotFound(format!("collection {name:?}"))
}

fn not_found_subject(external_id: &str) -> Error {
    Error::NotFound(format!("subject {external_id:?}"))
}

fn collection_row(c: &mut impl GenericClient, name: &str) -> Result<(i64, Collection)> {
    c.query_opt(
        "SELECT id, name, model_id, dim, created_at FROM collections WHERE name = $1",
        &[&name],
    )?
    .map(|r| {
        (
            r.get(0),
            Collection {
                name: r.get(1),
                model_id: r.get(2),
                dim: r.get::<_, i32>(3) as usize,
                created_at: r.get(4),
            },
        )
    })
    .ok_or_else(|| not_found_collection(name))
}

/// (row id, key id, wrapped key) of a subject.
fn subject_key_row(
    c: &mut impl GenericClient,
    cid: i64,
    external_id: &str,
) -> Result<(i64, String, Vec<u8>)> {
    c.query_opt(
        "SELECT id, key_id, wrapped_key FROM subjects WHERE collection_id = $1 AND external_id = $2",
        &[&cid, &external_id],
    )?
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .ok_or_else(|| not_found_subject(external_id))
}

const SUBJECT_COLUMNS: &str =
    "s.external_id, s.display_name, s.metadata, s.disabled, s.created_at, s.updated_at,
     (SELECT COUNT(*) FROM templates t WHERE t.subject_id = s.id)";

fn read_subject(r: &postgres::Row, collection: &str) -> Subject {
    let metadata: String = r.get(2);
    Subject {
        collection: collection.to_string(),
        external_id: r.get(0),
        display_name: r.get(1),
        metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
        disabled: r.get(3),
        created_at: r.get(4),
        updated_at: r.get(5),
        templates: r.get::<_, i64>(6) as usize,
    }
}

fn insert_audit(c: &mut impl GenericClient, e: &AuditEvent) -> Result<()> {
    c.execute(
        "INSERT INTO audit (at, action, collection, subject, outcome, score, latency_ms, actor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &e.at,
            &e.action.as_str(),
            &e.collection,
            &e.subject,
            &e.outcome,
            &e.score,
            &e.latency_ms,
            &e.actor,
        ],
    )?;
    Ok(())
}

/// A collection's template rows (or one subject's), still sealed.
fn template_rows_in(
    c: &mut impl GenericClient,
    cid: i64,
    subject: Option<&str>,
) -> Result<Vec<TemplateRow>> {
    let rows = c.query(
        "SELECT s.external_id, s.key_id, s.wrapped_key, t.id, t.model_id, t.model_version,
                    t.dim, t.quality, t.source, t.created_at, t.ciphertext
             FROM templates t JOIN subjects s ON s.id = t.subject_id
             WHERE s.collection_id = $1 AND ($2::TEXT IS NULL OR s.external_id = $2)
             ORDER BY s.external_id, t.created_at, t.id",
        &[&cid, &subject],
    )?;
    Ok(rows
        .iter()
        .map(|r| TemplateRow {
            subject: r.get(0),
            key_id: r.get(1),
            wrapped_key: r.get(2),
            id: r.get(3),
            model_id: r.get(4),
            model_version: r.get(5),
            dim: r.get::<_, i32>(6) as usize,
            quality: r.get(7),
            source: r.get(8),
            created_at: r.get(9),
            ciphertext: r.get(10),
        })
        .collect())
}

impl PgStore {
    /// How to open the store at `url` (`postgres://user:password@host:port/database`).
    pub fn builder(url: &str, key: MasterKey) -> PgStoreBuilder {
        PgStoreBuilder {
            url: url.to_string(),
            key,
            previous: Vec::new(),
            schema: "faceprint".into(),
            replica: None,
        }
    }

    /// Opens (creating the schema if needed) the store at `url` with its master key.
    pub fn open(url: &str, key: MasterKey) -> Result<PgStore> {
        PgStore::builder(url, key).open()
    }

    /// The fingerprint of the key the store is open with ([`MasterKey::id`]).
    pub fn key_id(&self) -> &str {
        self.keys.key.id()
    }

    /// The schema the store lives in.
    pub fn schema(&self) -> &str {
        self.primary.schema()
    }

    /// How `collection` is searched.
    pub fn search_mode(&self, collection: &str) -> Result<SearchMode> {
        self.with(|c| Ok(vectors::collection_mode(c, collection)?.2))
    }

    /// Switches `collection` to the `pgvector` search mode (see [`SearchMode`]): its vectors
    /// are copied, in clear, into a pgvector table of the collection, which then gets an HNSW
    /// index (`hnsw`: `m` and `ef_construction`), and from then on every engine searches it
    /// in the database. Writes to the collection wait while its vectors are copied, and
    /// again while the index is built; searches go on. `progress(done, total)` follows the
    /// copy. Already in that mode: only makes sure the index exists.
    pub fn use_pgvector(
        &self,
        collection: &str,
        hnsw: &crate::index::HnswConfig,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<()> {
        let cid = self.write(|tx| {
            let (cid, c) = collection_row(tx, collection)?;
            // Writers wait from here (they read the mode FOR KEY SHARE) and then see it.
            let mode: String = tx
                .query_one(
                    "SELECT search_mode FROM collections WHERE id = $1 FOR UPDATE",
                    &[&cid],
                )?
                .get(0);
            if SearchMode::parse(&mode)? == SearchMode::Pgvector {
                return Ok(cid);
            }
            vectors::create_table(tx, cid, c.dim)?;
            let subject_ids: std::collections::HashMap<String, i64> = tx
                .query(
                    "SELECT external_id, id FROM subjects WHERE collection_id = $1",
                    &[&cid],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let rows = template_rows_in(tx, cid, None)?;
            let all = self.keys.decrypt_rows(&c, rows);
            if !all.damaged.is_empty() {
                log::warn!(
                    "collection {collection:?}: {} subjects do not open and are left out of the \
                     pgvector table",
                    all.damaged.len()
                );
            }
            let total = all.templates.len() as u64;
            let mut copy = tx.copy_in(&format!(
                "COPY {} (template_id, subject_id, embedding) FROM STDIN",
                vectors::table(cid)
            ))?;
            let mut line = String::new();
            for (done, t) in all.templates.iter().enumerate() {
                use std::fmt::Write as _;
                let sid = subject_ids.get(&t.subject).ok_or_else(|| {
                    Error::StoreCorrupt(format!("subject {:?} has no row", t.subject))
                })?;
                line.clear();
                let _ = write!(line, "{}\t{sid}\t[", t.id);
                for (i, x) in t.embedding.vector().iter().enumerate() {
                    let _ = write!(line, "{}{x}", if i > 0 { "," } else { "" });
                }
                line.push_str("]\n");
                std::io::Write::write_all(&mut copy, line.as_bytes())
                    .map_err(|e| Error::Storage(format!("PostgreSQL: copying vectors: {e}")))?;
                if done % 10_000 == 0 {
                    progress(done as u64, total);
                }
            }
            copy.finish()?;
            progress(total, total);
            tx.execute(
                "UPDATE collections SET search_mode = 'pgvector' WHERE id = $1",
                &[&cid],
            )?;
            Ok(cid)
        })?;
        self.forget_mode(collection);
        self.with(|c| vectors::create_index(c, cid, hnsw))
    }

    /// Switches `collection` back to the `encrypted` search mode: its pgvector table, with
    /// every vector in clear, is dropped; engines search their in-memory indexes again (the
    /// sealed templates were kept all along).
    pub fn use_encrypted(&self, collection: &str) -> Result<()> {
        self.write(|tx| {
            let (cid, _) = collection_row(tx, collection)?;
            tx.query_one(
                "SELECT 1 FROM collections WHERE id = $1 FOR UPDATE",
                &[&cid],
            )?;
            tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", vectors::table(cid)))?;
            tx.execute(
                "UPDATE collections SET search_mode = 'encrypted' WHERE id = $1",
                &[&cid],
            )?;
            Ok(())
        })?;
        self.forget_mode(collection);
        Ok(())
    }

    /// Runs `f` on a connection of the primary's own.
    fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T>) -> Result<T> {
        self.primary.with(f)
    }

    /// The collection's search mode, read again once [`SEARCH_MODE_KEPT`] has passed.
    fn cached_mode(&self, collection: &str) -> Result<SearchMode> {
        let modes = || self.modes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, mode)) = modes().get(collection) {
            if at.elapsed() < SEARCH_MODE_KEPT {
                return Ok(*mode);
            }
        }
        let mode = self.search_mode(collection)?;
        modes().insert(collection.to_string(), (Instant::now(), mode));
        Ok(mode)
    }

    /// Forgets the collection's search mode: it changed.
    fn forget_mode(&self, collection: &str) {
        self.modes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(collection);
    }

    /// The pgvector search on the replica, its answers checked against the primary; `None`
    /// when the replica has the collection in another mode (it may lag a switch).
    fn search_replica(
        &self,
        replica: &PgPool,
        collection: &str,
        probe: &[f32],
        limit: usize,
        ef_search: usize,
    ) -> Result<Option<Vec<(String, f32, String)>>> {
        let found = replica.with(|client| -> Result<_> {
            let mut tx = client.build_transaction().read_only(true).start()?;
            let (cid, dim, mode) = vectors::collection_mode(&mut tx, collection)?;
            if mode != SearchMode::Pgvector {
                return Ok(None);
            }
            crate::index::check_vector(dim, probe)?;
            let found = vectors::search(&mut tx, cid, probe, limit, ef_search)?;
            tx.commit()?;
            Ok(Some(found))
        })?;
        let Some(mut found) = found else {
            return Ok(None);
        };
        let names: Vec<&str> = found.iter().map(|(s, _, _)| s.as_str()).collect();
        if let Some(live) = self.matchable_subjects(collection, &names)? {
            found.retain(|(s, _, _)| live.contains(s));
        }
        Ok(Some(found))
    }

    /// Runs `f` in a transaction that commits when `f` succeeds.
    fn write<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        self.with(|client| {
            let mut tx = client.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
    }

    fn check_keys(&self) -> Result<()> {
        self.with(|c| {
            let known: Vec<(String, Vec<u8>)> = c
                .query("SELECT key_id, check_blob FROM keys", &[])?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let current = current_key(c, "")?;
            self.keys.verify(&known, &current)
        })
    }

    /// Inside a write transaction: the store must still be under this handle's key (read
    /// `FOR SHARE`: a rotation waits for this transaction, and this one for a rotation).
    fn check_current_key(&self, tx: &mut Transaction<'_>) -> Result<()> {
        let current = current_key(tx, "FOR SHARE")?;
        if current != self.keys.key.id() {
            return Err(rotated(&current, self.keys.key.id()));
        }
        Ok(())
    }

    /// Inside a write transaction: creates the subject with a new data key, or updates its
    /// name and metadata. Returns (row id, key id, wrapped key).
    fn upsert_in(
        &self,
        tx: &mut Transaction<'_>,
        cid: i64,
        collection: &str,
        external_id: &str,
        display_name: Option<&str>,
        metadata: Option<&serde_json::Value>,
    ) -> Result<(i64, String, Vec<u8>)> {
        self.check_current_key(tx)?;
        let meta = metadata.map(|m| m.to_string());
        let wrapped = self.keys.new_wrapped_key(collection, external_id)?;
        // One statement: two nodes creating the same subject get one row and one key.
        let r = tx.query_one(
            "INSERT INTO subjects (collection_id, external_id, display_name, metadata, created_at,
                 updated_at, key_id, wrapped_key)
             VALUES ($1, $2, $3, COALESCE($4, '{}'), $5, $5, $6, $7)
             ON CONFLICT (collection_id, external_id) DO UPDATE SET
                 display_name = COALESCE(excluded.display_name, subjects.display_name),
                 metadata = COALESCE($4, subjects.metadata),
                 updated_at = excluded.updated_at
             RETURNING id, key_id, wrapped_key",
            &[
                &cid,
                &external_id,
                &display_name,
                &meta,
                &now_ms(),
                &self.keys.key.id(),
                &wrapped,
            ],
        )?;
        Ok((r.get(0), r.get(1), r.get(2)))
    }

    /// Inside a write transaction: seals and inserts a subject's templates.
    fn insert_templates(
        &self,
        tx: &mut Transaction<'_>,
        (cid, c): (i64, &Collection),
        external_id: &str,
        (sid, key_id, wrapped): (i64, &str, &[u8]),
        templates: &[NewTemplate],
    ) -> Result<Vec<String>> {
        // FOR KEY SHARE: a switch to pgvector (FOR UPDATE) waits for this write, and this
        // write for a switch, so no template misses its vector; writers do not block each
        // other (their change-number UPDATE takes a lock KEY SHARE allows).
        let mode: String = tx
            .query_one(
                "SELECT search_mode FROM collections WHERE id = $1 FOR KEY SHARE",
                &[&cid],
            )?
            .get(0);
        let sealed = self
            .keys
            .seal_templates(c, external_id, (key_id, wrapped), templates)?;
        let now = now_ms();
        let mut ids = Vec::with_capacity(templates.len());
        for (t, (id, sealed)) in templates.iter().zip(sealed) {
            tx.execute(
                "INSERT INTO templates (id, subject_id, model_id, model_version, dim, quality, source,
                     created_at, ciphertext) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &id,
                    &sid,
                    &c.model_id,
                    &t.model_version,
                    &(c.dim as i32),
                    &t.quality,
                    &t.source,
                    &now,
                    &sealed,
                ],
            )?;
            ids.push(id);
        }
        if SearchMode::parse(&mode)? == SearchMode::Pgvector {
            let rows: Vec<(&str, &[f32])> = ids
                .iter()
                .zip(templates)
                .map(|(id, t)| (id.as_str(), t.embedding.vector()))
                .collect();
            vectors::insert(tx, cid, sid, &rows)?;
        }
        tx.execute(
            "UPDATE subjects SET updated_at = $1 WHERE id = $2",
            &[&now, &sid],
        )?;
        Ok(ids)
    }

    fn template_rows(&self, cid: i64, subject: Option<&str>) -> Result<Vec<TemplateRow>> {
        self.with(|c| template_rows_in(c, cid, subject))
    }

    /// Re-wraps every subject key under `new`, as [`super::SqliteStore::rotate_key`] does:
    /// the first transaction makes `new` current (every other handle's writes then fail with
    /// `wrong_key`), then subjects are re-wrapped in committed batches, so a crash loses at
    /// most one batch and a rerun carries on; the old keys go with the last batch.
    pub fn rotate_key(
        &mut self,
        new: MasterKey,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<super::Rotation> {
        let mine = self.keys.key.id().to_string();
        self.write(|tx| {
            let current = current_key(tx, "FOR UPDATE")?;
            if current != mine && current != new.id() {
                return Err(rotated(&current, &mine));
            }
            tx.execute(
                "INSERT INTO keys (key_id, check_blob, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (key_id) DO NOTHING",
                &[&new.id(), &crypto::key_check(&new)?, &now_ms()],
            )?;
            set_current_key(tx, new.id())
        })?;
        if new.id() != self.keys.key.id() {
            let old = std::mem::replace(&mut self.keys.key, new.clone());
            self.keys.previous.push(old);
        }
        let (total, done): (i64, i64) = self.with(|c| {
            let r = c.query_one(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE key_id = $1) FROM subjects",
                &[&new.id()],
            )?;
            Ok((r.get(0), r.get(1)))
        })?;
        let mut rewrapped = 0u64;
        loop {
            let n = self.write(|tx| {
                let batch = tx.query(
                    "SELECT s.id, c.name, s.external_id, s.key_id, s.wrapped_key FROM subjects s
                     JOIN collections c ON c.id = s.collection_id WHERE s.key_id != $1
                     ORDER BY s.id LIMIT 500 FOR UPDATE OF s",
                    &[&new.id()],
                )?;
                if batch.is_empty() {
                    tx.execute("DELETE FROM keys WHERE key_id != $1", &[&new.id()])?;
                    // Snapshots sealed under a retired key are caches: they go too.
                    tx.execute("DELETE FROM index_snapshots", &[])?;
                    return Ok(0);
                }
                for r in &batch {
                    let (id, coll, ext, key_id, wrapped): (i64, String, String, String, Vec<u8>) =
                        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
                    let w = self.keys.rewrap(&new, &coll, &ext, &key_id, &wrapped)?;
                    tx.execute(
                        "UPDATE subjects SET key_id = $1, wrapped_key = $2 WHERE id = $3",
                        &[&new.id(), &w, &id],
                    )?;
                }
                Ok(batch.len() as u64)
            })?;
            if n == 0 {
                break;
            }
            rewrapped += n;
            progress(done as u64 + rewrapped, total as u64);
        }
        self.keys.previous.clear();
        Ok(super::Rotation {
            new_key_id: new.id().to_string(),
            rewrapped,
            already_done: done as u64,
        })
    }
}

impl TemplateStore for PgStore {
    fn ensure_collection(&self, name: &str, model_id: &str, dim: usize) -> Result<Collection> {
        let name = normalize_id(name)?;
        let c = self.with(|c| {
            c.execute(
                "INSERT INTO collections (name, model_id, dim, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO NOTHING",
                &[&name, &model_id, &(dim as i32), &now_ms()],
            )?;
            Ok(collection_row(c, &name)?.1)
        })?;
        if c.model_id != model_id || c.dim != dim {
            return Err(Error::CollectionModel {
                collection: name,
                collection_model: c.model_id,
                engine_model: model_id.to_string(),
            });
        }
        Ok(c)
    }

    fn collection(&self, name: &str) -> Result<Collection> {
        self.with(|c| Ok(collection_row(c, name)?.1))
    }

    fn collections(&self) -> Result<Vec<Collection>> {
        self.with(|c| {
            Ok(c.query(
                "SELECT name, model_id, dim, created_at FROM collections ORDER BY name",
                &[],
            )?
            .iter()
            .map(|r| Collection {
                name: r.get(0),
                model_id: r.get(1),
                dim: r.get::<_, i32>(2) as usize,
                created_at: r.get(3),
            })
            .collect())
        })
    }

    fn upsert_subject(
        &self,
        collection: &str,
        external_id: &str,
        display_name: Option<&str>,
        metadata: Option<&serde_json::Value>,
    ) -> Result<Subject> {
        let external_id = normalize_id(external_id)?;
        self.write(|tx| {
            let (cid, _) = collection_row(tx, collection)?;
            self.upsert_in(tx, cid, collection, &external_id, display_name, metadata)
        })?;
        self.subject(collection, &external_id)
    }

    fn subject(&self, collection: &str, external_id: &str) -> Result<Subject> {
        self.with(|c| {
            let (cid, _) = collection_row(c, collection)?;
            let sql = format!(
                "SELECT {SUBJECT_COLUMNS} FROM subjects s WHERE s.collection_id = $1 AND s.external_id = $2"
            );
            c.query_opt(&sql, &[&cid, &external_id])?
                .map(|r| read_subject(&r, collection))
                .ok_or_else(|| not_found_subject(external_id))
        })
    }

    fn list_subjects(&self, collection: &str, offset: usize, limit: usize) -> Result<Vec<Subject>> {
        self.with(|c| {
            let (cid, _) = collection_row(c, collection)?;
            let sql = format!(
                "SELECT {SUBJECT_COLUMNS} FROM subjects s WHERE s.collection_id = $1
                 ORDER BY s.external_id COLLATE \"C\" LIMIT $2 OFFSET $3"
            );
            let limit = limit.min(i64::MAX as usize) as i64;
            let offset = offset.min(i64::MAX as usize) as i64;
            Ok(c.query(&sql, &[&cid, &limit, &offset])?
                .iter()
                .map(|r| read_subject(r, collection))
                .collect())
        })
    }

    fn set_disabled(&self, collection: &str, external_id: &str, disabled: bool) -> Result<()> {
        self.write(|tx| {
            let (cid, _) = collection_row(tx, collection)?;
            let n = tx.execute(
                "UPDATE subjects SET disabled = $1, updated_at = $2
                 WHERE collection_id = $3 AND external_id = $4",
                &[&disabled, &now_ms(), &cid, &external_id],
            )?;
            if n == 0 {
                return Err(not_found_subject(external_id));
            }
            // Other nodes' indexes leave a disabled subject out of their answers.
            follow::record_change(tx, self.schema(), cid, external_id)
        })
    }

    fn add_templates(
        &self,
        collection: &str,
        external_id: &str,
        templates: &[NewTemplate],
    ) -> Result<Vec<String>> {
        self.write(|tx| {
            self.check_current_key(tx)?;
            let (cid, c) = collection_row(tx, collection)?;
            check_templates(&c, templates)?;
            let (sid, key_id, wrapped) = subject_key_row(tx, cid, external_id)?;
            let ids = self.insert_templates(
                tx,
                (cid, &c),
                external_id,
                (sid, &key_id, &wrapped),
                templates,
            )?;
            follow::record_change(tx, self.schema(), cid, external_id)?;
            Ok(ids)
        })
    }

    fn enroll(&self, e: &Enrollment<'_>) -> Result<(Subject, Vec<String>)> {
        let external_id = normalize_id(e.external_id)?;
        let ids = self.write(|tx| {
            let (cid, c) = collection_row(tx, e.collection)?;
            check_templates(&c, e.templates)?;
            let (sid, key_id, wrapped) = self.upsert_in(
                tx,
                cid,
                e.collection,
                &external_id,
                e.display_name,
                e.metadata,
            )?;
            let ids = self.insert_templates(
                tx,
                (cid, &c),
                &external_id,
                (sid, &key_id, &wrapped),
                e.templates,
            )?;
            insert_audit(tx, e.audit)?;
            follow::record_change(tx, self.schema(), cid, &external_id)?;
            Ok(ids)
        })?;
        Ok((self.subject(e.collection, &external_id)?, ids))
    }

    fn templates(&self, collection: &str, external_id: &str) -> Result<Vec<Template>> {
        let (cid, c) = self.with(|c| {
            let (cid, coll) = collection_row(c, collection)?;
            // Distinguish "no such subject" from "no templates".
            subject_key_row(c, cid, external_id)?;
            Ok((cid, coll))
        })?;
        let rows = self.template_rows(cid, Some(external_id))?;
        self.keys.decrypt_subject(&c, rows)
    }

    fn all_templates(&self, collection: &str) -> Result<CollectionTemplates> {
        let (cid, c) = self.with(|c| collection_row(c, collection))?;
        let rows = self.template_rows(cid, None)?;
        Ok(self.keys.decrypt_rows(&c, rows))
    }

    fn delete_subject(&self, collection: &str, external_id: &str) -> Result<()> {
        self.write(|tx| {
            let (cid, _) = collection_row(tx, collection)?;
            // Templates go by cascade; the wrapped data key goes with the row.
            let n = tx.execute(
                "DELETE FROM subjects WHERE collection_id = $1 AND external_id = $2",
                &[&cid, &external_id],
            )?;
            if n == 0 {
                return Err(not_found_subject(external_id));
            }
            follow::record_change(tx, self.schema(), cid, external_id)
        })
    }

    fn template_subject(&self, collection: &str, template_id: &str) -> Result<String> {
        self.with(|c| {
            let (cid, _) = collection_row(c, collection)?;
            c.query_opt(
                "SELECT s.external_id FROM templates t JOIN subjects s ON s.id = t.subject_id
                 WHERE t.id = $1 AND s.collection_id = $2",
                &[&template_id, &cid],
            )?
            .map(|r| r.get(0))
            .ok_or_else(|| Error::NotFound(format!("template {template_id:?}")))
        })
    }

    fn delete_template(&self, collection: &str, template_id: &str) -> Result<String> {
        self.write(|tx| {
            let (cid, _) = collection_row(tx, collection)?;
            let (sid, external_id): (i64, String) = tx
                .query_opt(
                    "SELECT s.id, s.external_id FROM templates t JOIN subjects s ON s.id = t.subject_id
                     WHERE t.id = $1 AND s.collection_id = $2",
                    &[&template_id, &cid],
                )?
                .map(|r| (r.get(0), r.get(1)))
                .ok_or_else(|| Error::NotFound(format!("template {template_id:?}")))?;
            tx.execute("DELETE FROM templates WHERE id = $1", &[&template_id])?;
            tx.execute(
                "UPDATE subjects SET updated_at = $2 WHERE id = $1",
                &[&sid, &now_ms()],
            )?;
            follow::record_change(tx, self.schema(), cid, &external_id)?;
            Ok(external_id)
        })
    }

    fn change_seq(&self, collection: &str) -> Result<Option<u64>> {
        self.with(|c| {
            c.query_opt(
                "SELECT change_seq FROM collections WHERE name = $1",
                &[&collection],
            )?
            .map(|r| Some(r.get::<_, i64>(0) as u64))
            .ok_or_else(|| not_found_collection(collection))
        })
    }

    fn searches_itself(&self, collection: &str) -> Result<bool> {
        Ok(self.cached_mode(collection)? == SearchMode::Pgvector)
    }

    fn search(
        &self,
        collection: &str,
        probe: &[f32],
        limit: usize,
        ef_search: usize,
    ) -> Result<Option<Vec<(String, f32, String)>>> {
        if let Some(replica) = &self.replica {
            match self.search_replica(replica, collection, probe, limit, ef_search) {
                Ok(Some(found)) => return Ok(Some(found)),
                // The replica has not replayed the switch yet: the primary says.
                Ok(None) => {}
                Err(Error::Storage(e)) => {
                    log::warn!("the read replica did not answer ({e}): searching the primary")
                }
                Err(e) => return Err(e),
            }
        }
        let found = self.write(|tx| {
            let (cid, dim, mode) = vectors::collection_mode(tx, collection)?;
            if mode != SearchMode::Pgvector {
                return Ok(None);
            }
            crate::index::check_vector(dim, probe)?;
            vectors::search(tx, cid, probe, limit, ef_search).map(Some)
        })?;
        if found.is_none() {
            // Switched back since the mode was read: the engine searches its own index.
            self.forget_mode(collection);
        }
        Ok(found)
    }

    fn heard_change_seq(&self, collection: &str) -> Option<u64> {
        Some(self.heard.seq(collection).unwrap_or(0))
    }

    fn changes_since(&self, collection: &str, after: u64, limit: usize) -> Result<Option<Changes>> {
        self.with(|c| {
            let (cid, _) = collection_row(c, collection)?;
            follow::changes_since(c, cid, after, limit).map(Some)
        })
    }

    fn matchable_subjects(
        &self,
        collection: &str,
        subjects: &[&str],
    ) -> Result<Option<std::collections::HashSet<String>>> {
        self.with(|c| {
            let (cid, _) = collection_row(c, collection)?;
            Ok(Some(
                c.query(
                    "SELECT external_id FROM subjects
                     WHERE collection_id = $1 AND external_id = ANY($2) AND NOT disabled",
                    &[&cid, &subjects],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect(),
            ))
        })
    }

    fn keeps_index_snapshots(&self) -> bool {
        true
    }

    fn has_index_snapshot(&self, collection: &str) -> bool {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT 1 FROM index_snapshots WHERE collection = $1",
                &[&collection],
            )?
            .is_some())
        })
        .unwrap_or(false)
    }

    fn load_index_snapshot(&self, collection: &str) -> Result<Option<Vec<u8>>> {
        let sealed: Option<Vec<u8>> = self.with(|c| {
            Ok(c.query_opt(
                "SELECT sealed FROM index_snapshots WHERE collection = $1",
                &[&collection],
            )?
            .map(|r| r.get(0)))
        })?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let context = ["index-snapshot", collection];
        let mut last = None;
        for key in self.keys.all() {
            match key.open_blob(&sealed, &context) {
                Ok(mut plain) => return Ok(Some(std::mem::take(&mut *plain))),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::Decrypt("index snapshot".into())))
    }

    fn save_index_snapshot(&self, collection: &str, snapshot: &[u8]) -> Result<()> {
        let sealed = self
            .keys
            .key
            .seal_blob(snapshot, &["index-snapshot", collection])?;
        self.with(|c| {
            c.execute(
                "INSERT INTO index_snapshots (collection, sealed, saved_at) VALUES ($1, $2, $3)
                 ON CONFLICT (collection) DO UPDATE SET sealed = excluded.sealed,
                     saved_at = excluded.saved_at",
                &[&collection, &sealed, &now_ms()],
            )?;
            Ok(())
        })
    }

    fn record_audit(&self, e: &AuditEvent) -> Result<()> {
        self.with(|c| insert_audit(c, e))
    }

    fn audit(&self, collection: Option<&str>, limit: usize) -> Result<Vec<AuditEvent>> {
        self.with(|c| {
            let limit = limit.min(i64::MAX as usize) as i64;
            Ok(c.query(
                "SELECT at, action, collection, subject, outcome, score, latency_ms, actor FROM audit
                 WHERE $1::TEXT IS NULL OR collection = $1 ORDER BY id DESC LIMIT $2",
                &[&collection, &limit],
            )?
            .iter()
            .map(|r| {
                let action: String = r.get(1);
                AuditEvent {
                    at: r.get(0),
                    action: AuditAction::parse(&action).unwrap_or(AuditAction::Verify),
                    collection: r.get(2),
                    subject: r.get(3),
                    outcome: r.get(4),
                    score: r.get(5),
                    latency_ms: r.get(6),
                    actor: r.get(7),
                }
            })
            .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    //! Against a real PostgreSQL: `FACEPRINT_TEST_PG` holds its URL (`.ci/run` starts one with
    //! `tests/postgres.sh`). Each test works in a schema of its own.
    use super::*;
    use crate::ErrorCode;

    /// The test server's URL; without one the test is skipped, saying so (./test.sh and
    /// .ci/run always give one).
    fn url() -> Option<String> {
        let url = std::env::var("FACEPRINT_TEST_PG").ok();
        if url.is_none() {
            eprintln!(
                "SKIPPED: FACEPRINT_TEST_PG is not set (tests/postgres.sh start DIR prints a URL)"
            );
        }
        url
    }

    fn schema(name: &str) -> String {
        format!("t_{name}_{}", std::process::id())
    }

    #[test]
    fn conforms() {
        let Some(url) = url() else { return };
        let store = PgStore::builder(&url, MasterKey::generate())
            .schema(&schema("conform"))
            .open()
            .unwrap();
        super::super::conformance::run(&store);
    }

    /// Calls from several threads each get a connection: one held by a long call does not
    /// hold up the others (with one shared connection this call would wait for ever).
    #[test]
    fn a_call_does_not_wait_for_another_threads_connection() {
        let Some(url) = url() else { return };
        let store = Arc::new(
            PgStore::builder(&url, MasterKey::generate())
                .schema(&schema("pool"))
                .open()
                .unwrap(),
        );
        store.ensure_collection("c", "m", 4).unwrap();
        let (holding, held) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let slow = {
            let store = store.clone();
            std::thread::spawn(move || {
                store.with(|_client| {
                    holding.send(()).unwrap();
                    released.recv().unwrap();
                    Ok(())
                })
            })
        };
        held.recv().unwrap();
        let (answer, answered) = std::sync::mpsc::channel();
        let other = store.clone();
        std::thread::spawn(move || answer.send(other.collections().map(|c| c.len())));
        let got = answered.recv_timeout(Duration::from_secs(30));
        release.send(()).unwrap();
        slow.join().unwrap().unwrap();
        assert_eq!(
            got.expect("the second call waited for the first one's connection")
                .unwrap(),
            1
        );
    }

    #[test]
    fn a_wrong_key_is_refused_and_the_database_holds_no_vector_in_clear() {
        let Some(url) = url() else { return };
        let key = MasterKey::generate();
        let s = schema("keys");
        let store = PgStore::builder(&url, key.clone())
            .schema(&s)
            .open()
            .unwrap();
        store.ensure_collection("c", "m", 4).unwrap();
        let v = vec![0.5f32, -0.25, 0.125, 0.8];
        let t = NewTemplate {
            embedding: Embedding::new("m", v.clone()).unwrap(),
            model_version: "1".into(),
            quality: None,
            source: None,
        };
        store.upsert_subject("c", "ann", None, None).unwrap();
        store.add_templates("c", "ann", &[t]).unwrap();
        let wrong = PgStore::builder(&url, MasterKey::generate())
            .schema(&s)
            .open();
        assert_eq!(wrong.err().map(|e| e.code()), Some(ErrorCode::WrongKey));
        // The normalised vector's bytes appear nowhere in the templates table.
        let n = Embedding::new("m", v).unwrap();
        let needle: Vec<u8> = n.vector().iter().flat_map(|x| x.to_le_bytes()).collect();
        let blobs: Vec<Vec<u8>> = store
            .with(|c| {
                Ok(c.query("SELECT ciphertext FROM templates", &[])?
                    .iter()
                    .map(|r| r.get(0))
                    .collect())
            })
            .unwrap();
        assert_eq!(blobs.len(), 1);
        assert!(!blobs[0].windows(needle.len()).any(|w| w == needle));
        // The right key reads it back.
        let again = PgStore::builder(&url, key).schema(&s).open().unwrap();
        assert_eq!(again.templates("c", "ann").unwrap().len(), 1);
    }

    #[test]
    fn rotation_rewraps_every_subject_and_old_handles_stop_writing() {
        let Some(url) = url() else { return };
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        let s = schema("rotate");
        let mut store = PgStore::builder(&url, old.clone())
            .schema(&s)
            .open()
            .unwrap();
        let stale = PgStore::builder(&url, old.clone())
            .schema(&s)
            .open()
            .unwrap();
        store.ensure_collection("c", "m", 2).unwrap();
        for i in 0..7 {
            store
                .upsert_subject("c", &format!("s{i}"), None, None)
                .unwrap();
        }
        let r = store.rotate_key(new.clone(), |_, _| {}).unwrap();
        assert_eq!((r.rewrapped, r.already_done), (7, 0));
        assert_eq!(
            stale
                .upsert_subject("c", "late", None, None)
                .unwrap_err()
                .code(),
            ErrorCode::WrongKey
        );
        assert_eq!(
            PgStore::builder(&url, old)
                .schema(&s)
                .open()
                .err()
                .map(|e| e.code()),
            Some(ErrorCode::WrongKey)
        );
        let reopened = PgStore::builder(&url, new).schema(&s).open().unwrap();
        assert_eq!(reopened.list_subjects("c", 0, 100).unwrap().len(), 7);
        reopened.upsert_subject("c", "late", None, None).unwrap();
    }

    #[test]
    fn racing_nodes_create_one_subject_with_one_key() {
        let Some(url) = url() else { return };
        let key = MasterKey::generate();
        let s = schema("race");
        let first = PgStore::builder(&url, key.clone())
            .schema(&s)
            .open()
            .unwrap();
        first.ensure_collection("c", "m", 2).unwrap();
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (url, key, s) = (url.clone(), key.clone(), s.clone());
                std::thread::spawn(move || {
                    let node = PgStore::builder(&url, key).schema(&s).open().unwrap();
                    let t = NewTemplate {
                        embedding: Embedding::new("m", vec![1.0, i as f32]).unwrap(),
                        model_version: "1".into(),
                        quality: None,
                        source: None,
                    };
                    let audit = AuditEvent {
                        at: now_ms(),
                        action: AuditAction::Enroll,
                        collection: Some("c".into()),
                        subject: Some("shared".into()),
                        outcome: "success".into(),
                        score: None,
                        latency_ms: None,
                        actor: None,
                    };
                    node.enroll(&Enrollment {
                        collection: "c",
                        external_id: "shared",
                        display_name: None,
                        metadata: None,
                        templates: &[t],
                        audit: &audit,
                    })
                    .unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        // One subject, six templates that all open under its one key.
        assert_eq!(first.list_subjects("c", 0, 10).unwrap().len(), 1);
        assert_eq!(first.templates("c", "shared").unwrap().len(), 6);
        assert_eq!(first.change_seq("c").unwrap(), Some(6));
    }
}
