//! HNSW (Malkov & Yashunin) over unit vectors, laid out for speed: one contiguous vector
//! matrix, layer-0 neighbours in one fixed-width `u32` array, a generation-stamped visited array
//! instead of a hash set, and no per-node allocation or locking on the search path. Scores are
//! exact dot products of the stored f32 vectors, so the returned top-k is exactly re-ranked.
//!
//! Deletes are tombstones (never returned; still used for routing). Rebuild when
//! [`HnswIndex::deleted_fraction`] grows, as a heavily tombstoned graph searches more slowly.

use super::{check_vector, Hit, VectorIndex};
use crate::embed::dot;
use crate::error::Result;
use rayon::prelude::*;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

const NONE: u32 = u32::MAX;

/// Graph parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HnswConfig {
    /// Neighbours per node on upper layers (layer 0 keeps twice as many).
    pub m: usize,
    /// Candidate list size while building (higher: better graph, slower build).
    pub ef_construction: usize,
    /// Candidate list size while searching (higher: better recall, slower search).
    pub ef_search: usize,
    /// Seed of the level generator, for reproducible graphs.
    pub seed: u64,
}

impl Default for HnswConfig {
    fn default() -> Self {
        HnswConfig {
            m: 16,
            ef_construction: 100,
            ef_search: 64,
            seed: 0x5eed,
        }
    }
}

/// Approximate search: a hierarchical navigable small-world graph (Malkov & Yashunin), with deletions marked and compacted.
pub struct HnswIndex {
    dim: usize,
    cfg: HnswConfig,
    data: Vec<f32>,
    keys: Vec<u64>,
    slot: HashMap<u64, u32>,
    deleted: Vec<bool>,
    n_deleted: usize,
    level: Vec<u8>,
    /// Layer 0: `2m` slots per node, unused slots hold `NONE`.
    links0: Vec<u32>,
    /// Layers 1..=level of each node: `m` slots per layer, concatenated.
    upper: Vec<Vec<u32>>,
    entry: u32,
    max_level: usize,
    rng: u64,
}

/// (similarity, node) ordered by similarity.
#[derive(Clone, Copy, PartialEq)]
struct Near(f32, u32);
impl Eq for Near {}
impl PartialOrd for Near {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Near {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
    }
}

thread_local! {
    /// Visited marks: `stamp[node] == generation` means visited in the current search.
    static VISITED: RefCell<(Vec<u32>, u32)> = const { RefCell::new((Vec::new(), 0)) };
}

fn with_visited<R>(n: usize, f: impl FnOnce(&mut dyn FnMut(u32) -> bool) -> R) -> R {
    VISITED.with(|v| {
        let mut v = v.borrow_mut();
        let (stamps, generation) = &mut *v;
        if stamps.len() < n {
            stamps.resize(n, 0);
        }
        *generation = generation.wrapping_add(1);
        if *generation == 0 {
            stamps.iter_mut().for_each(|s| *s = 0);
            *generation = 1;
        }
        let g = *generation;
        let mut first_visit = |node: u32| {
            let s = &mut stamps[node as usize];
            if *s == g {
                false
            } else {
                *s = g;
                true
            }
        };
        f(&mut first_visit)
    })
}

/// The neighbours a new node gets on each of its layers (computed against a frozen graph).
struct Plan {
    node: u32,
    per_layer: Vec<Vec<u32>>,
}

impl HnswIndex {
    /// An empty index with these graph settings.
    pub fn new(dim: usize, cfg: HnswConfig) -> HnswIndex {
        HnswIndex {
            dim,
            cfg: HnswConfig {
                m: cfg.m.clamp(4, 128),
                ef_construction: cfg.ef_construction.max(cfg.m),
                ef_search: cfg.ef_search.max(1),
                seed: cfg.seed,
            },
            data: Vec::new(),
            keys: Vec::new(),
            slot: HashMap::new(),
            deleted: Vec::new(),
            n_deleted: 0,
            level: Vec::new(),
            links0: Vec::new(),
            upper: Vec::new(),
            entry: NONE,
            max_level: 0,
            rng: cfg.seed | 1,
        }
    }

