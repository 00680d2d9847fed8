//! Enroll throughput into the encrypted SQLite store (templates/s), store path only: each
//! enrollment is a subject upsert plus an atomic, encrypted template insert, each a durable
//! commit (WAL, synchronous=FULL).
//!
//!     cargo run --release -p faceprint-bench --bin store-throughput -- [SUBJECTS] [TEMPLATES_PER_SUBJECT]

use faceprint::store::{MasterKey, NewTemplate, SqliteStore, TemplateStore};
use faceprint::Embedding;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let subjects: usize = args.get(1).map_or(Ok(2000), |s| s.parse())?;
    let per: usize = args.get(2).map_or(Ok(1), |s| s.parse())?;
    let dir = std::env::temp_dir().join(format!("faceprint-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = SqliteStore::open(dir.join("bench.db"), MasterKey::generate())?;
    store.ensure_collection("bench", "dlib-resnet-v1", 128)?;
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut vector = || {
        Embedding::new(
            "dlib-resnet-v1",
            faceprint_bench::random_unit(&mut state, 128),
        )
    };
    let started = Instant::now();
    for s in 0..subjects {
        let id = format!("subject-{s:07}");
        store.upsert_subject("bench", &id, None, None)?;
        let templates = (0..per)
            .map(|_| {
                Ok(NewTemplate {
                    embedding: vector()?,
                    model_version: "bench".into(),
                    quality: None,
                    source: None,
                })
            })
            .collect::<Result<Vec<_>, faceprint::Error>>()?;
        store.add_templates("bench", &id, &templates)?;
    }
    let secs = started.elapsed().as_secs_f64();
    let t = Instant::now();
    let all = store.all_templates("bench")?.templates;
    let load = t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "subjects": subjects, "templates_per_subject": per, "seconds": secs,
            "templates_per_second": (subjects * per) as f64 / secs,
            "load_and_decrypt_all_seconds": load, "templates_loaded": all.len(),
        })
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
