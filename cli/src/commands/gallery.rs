//! Store commands: enroll, verify, identify, subjects, keys. The master key comes from
//! `--key-file FILE` or `FACEPRINT_KEY` (base64 of 32 bytes).

use super::probe::{Probe, ProbeArgs};
use crate::output;
use crate::{Global, ThresholdArgs};
use clap::{Args, Subcommand};
use faceprint::store::{MasterKey, SqliteStore, TemplateStore};
use faceprint::{Engine, EnrollOptions, Error, FacePolicy};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the store is and how to open it.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// SQLite store file (`enroll` creates it; every other command needs it to exist), or a
    /// PostgreSQL URL (postgres://user@host/database) for a store several nodes share
    #[arg(long, value_name = "FILE|URL")]
    db: PathBuf,
    /// Collection (gallery) name
    #[arg(long, default_value = "default")]
    collection: String,
    /// File holding the base64 master key (default: $FACEPRINT_KEY)
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Who is acting, for the audit log
    #[arg(long)]
    actor: Option<String>,
    /// Search collections of at least this many templates with an HNSW graph, saved beside
    /// the store (DB.index/) and restored on the next open (default 100000; below it, an
    /// exact scan)
    #[arg(long, value_name = "N")]
    hnsw_min_templates: Option<usize>,
}

/// The longest key file read: a base64 key is 44 bytes, so anything this long is not one.
const MAX_KEY_FILE_BYTES: u64 = 4096;

fn read_key(file: Option<&Path>) -> Result<MasterKey, Error> {
    match file {
        Some(f) => MasterKey::from_base64(&faceprint::files::read_text_limited(
            f,
            MAX_KEY_FILE_BYTES,
            "key file",
        )?),
        None => MasterKey::from_env(),
    }
}

/// Whether a command may create the store.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    /// `enroll`: a missing file becomes a new store.
    CreateIfMissing,
    /// Everything else: a missing file is `not_found`.
    Existing,
}

/// `--db` as a PostgreSQL URL, when it is one.
fn postgres_url(db: &Path) -> Option<&str> {
    db.to_str()
        .filter(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

#[cfg(feature = "postgres")]
fn open_postgres(
    url: &str,
    key: &MasterKey,
    previous: Vec<MasterKey>,
) -> Result<faceprint::store::PgStore, Error> {
    faceprint::store::PgStore::builder(url, key.clone())
        .previous_keys(previous)
        .open()
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_: &str, _: &MasterKey, _: Vec<MasterKey>) -> Result<NoPostgres, Error> {
    Err(Error::InvalidArgument(
        "--db postgres://…: this faceprint was built without PostgreSQL (cargo feature postgres)"
            .into(),
    ))
}

/// What `open_postgres` gives in a build without PostgreSQL: never made.
#[cfg(not(feature = "postgres"))]
enum NoPostgres {}

#[cfg(not(feature = "postgres"))]
impl NoPostgres {
    fn rotate_key(
        &mut self,
        _: MasterKey,
        _: impl FnMut(u64, u64),
    ) -> Result<faceprint::store::Rotation, Error> {
        match *self {}
    }
}

impl StoreArgs {
    fn engine(&self, g: &Global, open: Open) -> Result<Engine, Error> {
        let key = read_key(self.key_file.as_deref())?;
        let store: Arc<dyn TemplateStore> = match postgres_url(&self.db) {
            #[cfg(feature = "postgres")]
            Some(url) => Arc::new(open_postgres(url, &key, Vec::new())?),
            #[cfg(not(feature = "postgres"))]
            Some(url) => match open_postgres(url, &key, Vec::new())? {},
            None => {
                let store = SqliteStore::builder(&self.db, key)
                    .create_if_missing(open == Open::CreateIfMissing)
                    .open()?;
                if store.is_read_only() {
                    eprintln!(
                        "{}",
                        json!({"warning": {"code": "read_only", "message": format!(
                            "{} is read-only: reading only, audit events are skipped",
                            self.db.display())}})
                    );
                }
                Arc::new(store)
            }
        };
        let mut index = faceprint::IndexConfig::default();
        if let Some(n) = self.hnsw_min_templates {
            index.hnsw_min_templates = n;
        }
        g.engine_builder()?
            .store(store)
            .index(index)
            .collection_model(&self.collection)
            .build()
    }
}

#[derive(Args)]
pub struct EnrollArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Subject id (with IMAGE...)
    #[arg(
        long,
        required_unless_present = "from_dir",
        conflicts_with = "from_dir"
    )]
    subject: Option<String>,
    /// Display name of the subject
    #[arg(long)]
    name: Option<String>,
    /// Import a gallery: one folder per subject, named by its id
    #[arg(long)]
    from_dir: Option<PathBuf>,
    /// Use the largest face of photos that show several
    #[arg(long)]
    largest_face: bool,
    /// Enroll images again even if the subject already has a template from a file of the same
    /// name (by default they are skipped, so re-running an interrupted import adds nothing twice)
    #[arg(long)]
    again: bool,
    /// The photos are face crops (another detector's, ID photos): embed each whole, without
    /// detection
    #[arg(long)]
    face_crop: bool,
    /// Enroll stored embeddings (JSON files, as `verify --embedding`) instead of photos
    #[arg(long, value_name = "JSON", conflicts_with_all = ["from_dir", "face_crop"])]
    embedding: Vec<PathBuf>,
    images: Vec<PathBuf>,
}

