//! `eval lfw` (the standard 10-fold verification protocol) and `eval calibrate` (false-match
//! rate → threshold table from all cross-identity pairs of a labelled set).

use crate::output;
use crate::output::progress;
use crate::Global;
use clap::Subcommand;
use faceprint::models::{Calibration, CalibrationPoint};
use faceprint::{Embedding, Engine, Error, Face};
use rayon::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum EvalCommand {
    /// LFW verification accuracy over the official pairs (10-fold cross-validated threshold)
    Lfw {
        /// LFW image root (NAME/NAME_0001.jpg)
        #[arg(long)]
        images: PathBuf,
        /// pairs.txt (View 2)
        #[arg(long)]
        pairs: PathBuf,
        /// Number of folds to use (1..=10)
        #[arg(long, default_value_t = 10)]
        folds: usize,
        /// Embedding cache file (reused when it matches the models and settings)
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// 1:N accuracy: gallery = each person's first image, probes = the rest (rank-1, and
    /// false-negative / false-positive identification rates at a calibrated threshold)
    Identify {
        /// Image root with one folder per identity (e.g. LFW)
        #[arg(long)]
        images: PathBuf,
        /// Embedding cache file
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Decision threshold as a false-match rate
        #[arg(long, default_value_t = 1e-4)]
        fmr: f64,
    },
    /// Quality score checks on LFW: synthetic blur / darkening / down-scaling, and pair
    /// accuracy of the lowest quality decile against the rest
    Quality {
        /// LFW image root (NAME/NAME_0001.jpg)
        #[arg(long)]
        images: PathBuf,
        /// pairs.txt (View 2)
        #[arg(long)]
        pairs: PathBuf,
        /// Images to degrade (spread evenly over the pairs' images)
        #[arg(long, default_value_t = 500)]
        sample: usize,
        /// Without the optional models (FaceMesh, Iris, mask)
        #[arg(long)]
        fast: bool,
    },
    /// Passive-liveness error rates (ISO/IEC 30107-3 style): APCER per attack type, BPCER
    Spoof {
        /// Directory of live (bona fide) face images; may be repeated
        #[arg(long, required = true)]
        live: Vec<PathBuf>,
        /// Directory of attack images; may be repeated. The attack type is the subdirectory
        /// name, else a word in the file name (print, replay, screen, mask), else
        /// --default-attack-type
        #[arg(long, required = true)]
        attack: Vec<PathBuf>,
        #[arg(long, default_value = "unlabelled")]
        default_attack_type: String,
        /// Decision threshold (default: the engine's, 0.6)
        #[arg(long)]
        threshold: Option<f32>,
    },
    /// Compute the FMR → threshold table from every genuine and impostor pair of a labelled set
    Calibrate {
        /// Image root with one folder per identity (e.g. LFW)
        #[arg(long)]
        images: PathBuf,
        /// Embedding cache file
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Print the table as a manifest TOML block instead of JSON
        #[arg(long)]
        toml: bool,
    },
}

pub fn run(g: &Global, cmd: &EvalCommand) -> Result<bool, Error> {
    match cmd {
        EvalCommand::Lfw {
            images,
            pairs,
            folds,
            cache,
        } => lfw(g, images, pairs, *folds, cache.as_deref()),
        EvalCommand::Calibrate {
            images,
            cache,
            toml,
        } => calibrate(g, images, cache.as_deref(), *toml),
        EvalCommand::Identify { images, cache, fmr } => identify(g, images, cache.as_deref(), *fmr),
        EvalCommand::Spoof {
            live,
            attack,
            default_attack_type,
            threshold,
        } => super::eval_spoof::run(g, live, attack, default_attack_type, *threshold),
        EvalCommand::Quality {
            images,
            pairs,
            sample,
            fast,
        } => super::eval_quality::run(g, images, pairs, *sample, *fast),
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::InvalidArgument(format!("{}: {e}", path.display()))
}

/// The face nearest the image centre: the subject, in LFW's crops.
pub(crate) fn nearest_centre(img: &faceprint::Image, faces: Vec<Face>) -> Option<Face> {
    let centre = [img.width() as f32 / 2.0, img.height() as f32 / 2.0];
    let d = |f: &Face| {
        let cx = (f.bbox.x1 + f.bbox.x2) / 2.0 - centre[0];
        let cy = (f.bbox.y1 + f.bbox.y2) / 2.0 - centre[1];
        cx * cx + cy * cy
    };
    faces.into_iter().min_by(|a, b| d(a).total_cmp(&d(b)))
}

/// One labelled-set image: the subject's embedding, retrying with a lower detector threshold
/// before giving up.
fn subject_embedding(engine: &Engine, path: &Path) -> Result<Option<Embedding>, Error> {
    let img = engine.open(path)?;
    let mut face = nearest_centre(&img, engine.detect(&img)?);
    if face.is_none() {
        let mut low = engine.config().detection;
        low.score_threshold = 0.3;
        face = nearest_centre(&img, engine.detect_with(&img, &low)?);
    }
    match face {
        Some(f) => Ok(Some(engine.embed(&img, &[f])?.remove(0))),
        None => Ok(None),
    }
}

/// Embeds `paths` in parallel (with an optional on-disk cache); `None` where no face was found.
fn embed_all(
    g: &Global,
    engine: &Engine,
    paths: &[PathBuf],
    cache: Option<&Path>,
) -> Result<Vec<Option<Embedding>>, Error> {
    let key = json!({
        "detector": engine.detector_id(),
        "embedder": engine.embedder_id(),
        "flip": engine.config().flip_augmentation,
        "detection": engine.config().detection,
    })
    .to_string();
    let mut known: HashMap<String, Option<Embedding>> = HashMap::new();
    if let Some(c) = cache.filter(|c| c.is_file()) {
        let f = std::fs::File::open(c).map_err(io(c))?;
        let mut lines = std::io::BufReader::new(f).lines();
        if lines.next().transpose().map_err(io(c))?.as_deref() == Some(key.as_str()) {
            for l in lines {
                let l = l.map_err(io(c))?;
                if let Ok((p, e)) = serde_json::from_str::<(String, Option<Embedding>)>(&l) {
                    known.insert(p, e);
                }
            }
        }
    }
    let todo: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| !known.contains_key(&p.display().to_string()))
        .collect();
    let pb = progress(todo.len(), "embedding");
    let fresh: Vec<(String, Option<Embedding>)> = g
        .pool(|| {
            todo.par_iter()
                .map(|p| {
                    let r = subject_embedding(engine, p);
                    pb.inc(1);
                    r.map(|e| (p.display().to_string(), e)).map_err(|e| (p, e))
                })
                .collect::<Result<Vec<_>, _>>()
        })?
        .map_err(|(p, e)| {
            output::error(Some(p), &e);
            e
        })?;
    pb.finish_and_clear();
    if let Some(c) = cache {
        if !fresh.is_empty() {
            let tmp = c.with_extension("part");
            let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io(&tmp))?);
            writeln!(w, "{key}").map_err(io(&tmp))?;
            for (p, e) in known.iter().chain(fresh.iter().map(|(p, e)| (p, e))) {
                writeln!(w, "{}", json!([p, e])).map_err(io(&tmp))?;
            }
            w.flush().map_err(io(&tmp))?;
            drop(w);
            std::fs::rename(&tmp, c).map_err(io(c))?;
        }
    }
    known.extend(fresh);
    Ok(paths
        .iter()
        .map(|p| known.get(&p.display().to_string()).cloned().flatten())
        .collect())
}

