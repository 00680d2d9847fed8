//! Template stores and the enroll / verify / identify / delete calls over them.

use crate::engine::{faceprint_engine, faceprint_image};
use crate::faces::{faceprint_embedding, faceprint_face, faceprint_threshold, threshold};
use crate::handle::{borrow, free, into_raw, json_string, optional_string, string, Out};
use crate::status::{faceprint_error, faceprint_status, guard, out_of_range, quiet, Failure};
use faceprint_core::store::{MasterKey, MemoryStore, SqliteStore, TemplateStore};
use faceprint_core::{EnrollOptions, Image};
use std::ffi::{c_char, CString};
use std::sync::Arc;

/// A template store. Thread-safe: it may back several engines and be used from any thread.
#[derive(Clone)]
pub struct faceprint_store(pub(crate) Arc<dyn TemplateStore>);

/// The result of `faceprint_verify`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct faceprint_verification {
    /// Similarity of the probe to the subject's best template.
    pub score: f32,
    pub threshold: f32,
    /// NaN when the model is uncalibrated.
    pub fmr: f64,
    /// score >= threshold.
    pub matched: bool,
    /// The probe face (the largest in the image).
    pub face: faceprint_face,
}

/// One candidate of `faceprint_identify`; `subject` is owned by the identification.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct faceprint_candidate {
    pub subject: *const c_char,
    pub score: f32,
    pub matched: bool,
}

/// Candidates of a 1:N search, best first. Immutable: may be shared between threads.
pub struct faceprint_identification {
    /// Subject, score, matched: best first.
    candidates: Vec<(CString, f32, bool)>,
    face: faceprint_face,
}

/// A store that lives in memory (lost when freed).
#[no_mangle]
pub unsafe extern "C" fn faceprint_store_open_memory(
    out: *mut *mut faceprint_store,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let out = Out::new(out, "out")?;
        out.write(into_raw(faceprint_store(Arc::new(MemoryStore::new()))));
        Ok(())
    })
}

/// An encrypted SQLite store at `path` (created if missing). `key_base64` is the 32-byte master
/// key in base64; NULL reads it from `FACEPRINT_KEY`. A wrong key fails with
/// `FACEPRINT_STATUS_WRONG_KEY` and changes nothing.
#[no_mangle]
pub unsafe extern "C" fn faceprint_store_open_sqlite(
    path: *const c_char,
    key_base64: *const c_char,
    out: *mut *mut faceprint_store,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let path = string(path, "path")?;
        let key = match optional_string(key_base64, "key_base64")? {
            Some(k) => MasterKey::from_base64(k)?,
            None => MasterKey::from_env()?,
        };
        let out = Out::new(out, "out")?;
        out.write(into_raw(faceprint_store(Arc::new(SqliteStore::open(
            path, key,
        )?))));
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_store_free(store: *mut faceprint_store) {
    free(store)
}

/// Enrolls `subject` (created if new) in `collection` from `image_count` images, each showing
/// one face; all templates are stored or none. `options_json` (NULL for none):
/// `{"display_name", "metadata", "face_policy": "require_one"|"largest", "sources", "actor"}`.
/// `*report_json` receives the enrollment report as JSON (free with faceprint_string_free).
#[no_mangle]
pub unsafe extern "C" fn faceprint_enroll(
    engine: *const faceprint_engine,
    collection: *const c_char,
    subject: *const c_char,
    images: *const *const faceprint_image,
    image_count: usize,
    options_json: *const c_char,
    report_json: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let subject = string(subject, "subject")?;
        let handles = handles(images, image_count, "images")?;
        let options = enroll_options(options_json)?;
        let out = Out::new(report_json, "report_json")?;
        // The core takes owned images; the handles stay the caller's.
        let images = handles
            .iter()
            .map(|h| borrow(*h, "images[i]").map(|i| i.0.clone()))
            .collect::<Result<Vec<Image>, _>>()?;
        let report = engine.0.enroll(collection, subject, &images, &options)?;
        out.write(json_string(&report)?);
        Ok(())
    })
}

/// 1:1: is the largest face of `image` the enrolled `subject`? `threshold` NULL: the default.
/// `actor` (NULL for none) is recorded in the audit log.
#[no_mangle]
pub unsafe extern "C" fn faceprint_verify(
    engine: *const faceprint_engine,
    collection: *const c_char,
    subject: *const c_char,
    image: *const faceprint_image,
    threshold: *const faceprint_threshold,
    actor: *const c_char,
    out: *mut faceprint_verification,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let subject = string(subject, "subject")?;
        let image = borrow(image, "image")?;
        let t = self::threshold(threshold)?;
        let actor = optional_string(actor, "actor")?;
        let out = Out::new(out, "out")?;
        let v = engine.0.verify(collection, subject, &image.0, t, actor)?;
        out.write(faceprint_verification {
            score: v.score,
            threshold: v.threshold,
            fmr: v.fmr.unwrap_or(f64::NAN),
            matched: v.matched,
            face: faceprint_face::from(&v.face),
        });
        Ok(())
    })
}

