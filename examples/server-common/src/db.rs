//! The servers' own state (accounts, sessions, API keys, events…) in one SQLite file beside the
//! template store: WAL, `synchronous=FULL` (an answered write is on disk), foreign keys on, and
//! versioned migrations per component (the common tables, then each server's).
//!
//! Calls are blocking: run them through the blocking gate ([`crate::state::Common::db`]).

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A small pool of connections to one database file.
#[derive(Clone)]
pub struct Db {
    inner: Arc<DbInner>,
}

struct DbInner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

/// One component's migrations: step `i` takes the schema from version `i` to `i + 1`.
pub struct Migrations {
    pub component: &'static str,
    pub steps: &'static [&'static str],
}

impl Db {
    pub fn open(path: impl AsRef<Path>, max_idle: usize) -> rusqlite::Result<Db> {
        let db = Db {
            inner: Arc::new(DbInner {
                path: path.as_ref().to_path_buf(),
                idle: Mutex::new(Vec::new()),
                max_idle: max_idle.max(1),
            }),
        };
        let conn = db.connect()?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
        )?;
        db.put_back(conn);
        Ok(db)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.inner.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        )?;
        Ok(conn)
    }

    fn put_back(&self, conn: Connection) {
        let mut idle = self.inner.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.inner.max_idle {
            idle.push(conn);
        }
    }

    /// Runs `f` with a connection (blocking).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let pooled = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.connect()?,
        };
        let out = f(&mut conn);
        // A connection left inside a transaction by a failed call is not reused.
        if conn.is_autocommit() {
            self.put_back(conn);
        }
        out
    }

    /// Runs `f` in a write transaction and commits it. IMMEDIATE: the write lock is taken
    /// first, so a transaction that reads before it writes waits for other writers (busy
    /// timeout) instead of failing with SQLITE_BUSY when it upgrades, as a deferred one does
    /// when another connection wrote since its read.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
    }

    /// Applies the missing steps of `m`, each in its own transaction.
    pub fn migrate(&self, m: &Migrations) -> rusqlite::Result<()> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let current: usize = tx
                .query_row(
                    "SELECT version FROM schema_versions WHERE component = ?1",
                    [m.component],
                    |r| r.get::<_, i64>(0),
                )
                .map(|v| v as usize)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(0),
                    e => Err(e),
                })?;
            if current > m.steps.len() {
                return Err(rusqlite::Error::InvalidParameterName(format!(
                    "{}: the database has schema version {current}, newer than this server knows ({}); upgrade the server",
                    m.component,
                    m.steps.len()
                )));
            }
            for (i, step) in m.steps.iter().enumerate().skip(current) {
                tx.execute_batch(step)?;
                tx.execute(
                    "INSERT INTO schema_versions (component, version) VALUES (?1, ?2)
                     ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    rusqlite::params![m.component, (i + 1) as i64],
                )?;
            }
            tx.commit()
        })
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The tables every server has: login sessions and their refresh tokens, API keys and their
/// usage, administrator accounts, the audit trail.
pub const COMMON_MIGRATIONS: Migrations = Migrations {
    component: "common",
    steps: &[
        r#"
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    principal TEXT NOT NULL,
    role TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_used_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    revoked_ms INTEGER,
    revoke_reason TEXT,
    user_agent TEXT,
    ip TEXT
);
CREATE INDEX sessions_principal ON sessions (principal, created_ms);
CREATE TABLE refresh_tokens (
    hash BLOB PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_ms INTEGER NOT NULL,
    used_ms INTEGER
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    collection TEXT NOT NULL,
    label TEXT,
    rate_per_minute INTEGER NOT NULL,
    daily_quota INTEGER,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER,
    last_used_ms INTEGER
);
CREATE TABLE api_key_usage (
    key_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    day INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key_id, day)
);
CREATE TABLE admins (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER,
    created_ms INTEGER NOT NULL
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    score REAL,
    reason TEXT,
    request_id TEXT
);
CREATE INDEX events_at ON events (at_ms);
CREATE INDEX events_target ON events (target, at_ms);
CREATE INDEX events_action ON events (action, at_ms);
"#,
        r#"
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    -- comma-separated event names, or '*'
    events TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
-- The outbox: a delivery is written with the event, then sent (and retried) by the worker,
-- so a restart loses none.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_ms INTEGER NOT NULL,
    delivered_ms INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_ms);
"#,
        r#"
-- Frame sessions (enrollment and authentication over camera frames), saved after every frame
-- so a restart resumes them. The state holds face embeddings, so it is sealed under the
-- master key.
CREATE TABLE frame_sessions (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    owner TEXT,
    state BLOB NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    frames_dropped INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX frame_sessions_expiry ON frame_sessions (expires_ms);
"#,
    ],
};

/// Opens (creating the data dir if needed) `DATA/server.db` with the common and the server's
/// migrations applied. The command-line tools use this without loading any model.
pub fn open_server_db(
    data_dir: &Path,
    migrations: &[&Migrations],
    max_idle: usize,
) -> Result<Db, String> {
    crate::files::ensure_data_dir(data_dir)?;
    let path = data_dir.join("server.db");
    let db = Db::open(&path, max_idle)
        .map_err(|e| format!("server database {}: {e}", path.display()))?;
    for m in std::iter::once(&COMMON_MIGRATIONS).chain(migrations.iter().copied()) {
        db.migrate(m)
            .map_err(|e| format!("migrating the server database ({}): {e}", m.component))?;
    }
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writers that read before they write (a visit's record, a counter) must wait for each
    /// other, not fail: with deferred transactions this fails with SQLITE_BUSY at once.
    #[test]
    fn concurrent_read_then_write_transactions_all_commit() {
        let dir = std::env::temp_dir().join(format!("fp-db-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = open_server_db(&dir, &[], 8).unwrap();
        db.with(|c| c.execute_batch("CREATE TABLE counter (n INTEGER NOT NULL UNIQUE)"))
            .unwrap();
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    for _ in 0..40 {
                        db.write(|tx| {
                            let n: i64 =
                                tx.query_row("SELECT coalesce(max(n), 0) FROM counter", [], |r| {
                                    r.get(0)
                                })?;
                            tx.execute("INSERT INTO counter (n) VALUES (?1)", [n + 1])
                        })
                        .expect("a write transaction that waited its turn");
                    }
                });
            }
        });
        let (count, max): (i64, i64) = db
            .with(|c| {
                c.query_row("SELECT count(*), max(n) FROM counter", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
            })
            .unwrap();
        assert_eq!((count, max), (240, 240));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
