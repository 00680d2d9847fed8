//! The SQLite side: one file, WAL, `synchronous=FULL` (an answered write is on disk), foreign
//! keys on, a few idle connections kept.

use super::{DbError, DbResult, Row, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

pub(super) struct Pool {
    pub(super) path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

impl Pool {
    pub(super) fn open(path: &Path, max_idle: usize) -> DbResult<Pool> {
        let pool = Pool {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
        };
        let conn = pool.connect()?;
        pool.put_back(conn);
        Ok(pool)
    }

    fn connect(&self) -> DbResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
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
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }

    fn take(&self) -> DbResult<Connection> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match pooled {
            Some(c) => Ok(c),
            None => self.connect(),
        }
    }

    /// `f` on a connection outside any transaction (each statement commits by itself).
    pub(super) fn with<T>(&self, f: impl FnOnce(&Connection) -> DbResult<T>) -> DbResult<T> {
        let conn = self.take()?;
        let out = f(&conn);
        // A connection left inside a transaction by a failed call is not reused.
        if conn.is_autocommit() {
            self.put_back(conn);
        }
        out
    }

    /// `f` in an IMMEDIATE transaction, committed when it succeeds: the write lock is taken
    /// first, so a transaction that reads before it writes waits for other writers (busy
    /// timeout) instead of failing with SQLITE_BUSY when it upgrades, as a deferred one does
    /// when another connection wrote since its read.
    pub(super) fn write<T>(&self, f: impl FnOnce(&Connection) -> DbResult<T>) -> DbResult<T> {
        let mut conn = self.take()?;
        let out = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })();
        if conn.is_autocommit() {
            self.put_back(conn);
        }
        out
    }
}

pub(super) fn execute(c: &Connection, sql: &str, args: &[Value]) -> DbResult<u64> {
    let mut statement = c.prepare_cached(sql)?;
    Ok(statement.execute(rusqlite::params_from_iter(args.iter()))? as u64)
}

pub(super) fn query(c: &Connection, sql: &str, args: &[Value]) -> DbResult<Vec<Row>> {
    let mut statement = c.prepare_cached(sql)?;
    let columns = statement.column_count();
    let mut rows = statement.query(rusqlite::params_from_iter(args.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Int(i),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(Row(values));
    }
    Ok(out)
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Value::Int(i) => ToSqlOutput::from(*i),
            Value::Real(f) => ToSqlOutput::from(*f),
            Value::Text(s) => ToSqlOutput::from(s.as_str()),
            Value::Blob(b) => ToSqlOutput::from(b.as_slice()),
        })
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => DbError::NoRow,
            rusqlite::Error::SqliteFailure(f, ref message)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                DbError::Conflict(message.clone().unwrap_or_else(|| e.to_string()))
            }
            e => DbError::Other(format!("SQLite: {e}")),
        }
    }
}
