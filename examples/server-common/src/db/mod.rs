//! The servers' own state (accounts, sessions, API keys, events, records…) in SQLite — one
//! file beside the template store, the default — or in PostgreSQL, where several server
//! processes share it and act as one. The servers write each statement once (see `dialect`
//! for the part of SQL both take) and get rows of [`Value`]s back.
//!
//! Calls are blocking: run them through the blocking gate ([`crate::state::Common::db`]).

mod dialect;
mod pg;
mod sqlite;
mod value;

pub use value::{FromValue, Row, Value};

/// What a repository module needs: `use faceprint_server::db::prelude::*;`.
pub mod prelude {
    pub use super::{now_ms, DbError, DbResult, OptionalExt, Sql};
    pub use crate::args;
}

use crate::args;
use crate::config::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a database call can fail with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DbError {
    /// `query_row` found nothing.
    #[error("no such row")]
    NoRow,
    /// A constraint refused the write (a unique key taken, a reference missing).
    #[error("constraint: {0}")]
    Conflict(String),
    /// Anything else: the database's own message.
    #[error("{0}")]
    Other(String),
}

pub type DbResult<T> = Result<T, DbError>;

/// Where the state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://user:password@host:port/database`) and the schema of
    /// this server's tables in it.
    Postgres { url: String, schema: String },
}

/// Which database a [`Db`] talks to, for the rare statement that must differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A small pool of connections to the servers' database: cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Pool>,
}

enum Pool {
    Sqlite(sqlite::Pool),
    Postgres(Box<pg::Pool>),
}

/// A connection (inside a transaction where the call asked for one) to run statements on.
pub struct Sql<'a> {
    conn: Conn<'a>,
}

enum Conn<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres {
        tx: &'a mut dyn pg::Statements,
        /// The writers' advisory lock of the schema.
        write_lock: i64,
    },
}

/// One component's migrations: step `i` takes the schema from version `i` to `i + 1`. Written
/// for SQLite; on PostgreSQL the column types are translated (`dialect::pg_schema`).
pub struct Migrations {
    pub component: &'static str,
    pub steps: &'static [&'static str],
}

impl Db {
    /// Opens (creating it if needed) the database at `location`, keeping up to `max_idle`
    /// connections between calls.
    pub fn open(location: &Location, max_idle: usize) -> DbResult<Db> {
        let pool = match location {
            Location::Sqlite(path) => Pool::Sqlite(sqlite::Pool::open(path, max_idle)?),
            Location::Postgres { url, schema } => {
                Pool::Postgres(Box::new(pg::Pool::open(url, schema, max_idle)?))
            }
        };
        let db = Db {
            inner: Arc::new(pool),
        };
        db.write(|c| {
            c.batch(
                "CREATE TABLE IF NOT EXISTS schema_versions (
                     component TEXT PRIMARY KEY, version BIGINT NOT NULL)",
            )
        })?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite file, or `None` on PostgreSQL.
    pub fn path(&self) -> Option<&Path> {
        match &*self.inner {
            Pool::Sqlite(p) => Some(&p.path),
            Pool::Postgres(_) => None,
        }
    }

    /// Where the state lives, for logs and errors (never a password).
    pub fn describe(&self) -> String {
        match &*self.inner {
            Pool::Sqlite(p) => p.path.display().to_string(),
            Pool::Postgres(p) => format!("PostgreSQL schema {}", p.schema()),
        }
    }

