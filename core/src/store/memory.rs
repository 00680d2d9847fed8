//! A store held in memory: for tests, short-lived processes and as a reference implementation.

use super::*;
use crate::error::Error;
use std::collections::BTreeMap;
use std::sync::RwLock;

/// A collection's subjects by external id, each with its templates.
type Subjects = BTreeMap<String, (Subject, Vec<Template>)>;

#[derive(Default)]
struct State {
    collections: BTreeMap<String, (Collection, Subjects)>,
    audit: Vec<AuditEvent>,
}

/// A [`TemplateStore`] in memory (nothing is written anywhere).
#[derive(Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

fn not_found(what: &str, name: &str) -> Error {
    Error::NotFound(format!("{what} {name:?}"))
}

fn coll<'a>(s: &'a State, name: &str) -> Result<&'a (Collection, Subjects)> {
    s.collections
        .get(name)
        .ok_or_else(|| not_found("collection", name))
}

fn coll_mut<'a>(s: &'a mut State, name: &str) -> Result<&'a mut (Collection, Subjects)> {
    s.collections
        .get_mut(name)
        .ok_or_else(|| not_found("collection", name))
}

/// Creates the subject or updates its name and metadata (`None` keeps the current value).
fn upsert<'a>(
    subjects: &'a mut Subjects,
    collection: &str,
    external_id: &str,
    display_name: Option<&str>,
    metadata: Option<&serde_json::Value>,
) -> &'a Subject {
    let now = now_ms();
    let (subj, _) = subjects.entry(external_id.to_string()).or_insert_with(|| {
        (
            Subject {
                collection: collection.to_string(),
                external_id: external_id.to_string(),
                display_name: None,
                metadata: serde_json::json!({}),
                disabled: false,
                created_at: now,
                updated_at: now,
                templates: 0,
            },
            Vec::new(),
        )
    });
    if let Some(n) = display_name {
        subj.display_name = Some(n.to_string());
    }
    if let Some(m) = metadata {
        subj.metadata = m.clone();
    }
    subj.updated_at = now;
    subj
}

/// Appends templates to a subject; returns their new ids.
fn push_templates(
    (subj, stored): &mut (Subject, Vec<Template>),
    templates: &[NewTemplate],
) -> Vec<String> {
    let now = now_ms();
    let ids: Vec<String> = templates.iter().map(|_| new_id()).collect();
    for (t, id) in templates.iter().zip(&ids) {
        stored.push(Template {
            id: id.clone(),
            subject: subj.external_id.clone(),
            model_version: t.model_version.clone(),
            quality: t.quality,
            source: t.source.clone(),
            created_at: now,
            embedding: t.embedding.clone(),
        });
    }
    subj.templates = stored.len();
    subj.updated_at = now;
    ids
}

impl TemplateStore for MemoryStore {
    fn ensure_collection(&self, name: &str, model_id: &str, dim: usize) -> Result<Collection> {
        let name = normalize_id(name)?;
        let mut s = self.write();
        let entry = s.collections.entry(name.clone()).or_insert_with(|| {
            let c = Collection {
                name,
                model_id: model_id.to_string(),
                dim,
                created_at: now_ms(),
            };
            (c, BTreeMap::new())
        });
        if entry.0.model_id != model_id || entry.0.dim != dim {
            return Err(Error::CollectionModel {
                collection: entry.0.name.clone(),
                collection_model: entry.0.model_id.clone(),
                engine_model: model_id.to_string(),
            });
        }
        Ok(entry.0.clone())
    }

    fn collection(&self, name: &str) -> Result<Collection> {
        Ok(coll(&self.read(), name)?.0.clone())
    }

    fn collections(&self) -> Result<Vec<Collection>> {
        Ok(self
            .read()
            .collections
            .values()
            .map(|c| c.0.clone())
            .collect())
    }

    fn upsert_subject(
        &self,
        collection: &str,
        external_id: &str,
        display_name: Option<&str>,
        metadata: Option<&serde_json::Value>,
    ) -> Result<Subject> {
        let external_id = normalize_id(external_id)?;
        let mut s = self.write();
        let (_, subjects) = coll_mut(&mut s, collection)?;
        Ok(upsert(subjects, collection, &external_id, display_name, metadata).clone())
    }

    fn subject(&self, collection: &str, external_id: &str) -> Result<Subject> {
        let s = self.read();
        let (_, subjects) = coll(&s, collection)?;
        subjects
            .get(external_id)
            .map(|x| x.0.clone())
            .ok_or_else(|| not_found("subject", external_id))
    }

