//! The sealing every encrypted store shares, whatever database holds the rows: the master key
//! and the previous ones a rotation may still need, subject data keys wrapped under them, and
//! templates opened subject by subject (a subject that does not open is named, never hides the
//! others).

use super::crypto::{self, DataKey, MasterKey};
use super::*;
use crate::error::Error;

/// The master key a store is open with, and older keys for subjects a rotation has not
/// re-wrapped yet.
#[derive(Debug, Clone)]
pub(crate) struct Keyring {
    pub(crate) key: MasterKey,
    pub(crate) previous: Vec<MasterKey>,
}

impl Keyring {
    pub(crate) fn all(&self) -> impl Iterator<Item = &MasterKey> {
        std::iter::once(&self.key).chain(&self.previous)
    }

    /// The store's keys (id, check blob) must include this handle's current key, which must be
    /// the store's current one (`current`); previous keys the store no longer holds wrap
    /// nothing and are ignored.
    pub(crate) fn verify(&self, known: &[(String, Vec<u8>)], current: &str) -> Result<()> {
        for (i, k) in self.all().enumerate() {
            match known.iter().find(|(id, _)| id == k.id()) {
                Some((_, blob)) => crypto::verify_key_check(k, blob)?,
                None if i > 0 => {}
                None => {
                    return Err(Error::WrongKey(format!(
                        "key {} is not one of this store's keys ({})",
                        k.id(),
                        known
                            .iter()
                            .map(|k| k.0.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )))
                }
            }
        }
        if current != self.key.id() {
            return Err(rotated(current, self.key.id()));
        }
        Ok(())
    }

    /// A new subject's data key, wrapped under the current master key.
    pub(crate) fn new_wrapped_key(&self, collection: &str, external_id: &str) -> Result<Vec<u8>> {
        crypto::wrap(
            &self.key,
            &DataKey::generate(),
            &subject_aad(collection, external_id),
        )
    }

    /// A subject's data key re-wrapped under `new` (key rotation).
    pub(crate) fn rewrap(
        &self,
        new: &MasterKey,
        collection: &str,
        external_id: &str,
        key_id: &str,
        wrapped: &[u8],
    ) -> Result<Vec<u8>> {
        let dk = self.data_key(collection, external_id, key_id, wrapped)?;
        crypto::wrap(new, &dk, &subject_aad(collection, external_id))
    }

    /// A subject's new templates, each with a new id, sealed under the subject's data key
    /// (`key_id`, `wrapped`): (id, ciphertext) in order.
    pub(crate) fn seal_templates(
        &self,
        c: &Collection,
        external_id: &str,
        (key_id, wrapped): (&str, &[u8]),
        templates: &[NewTemplate],
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let dk = self.data_key(&c.name, external_id, key_id, wrapped)?;
        templates
            .iter()
            .map(|t| {
                let id = new_id();
                let aad = template_aad(&c.name, external_id, &id, &c.model_id);
                let sealed = crypto::seal_vector(&dk, t.embedding.vector(), &aad)?;
                Ok((id, sealed))
            })
            .collect()
    }

    pub(crate) fn key_for(&self, key_id: &str) -> Result<&MasterKey> {
        self.all().find(|k| k.id() == key_id).ok_or_else(|| {
            Error::WrongKey(format!(
                "its key is wrapped by master key {key_id}, which this handle does not hold: \
                     the store was rotated since it was opened, or a rotation is unfinished \
                     (`keys rotate` resumes it)"
            ))
        })
    }

    /// A subject's data key; an error names the subject and its collection.
    pub(crate) fn data_key(
        &self,
        collection: &str,
        external_id: &str,
        key_id: &str,
        wrapped: &[u8],
    ) -> Result<DataKey> {
        self.key_for(key_id)
            .and_then(|k| crypto::unwrap(k, wrapped, &subject_aad(collection, external_id)))
            .map_err(|e| in_subject(e, collection, external_id))
    }

    /// Decrypts one subject's template rows; any error names the subject.
    pub(crate) fn decrypt_subject(
        &self,
        collection: &Collection,
        rows: Vec<TemplateRow>,
    ) -> Result<Vec<Template>> {
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let subject = first.subject.clone();
        let key = self.data_key(
            &collection.name,
            &subject,
            &first.key_id,
            &first.wrapped_key,
        )?;
        rows.into_iter()
            .map(|row| {
                if row.model_id != collection.model_id || row.dim != collection.dim {
                    return Err(Error::StoreCorrupt(format!(
                        "template {} is {} x{} in a collection of {} x{}",
                        row.id, row.model_id, row.dim, collection.model_id, collection.dim
                    )));
                }
                let aad = template_aad(&collection.name, &subject, &row.id, &row.model_id);
                let v =
                    crypto::open_vector(&key, &row.ciphertext, &aad, row.dim).map_err(
                        |e| match e {
                            Error::Decrypt(m) => {
                                Error::Decrypt(format!("template {}: {m}", row.id))
                            }
                            other => other,
                        },
                    )?;
                let embedding = Embedding::new(row.model_id.as_str(), v)
                    .map_err(|e| Error::StoreCorrupt(format!("template {}: {e}", row.id)))?;
                Ok(Template {
                    id: row.id,
                    subject: subject.clone(),
                    model_version: row.model_version,
                    quality: row.quality,
                    source: row.source,
                    created_at: row.created_at,
                    embedding,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map_err(|e| in_subject(e, &collection.name, &subject))
    }

    /// Decrypts a collection's rows subject by subject: a subject that does not open is listed
    /// as damaged and the others still load.
    /// Subjects are decrypted in parallel (a million templates in a few seconds).
    pub(crate) fn decrypt_rows(
        &self,
        collection: &Collection,
        rows: Vec<TemplateRow>,
    ) -> CollectionTemplates {
        use rayon::prelude::*;
        let mut groups: Vec<Vec<TemplateRow>> = Vec::new();
        let mut rows = rows.into_iter().peekable();
        while let Some(row) = rows.next() {
            let mut group = vec![row];
            while let Some(next) = rows.next_if(|r| r.subject == group[0].subject) {
                group.push(next);
            }
            groups.push(group);
        }
        let opened: Vec<std::result::Result<Vec<Template>, DamagedSubject>> = groups
            .into_par_iter()
            .map(|group| {
                let subject = group[0].subject.clone();
                self.decrypt_subject(collection, group)
                    .map_err(|e| DamagedSubject {
                        collection: collection.name.clone(),
                        subject,
                        code: e.code().as_str().to_string(),
                        message: e.to_string(),
                    })
            })
            .collect();
        let mut out = CollectionTemplates {
            templates: Vec::with_capacity(
                opened.iter().map(|o| o.as_ref().map_or(0, Vec::len)).sum(),
            ),
            damaged: Vec::new(),
        };
        for o in opened {
            match o {
                Ok(t) => out.templates.extend(t),
                Err(d) => out.damaged.push(d),
            }
        }
        out
    }
}

pub(crate) fn subject_aad(collection: &str, external_id: &str) -> Vec<u8> {
    crypto::aad(&["subject-key", collection, external_id])
}

pub(crate) fn template_aad(
    collection: &str,
    external_id: &str,
    template_id: &str,
    model_id: &str,
) -> Vec<u8> {
    crypto::aad(&["template", collection, external_id, template_id, model_id])
}

/// The same error, its message prefixed with the subject and collection it concerns.
pub(crate) fn in_subject(e: Error, collection: &str, external_id: &str) -> Error {
    let at = |m: String| format!("subject {external_id:?} in collection {collection:?}: {m}");
    match e {
        Error::Decrypt(m) => Error::Decrypt(at(m)),
        Error::WrongKey(m) => Error::WrongKey(at(m)),
        Error::StoreCorrupt(m) => Error::StoreCorrupt(at(m)),
        other => other,
    }
}

pub(crate) fn rotated(current: &str, mine: &str) -> Error {
    Error::WrongKey(format!(
        "the store's master key was rotated to key {current} after it was opened with key {mine}: \
         open it again with the new key (an unfinished rotation resumes with `keys rotate`)"
    ))
}

/// A template row with its subject's wrapped data key.
pub(crate) struct TemplateRow {
    pub(crate) subject: String,
    pub(crate) key_id: String,
    pub(crate) wrapped_key: Vec<u8>,
    pub(crate) id: String,
    pub(crate) model_id: String,
    pub(crate) model_version: String,
    pub(crate) dim: usize,
    pub(crate) quality: Option<f32>,
    pub(crate) source: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) ciphertext: Vec<u8>,
}
