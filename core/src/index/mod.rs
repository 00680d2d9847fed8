//! Nearest-neighbour search over unit vectors: the [`VectorIndex`] trait and an exact flat scan.
//! The store stays the source of truth: an index is built from it on open, or restored from a
//! saved graph (a snapshot) whose nodes are joined to the store's templates by id.

mod flat;
mod hnsw;
pub(crate) mod snapshot;

pub use flat::FlatIndex;
pub(crate) use hnsw::Reader as ByteReader;
pub use hnsw::{HnswConfig, HnswGraph, HnswIndex};

use crate::error::Result;

/// A search hit: the caller's key and the cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// The key the vector was added under.
    pub key: u64,
    /// Cosine similarity to the query.
    pub score: f32,
}

/// An index of unit vectors under caller-chosen `u64` keys. Searching takes `&self` (many
/// concurrent readers); changes take `&mut self` (one writer).
pub trait VectorIndex: Send + Sync {
    /// The vectors' dimension.
    fn dim(&self) -> usize;
    /// Number of vectors.
    fn len(&self) -> usize;
    /// True when there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Adds or replaces the vector under `key`.
    fn insert(&mut self, key: u64, vector: &[f32]) -> Result<()>;
    /// Removes `key`; a removed key is never returned again. Returns whether it was present.
    fn remove(&mut self, key: u64) -> bool;
    /// The stored vector of `key`.
    fn get(&self, key: u64) -> Option<&[f32]>;
    /// The `k` most similar vectors, best first.
    fn search(&self, query: &[f32], k: usize) -> Result<Vec<Hit>>;
    /// For a graph index worth saving (HNSW): its live nodes' keys in node order and the
    /// graph, to restore later with the vectors. `None` for indexes that are cheap to rebuild.
    fn export_graph(&self) -> Option<(Vec<u64>, HnswGraph)> {
        None
    }
}

pub(crate) fn check_vector(dim: usize, v: &[f32]) -> Result<()> {
    if v.len() != dim {
        return Err(crate::Error::InvalidEmbedding(format!(
            "dimension {} does not match the index's {dim}",
            v.len()
        )));
    }
    if v.iter().any(|x| !x.is_finite()) {
        return Err(crate::Error::InvalidEmbedding(
            "vector has NaN or infinite values".into(),
        ));
    }
    Ok(())
}
