//! Enroll, verify and identify over a [`TemplateStore`], with one in-memory [`VectorIndex`] per
//! collection built from the store on first use. The store is written first and is the source of
//! truth; a crash between the two leaves nothing to repair, since the index is rebuilt on open.

use crate::compare::Threshold;
use crate::detect::Face;
use crate::embed::Embedding;
use crate::error::{Error, Result};
use crate::index::{FlatIndex, HnswConfig, HnswIndex, VectorIndex};
use crate::store::{AuditAction, AuditEvent, NewTemplate, Subject, Template, TemplateStore};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

/// Judges each enrollment face before it is stored: return a quality score in 0..=1 to accept
/// it (stored with the template), or [`Error::QualityRejected`] saying why not.
pub trait QualityGate: Send + Sync {
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
    pub display_name: Option<String>,
    pub metadata: Option<serde_json::Value>,
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
    pub other_subject: String,
    pub score: f32,
    pub threshold: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollReport {
    pub subject: Subject,
    pub template_ids: Vec<String>,
    pub warnings: Vec<DuplicateWarning>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub subject: String,
    pub score: f32,
    pub threshold: f32,
    pub fmr: Option<f64>,
    /// `score >= threshold`.
    pub matched: bool,
    /// The subject's best template.
    pub template_id: String,
    pub face: Face,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub subject: String,
    /// Best score over the subject's templates.
    pub score: f32,
    pub template_id: String,
    pub matched: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identification {
    pub face: Face,
    pub threshold: f32,
    pub fmr: Option<f64>,
    /// Best first; at most `top_k`, one per subject, disabled subjects left out.
    pub candidates: Vec<Candidate>,
}

/// Everything stored about a subject, decrypted: the answer to a data-portability request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectExport {
    pub subject: Subject,
    pub templates: Vec<Template>,
}

/// When a collection's search switches from the exact scan to HNSW.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// Collections with at least this many templates use HNSW (exact scan below).
    pub hnsw_min_templates: usize,
    pub hnsw: HnswConfig,
    /// Rebuild an HNSW graph once this share of it is deleted entries.
    pub max_deleted_fraction: f64,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            // The exact scan takes ~2.5 ms at 100k templates on one core; HNSW pays off above.
            hnsw_min_templates: 100_000,
            hnsw: HnswConfig::default(),
            max_deleted_fraction: 0.1,
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
    by_key: HashMap<u64, (Arc<str>, String)>,
    by_subject: HashMap<Arc<str>, Vec<u64>>,
    disabled: HashSet<Arc<str>>,
    /// Subjects whose key or templates did not open when the index was built: left out of
    /// every answer, and named by the error verify gives for them.
    damaged: HashSet<String>,
    next_key: u64,
}

impl CollectionIndex {
    fn build(
        store: &dyn TemplateStore,
        collection: &crate::store::Collection,
        config: IndexConfig,
    ) -> Result<CollectionIndex> {
        let (dim, model_id) = (collection.dim, collection.model_id.clone());
        let collection = collection.name.as_str();
        let crate::store::CollectionTemplates { templates, damaged } =
            store.all_templates(collection)?;
        let mut ci = CollectionIndex {
            config,
            model_id,
            dim,
            hnsw: false,
            removed_since_build: 0,
            index: Box::new(FlatIndex::with_capacity(dim, templates.len())),
            by_key: HashMap::with_capacity(templates.len()),
            by_subject: HashMap::new(),
            disabled: HashSet::new(),
            damaged: damaged.into_iter().map(|d| d.subject).collect(),
            next_key: 0,
        };
        for t in &templates {
            ci.add(&t.subject, &t.id, &t.embedding)?;
        }
        ci.rebalance()?;
        let mut offset = 0;
        loop {
            let page = store.list_subjects(collection, offset, 1000)?;
            for s in page.iter().filter(|s| s.disabled) {
                ci.disabled.insert(s.external_id.as_str().into());
            }
            if page.len() < 1000 {
                break;
            }
            offset += page.len();
        }
        Ok(ci)
    }

