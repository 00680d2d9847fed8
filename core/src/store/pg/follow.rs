//! How nodes sharing a PostgreSQL store learn of each other's changes: every write that
//! changes a collection's search data logs the subject under the collection's next change
//! sequence number and sends `NOTIFY` in the same transaction (delivered at commit); each
//! store handle keeps one listening connection that records the highest number heard per
//! collection. After the listener reconnects (the server restarted, the network dropped) it
//! reads every collection's current number, so changes made while it was deaf are caught up
//! from the log like any other.

use super::super::{now_ms, Changes};
use crate::error::Result;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, GenericClient, NoTls, Transaction};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The one channel every Faceprint store notifies on; the payload names the schema, the change
/// number and the collection (`schema \t seq \t collection`: names hold no control characters).
pub(super) const CHANNEL: &str = "faceprint_changes";

/// How many changes a collection's log keeps: a node further behind reads the whole
/// collection again instead.
const LOG_KEPT: i64 = 100_000;

/// Inside a write transaction: counts one change of `subject` in collection `cid`, logs it and
/// notifies the other nodes (at commit).
pub(super) fn record_change(
    tx: &mut Transaction<'_>,
    schema: &str,
    cid: i64,
    subject: &str,
) -> Result<()> {
    // One round trip: the collection row's lock orders the numbers as the commits.
    let seq: i64 = tx
        .query_one(
            "WITH bumped AS (
                 UPDATE collections SET change_seq = change_seq + 1 WHERE id = $1
                 RETURNING name, change_seq
             ), logged AS (
                 INSERT INTO changes (collection_id, seq, subject, at)
                 SELECT $1, change_seq, $2, $3 FROM bumped
             )
             SELECT change_seq, pg_notify($4, $5 || E'\\t' || change_seq || E'\\t' || name)::text
             FROM bumped",
            &[&cid, &subject, &now_ms(), &CHANNEL, &schema],
        )?
        .get(0);
    if seq % 1024 == 0 {
        tx.execute(
            "DELETE FROM changes WHERE collection_id = $1 AND seq <= $2",
            &[&cid, &(seq - LOG_KEPT)],
        )?;
    }
    Ok(())
}

/// The subjects changed in collection `cid` after change `after`, or `Expired` when the log
/// no longer holds the change right after it.
pub(super) fn changes_since(
    c: &mut impl GenericClient,
    cid: i64,
    after: u64,
    limit: usize,
) -> Result<Changes> {
    let rows = c.query(
        "SELECT seq, subject FROM changes WHERE collection_id = $1 AND seq > $2
         ORDER BY seq LIMIT $3",
        &[
            &cid,
            &(after as i64),
            &(limit.min(i64::MAX as usize) as i64),
        ],
    )?;
    let changes: Vec<(u64, String)> = rows
        .iter()
        .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
        .collect();
    match changes.first() {
        Some((first, _)) if *first != after + 1 => Ok(Changes::Expired),
        Some(_) => Ok(Changes::Subjects(changes)),
        None => {
            // Nothing logged after `after`: right only if nothing happened since.
            let current: i64 = c
                .query_one("SELECT change_seq FROM collections WHERE id = $1", &[&cid])?
                .get(0);
            if current as u64 > after {
                Ok(Changes::Expired)
            } else {
                Ok(Changes::Subjects(Vec::new()))
            }
        }
    }
}

/// What the listener shares with its store handle.
#[derive(Default)]
pub(super) struct Heard {
    /// Per collection, the highest change number heard of.
    seqs: Mutex<HashMap<String, u64>>,
    /// The handle was dropped: the listener ends.
    closed: AtomicBool,
}

impl Heard {
    pub fn seq(&self, collection: &str) -> Option<u64> {
        self.seqs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(collection)
            .copied()
    }

    fn note(&self, collection: &str, seq: u64) {
        let mut seqs = self.seqs.lock().unwrap_or_else(|p| p.into_inner());
        let heard = seqs.entry(collection.to_string()).or_insert(0);
        *heard = (*heard).max(seq);
    }

    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }
}

/// Starts the thread that listens for the schema's changes until `heard` is closed.
pub(super) fn listen(config: postgres::Config, schema: String, heard: Arc<Heard>) -> Result<()> {
    std::thread::Builder::new()
        .name(format!("faceprint-pg-listen-{schema}"))
        .spawn(move || {
            let mut wait = Duration::from_millis(100);
            let mut failing = false;
            while !heard.is_closed() {
                match listen_once(&config, &schema, &heard, &mut failing) {
                    Ok(()) => return,
                    Err(e) => {
                        if !failing {
                            log::warn!(
                                "PostgreSQL store {schema}: not listening for other nodes' \
                                 changes ({e}); retrying"
                            );
                            failing = true;
                        }
                        std::thread::sleep(wait);
                        wait = (wait * 2).min(Duration::from_secs(2));
                    }
                }
            }
        })
        .map_err(|e| crate::Error::Internal(format!("cannot start the listener thread: {e}")))?;
    Ok(())
}

/// One connection's life: listen, catch up on what was missed, then note every notification
/// until the connection breaks (an error) or the handle is dropped (`Ok`).
fn listen_once(
    config: &postgres::Config,
    schema: &str,
    heard: &Heard,
    failing: &mut bool,
) -> Result<()> {
    let mut client: Client = config
        .connect(NoTls)
        .map_err(|e| crate::Error::Storage(format!("PostgreSQL: cannot connect: {e}")))?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    // Listening first, then reading: a change committed in between is heard twice, never
    // missed.
    for r in client.query(
        &format!("SELECT name, change_seq FROM {schema}.collections"),
        &[],
    )? {
        heard.note(r.get(0), r.get::<_, i64>(1) as u64);
    }
    if std::mem::take(failing) {
        log::info!("PostgreSQL store {schema}: listening for other nodes' changes again");
    }
    while !heard.is_closed() {
        {
            let mut notifications = client.notifications();
            let mut batch = notifications.timeout_iter(Duration::from_millis(500));
            while let Some(n) = batch.next()? {
                let mut parts = n.payload().splitn(3, '\t');
                if let (Some(s), Some(seq), Some(collection)) =
                    (parts.next(), parts.next(), parts.next())
                {
                    if let (true, Ok(seq)) = (s == schema, seq.parse::<u64>()) {
                        heard.note(collection, seq);
                    }
                }
            }
        }
        if client.is_closed() {
            return Err(crate::Error::Storage(
                "PostgreSQL: the listening connection closed".into(),
            ));
        }
    }
    Ok(())
}
