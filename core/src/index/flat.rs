//! Exact search: one contiguous `f32` matrix scanned with a vectorisable dot product. Memory
//! bandwidth bound; the right choice up to a few hundred thousand vectors.

use super::{check_vector, Hit, VectorIndex};
use crate::embed::dot;
use crate::error::Result;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

/// Exact search: every vector compared with the query (the reference the HNSW index is measured against).
pub struct FlatIndex {
    dim: usize,
    data: Vec<f32>,
    keys: Vec<u64>,
    slot: HashMap<u64, usize>,
}

impl FlatIndex {
    /// An empty index of `dim`-dimensional vectors.
    pub fn new(dim: usize) -> FlatIndex {
        FlatIndex {
            dim,
            data: Vec::new(),
            keys: Vec::new(),
            slot: HashMap::new(),
        }
    }

    /// An empty index with room for `n` vectors.
    pub fn with_capacity(dim: usize, n: usize) -> FlatIndex {
        FlatIndex {
            dim,
            data: Vec::with_capacity(n * dim),
            keys: Vec::with_capacity(n),
            slot: HashMap::with_capacity(n),
        }
    }
}

/// Min-heap entry by score, so the heap's top is the worst of the best k.
#[derive(PartialEq)]
struct Worst(f32, u64);

impl Eq for Worst {}

impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

impl VectorIndex for FlatIndex {
    fn dim(&self) -> usize {
        self.dim
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    fn insert(&mut self, key: u64, vector: &[f32]) -> Result<()> {
        check_vector(self.dim, vector)?;
        match self.slot.get(&key) {
            Some(&i) => self.data[i * self.dim..(i + 1) * self.dim].copy_from_slice(vector),
            None => {
                self.slot.insert(key, self.keys.len());
                self.keys.push(key);
                self.data.extend_from_slice(vector);
            }
        }
        Ok(())
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(i) = self.slot.remove(&key) else {
            return false;
        };
        // Move the last row into the hole.
        let last = self.keys.len() - 1;
        if i != last {
            let moved = self.keys[last];
            self.data
                .copy_within(last * self.dim..(last + 1) * self.dim, i * self.dim);
            self.keys[i] = moved;
            self.slot.insert(moved, i);
        }
        self.keys.pop();
        self.data.truncate(last * self.dim);
        true
    }

    fn get(&self, key: u64) -> Option<&[f32]> {
        self.slot
            .get(&key)
            .map(|&i| &self.data[i * self.dim..(i + 1) * self.dim])
    }

    fn search(&self, query: &[f32], k: usize) -> Result<Vec<Hit>> {
        check_vector(self.dim, query)?;
        if k == 0 {
            return Ok(Vec::new());
        }
        let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(k + 1);
        for (row, &key) in self.data.chunks_exact(self.dim).zip(&self.keys) {
            let s = dot(query, row);
            if heap.len() < k {
                heap.push(Worst(s, key));
            } else if heap.peek().is_some_and(|w| s > w.0) {
                heap.pop();
                heap.push(Worst(s, key));
            }
        }
        let mut hits: Vec<Hit> = heap
            .into_iter()
            .map(|w| Hit {
                key: w.1,
                score: w.0,
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.key.cmp(&b.key)));
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u64, dim: usize) -> Vec<f32> {
        // A small deterministic generator: no test randomness to chase.
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v: Vec<f32> = (0..dim)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 33) as f32 / (1u64 << 31) as f32) - 0.5
            })
            .collect();
        let n = v.iter().map(|a| a * a).sum::<f32>().sqrt();
        v.into_iter().map(|a| a / n).collect()
    }

    #[test]
    fn search_is_exact_and_removed_keys_never_return() {
        let dim = 16;
        let mut idx = FlatIndex::new(dim);
        for k in 0..500u64 {
            idx.insert(k, &unit(k, dim)).unwrap();
        }
        let q = unit(42, dim);
        let hits = idx.search(&q, 5).unwrap();
        assert_eq!(hits[0].key, 42);
        assert!((hits[0].score - 1.0).abs() < 1e-5);
        // Brute force agrees on the whole top 5.
        let mut all: Vec<(f32, u64)> = (0..500u64).map(|k| (dot(&q, &unit(k, dim)), k)).collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0));
        assert_eq!(
            hits.iter().map(|h| h.key).collect::<Vec<_>>(),
            all[..5].iter().map(|a| a.1).collect::<Vec<_>>()
        );
        assert!(idx.remove(42));
        assert!(!idx.remove(42));
        assert!(idx.search(&q, 500).unwrap().iter().all(|h| h.key != 42));
        assert_eq!(idx.len(), 499);
        // The row moved into the hole is still found under its key.
        let last = 499u64;
        assert_eq!(idx.get(last).unwrap(), &unit(last, dim)[..]);
    }

    #[test]
    fn bad_vectors_are_refused() {
        let mut idx = FlatIndex::new(4);
        assert!(idx.insert(1, &[1.0, 0.0]).is_err());
        assert!(idx.insert(1, &[f32::NAN, 0.0, 0.0, 0.0]).is_err());
        assert!(idx.search(&[0.0; 3], 1).is_err());
        assert!(idx.search(&[1.0, 0.0, 0.0, 0.0], 3).unwrap().is_empty());
    }
}
