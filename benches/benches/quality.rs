//! Criterion benchmarks of the quality report and liveness on one real LFW face, one thread,
//! after detection (the bars: fast report ≤ 2 ms, full report ≤ 30 ms per face).

use criterion::{criterion_group, criterion_main, Criterion};
use faceprint::QualityProfile;

fn quality(c: &mut Criterion) {
    let Some((engine, bytes)) = faceprint_bench::single_thread_setup() else {
        return;
    };
    let img = engine.decode(&bytes).expect("decode");
    let faces = engine.detect(&img).expect("detect");
    let face = faces.first().expect("a face");
    let full = QualityProfile::enrollment();
    let fast = QualityProfile {
        landmarks: false,
        mask: false,
        ..QualityProfile::enrollment()
    };
    let no_mask = QualityProfile {
        mask: false,
        ..QualityProfile::enrollment()
    };
    // Load the optional models before timing.
    engine.face_quality(&img, face, 1, &full).unwrap();
    engine.face_liveness(&img, face).unwrap();
    let mesh = engine.landmarks(&img, face).unwrap();

    let mut g = c.benchmark_group("quality_after_detection");
    g.bench_function("report_fast", |b| {
        b.iter(|| engine.face_quality(&img, face, 1, &fast).unwrap())
    });
    g.bench_function("report_full", |b| {
        b.iter(|| engine.face_quality(&img, face, 1, &full).unwrap())
    });
    g.bench_function("report_landmarks_no_mask", |b| {
        b.iter(|| engine.face_quality(&img, face, 1, &no_mask).unwrap())
    });
    g.bench_function("facemesh", |b| {
        b.iter(|| engine.landmarks(&img, face).unwrap())
    });
    g.bench_function("iris_both_eyes", |b| {
        b.iter(|| engine.eye_openness(&img, &mesh).unwrap())
    });
    g.bench_function("passive_liveness", |b| {
        b.iter(|| engine.face_liveness(&img, face).unwrap())
    });
    g.finish();
}

criterion_group!(benches, quality);
criterion_main!(benches);
