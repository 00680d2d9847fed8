//! Template storage: the [`TemplateStore`] trait (plug in your own), an in-memory store and the
//! embedded default, SQLite with encryption at rest.

pub mod crypto;
mod keyring;
mod memory;
#[cfg(feature = "postgres")]
mod pg;
mod snapshots;
mod sqlite;

pub use crypto::MasterKey;
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use pg::{PgPool, PgStore, PgStoreBuilder, SearchMode};
pub use sqlite::Rotation;
pub use sqlite::SqliteStore;

use crate::embed::Embedding;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// A gallery (or tenant): every template in it comes from one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    /// The collection's name, unique in the store.
    pub name: String,
    /// The model every template of it comes from.
    pub model_id: String,
    /// That model's embedding dimension.
    pub dim: usize,
    /// Unix time in milliseconds.
    pub created_at: i64,
}

/// A person enrolled in a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// The collection it belongs to.
    pub collection: String,
    /// The caller's identifier, unique within the collection.
    pub external_id: String,
    /// A name for people to read.
    pub display_name: Option<String>,
    /// The caller's JSON data about the subject (never biometrics).
    pub metadata: serde_json::Value,
    /// A disabled subject is kept but never matched.
    pub disabled: bool,
    /// Unix time in milliseconds.
    pub created_at: i64,
    /// Unix time in milliseconds of the last change.
    pub updated_at: i64,
    /// How many templates it has.
    pub templates: usize,
}

/// A template to add.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    /// The face's embedding.
    pub embedding: Embedding,
    /// The embedder's version (the model file's sha256 prefix), kept to spot stale templates.
    pub model_version: String,
    /// The quality score of the photo it came from, when measured.
    pub quality: Option<f32>,
    /// Where it came from (a file name, "camera 3", ...), never the image itself.
    pub source: Option<String>,
}

/// A stored template, decrypted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Its id (a UUID), unique in the store.
    pub id: String,
    /// The subject's external id.
    pub subject: String,
    /// The embedder's version when it was made.
    pub model_version: String,
    /// The quality score of its photo, when measured.
    pub quality: Option<f32>,
    /// Where it came from (a file name, "camera 3", ...).
    pub source: Option<String>,
    /// Unix time in milliseconds.
    pub created_at: i64,
    /// The embedding, decrypted.
    pub embedding: Embedding,
}

/// What an audit record records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Subject enrolled (or templates added).
    Enroll,
    /// 1:1 verification.
    Verify,
    /// 1:N identification.
    Identify,
    /// Subject or template deleted.
    Delete,
    /// Subject disabled.
    Disable,
    /// Subject enabled.
    Enable,
    /// Subject exported (its templates left the store).
    Export,
    /// The store's master key was rotated.
    RotateKey,
}

impl AuditAction {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Enroll => "enroll",
            AuditAction::Verify => "verify",
            AuditAction::Identify => "identify",
            AuditAction::Delete => "delete",
            AuditAction::Disable => "disable",
            AuditAction::Enable => "enable",
            AuditAction::Export => "export",
            AuditAction::RotateKey => "rotate_key",
        }
    }

    /// The action named `s` (as [`AuditAction::as_str`] spells it).
    pub fn parse(s: &str) -> Option<AuditAction> {
        [
            AuditAction::Enroll,
            AuditAction::Verify,
            AuditAction::Identify,
            AuditAction::Delete,
            AuditAction::Disable,
            AuditAction::Enable,
            AuditAction::Export,
            AuditAction::RotateKey,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// Everything one enrollment writes: see [`TemplateStore::enroll`].
#[derive(Debug, Clone, Copy)]
pub struct Enrollment<'a> {
    /// The collection to enroll into.
    pub collection: &'a str,
    /// The subject's external id.
    pub external_id: &'a str,
    /// `None` keeps the current value of an existing subject.
    pub display_name: Option<&'a str>,
    /// The subject's JSON data; `None` keeps the current value.
    pub metadata: Option<&'a serde_json::Value>,
    /// The templates to add.
    pub templates: &'a [NewTemplate],
    /// The audit record written with them.
    pub audit: &'a AuditEvent,
}

/// A collection's templates, with the subjects whose data could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionTemplates {
    /// Every template that opened.
    pub templates: Vec<Template>,
    /// Subjects left out because their data did not open.
    pub damaged: Vec<DamagedSubject>,
}

