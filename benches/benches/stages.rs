//! Criterion micro-benchmarks of each pipeline stage on one real LFW photo.

use criterion::{criterion_group, criterion_main, Criterion};
use faceprint::Engine;
use std::path::PathBuf;

fn stages(c: &mut Criterion) {
    let photo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/lfw/images/Aaron_Eckhart/Aaron_Eckhart_0001.jpg");
    let Ok(bytes) = std::fs::read(&photo) else {
        eprintln!("SKIPPED: {} not found", photo.display());
        return;
    };
    let engine = Engine::builder()
        .intra_op_threads(1)
        .max_sessions(1)
        .build()
        .expect("engine");
    let img = engine.decode(&bytes).expect("decode");
    let faces = engine.detect(&img).expect("detect");
    assert!(!faces.is_empty(), "no face in {}", photo.display());
    let face = &faces[..1];
    let mut g = c.benchmark_group("lfw_250x250");
    g.bench_function("decode", |b| b.iter(|| engine.decode(&bytes).unwrap()));
    g.bench_function("detect", |b| b.iter(|| engine.detect(&img).unwrap()));
    g.bench_function("align_embed", |b| {
        b.iter(|| engine.embed(&img, face).unwrap())
    });
    g.bench_function("extract_total", |b| {
        b.iter(|| {
            let img = engine.decode(&bytes).unwrap();
            let faces = engine.detect(&img).unwrap();
            engine.embed(&img, &faces[..1]).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
