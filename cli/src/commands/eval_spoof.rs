//! `faceprint eval spoof`: passive-liveness error rates in the ISO/IEC 30107-3 style —
//! APCER per attack type (attacks wrongly accepted as live), BPCER (live faces wrongly
//! rejected), at the chosen threshold and over a sweep of thresholds.

use crate::output::progress;
use crate::Global;
use faceprint::{Engine, Error};
use rayon::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const IMAGE_EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "png", "webp", "bmp", "gif"];

/// The entries of one directory.
fn list(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()).map_err(io))
        .collect()
}

/// Image files under `dir` with the name of their subdirectory (if any).
fn images(dir: &Path) -> Result<Vec<(PathBuf, Option<String>)>, Error> {
    let mut out = Vec::new();
    for p in list(dir)? {
        if p.is_dir() {
            let sub = p.file_name().map(|n| n.to_string_lossy().to_string());
            for q in list(&p)? {
                if is_image(&q) {
                    out.push((q, sub.clone()));
                }
            }
        } else if is_image(&p) {
            out.push((p, None));
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: no images ({})",
            dir.display(),
            IMAGE_EXTENSIONS.join(", ")
        )));
    }
    Ok(out)
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The attack type: its subdirectory, else a keyword in the file name, else the default.
fn attack_type(path: &Path, sub: Option<&str>, default: &str) -> String {
    if let Some(s) = sub {
        return s.to_string();
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    for (key, kind) in [
        ("replay", "replay"),
        ("screen", "replay"),
        ("print", "print"),
        ("mask", "mask"),
    ] {
        if name.contains(key) {
            return kind.to_string();
        }
    }
    default.to_string()
}

/// Live score of each image; `None` when no face is found.
fn scores(
    g: &Global,
    engine: &Engine,
    paths: &[PathBuf],
    what: &str,
) -> Result<Vec<Option<f32>>, Error> {
    let pb = progress(paths.len(), what);
    let out = g.pool(|| {
        paths
            .par_iter()
            .map(|p| {
                let r = engine.open(p).and_then(|img| engine.liveness(&img));
                pb.inc(1);
                match r {
                    Ok(l) => Ok(Some(l.score)),
                    Err(e) if e.code() == faceprint::ErrorCode::NoFace => Ok(None),
                    Err(e) => Err(Error::InvalidArgument(format!("{}: {e}", p.display()))),
                }
            })
            .collect::<Result<Vec<_>, Error>>()
    })?;
    pb.finish_and_clear();
    out
}

pub fn run(
    g: &Global,
    live_dirs: &[PathBuf],
    attack_dirs: &[PathBuf],
    default_type: &str,
    threshold: Option<f32>,
) -> Result<bool, Error> {
    let mut builder = g.engine_builder()?;
    if let Some(t) = threshold {
        builder = builder.liveness_threshold(t);
    }
    let engine = builder.build()?;
    let t = engine.config().liveness_threshold;
    let mut live = Vec::new();
    for d in live_dirs {
        live.extend(images(d)?.into_iter().map(|(p, _)| p));
    }
    let mut attacks = Vec::new();
    for d in attack_dirs {
        for (p, sub) in images(d)? {
            let kind = attack_type(&p, sub.as_deref(), default_type);
            attacks.push((p, kind));
        }
    }
    let live_scores = scores(g, &engine, &live, "live")?;
    let attack_paths: Vec<PathBuf> = attacks.iter().map(|a| a.0.clone()).collect();
    let attack_scores = scores(g, &engine, &attack_paths, "attacks")?;

    // A live image without a face is a rejected bona fide presentation; an attack without one
    // is not accepted. Both are counted and reported.
    let bpcer = |t: f32| {
        live_scores
            .iter()
            .filter(|s| s.map_or(true, |s| s < t))
            .count() as f64
            / live_scores.len().max(1) as f64
    };
    let mut by_type: BTreeMap<&str, Vec<Option<f32>>> = BTreeMap::new();
    for ((_, kind), s) in attacks.iter().zip(&attack_scores) {
        by_type.entry(kind.as_str()).or_default().push(*s);
    }
    let apcer = |scores: &[Option<f32>], t: f32| {
        scores.iter().filter(|s| s.is_some_and(|s| s >= t)).count() as f64
            / scores.len().max(1) as f64
    };
    let row = |t: f32| {
        let per_type: BTreeMap<&str, f64> =
            by_type.iter().map(|(k, v)| (*k, apcer(v, t))).collect();
        let max = per_type.values().copied().fold(0.0, f64::max);
        json!({
            "threshold": t,
            "apcer": per_type,
            "apcer_max": max,
            "bpcer": bpcer(t),
            "acer": (max + bpcer(t)) / 2.0,
        })
    };
    let sweep: Vec<_> = (1..20).map(|i| row(i as f32 * 0.05)).collect();
    let worst_attack = attacks
        .iter()
        .zip(&attack_scores)
        .filter_map(|((p, k), s)| s.map(|s| (s, p, k)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let weakest_live = live
        .iter()
        .zip(&live_scores)
        .map(|(p, s)| (s.unwrap_or(0.0), p))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let out = json!({
        "models": ["minifasnet-v2-2.7", "minifasnet-v1se-4.0"],
        "live_images": live.len(),
        "live_without_face": live_scores.iter().filter(|s| s.is_none()).count(),
        "attack_images": by_type.iter().map(|(k, v)| (k.to_string(), v.len())).collect::<BTreeMap<_, _>>(),
        "attacks_without_face": attack_scores.iter().filter(|s| s.is_none()).count(),
        "at_threshold": row(t),
        "highest_attack": worst_attack.map(|(s, p, k)| json!({"score": s, "type": k, "image": p.display().to_string()})),
        "lowest_live": weakest_live.map(|(s, p)| json!({"score": s, "image": p.display().to_string()})),
        "sweep": sweep,
    });
    if g.human {
        println!("threshold {t:.2}: BPCER {:.1} %", 100.0 * bpcer(t));
        for (k, v) in &by_type {
            println!("  APCER {k}: {:.1} % of {}", 100.0 * apcer(v, t), v.len());
        }
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| Error::Internal(e.to_string()))?
        );
    }
    Ok(true)
}