/// A collection as a search index needs it, laid out for millions of templates: per template
/// its id, subject and vector (in one flat array), and which subjects are disabled or damaged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionVectors {
    /// The embedding dimension.
    pub dim: usize,
    /// Subjects with templates here: (external id, disabled).
    pub subjects: Vec<(String, bool)>,
    /// Per template: (index into `subjects`, template id).
    pub templates: Vec<(u32, String)>,
    /// Template `i`'s unit vector is `vectors[i * dim..(i + 1) * dim]`.
    pub vectors: Vec<f32>,
    /// Subjects left out because their data did not open.
    pub damaged: Vec<DamagedSubject>,
}

impl CollectionVectors {
    /// From decrypted templates and the disabled subjects (what a store without a faster way
    /// gives).
    pub fn from_templates(
        dim: usize,
        all: CollectionTemplates,
        disabled: &std::collections::HashSet<String>,
    ) -> CollectionVectors {
        let mut out = CollectionVectors {
            dim,
            vectors: Vec::with_capacity(all.templates.len() * dim),
            damaged: all.damaged,
            ..Default::default()
        };
        let mut index: std::collections::HashMap<String, u32> = Default::default();
        for t in all.templates {
            let s = *index.entry(t.subject.clone()).or_insert_with(|| {
                let disabled = disabled.contains(&t.subject);
                out.subjects.push((t.subject.clone(), disabled));
                out.subjects.len() as u32 - 1
            });
            out.vectors.extend_from_slice(t.embedding.vector());
            out.templates.push((s, t.id));
        }
        out
    }
}

/// What changed in a collection after a change sequence number
/// ([`TemplateStore::changes_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// The changed subjects, oldest change first, each with the change's sequence number.
    Subjects(Vec<(u64, String)>),
    /// The change log no longer reaches back that far: read the whole collection again.
    Expired,
}

/// A subject left out of [`CollectionTemplates`]: its key or a template did not open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DamagedSubject {
    /// The collection.
    pub collection: String,
    /// The subject's external id.
    pub subject: String,
    /// The error's stable code (`decrypt`, `wrong_key`, `store_corrupt`).
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// One audit record: what happened, never an image or a vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unix time in milliseconds.
    pub at: i64,
    /// What happened.
    pub action: AuditAction,
    /// The collection, when the action concerns one.
    pub collection: Option<String>,
    /// The subject, when the action concerns one.
    pub subject: Option<String>,
    /// "ok", "match", "no_match", or an error code.
    pub outcome: String,
    /// The match score, for verify and identify.
    pub score: Option<f32>,
    /// How long the call took, in milliseconds.
    pub latency_ms: Option<f64>,
    /// Who asked, as the caller names them.
    pub actor: Option<String>,
}

impl AuditEvent {
    /// A successful `action` on `collection` now, by `actor`; set the other fields as needed.
    pub fn ok(action: AuditAction, collection: &str, actor: Option<&str>) -> AuditEvent {
        AuditEvent {
            at: now_ms(),
            action,
            collection: Some(collection.to_string()),
            subject: None,
            outcome: "ok".into(),
            score: None,
            latency_ms: None,
            actor: actor.map(String::from),
        }
    }
}

