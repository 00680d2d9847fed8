use crate::output;
use crate::Global;
use faceprint::{Error, FaceEmbedding, Threshold};
use serde_json::json;
use std::path::Path;

/// Compares the largest face of each image.
pub fn run(g: &Global, a: &Path, b: &Path, threshold: Option<Threshold>) -> Result<bool, Error> {
    let engine = g.engine()?;
    let side = |p: &Path| -> Result<(FaceEmbedding, usize), Error> {
        let img = engine.open(p)?;
        let faces = engine.detect(&img)?;
        let largest = *faceprint::detect::largest(&faces).ok_or(Error::NoFace)?;
        let embedding = engine.embed(&img, &[largest])?.remove(0);
        Ok((
            FaceEmbedding {
                face: largest,
                embedding,
            },
            faces.len(),
        ))
    };
    let mut sides = Vec::with_capacity(2);
    for p in [a, b] {
        match side(p) {
            Ok(s) => sides.push(s),
            Err(e) => {
                // The error names the image it is about.
                output::error(Some(p), &e);
                return Ok(false);
            }
        }
    }
    let (fa, na) = &sides[0];
    let (fb, nb) = &sides[1];
    let c = engine.compare(&fa.embedding, &fb.embedding, threshold)?;
    let v = json!({
        "score": (c.score as f64 * 1e6).round() / 1e6,
        "same": c.same,
        "threshold": (c.threshold as f64 * 1e6).round() / 1e6,
        "fmr": c.fmr,
        "model": engine.embedder_id(),
        "a": { "image": a.display().to_string(), "faces": na, "face": output::face_json(&fa.face) },
        "b": { "image": b.display().to_string(), "faces": nb, "face": output::face_json(&fb.face) },
    });
    output::line(g.human, &v, || {
        format!(
            "{}: similarity {:.4}, threshold {:.4}{}",
            if c.same {
                "SAME person"
            } else {
                "DIFFERENT people"
            },
            c.score,
            c.threshold,
            c.fmr.map(|f| format!(" (FMR {f:.0e})")).unwrap_or_default()
        )
    });
    Ok(true)
}
