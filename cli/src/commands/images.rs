//! `detect` and `embed`: one output line per input image, in input order; a failing image gets
//! an error line (and a JSON error on stderr) and the others still run.

use crate::output;
use crate::Global;
use faceprint::{Engine, Error};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::path::PathBuf;

fn each_image(
    g: &Global,
    engine: &Engine,
    args: &[PathBuf],
    work: impl Fn(&Engine, &PathBuf) -> Result<(Value, String), Error> + Sync,
) -> Result<bool, Error> {
    let images = &crate::inputs::expand(args)?;
    // Drawn only on a terminal, and only for more than one image.
    let pb = if images.len() > 1 {
        output::progress(images.len(), "images")
    } else {
        indicatif::ProgressBar::hidden()
    };
    // Computed in parallel on the worker pool, printed here in input order as each is ready
    // (the printer must not be a pool thread: with one worker it would block the work).
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<(Value, String), Error>)>();
    let mut ok = true;
    std::thread::scope(|scope| -> Result<(), Error> {
        let producer = scope.spawn(|| {
            g.pool(|| {
                images
                    .par_iter()
                    .enumerate()
                    .for_each_with(tx, |tx, (i, p)| {
                        let _ = tx.send((i, work(engine, p)));
                    })
            })
        });
        let mut pending = std::collections::BTreeMap::new();
        let mut next = 0;
        for (i, r) in rx.iter() {
            pending.insert(i, r);
            while let Some(r) = pending.remove(&next) {
                let path = &images[next];
                pb.suspend(|| match r {
                    Ok((v, text)) => output::line(g.human, &v, || text),
                    Err(e) => {
                        ok = false;
                        output::error(Some(path), &e);
                        let v = output::error_json(Some(path), &e);
                        output::line(g.human, &v, || format!("{}: error: {e}", path.display()));
                    }
                });
                pb.inc(1);
                next += 1;
            }
        }
        producer
            .join()
            .map_err(|_| Error::Internal("worker pool panicked".into()))?
    })?;
    pb.finish_and_clear();
    Ok(ok)
}

pub fn detect(g: &Global, images: &[PathBuf]) -> Result<bool, Error> {
    each_image(g, &g.engine()?, images, |engine, path| {
        let img = engine.open(path)?;
        let faces = engine.detect(&img)?;
        let v = json!({
            "image": path.display().to_string(),
            "width": img.width(),
            "height": img.height(),
            "faces": faces.iter().map(output::face_json).collect::<Vec<_>>(),
        });
        let mut text = format!(
            "{}: {}x{}, {} face(s)",
            path.display(),
            img.width(),
            img.height(),
            faces.len()
        );
        for f in &faces {
            text.push_str("\n  ");
            text.push_str(&output::face_text(f));
        }
        Ok((v, text))
    })
}

pub fn document(g: &Global, visual_zone: bool, images: &[PathBuf]) -> Result<bool, Error> {
    let options = faceprint::document::DocumentOptions { visual_zone };
    each_image(g, &g.engine()?, images, |engine, path| {
        let img = engine.open(path)?;
        let d = engine.read_document_with(&img, &options)?;
        let mut v = d.to_json();
        v["image"] = json!(path.display().to_string());
        let mut text = format!("{}:", path.display());
        match d.verified_mrz() {
            Ok(m) => text.push_str(&format!(
                " {} {} {}, {} {}, born {}, expires {}; every check digit passes",
                m.format.as_str(),
                m.document_type,
                m.issuing_state,
                m.surname,
                m.given_names,
                m.birth_date.as_deref().unwrap_or("?"),
                m.expiry_date.as_deref().unwrap_or("?")
            )),
            Err(e) => text.push_str(&format!(" {} ({})", e, e.code())),
        }
        if let Some(p) = &d.portrait {
            text.push_str(&format!(
                "\n  portrait {} (turned {} degrees, quality {:.2})",
                output::face_text(&p.face),
                p.orientation_degrees,
                p.quality.score
            ));
        }
        if let Some(vz) = &d.visual_zone {
            for l in &vz.lines {
                text.push_str(&format!("\n  | {}", l.text));
            }
            for c in &vz.checks {
                let seen = if c.found { "printed" } else { "NOT FOUND" };
                text.push_str(&format!("\n  {} {}: {seen}", c.field, c.mrz));
            }
        }
        Ok((v, text))
    })
}

