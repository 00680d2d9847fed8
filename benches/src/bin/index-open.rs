//! Opening a large collection: how long a SQLite store of N templates (the identify-scale data:
//! LFW plus random distractors) takes to open and answer its first identify, with the saved
//! HNSW snapshot and without it (rebuilt), and whether the restored index answers as the exact
//! scan does.
//!
//!     faceprint eval calibrate --images ../shared/data/lfw/images --cache lfw.jsonl
//!     index-open lfw.jsonl scale.db 1000000 fill      # the store (key in scale.db.key), and
//!                                                      # scale.db.base.f32 / .query.f32 for faiss
//!     index-open lfw.jsonl scale.db 1000000 rebuild   # snapshot removed first: a full build
//!     index-open lfw.jsonl scale.db 1000000 open      # from the snapshot the rebuild saved
//!     index-open lfw.jsonl scale.db 1000000 first     # only the open and first identify

use faceprint::index::{FlatIndex, VectorIndex};
use faceprint::store::{
    AuditAction, AuditEvent, Enrollment, MasterKey, NewTemplate, SqliteStore, TemplateStore,
};
use faceprint::{Embedding, Engine, FaceEmbedding};
use faceprint_bench::{percentile, rss_bytes, ScaleData};
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

const COLLECTION: &str = "scale";

fn subject(i: usize) -> String {
    format!("g{i:07}")
}

fn write_f32(path: &str, rows: &mut dyn Iterator<Item = &[f32]>) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    for r in rows {
        for x in r {
            w.write_all(&x.to_le_bytes())?;
        }
    }
    w.flush()
}

fn fill(data: &ScaleData, db: &str) -> Result<(), Box<dyn std::error::Error>> {
    let key = MasterKey::generate();
    std::fs::write(format!("{db}.key"), key.to_base64())?;
    let store = SqliteStore::open(db, key)?;
    store.ensure_collection(COLLECTION, &data.model_id, data.dim)?;
    let t = Instant::now();
    let audit = AuditEvent::ok(AuditAction::Enroll, COLLECTION, Some("index-open"));
    for (i, v) in data.gallery.iter().enumerate() {
        let templates = [NewTemplate {
            embedding: Embedding::new(data.model_id.as_str(), v.clone())?,
            model_version: "bench".into(),
            quality: None,
            source: None,
        }];
        let id = subject(i);
        store.enroll(&Enrollment {
            collection: COLLECTION,
            external_id: &id,
            display_name: None,
            metadata: None,
            templates: &templates,
            audit: &audit,
        })?;
        if (i + 1) % 50_000 == 0 {
            eprintln!(
                "{} / {} enrolled ({:.0}/s)",
                i + 1,
                data.gallery.len(),
                (i + 1) as f64 / t.elapsed().as_secs_f64()
            );
        }
    }
    write_f32(
        &format!("{db}.base.f32"),
        &mut data.gallery.iter().map(|v| v.as_slice()),
    )?;
    write_f32(
        &format!("{db}.query.f32"),
        &mut data.probes.iter().map(|(_, v)| v.as_slice()),
    )?;
    println!(
        "{}",
        serde_json::json!({"filled": data.gallery.len(), "dim": data.dim, "seconds": t.elapsed().as_secs_f64()})
    );
    Ok(())
}

/// User + system CPU time of this process so far, in seconds (from /proc, 10 ms steps).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn open(
    data: &ScaleData,
    db: &str,
    rebuild: bool,
    quick: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    if rebuild {
        match std::fs::remove_dir_all(format!("{db}.index")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    let key = MasterKey::from_base64(&std::fs::read_to_string(format!("{db}.key"))?)?;
    let probe = |v: &[f32]| -> faceprint::Result<FaceEmbedding> {
        Ok(FaceEmbedding::stored(Embedding::new(
            data.model_id.as_str(),
            v.to_vec(),
        )?))
    };
    let rss_before = rss_bytes();
    let cpu_before = cpu_seconds();
    let t = Instant::now();
    let store = SqliteStore::builder(db, key)
        .create_if_missing(false)
        .open()?;
    let store_ms = t.elapsed().as_secs_f64() * 1e3;
    let engine = Engine::builder()
        .embedder_model(&data.model_id)
        .store(Arc::new(store))
        .build()?;
    let engine_ms = t.elapsed().as_secs_f64() * 1e3 - store_ms;
    let first = engine.identify_embedding(COLLECTION, &probe(&data.probes[0].1)?, 5, None, None)?;
    let first_ms = t.elapsed().as_secs_f64() * 1e3;
    let first_cpu = cpu_seconds() - cpu_before;
    let status = engine.index_status(COLLECTION)?;
    eprintln!(
        "first identify answered after {first_ms:.0} ms ({first_cpu:.2} s of CPU): {status:?}"
    );
    std::hint::black_box(first);
    if quick {
        println!(
            "{}",
            serde_json::json!({"open_to_first_identify_ms": first_ms, "cpu_seconds": first_cpu,
                               "index_load_ms": status.load_ms, "source": status.source})
        );
        return Ok(());
    }

    // The restored (or rebuilt) index against the exact scan, through the engine.
    let mut flat = FlatIndex::with_capacity(data.dim, data.gallery.len());
    for (i, v) in data.gallery.iter().enumerate() {
        flat.insert(i as u64, v)?;
    }
    let sample = data.probe_sample();
    let mut agree = 0;
    let mut lat = Vec::with_capacity(sample.len());
    for (_, q) in &sample {
        let p = probe(q)?;
        let t = Instant::now();
        let r = engine.identify_embedding(COLLECTION, &p, 5, None, None)?;
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        let exact = subject(flat.search(q, 1)?[0].key as usize);
        agree += usize::from(r.candidates.first().map(|c| c.subject.as_str()) == Some(&exact));
    }
    let report = serde_json::json!({
        "mode": if rebuild { "rebuild (no snapshot)" } else { "open (snapshot)" },
        "templates": status.templates,
        "store_open_ms": store_ms,
        "engine_build_ms": engine_ms,
        "open_to_first_identify_ms": first_ms,
        "index_load_ms": status.load_ms,
        "source": status.source,
        "identify_top5_p50_ms": percentile(&mut lat.clone(), 0.5),
        "identify_top5_p99_ms": percentile(&mut lat, 0.99),
        "recall_at_1_vs_exact": agree as f64 / sample.len() as f64,
        "probes_sampled": sample.len(),
        "rss_growth_bytes_per_template": rss_bytes().saturating_sub(rss_before) as f64 / data.gallery.len() as f64,
    });
    println!("{report}");
    let t = Instant::now();
    drop(engine);
    eprintln!(
        "engine dropped in {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

/// The library's log lines (index restored or built, snapshot saved) on stderr.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with("faceprint")
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            eprintln!("{}: {}", r.level(), r.args());
        }
    }
    fn flush(&self) {}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    log::set_boxed_logger(Box::new(StderrLog))?;
    log::set_max_level(if std::env::var_os("FACEPRINT_DEBUG").is_some() {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    });
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: index-open LFW_EMBEDDINGS.jsonl DB N fill|rebuild|open|first";
    if args.len() != 5 {
        return Err(usage.into());
    }
    let data = ScaleData::load(&args[1], args[3].parse()?)?;
    match args[4].as_str() {
        "fill" => fill(&data, &args[2]),
        "rebuild" => open(&data, &args[2], true, false),
        "open" => open(&data, &args[2], false, false),
        "first" => open(&data, &args[2], false, true),
        _ => Err(usage.into()),
    }
}
