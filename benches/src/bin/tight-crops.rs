//! Tight crops: every face of a set of photos cropped to its detector box (no margin) and
//! grey-scaled, then found again and matched with the uncropped original at the default
//! threshold. Compares the detection retries (padding margins) and the no-detection crop path,
//! and prints the mean landmark positions inside YuNet's box (the crop path's template).
//!
//!     cargo run --release -p faceprint-bench --bin tight-crops -- DIR [MAX_IMAGES]
//!
//! DIR is searched recursively for .jpg/.jpeg/.png (e.g. ../shared/data/dev/faces, or
//! ../shared/data/lfw/images with MAX_IMAGES 1000).

use faceprint::{DetectionOptions, Engine};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

fn images_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            images_under(&p, out)?;
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| matches!(x.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
        {
            out.push(p);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).ok_or("usage: tight-crops DIR [MAX_IMAGES]")?;
    let max: usize = args.get(2).map_or(Ok(usize::MAX), |m| m.parse())?;
    let mut paths = Vec::new();
    images_under(Path::new(dir), &mut paths)?;
    if paths.len() > max {
        // An even spread over the folders, not the first few people.
        let step = paths.len() / max;
        paths = paths.into_iter().step_by(step.max(1)).take(max).collect();
    }
    let engine = Engine::builder().build()?;
    let threshold = engine.resolve_threshold(engine.config().threshold)?.0;
    let margins = [
        (0.0f32, 0.9f32),
        (0.1, 0.9),
        (0.25, 0.9),
        (0.5, 0.9),
        (1.0, 0.9),
        (0.1, 0.8),
        (0.25, 0.8),
        (0.5, 0.8),
        (0.25, 0.7),
        (0.5, 0.7),
    ];
    // Per face: found / matched for each margin, found/matched by the crop path, relative
    // landmarks.
    type Row = (Vec<(bool, bool)>, bool, Vec<[f32; 2]>);
    let rows: Vec<Row> = paths
        .par_iter()
        .flat_map_iter(|p| {
            let mut out = Vec::new();
            let Ok(img) = engine.open(p) else {
                return out;
            };
            let Ok(faces) = engine.extract(&img) else {
                return out;
            };
            for original in faces {
                let f = original.face;
                let crop = img.cropped(&f.bbox).to_grey();
                let mut per_margin = Vec::new();
                for &(m, min_score) in &margins {
                    let options = DetectionOptions {
                        crop_retry_margin: m,
                        crop_retry_min_score: min_score,
                        ..engine.config().detection
                    };
                    let found = engine.detect_with(&crop, &options).unwrap_or_default();
                    let best = faceprint::detect::largest(&found).copied();
                    let matched = best.is_some_and(|b| {
                        engine
                            .embed(&crop, &[b])
                            .ok()
                            .and_then(|e| engine.similarity(&e[0], &original.embedding).ok())
                            .is_some_and(|s| s >= threshold)
                    });
                    per_margin.push((best.is_some(), matched));
                }
                let by_crop = engine
                    .embed_face_crop(&crop)
                    .ok()
                    .and_then(|e| engine.similarity(&e.embedding, &original.embedding).ok())
                    .is_some_and(|s| s >= threshold);
                let (bw, bh) = (f.bbox.width(), f.bbox.height());
                let rel = f
                    .landmarks
                    .iter()
                    .map(|[x, y]| [(x - f.bbox.x1) / bw, (y - f.bbox.y1) / bh])
                    .collect();
                if std::env::var_os("TIGHT_CROPS_VERBOSE").is_some() && !per_margin[6].1 {
                    let low = DetectionOptions {
                        score_threshold: 0.3,
                        ..engine.config().detection
                    };
                    let best = engine
                        .detect_with(&crop, &low)
                        .unwrap_or_default()
                        .first()
                        .map(|f| f.score);
                    eprintln!(
                        "missed: {} face {}x{} (best score at 0.3: {best:?})",
                        p.display(),
                        crop.width(),
                        crop.height()
                    );
                }
                out.push((per_margin, by_crop, rel));
            }
            out
        })
        .collect();
    let n = rows.len().max(1) as f64;
    println!(
        "{} faces from {} images under {dir}; default threshold {threshold:.4} ({:?})",
        rows.len(),
        paths.len(),
        engine.config().threshold
    );
    println!(
        "| retry margin per side | retry score threshold | face found | matches the original |"
    );
    println!("|---|---|---|---|");
    for (k, (m, min_score)) in margins.iter().enumerate() {
        let found = rows.iter().filter(|r| r.0[k].0).count() as f64;
        let matched = rows.iter().filter(|r| r.0[k].1).count() as f64;
        println!(
            "| {} | {} | {:.1} % | {:.1} % |",
            if *m == 0.0 {
                "no retry".to_string()
            } else {
                format!("{m}")
            },
            if *m == 0.0 {
                "-".to_string()
            } else {
                format!("{min_score}")
            },
            found / n * 100.0,
            matched / n * 100.0
        );
    }
    let by_crop = rows.iter().filter(|r| r.1).count() as f64;
    println!(
        "| embed_face_crop (no detection) | - | - | {:.1} % |",
        by_crop / n * 100.0
    );
    let mut mean = [[0f64; 2]; 5];
    for r in &rows {
        for (m, p) in mean.iter_mut().zip(&r.2) {
            m[0] += p[0] as f64 / n;
            m[1] += p[1] as f64 / n;
        }
    }
    println!(
        "mean landmarks in the box (x, y as fractions of its width, height): {}",
        mean.iter()
            .map(|p| format!("[{:.4}, {:.4}]", p[0], p[1]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
