//! Store commands: enroll, verify, identify, subjects, keys. The master key comes from
//! `--key-file FILE` or `FACEPRINT_KEY` (base64 of 32 bytes).

use crate::output;
use crate::{Global, ThresholdArgs};
use clap::{Args, Subcommand};
use faceprint::store::{MasterKey, SqliteStore};
use faceprint::{Engine, EnrollOptions, Error, FacePolicy};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the store is and how to open it.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// SQLite store file (created if missing)
    #[arg(long)]
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
}

fn read_key(file: Option<&Path>) -> Result<MasterKey, Error> {
    match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| Error::InvalidArgument(format!("{}: {e}", f.display())))?;
            MasterKey::from_base64(&text)
        }
        None => MasterKey::from_env(),
    }
}

impl StoreArgs {
    fn engine(&self, g: &Global) -> Result<Engine, Error> {
        let store = SqliteStore::open(&self.db, read_key(self.key_file.as_deref())?)?;
        g.engine_builder()?.store(Arc::new(store)).build()
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
    images: Vec<PathBuf>,
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
        /// Store file
        #[arg(long)]
        db: PathBuf,
        /// Current key file (default: $FACEPRINT_KEY)
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// New key file
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

/// Face → embedding for one enrollment photo, per the face policy.
fn enrollment_embedding(
    engine: &Engine,
    path: &Path,
    largest: bool,
) -> Result<faceprint::Embedding, Error> {
    let img = engine.open(path)?;
    let faces = engine.detect(&img)?;
    let face = match faces.len() {
        0 => return Err(Error::NoFace),
        1 => faces[0],
        n if !largest => return Err(Error::MultipleFaces(n)),
        _ => *faceprint::detect::largest(&faces).ok_or(Error::NoFace)?,
    };
    Ok(engine.embed(&img, &[face])?.remove(0))
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

pub fn enroll(g: &Global, a: &EnrollArgs) -> Result<bool, Error> {
    let engine = a.store.engine(g)?;
    // (subject, display name, images)
    let mut jobs: Vec<(String, Option<String>, Vec<PathBuf>)> = Vec::new();
    if let Some(dir) = &a.from_dir {
        let mut people: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::InvalidArgument(format!("{}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        people.sort();
        for p in people {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&p)
                .map_err(|e| Error::InvalidArgument(format!("{}: {e}", p.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file())
                .collect();
            files.sort();
            let id = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if !files.is_empty() {
                jobs.push((id, None, files));
            }
        }
    } else {
        if a.images.is_empty() {
            return Err(Error::InvalidArgument(
                "give IMAGE... or --from-dir DIR".into(),
            ));
        }
        jobs.push((
            a.subject.clone().unwrap_or_default(),
            a.name.clone(),
            a.images.clone(),
        ));
    }
    let total: usize = jobs.iter().map(|j| j.2.len()).sum();
    let pb = progress(total);
    let mut ok = true;
    let started = std::time::Instant::now();
    let mut enrolled_templates = 0usize;
    for (subject, name, files) in &jobs {
        // Faces in parallel; each bad photo is reported and skipped, the rest still count.
        let results: Vec<(PathBuf, Result<faceprint::Embedding, Error>)> = g.pool(|| {
            files
                .par_iter()
                .map(|f| {
                    let r = enrollment_embedding(&engine, f, a.largest_face);
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
                    sources.push(
                        f.file_name()
                            .map(|n| n.to_string_lossy().to_string())
                            .unwrap_or_default(),
                    );
                }
                Err(e) => {
                    ok = false;
                    pb.suspend(|| output::error(Some(&f), &e));
                }
            }
        }
        if embeddings.is_empty() {
            continue;
        }
        let opts = EnrollOptions {
            display_name: name.clone(),
            sources,
            actor: a.store.actor.clone(),
            face_policy: if a.largest_face {
                FacePolicy::Largest
            } else {
                FacePolicy::RequireOne
            },
            ..Default::default()
        };
        match engine.enroll_embeddings(&a.store.collection, subject, embeddings, &opts) {
            Ok(r) => {
                enrolled_templates += r.template_ids.len();
                // Printed only after the store committed: a line here means it is on disk.
                pb.suspend(|| {
                    output::line(g.human, &json!({"subject": subject, "templates": r.template_ids, "warnings": r.warnings}), || {
                        let mut s = format!("{subject}: {} template(s) enrolled", r.template_ids.len());
                        for w in &r.warnings {
                            s.push_str(&format!("; WARNING: matches {} ({:.3})", w.other_subject, w.score));
                        }
                        s
                    })
                });
            }
            Err(e) => {
                ok = false;
                pb.suspend(|| output::error(None, &e));
            }
        }
    }
    pb.finish_and_clear();
    if jobs.len() > 1 {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "{}",
            json!({"summary": {"subjects": jobs.len(), "templates": enrolled_templates, "seconds": secs,
                   "templates_per_second": enrolled_templates as f64 / secs.max(1e-9)}})
        );
    }
    Ok(ok)
}

pub fn verify(
    g: &Global,
    s: &StoreArgs,
    subject: &str,
    image: &Path,
    t: ThresholdArgs,
) -> Result<bool, Error> {
    let engine = s.engine(g)?;
    let img = engine.open(image)?;
    let v = engine.verify(&s.collection, subject, &img, t.get(), s.actor.as_deref())?;
    let value = json!({"subject": v.subject, "matched": v.matched, "score": v.score, "threshold": v.threshold,
                       "fmr": v.fmr, "template_id": v.template_id, "face": output::face_json(&v.face)});
    output::line(g.human, &value, || {
        format!(
            "{}: {} (score {:.4}, threshold {:.4})",
            v.subject,
            if v.matched { "MATCH" } else { "NO MATCH" },
            v.score,
            v.threshold
        )
    });
    Ok(true)
}

pub fn identify(
    g: &Global,
    s: &StoreArgs,
    image: &Path,
    top: usize,
    t: ThresholdArgs,
) -> Result<bool, Error> {
    let engine = s.engine(g)?;
    let img = engine.open(image)?;
    let id = engine.identify(&s.collection, &img, top, t.get(), s.actor.as_deref())?;
    let value = json!({"threshold": id.threshold, "fmr": id.fmr, "face": output::face_json(&id.face), "candidates": id.candidates});
    output::line(g.human, &value, || {
        let mut out = format!("threshold {:.4}", id.threshold);
        for c in &id.candidates {
            out.push_str(&format!(
                "\n  {:<30} {:.4}{}",
                c.subject,
                c.score,
                if c.matched { "  MATCH" } else { "" }
            ));
        }
        out
    });
    Ok(true)
}

pub fn subjects(g: &Global, cmd: &SubjectsCommand) -> Result<bool, Error> {
    match cmd {
        SubjectsCommand::List {
            store,
            offset,
            limit,
        } => {
            let engine = store.engine(g)?;
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
            store
                .engine(g)?
                .delete_subject(&store.collection, subject, store.actor.as_deref())?;
            output::line(g.human, &json!({"deleted": subject}), || {
                format!("deleted {subject}")
            });
        }
        SubjectsCommand::Export { store, subject } => {
            let x = store.engine(g)?.export_subject(
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
            store.engine(g)?.set_subject_disabled(
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
            // Opening with the new key as current and the old as previous also resumes an
            // interrupted rotation.
            let mut store =
                match SqliteStore::open_with_previous_keys(db, new.clone(), vec![old.clone()]) {
                    Ok(s) => s,
                    Err(e) if e.code() == faceprint::ErrorCode::WrongKey => {
                        SqliteStore::open(db, old)?
                    }
                    Err(e) => return Err(e),
                };
            let pb = ProgressBar::new(0);
            let r = store.rotate_key(new, |done, total| {
                pb.set_length(total);
                pb.set_position(done);
            })?;
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
