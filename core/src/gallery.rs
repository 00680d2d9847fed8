//! Enroll, verify and identify over a [`TemplateStore`], with one in-memory [`VectorIndex`] per
//! collection built from the store on first use. The store is written first and is the source of
//! truth; a crash between the two leaves nothing to repair, since the index is rebuilt on open.
//! An HNSW graph is saved beside the store (graph and template ids, no vectors) and restored on
//! open by joining its nodes to the store's templates by id: templates added since are inserted,
//! those deleted since are dropped, and scores always come from the store's own vectors.

use crate::compare::Threshold;
use crate::detect::Face;
use crate::embed::Embedding;
use crate::error::{Error, ErrorCode, Result};
use crate::index::snapshot::Snapshot;
use crate::index::{FlatIndex, HnswConfig, HnswIndex, VectorIndex};
use crate::store::{
    AuditAction, AuditEvent, Changes, NewTemplate, Subject, Template, TemplateStore,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

/// Judges each enrollment face before it is stored: return a quality score in 0..=1 to accept
/// it (stored with the template), or [`Error::QualityRejected`] saying why not.
pub trait QualityGate: Send + Sync {
    /// The face's quality score (0..=1) if it may be stored, else why not.
    fn check(&self, image: &crate::image::Image, face: &Face) -> Result<f32>;
}

/// What to do with an enrollment image that holds several faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacePolicy {
    /// Refuse it (`multiple_faces`): the safe default for enrollment.
    #[default]
    RequireOne,
    /// Use the largest face.
    Largest,
}

impl std::str::FromStr for FacePolicy {
    type Err = Error;

    /// `require_one` or `largest`, the names used in JSON.
    fn from_str(s: &str) -> Result<FacePolicy> {
        match s {
            "require_one" => Ok(FacePolicy::RequireOne),
            "largest" => Ok(FacePolicy::Largest),
            other => Err(Error::InvalidArgument(format!(
                "face policy {other:?} is not require_one or largest"
            ))),
        }
    }
}

/// Options of an enrollment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnrollOptions {
    /// A name for people to read (a new subject's, or a change).
    pub display_name: Option<String>,
    /// The caller's JSON data about the subject (never biometrics).
    pub metadata: Option<serde_json::Value>,
    /// What to do with an image holding several faces.
    pub face_policy: FacePolicy,
    /// Where each image came from (file name, camera), stored with its template.
    pub sources: Vec<String>,
    /// Who asked, for the audit log.
    pub actor: Option<String>,
    /// Warn when a new face already matches another subject at this threshold (default: the
    /// engine's threshold).
    pub duplicate_threshold: Option<Threshold>,
}

/// An enrolled face that already matches someone else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateWarning {
    /// The subject the new face already matches.
    pub other_subject: String,
    /// The similarity of the match.
    pub score: f32,
    /// The threshold it was over.
    pub threshold: f32,
}

/// What an enrollment stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollReport {
    /// The subject as stored.
    pub subject: Subject,
    /// The new templates' ids, one per image.
    pub template_ids: Vec<String>,
    /// New faces that already match someone else.
    pub warnings: Vec<DuplicateWarning>,
}

/// The answer of a 1:1 verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// The subject claimed.
    pub subject: String,
    /// The best similarity over the subject's templates.
    pub score: f32,
    /// The similarity the decision used.
    pub threshold: f32,
    /// The false-match rate of the threshold (absent when the model is uncalibrated).
    pub fmr: Option<f64>,
    /// `score >= threshold`.
    pub matched: bool,
    /// The subject's best template.
    pub template_id: String,
    /// The face that was verified.
    pub face: Face,
}

/// One subject of an identification's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The subject's external id.
    pub subject: String,
    /// Best score over the subject's templates.
    pub score: f32,
    /// The template that scored best.
    pub template_id: String,
    /// `score >= threshold`.
    pub matched: bool,
}

/// The answer of a 1:N identification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identification {
    /// The face that was identified.
    pub face: Face,
    /// The similarity the decisions used.
    pub threshold: f32,
    /// The false-match rate of the threshold (absent when the model is uncalibrated).
    pub fmr: Option<f64>,
    /// Best first; at most `top_k`, one per subject, disabled subjects left out.
    pub candidates: Vec<Candidate>,
}

/// Everything stored about a subject, decrypted: the answer to a data-portability request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectExport {
    /// The subject.
    pub subject: Subject,
    /// Its templates, decrypted.
    pub templates: Vec<Template>,
}

/// When a collection's search switches from the exact scan to HNSW.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// Collections with at least this many templates use HNSW (exact scan below).
    pub hnsw_min_templates: usize,
    /// The HNSW graph's settings.
    pub hnsw: HnswConfig,
    /// Rebuild an HNSW graph once this share of it is deleted entries.
    pub max_deleted_fraction: f64,
    /// Save each HNSW graph beside the store (where the store keeps snapshots) and restore it
    /// on open instead of rebuilding.
    pub snapshots: bool,
    /// Save a collection's graph again once this many templates were added or deleted since
    /// the last save (or 1 % of the collection, if more); 0 saves only after a rebuild and
    /// when the engine is dropped.
    pub snapshot_min_changes: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            // The exact scan takes ~2.5 ms at 100k templates on one core; HNSW pays off above.
            hnsw_min_templates: 100_000,
            hnsw: HnswConfig::default(),
            max_deleted_fraction: 0.1,
            snapshots: true,
            snapshot_min_changes: 1000,
        }
    }
}

/// How a collection's search index was made when it was loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IndexSource {
    /// An exact scan over the templates (small collections).
    Exact,
    /// An HNSW graph restored from its snapshot, with the store's changes since applied.
    Snapshot {
        /// The store's change sequence the snapshot was tagged with.
        change_seq: Option<u64>,
        /// Templates enrolled since the snapshot, inserted into the graph.
        added: usize,
        /// Templates deleted since the snapshot, dropped from the graph.
        removed: usize,
    },
    /// An HNSW graph built from the templates, and why no snapshot was used.
    Built {
        /// Why no snapshot was used.
        reason: String,
    },
}