pub(crate) struct Pair {
    pub a: usize,
    pub b: usize,
    pub same: bool,
    pub fold: usize,
}

fn lfw_path(root: &Path, name: &str, n: &str) -> Result<PathBuf, Error> {
    let n: u32 = n
        .parse()
        .map_err(|_| Error::InvalidArgument(format!("pairs: bad image number {n:?}")))?;
    Ok(root.join(name).join(format!("{name}_{n:04}.jpg")))
}

pub(crate) fn read_pairs(
    images: &Path,
    pairs: &Path,
    folds: usize,
) -> Result<(Vec<PathBuf>, Vec<Pair>), Error> {
    let text = std::fs::read_to_string(pairs).map_err(io(pairs))?;
    let mut lines = text.lines();
    let head: Vec<usize> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    let [n_folds, per] = head[..] else {
        return Err(Error::InvalidArgument(format!(
            "{}: first line must be 'FOLDS PAIRS'",
            pairs.display()
        )));
    };
    if folds == 0 || folds > n_folds {
        return Err(Error::InvalidArgument(format!(
            "--folds must be in 1..={n_folds}"
        )));
    }
    let mut index: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut paths = Vec::new();
    let mut id = |p: PathBuf| {
        *index.entry(p.clone()).or_insert_with(|| {
            paths.push(p);
            paths.len() - 1
        })
    };
    let mut out = Vec::new();
    for fold in 0..folds {
        for k in 0..2 * per {
            let line = lines.next().ok_or_else(|| {
                Error::InvalidArgument(format!("{}: ends early in fold {fold}", pairs.display()))
            })?;
            let t: Vec<&str> = line.split_whitespace().collect();
            let (a, b, same) = match t[..] {
                [name, n1, n2] => (
                    lfw_path(images, name, n1)?,
                    lfw_path(images, name, n2)?,
                    true,
                ),
                [n1, i1, n2, i2] => (lfw_path(images, n1, i1)?, lfw_path(images, n2, i2)?, false),
                _ => return Err(Error::InvalidArgument(format!("pairs: bad line {line:?}"))),
            };
            if same != (k < per) {
                return Err(Error::InvalidArgument(format!(
                    "pairs: fold {fold} is not {per} same then {per} different"
                )));
            }
            out.push(Pair {
                a: id(a),
                b: id(b),
                same,
                fold,
            });
        }
    }
    Ok((paths, out))
}

