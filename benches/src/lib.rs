//! Benchmarks live in `benches/` (criterion) and `src/bin/` (pipeline comparison, 1:N at scale,
//! store throughput); this library holds what the binaries share.

/// A uniformly distributed random unit vector (Gaussian components, Box-Muller), from a xorshift
/// state the caller keeps, so runs are reproducible.
pub fn random_unit(state: &mut u64, dim: usize) -> Vec<f32> {
    let mut next = || {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        ((*state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let v: Vec<f32> = (0..dim)
        .map(|_| ((-2.0 * next().ln()).sqrt() * (2.0 * std::f64::consts::PI * next()).cos()) as f32)
        .collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

/// The criterion benchmarks' subject: one real LFW photo (encoded bytes) and an engine with one
/// intra-op thread and one session, so stage times are single-thread times. `None`, with a
/// SKIPPED message, when ../shared is absent.
pub fn single_thread_setup() -> Option<(faceprint::Engine, Vec<u8>)> {
    let photo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/lfw/images/Aaron_Eckhart/Aaron_Eckhart_0001.jpg");
    let Ok(bytes) = std::fs::read(&photo) else {
        eprintln!("SKIPPED: {} not found", photo.display());
        return None;
    };
    let engine = faceprint::Engine::builder()
        .intra_op_threads(1)
        .and_then(|b| b.max_sessions(1))
        .and_then(|b| b.build())
        .expect("engine");
    Some((engine, bytes))
}
