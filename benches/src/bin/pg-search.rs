//! The PostgreSQL store's `pgvector` search mode at scale, beside the in-process HNSW index on
//! the same vectors in the same run. Gallery and probes as `identify-scale` (the first LFW image
//! of each person plus random unit-vector distractors up to N; the other LFW images as probes).
//! Reports the enroll throughput into PostgreSQL (one subject and one committed transaction per
//! template, from `WRITERS` threads each with its own store handle), the switch to pgvector (copy
//! and HNSW build), then per `ef_search`: recall@1 against the exact scan and p50/p99 of one
//! search at a time, through `PgStore`'s search and through the in-process index.
//!
//!     faceprint eval calibrate --images ../shared/data/lfw/images --cache lfw.jsonl   (embeddings)
//!     tests/postgres.sh start /tmp/pgbench        (prints URL)
//!     cargo run --release -p faceprint-bench --bin pg-search -- \
//!         [--resume KEY_FILE] lfw.jsonl URL [N] [WRITERS] [EF...]
//!
//! A million templates take most of an hour to enroll here. With `--resume KEY_FILE` the run
//! keeps its master key in KEY_FILE (made on first use) and its templates in the schema
//! `bench_n<N>`, and enrolls only the subjects not there yet: an interrupted run carries on
//! where it stopped (the throughput it reports is that of the templates it enrolled itself).

