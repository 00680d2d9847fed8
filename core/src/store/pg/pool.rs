//! Connections to one PostgreSQL server (a primary, or a read replica) for one schema: each
//! call takes an idle connection or opens one, so calls from several threads run side by side,
//! each on its own connection. The reference servers keep their own tables through it too.

use crate::error::{Error, Result};
use postgres::{Client, NoTls};
use std::sync::Mutex;
use std::time::Duration;

/// A few kept-open connections to one PostgreSQL server, each with a schema on its search path
/// (then `public`, where the pgvector extension lives). Connecting gives up after 10 s unless
/// the URL says otherwise, and TCP keepalives notice a server that vanished without closing
/// the connection, so a call fails instead of hanging. Its calls block: from async code, make
/// them on a blocking thread.
pub struct PgPool {
    config: postgres::Config,
    schema: String,
    idle: Mutex<Vec<Client>>,
    max_idle: usize,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL's password stays out of logs.
        f.debug_struct("PgPool")
            .field("schema", &self.schema)
            .field("max_idle", &self.max_idle)
            .finish_non_exhaustive()
    }
}

impl PgPool {
    /// Checks `url` and the schema's name (lower-case letters, digits and `_`, up to 63, not
    /// starting with a digit: it is written into SQL) and connects nothing yet. Up to
    /// `max_idle` connections (at least one) are kept open between calls; `application` names
    /// them in `pg_stat_activity`.
    pub fn new(url: &str, schema: &str, max_idle: usize, application: &str) -> Result<PgPool> {
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && !schema.starts_with(|c: char| c.is_ascii_digit())
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(Error::InvalidArgument(format!(
                "PostgreSQL schema {schema:?}: lower-case letters, digits and _, up to 63, not \
                 starting with a digit"
            )));
        }
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| Error::InvalidArgument(format!("PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        config.application_name(application);
        Ok(PgPool {
            config,
            schema: schema.to_string(),
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
        })
    }

    /// The schema on every connection's search path.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The connection settings (for a connection the pool does not keep, such as a listener).
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// A new connection with the schema on its search path.
    fn connect(&self) -> Result<Client> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|e| Error::Storage(format!("PostgreSQL: cannot connect: {e}")))?;
        client.batch_execute(&format!("SET search_path TO {}, public", self.schema))?;
        Ok(client)
    }

    /// Runs `f` on a connection of its own: an idle one, else a new one (a broken one is
    /// dropped, so the next call connects again). It goes back to the idle ones after, unless
    /// it broke or enough are idle already.
    pub fn with<T, E: From<Error>>(
        &self,
        f: impl FnOnce(&mut Client) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let idle = || self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let pooled = std::iter::from_fn(|| idle().pop()).find(|c| !c.is_closed());
        let mut client = match pooled {
            Some(c) => c,
            None => self.connect()?,
        };
        let out = f(&mut client);
        if !client.is_closed() {
            let mut idle = idle();
            if idle.len() < self.max_idle {
                idle.push(client);
            }
        }
        out
    }
}

impl Drop for PgPool {
    fn drop(&mut self) {
        // A client closes by blocking on a runtime of its own, which tokio refuses on a thread
        // that drives async tasks (where an application may drop its engine or its state):
        // close them on a thread of their own.
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|p| p.into_inner()));
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}