    /// Runs `f` (blocking) for reads, and for writes of one statement. On SQLite each
    /// statement commits by itself; on PostgreSQL `f` runs in one transaction.
    pub fn with<T>(&self, f: impl FnOnce(&mut Sql<'_>) -> DbResult<T>) -> DbResult<T> {
        match &*self.inner {
            Pool::Sqlite(p) => p.with(|c| f(&mut Sql::sqlite(c))),
            Pool::Postgres(p) => p.run(false, |tx| f(&mut Sql::postgres(tx, p.write_lock))),
        }
    }

    /// Runs `f` (blocking) in a write transaction, committed when `f` succeeds. Writers take
    /// turns (across every node on PostgreSQL), so a transaction that reads then writes sees
    /// no other writer between the two.
    pub fn write<T>(&self, f: impl FnOnce(&mut Sql<'_>) -> DbResult<T>) -> DbResult<T> {
        match &*self.inner {
            Pool::Sqlite(p) => p.write(|c| f(&mut Sql::sqlite(c))),
            Pool::Postgres(p) => p.run(true, |tx| f(&mut Sql::postgres(tx, p.write_lock))),
        }
    }

    /// Applies the missing steps of `m`, in one write transaction.
    pub fn migrate(&self, m: &Migrations) -> DbResult<()> {
        let backend = self.backend();
        self.write(|c| {
            let current: usize = c
                .query_opt(
                    "SELECT version FROM schema_versions WHERE component = ?1",
                    args![m.component],
                )?
                .map(|r| r.get(0))
                .transpose()?
                .unwrap_or(0);
            if current > m.steps.len() {
                return Err(DbError::Other(format!(
                    "{}: the database has schema version {current}, newer than this server \
                     knows ({}); upgrade the server",
                    m.component,
                    m.steps.len()
                )));
            }
            for (i, step) in m.steps.iter().enumerate().skip(current) {
                match backend {
                    Backend::Sqlite => c.batch(step)?,
                    Backend::Postgres => c.batch(&dialect::pg_schema(step))?,
                }
                c.execute(
                    "INSERT INTO schema_versions (component, version) VALUES (?1, ?2)
                     ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                    args![m.component, i + 1],
                )?;
            }
            Ok(())
        })
    }
}

impl<'a> Sql<'a> {
    fn sqlite(c: &'a rusqlite::Connection) -> Self {
        Sql {
            conn: Conn::Sqlite(c),
        }
    }

    fn postgres(tx: &'a mut dyn pg::Statements, write_lock: i64) -> Self {
        Sql {
            conn: Conn::Postgres { tx, write_lock },
        }
    }

    /// Runs `f` as one unit that writes: all of it or none of it, with the writers' turn
    /// taken first (as [`Db::write`] does), so what `f` reads no other writer changes before
    /// `f` is done. A statement expected to fail (a unique key that may be taken) goes in one
    /// of its own: on PostgreSQL a failed statement spoils the rest of its transaction
    /// otherwise.
    pub fn atomic<T>(&mut self, f: impl FnOnce(&mut Sql<'_>) -> DbResult<T>) -> DbResult<T> {
        let (begin, commit, rollback) = match &mut self.conn {
            Conn::Sqlite(c) if c.is_autocommit() => ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"),
            Conn::Sqlite(_) => (
                "SAVEPOINT atomic",
                "RELEASE atomic",
                "ROLLBACK TO atomic; RELEASE atomic",
            ),
            Conn::Postgres { tx, write_lock } => {
                // Taken again by a session that holds it: it stacks, never waits on itself.
                tx.execute("SELECT pg_advisory_xact_lock(?1)", args![*write_lock])?;
                (
                    "SAVEPOINT atomic",
                    "RELEASE SAVEPOINT atomic",
                    "ROLLBACK TO SAVEPOINT atomic; RELEASE SAVEPOINT atomic",
                )
            }
        };
        self.batch(begin)?;
        match f(self) {
            Ok(out) => {
                self.batch(commit)?;
                Ok(out)
            }
            Err(e) => {
                // The caller gets `f`'s error; a connection that could not roll back is not
                // reused (SQLite: it is left outside autocommit; PostgreSQL: the transaction
                // fails as a whole).
                let _ = self.batch(rollback);
                Err(e)
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Runs one statement with `args` (`?1`, `?2`… in `sql`): how many rows it changed.
    pub fn execute(&mut self, sql: &str, args: &[Value]) -> DbResult<u64> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::execute(c, sql, args),
            Conn::Postgres { tx, .. } => tx.execute(sql, args),
        }
    }

    /// Runs statements without arguments (schema changes).
    pub fn batch(&mut self, sql: &str) -> DbResult<()> {
        match &mut self.conn {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres { tx, .. } => tx.batch(sql),
        }
    }

    /// Every row of a query.
    pub fn query(&mut self, sql: &str, args: &[Value]) -> DbResult<Vec<Row>> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite::query(c, sql, args),
            Conn::Postgres { tx, .. } => tx.query(sql, args),
        }
    }

    /// The first row of a query, or `None`.
    pub fn query_opt(&mut self, sql: &str, args: &[Value]) -> DbResult<Option<Row>> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// `f` of the first row of a query; [`DbError::NoRow`] when there is none
    /// ([`OptionalExt::optional`] makes that `None`).
    pub fn query_row<T>(
        &mut self,
        sql: &str,
        args: &[Value],
        f: impl FnOnce(&Row) -> DbResult<T>,
    ) -> DbResult<T> {
        f(&self.query_opt(sql, args)?.ok_or(DbError::NoRow)?)
    }

    /// `f` of every row of a query.
    pub fn query_map<T>(
        &mut self,
        sql: &str,
        args: &[Value],
        f: impl FnMut(&Row) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        self.query(sql, args)?.iter().map(f).collect()
    }

    /// The first column of the first row; [`DbError::NoRow`] when there is none.
    pub fn query_one<T: FromValue>(&mut self, sql: &str, args: &[Value]) -> DbResult<T> {
        self.query_row(sql, args, |r| r.get(0))
    }
}

/// `.optional()`: a query that found no row answers `None`.
pub trait OptionalExt<T> {
    fn optional(self) -> DbResult<Option<T>>;
}

impl<T> OptionalExt<T> for DbResult<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRow) => Ok(None),
            Err(e) => Err(e),
        }
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
        r#"
