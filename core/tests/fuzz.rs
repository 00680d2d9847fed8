//! A bounded mutation fuzzer over the inputs callers hand us unchecked: encoded images, the
//! JSON settings of the engine and sessions, and serialised session state (which servers keep
//! between requests). Each input must give an answer or a coded error — never a panic, never
//! a hang, never an image over the limits.
//!
//! CI runs it for a few seconds per target; `FACEPRINT_FUZZ_SECONDS=600 cargo test --release
//! -p faceprint --test fuzz -- --nocapture` runs longer. `FACEPRINT_FUZZ_SEED` replays a run.
//! Every input that ever failed is kept in `tests/fuzz-regressions/` and replayed first; a new
//! failure is written to `target/fuzz-failures/` for you to add there.

use faceprint::{
    ActiveConfig, ActiveLivenessSession, AuthenticationConfig, AuthenticationSession, Engine,
    EngineConfig, EnrollmentConfig, EnrollmentSession, Image, ImageLimits,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn budget() -> Duration {
    let secs = std::env::var("FACEPRINT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8.0);
    Duration::from_secs_f64(secs)
}

fn rng(target: &str) -> (StdRng, u64) {
    let seed = std::env::var("FACEPRINT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    eprintln!("{target}: FACEPRINT_FUZZ_SEED={seed}");
    (StdRng::seed_from_u64(seed), seed)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The kept regression inputs of a target (`tests/fuzz-regressions/<target>-*`).
fn regressions(target: &str) -> Vec<Vec<u8>> {
    let dir = repo().join("tests/fuzz-regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|f| {
        f.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(&format!("{target}-")))
    });
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// Runs `check` on one input; a panic or a slow answer saves the input and fails the test.
fn run_one(target: &str, input: &[u8], check: &mut dyn FnMut(&[u8])) {
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| check(input)));
    let slow = started.elapsed() > Duration::from_secs(10);
    if outcome.is_err() || slow {
        let dir = repo().join("../target/fuzz-failures");
        std::fs::create_dir_all(&dir).unwrap();
        let name = format!("{target}-{:016x}", fnv(input));
        std::fs::write(dir.join(&name), input).unwrap();
        panic!(
            "{target}: {} on the input saved as target/fuzz-failures/{name} ({} bytes); \
             fix it, then move the file to core/tests/fuzz-regressions/",
            if slow { "took over 10 s" } else { "panicked" },
            input.len()
        );
    }
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// One random structural mutation: bit flips, extreme integers over header fields, cuts,
/// repeats, insertions.
fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        if b.is_empty() {
            b.push(rng.gen());
            continue;
        }
        let at = rng.gen_range(0..b.len());
        match rng.gen_range(0..7) {
            0 => b[at] ^= 1 << rng.gen_range(0..8),
            1 => b[at] = [0x00, 0xFF, 0x7F, 0x80, 0x01][rng.gen_range(0..5)],
            2 => {
                let v: u32 = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 65_535, 100_000]
                    [rng.gen_range(0..7)];
                let bytes = if rng.gen() {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                for (i, x) in bytes.iter().enumerate() {
                    if let Some(slot) = b.get_mut(at + i) {
                        *slot = *x;
                    }
                }
            }
            3 => b.truncate(at),
            4 => {
                let end = (at + rng.gen_range(1..64)).min(b.len());
                let chunk = b[at..end].to_vec();
                let to = rng.gen_range(0..=b.len());
                b.splice(to..to, chunk);
            }
            5 => {
                let n = rng.gen_range(1..16);
                let junk: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
                b.splice(at..at, junk);
            }
            _ => {
                let end = (at + rng.gen_range(1..32)).min(b.len());
                b.drain(at..end);
            }
        }
    }
    b
}

/// For JSON seeds: valid JSON with odd values — a node set to an extreme number, an empty or
/// long string, null, an empty array — so the checks behind parsing are reached.
fn mutate_json(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    use serde_json::{json, Value};
    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Object(m) => m.values().map(count).sum(),
            Value::Array(a) => a.iter().map(count).sum(),
            _ => 0,
        }
    }
    /// The `n`th node in pre-order.
    fn nth<'a>(v: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
        let children: Vec<&mut Value> = match v {
            Value::Object(m) => m.values_mut().collect(),
            Value::Array(a) => a.iter_mut().collect(),
            _ => Vec::new(),
        };
        children.into_iter().find_map(|c| nth(c, n))
    }
    let Ok(mut doc) = serde_json::from_slice::<Value>(seed) else {
        return mutate(rng, seed);
    };
    for _ in 0..rng.gen_range(1..=3) {
        let mut n = rng.gen_range(0..count(&doc));
        let Some(slot) = nth(&mut doc, &mut n) else {
            break;
        };
        *slot = match rng.gen_range(0..10) {
            0 => json!(-1),
            1 => json!(0),
            2 => json!(u64::MAX),
            3 => json!(1e308),
            4 => json!(-1e308),
            5 => json!(9_007_199_254_740_993u64),
            6 => json!(""),
            7 => json!("x".repeat(rng.gen_range(1..5000))),
            8 => Value::Null,
            _ => json!([]),
        };
    }
    serde_json::to_vec(&doc).unwrap()
}