/// Best-accuracy threshold over `scored` (score, same).
pub(crate) fn best_threshold(scored: &[(f32, bool)]) -> (f32, f64) {
    let mut s: Vec<(f32, bool)> = scored.to_vec();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = s.iter().filter(|x| x.1).count();
    // Threshold just above s[i]: predicted same = those above. Walk up, tracking correct count.
    let mut correct = positives; // threshold below everything: all predicted same
    let (mut best, mut best_t) = (correct, s.first().map_or(0.0, |x| x.0 - 1e-6));
    for i in 0..s.len() {
        if s[i].1 {
            correct -= 1
        } else {
            correct += 1
        }
        let next = s.get(i + 1).map_or(s[i].0 + 1e-6, |x| x.0);
        if correct > best && next > s[i].0 {
            best = correct;
            best_t = (s[i].0 + next) / 2.0;
        }
    }
    (best_t, best as f64 / s.len().max(1) as f64)
}

fn lfw(
    g: &Global,
    images: &Path,
    pairs: &Path,
    folds: usize,
    cache: Option<&Path>,
) -> Result<bool, Error> {
    let (paths, pairs) = read_pairs(images, pairs, folds)?;
    let engine = g.engine()?;
    let started = std::time::Instant::now();
    let emb = embed_all(g, &engine, &paths, cache)?;
    let missing = emb.iter().filter(|e| e.is_none()).count();
    // A pair with a missing face counts as "different" (score -1): reported, never hidden.
    let scored: Vec<(f32, bool, usize)> = pairs
        .iter()
        .map(|p| match (&emb[p.a], &emb[p.b]) {
            (Some(a), Some(b)) => a.similarity(b).map(|s| (s, p.same, p.fold)),
            _ => Ok((-1.0, p.same, p.fold)),
        })
        .collect::<Result<_, _>>()?;
    let mut accs = Vec::new();
    let mut thresholds = Vec::new();
    for f in 0..folds {
        let train: Vec<(f32, bool)> = scored
            .iter()
            .filter(|x| folds == 1 || x.2 != f)
            .map(|x| (x.0, x.1))
            .collect();
        let (t, _) = best_threshold(&train);
        let test: Vec<&(f32, bool, usize)> = scored.iter().filter(|x| x.2 == f).collect();
        let correct = test.iter().filter(|x| (x.0 >= t) == x.1).count();
        accs.push(correct as f64 / test.len() as f64);
        thresholds.push(t);
    }
    let n = accs.len() as f64;
    let mean = accs.iter().sum::<f64>() / n;
    let std = (accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n).sqrt();
    let all: Vec<(f32, bool)> = scored.iter().map(|x| (x.0, x.1)).collect();
    let (t_all, acc_all) = best_threshold(&all);
    let calibrated: Vec<_> = [1e-3, 1e-4, 1e-5]
        .iter()
        .filter_map(|&fmr| {
            let t = engine.resolve_threshold(faceprint::Threshold::Fmr(fmr)).ok()?.0;
            let gen: Vec<f32> = all.iter().filter(|x| x.1).map(|x| x.0).collect();
            let imp: Vec<f32> = all.iter().filter(|x| !x.1).map(|x| x.0).collect();
            let tar = gen.iter().filter(|&&s| s >= t).count() as f64 / gen.len() as f64;
            let fm = imp.iter().filter(|&&s| s >= t).count() as f64 / imp.len() as f64;
            Some(json!({"fmr": fmr, "threshold": t, "tar_on_pairs": tar, "false_matches_on_pairs": fm}))
        })
        .collect();
    let v = json!({
        "pairs": scored.len(),
        "folds": folds,
        "images": paths.len(),
        "no_face": missing,
        "accuracy": mean,
        "accuracy_std": std,
        "fold_accuracies": accs,
        "fold_thresholds": thresholds,
        "best_threshold_all_pairs": t_all,
        "accuracy_at_best_threshold_all_pairs": acc_all,
        "calibrated": calibrated,
        "detector": engine.detector_id(),
        "embedder": engine.embedder_id(),
        "flip": engine.config().flip_augmentation,
        "seconds": started.elapsed().as_secs_f64(),
    });
    output::line(g.human, &v, || {
        let mut s =
            format!(
            "LFW {} pairs, {} folds: accuracy {:.2}% ± {:.2} (images without a face: {missing})",
            scored.len(), folds, mean * 100.0, std * 100.0
        );
        for c in &calibrated {
            s.push_str(&format!(
                "\n  FMR {:.0e}: threshold {:.4}, TAR on the pairs {:.2}%",
                c["fmr"].as_f64().unwrap_or(0.0),
                c["threshold"].as_f64().unwrap_or(0.0),
                c["tar_on_pairs"].as_f64().unwrap_or(0.0) * 100.0
            ));
        }
        s
    });
    Ok(true)
}