use faceprint::index::{FlatIndex, HnswConfig, HnswIndex, VectorIndex};
use faceprint::store::{
    AuditAction, AuditEvent, Enrollment, MasterKey, NewTemplate, PgStore, TemplateStore,
};
use faceprint::Embedding;
use faceprint_bench::{percentile, ScaleData};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const COLLECTION: &str = "scale";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().collect();
    let usage =
        "usage: pg-search [--resume KEY_FILE] LFW_EMBEDDINGS.jsonl POSTGRES_URL [N] [WRITERS] [EF...]";
    let resume = match args.iter().position(|a| a == "--resume") {
        Some(i) if i + 1 < args.len() => {
            let file = args.remove(i + 1);
            args.remove(i);
            Some(file)
        }
        Some(_) => return Err(usage.into()),
        None => None,
    };
    let cache = args.get(1).ok_or(usage)?;
    let url = args.get(2).ok_or(usage)?;
    let n: usize = args.get(3).map_or(Ok(1_000_000), |s| s.parse())?;
    let writers: usize = args.get(4).map_or(Ok(2), |s| s.parse())?;
    let efs: Vec<usize> = if args.len() > 5 {
        args[5..]
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?
    } else {
        vec![16, 32, 64, 128]
    };
    let data = ScaleData::load(cache, n)?;
    let (dim, model) = (data.dim, data.model_id.clone());
    let sample = data.probe_sample();
    eprintln!(
        "gallery {} ({} LFW people), {} probes sampled",
        data.gallery.len(),
        data.lfw_gallery,
        sample.len()
    );

    // Exact answers (the flat scan) for the sample: the reference for recall.
    let mut flat = FlatIndex::with_capacity(dim, data.gallery.len());
    for (k, v) in data.gallery.iter().enumerate() {
        flat.insert(k as u64, v)?;
    }
    let exact: Vec<u64> = sample
        .iter()
        .map(|(_, q)| flat.search(q, 1).map(|h| h[0].key))
        .collect::<Result<_, _>>()?;
    drop(flat);

    // Enroll into PostgreSQL: subject "s<k>" holds gallery vector k.
    let (key, schema) = match &resume {
        Some(file) => {
            let key = match std::fs::read_to_string(file) {
                Ok(text) => MasterKey::from_base64(text.trim())?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let key = MasterKey::generate();
                    std::fs::write(file, key.to_base64())?;
                    key
                }
                Err(e) => return Err(format!("{file}: {e}").into()),
            };
            (key, format!("bench_n{n}"))
        }
        None => (
            MasterKey::generate(),
            format!("bench_{}", std::process::id()),
        ),
    };
    let open = || PgStore::builder(url, key.clone()).schema(&schema).open();
    let store = open()?;
    store.ensure_collection(COLLECTION, &model, dim)?;
    // Resuming: the subjects already enrolled by an earlier run.
    let mut present = std::collections::HashSet::new();
    if resume.is_some() {
        loop {
            let page = store.list_subjects(COLLECTION, present.len(), 10_000)?;
            if page.is_empty() {
                break;
            }
            present.extend(page.into_iter().map(|s| s.external_id));
        }
        eprintln!("resuming: {} subjects already enrolled", present.len());
    }
    let missing: Vec<usize> = (0..data.gallery.len())
        .filter(|k| !present.contains(&format!("s{k}")))
        .collect();
    drop(present);
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| -> Result<(), String> {
        let handles: Vec<_> = (0..writers.max(1))
            .map(|_| {
                s.spawn(|| -> Result<(), String> {
                    let store = open().map_err(|e| e.to_string())?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&k) = missing.get(i) else {
                            return Ok(());
                        };
                        let v = &data.gallery[k];
                        let id = format!("s{k}");
                        let t = NewTemplate {
                            embedding: Embedding::new(model.as_str(), v.clone())
                                .map_err(|e| e.to_string())?,
                            model_version: "bench".into(),
                            quality: None,
                            source: None,
                        };
                        let audit = AuditEvent::ok(AuditAction::Enroll, COLLECTION, None);
                        store
                            .enroll(&Enrollment {
                                collection: COLLECTION,
                                external_id: &id,
                                display_name: None,
                                metadata: None,
                                templates: &[t],
                                audit: &audit,
                            })
                            .map_err(|e| e.to_string())?;
                        if i % 50_000 == 0 {
                            eprintln!(
                                "enrolled {i} of {} ({:.0}/s)",
                                missing.len(),
                                i as f64 / started.elapsed().as_secs_f64()
                            );
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "a writer panicked".to_string())??;
        }
        Ok(())
    })?;
    let enroll_secs = started.elapsed().as_secs_f64();
    let enrolled = missing.len();
    eprintln!(
        "enrolled {enrolled} in {enroll_secs:.0} s ({:.0}/s on {writers} writers)",
        enrolled as f64 / enroll_secs
    );

    let hnsw = HnswConfig::default();
    let t = Instant::now();
    store.use_pgvector(COLLECTION, &hnsw, |done, total| {
        if done % 100_000 == 0 {
            eprintln!("copied {done} of {total} vectors");
        }
    })?;
    let switch_secs = t.elapsed().as_secs_f64();
    eprintln!("switched to pgvector (copy + HNSW build) in {switch_secs:.0} s");

    let t = Instant::now();
    let mut h = HnswIndex::new(dim, hnsw);
    let items: Vec<(u64, &[f32])> = data
        .gallery
        .iter()
        .enumerate()
        .map(|(k, v)| (k as u64, v.as_slice()))
        .collect();
    h.extend_parallel(&items)?;
    let build_secs = t.elapsed().as_secs_f64();
    eprintln!("in-process HNSW built in {build_secs:.0} s");

    let mut runs = Vec::new();
    for ef in efs {
        let (mut pg_lat, mut mem_lat) = (Vec::new(), Vec::new());
        let (mut pg_agree, mut mem_agree) = (0usize, 0usize);
        h.set_ef_search(ef);
        for ((_, q), want) in sample.iter().zip(&exact) {
            let t = Instant::now();
            let found = store
                .search(COLLECTION, q, 5, ef)?
                .ok_or("not in pgvector mode")?;
            pg_lat.push(t.elapsed().as_secs_f64() * 1e3);
            if found.first().is_some_and(|f| f.0 == format!("s{want}")) {
                pg_agree += 1;
            }
            let t = Instant::now();
            let top = h.search(q, 5)?;
            mem_lat.push(t.elapsed().as_secs_f64() * 1e3);
            if top.first().is_some_and(|r| r.key == *want) {
                mem_agree += 1;
            }
        }
        let m = sample.len() as f64;
        let run = serde_json::json!({
            "ef_search": ef,
            "pgvector": {"recall_at_1_vs_exact": pg_agree as f64 / m,
                         "p50_ms": percentile(&mut pg_lat, 0.5), "p99_ms": percentile(&mut pg_lat, 0.99)},
            "in_process": {"recall_at_1_vs_exact": mem_agree as f64 / m,
                           "p50_ms": percentile(&mut mem_lat, 0.5), "p99_ms": percentile(&mut mem_lat, 0.99)},
        });
        eprintln!("{run}");
        runs.push(run);
    }
    println!(
        "{}",
        serde_json::json!({
            "templates": data.gallery.len(), "dim": dim, "probes_sampled": sample.len(),
            "enroll": {"writers": writers, "templates": enrolled, "seconds": enroll_secs,
                       "per_second": enrolled as f64 / enroll_secs},
            "switch_to_pgvector_seconds": switch_secs,
            "in_process_build_seconds": build_secs,
            "top5_one_query_at_a_time": runs,
        })
    );
    Ok(())
}
