//! Template storage: the [`TemplateStore`] trait (plug in your own), an in-memory store and the
//! embedded default, SQLite with encryption at rest.

pub mod crypto;
mod memory;
mod sqlite;

pub use crypto::MasterKey;
pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

use crate::embed::Embedding;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// A gallery (or tenant): every template in it comes from one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    pub name: String,
    pub model_id: String,
    pub dim: usize,
    /// Unix time in milliseconds.
    pub created_at: i64,
}

/// A person enrolled in a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub collection: String,
    /// The caller's identifier, unique within the collection.
    pub external_id: String,
    pub display_name: Option<String>,
    pub metadata: serde_json::Value,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub templates: usize,
}

/// A template to add.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub embedding: Embedding,
    pub model_version: String,
    pub quality: Option<f32>,
    /// Where it came from (a file name, "camera 3", ...), never the image itself.
    pub source: Option<String>,
}

/// A stored template, decrypted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub subject: String,
    pub model_version: String,
    pub quality: Option<f32>,
    pub source: Option<String>,
    pub created_at: i64,
    pub embedding: Embedding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Enroll,
    Verify,
    Identify,
    Delete,
    Disable,
    Enable,
    Export,
    RotateKey,
}

impl AuditAction {
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

/// One audit record: what happened, never an image or a vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unix time in milliseconds.
    pub at: i64,
    pub action: AuditAction,
    pub collection: Option<String>,
    pub subject: Option<String>,
    /// "ok", "match", "no_match", or an error code.
    pub outcome: String,
    pub score: Option<f32>,
    pub latency_ms: Option<f64>,
    /// Who asked, as the caller names them.
    pub actor: Option<String>,
}

/// Storage of collections, subjects, templates and the audit log. Implementations are called
/// from many threads at once; every method is atomic.
pub trait TemplateStore: Send + Sync {
    /// Creates a collection, or returns it if it exists for the same model; a different model
    /// is [`crate::Error::ModelMismatch`].
    fn ensure_collection(&self, name: &str, model_id: &str, dim: usize) -> Result<Collection>;
    fn collection(&self, name: &str) -> Result<Collection>;
    fn collections(&self) -> Result<Vec<Collection>>;
    /// Creates the subject or updates its name and metadata (`None` keeps the current value).
    fn upsert_subject(
        &self,
        collection: &str,
        external_id: &str,
        display_name: Option<&str>,
        metadata: Option<&serde_json::Value>,
    ) -> Result<Subject>;
    fn subject(&self, collection: &str, external_id: &str) -> Result<Subject>;
    /// Subjects ordered by external id.
    fn list_subjects(&self, collection: &str, offset: usize, limit: usize) -> Result<Vec<Subject>>;
    fn set_disabled(&self, collection: &str, external_id: &str, disabled: bool) -> Result<()>;
    /// Adds templates to an existing subject, all or none; returns their ids.
    fn add_templates(
        &self,
        collection: &str,
        external_id: &str,
        templates: &[NewTemplate],
    ) -> Result<Vec<String>>;
    fn templates(&self, collection: &str, external_id: &str) -> Result<Vec<Template>>;
    /// Every template of the collection (to build a search index).
    fn all_templates(&self, collection: &str) -> Result<Vec<Template>>;
    /// Deletes the subject, its templates and its data key.
    fn delete_subject(&self, collection: &str, external_id: &str) -> Result<()>;
    fn record_audit(&self, event: &AuditEvent) -> Result<()>;
    /// The most recent audit events, newest first.
    fn audit(&self, collection: Option<&str>, limit: usize) -> Result<Vec<AuditEvent>>;
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

pub(crate) fn check_external_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 256 || id.chars().any(|c| c.is_control()) {
        return Err(crate::Error::InvalidArgument(format!(
            "identifier {id:?} must be 1..=256 characters without control characters"
        )));
    }
    Ok(())
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