#[derive(Subcommand)]
pub enum CollectionsCommand {
    /// List the store's collections: name, model, dimension, creation time (JSON line each)
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn collections(g: &Global, cmd: &CollectionsCommand) -> Result<bool, Error> {
    let CollectionsCommand::List { store } = cmd;
    for c in store.engine(g, Open::Existing)?.list_collections()? {
        let v = serde_json::to_value(&c).unwrap_or_default();
        output::line(g.human, &v, || {
            format!("{}  {} ({}-D)", c.name, c.model_id, c.dim)
        });
    }
    Ok(true)
}

#[derive(Subcommand)]
pub enum SubjectsCommand {
    /// List subjects (JSON line each)
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, default_value_t = 0)]
        offset: usize,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Delete a subject, its templates and its key
    Delete {
        #[command(flatten)]
        store: StoreArgs,
        subject: String,
    },
    /// Print everything stored about a subject (decrypted), for data-portability requests
    Export {
        #[command(flatten)]
        store: StoreArgs,
        subject: String,
    },
    /// Stop a subject from matching (verify refuses, identify skips)
    Disable {
        #[command(flatten)]
        store: StoreArgs,
        subject: String,
    },
    /// Undo disable
    Enable {
        #[command(flatten)]
        store: StoreArgs,
        subject: String,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Print a new random master key (base64)
    Generate,
    /// Re-wrap every subject key under a new master key (resumable)
    Rotate {
        /// Store file, or PostgreSQL URL
        #[arg(long, value_name = "FILE|URL")]
        db: PathBuf,
        /// Current key file (default: $FACEPRINT_KEY)
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// New key file
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

fn progress(len: usize) -> ProgressBar {
    let pb = ProgressBar::new(len as u64);
    pb.set_style(
        ProgressStyle::with_template(
            "enrolling {bar:40} {pos}/{len} images [{elapsed_precise} < {eta_precise}] {per_sec}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

/// One subject's part of an enrollment: its id, display name and images.
struct EnrollJob {
    subject: String,
    name: Option<String>,
    files: Vec<PathBuf>,
}

/// The subjects of a gallery folder: one sub-folder per subject, named by its id. A folder name
/// that is not UTF-8 cannot be an id without changing it (and merging it with another), so it
/// is reported and left out.
fn gallery_jobs(dir: &Path, ok: &mut bool) -> Result<Vec<EnrollJob>, Error> {
    let list = |d: &Path| -> Result<Vec<PathBuf>, Error> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| Error::InvalidArgument(format!("{}: {e}", d.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        v.sort();
        Ok(v)
    };
    let mut jobs = Vec::new();
    for p in list(dir)?.into_iter().filter(|p| p.is_dir()) {
        let Some(id) = p.file_name().and_then(|n| n.to_str()) else {
            *ok = false;
            output::error(
                Some(&p),
                &Error::InvalidArgument(format!(
                    "folder name {:?} is not valid UTF-8, so it cannot be a subject id: rename it",
                    p.file_name().unwrap_or_default()
                )),
            );
            continue;
        };
        let files: Vec<PathBuf> = list(&p)?.into_iter().filter(|f| f.is_file()).collect();
        if !files.is_empty() {
            jobs.push(EnrollJob {
                subject: id.to_string(),
                name: None,
                files,
            });
        }
    }
    Ok(jobs)
}

/// The source hint stored with a template: the image's file name.
fn source_of(f: &Path) -> String {
    f.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// Leaves out the images whose file name the subject already has a template from (a re-run
/// of an interrupted import); returns how many were left out.
fn skip_enrolled(engine: &Engine, collection: &str, job: &mut EnrollJob) -> Result<usize, Error> {
    let have: std::collections::HashSet<String> =
        match engine.store()?.templates(collection, &job.subject) {
            Ok(t) => t.into_iter().filter_map(|t| t.source).collect(),
            Err(e) if e.code() == faceprint::ErrorCode::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
    let before = job.files.len();
    job.files.retain(|f| !have.contains(&source_of(f)));
    Ok(before - job.files.len())
}

/// An error line that says which subject (and image, if any) it belongs to.
fn subject_error(subject: &str, image: Option<&Path>, e: &Error) {
    let mut v = output::error_json(image, e);
    v["subject"] = json!(subject);
    eprintln!("{v}");
}

pub fn enroll(g: &Global, a: &EnrollArgs) -> Result<bool, Error> {
    let engine = a.store.engine(g, Open::CreateIfMissing)?;
    let collection = &a.store.collection;
    let mut ok = true;
    let mut skipped = 0usize;
    let mut jobs = if let Some(dir) = &a.from_dir {
        let mut jobs = gallery_jobs(dir, &mut ok)?;
        if !a.again {
            for job in &mut jobs {
                match skip_enrolled(&engine, collection, job) {
                    Ok(n) => skipped += n,
                    Err(e) => {
                        ok = false;
                        subject_error(&job.subject, None, &e);
                        job.files.clear();
                    }
                }
            }
            if skipped > 0 {
                eprintln!(
                    "{}",
                    json!({"warning": {"code": "already_enrolled", "message": format!(
                        "{skipped} image(s) skipped: their subjects already have templates from files of \
                         the same name (an earlier run); --again enrolls them anyway")}})
                );
            }
        }
        jobs
    } else {
        if !a.embedding.is_empty() {
            return enroll_stored_embeddings(g, a, &engine);
        }
        if a.images.is_empty() {
            return Err(Error::InvalidArgument(
                "give IMAGE..., --embedding FILE... or --from-dir DIR".into(),
            ));
        }
        vec![EnrollJob {
            subject: a.subject.clone().unwrap_or_default(),
            name: a.name.clone(),
            files: a.images.clone(),
        }]
    };
    jobs.retain(|j| !j.files.is_empty());
    let total: usize = jobs.iter().map(|j| j.files.len()).sum();
    let pb = progress(total);
    let started = std::time::Instant::now();
    let mut enrolled_templates = 0usize;
    for job in &jobs {
        let subject = &job.subject;
        // Faces in parallel; each bad photo is reported and skipped, the rest still count.
        let results: Vec<(PathBuf, Result<faceprint::Embedding, Error>)> = g.pool(|| {
            job.files
                .par_iter()
                .map(|f| {
                    let r = engine.open(f).and_then(|img| {
                        super::probe::enrollment_face(&engine, &img, a.face_crop, a.largest_face)
                    });
                    pb.inc(1);
                    (f.clone(), r)
                })
                .collect()
        })?;
        let mut embeddings = Vec::new();
        let mut sources = Vec::new();
        for (f, r) in results {
            match r {
                Ok(e) => {
                    embeddings.push(e);
                    sources.push(source_of(&f));
                }
                Err(e) => {
                    ok = false;
                    pb.suspend(|| subject_error(subject, Some(&f), &e));
                }
            }
        }
        if embeddings.is_empty() {
            continue;
        }
        let opts = EnrollOptions {
            display_name: job.name.clone(),
            sources,
            actor: a.store.actor.clone(),
            face_policy: if a.largest_face {
                FacePolicy::Largest
            } else {
                FacePolicy::RequireOne
            },
            ..Default::default()
        };
        match engine.enroll_embeddings(collection, subject, embeddings, &opts) {
            Ok(r) => {
                enrolled_templates += r.template_ids.len();
                // Printed only after the store committed: a line here means it is on disk.
                pb.suspend(|| {
                    output::line(g.human, &json!({"subject": r.subject.external_id, "templates": r.template_ids, "warnings": r.warnings}), || {
                        let mut s = format!("{}: {} template(s) enrolled", r.subject.external_id, r.template_ids.len());
                        for w in &r.warnings {
                            s.push_str(&format!("; WARNING: matches {} ({:.3})", w.other_subject, w.score));
                        }
                        s
                    })
                });
            }
            Err(e) => {
                ok = false;
                pb.suspend(|| subject_error(subject, None, &e));
            }
        }
    }
    pb.finish_and_clear();
    if a.from_dir.is_some() {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "{}",
            json!({"summary": {"subjects": jobs.len(), "templates": enrolled_templates, "skipped_images": skipped,
                   "seconds": secs, "templates_per_second": enrolled_templates as f64 / secs.max(1e-9)}})
        );
    }
    Ok(ok)
}

/// `enroll --subject S --embedding FILE...`: all of them in one enrollment, or none.
fn enroll_stored_embeddings(g: &Global, a: &EnrollArgs, engine: &Engine) -> Result<bool, Error> {
    if !a.images.is_empty() {
        return Err(Error::InvalidArgument(
            "give IMAGE... or --embedding FILE..., not both".into(),
        ));
    }
    let embeddings = a
        .embedding
        .iter()
        .map(|f| super::probe::read_embedding(engine, f).map(|e| e.embedding))
        .collect::<Result<Vec<_>, Error>>()?;
    let opts = EnrollOptions {
        display_name: a.name.clone(),
        sources: a.embedding.iter().map(|f| source_of(f)).collect(),
        actor: a.store.actor.clone(),
        ..Default::default()
    };
    let subject = a.subject.clone().unwrap_or_default();
    let r = engine.enroll_embeddings(&a.store.collection, &subject, embeddings, &opts)?;
    output::line(
        g.human,
        &json!({"subject": r.subject.external_id, "templates": r.template_ids, "warnings": r.warnings}),
        || {
            format!(
                "{}: {} template(s) enrolled",
                r.subject.external_id,
                r.template_ids.len()
            )
        },
    );
    Ok(true)
}

/// The face a result is about: its box, or null for a stored embedding.
fn probe_face(p: &Probe) -> serde_json::Value {
    if p.from_photo {
        output::face_json(&p.embedding.face)
    } else {
        serde_json::Value::Null
    }
}

pub fn verify(
    g: &Global,
    s: &StoreArgs,
    subject: &str,
    probe: &ProbeArgs,
    t: ThresholdArgs,
) -> Result<bool, Error> {
    let engine = s.engine(g, Open::Existing)?;
    // A bad threshold fails before any inference is spent.
    engine.resolve_threshold(t.get().unwrap_or(engine.config().threshold))?;
    let mut results = Vec::new();
    for p in probe.probes(&engine)? {
        let v = engine.verify_embedding(
            &s.collection,
            subject,
            &p.embedding,
            t.get(),
            s.actor.as_deref(),
        )?;
        results.push(json!({"subject": v.subject, "matched": v.matched, "score": v.score, "threshold": v.threshold,
                            "fmr": v.fmr, "template_id": v.template_id, "face": probe_face(&p)}));
    }
    let text = |r: &serde_json::Value| {
        format!(
            "{}: {} (score {:.4}, threshold {:.4})",
            r["subject"].as_str().unwrap_or_default(),
            if r["matched"] == true {
                "MATCH"
            } else {
                "NO MATCH"
            },
            r["score"].as_f64().unwrap_or_default(),
            r["threshold"].as_f64().unwrap_or_default()
        )
    };
    if probe.all_faces {
        let matched = results.iter().any(|r| r["matched"] == true);
        let value = json!({"subject": subject, "matched": matched, "faces": results});
        output::line(g.human, &value, || {
            let mut out = format!("{} face(s)", results.len());
            for r in &results {
                out.push_str(&format!("\n  {}", text(r)));
            }
            out
        });
    } else if let Some(r) = results.first() {
        output::line(g.human, r, || text(r));
    }
    Ok(true)
}

pub fn identify(
    g: &Global,
    s: &StoreArgs,
    probe: &ProbeArgs,
    top: usize,
    t: ThresholdArgs,
) -> Result<bool, Error> {
    let engine = s.engine(g, Open::Existing)?;
    engine.resolve_threshold(t.get().unwrap_or(engine.config().threshold))?;
    let mut results = Vec::new();
    for p in probe.probes(&engine)? {
        let id = engine.identify_embedding(
            &s.collection,
            &p.embedding,
            top,
            t.get(),
            s.actor.as_deref(),
        )?;
        results.push(json!({"threshold": id.threshold, "fmr": id.fmr, "face": probe_face(&p), "candidates": id.candidates}));
    }
    let text = |r: &serde_json::Value| {
        let mut out = format!(
            "threshold {:.4}",
            r["threshold"].as_f64().unwrap_or_default()
        );
        for c in r["candidates"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "\n  {:<30} {:.4}{}",
                c["subject"].as_str().unwrap_or_default(),
                c["score"].as_f64().unwrap_or_default(),
                if c["matched"] == true { "  MATCH" } else { "" }
            ));
        }
        out
    };
    if probe.all_faces {
        let value = json!({"faces": results});
        output::line(g.human, &value, || {
            results
                .iter()
                .enumerate()
                .map(|(i, r)| format!("face {} {}: {}", i + 1, r["face"]["box"], text(r)))
                .collect::<Vec<_>>()
                .join("\n")
        });
    } else if let Some(r) = results.first() {
        output::line(g.human, r, || text(r));
    }
    Ok(true)
}

pub fn subjects(g: &Global, cmd: &SubjectsCommand) -> Result<bool, Error> {
    match cmd {
        SubjectsCommand::List {
            store,
            offset,
            limit,
        } => {
            let engine = store.engine(g, Open::Existing)?;
            for s in engine.list_subjects(&store.collection, *offset, *limit)? {
                let v = serde_json::to_value(&s).unwrap_or_default();
                output::line(g.human, &v, || {
                    format!(
                        "{}  {} template(s){}",
                        s.external_id,
                        s.templates,
                        if s.disabled { "  (disabled)" } else { "" }
                    )
                });
            }
        }
        SubjectsCommand::Delete { store, subject } => {
            store.engine(g, Open::Existing)?.delete_subject(
                &store.collection,
                subject,
                store.actor.as_deref(),
            )?;
            output::line(g.human, &json!({"deleted": subject}), || {
                format!("deleted {subject}")
            });
        }
        SubjectsCommand::Export { store, subject } => {
            let x = store.engine(g, Open::Existing)?.export_subject(
                &store.collection,
                subject,
                store.actor.as_deref(),
            )?;
            let v = serde_json::to_value(&x).unwrap_or_default();
            output::line(g.human, &v, || {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            });
        }
        SubjectsCommand::Disable { store, subject }
        | SubjectsCommand::Enable { store, subject } => {
            let disable = matches!(cmd, SubjectsCommand::Disable { .. });
            store.engine(g, Open::Existing)?.set_subject_disabled(
                &store.collection,
                subject,
                disable,
                store.actor.as_deref(),
            )?;
            output::line(
                g.human,
                &json!({"subject": subject, "disabled": disable}),
                || format!("{subject} {}", if disable { "disabled" } else { "enabled" }),
            );
        }
    }
    Ok(true)
}

/// The store opened for a rotation from `old` to `new`: with the new key as current and the
/// old as previous (which also resumes an interrupted rotation), else with the old key.
fn for_rotation<S>(
    old: &MasterKey,
    new: &MasterKey,
    open: impl Fn(&MasterKey, Vec<MasterKey>) -> Result<S, Error>,
) -> Result<S, Error> {
    match open(new, vec![old.clone()]) {
        Err(e) if e.code() == faceprint::ErrorCode::WrongKey => open(old, Vec::new()),
        opened => opened,
    }
}

pub fn keys(g: &Global, cmd: &KeysCommand) -> Result<bool, Error> {
    match cmd {
        KeysCommand::Generate => {
            let k = MasterKey::generate();
            println!("{}", k.to_base64());
        }
        KeysCommand::Rotate {
            db,
            key_file,
            new_key_file,
        } => {
            let old = read_key(key_file.as_deref())?;
            let new = read_key(Some(new_key_file))?;
            let pb = ProgressBar::new(0);
            let progress = |done, total| {
                pb.set_length(total);
                pb.set_position(done);
            };
            let r = match postgres_url(db) {
                Some(url) => for_rotation(&old, &new, |k, p| open_postgres(url, k, p))?
                    .rotate_key(new, progress)?,
                None => for_rotation(&old, &new, |k, p| {
                    SqliteStore::builder(db, k.clone())
                        .previous_keys(p)
                        .create_if_missing(false)
                        .open()
                })?
                .rotate_key(new, progress)?,
            };
            pb.finish_and_clear();
            let v = serde_json::to_value(&r).unwrap_or_default();
            output::line(g.human, &v, || {
                format!(
                    "rotated to key {}: {} re-wrapped, {} already done",
                    r.new_key_id, r.rewrapped, r.already_done
                )
            });
        }
    }
    Ok(true)
}