/// (identity, image) for every file of a folder-per-identity tree, sorted.
fn labelled_images(images: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let mut ids: Vec<(String, PathBuf)> = Vec::new();
    let mut people: Vec<_> = std::fs::read_dir(images)
        .map_err(io(images))?
        .filter_map(|e| e.ok())
        .collect();
    people.sort_by_key(|e| e.file_name());
    for person in people.iter().filter(|e| e.path().is_dir()) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(person.path())
            .map_err(io(&person.path()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let name = person.file_name().to_string_lossy().to_string();
        ids.extend(files.into_iter().map(|f| (name.clone(), f)));
    }
    if ids.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: no identity folders with images",
            images.display()
        )));
    }
    Ok(ids)
}

fn identify(g: &Global, images: &Path, cache: Option<&Path>, fmr: f64) -> Result<bool, Error> {
    use faceprint::index::{FlatIndex, VectorIndex};
    let ids = labelled_images(images)?;
    let engine = g.engine()?;
    let (threshold, _) = engine.resolve_threshold(faceprint::Threshold::Fmr(fmr))?;
    let paths: Vec<PathBuf> = ids.iter().map(|x| x.1.clone()).collect();
    let emb = embed_all(g, &engine, &paths, cache)?;
    // Gallery: each identity's first image with a face; probes: the rest.
    let mut gallery_of: HashMap<&str, u64> = HashMap::new();
    let mut gallery: Vec<&Embedding> = Vec::new();
    let mut probes: Vec<(u64, &Embedding)> = Vec::new();
    for ((name, _), e) in ids.iter().zip(&emb) {
        let Some(e) = e else { continue };
        match gallery_of.get(name.as_str()) {
            Some(&k) => probes.push((k, e)),
            None => {
                gallery_of.insert(name, gallery.len() as u64);
                gallery.push(e);
            }
        }
    }
    let dim = gallery.first().map_or(0, |e| e.dim());
    let mut index = FlatIndex::with_capacity(dim, gallery.len());
    for (k, e) in gallery.iter().enumerate() {
        index.insert(k as u64, e.vector())?;
    }
    let (mut rank1, mut rank5, mut fn_at_t, mut fp_at_t) = (0usize, 0usize, 0usize, 0usize);
    // Per probe: the mate's score when it ranks first (else none), and the best non-mate score.
    let mut mated_first: Vec<Option<f32>> = Vec::with_capacity(probes.len());
    let mut non_mated: Vec<f32> = Vec::with_capacity(probes.len());
    for (mate, e) in &probes {
        let top = index.search(e.vector(), 6)?;
        rank1 += (top[0].key == *mate) as usize;
        rank5 += top.iter().take(5).any(|h| h.key == *mate) as usize;
        // Mated search: a miss unless the mate is first and above the threshold.
        fn_at_t += !(top[0].key == *mate && top[0].score >= threshold) as usize;
        // The same probe as a non-mated search: its own identity left out of the gallery.
        let best_other = top
            .iter()
            .find(|h| h.key != *mate)
            .map_or(-1.0, |h| h.score);
        fp_at_t += (best_other >= threshold) as usize;
        mated_first.push((top[0].key == *mate).then_some(top[0].score));
        non_mated.push(best_other);
    }
    let n = probes.len().max(1) as f64;
    // The lowest threshold with FPIR <= 1 %: accept only scores above the (m+1)-th best
    // non-mated score, so at most m of the n non-mated searches return anyone.
    non_mated.sort_by(|a, b| b.total_cmp(a));
    let allowed = (probes.len() as f64 * 0.01).floor() as usize;
    let t_fpir = non_mated.get(allowed).map_or(-1.0, |&s| s);
    let fnir_at_fpir = mated_first
        .iter()
        .filter(|m| !m.is_some_and(|s| s > t_fpir))
        .count() as f64
        / n;
    let v = json!({
        "gallery": gallery.len(),
        "probes": probes.len(),
        "rank1": rank1 as f64 / n,
        "rank5": rank5 as f64 / n,
        "fmr": fmr,
        "threshold": threshold,
        "fnir_at_threshold": fn_at_t as f64 / n,
        "fpir_at_threshold": fp_at_t as f64 / n,
        "threshold_at_fpir_1pct": t_fpir,
        "fnir_at_fpir_1pct": fnir_at_fpir,
    });
    output::line(g.human, &v, || {
        format!(
            "{} enrolled, {} probes: rank-1 {:.2}%, rank-5 {:.2}%; at FMR {fmr:e} (threshold {threshold:.4}): FNIR {:.2}%, FPIR {:.2}%; at FPIR 1% (threshold {t_fpir:.4}): FNIR {:.2}%",
            gallery.len(), probes.len(), rank1 as f64 / n * 100.0, rank5 as f64 / n * 100.0, fn_at_t as f64 / n * 100.0, fp_at_t as f64 / n * 100.0, fnir_at_fpir * 100.0
        )
    });
    Ok(true)
}