/// Storage of collections, subjects, templates and the audit log. Implementations are called
/// from many threads at once; every method is atomic.
pub trait TemplateStore: Send + Sync {
    /// Creates a collection, or returns it if it exists for the same model; a different model
    /// is [`crate::Error::ModelMismatch`].
    fn ensure_collection(&self, name: &str, model_id: &str, dim: usize) -> Result<Collection>;
    /// The collection named `name`; `not_found` if there is none.
    fn collection(&self, name: &str) -> Result<Collection>;
    /// Every collection.
    fn collections(&self) -> Result<Vec<Collection>>;
    /// Creates the subject or updates its name and metadata (`None` keeps the current value).
    fn upsert_subject(
        &self,
        collection: &str,
        external_id: &str,
        display_name: Option<&str>,
        metadata: Option<&serde_json::Value>,
    ) -> Result<Subject>;
    /// One subject; `not_found` if there is none.
    fn subject(&self, collection: &str, external_id: &str) -> Result<Subject>;
    /// Subjects ordered by external id.
    fn list_subjects(&self, collection: &str, offset: usize, limit: usize) -> Result<Vec<Subject>>;
    /// Disables (kept, never matched) or enables a subject.
    fn set_disabled(&self, collection: &str, external_id: &str, disabled: bool) -> Result<()>;
    /// Adds templates to an existing subject, all or none; returns their ids.
    fn add_templates(
        &self,
        collection: &str,
        external_id: &str,
        templates: &[NewTemplate],
    ) -> Result<Vec<String>>;
    /// A subject's templates, decrypted.
    fn templates(&self, collection: &str, external_id: &str) -> Result<Vec<Template>>;
    /// Every template of the collection (to build a search index). A subject whose key or
    /// templates do not open is listed in `damaged` instead of failing the whole collection.
    fn all_templates(&self, collection: &str) -> Result<CollectionTemplates>;
    /// Creates the subject if new (or updates its name and metadata), adds its templates and
    /// records the audit event, in one atomic write: all of it is stored or none.
    fn enroll(&self, enrollment: &Enrollment<'_>) -> Result<(Subject, Vec<String>)>;
    /// Deletes the subject, its templates and its data key.
    fn delete_subject(&self, collection: &str, external_id: &str) -> Result<()>;
    /// Deletes one template (the subject stays, even with none left); returns its subject.
    fn delete_template(&self, collection: &str, template_id: &str) -> Result<String>;
    /// The subject a template belongs to.
    fn template_subject(&self, collection: &str, template_id: &str) -> Result<String>;

    /// One template by id, decrypted.
    fn template(&self, collection: &str, template_id: &str) -> Result<Template> {
        let subject = self.template_subject(collection, template_id)?;
        self.templates(collection, &subject)?
            .into_iter()
            .find(|t| t.id == template_id)
            .ok_or_else(|| crate::Error::NotFound(format!("template {template_id:?}")))
    }
    /// Appends an event to the audit log.
    fn record_audit(&self, event: &AuditEvent) -> Result<()>;
    /// The most recent audit events, newest first.
    fn audit(&self, collection: Option<&str>, limit: usize) -> Result<Vec<AuditEvent>>;

    /// Every template's id, subject and vector, and the subjects' disabled flags: what a
    /// search index is built from. The default reads [`TemplateStore::all_templates`] and
    /// pages through the subjects; a store with a faster way (one query, no per-template
    /// allocation) overrides it.
    fn collection_vectors(&self, collection: &str) -> Result<CollectionVectors> {
        let c = self.collection(collection)?;
        let mut disabled = std::collections::HashSet::new();
        let mut offset = 0;
        loop {
            let page = self.list_subjects(collection, offset, 1000)?;
            disabled.extend(
                page.iter()
                    .filter(|s| s.disabled)
                    .map(|s| s.external_id.clone()),
            );
            if page.len() < 1000 {
                break;
            }
            offset += page.len();
        }
        Ok(CollectionVectors::from_templates(
            c.dim,
            self.all_templates(collection)?,
            &disabled,
        ))
    }
    /// A number that grows with every change to the collection's templates (enrollment,
    /// deletion), or `None` where the store keeps none. Index snapshots are tagged with it.
    fn change_seq(&self, _collection: &str) -> Result<Option<u64>> {
        Ok(None)
    }
    /// Whether the store searches `collection` itself ([`TemplateStore::search`]) instead of
    /// an engine's in-memory index. `false` by default.
    fn searches_itself(&self, _collection: &str) -> Result<bool> {
        Ok(false)
    }
    /// For a store that searches a collection itself (PostgreSQL's `pgvector` mode): the
    /// `limit` nearest templates of enabled subjects to the unit vector `probe`, as (subject,
    /// cosine, template id), best first; `ef_search` sizes the approximate search's candidate
    /// list. `None` (the default) where the engine's in-memory index searches.
    fn search(
        &self,
        _collection: &str,
        _probe: &[f32],
        _limit: usize,
        _ef_search: usize,
    ) -> Result<Option<Vec<(String, f32, String)>>> {
        Ok(None)
    }
    /// For a store that other processes write too: the highest change sequence number of the
    /// collection this handle has heard of (told by the database, no round trip), so that a
    /// search index can catch up on changes it did not make. `None` (the default) where every
    /// change goes through this handle.
    fn heard_change_seq(&self, _collection: &str) -> Option<u64> {
        None
    }
    /// For a store that other processes write too: the subjects changed (templates added or
    /// deleted, subject deleted, disabled or enabled) after change `after`, oldest first, at
    /// most `limit` changes. `None` (the default) where the store keeps no change log.
    fn changes_since(
        &self,
        _collection: &str,
        _after: u64,
        _limit: usize,
    ) -> Result<Option<Changes>> {
        Ok(None)
    }
    /// For a store that other processes write too: which of `subjects` still exist and are
    /// enabled, so that a search never answers with one deleted or disabled elsewhere. `None`
    /// (the default) where every change goes through this handle.
    fn matchable_subjects(
        &self,
        _collection: &str,
        _subjects: &[&str],
    ) -> Result<Option<std::collections::HashSet<String>>> {
        Ok(None)
    }
    /// Whether this store keeps search-index snapshots (a writable file store does; memory
    /// and read-only stores do not). Without it the index is built on every open.
    fn keeps_index_snapshots(&self) -> bool {
        false
    }
    /// Whether a snapshot of the collection's index is saved (cheap: no read).
    fn has_index_snapshot(&self, _collection: &str) -> bool {
        false
    }
    /// The collection's saved search-index snapshot (opaque bytes the gallery wrote), or
    /// `None` where there is none or the store keeps none. An unreadable one is an error: the
    /// caller rebuilds the index from the templates.
    fn load_index_snapshot(&self, _collection: &str) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
    /// Saves a snapshot so that a reader sees this one or the previous one whole, never a mix
    /// (a store without a place for them keeps nothing). It is a cache of what the templates
    /// already say: a failure loses no data.
    fn save_index_snapshot(&self, _collection: &str, _snapshot: &[u8]) -> Result<()> {
        Ok(())
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A random 128-bit identifier, hex.
pub(crate) fn new_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    crate::models::hex(&b)
}

/// The longest subject id or collection name, in characters (Unicode scalar values, after NFC).
pub const MAX_ID_CHARS: usize = 256;

/// Checks an identifier (subject id or collection name) and returns it in Unicode NFC, so two
/// ids that look the same are the same: 1..=256 characters, no control, invisible (zero-width,
/// format) or bidi-override characters, no leading or trailing white space.
pub fn normalize_id(id: &str) -> Result<String> {
    use unicode_normalization::UnicodeNormalization;
    let refuse = |why: &str| {
        Err(crate::Error::InvalidArgument(format!(
            "identifier {id:?} {why}: identifiers are 1..={MAX_ID_CHARS} characters without \
             control, invisible or bidi characters and without leading or trailing spaces"
        )))
    };
    if id.is_empty() {
        return refuse("is empty");
    }
    if let Some(c) = id.chars().find(|&c| c.is_control() || is_invisible(c)) {
        return refuse(&format!("holds U+{:04X}", c as u32));
    }
    if id.starts_with(char::is_whitespace) || id.ends_with(char::is_whitespace) {
        return refuse("starts or ends with white space");
    }
    let nfc: String = id.nfc().collect();
    let n = nfc.chars().count();
    if n > MAX_ID_CHARS {
        return refuse(&format!("is {n} characters long"));
    }
    Ok(nfc)
}

/// Characters that render as nothing or reorder text: Unicode's format characters (zero-width
/// spaces and joiners, bidi embeddings, overrides and isolates, tags), fillers and selectors.
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x2028..=0x202F | 0x205F..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// The checks every store applies to templates before adding them.
pub(crate) fn check_templates(c: &Collection, templates: &[NewTemplate]) -> Result<()> {
    for t in templates {
        if t.embedding.model_id() != c.model_id {
            return Err(crate::Error::ModelMismatch {
                left: t.embedding.model_id().to_string(),
                right: c.model_id.clone(),
            });
        }
        if t.embedding.dim() != c.dim {
            return Err(crate::Error::InvalidEmbedding(format!(
                "dimension {} does not match collection {}'s {}",
                t.embedding.dim(),
                c.name,
                c.dim
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod conformance;
