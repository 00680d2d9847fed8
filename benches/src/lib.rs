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

/// The 1:N-at-scale data set: the first LFW image of each person plus random unit-vector
/// distractors up to `n` gallery vectors, and every other LFW image as a probe of its person
/// (the gallery index of that person's first image).
pub struct ScaleData {
    pub model_id: String,
    pub dim: usize,
    pub gallery: Vec<Vec<f32>>,
    pub lfw_gallery: usize,
    pub probes: Vec<(usize, Vec<f32>)>,
}

impl ScaleData {
    /// From an embedding cache written by `faceprint eval calibrate --cache FILE`.
    pub fn load(cache: &str, n: usize) -> Result<ScaleData, Box<dyn std::error::Error>> {
        use std::io::BufRead;
        let mut people: std::collections::BTreeMap<String, Vec<faceprint::Embedding>> =
            Default::default();
        let file = std::io::BufReader::new(std::fs::File::open(cache)?);
        for line in file.lines().skip(1) {
            let (path, e): (String, Option<faceprint::Embedding>) = serde_json::from_str(&line?)?;
            let Some(e) = e else { continue };
            let person = std::path::Path::new(&path)
                .parent()
                .and_then(|d| d.file_name())
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            people.entry(person).or_default().push(e);
        }
        let first = &people.values().next().ok_or("no embeddings in the cache")?[0];
        let (dim, model_id) = (first.dim(), first.model_id().to_string());
        let mut gallery: Vec<Vec<f32>> = Vec::with_capacity(n);
        let mut probes = Vec::new();
        for list in people.values() {
            let id = gallery.len();
            gallery.push(list[0].vector().to_vec());
            for e in &list[1..] {
                probes.push((id, e.vector().to_vec()));
            }
        }
        let lfw_gallery = gallery.len();
        let mut state = 0x1234_5678_9abc_def1u64;
        while gallery.len() < n {
            gallery.push(random_unit(&mut state, dim));
        }
        gallery.truncate(n.max(lfw_gallery));
        Ok(ScaleData {
            model_id,
            dim,
            gallery,
            lfw_gallery,
            probes,
        })
    }

    /// About 1,000 probes spread over the set, for recall against the exact scan.
    pub fn probe_sample(&self) -> Vec<&(usize, Vec<f32>)> {
        self.probes
            .iter()
            .step_by((self.probes.len() / 1000).max(1))
            .collect()
    }
}

/// Resident memory of this process, from /proc.
pub fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<usize>()
                    .unwrap_or(0)
                    * 1024
            })
        })
        .unwrap_or(0)
}

/// The `p` quantile (0..=1) of `v` (sorted in place).
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
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
