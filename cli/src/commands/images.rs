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
    images: &[PathBuf],
    work: impl Fn(&Engine, &PathBuf) -> Result<(Value, String), Error> + Sync,
) -> Result<bool, Error> {
    let engine = g.engine()?;
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
                        let _ = tx.send((i, work(&engine, p)));
                    })
            })
        });
        let mut pending = std::collections::BTreeMap::new();
        let mut next = 0;
        for (i, r) in rx.iter() {
            pending.insert(i, r);
            while let Some(r) = pending.remove(&next) {
                let path = &images[next];
                match r {
                    Ok((v, text)) => output::line(g.human, &v, || text),
                    Err(e) => {
                        ok = false;
                        output::error(Some(path), &e);
                        let v = output::error_json(Some(path), &e);
                        output::line(g.human, &v, || format!("{}: error: {e}", path.display()));
                    }
                }
                next += 1;
            }
        }
        producer
            .join()
            .map_err(|_| Error::Internal("worker pool panicked".into()))?
    })?;
    Ok(ok)
}

pub fn detect(g: &Global, images: &[PathBuf]) -> Result<bool, Error> {
    each_image(g, images, |engine, path| {
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

pub fn embed(g: &Global, images: &[PathBuf]) -> Result<bool, Error> {
    each_image(g, images, |engine, path| {
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
