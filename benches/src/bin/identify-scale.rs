//! 1:N at scale. Gallery: the first LFW image of each of the 5,749 people plus random unit-vector
//! distractors up to N templates; probes: the other images of people with two or more.
//! Reports identify top-5 latency (p50/p99, one thread), recall@1 of HNSW against the exact scan,
//! build time on 1 and 2 threads, and index memory per template; and the flat scan at 100k.
//!
//!     faceprint eval calibrate --images ../shared/data/lfw/images --cache lfw.jsonl   (embeddings)
//!     cargo run --release -p faceprint-bench --bin identify-scale -- lfw.jsonl [N] [EF...]

use faceprint::index::{FlatIndex, HnswConfig, HnswIndex, VectorIndex};
use faceprint_bench::{percentile, rss_bytes, ScaleData};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let cache = args
        .get(1)
        .ok_or("usage: identify-scale LFW_EMBEDDINGS.jsonl [N] [EF...]")?;
    let n: usize = args.get(2).map_or(Ok(1_000_000), |s| s.parse())?;
    let efs: Vec<usize> = if args.len() > 3 {
        args[3..]
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?
    } else {
        vec![64, 128]
    };

    let data = ScaleData::load(cache, n)?;
    let (dim, lfw_gallery, probes) = (data.dim, data.lfw_gallery, &data.probes);
    let gallery = &data.gallery;
    let items: Vec<(u64, &[f32])> = gallery
        .iter()
        .enumerate()
        .map(|(k, v)| (k as u64, v.as_slice()))
        .collect();
    eprintln!(
        "gallery {} ({} LFW people), {} probes",
        items.len(),
        lfw_gallery,
        probes.len()
    );

    // Exact answers for a probe sample (the flat scan is the reference).
    let mut flat = FlatIndex::with_capacity(dim, items.len());
    for (k, v) in &items {
        flat.insert(*k, v)?;
    }
    let sample = data.probe_sample();
    let t = Instant::now();
    let exact: Vec<u64> = sample
        .iter()
        .map(|(_, q)| flat.search(q, 1).map(|h| h[0].key))
        .collect::<Result<_, _>>()?;
    let flat_ms = t.elapsed().as_secs_f64() * 1e3 / sample.len() as f64;
    let rank1_exact = sample
        .iter()
        .zip(&exact)
        .filter(|((id, _), k)| **k == *id as u64)
        .count() as f64
        / sample.len() as f64;
    drop(flat);

    let mut report = serde_json::json!({
        "templates": items.len(), "dim": dim, "lfw_gallery": lfw_gallery, "probes_sampled": sample.len(),
        "flat_mean_ms_at_n": flat_ms, "rank1_of_exact_search": rank1_exact,
    });
    let mut builds = Vec::new();
    let mut index = None;
    // FACEPRINT_BENCH_THREADS=2 builds once, on two threads (a 1M build on one takes long).
    let thread_counts: Vec<usize> = std::env::var("FACEPRINT_BENCH_THREADS")
        .unwrap_or_else(|_| "1,2".into())
        .split(',')
        .map(|t| t.trim().parse())
        .collect::<Result<_, _>>()?;
    for threads in thread_counts {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let before = rss_bytes();
        let t = Instant::now();
        let mut h = HnswIndex::new(dim, HnswConfig::default());
        pool.install(|| h.extend_parallel(&items))?;
        let secs = t.elapsed().as_secs_f64();
        let grown = rss_bytes().saturating_sub(before);
        eprintln!("built on {threads} thread(s) in {secs:.1} s");
        builds.push(serde_json::json!({"threads": threads, "seconds": secs, "rss_growth_bytes_per_template": grown as f64 / items.len() as f64}));
        index = Some(h);
    }
    let mut h = index.ok_or("no index")?;
    report["build"] = serde_json::json!(builds);
    report["index_bytes_per_template"] =
        serde_json::json!(h.memory_bytes() as f64 / items.len() as f64);
    let mut runs = Vec::new();
    for ef in efs {
        h.set_ef_search(ef);
        let mut lat = Vec::with_capacity(probes.len());
        for (_, q) in probes {
            let t = Instant::now();
            let top = h.search(q, 5)?;
            lat.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(top);
        }
        let agree = sample
            .iter()
            .zip(&exact)
            .filter(|((_, q), k)| h.search(q, 1).map(|r| r[0].key == **k).unwrap_or(false))
            .count();
        let run = serde_json::json!({
            "ef_search": ef,
            "p50_ms": percentile(&mut lat, 0.5),
            "p99_ms": percentile(&mut lat, 0.99),
            "recall_at_1_vs_exact": agree as f64 / sample.len() as f64,
        });
        eprintln!("{run}");
        runs.push(run);
    }
    report["hnsw_top5"] = serde_json::json!(runs);
    println!("{report}");
    Ok(())
}