-- Secrets every node of a server must share (the JWT signing secret when none is
-- configured), sealed under the master key.
CREATE TABLE shared_secrets (
    name TEXT PRIMARY KEY,
    sealed BLOB NOT NULL
);
"#,
        r#"
-- Rate limits shared by the nodes of a server (server.database): one GCRA bucket per client
-- IP or API key, holding its theoretical arrival time.
CREATE TABLE rate_buckets (
    bucket TEXT PRIMARY KEY,
    tat_ms INTEGER NOT NULL
);
"#,
        r#"
-- Work one node at a time holds (an attendance camera), and each live node's own lease
-- (`node:<id>`): see `cluster`.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    node_url TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
"#,
    ],
};

/// The PostgreSQL schema of a server's state (`faceprint-auth` → `faceprint_auth`), or of its
/// templates with `suffix` `_templates`: the servers can share one database.
pub fn schema_of(server_name: &str, suffix: &str) -> String {
    let base: String = server_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{base}{suffix}")
}

/// Where a server keeps its state: `DATA/server.db`, or with `server.database` its schema in
/// that PostgreSQL database.
pub fn server_location(server_name: &str, server: &ServerConfig) -> Location {
    match &server.database {
        Some(url) => Location::Postgres {
            url: url.clone(),
            schema: schema_of(server_name, ""),
        },
        None => Location::Sqlite(server.data_dir.join("server.db")),
    }
}