/// A collection's search index, as [`crate::Engine::index_status`] reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexStatus {
    /// The collection.
    pub collection: String,
    /// How many templates the index holds.
    pub templates: usize,
    /// Whether it is an HNSW graph (else an exact scan).
    pub hnsw: bool,
    /// How it was made.
    pub source: IndexSource,
    /// Milliseconds the index took to load (templates decrypted, graph restored or built).
    pub load_ms: f64,
    /// Templates added or deleted since the graph was last saved.
    pub unsaved_changes: usize,
}

/// Each index key's template: (subject, template id). Keys are handed out in order from 0, so
/// this is a vector, not a map.
#[derive(Default)]
struct Entries {
    slots: Vec<Option<(Arc<str>, String)>>,
    live: usize,
}

impl Entries {
    fn get(&self, key: u64) -> Option<&(Arc<str>, String)> {
        self.slots.get(key as usize)?.as_ref()
    }

    fn insert(&mut self, key: u64, entry: (Arc<str>, String)) {
        let i = key as usize;
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        if self.slots[i].replace(entry).is_none() {
            self.live += 1;
        }
    }

    fn remove(&mut self, key: u64) {
        if let Some(slot) = self.slots.get_mut(key as usize) {
            if slot.take().is_some() {
                self.live -= 1;
            }
        }
    }

    fn len(&self) -> usize {
        self.live
    }

    /// Live keys, ascending.
    fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_some())
            .map(|(k, _)| k as u64)
    }
}

/// Logs a graph build's progress at every tenth, with the time left at the rate so far (a
/// million templates take many minutes).
fn build_progress(collection: &str) -> impl FnMut(usize, usize) + '_ {
    let started = std::time::Instant::now();
    let mut logged = 0;
    move |done, total| {
        let tenth = done * 10 / total.max(1);
        if tenth > logged && done < total && total >= 10_000 {
            logged = tenth;
            let left = started.elapsed().as_secs_f64() * (total - done) as f64 / done as f64;
            log::info!(
                "collection {collection:?}: search graph {}% built ({done} of {total} templates, \
                 about {:.0} s left)",
                tenth * 10,
                left
            );
        }
    }
}

/// A collection's templates in a search index, with the maps back to subjects.
struct CollectionIndex {
    config: IndexConfig,
    /// The collection's model: probes of another are refused.
    model_id: String,
    dim: usize,
    hnsw: bool,
    /// Deletions since the index was last built (tombstones, for HNSW).
    removed_since_build: usize,
    index: Box<dyn VectorIndex>,
    by_key: Entries,
    by_subject: HashMap<Arc<str>, Vec<u64>>,
    disabled: HashSet<Arc<str>>,
    /// Subjects whose key or templates did not open when the index was built: left out of
    /// every answer, and named by the error verify gives for them.
    damaged: HashSet<String>,
    next_key: u64,
    name: String,
    source: IndexSource,
    load_ms: f64,
    /// Templates added or deleted since the graph was last saved (or built).
    unsaved: usize,
    /// Snapshots are on and the store keeps them.
    saves: bool,
    /// The store's change sequence number this index reflects (for a store other processes
    /// write too: their changes after it are still to be caught up).
    synced_seq: u64,
}

/// A subject as the store holds it now, read to bring an index up to another node's change.
enum SubjectState {
    Gone,
    Damaged,
    Present {
        disabled: bool,
        templates: Vec<Template>,
    },
}

/// Past this many changes behind, an index reads its collection again instead of the changes.
const CATCH_UP_REBUILD: u64 = 50_000;

impl CollectionIndex {
    fn build(
        store: &dyn TemplateStore,
        collection: &crate::store::Collection,
        config: IndexConfig,
    ) -> Result<CollectionIndex> {
        let started = std::time::Instant::now();
        // A read-only store still restores its snapshot; it only cannot save one.
        let saves = config.snapshots && store.keeps_index_snapshots();
        let (dim, model_id) = (collection.dim, collection.model_id.clone());
        let collection = collection.name.as_str();
        let load_snapshot = || {
            let t = std::time::Instant::now();
            let snapshot = Self::load_snapshot(store, collection, &config);
            log::debug!(
                "collection {collection:?}: snapshot read and checked in {:.0} ms",
                t.elapsed().as_secs_f64() * 1e3
            );
            snapshot
        };
        // A saved snapshot is read and checked while the templates are decrypted, on the
        // thread pool (a collection without one, as every small one, starts no thread).
        let (snapshot, all) = if config.snapshots && store.has_index_snapshot(collection) {
            rayon::join(load_snapshot, || store.collection_vectors(collection))
        } else {
            let all = store.collection_vectors(collection);
            (load_snapshot(), all)
        };
        let mut all = all?;
        if all.dim != dim || all.vectors.len() != all.templates.len() * dim {
            return Err(Error::StoreCorrupt(format!(
                "collection {collection:?}: the store gave {} floats for {} templates of {dim}",
                all.vectors.len(),
                all.templates.len()
            )));
        }
        let decrypted_ms = started.elapsed().as_secs_f64() * 1e3;
        let names: Vec<Arc<str>> = all
            .subjects
            .iter()
            .map(|(name, _)| Arc::from(name.as_str()))
            .collect();
        let mut ci = CollectionIndex {
            config,
            model_id,
            dim,
            hnsw: false,
            removed_since_build: 0,
            index: Box::new(FlatIndex::new(dim)),
            by_key: Entries::default(),
            by_subject: HashMap::with_capacity(names.len()),
            disabled: names
                .iter()
                .zip(&all.subjects)
                .filter(|(_, (_, disabled))| *disabled)
                .map(|(n, _)| n.clone())
                .collect(),
            damaged: all.damaged.iter().map(|d| d.subject.clone()).collect(),
            next_key: 0,
            name: collection.to_string(),
            source: IndexSource::Exact,
            load_ms: 0.0,
            unsaved: 0,
            saves,
            synced_seq: 0,
        };
        let n = all.templates.len();
        let restored = if n >= config.hnsw_min_templates {
            match snapshot.and_then(|snap| ci.restore(snap, &mut all, &names)) {
                Ok(()) => {
                    if let IndexSource::Snapshot {
                        change_seq,
                        added,
                        removed,
                    } = &ci.source
                    {
                        log::info!(
                            "collection {collection:?}: search index restored from its snapshot \
                             (change {}) in {:.0} ms ({decrypted_ms:.0} ms reading and decrypting \
                             {n} templates); {added} added and {removed} deleted since",
                            change_seq.map_or("?".into(), |s| s.to_string()),
                            started.elapsed().as_secs_f64() * 1e3,
                        );
                    }
                    true
                }
                Err(why) => {
                    let reason = why.to_string();
                    if matches!(why, Error::NotFound(_)) {
                        log::info!(
                            "collection {collection:?}: building the search index of {n} templates ({reason})"
                        );
                    } else {
                        log::warn!(
                            "collection {collection:?}: the saved search index is not usable, \
                             rebuilding it from {n} templates: {reason}"
                        );
                    }
                    ci.source = IndexSource::Built { reason };
                    false
                }
            }
        } else {
            false
        };
        if !restored {
            if all.vectors.len() != n * dim {
                // A restore that failed late took the vectors: read them again.
                all = store.collection_vectors(collection)?;
            }
            let n = all.templates.len();
            let mut flat = FlatIndex::with_capacity(dim, n);
            for ((s, id), v) in all.templates.into_iter().zip(all.vectors.chunks_exact(dim)) {
                let key = ci.register(names[s as usize].clone(), id);
                flat.insert(key, v)?;
            }
            ci.index = Box::new(flat);
            ci.rebalance()?;
        }
        ci.load_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(ci)
    }