    fn add(&mut self, subject: &str, template_id: &str, e: &Embedding) -> Result<()> {
        let key = self.next_key;
        self.index.insert(key, e.vector())?;
        self.next_key += 1;
        let subject: Arc<str> = self
            .by_subject
            .get_key_value(subject)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| subject.into());
        self.by_subject
            .entry(subject.clone())
            .or_default()
            .push(key);
        self.by_key.insert(key, (subject, template_id.to_string()));
        Ok(())
    }

    fn remove_subject(&mut self, subject: &str) -> Result<()> {
        for key in self.by_subject.remove(subject).unwrap_or_default() {
            self.index.remove(key);
            self.by_key.remove(&key);
            self.removed_since_build += 1;
        }
        self.disabled.remove(subject);
        self.damaged.remove(subject);
        self.rebalance()
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
        let mut keys: Vec<u64> = self.by_key.keys().copied().collect();
        keys.sort_unstable();
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
            h.extend_parallel(&items)?;
            Box::new(h)
        };
        self.index = rebuilt;
        self.hnsw = !shrink;
        self.removed_since_build = 0;
        Ok(())
    }

    /// Best score per subject over its templates: (score, template id).
    fn best_of(&self, subject: &str, query: &[f32]) -> Option<(f32, String)> {
        self.by_subject
            .get(subject)?
            .iter()
            .filter_map(|&k| {
                let v = self.index.get(k)?;
                Some((crate::embed::dot(query, v), self.by_key.get(&k)?.1.clone()))
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
                let Some((subject, template)) = self.by_key.get(&h.key) else {
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
        let built = Arc::new(RwLock::new(CollectionIndex::build(
            &*self.store,
            &c,
            self.config,
        )?));
        map.insert(collection.to_string(), built.clone());
        Ok(built)
    }

    /// The collection's index, after refusing a probe of another model (naming the model to
    /// load). The model comes from the cached index: no store read per search.
    fn index_for(
        &self,
        collection: &str,
        probe: &Embedding,
    ) -> Result<Arc<RwLock<CollectionIndex>>> {
        let index = self.index(collection)?;
        {
            let ci = index.read().unwrap_or_else(|p| p.into_inner());
            if ci.model_id != probe.model_id() || ci.dim != probe.dim() {
                return Err(Error::CollectionModel {
                    collection: collection.to_string(),
                    collection_model: ci.model_id.clone(),
                    engine_model: probe.model_id().to_string(),
                });
            }
        }
        Ok(index)
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
        let index = self.index(collection)?;
        let mut warnings = Vec::new();
        {
            let ci = index.read().unwrap_or_else(|p| p.into_inner());
            for t in &templates {
                if let Some((other, score, _)) = ci
                    .top_subjects(t.embedding.vector(), 1, Some(subject))?
                    .into_iter()
                    .next()
                {
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
        {
            let mut ci = index.write().unwrap_or_else(|p| p.into_inner());
            for (t, id) in templates.iter().zip(&ids) {
                ci.add(subject, id, &t.embedding)?;
            }
            ci.rebalance()?;
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
        let (best, damaged) = {
            let ci = index.read().unwrap_or_else(|p| p.into_inner());
            (
                ci.best_of(subject, probe.vector()),
                ci.damaged.contains(subject),
            )
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
        let index = self.index_for(collection, probe)?;
        let top = index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .top_subjects(probe.vector(), top_k, None)?;
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
        let index = self.index(collection)?;
        self.store.delete_subject(collection, subject)?;
        index
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove_subject(subject)?;
        op.record(AuditAction::Delete, Some(subject), "ok", None)
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
        let index = self.index(collection)?;
        self.store.set_disabled(collection, subject, disabled)?;
        {
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