pub fn embed(g: &Global, images: &[PathBuf]) -> Result<bool, Error> {
    each_image(g, &g.engine()?, images, |engine, path| {
        let img = engine.open(path)?;
        let found = engine.extract(&img)?;
        let faces: Vec<Value> = found
            .iter()
            .map(|fe| {
                let mut v = output::face_json(&fe.face);
                v["embedding"] = json!(fe.embedding.vector());
                v
            })
            .collect();
        let v = json!({
            "image": path.display().to_string(),
            "width": img.width(),
            "height": img.height(),
            "model": engine.embedder_id(),
            "faces": faces,
        });
        let mut text = format!(
            "{}: {} face(s), model {}",
            path.display(),
            found.len(),
            engine.embedder_id()
        );
        for fe in &found {
            let head: Vec<String> = fe.embedding.vector()[..4]
                .iter()
                .map(|x| format!("{x:.3}"))
                .collect();
            text.push_str(&format!(
                "\n  {}  embedding [{} ...]",
                output::face_text(&fe.face),
                head.join(", ")
            ));
        }
        Ok((v, text))
    })
}

/// The profile named on the command line, with a TOML file's fields laid over it.
pub fn load_profile(
    name: &str,
    file: Option<&std::path::Path>,
    fast: bool,
) -> Result<faceprint::QualityProfile, Error> {
    let mut profile = faceprint::QualityProfile::named(name)?;
    if let Some(path) = file {
        // A profile is a few hundred bytes of TOML.
        let text = faceprint::files::read_text_limited(path, 1 << 20, "profile file")?;
        let mut base = toml::Value::try_from(&profile)
            .map_err(|e| Error::Internal(format!("profile to TOML: {e}")))?;
        let over: toml::Value = toml::from_str(&text).map_err(|e| {
            Error::InvalidArgument(format!("{}: not valid TOML: {e}", path.display()))
        })?;
        if let (Some(b), toml::Value::Table(o)) = (base.as_table_mut(), over) {
            for (k, v) in o {
                b.insert(k, v);
            }
        }
        profile = base.try_into().map_err(|e| {
            Error::InvalidArgument(format!("{}: not a quality profile: {e}", path.display()))
        })?;
    }
    if fast {
        profile.landmarks = false;
        profile.mask = false;
    }
    Ok(profile)
}

pub fn quality(
    g: &Global,
    images: &[PathBuf],
    profile: &str,
    profile_file: Option<&std::path::Path>,
    fast: bool,
) -> Result<bool, Error> {
    let profile = load_profile(profile, profile_file, fast)?;
    each_image(g, &g.engine()?, images, |engine, path| {
        let img = engine.open(path)?;
        let report = engine.quality(&img, &profile)?;
        let mut v = serde_json::to_value(&report)
            .map_err(|e| Error::Internal(format!("report to JSON: {e}")))?;
        v["image"] = json!(path.display().to_string());
        // The same face shape as `detect` prints.
        v["face"] = report.face.as_ref().map_or(Value::Null, output::face_json);
        v["advice"] = json!(report
            .reasons
            .iter()
            .map(|r| r.advice())
            .collect::<Vec<_>>());
        let text = format!(
            "{}: score {:.2}, {}{}",
            path.display(),
            report.score,
            if report.passed { "passed" } else { "failed" },
            report
                .reasons
                .iter()
                .map(|r| format!("\n  {r}: {}", r.advice()))
                .collect::<String>()
        );
        Ok((v, text))
    })
}

pub fn liveness(g: &Global, images: &[PathBuf], threshold: Option<f32>) -> Result<bool, Error> {
    let mut builder = g.engine_builder()?;
    if let Some(t) = threshold {
        builder = builder.liveness_threshold(t);
    }
    each_image(g, &builder.build()?, images, |engine, path| {
        let img = engine.open(path)?;
        let l = engine.liveness(&img)?;
        let v = json!({
            "image": path.display().to_string(),
            "live": l.live,
            "score": l.score,
            "threshold": l.threshold,
            "model_scores": l.model_scores,
            "face": output::face_json(&l.face),
        });
        let text = format!(
            "{}: {} (score {:.3}, threshold {:.2})",
            path.display(),
            if l.live { "live" } else { "spoof" },
            l.score,
            l.threshold
        );
        Ok((v, text))
    })
}