fn fuzz(target: &str, seeds: &[Vec<u8>], mut check: impl FnMut(&[u8])) {
    for r in regressions(target) {
        run_one(target, &r, &mut check);
    }
    let (mut rng, _) = rng(target);
    let deadline = Instant::now() + budget();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let seed = &seeds[rng.gen_range(0..seeds.len())];
        let input = if seed.first() == Some(&b'{') && rng.gen() {
            mutate_json(&mut rng, seed)
        } else {
            mutate(&mut rng, seed)
        };
        run_one(target, &input, &mut check);
        n += 1;
    }
    eprintln!("{target}: {n} inputs, no failure");
}

/// How many restored sessions the session target fed, for its report.
fn report_fed(fed: usize) {
    eprintln!("session: {fed} restored states fed a frame");
}

fn encoded(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, (x ^ y) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

#[test]
fn image_decoding_never_panics_hangs_or_exceeds_the_limits() {
    use image::ImageFormat as F;
    let mut seeds: Vec<Vec<u8>> = [F::Jpeg, F::Png, F::WebP, F::Bmp, F::Gif]
        .iter()
        .map(|&f| encoded(f, 24, 16))
        .collect();
    // A real photo too: EXIF, progressive quirks, a full-size scan.
    let photo = repo().join("../../shared/data/dev/faces/named/obama_obama.jpg");
    if let Ok(b) = std::fs::read(&photo) {
        seeds.push(b);
    }
    let limits = ImageLimits {
        max_pixels: 4_000_000,
        ..ImageLimits::default()
    };
    fuzz("image", &seeds, |input| {
        if let Ok(img) = Image::decode(input, &limits) {
            assert!(img.width() as u64 * img.height() as u64 <= limits.max_pixels);
        }
    });
}

#[test]
fn settings_json_never_panics() {
    let seeds: Vec<Vec<u8>> = [
        r#"{"liveness_threshold":0.7,"threshold":{"fmr":1e-5},"detection":{"max_faces":4,"score_threshold":0.9}}"#,
        r#"{"collection":"staff","subject":"ana","target_samples":5,"max_frames":40,"quality":{"min_inter_eye_distance":40}}"#,
        r#"{"collection":"staff","mode":{"mode":"verify","subject":"ana"},"max_frames":10}"#,
        r#"{"challenges":3,"challenge_timeout_ms":8000}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    fuzz("settings", &seeds, |input| {
        let Ok(text) = std::str::from_utf8(input) else {
            return;
        };
        let _ = EngineConfig::from_json(text).map(|c| Engine::builder().config(c));
        if let Ok(c) = EnrollmentConfig::from_json(text) {
            let _ = EnrollmentSession::start(c, 0);
        }
        if let Ok(c) = AuthenticationConfig::from_json(text) {
            let _ = AuthenticationSession::start(c, 0);
        }
        if let Ok(c) = ActiveConfig::from_json(text) {
            let _ = ActiveLivenessSession::start(c, 0);
        }
    });
}

#[test]
fn restored_session_state_never_panics_when_fed() {
    let engine = Engine::builder().build().expect("models (run ./setup.sh)");
    let frame = engine
        .open(repo().join("../../shared/data/lfw/images/Billy_Crystal/Billy_Crystal_0005.jpg"))
        .expect("test photo");
    let active = ActiveLivenessSession::start(ActiveConfig::default(), 0).unwrap();
    let nonce = active.nonce().to_string();
    let seeds = vec![
        serde_json::to_vec(&active).unwrap(),
        serde_json::to_vec(&EnrollmentSession::start(EnrollmentConfig::new("c", "s"), 0).unwrap())
            .unwrap(),
        serde_json::to_vec(
            &AuthenticationSession::start(
                AuthenticationConfig::new("c", faceprint::AuthMode::Identify),
                0,
            )
            .unwrap(),
        )
        .unwrap(),
    ];
    // Feeding runs the models (tens of ms): states that parse are fed, a few hundred at most.
    let mut fed = 0;
    fuzz("session", &seeds, |input| {
        if fed > 400 {
            return;
        }
        if let Ok(mut s) = serde_json::from_slice::<ActiveLivenessSession>(input) {
            fed += 1;
            let _ = s.feed(&engine, &nonce, 10, &frame);
        }
        if let Ok(mut s) = serde_json::from_slice::<EnrollmentSession>(input) {
            fed += 1;
            let _ = s.feed(&engine, 10, &frame);
        }
        if let Ok(mut s) = serde_json::from_slice::<AuthenticationSession>(input) {
            fed += 1;
            let _ = s.feed(&engine, 10, &frame);
        }
    });
    report_fed(fed);
}