/// Score histogram resolution: 2^20 bins over -1..1 (about 2e-6 wide).
const BINS: usize = 1 << 20;

fn bin(s: f32) -> usize {
    (((s + 1.0) / 2.0 * BINS as f32) as usize).min(BINS - 1)
}

fn bin_low(i: usize) -> f32 {
    i as f32 / BINS as f32 * 2.0 - 1.0
}

fn calibrate(
    g: &Global,
    images: &Path,
    cache: Option<&Path>,
    toml_out: bool,
) -> Result<bool, Error> {
    let ids = labelled_images(images)?;
    let engine = g.engine()?;
    let paths: Vec<PathBuf> = ids.iter().map(|x| x.1.clone()).collect();
    let emb = embed_all(g, &engine, &paths, cache)?;
    let labelled: Vec<(u32, &Embedding)> = {
        let mut names: HashMap<&str, u32> = HashMap::new();
        ids.iter()
            .zip(&emb)
            .filter_map(|((n, _), e)| {
                let next = names.len() as u32;
                let id = *names.entry(n.as_str()).or_insert(next);
                e.as_ref().map(|e| (id, e))
            })
            .collect()
    };
    let dim = labelled.first().map_or(0, |x| x.1.dim());
    let flat: Vec<f32> = labelled
        .iter()
        .flat_map(|x| x.1.vector().iter().copied())
        .collect();
    let labels: Vec<u32> = labelled.iter().map(|x| x.0).collect();
    let n = labels.len();
    let pb = progress(n, "scoring pairs");
    // Every unordered pair once: row i against rows i+1.. ; per-thread histograms, summed.
    let (genuine, impostor) = g.pool(|| {
        (0..n)
            .into_par_iter()
            .fold(
                || (vec![0u64; BINS], vec![0u64; BINS]),
                |(mut gh, mut ih), i| {
                    let a = &flat[i * dim..(i + 1) * dim];
                    for j in i + 1..n {
                        let s = faceprint::embed::dot(a, &flat[j * dim..(j + 1) * dim]);
                        if labels[i] == labels[j] {
                            gh[bin(s)] += 1
                        } else {
                            ih[bin(s)] += 1
                        }
                    }
                    pb.inc(1);
                    (gh, ih)
                },
            )
            .reduce(
                || (vec![0u64; BINS], vec![0u64; BINS]),
                |(mut g1, mut i1), (g2, i2)| {
                    g1.iter_mut().zip(&g2).for_each(|(a, b)| *a += b);
                    i1.iter_mut().zip(&i2).for_each(|(a, b)| *a += b);
                    (g1, i1)
                },
            )
    })?;
    pb.finish_and_clear();
    let n_gen: u64 = genuine.iter().sum();
    let n_imp: u64 = impostor.iter().sum();
    let mut points = Vec::new();
    for fmr in [
        1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6,
    ] {
        let allowed = (fmr * n_imp as f64).floor() as u64;
        if allowed == 0 {
            continue; // too few impostor pairs to measure this rate
        }
        // Lowest bin edge t such that impostors scoring >= t are at most `allowed`.
        let (mut above, mut k) = (0u64, BINS);
        while k > 0 && above + impostor[k - 1] <= allowed {
            k -= 1;
            above += impostor[k];
        }
        let t = bin_low(k);
        let tar = genuine[k..].iter().sum::<u64>() as f64 / n_gen.max(1) as f64;
        points.push(CalibrationPoint {
            fmr,
            threshold: (t * 1e5).round() / 1e5,
            tar: (tar * 1e5).round() / 1e5,
        });
    }
    let cal = Calibration {
        metric: "cosine".into(),
        flip: engine.config().flip_augmentation,
        source: format!(
            "faceprint eval calibrate over {} ({} images with a face of {}, {} identities)",
            images.display(),
            n,
            ids.len(),
            labels
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len()
        ),
        impostor_pairs: n_imp,
        genuine_pairs: n_gen,
        points,
    };
    if toml_out {
        let mut s = String::from("[[models.calibration]]\n");
        s.push_str(&format!("metric = {:?}\nflip = {}\nsource = {:?}\nimpostor_pairs = {}\ngenuine_pairs = {}\npoints = [\n", cal.metric, cal.flip, cal.source, n_imp, n_gen));
        for p in &cal.points {
            s.push_str(&format!(
                "  {{ fmr = {:e}, threshold = {}, tar = {} }},\n",
                p.fmr, p.threshold, p.tar
            ));
        }
        s.push_str("]\n");
        print!("{s}");
    } else {
        output::line(
            g.human,
            &serde_json::to_value(&cal).unwrap_or_default(),
            || {
                let mut s = format!("{} impostor, {} genuine pairs", n_imp, n_gen);
                for p in &cal.points {
                    s.push_str(&format!(
                        "\n  FMR {:.0e}: threshold {:.4}, TAR {:.2}%",
                        p.fmr,
                        p.threshold,
                        p.tar * 100.0
                    ));
                }
                s
            },
        );
    }
    Ok(true)
}