    fn list_subjects(&self, collection: &str, offset: usize, limit: usize) -> Result<Vec<Subject>> {
        let s = self.read();
        let (_, subjects) = coll(&s, collection)?;
        Ok(subjects
            .values()
            .skip(offset)
            .take(limit)
            .map(|x| x.0.clone())
            .collect())
    }

    fn set_disabled(&self, collection: &str, external_id: &str, disabled: bool) -> Result<()> {
        let mut s = self.write();
        let (_, subjects) = coll_mut(&mut s, collection)?;
        let (subj, _) = subjects
            .get_mut(external_id)
            .ok_or_else(|| not_found("subject", external_id))?;
        subj.disabled = disabled;
        subj.updated_at = now_ms();
        Ok(())
    }

    fn add_templates(
        &self,
        collection: &str,
        external_id: &str,
        templates: &[NewTemplate],
    ) -> Result<Vec<String>> {
        let mut s = self.write();
        let (c, subjects) = coll_mut(&mut s, collection)?;
        check_templates(c, templates)?;
        let entry = subjects
            .get_mut(external_id)
            .ok_or_else(|| not_found("subject", external_id))?;
        Ok(push_templates(entry, templates))
    }

    fn enroll(&self, e: &Enrollment<'_>) -> Result<(Subject, Vec<String>)> {
        let external_id = normalize_id(e.external_id)?;
        // One write lock over the whole enrollment: nobody sees part of it.
        let mut s = self.write();
        let (c, subjects) = coll_mut(&mut s, e.collection)?;
        check_templates(c, e.templates)?;
        upsert(
            subjects,
            e.collection,
            &external_id,
            e.display_name,
            e.metadata,
        );
        let entry = subjects
            .get_mut(&external_id)
            .ok_or_else(|| not_found("subject", &external_id))?;
        let ids = push_templates(entry, e.templates);
        let subject = entry.0.clone();
        s.audit.push(e.audit.clone());
        Ok((subject, ids))
    }

    fn templates(&self, collection: &str, external_id: &str) -> Result<Vec<Template>> {
        let s = self.read();
        let (_, subjects) = coll(&s, collection)?;
        subjects
            .get(external_id)
            .map(|x| x.1.clone())
            .ok_or_else(|| not_found("subject", external_id))
    }

    fn all_templates(&self, collection: &str) -> Result<CollectionTemplates> {
        let s = self.read();
        let (_, subjects) = coll(&s, collection)?;
        Ok(CollectionTemplates {
            templates: subjects
                .values()
                .flat_map(|x| x.1.iter().cloned())
                .collect(),
            damaged: Vec::new(),
        })
    }

    fn delete_subject(&self, collection: &str, external_id: &str) -> Result<()> {
        let mut s = self.write();
        let (_, subjects) = coll_mut(&mut s, collection)?;
        subjects
            .remove(external_id)
            .map(|_| ())
            .ok_or_else(|| not_found("subject", external_id))
    }

    fn delete_template(&self, collection: &str, template_id: &str) -> Result<String> {
        let mut s = self.write();
        let (_, subjects) = coll_mut(&mut s, collection)?;
        for (id, (subject, templates)) in subjects.iter_mut() {
            if let Some(i) = templates.iter().position(|t| t.id == template_id) {
                templates.remove(i);
                subject.templates = templates.len();
                subject.updated_at = now_ms();
                return Ok(id.clone());
            }
        }
        Err(not_found("template", template_id))
    }

    fn template_subject(&self, collection: &str, template_id: &str) -> Result<String> {
        let s = self.read();
        let (_, subjects) = coll(&s, collection)?;
        subjects
            .iter()
            .find(|(_, (_, t))| t.iter().any(|t| t.id == template_id))
            .map(|(id, _)| id.clone())
            .ok_or_else(|| not_found("template", template_id))
    }

    fn record_audit(&self, event: &AuditEvent) -> Result<()> {
        self.write().audit.push(event.clone());
        Ok(())
    }

    fn audit(&self, collection: Option<&str>, limit: usize) -> Result<Vec<AuditEvent>> {
        let s = self.read();
        Ok(s.audit
            .iter()
            .rev()
            .filter(|e| collection.is_none() || e.collection.as_deref() == collection)
            .take(limit)
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn conforms() {
        super::super::conformance::run(&super::MemoryStore::new());
    }
}