/// Opens (creating the data dir if needed) the server's database with the common and the
/// server's migrations applied. The command-line tools use this without loading any model.
pub fn open_server_db(
    server_name: &str,
    server: &ServerConfig,
    migrations: &[&Migrations],
    max_idle: usize,
) -> Result<Db, String> {
    crate::files::ensure_data_dir(&server.data_dir)?;
    let location = server_location(server_name, server);
    let db = Db::open(&location, max_idle).map_err(|e| match &location {
        Location::Sqlite(path) => format!("server database {}: {e}", path.display()),
        Location::Postgres { schema, .. } => {
            format!("server database (PostgreSQL, schema {schema}): {e}")
        }
    })?;
    for m in std::iter::once(&COMMON_MIGRATIONS).chain(migrations.iter().copied()) {
        db.migrate(m)
            .map_err(|e| format!("migrating the server database ({}): {e}", m.component))?;
    }
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the tests' databases live: a SQLite file, and PostgreSQL when `FACEPRINT_TEST_PG`
    /// names one (./test.sh and .ci/run always do).
    fn locations(name: &str) -> Vec<Location> {
        let dir = std::env::temp_dir().join(format!("fp-db-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut all = vec![Location::Sqlite(dir.join("server.db"))];
        match std::env::var("FACEPRINT_TEST_PG") {
            Ok(url) => all.push(Location::Postgres {
                url,
                schema: format!("t_{name}_{}", std::process::id()),
            }),
            Err(_) => eprintln!("SKIPPED on PostgreSQL: FACEPRINT_TEST_PG is not set"),
        }
        all
    }

    const TEST_MIGRATIONS: Migrations = Migrations {
        component: "test",
        steps: &[
            "CREATE TABLE things (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT NOT NULL UNIQUE,
                 at_ms INTEGER NOT NULL,
                 score REAL,
                 secret BLOB
             );",
            "CREATE TABLE counter (n INTEGER NOT NULL UNIQUE);",
        ],
    };

    #[test]
    fn every_kind_of_value_goes_in_and_comes_back_on_both_databases() {
        for at in locations("values") {
            let db = Db::open(&at, 4).unwrap();
            db.migrate(&TEST_MIGRATIONS).unwrap();
            // Twice: an applied migration is not applied again.
            db.migrate(&TEST_MIGRATIONS).unwrap();
            let id: i64 = db
                .write(|c| {
                    c.query_one(
                        "INSERT INTO things (name, at_ms, score, secret) VALUES (?1, ?2, ?3, ?4)
                         RETURNING id",
                        args!["a", now_ms(), 0.5, vec![0u8, 1, 255]],
                    )
                })
                .unwrap();
            db.with(|c| {
                c.execute(
                    "INSERT INTO things (name, at_ms, score, secret) VALUES (?1, ?2, ?3, ?4)",
                    args!["b", 1_700_000_000_000i64, None::<f64>, None::<Vec<u8>>],
                )
            })
            .unwrap();
            let rows = db
                .with(|c| {
                    c.query(
                        "SELECT id, name, at_ms, score, secret FROM things ORDER BY id",
                        args![],
                    )
                })
                .unwrap();
            assert_eq!(rows.len(), 2, "{at:?}");
            assert_eq!(rows[0].get::<i64>(0).unwrap(), id);
            assert_eq!(rows[0].get::<String>(1).unwrap(), "a");
            assert_eq!(rows[0].get::<Option<f64>>(3).unwrap(), Some(0.5));
            assert_eq!(rows[0].get::<Vec<u8>>(4).unwrap(), vec![0, 1, 255]);
            assert_eq!(rows[1].get::<i64>(2).unwrap(), 1_700_000_000_000);
            assert_eq!(rows[1].get::<Option<f64>>(3).unwrap(), None);
            assert_eq!(rows[1].get::<Option<Vec<u8>>>(4).unwrap(), None);
            // A wrong type is an error naming the column, not a panic.
            assert!(rows[0]
                .get::<i64>(1)
                .unwrap_err()
                .to_string()
                .contains("column 1"));
            // A unique key taken is a conflict; a missing row is NoRow.
            let taken = db.with(|c| {
                c.execute(
                    "INSERT INTO things (name, at_ms) VALUES (?1, ?2)",
                    args!["a", 1],
                )
            });
            assert!(
                matches!(taken, Err(DbError::Conflict(_))),
                "{at:?}: {taken:?}"
            );
            let none: DbResult<i64> =
                db.with(|c| c.query_one("SELECT id FROM things WHERE name = ?1", args!["z"]));
            assert_eq!(none, Err(DbError::NoRow));
            assert_eq!(none.optional(), Ok(None));
            // A statement that fails inside a unit of its own leaves the rest of the
            // transaction going (PostgreSQL aborts a whole transaction otherwise).
            let kept: i64 = db
                .write(|c| {
                    let again = c.atomic(|c| {
                        c.execute(
                            "INSERT INTO things (name, at_ms) VALUES (?1, ?2)",
                            args!["a", 2],
                        )
                    });
                    assert!(matches!(again, Err(DbError::Conflict(_))), "{again:?}");
                    c.execute(
                        "UPDATE things SET at_ms = ?2 WHERE name = ?1",
                        args!["a", 7],
                    )?;
                    c.query_one("SELECT at_ms FROM things WHERE name = ?1", args!["a"])
                })
                .unwrap();
            assert_eq!(kept, 7, "{at:?}");
            // A failed write leaves nothing behind.
            let failed: DbResult<()> = db.write(|c| {
                c.execute(
                    "INSERT INTO things (name, at_ms) VALUES (?1, ?2)",
                    args!["c", 1],
                )?;
                Err(DbError::Other("changed my mind".into()))
            });
            assert!(failed.is_err());
            let count: i64 = db
                .with(|c| c.query_one("SELECT count(*) FROM things", args![]))
                .unwrap();
            assert_eq!(count, 2, "{at:?}");
        }
    }

    /// Writers that read before they write (a visit's record, a counter) take turns: with
    /// deferred SQLite transactions this fails with SQLITE_BUSY at once, and on PostgreSQL
    /// without the writers' lock two would read the same maximum.
    #[test]
    fn read_then_write_transactions_take_turns_on_both_databases() {
        for at in locations("turns") {
            let db = Db::open(&at, 8).unwrap();
            db.migrate(&TEST_MIGRATIONS).unwrap();
            std::thread::scope(|s| {
                for _ in 0..6 {
                    s.spawn(|| {
                        for _ in 0..40 {
                            db.write(|c| {
                                let n: i64 = c.query_one(
                                    "SELECT coalesce(max(n), 0) FROM counter",
                                    args![],
                                )?;
                                c.execute("INSERT INTO counter (n) VALUES (?1)", args![n + 1])
                            })
                            .expect("a write transaction that waited its turn");
                        }
                    });
                }
            });
            let (count, max): (i64, i64) = db
                .with(|c| {
                    c.query_row("SELECT count(*), max(n) FROM counter", args![], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                })
                .unwrap();
            assert_eq!((count, max), (240, 240), "{at:?}");
        }
    }
}
