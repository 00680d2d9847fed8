//! Connections to one PostgreSQL server (the primary, or a read replica): each call takes an
//! idle connection or opens one, so calls from several threads run side by side, each on its
//! own connection.

use crate::error::{Error, Result};
use postgres::{Client, NoTls};
use std::sync::Mutex;

/// How many idle connections a pool keeps for its next calls.
const MAX_IDLE_CONNECTIONS: usize = 8;

pub(super) struct Pool {
    pub config: postgres::Config,
    schema: String,
    idle: Mutex<Vec<Client>>,
}

impl Pool {
    pub fn new(config: postgres::Config, schema: &str) -> Pool {
        Pool {
            config,
            schema: schema.to_string(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A new connection with the schema on its search path.
    fn connect(&self) -> Result<Client> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|e| Error::Storage(format!("PostgreSQL: cannot connect: {e}")))?;
        // public: where the pgvector extension's type and operators live.
        client.batch_execute(&format!("SET search_path TO {}, public", self.schema))?;
        Ok(client)
    }

    /// Runs `f` on a connection of its own: an idle one, else a new one (a broken one is
    /// dropped, so the next call connects again). It goes back to the idle ones after, unless
    /// it broke or enough are idle already.
    pub fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T>) -> Result<T> {
        let idle = || self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let pooled = std::iter::from_fn(|| idle().pop()).find(|c| !c.is_closed());
        let mut client = match pooled {
            Some(c) => c,
            None => self.connect()?,
        };
        let out = f(&mut client);
        if !client.is_closed() {
            let mut idle = idle();
            if idle.len() < MAX_IDLE_CONNECTIONS {
                idle.push(client);
            }
        }
        out
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // A client closes by blocking on a runtime of its own, which tokio refuses on a thread
        // that drives async tasks (where an application may drop its engine): close them on a
        // thread of their own.
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|p| p.into_inner()));
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}