    /// The graph settings.
    pub fn config(&self) -> HnswConfig {
        self.cfg
    }

    /// Candidates kept per search (recall against speed), for the searches that follow.
    pub fn set_ef_search(&mut self, ef: usize) {
        self.cfg.ef_search = ef.max(1);
    }

    /// Share of the graph's nodes that are deleted and wait for compaction.
    pub fn deleted_fraction(&self) -> f64 {
        self.n_deleted as f64 / self.keys.len().max(1) as f64
    }

    /// Bytes held by vectors, graph and key maps (for the memory-per-template figure).
    pub fn memory_bytes(&self) -> usize {
        self.data.capacity() * 4
            + self.keys.capacity() * 8
            + self.slot.capacity() * 16
            + self.deleted.capacity()
            + self.level.capacity()
            + self.links0.capacity() * 4
            + self.upper.capacity() * std::mem::size_of::<Vec<u32>>()
            + self.upper.iter().map(|u| u.capacity() * 4).sum::<usize>()
    }

    fn m0(&self) -> usize {
        2 * self.cfg.m
    }

    fn vec(&self, node: u32) -> &[f32] {
        let i = node as usize * self.dim;
        &self.data[i..i + self.dim]
    }

    fn links(&self, node: u32, layer: usize) -> &[u32] {
        if layer == 0 {
            let m0 = self.m0();
            &self.links0[node as usize * m0..(node as usize + 1) * m0]
        } else {
            let m = self.cfg.m;
            &self.upper[node as usize][(layer - 1) * m..layer * m]
        }
    }

    fn links_mut(&mut self, node: u32, layer: usize) -> &mut [u32] {
        if layer == 0 {
            let m0 = self.m0();
            &mut self.links0[node as usize * m0..(node as usize + 1) * m0]
        } else {
            let m = self.cfg.m;
            &mut self.upper[node as usize][(layer - 1) * m..layer * m]
        }
    }

