//! The PostgreSQL side: the server's tables in a schema of their own, a few idle connections
//! kept, every call in a transaction. Write transactions take one advisory lock of the schema
//! first: writers wait for each other across every node, as SQLite's IMMEDIATE transactions
//! do within one file, so code that reads before it writes (a counter, a visit's record, a
//! refresh token's rotation) means the same on both.

use super::{dialect, DbError, DbResult, Row, Value};
use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type};
use postgres::Transaction;

pub(super) struct Pool {
    /// The connections (the core's pool, as the template store's).
    conns: faceprint::store::PgPool,
    /// The advisory lock every write transaction takes (from the schema's name).
    pub(super) write_lock: i64,
}

impl Pool {
    pub(super) fn open(url: &str, schema: &str, max_idle: usize) -> DbResult<Pool> {
        let pool = Pool {
            conns: faceprint::store::PgPool::new(url, schema, max_idle, "faceprint-server")?,
            write_lock: lock_key(schema),
        };
        // The schema, made once under the lock: nodes starting together do not race.
        pool.conns.with(|client| -> DbResult<()> {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&pool.write_lock])?;
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))?;
            tx.commit()?;
            Ok(())
        })?;
        Ok(pool)
    }

    /// `f` in a transaction (committed when it succeeds); `write` takes the writers' lock
    /// first.
    pub(super) fn schema(&self) -> &str {
        self.conns.schema()
    }

    pub(super) fn run<T>(
        &self,
        write: bool,
        f: impl FnOnce(&mut Transaction<'_>) -> DbResult<T>,
    ) -> DbResult<T> {
        self.conns.with(|client| {
            let mut tx = client.transaction()?;
            if write {
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&self.write_lock])?;
            }
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
    }
}

/// A stable 64-bit key for the schema's writers' lock (FNV-1a of a fixed prefix and the name).
fn lock_key(schema: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "faceprint-server:".bytes().chain(schema.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

fn params(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

/// What a [`super::Sql`] runs its statements on: a transaction of this side.
pub(super) trait Statements {
    fn execute(&mut self, sql: &str, args: &[Value]) -> DbResult<u64>;
    fn batch(&mut self, sql: &str) -> DbResult<()>;
    fn query(&mut self, sql: &str, args: &[Value]) -> DbResult<Vec<Row>>;
}

impl Statements for Transaction<'_> {
    fn execute(&mut self, sql: &str, args: &[Value]) -> DbResult<u64> {
        Ok(Transaction::execute(
            self,
            &dialect::pg_arguments(sql),
            &params(args),
        )?)
    }

    fn batch(&mut self, sql: &str) -> DbResult<()> {
        Ok(self.batch_execute(sql)?)
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> DbResult<Vec<Row>> {
        let rows = Transaction::query(self, &dialect::pg_arguments(sql), &params(args))?;
        rows.iter().map(row).collect()
    }
}

fn row(r: &postgres::Row) -> DbResult<Row> {
    let mut values = Vec::with_capacity(r.len());
    for (i, column) in r.columns().iter().enumerate() {
        let ty = column.type_();
        let v = match *ty {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::BOOL => r
                .try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::FLOAT8 => r.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::FLOAT4 => r
                .try_get::<_, Option<f32>>(i)?
                .map(|v| Value::Real(v.into())),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                r.try_get::<_, Option<String>>(i)?.map(Value::Text)
            }
            Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
            _ => {
                return Err(DbError::Other(format!(
                    "column {:?} is of PostgreSQL type {ty}, which the servers do not read \
                     (cast it: sum() of a BIGINT is NUMERIC)",
                    column.name()
                )))
            }
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = |what: &str| -> Box<dyn std::error::Error + Sync + Send> {
            format!("{what} given for a parameter of type {ty}").into()
        };
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => Err(mismatch("an integer")),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(mismatch("a real")),
            },
            Value::Text(s) if <&str as ToSql>::accepts(ty) => s.as_str().to_sql(ty, out),
            Value::Text(_) => Err(mismatch("text")),
            Value::Blob(b) if <&[u8] as ToSql>::accepts(ty) => b.as_slice().to_sql(ty, out),
            Value::Blob(_) => Err(mismatch("bytes")),
        }
    }

    // Every type: `to_sql` converts or says what did not fit.
    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl From<faceprint::Error> for DbError {
    fn from(e: faceprint::Error) -> Self {
        DbError::Other(e.to_string())
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        match e.as_db_error() {
            Some(db)
                if [
                    SqlState::UNIQUE_VIOLATION,
                    SqlState::FOREIGN_KEY_VIOLATION,
                    SqlState::CHECK_VIOLATION,
                    SqlState::NOT_NULL_VIOLATION,
                ]
                .contains(db.code()) =>
            {
                DbError::Conflict(db.message().to_string())
            }
            // The server's message with its SQLSTATE: "db error" alone says nothing.
            Some(db) => DbError::Other(format!(
                "PostgreSQL: {} ({})",
                db.message(),
                db.code().code()
            )),
            None => DbError::Other(format!("PostgreSQL: {e}")),
        }
    }
}