    /// Restores the HNSW graph from its snapshot, joined to the store's templates by id. Any
    /// reason it cannot be used is an error: the caller rebuilds.
    /// The collection's saved snapshot, read and checked; `not_found` when there is none.
    fn load_snapshot(
        store: &dyn TemplateStore,
        collection: &str,
        config: &IndexConfig,
    ) -> Result<Snapshot> {
        if !config.snapshots {
            return Err(Error::NotFound("snapshots are turned off".into()));
        }
        let bytes = store
            .load_index_snapshot(collection)?
            .ok_or_else(|| Error::NotFound("no saved snapshot".into()))?;
        Snapshot::decode(&bytes)
    }

    /// Restores the graph from `snap`, joined to the store's templates by id. Everything that
    /// can fail is checked before the index is touched; on success the vectors have been
    /// moved out of `all` (or copied, when the orders differ).
    fn restore(
        &mut self,
        snap: Snapshot,
        all: &mut crate::store::CollectionVectors,
        names: &[Arc<str>],
    ) -> Result<()> {
        if snap.model_id != self.model_id || snap.dim != self.dim {
            return Err(Error::StoreCorrupt(format!(
                "the snapshot is of {} x{}, the collection of {} x{}",
                snap.model_id, snap.dim, self.model_id, self.dim
            )));
        }
        if snap.graph.m() != self.config.hnsw.m.clamp(4, 128) {
            return Err(Error::InvalidArgument(format!(
                "the snapshot's graph has m = {}, the engine asks for {}",
                snap.graph.m(),
                self.config.hnsw.m
            )));
        }
        debug_assert_eq!(self.next_key, 0, "restore fills an empty index");
        let joined = std::time::Instant::now();
        let (dim, n) = (self.dim, all.templates.len());
        // Usually the snapshot's nodes are the store's first templates in the same order (nodes
        // are added in the order templates are stored); otherwise join by id.
        let in_order = snap.template_ids.len() <= n
            && snap
                .template_ids
                .iter()
                .zip(&all.templates)
                .all(|(a, t)| *a == t.1);
        let (order, graph, removed) = if in_order {
            let order: Vec<usize> = (0..snap.template_ids.len()).collect();
            (order, snap.graph, 0)
        } else {
            let by_id: HashMap<&str, usize> = all
                .templates
                .iter()
                .enumerate()
                .map(|(i, t)| (t.1.as_str(), i))
                .collect();
            let mut keep = vec![false; snap.template_ids.len()];
            let mut used = vec![false; n];
            let mut order = Vec::with_capacity(n);
            for (node, id) in snap.template_ids.iter().enumerate() {
                if let Some(&i) = by_id.get(id.as_str()) {
                    if !std::mem::replace(&mut used[i], true) {
                        keep[node] = true;
                        order.push(i);
                    }
                }
            }
            let removed = snap.template_ids.len() - order.len();
            let graph = if removed > 0 {
                snap.graph.retain(&keep)
            } else {
                snap.graph
            };
            (order, graph, removed)
        };
        let kept = order.len();
        let added = n - kept;
        // Inserting into a graph costs about as much per template as building it: past a
        // quarter of new templates, a fresh build is as fast and gives a better graph.
        if added > kept / 4 {
            return Err(Error::InvalidArgument(format!(
                "the snapshot holds {kept} of the {n} templates; rebuilding is faster"
            )));
        }
        let mut placed = vec![false; n];
        order.iter().for_each(|&i| placed[i] = true);
        let new_rows: Vec<usize> = (0..n).filter(|&i| !placed[i]).collect();
        let row = |v: &[f32], i: usize| v[i * dim..(i + 1) * dim].to_vec();
        let (vectors, new_vectors): (Vec<f32>, Vec<Vec<f32>>) = if in_order {
            let mut v = std::mem::take(&mut all.vectors);
            let tail = v.split_off(kept * dim);
            let fresh = (0..added).map(|j| row(&tail, j)).collect();
            (v, fresh)
        } else {
            let mut v = Vec::with_capacity(kept * dim);
            for &i in &order {
                v.extend_from_slice(&all.vectors[i * dim..(i + 1) * dim]);
            }
            let fresh = new_rows.iter().map(|&i| row(&all.vectors, i)).collect();
            (v, fresh)
        };
        let mut h = HnswIndex::restore(
            dim,
            self.config.hnsw,
            graph,
            (0..kept as u64).collect(),
            vectors,
        )?;
        let new_items: Vec<(u64, &[f32])> = new_vectors
            .iter()
            .enumerate()
            .map(|(j, v)| ((kept + j) as u64, v.as_slice()))
            .collect();
        h.extend_parallel(&new_items)?;
        // Nothing fails from here: keys 0..kept are the graph's nodes, then the new ones.
        for &i in order.iter().chain(&new_rows) {
            let (s, id) = &mut all.templates[i];
            self.register(names[*s as usize].clone(), std::mem::take(id));
        }
        log::debug!(
            "collection {:?}: snapshot joined to the templates in {:.0} ms ({})",
            self.name,
            joined.elapsed().as_secs_f64() * 1e3,
            if in_order {
                "same order"
            } else {
                "joined by id"
            }
        );
        self.index = Box::new(h);
        self.hnsw = true;
        self.removed_since_build = removed;
        self.unsaved = added + removed;
        self.source = IndexSource::Snapshot {
            change_seq: Some(snap.change_seq),
            added,
            removed,
        };
        // Many deletions since the snapshot leave gaps in the graph: rebuild past the limit.
        self.rebalance()
    }