    fn random_level(&mut self) -> usize {
        // xorshift64*; level ~ floor(-ln(U) / ln(m)).
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545F4914F6CDD1D);
        let u = ((r >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        ((-u.ln()) / (self.cfg.m as f64).ln()).floor().min(15.0) as usize
    }

    /// Greedy best-first search of one layer from `entry`, keeping the `ef` most similar.
    fn search_layer(&self, q: &[f32], entry: &[Near], ef: usize, layer: usize) -> Vec<Near> {
        with_visited(self.keys.len(), |first_visit| {
            let mut candidates: BinaryHeap<Near> = BinaryHeap::with_capacity(ef * 2);
            let mut best: BinaryHeap<std::cmp::Reverse<Near>> = BinaryHeap::with_capacity(ef + 1);
            for &e in entry {
                first_visit(e.1);
                candidates.push(e);
                best.push(std::cmp::Reverse(e));
            }
            while best.len() > ef {
                best.pop();
            }
            while let Some(c) = candidates.pop() {
                let worst = best.peek().map_or(f32::NEG_INFINITY, |w| w.0 .0);
                if c.0 < worst && best.len() >= ef {
                    break;
                }
                for &nb in self.links(c.1, layer) {
                    if nb == NONE {
                        break;
                    }
                    if !first_visit(nb) {
                        continue;
                    }
                    let s = dot(q, self.vec(nb));
                    let worst = best.peek().map_or(f32::NEG_INFINITY, |w| w.0 .0);
                    if best.len() < ef || s > worst {
                        candidates.push(Near(s, nb));
                        best.push(std::cmp::Reverse(Near(s, nb)));
                        if best.len() > ef {
                            best.pop();
                        }
                    }
                }
            }
            let mut out: Vec<Near> = best.into_iter().map(|r| r.0).collect();
            out.sort_by(|a, b| b.cmp(a));
            out
        })
    }

    /// hnswlib's heuristic: keep a candidate only if it is closer to the base than to every
    /// neighbour already kept, which spreads links across directions.
    fn select(&self, sorted: &[Near], m: usize) -> Vec<u32> {
        let mut kept: Vec<Near> = Vec::with_capacity(m);
        for &c in sorted {
            if kept.len() >= m {
                break;
            }
            if kept.iter().all(|k| dot(self.vec(c.1), self.vec(k.1)) < c.0) {
                kept.push(c);
            }
        }
        kept.into_iter().map(|k| k.1).collect()
    }

    /// Where node `node` (already in `data`, not yet linked) should connect, per layer.
    fn plan(&self, node: u32, level: usize) -> Plan {
        let q = self.vec(node);
        let mut per_layer = vec![Vec::new(); level + 1];
        if self.entry == NONE {
            return Plan { node, per_layer };
        }
        let mut ep = vec![Near(dot(q, self.vec(self.entry)), self.entry)];
        for layer in (level + 1..=self.max_level).rev() {
            ep = self.search_layer(q, &ep, 1, layer);
        }
        for layer in (0..=level.min(self.max_level)).rev() {
            let found = self.search_layer(q, &ep, self.cfg.ef_construction, layer);
            let m = if layer == 0 { self.m0() } else { self.cfg.m };
            per_layer[layer] = self.select(&found, m);
            ep = found;
        }
        Plan { node, per_layer }
    }

    /// Writes a plan into the graph, adding reverse links (pruned by the heuristic when full).
    fn apply(&mut self, plan: Plan) {
        let node = plan.node;
        let level = plan.per_layer.len() - 1;
        for (layer, nbs) in plan.per_layer.iter().enumerate() {
            let slots = self.links_mut(node, layer);
            for (s, &nb) in slots.iter_mut().zip(nbs) {
                *s = nb;
            }
            for &nb in nbs {
                self.link_back(nb, node, layer);
            }
        }
        if self.entry == NONE || level > self.max_level {
            self.entry = node;
            self.max_level = level;
        }
    }

    /// Applies a batch of plans: forward links in order, then the reverse links grouped by the
    /// node that receives them, each group's new list computed in parallel (a group only
    /// touches its own node).
    fn apply_batch(&mut self, plans: Vec<Plan>) {
        let mut incoming: HashMap<(u32, usize), Vec<u32>> = HashMap::new();
        for plan in &plans {
            let level = plan.per_layer.len() - 1;
            for (layer, nbs) in plan.per_layer.iter().enumerate() {
                let slots = self.links_mut(plan.node, layer);
                for (s, &nb) in slots.iter_mut().zip(nbs) {
                    *s = nb;
                }
                for &nb in nbs {
                    if self.level[nb as usize] as usize >= layer {
                        incoming.entry((nb, layer)).or_default().push(plan.node);
                    }
                }
            }
            if self.entry == NONE || level > self.max_level {
                self.entry = plan.node;
                self.max_level = level;
            }
        }
        let this = &*self;
        let updated: Vec<((u32, usize), Vec<u32>)> = incoming
            .into_par_iter()
            .map(|((from, layer), new)| {
                let current: Vec<u32> = this
                    .links(from, layer)
                    .iter()
                    .copied()
                    .take_while(|&n| n != NONE)
                    .collect();
                let m = this.links(from, layer).len();
                if current.len() + new.len() <= m {
                    let mut all = current;
                    all.extend(new);
                    return ((from, layer), all);
                }
                let base = this.vec(from);
                let mut cands: Vec<Near> = current
                    .iter()
                    .chain(&new)
                    .map(|&n| Near(dot(base, this.vec(n)), n))
                    .collect();
                cands.sort_by(|a, b| b.cmp(a));
                ((from, layer), this.select(&cands, m))
            })
            .collect();
        for ((from, layer), list) in updated {
            let slots = self.links_mut(from, layer);
            slots.fill(NONE);
            for (s, n) in slots.iter_mut().zip(list) {
                *s = n;
            }
        }
    }

    fn link_back(&mut self, from: u32, to: u32, layer: usize) {
        if (self.level[from as usize] as usize) < layer {
            return;
        }
        let slots = self.links_mut(from, layer);
        if let Some(free) = slots.iter_mut().find(|s| **s == NONE) {
            *free = to;
            return;
        }
        // Full: keep the best spread of the old neighbours plus the new one.
        let base = self.vec(from);
        let mut cands: Vec<Near> = self
            .links(from, layer)
            .iter()
            .chain(std::iter::once(&to))
            .map(|&n| Near(dot(base, self.vec(n)), n))
            .collect();
        cands.sort_by(|a, b| b.cmp(a));
        let m = self.links(from, layer).len();
        let kept = self.select(&cands, m);
        let slots = self.links_mut(from, layer);
        slots.fill(NONE);
        for (s, k) in slots.iter_mut().zip(kept) {
            *s = k;
        }
    }

    /// Appends a node's storage; returns its internal id and level.
    fn push(&mut self, key: u64, vector: &[f32]) -> (u32, usize) {
        let node = self.keys.len() as u32;
        let level = self.random_level();
        self.data.extend_from_slice(vector);
        self.keys.push(key);
        self.slot.insert(key, node);
        self.deleted.push(false);
        self.level.push(level as u8);
        let len = self.links0.len() + self.m0();
        self.links0.resize(len, NONE);
        self.upper.push(vec![NONE; level * self.cfg.m]);
        (node, level)
    }

    /// Bulk build: nodes are inserted in batches whose neighbour searches run in parallel
    /// against the graph as it was before the batch (on the current rayon pool), then linked
    /// in order. The first few thousand go one by one so the graph has a shape to search.
    pub fn extend_parallel(&mut self, items: &[(u64, &[f32])]) -> Result<()> {
        self.extend_parallel_with_progress(items, |_, _| {})
    }

    /// [`HnswIndex::extend_parallel`], calling `progress(done, total)` after each batch.
    pub fn extend_parallel_with_progress(
        &mut self,
        items: &[(u64, &[f32])],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<()> {
        for (_, v) in items {
            check_vector(self.dim, v)?;
        }
        let threads = rayon::current_num_threads().max(1);
        let mut i = 0;
        while i < items.len() {
            let warm = self.keys.len() < 4096;
            let batch = if warm || threads == 1 {
                1
            } else {
                (threads * 64).min(self.keys.len() / 64).max(1)
            };
            let end = (i + batch).min(items.len());
            let mut fresh = Vec::with_capacity(end - i);
            for &(key, v) in &items[i..end] {
                if let Some(&old) = self.slot.get(&key) {
                    self.mark_deleted(old);
                }
                fresh.push(self.push(key, v));
            }
            if fresh.len() == 1 {
                let plan = self.plan(fresh[0].0, fresh[0].1);
                self.apply(plan);
            } else {
                let this = &*self;
                let plans: Vec<Plan> = fresh.par_iter().map(|&(n, l)| this.plan(n, l)).collect();
                self.apply_batch(plans);
            }
            i = end;
            progress(i, items.len());
        }
        Ok(())
    }

    fn mark_deleted(&mut self, node: u32) {
        if !self.deleted[node as usize] {
            self.deleted[node as usize] = true;
            self.n_deleted += 1;
        }
    }
}

/// An HNSW graph without its vectors: what a snapshot saves (see [`HnswIndex::export`]).
/// Node `i` of the graph is the `i`-th key/vector given back to [`HnswIndex::restore`].
#[derive(Debug, Clone, PartialEq)]
pub struct HnswGraph {
    m: usize,
    ef_construction: usize,
    seed: u64,
    rng: u64,
    level: Vec<u8>,
    links0: Vec<u32>,
    upper: Vec<Vec<u32>>,
    entry: u32,
    max_level: usize,
}

/// Why saved graph bytes cannot be used.
fn bad(why: impl Into<String>) -> crate::Error {
    crate::Error::StoreCorrupt(format!("index graph: {}", why.into()))
}

/// Little-endian reader over a byte slice that fails instead of panicking.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(bad(format!(
                "cut short ({} bytes left, {n} needed)",
                self.0.len()
            )));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().unwrap_or_default(),
        ))
    }
    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().unwrap_or_default(),
        ))
    }
    fn u32s(&mut self, n: usize) -> Result<Vec<u32>> {
        let bytes = self.take(n.checked_mul(4).ok_or_else(|| bad("size overflows"))?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

impl HnswGraph {
    /// Number of live vectors.
    pub fn len(&self) -> usize {
        self.level.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.level.is_empty()
    }

    /// Neighbours per node on upper layers, as built.
    pub fn m(&self) -> usize {
        self.m
    }

    /// Appends the graph's bytes (little-endian) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(32 + self.level.len() + self.links0.len() * 4);
        for v in [self.m as u32, self.ef_construction as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.seed.to_le_bytes());
        out.extend_from_slice(&self.rng.to_le_bytes());
        for v in [self.level.len() as u32, self.entry, self.max_level as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.level);
        for l in self.links0.iter().chain(self.upper.iter().flatten()) {
            out.extend_from_slice(&l.to_le_bytes());
        }
    }

    /// Reads a graph written by [`HnswGraph::encode`], checking everything a search relies on
    /// (sizes, every link in range and on a layer its node has), so no byte pattern can make a
    /// search index out of bounds. Any failure is `store_corrupt`.
    pub fn decode(bytes: &[u8]) -> Result<HnswGraph> {
        let mut r = Reader(bytes);
        let m = r.u32()? as usize;
        let ef_construction = r.u32()? as usize;
        let seed = r.u64()?;
        let rng = r.u64()?;
        let n = r.u32()? as usize;
        let entry = r.u32()?;
        let max_level = r.u32()? as usize;
        if !(4..=128).contains(&m) {
            return Err(bad(format!("m = {m} is outside 4..=128")));
        }
        if n >= NONE as usize {
            return Err(bad("too many nodes"));
        }
        let level = r.take(n)?.to_vec();
        if level.iter().any(|&l| l > 15) {
            return Err(bad("a node's level is above 15"));
        }
        let links0 = r.u32s(n * 2 * m)?;
        let mut upper = Vec::with_capacity(n);
        for &l in &level {
            upper.push(r.u32s(l as usize * m)?);
        }
        if !r.0.is_empty() {
            return Err(bad(format!("{} bytes after the graph", r.0.len())));
        }
        let g = HnswGraph {
            m,
            ef_construction,
            seed,
            // xorshift never leaves 0.
            rng: rng.max(1),
            level,
            links0,
            upper,
            entry,
            max_level,
        };
        g.check()?;
        Ok(g)
    }

    fn check(&self) -> Result<()> {
        let n = self.level.len();
        if n == 0 {
            return if self.entry == NONE {
                Ok(())
            } else {
                Err(bad("an empty graph has an entry point"))
            };
        }
        let top = self.level.iter().copied().max().unwrap_or(0) as usize;
        if self.entry as usize >= n
            || self.level[self.entry as usize] as usize != top
            || self.max_level != top
        {
            return Err(bad("the entry point is not a node of the top layer"));
        }
        let m0 = 2 * self.m;
        for (node, nbs) in self.links0.chunks_exact(m0).enumerate() {
            check_links(nbs, n, node, |_| true)?;
        }
        for (node, layers) in self.upper.iter().enumerate() {
            for (i, nbs) in layers.chunks_exact(self.m).enumerate() {
                let layer = i + 1;
                check_links(nbs, n, node, |nb| self.level[nb] as usize >= layer)?;
            }
        }
        Ok(())
    }

    /// The graph over the nodes where `keep` is true, renumbered in order; links to dropped
    /// nodes are removed and a new entry point is chosen if the old one went.
    pub fn retain(&self, keep: &[bool]) -> HnswGraph {
        let mut new_id = vec![NONE; self.level.len()];
        let mut next = 0u32;
        for (i, _) in keep.iter().enumerate().filter(|(_, &k)| k) {
            new_id[i] = next;
            next += 1;
        }
        let remap = |nbs: &[u32], out: &mut Vec<u32>| {
            let start = out.len();
            out.extend(
                nbs.iter()
                    .take_while(|&&nb| nb != NONE)
                    .map(|&nb| new_id[nb as usize])
                    .filter(|&nb| nb != NONE),
            );
            out.resize(start + nbs.len(), NONE);
        };
        let m0 = 2 * self.m;
        let mut level = Vec::with_capacity(next as usize);
        let mut links0 = Vec::with_capacity(next as usize * m0);
        let mut upper = Vec::with_capacity(next as usize);
        for old in (0..self.level.len()).filter(|&i| keep[i]) {
            level.push(self.level[old]);
            remap(&self.links0[old * m0..(old + 1) * m0], &mut links0);
            let mut up = Vec::with_capacity(self.upper[old].len());
            for layer in self.upper[old].chunks_exact(self.m) {
                remap(layer, &mut up);
            }
            upper.push(up);
        }
        let (entry, max_level) = if self.entry != NONE && new_id[self.entry as usize] != NONE {
            (new_id[self.entry as usize], self.max_level)
        } else {
            // The first node of the highest level left.
            level
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
                .map_or((NONE, 0), |(i, &l)| (i as u32, l as usize))
        };
        HnswGraph {
            m: self.m,
            ef_construction: self.ef_construction,
            seed: self.seed,
            rng: self.rng,
            level,
            links0,
            upper,
            entry,
            max_level,
        }
    }
}

fn check_links(nbs: &[u32], n: usize, node: usize, on_layer: impl Fn(usize) -> bool) -> Result<()> {
    for &nb in nbs.iter().take_while(|&&nb| nb != NONE) {
        if nb as usize >= n || !on_layer(nb as usize) {
            return Err(bad(format!(
                "node {node} links to {nb}, which is not on its layer"
            )));
        }
    }
    Ok(())
}

impl HnswIndex {
    /// The graph of the live nodes (tombstones left out) and their keys, in node order.
    pub fn export(&self) -> (Vec<u64>, HnswGraph) {
        let keep: Vec<bool> = self.deleted.iter().map(|d| !d).collect();
        let whole = HnswGraph {
            m: self.cfg.m,
            ef_construction: self.cfg.ef_construction,
            seed: self.cfg.seed,
            rng: self.rng,
            level: self.level.clone(),
            links0: self.links0.clone(),
            upper: self.upper.clone(),
            entry: self.entry,
            max_level: self.max_level,
        };
        let keys = self
            .keys
            .iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(&key, _)| key)
            .collect();
        let graph = if self.n_deleted == 0 {
            whole
        } else {
            whole.retain(&keep)
        };
        (keys, graph)
    }

    /// An index from a saved graph and the vectors of its nodes (node `i`: `keys[i]`, the
    /// `i`-th `dim` floats of `vectors`). `cfg.m` must be the graph's; `ef_search` is taken
    /// from `cfg`.
    pub fn restore(
        dim: usize,
        cfg: HnswConfig,
        graph: HnswGraph,
        keys: Vec<u64>,
        vectors: Vec<f32>,
    ) -> Result<HnswIndex> {
        let n = graph.len();
        if keys.len() != n || vectors.len() != n * dim {
            return Err(crate::Error::InvalidArgument(format!(
                "a graph of {n} nodes needs {n} keys and {n} vectors of {dim}, got {} and {} floats",
                keys.len(),
                vectors.len()
            )));
        }
        if graph.m != cfg.m.clamp(4, 128) {
            return Err(crate::Error::InvalidArgument(format!(
                "the graph was built with m = {}, the config asks for {}",
                graph.m, cfg.m
            )));
        }
        for v in vectors.chunks_exact(dim.max(1)) {
            check_vector(dim, v)?;
        }
        let mut slot = HashMap::with_capacity(n);
        for (i, &k) in keys.iter().enumerate() {
            if slot.insert(k, i as u32).is_some() {
                return Err(crate::Error::InvalidArgument(format!(
                    "key {k} appears twice"
                )));
            }
        }
        Ok(HnswIndex {
            dim,
            cfg: HnswConfig {
                m: graph.m,
                ef_construction: graph.ef_construction.max(graph.m),
                ef_search: cfg.ef_search.max(1),
                seed: graph.seed,
            },
            data: vectors,
            keys,
            slot,
            deleted: vec![false; n],
            n_deleted: 0,
            level: graph.level,
            links0: graph.links0,
            upper: graph.upper,
            entry: graph.entry,
            max_level: graph.max_level,
            rng: graph.rng,
        })
    }
}