/// 1:N: the `top_k` most similar enabled subjects for the largest face of `image`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_identify(
    engine: *const faceprint_engine,
    collection: *const c_char,
    image: *const faceprint_image,
    top_k: usize,
    threshold: *const faceprint_threshold,
    actor: *const c_char,
    out: *mut *mut faceprint_identification,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let image = borrow(image, "image")?;
        let t = self::threshold(threshold)?;
        let actor = optional_string(actor, "actor")?;
        let out = Out::new(out, "out")?;
        let id = engine.0.identify(collection, &image.0, top_k, t, actor)?;
        out.write(into_raw(identification(&id)));
        Ok(())
    })
}

/// The caller's array of `count` handles (NULL only when empty).
unsafe fn handles<'a, T>(
    ptr: *const *const T,
    count: usize,
    name: &'static str,
) -> Result<&'a [*const T], Failure> {
    if count == 0 {
        Ok(&[])
    } else if ptr.is_null() {
        Err(Failure::Null(name))
    } else {
        Ok(std::slice::from_raw_parts(ptr, count))
    }
}

/// Enrollment options from JSON (NULL: the defaults).
unsafe fn enroll_options(options_json: *const c_char) -> Result<EnrollOptions, Failure> {
    Ok(match optional_string(options_json, "options_json")? {
        Some(json) => EnrollOptions::from_json(json)?,
        None => EnrollOptions::default(),
    })
}

fn identification(id: &faceprint_core::Identification) -> faceprint_identification {
    let candidates = id
        .candidates
        .iter()
        .map(|c| {
            let subject = CString::new(c.subject.as_str()).unwrap_or_default();
            (subject, c.score, c.matched)
        })
        .collect();
    faceprint_identification {
        candidates,
        face: faceprint_face::from(&id.face),
    }
}

/// 1:1 with an embedding already extracted (e.g. each of `faceprint_extract`'s, to verify every
/// face of an image) or made by `faceprint_embedding_from_vector`. `out->face` is all zeros for
/// an embedding made from a vector.
#[no_mangle]
pub unsafe extern "C" fn faceprint_verify_embedding(
    engine: *const faceprint_engine,
    collection: *const c_char,
    subject: *const c_char,
    embedding: *const faceprint_embedding,
    threshold: *const faceprint_threshold,
    actor: *const c_char,
    out: *mut faceprint_verification,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let subject = string(subject, "subject")?;
        let probe = borrow(embedding, "embedding")?.probe();
        let t = self::threshold(threshold)?;
        let actor = optional_string(actor, "actor")?;
        let out = Out::new(out, "out")?;
        let v = engine
            .0
            .verify_embedding(collection, subject, &probe, t, actor)?;
        out.write(faceprint_verification {
            score: v.score,
            threshold: v.threshold,
            fmr: v.fmr.unwrap_or(f64::NAN),
            matched: v.matched,
            face: faceprint_face::from(&v.face),
        });
        Ok(())
    })
}

/// 1:N with an embedding already extracted (each of `faceprint_extract`'s identifies every
/// face of an image) or made by `faceprint_embedding_from_vector`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_identify_embedding(
    engine: *const faceprint_engine,
    collection: *const c_char,
    embedding: *const faceprint_embedding,
    top_k: usize,
    threshold: *const faceprint_threshold,
    actor: *const c_char,
    out: *mut *mut faceprint_identification,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let probe = borrow(embedding, "embedding")?.probe();
        let t = self::threshold(threshold)?;
        let actor = optional_string(actor, "actor")?;
        let out = Out::new(out, "out")?;
        let id = engine
            .0
            .identify_embedding(collection, &probe, top_k, t, actor)?;
        out.write(into_raw(identification(&id)));
        Ok(())
    })
}

/// Enrolls `subject` from embeddings already extracted or made from vectors; all are stored or
/// none. Options and report as for `faceprint_enroll`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_enroll_embeddings(
    engine: *const faceprint_engine,
    collection: *const c_char,
    subject: *const c_char,
    embeddings: *const *const faceprint_embedding,
    embedding_count: usize,
    options_json: *const c_char,
    report_json: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let subject = string(subject, "subject")?;
        let handles = handles(embeddings, embedding_count, "embeddings")?;
        let options = enroll_options(options_json)?;
        let out = Out::new(report_json, "report_json")?;
        let vectors = handles
            .iter()
            .map(|h| borrow(*h, "embeddings[i]").map(|e| e.embedding.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let report = engine
            .0
            .enroll_embeddings(collection, subject, vectors, &options)?;
        out.write(json_string(&report)?);
        Ok(())
    })
}

