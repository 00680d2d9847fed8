//! Criterion micro-benchmarks of each pipeline stage on one real LFW photo.

use criterion::{criterion_group, criterion_main, Criterion};

fn stages(c: &mut Criterion) {
    let Some((engine, bytes)) = faceprint_bench::single_thread_setup() else {
        return;
    };
    let img = engine.decode(&bytes).expect("decode");
    let faces = engine.detect(&img).expect("detect");
    assert!(!faces.is_empty(), "no face in the benchmark photo");
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
