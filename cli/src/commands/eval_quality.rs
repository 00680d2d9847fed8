//! `faceprint eval quality`: does the quality score mean something?
//! 1. Synthetic degradation of LFW faces (Gaussian blur, less light, fewer pixels) must lower
//!    the score monotonically and push it under 0.5 at the severities.
//! 2. Verification accuracy of the official pairs whose worse face is in the lowest quality
//!    decile, next to the rest.

use super::eval::{best_threshold, nearest_centre, read_pairs};
use crate::output::progress;
use crate::Global;
use faceprint::{Engine, Error, Face, Image, QualityProfile};
use rayon::prelude::*;
use serde_json::json;
use std::path::Path;

/// Severities per degradation, mildest first; the last is the bar.
const BLUR_SIGMAS: [f32; 4] = [1.0, 2.0, 3.0, 4.0];
const BRIGHTNESS: [f32; 4] = [0.75, 0.5, 0.35, 0.25];
const EYE_DISTANCES: [f32; 4] = [24.0, 18.0, 15.0, 12.0];
/// Scores may wobble this much between severities without counting as non-monotonic
/// (re-detection moves the landmarks by a pixel or so).
const MONOTONE_SLACK: f32 = 0.02;
const PASS: f32 = 0.5;

/// LFW's subject: the face nearest the centre (no low-threshold retry: a degradation that
/// loses the face scores 0).
fn subject(engine: &Engine, img: &Image) -> Result<Option<Face>, Error> {
    Ok(nearest_centre(img, engine.detect(img)?))
}

/// Quality score of the subject, 0 when no face is found any more.
fn score(engine: &Engine, img: &Image, profile: &QualityProfile) -> Result<f32, Error> {
    match subject(engine, img)? {
        Some(f) => Ok(engine.face_quality(img, &f, 1, profile)?.score),
        None => Ok(0.0),
    }
}

fn to_rgb(img: &Image) -> image::RgbImage {
    image::RgbImage::from_raw(img.width(), img.height(), img.as_rgb().to_vec())
        .expect("an Image is always a whole RGB buffer")
}

fn from_rgb(img: image::RgbImage) -> Result<Image, Error> {
    let (w, h) = img.dimensions();
    Image::from_rgb(w, h, img.into_raw())
}

fn blurred(img: &Image, sigma: f32) -> Result<Image, Error> {
    from_rgb(image::imageops::blur(&to_rgb(img), sigma))
}

fn darkened(img: &Image, factor: f32) -> Result<Image, Error> {
    let px = img
        .as_rgb()
        .iter()
        .map(|&v| (v as f32 * factor).round() as u8)
        .collect();
    Image::from_rgb(img.width(), img.height(), px)
}

fn downscaled(img: &Image, factor: f32) -> Result<Image, Error> {
    let w = ((img.width() as f32 * factor).round() as u32).max(1);
    let h = ((img.height() as f32 * factor).round() as u32).max(1);
    from_rgb(image::imageops::resize(
        &to_rgb(img),
        w,
        h,
        image::imageops::FilterType::Triangle,
    ))
}

struct Degraded {
    clean: f32,
    /// [blur, dark, small] x severities
    series: [[f32; 4]; 3],
}

fn degrade(
    engine: &Engine,
    path: &Path,
    profile: &QualityProfile,
) -> Result<Option<Degraded>, Error> {
    let img = engine.open(path)?;
    let Some(face) = subject(engine, &img)? else {
        return Ok(None);
    };
    let clean = engine.face_quality(&img, &face, 1, profile)?.score;
    let ied = face.inter_eye_distance();
    let mut series = [[0f32; 4]; 3];
    for i in 0..4 {
        series[0][i] = score(engine, &blurred(&img, BLUR_SIGMAS[i])?, profile)?;
        series[1][i] = score(engine, &darkened(&img, BRIGHTNESS[i])?, profile)?;
        let factor = (EYE_DISTANCES[i] / ied).min(1.0);
        series[2][i] = score(engine, &downscaled(&img, factor)?, profile)?;
    }
    Ok(Some(Degraded { clean, series }))
}