    /// Gives a template its index key and records whose it is.
    fn register(&mut self, subject: Arc<str>, template_id: String) -> u64 {
        let key = self.next_key;
        self.next_key += 1;
        self.by_subject
            .entry(subject.clone())
            .or_default()
            .push(key);
        self.by_key.insert(key, (subject, template_id));
        key
    }

    fn add(&mut self, subject: &str, template_id: &str, e: &Embedding) -> Result<()> {
        crate::index::check_vector(self.dim, e.vector())?;
        let subject: Arc<str> = self
            .by_subject
            .get_key_value(subject)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| subject.into());
        let key = self.register(subject, template_id.to_string());
        self.index.insert(key, e.vector())?;
        self.unsaved += 1;
        Ok(())
    }

    /// Drops one template of `subject` from the index (the subject stays).
    fn remove_template(&mut self, subject: &str, template_id: &str) -> Result<()> {
        let Some(keys) = self.by_subject.get_mut(subject) else {
            return Ok(());
        };
        let by_key = &self.by_key;
        if let Some(i) = keys
            .iter()
            .position(|&k| by_key.get(k).is_some_and(|e| e.1 == template_id))
        {
            let key = keys.remove(i);
            self.index.remove(key);
            self.by_key.remove(key);
            self.removed_since_build += 1;
            self.unsaved += 1;
        }
        self.rebalance()
    }

    fn remove_subject(&mut self, subject: &str) -> Result<()> {
        for key in self.by_subject.remove(subject).unwrap_or_default() {
            self.index.remove(key);
            self.by_key.remove(key);
            self.removed_since_build += 1;
            self.unsaved += 1;
        }
        self.disabled.remove(subject);
        self.damaged.remove(subject);
        self.rebalance()
    }

    /// Makes `subject`'s templates and flags in the index what the store holds now.
    fn resync(&mut self, subject: &str, state: SubjectState) -> Result<()> {
        let (disabled, templates) = match state {
            SubjectState::Gone => return self.remove_subject(subject),
            SubjectState::Damaged => {
                self.remove_subject(subject)?;
                self.damaged.insert(subject.to_string());
                return Ok(());
            }
            SubjectState::Present {
                disabled,
                templates,
            } => (disabled, templates),
        };
        let indexed: Vec<String> = self
            .by_subject
            .get(subject)
            .map(|keys| {
                keys.iter()
                    .filter_map(|&k| self.by_key.get(k).map(|e| e.1.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for id in &indexed {
            if !templates.iter().any(|t| t.id == *id) {
                self.remove_template(subject, id)?;
            }
        }
        for t in &templates {
            if !indexed.contains(&t.id) {
                self.add(subject, &t.id, &t.embedding)?;
            }
        }
        if disabled {
            self.disabled.insert(subject.into());
        } else {
            self.disabled.remove(subject);
        }
        self.damaged.remove(subject);
        Ok(())
    }

    /// Moves to HNSW when the collection has grown past the configured size, and rebuilds the
    /// graph when deletions have left too many tombstones in it.
    fn rebalance(&mut self) -> Result<()> {
        let live = self.by_key.len();
        let grow = !self.hnsw && live >= self.config.hnsw_min_templates;
        let stale = self.hnsw
            && self.removed_since_build as f64
                > self.config.max_deleted_fraction * (live + self.removed_since_build) as f64;
        let shrink = self.hnsw && live < self.config.hnsw_min_templates / 2;
        if !(grow || stale || shrink) {
            return Ok(());
        }
        let keys: Vec<u64> = self.by_key.keys().collect();
        let items: Vec<(u64, &[f32])> = keys
            .iter()
            .filter_map(|&k| self.index.get(k).map(|v| (k, v)))
            .collect();
        let rebuilt: Box<dyn VectorIndex> = if shrink {
            let mut f = FlatIndex::with_capacity(self.dim, items.len());
            for (k, v) in &items {
                f.insert(*k, v)?;
            }
            Box::new(f)
        } else {
            let mut h = HnswIndex::new(self.dim, self.config.hnsw);
            h.extend_parallel_with_progress(&items, build_progress(&self.name))?;
            Box::new(h)
        };
        let started = std::time::Instant::now();
        self.index = rebuilt;
        self.hnsw = !shrink;
        self.removed_since_build = 0;
        if self.hnsw {
            // A new graph: save it at the next chance.
            self.unsaved = self.unsaved.max(live.max(1));
            log::info!(
                "collection {:?}: search graph of {live} templates built in {:.1} s",
                self.name,
                started.elapsed().as_secs_f64()
            );
            if matches!(self.source, IndexSource::Exact) {
                self.source = IndexSource::Built {
                    reason: "the collection grew past hnsw_min_templates".into(),
                };
            }
        } else {
            self.source = IndexSource::Exact;
        }
        Ok(())
    }

    /// Whether enough has changed since the last save to save the graph again.
    fn snapshot_due(&self) -> bool {
        self.hnsw
            && self.saves
            && self.unsaved > 0
            && (self.unsaved >= self.by_key.len().max(1)
                || (self.config.snapshot_min_changes > 0
                    && self.unsaved
                        >= self
                            .config
                            .snapshot_min_changes
                            .max(self.by_key.len() / 100)))
    }

    /// The graph as snapshot bytes, and how many unsaved changes they cover.
    fn snapshot(&self, change_seq: Option<u64>) -> Result<Option<(Vec<u8>, usize)>> {
        let Some((keys, graph)) = self.index.export_graph() else {
            return Ok(None);
        };
        let template_ids = keys
            .iter()
            .map(|&k| {
                self.by_key
                    .get(k)
                    .map(|(_, t)| t.clone())
                    .ok_or_else(|| Error::Internal(format!("index key {k} has no template")))
            })
            .collect::<Result<Vec<_>>>()?;
        let bytes = Snapshot {
            model_id: self.model_id.clone(),
            dim: self.dim,
            change_seq: change_seq.unwrap_or(0),
            template_ids,
            graph,
        }
        .encode()?;
        Ok(Some((bytes, self.unsaved)))
    }

    fn status(&self) -> IndexStatus {
        IndexStatus {
            collection: self.name.clone(),
            templates: self.by_key.len(),
            hnsw: self.hnsw,
            source: self.source.clone(),
            load_ms: self.load_ms,
            unsaved_changes: if self.hnsw { self.unsaved } else { 0 },
        }
    }

    /// Best score per subject over its templates: (score, template id).
    fn best_of(&self, subject: &str, query: &[f32]) -> Option<(f32, String)> {
        self.by_subject
            .get(subject)?
            .iter()
            .filter_map(|&k| {
                let v = self.index.get(k)?;
                Some((crate::embed::dot(query, v), self.by_key.get(k)?.1.clone()))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// The best `top_k` enabled subjects, one entry each.
    fn top_subjects(
        &self,
        query: &[f32],
        top_k: usize,
        skip: Option<&str>,
    ) -> Result<Vec<(Arc<str>, f32, String)>> {
        let total = self.index.len();
        let mut want = (top_k * 4).max(16);
        loop {
            let hits = self.index.search(query, want.min(total))?;
            let mut seen: HashSet<&str> = HashSet::new();
            let mut out = Vec::new();
            for h in &hits {
                let Some((subject, template)) = self.by_key.get(h.key) else {
                    continue;
                };
                if self.disabled.contains(subject)
                    || Some(&**subject) == skip
                    || !seen.insert(subject)
                {
                    continue;
                }
                out.push((subject.clone(), h.score, template.clone()));
                if out.len() == top_k {
                    return Ok(out);
                }
            }
            // Too many hits were other templates of the same subjects: look further.
            if want >= total {
                return Ok(out);
            }
            want *= 4;
        }
    }
}

/// The per-engine state of the store and its indexes.
pub(crate) struct Gallery {
    store: Arc<dyn TemplateStore>,
    config: IndexConfig,
    indexes: RwLock<HashMap<String, Arc<RwLock<CollectionIndex>>>>,
    /// One writer at a time keeps store and index changes in the same order.
    writer: Mutex<()>,
}

/// One operation in progress: records its audit event with the latency so far.
struct Op<'a> {
    store: &'a dyn TemplateStore,
    collection: &'a str,
    actor: Option<&'a str>,
    started: std::time::Instant,
}

impl Op<'_> {
    fn event(
        &self,
        action: AuditAction,
        subject: Option<&str>,
        outcome: &str,
        score: Option<f32>,
    ) -> AuditEvent {
        AuditEvent {
            at: crate::store::now_ms(),
            action,
            collection: Some(self.collection.to_string()),
            subject: subject.map(String::from),
            outcome: outcome.to_string(),
            score,
            latency_ms: Some(self.started.elapsed().as_secs_f64() * 1e3),
            actor: self.actor.map(String::from),
        }
    }

    fn record(
        &self,
        action: AuditAction,
        subject: Option<&str>,
        outcome: &str,
        score: Option<f32>,
    ) -> Result<()> {
        self.store
            .record_audit(&self.event(action, subject, outcome, score))
    }
}

impl Drop for Gallery {
    fn drop(&mut self) {
        self.save_snapshots();
    }
}

impl Gallery {
    pub fn new(store: Arc<dyn TemplateStore>, config: IndexConfig) -> Gallery {
        Gallery {
            store,
            config,
            indexes: RwLock::new(HashMap::new()),
            writer: Mutex::new(()),
        }
    }

    pub fn store(&self) -> &Arc<dyn TemplateStore> {
        &self.store
    }

    fn op<'a>(&'a self, collection: &'a str, actor: Option<&'a str>) -> Op<'a> {
        Op {
            store: &*self.store,
            collection,
            actor,
            started: std::time::Instant::now(),
        }
    }

    fn index(&self, collection: &str) -> Result<Arc<RwLock<CollectionIndex>>> {
        if let Some(i) = self
            .indexes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(collection)
        {
            return Ok(i.clone());
        }
        let c = self.store.collection(collection)?;
        let mut map = self.indexes.write().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = map.get(collection) {
            return Ok(i.clone());
        }
        // Read before the templates: the tag never claims changes the snapshot lacks.
        let change_seq = self.store.change_seq(collection)?;
        let mut built = CollectionIndex::build(&*self.store, &c, self.config)?;
        built.synced_seq = change_seq.unwrap_or(0);
        let built = Arc::new(RwLock::new(built));
        map.insert(collection.to_string(), built.clone());
        drop(map);
        if built
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot_due()
        {
            self.save_snapshot_tagged(&built, change_seq);
        }
        Ok(built)
    }

    /// The collection's in-memory index, or `None` where the store searches the collection
    /// itself (an index loaded before it started to is dropped: it would only go stale).
    fn memory_index(&self, collection: &str) -> Result<Option<Arc<RwLock<CollectionIndex>>>> {
        if self.store.searches_itself(collection)? {
            self.indexes
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove(collection);
            return Ok(None);
        }
        self.index(collection).map(Some)
    }

    /// The best `top_k` enabled subjects for `probe`, searched by the store: (subject, score,
    /// template id), one entry each. A subject may have several templates among the nearest,
    /// so more are asked for.
    fn store_top_subjects(
        &self,
        collection: &str,
        probe: &[f32],
        top_k: usize,
        skip: Option<&str>,
    ) -> Result<Vec<(Arc<str>, f32, String)>> {
        let limit = (top_k + usize::from(skip.is_some()))
            .saturating_mul(8)
            .clamp(16, 1000);
        let Some(found) = self.store.search(
            collection,
            probe,
            limit,
            self.config.hnsw.ef_search.max(limit),
        )?
        else {
            // The collection went back to the encrypted mode since the store said otherwise:
            // search in memory. (An enrollment's duplicate check holds the writer lock, which
            // the candidate check of `search_memory` may take.)
            let index = self.index(collection)?;
            return match skip {
                None => self.search_memory(collection, &index, probe, top_k),
                Some(_) => index
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .top_subjects(probe, top_k, skip),
            };
        };
        let mut top: Vec<(Arc<str>, f32, String)> = Vec::with_capacity(top_k);
        for (subject, score, template) in found {
            if skip == Some(subject.as_str()) || top.iter().any(|t| *t.0 == *subject) {
                continue;
            }
            top.push((subject.into(), score, template));
            if top.len() == top_k {
                break;
            }
        }
        Ok(top)
    }

    /// Whether a store shared with other processes has told of changes the index lacks.
    fn behind(&self, index: &RwLock<CollectionIndex>) -> bool {
        let (name, synced) = {
            let ci = index.read().unwrap_or_else(|p| p.into_inner());
            (ci.name.clone(), ci.synced_seq)
        };
        self.store
            .heard_change_seq(&name)
            .is_some_and(|heard| heard > synced)
    }

    /// Brings the index up to the changes other processes made to a shared store: each
    /// changed subject is read again and its templates and flags set to what the store holds
    /// (so a change this engine made itself changes nothing). A log that no longer reaches
    /// back, or a long backlog, reads the collection again. Called with the writer lock held,
    /// so the engine's own writes are not interleaved.
    fn catch_up_locked(&self, index: &RwLock<CollectionIndex>) -> Result<()> {
        let (name, synced) = {
            let ci = index.read().unwrap_or_else(|p| p.into_inner());
            (ci.name.clone(), ci.synced_seq)
        };
        let backlog = self
            .store
            .heard_change_seq(&name)
            .map_or(0, |h| h.saturating_sub(synced));
        let mut after = synced;
        loop {
            let changes = if backlog > CATCH_UP_REBUILD {
                Changes::Expired
            } else {
                match self.store.changes_since(&name, after, 1000)? {
                    Some(changes) => changes,
                    None => return Ok(()),
                }
            };
            let changes = match changes {
                Changes::Subjects(changes) if changes.is_empty() => return Ok(()),
                Changes::Subjects(changes) => changes,
                Changes::Expired => {
                    // Read before the templates, as when the index was first built.
                    let seq = self.store.change_seq(&name)?.unwrap_or(0);
                    let c = self.store.collection(&name)?;
                    let mut fresh = CollectionIndex::build(&*self.store, &c, self.config)?;
                    fresh.synced_seq = seq;
                    log::info!(
                        "collection {name:?}: search index read again to catch up with other                          nodes ({} templates, change {seq})",
                        fresh.by_key.len()
                    );
                    *index.write().unwrap_or_else(|p| p.into_inner()) = fresh;
                    return Ok(());
                }
            };
            let last = changes.last().map_or(after, |c| c.0);
            let subjects: std::collections::BTreeSet<String> =
                changes.into_iter().map(|c| c.1).collect();
            // Read from the store first, then change the index: searches wait only for that.
            let states = subjects
                .into_iter()
                .map(|s| Ok((self.subject_state(&name, &s)?, s)))
                .collect::<Result<Vec<_>>>()?;
            let mut ci = index.write().unwrap_or_else(|p| p.into_inner());
            for (state, subject) in states {
                ci.resync(&subject, state)?;
            }
            ci.synced_seq = last;
            after = last;
        }
    }

    fn subject_state(&self, collection: &str, subject: &str) -> Result<SubjectState> {
        let disabled = match self.store.subject(collection, subject) {
            Ok(s) => s.disabled,
            Err(Error::NotFound(_)) => return Ok(SubjectState::Gone),
            Err(e) => return Err(e),
        };
        match self.store.templates(collection, subject) {
            Ok(templates) => Ok(SubjectState::Present {
                disabled,
                templates,
            }),
            // Deleted between the two reads.
            Err(Error::NotFound(_)) => Ok(SubjectState::Gone),
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::Decrypt | ErrorCode::WrongKey | ErrorCode::StoreCorrupt
                ) =>
            {
                log::warn!("collection {collection:?}: subject {subject:?} left out: {e}");
                Ok(SubjectState::Damaged)
            }
            Err(e) => Err(e),
        }
    }

    /// Saves the collection's graph if enough changed since the last save.
    fn save_snapshot_if_due(&self, index: &RwLock<CollectionIndex>) {
        if index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot_due()
        {
            let name = index.read().unwrap_or_else(|p| p.into_inner()).name.clone();
            match self.store.change_seq(&name) {
                Ok(seq) => self.save_snapshot_tagged(index, seq),
                Err(e) => log::warn!("collection {name:?}: index snapshot not saved: {e}"),
            }
        }
    }

    /// Saves the graph (searches go on meanwhile: only a read lock is held while it is
    /// serialised). A failure is logged, never returned: the snapshot is a cache and the
    /// write it follows has already succeeded.
    fn save_snapshot_tagged(&self, index: &RwLock<CollectionIndex>, change_seq: Option<u64>) {
        let started = std::time::Instant::now();
        let (name, snapshot) = {
            let ci = index.read().unwrap_or_else(|p| p.into_inner());
            (ci.name.clone(), ci.snapshot(change_seq))
        };
        let saved = snapshot.and_then(|s| match s {
            Some((bytes, covered)) => self
                .store
                .save_index_snapshot(&name, &bytes)
                .map(|()| Some((bytes.len(), covered))),
            None => Ok(None),
        });
        match saved {
            Ok(Some((bytes, covered))) => {
                let mut ci = index.write().unwrap_or_else(|p| p.into_inner());
                ci.unsaved = ci.unsaved.saturating_sub(covered);
                log::info!(
                    "collection {name:?}: search index snapshot saved ({} templates, {:.1} MB, {:.0} ms)",
                    ci.by_key.len(),
                    bytes as f64 / 1e6,
                    started.elapsed().as_secs_f64() * 1e3
                );
            }
            Ok(None) => {}
            Err(e) => log::warn!("collection {name:?}: index snapshot not saved: {e}"),
        }
    }

    /// Saves every loaded collection's graph that has unsaved changes (also done when the
    /// engine is dropped).
    pub fn save_snapshots(&self) {
        let loaded: Vec<Arc<RwLock<CollectionIndex>>> = self
            .indexes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let _w = self.lock_writer();
        for index in loaded {
            let (name, dirty) = {
                let ci = index.read().unwrap_or_else(|p| p.into_inner());
                (ci.name.clone(), ci.hnsw && ci.saves && ci.unsaved > 0)
            };
            if dirty {
                match self.store.change_seq(&name) {
                    Ok(seq) => self.save_snapshot_tagged(&index, seq),
                    Err(e) => log::warn!("collection {name:?}: index snapshot not saved: {e}"),
                }
            }
        }
    }

    /// The collection's search index (loaded if it was not).
    pub fn index_status(&self, collection: &str) -> Result<IndexStatus> {
        Ok(self
            .index(collection)?
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .status())
    }

    /// The collection's in-memory index (`None` where the store searches it), after refusing
    /// a probe of another model (naming the model to load). The model comes from the cached
    /// index (a store that can search itself is asked whether it does first).
    fn index_for(
        &self,
        collection: &str,
        probe: &Embedding,
    ) -> Result<Option<Arc<RwLock<CollectionIndex>>>> {
        let refuse = |model_id: &str, dim: usize| {
            if model_id != probe.model_id() || dim != probe.dim() {
                return Err(Error::CollectionModel {
                    collection: collection.to_string(),
                    collection_model: model_id.to_string(),
                    engine_model: probe.model_id().to_string(),
                });
            }
            Ok(())
        };
        let Some(index) = self.memory_index(collection)? else {
            let c = self.store.collection(collection)?;
            refuse(&c.model_id, c.dim)?;
            return Ok(None);
        };
        {
            let ci = index.read().unwrap_or_else(|p| p.into_inner());
            refuse(&ci.model_id, ci.dim)?;
        }
        if self.behind(&index) {
            let _w = self.lock_writer();
            self.catch_up_locked(&index)?;
        }
        Ok(Some(index))
    }

    /// The best `top_k` subjects from the in-memory index. With a store shared with other
    /// processes, a subject deleted or disabled elsewhere is never answered, even before its
    /// notification arrives: the candidates are checked against the store.
    fn search_memory(
        &self,
        collection: &str,
        index: &RwLock<CollectionIndex>,
        probe: &[f32],
        top_k: usize,
    ) -> Result<Vec<(Arc<str>, f32, String)>> {
        let search = || {
            index
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .top_subjects(probe, top_k, None)
        };
        let mut top = search()?;
        let names: Vec<&str> = top.iter().map(|(s, _, _)| &**s).collect();
        if let Some(live) = self.store.matchable_subjects(collection, &names)? {
            if top.iter().any(|(s, _, _)| !live.contains(&**s)) {
                {
                    let _w = self.lock_writer();
                    self.catch_up_locked(index)?;
                }
                top = search()?;
                let names: Vec<&str> = top.iter().map(|(s, _, _)| &**s).collect();
                if let Some(live) = self.store.matchable_subjects(collection, &names)? {
                    top.retain(|(s, _, _)| live.contains(&**s));
                }
            }
        }
        Ok(top)
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores templates for a subject (created if new) and indexes them.
    #[allow(clippy::too_many_arguments)]
    pub fn enroll(
        &self,
        collection: &str,
        subject: &str,
        model_id: &str,
        dim: usize,
        templates: Vec<NewTemplate>,
        options: &EnrollOptions,
        duplicate_threshold: f32,
    ) -> Result<EnrollReport> {
        let subject = crate::store::normalize_id(subject)?;
        let subject = subject.as_str();
        let op = self.op(collection, options.actor.as_deref());
        let _w = self.lock_writer();
        self.store.ensure_collection(collection, model_id, dim)?;
        let index = self.memory_index(collection)?;
        if let Some(index) = index.as_deref().filter(|i| self.behind(i)) {
            // The duplicate check sees other nodes' enrollments too.
            self.catch_up_locked(index)?;
        }
        let mut warnings = Vec::new();
        {
            let ci = index
                .as_ref()
                .map(|i| i.read().unwrap_or_else(|p| p.into_inner()));
            for t in &templates {
                let nearest = match &ci {
                    Some(ci) => ci.top_subjects(t.embedding.vector(), 1, Some(subject))?,
                    None => {
                        self.store_top_subjects(collection, t.embedding.vector(), 1, Some(subject))?
                    }
                };
                if let Some((other, score, _)) = nearest.into_iter().next() {
                    if score >= duplicate_threshold
                        && !warnings
                            .iter()
                            .any(|w: &DuplicateWarning| w.other_subject == *other)
                    {
                        warnings.push(DuplicateWarning {
                            other_subject: other.to_string(),
                            score,
                            threshold: duplicate_threshold,
                        });
                    }
                }
            }
        }
        // Subject, key, templates and audit row: one transaction in the store.
        let (subject_row, ids) = self.store.enroll(&crate::store::Enrollment {
            collection,
            external_id: subject,
            display_name: options.display_name.as_deref(),
            metadata: options.metadata.as_ref(),
            templates: &templates,
            audit: &op.event(AuditAction::Enroll, Some(subject), "ok", None),
        })?;
        if let Some(index) = index {
            {
                let mut ci = index.write().unwrap_or_else(|p| p.into_inner());
                for (t, id) in templates.iter().zip(&ids) {
                    ci.add(subject, id, &t.embedding)?;
                }
                ci.rebalance()?;
            }
            self.save_snapshot_if_due(&index);
        }
        Ok(EnrollReport {
            subject: subject_row,
            template_ids: ids,
            warnings,
        })
    }

    pub fn verify(
        &self,
        collection: &str,
        subject: &str,
        face: Face,
        probe: &Embedding,
        threshold: (f32, Option<f64>),
        actor: Option<&str>,
    ) -> Result<Verification> {
        let subject = crate::store::normalize_id(subject)?;
        let subject = subject.as_str();
        let op = self.op(collection, actor);
        let index = self.index_for(collection, probe)?;
        let s = self.store.subject(collection, subject)?;
        if s.disabled {
            op.record(AuditAction::Verify, Some(subject), "subject_disabled", None)?;
            return Err(Error::SubjectDisabled(subject.to_string()));
        }
        let (best, damaged) = match &index {
            Some(index) => {
                let ci = index.read().unwrap_or_else(|p| p.into_inner());
                (
                    ci.best_of(subject, probe.vector()),
                    ci.damaged.contains(subject),
                )
            }
            // The store searches this collection: the subject's own few templates.
            None => (
                self.store
                    .templates(collection, subject)?
                    .into_iter()
                    .map(|t| {
                        (
                            crate::embed::dot(probe.vector(), t.embedding.vector()),
                            t.id,
                        )
                    })
                    .max_by(|a, b| a.0.total_cmp(&b.0)),
                false,
            ),
        };
        if damaged {
            // The store's own error, naming the subject and what does not open.
            self.store.templates(collection, subject)?;
        }
        let Some((score, template_id)) = best else {
            return Err(Error::NotFound(format!(
                "subject {subject:?} has no templates"
            )));
        };
        let matched = score >= threshold.0;
        op.record(
            AuditAction::Verify,
            Some(subject),
            if matched { "match" } else { "no_match" },
            Some(score),
        )?;
        Ok(Verification {
            subject: subject.to_string(),
            score,
            threshold: threshold.0,
            fmr: threshold.1,
            matched,
            template_id,
            face,
        })
    }

    pub fn identify(
        &self,
        collection: &str,
        face: Face,
        probe: &Embedding,
        top_k: usize,
        threshold: (f32, Option<f64>),
        actor: Option<&str>,
    ) -> Result<Identification> {
        let op = self.op(collection, actor);
        if top_k == 0 {
            return Err(Error::InvalidArgument("top_k must be at least 1".into()));
        }
        let top = match self.index_for(collection, probe)? {
            Some(index) => self.search_memory(collection, &index, probe.vector(), top_k)?,
            None => self.store_top_subjects(collection, probe.vector(), top_k, None)?,
        };
        let candidates: Vec<Candidate> = top
            .into_iter()
            .map(|(s, score, t)| Candidate {
                subject: s.to_string(),
                score,
                template_id: t,
                matched: score >= threshold.0,
            })
            .collect();
        let best = candidates.first();
        let outcome = if best.is_some_and(|c| c.matched) {
            "match"
        } else {
            "no_match"
        };
        op.record(
            AuditAction::Identify,
            best.filter(|c| c.matched).map(|c| c.subject.as_str()),
            outcome,
            best.map(|c| c.score),
        )?;
        Ok(Identification {
            face,
            threshold: threshold.0,
            fmr: threshold.1,
            candidates,
        })
    }

    pub fn delete_subject(
        &self,
        collection: &str,
        subject: &str,
        actor: Option<&str>,
    ) -> Result<()> {
        let subject = crate::store::normalize_id(subject)?;
        let subject = subject.as_str();
        let op = self.op(collection, actor);
        let _w = self.lock_writer();
        let index = self.memory_index(collection)?;
        self.store.delete_subject(collection, subject)?;
        if let Some(index) = index {
            index
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove_subject(subject)?;
            self.save_snapshot_if_due(&index);
        }
        op.record(AuditAction::Delete, Some(subject), "ok", None)
    }

    /// Deletes one template; returns its subject.
    pub fn delete_template(
        &self,
        collection: &str,
        template_id: &str,
        actor: Option<&str>,
    ) -> Result<String> {
        let op = self.op(collection, actor);
        let _w = self.lock_writer();
        let index = self.memory_index(collection)?;
        let subject = self.store.delete_template(collection, template_id)?;
        if let Some(index) = index {
            index
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove_template(&subject, template_id)?;
            self.save_snapshot_if_due(&index);
        }
        op.record(AuditAction::Delete, Some(&subject), "ok", None)?;
        Ok(subject)
    }

    pub fn set_disabled(
        &self,
        collection: &str,
        subject: &str,
        disabled: bool,
        actor: Option<&str>,
    ) -> Result<()> {
        let subject = crate::store::normalize_id(subject)?;
        let subject = subject.as_str();
        let op = self.op(collection, actor);
        let _w = self.lock_writer();
        let index = self.memory_index(collection)?;
        self.store.set_disabled(collection, subject, disabled)?;
        if let Some(index) = index {
            let mut ci = index.write().unwrap_or_else(|p| p.into_inner());
            if disabled {
                ci.disabled.insert(subject.into());
            } else {
                ci.disabled.remove(subject);
            }
        }
        let action = if disabled {
            AuditAction::Disable
        } else {
            AuditAction::Enable
        };
        op.record(action, Some(subject), "ok", None)
    }

    pub fn export_subject(
        &self,
        collection: &str,
        subject: &str,
        actor: Option<&str>,
    ) -> Result<SubjectExport> {
        let subject = crate::store::normalize_id(subject)?;
        let subject = subject.as_str();
        let op = self.op(collection, actor);
        let export = SubjectExport {
            subject: self.store.subject(collection, subject)?,
            templates: self.store.templates(collection, subject)?,
        };
        op.record(AuditAction::Export, Some(subject), "ok", None)?;
        Ok(export)
    }
}