impl VectorIndex for HnswIndex {
    fn dim(&self) -> usize {
        self.dim
    }

    fn len(&self) -> usize {
        self.keys.len() - self.n_deleted
    }

    fn insert(&mut self, key: u64, vector: &[f32]) -> Result<()> {
        check_vector(self.dim, vector)?;
        if let Some(&old) = self.slot.get(&key) {
            self.mark_deleted(old);
        }
        let (node, level) = self.push(key, vector);
        let plan = self.plan(node, level);
        self.apply(plan);
        Ok(())
    }

    fn remove(&mut self, key: u64) -> bool {
        match self.slot.remove(&key) {
            Some(node) => {
                self.mark_deleted(node);
                true
            }
            None => false,
        }
    }

    fn get(&self, key: u64) -> Option<&[f32]> {
        self.slot.get(&key).map(|&n| self.vec(n))
    }

    fn export_graph(&self) -> Option<(Vec<u64>, HnswGraph)> {
        Some(self.export())
    }

    fn search(&self, query: &[f32], k: usize) -> Result<Vec<Hit>> {
        check_vector(self.dim, query)?;
        if k == 0 || self.entry == NONE {
            return Ok(Vec::new());
        }
        let mut ep = vec![Near(dot(query, self.vec(self.entry)), self.entry)];
        for layer in (1..=self.max_level).rev() {
            ep = self.search_layer(query, &ep, 1, layer);
        }
        // Tombstones still route, so ask for enough extra to fill k live results.
        let ef = self.cfg.ef_search.max(k) + (self.n_deleted.min(k * 4));
        let found = self.search_layer(query, &ep, ef, 0);
        Ok(found
            .into_iter()
            .filter(|n| !self.deleted[n.1 as usize])
            .take(k)
            .map(|n| Hit {
                key: self.keys[n.1 as usize],
                score: n.0,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::FlatIndex;

    fn unit(seed: u64, dim: usize) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
        let v: Vec<f32> = (0..dim)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        let n = v.iter().map(|a| a * a).sum::<f32>().sqrt();
        v.into_iter().map(|a| a / n).collect()
    }

    fn built(n: u64, dim: usize) -> (HnswIndex, Vec<Vec<f32>>) {
        let vectors: Vec<Vec<f32>> = (0..n).map(|k| unit(k + 1, dim)).collect();
        let mut h = HnswIndex::new(dim, HnswConfig::default());
        let items: Vec<(u64, &[f32])> = vectors
            .iter()
            .enumerate()
            .map(|(k, v)| (k as u64, v.as_slice()))
            .collect();
        h.extend_parallel(&items).unwrap();
        (h, vectors)
    }

    #[test]
    fn a_saved_graph_restores_to_the_same_answers_and_drops_what_is_gone() {
        let (dim, n) = (24, 3000u64);
        let (mut h, vectors) = built(n, dim);
        let queries: Vec<Vec<f32>> = (0..100u64).map(|s| unit(9_000_000 + s, dim)).collect();
        let restore = |keys: &[u64], graph: HnswGraph| {
            let data: Vec<f32> = keys
                .iter()
                .flat_map(|&k| vectors[k as usize].iter().copied())
                .collect();
            HnswIndex::restore(dim, HnswConfig::default(), graph, keys.to_vec(), data).unwrap()
        };
        let (keys, graph) = h.export();
        let mut bytes = Vec::new();
        graph.encode(&mut bytes);
        let decoded = HnswGraph::decode(&bytes).unwrap();
        assert!(decoded == graph, "the graph reads back as written");
        let same = restore(&keys, decoded);
        for q in &queries {
            assert_eq!(same.search(q, 5).unwrap(), h.search(q, 5).unwrap());
        }
        // Tombstones are left out of what is saved, and nodes whose vectors are gone are
        // dropped on restore, with their links: the rest still answer as the exact scan.
        for k in (0..n).step_by(10) {
            h.remove(k);
        }
        let (keys, graph) = h.export();
        assert_eq!(keys.len(), h.len());
        let keep: Vec<bool> = keys.iter().map(|k| k % 7 != 0).collect();
        let kept: Vec<u64> = keys.iter().copied().filter(|k| k % 7 != 0).collect();
        let r = restore(&kept, graph.retain(&keep));
        let mut exact = FlatIndex::new(dim);
        for &k in &kept {
            exact.insert(k, &vectors[k as usize]).unwrap();
        }
        let agree = queries
            .iter()
            .filter(|q| r.search(q, 1).unwrap()[0] == exact.search(q, 1).unwrap()[0])
            .count();
        assert!(agree >= 95, "recall@1 {agree}/100 after dropping nodes");
        for q in &queries {
            assert!(r
                .search(q, 20)
                .unwrap()
                .iter()
                .all(|hit| hit.key % 7 != 0 && hit.key % 10 != 0));
        }
    }

    #[test]
    fn no_saved_bytes_make_decode_or_search_panic() {
        let (h, vectors) = built(600, 8);
        let (keys, graph) = h.export();
        let mut good = Vec::new();
        graph.encode(&mut good);
        let data: Vec<f32> = keys
            .iter()
            .flat_map(|&k| vectors[k as usize].iter().copied())
            .collect();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for cut in (0..good.len()).step_by(97) {
            assert!(HnswGraph::decode(&good[..cut]).is_err());
        }
        let mut decoded_ok = 0;
        for _ in 0..3000 {
            let mut b = good.clone();
            for _ in 0..1 + rand() % 4 {
                let i = (rand() as usize) % b.len();
                b[i] ^= 1 << (rand() % 8);
            }
            if let Ok(g) = HnswGraph::decode(&b) {
                decoded_ok += 1;
                if let Ok(r) = HnswIndex::restore(8, h.config(), g, keys.clone(), data.clone()) {
                    r.search(&vectors[0], 10).unwrap();
                }
            }
        }
        // Flips inside neighbour lists that stay in range still decode: they only reroute.
        assert!(decoded_ok > 0);
    }

    #[test]
    fn recall_matches_exact_search_and_deletes_never_return() {
        let (dim, n) = (32, 6000);
        let vectors: Vec<Vec<f32>> = (0..n as u64).map(|k| unit(k + 1, dim)).collect();
        let mut exact = FlatIndex::new(dim);
        let mut h = HnswIndex::new(
            dim,
            HnswConfig {
                ef_search: 128,
                ..Default::default()
            },
        );
        let items: Vec<(u64, &[f32])> = vectors
            .iter()
            .enumerate()
            .map(|(k, v)| (k as u64, v.as_slice()))
            .collect();
        h.extend_parallel(&items[..3000]).unwrap();
        for (k, v) in &items[3000..] {
            h.insert(*k, v).unwrap();
        }
        for (k, v) in &items {
            exact.insert(*k, v).unwrap();
        }
        let queries: Vec<Vec<f32>> = (0..200u64).map(|s| unit(1_000_000 + s, dim)).collect();
        let hits = queries
            .iter()
            .filter(|q| h.search(q, 1).unwrap()[0].key == exact.search(q, 1).unwrap()[0].key)
            .count();
        assert!(hits >= 194, "recall@1 {hits}/200");
        // A stored vector finds itself first, with its exact score.
        let top = h.search(&vectors[1234], 3).unwrap();
        assert_eq!(top[0].key, 1234);
        assert!((top[0].score - 1.0).abs() < 1e-5);
        assert!(h.remove(1234));
        assert!(!h.remove(1234));
        assert!(h
            .search(&vectors[1234], 50)
            .unwrap()
            .iter()
            .all(|x| x.key != 1234));
        assert_eq!(h.len(), n - 1);
        // Re-inserting a key replaces it.
        h.insert(7, &vectors[8]).unwrap();
        assert_eq!(
            h.search(&vectors[8], 2)
                .unwrap()
                .iter()
                .filter(|x| x.key == 7)
                .count(),
            1
        );
    }
}