pub fn run(
    g: &Global,
    images: &Path,
    pairs: &Path,
    sample: usize,
    fast: bool,
) -> Result<bool, Error> {
    let mut profile = QualityProfile::enrollment();
    if fast {
        profile.landmarks = false;
        profile.mask = false;
    }
    let (paths, pairs) = read_pairs(images, pairs, 10)?;
    let engine = g.engine()?;
    let started = std::time::Instant::now();

    // 1. Every pair image: quality of the clean face and its embedding.
    let pb = progress(paths.len(), "quality + embedding");
    let clean: Vec<Option<(f32, faceprint::Embedding)>> = g.pool(|| {
        paths
            .par_iter()
            .map(|p| {
                let r = (|| {
                    let img = engine.open(p)?;
                    let Some(f) = subject(&engine, &img)? else {
                        return Ok(None);
                    };
                    let q = engine.face_quality(&img, &f, 1, &profile)?.score;
                    let e = engine.embed(&img, &[f])?.remove(0);
                    Ok(Some((q, e)))
                })();
                pb.inc(1);
                r.map_err(|e: Error| Error::InvalidArgument(format!("{}: {e}", p.display())))
            })
            .collect::<Result<Vec<_>, Error>>()
    })??;
    pb.finish_and_clear();

    // 2. Degradation series on an evenly spread sample.
    let step = (paths.len() / sample.max(1)).max(1);
    let chosen: Vec<&std::path::PathBuf> = paths.iter().step_by(step).take(sample).collect();
    let pb = progress(chosen.len(), "degrading");
    let series: Vec<Degraded> = g
        .pool(|| {
            chosen
                .par_iter()
                .map(|p| {
                    let r = degrade(&engine, p, &profile);
                    pb.inc(1);
                    r
                })
                .collect::<Result<Vec<_>, Error>>()
        })??
        .into_iter()
        .flatten()
        .collect();
    pb.finish_and_clear();

    let n = series.len().max(1) as f64;
    let rate = |f: &dyn Fn(&Degraded) -> bool| series.iter().filter(|d| f(d)).count() as f64 / n;
    let names = ["blur_sigma", "brightness", "inter_eye_px"];
    let levels: [Vec<f32>; 3] = [
        BLUR_SIGMAS.to_vec(),
        BRIGHTNESS.to_vec(),
        EYE_DISTANCES.to_vec(),
    ];
    let mut kinds = Vec::new();
    for k in 0..3 {
        let mut per_level = Vec::new();
        for (i, level) in levels[k].iter().enumerate() {
            let mut scores: Vec<f32> = series.iter().map(|d| d.series[k][i]).collect();
            scores.sort_by(f32::total_cmp);
            per_level.push(json!({
                "level": level,
                "median_score": scores.get(scores.len() / 2),
                "fail_rate": rate(&|d: &Degraded| d.series[k][i] < PASS),
            }));
        }
        let monotone = rate(&|d: &Degraded| {
            let mut prev = d.clean;
            d.series[k].iter().all(|&s| {
                let ok = s <= prev + MONOTONE_SLACK;
                prev = prev.min(s);
                ok
            })
        });
        kinds.push(json!({
            "degradation": names[k],
            "levels": per_level,
            "monotonic_fraction": monotone,
        }));
    }

    // 3. Pair accuracy by the worse face's quality.
    let scored: Vec<(f32, f32, bool)> = pairs
        .iter()
        .filter_map(|p| {
            let (qa, ea) = clean[p.a].as_ref()?;
            let (qb, eb) = clean[p.b].as_ref()?;
            Some((qa.min(*qb), ea.similarity(eb).ok()?, p.same))
        })
        .collect();
    let mut qs: Vec<f32> = scored.iter().map(|s| s.0).collect();
    qs.sort_by(f32::total_cmp);
    let decile = qs.get(qs.len() / 10).copied().unwrap_or(0.0);
    let all: Vec<(f32, bool)> = scored.iter().map(|s| (s.1, s.2)).collect();
    let (t, overall) = best_threshold(&all);
    let accuracy = |sel: &dyn Fn(f32) -> bool| {
        let group: Vec<&(f32, f32, bool)> = scored.iter().filter(|s| sel(s.0)).collect();
        let ok = group.iter().filter(|s| (s.1 >= t) == s.2).count();
        (group.len(), ok as f64 / group.len().max(1) as f64)
    };
    let (n_low, acc_low) = accuracy(&|q| q <= decile);
    let (n_rest, acc_rest) = accuracy(&|q| q > decile);
    let clean_scores: Vec<f32> = clean.iter().flatten().map(|c| c.0).collect();
    let clean_pass = clean_scores.iter().filter(|&&s| s >= PASS).count() as f64
        / clean_scores.len().max(1) as f64;

    let out = json!({
        "profile": if fast { "fast (no FaceMesh/Iris/mask)" } else { "full" },
        "images": paths.len(),
        "faces": clean_scores.len(),
        "clean_pass_rate": clean_pass,
        "pass_threshold": PASS,
        "degradation_sample": series.len(),
        "sample_clean_pass_rate": rate(&|d: &Degraded| d.clean >= PASS),
        "degradations": kinds,
        "pairs": {
            "threshold": t,
            "accuracy_all": overall,
            "lowest_decile": { "max_quality": decile, "pairs": n_low, "accuracy": acc_low },
            "rest": { "pairs": n_rest, "accuracy": acc_rest },
        },
        "seconds": started.elapsed().as_secs_f64(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).map_err(|e| Error::Internal(e.to_string()))?
    );
    Ok(true)
}