/// Number of candidates (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_identification_len(
    id: *const faceprint_identification,
) -> usize {
    quiet(0, || id.as_ref().map_or(0, |i| i.candidates.len()))
}

/// Candidate `index` (best first); its `subject` lives as long as the identification.
#[no_mangle]
pub unsafe extern "C" fn faceprint_identification_get(
    id: *const faceprint_identification,
    index: usize,
    out: *mut faceprint_candidate,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let id = borrow(id, "identification")?;
        let out = Out::new(out, "out")?;
        let (subject, score, matched) = id
            .candidates
            .get(index)
            .ok_or_else(|| out_of_range(index, id.candidates.len()))?;
        out.write(faceprint_candidate {
            subject: subject.as_ptr(),
            score: *score,
            matched: *matched,
        });
        Ok(())
    })
}

/// The probe face the identification searched with.
#[no_mangle]
pub unsafe extern "C" fn faceprint_identification_face(
    id: *const faceprint_identification,
    out: *mut faceprint_face,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let id = borrow(id, "identification")?;
        Out::new(out, "out")?.write(id.face);
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_identification_free(id: *mut faceprint_identification) {
    free(id)
}

/// Deletes a subject with its templates and key; `FACEPRINT_STATUS_NOT_FOUND` if absent.
#[no_mangle]
pub unsafe extern "C" fn faceprint_delete_subject(
    engine: *const faceprint_engine,
    collection: *const c_char,
    subject: *const c_char,
    actor: *const c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let subject = string(subject, "subject")?;
        let actor = optional_string(actor, "actor")?;
        engine.0.delete_subject(collection, subject, actor)?;
        Ok(())
    })
}

/// Disables (`disabled` true: refused by verify, skipped by identify, templates kept) or enables
/// a subject; `FACEPRINT_STATUS_NOT_FOUND` if absent.
#[no_mangle]
pub unsafe extern "C" fn faceprint_set_subject_disabled(
    engine: *const faceprint_engine,
    collection: *const c_char,
    subject: *const c_char,
    disabled: bool,
    actor: *const c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let subject = string(subject, "subject")?;
        let actor = optional_string(actor, "actor")?;
        engine
            .0
            .set_subject_disabled(collection, subject, disabled, actor)?;
        Ok(())
    })
}

/// Deletes one template by id; `*subject_out` (may be NULL) gets the subject it belonged to,
/// to free with `faceprint_string_free`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_delete_template(
    engine: *const faceprint_engine,
    collection: *const c_char,
    template_id: *const c_char,
    actor: *const c_char,
    subject_out: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let template_id = string(template_id, "template_id")?;
        let actor = optional_string(actor, "actor")?;
        let subject = engine.0.delete_template(collection, template_id, actor)?;
        let out = crate::handle::MaybeOut::new(subject_out);
        if out.wanted() {
            out.write(crate::handle::c_string(subject)?);
        }
        Ok(())
    })
}

/// Subjects ordered by id, `limit` from `offset`, as a JSON array in `*json_out` (free with
/// `faceprint_string_free`): `[{"collection","external_id","display_name","metadata",
/// "disabled","created_at","updated_at","templates"}]`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_list_subjects(
    engine: *const faceprint_engine,
    collection: *const c_char,
    offset: usize,
    limit: usize,
    json_out: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let out = Out::new(json_out, "json_out")?;
        let subjects = engine.0.list_subjects(collection, offset, limit)?;
        out.write(json_string(&subjects)?);
        Ok(())
    })
}

/// Everything stored about a subject, decrypted, as JSON in `*json_out` (free with
/// `faceprint_string_free`): `{"subject":{...},"templates":[{"id","subject","model_version",
/// "quality","source","created_at","embedding":{"model_id","vector"}}]}`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_export_subject(
    engine: *const faceprint_engine,
    collection: *const c_char,
    subject: *const c_char,
    actor: *const c_char,
    json_out: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let collection = string(collection, "collection")?;
        let subject = string(subject, "subject")?;
        let actor = optional_string(actor, "actor")?;
        let out = Out::new(json_out, "json_out")?;
        let export = engine.0.export_subject(collection, subject, actor)?;
        out.write(json_string(&export)?);
        Ok(())
    })
}

/// The store's collections as a JSON array in `*json_out` (free with `faceprint_string_free`):
/// `[{"name","model_id","dim","created_at"}]`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_list_collections(
    engine: *const faceprint_engine,
    json_out: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let out = Out::new(json_out, "json_out")?;
        out.write(json_string(&engine.0.list_collections()?)?);
        Ok(())
    })
}
