//! A collection's `pgvector` search mode: every template keeps its sealed copy, and its vector
//! also goes, in clear, into the collection's own table (`vectors_<collection id>`, a
//! `vector(D)` column under an HNSW index with `vector_cosine_ops`), so that the database
//! searches: no node loads the collection into memory, read replicas can serve searches and
//! Citus can shard the table. The price: the vectors are plaintext inside the database,
//! protected by its own encryption at rest and access control instead of the master key.

use crate::error::{Error, Result};
use crate::index::HnswConfig;
use pgvector::Vector;
use postgres::{GenericClient, Transaction};

/// How a collection of a [`super::PgStore`] is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMode {
    /// Templates only sealed; each engine searches its own in-memory index (the default).
    Encrypted,
    /// Vectors also in clear in a pgvector table with an HNSW index; the database searches.
    Pgvector,
}

impl SearchMode {
    pub(super) fn parse(s: &str) -> Result<SearchMode> {
        match s {
            "encrypted" => Ok(SearchMode::Encrypted),
            "pgvector" => Ok(SearchMode::Pgvector),
            other => Err(Error::StoreCorrupt(format!(
                "unknown search mode {other:?}"
            ))),
        }
    }
}

/// The collection's vector table (its id keeps the name a safe identifier).
pub(super) fn table(cid: i64) -> String {
    format!("vectors_{cid}")
}

/// The collection's row id, vector dimension and search mode, in one round trip.
pub(super) fn collection_mode(
    c: &mut impl GenericClient,
    collection: &str,
) -> Result<(i64, usize, SearchMode)> {
    let row = c
        .query_opt(
            "SELECT id, dim, search_mode FROM collections WHERE name = $1",
            &[&collection],
        )?
        .ok_or_else(|| Error::NotFound(format!("collection {collection:?}")))?;
    let mode: String = row.get(2);
    Ok((
        row.get(0),
        row.get::<_, i32>(1) as usize,
        SearchMode::parse(&mode)?,
    ))
}

/// Creates the collection's vector table (empty; the HNSW index comes after the backfill,
/// which builds it much faster than row-by-row inserts would).
pub(super) fn create_table(tx: &mut Transaction<'_>, cid: i64, dim: usize) -> Result<()> {
    tx.batch_execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
        .map_err(|e| {
            Error::Storage(format!(
                "PostgreSQL: the pgvector extension is not available ({e}): install pgvector \
                 0.8 on the server, or have an administrator run CREATE EXTENSION vector"
            ))
        })?;
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {t} (
             template_id TEXT PRIMARY KEY REFERENCES templates(id) ON DELETE CASCADE,
             subject_id BIGINT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
             embedding public.vector({dim}) NOT NULL
         );
         CREATE INDEX IF NOT EXISTS {t}_by_subject ON {t}(subject_id);",
        t = table(cid)
    ))?;
    Ok(())
}

/// The HNSW index over the table's vectors.
pub(super) fn create_index(c: &mut impl GenericClient, cid: i64, hnsw: &HnswConfig) -> Result<()> {
    c.batch_execute(&format!(
        "CREATE INDEX IF NOT EXISTS {t}_hnsw ON {t} USING hnsw (embedding public.vector_cosine_ops)
         WITH (m = {m}, ef_construction = {ef})",
        t = table(cid),
        m = hnsw.m.clamp(2, 100),
        ef = hnsw.ef_construction.clamp(4, 1000),
    ))?;
    Ok(())
}

/// Inside a write transaction: the new templates' vectors.
pub(super) fn insert(
    tx: &mut Transaction<'_>,
    cid: i64,
    sid: i64,
    rows: &[(&str, &[f32])],
) -> Result<()> {
    let sql = format!(
        "INSERT INTO {} (template_id, subject_id, embedding) VALUES ($1, $2, $3)",
        table(cid)
    );
    let statement = tx.prepare(&sql)?;
    for (id, v) in rows {
        tx.execute(&statement, &[id, &sid, &Vector::from(v.to_vec())])?;
    }
    Ok(())
}

/// The `limit` nearest enabled templates to `probe`: (subject, cosine, template id), best first.
/// `ef_search` is the HNSW candidate list of this query; an iterative scan keeps looking when
/// disabled subjects' templates are filtered out.
pub(super) fn search(
    tx: &mut Transaction<'_>,
    cid: i64,
    probe: &[f32],
    limit: usize,
    ef_search: usize,
) -> Result<Vec<(String, f32, String)>> {
    tx.execute(
        "SELECT set_config('hnsw.ef_search', $1, true),
                set_config('hnsw.iterative_scan', 'relaxed_order', true)",
        &[&ef_search.clamp(1, 1000).to_string()],
    )?;
    let sql = format!(
        "SELECT s.external_id, (1 - (v.embedding <=> $1))::real, v.template_id
         FROM {} v JOIN subjects s ON s.id = v.subject_id
         WHERE NOT s.disabled
         ORDER BY v.embedding <=> $1 LIMIT $2",
        table(cid)
    );
    let probe = Vector::from(probe.to_vec());
    let mut found: Vec<(String, f32, String)> = tx
        .query(&sql, &[&probe, &(limit.min(10_000) as i64)])?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    // A relaxed iterative scan may give a few slightly out of order.
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(found)
}
