//! Median time per image of decode + detect + align + embed, one thread, with the time split
//! by stage. Same image list and same stage boundaries as benches/compare/*.py.
//!
//!     cargo run --release -p faceprint-bench --bin pipeline-speed -- LIST_FILE [REPEAT]

use faceprint::{Engine, Image};
use std::time::Instant;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let list = args
        .get(1)
        .ok_or("usage: pipeline-speed LIST_FILE [REPEAT]")?;
    let repeat: usize = args.get(2).map_or(Ok(1), |r| r.parse())?;
    let paths: Vec<String> = std::fs::read_to_string(list)?
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let mut detection = faceprint::DetectionOptions::default();
    // FACEPRINT_MIN_INPUT_SIDE=0 runs the detector at the image's own size, as FaceDetectorYN.
    if let Ok(v) = std::env::var("FACEPRINT_MIN_INPUT_SIDE") {
        detection.min_input_side = v.parse()?;
    }
    let mut builder = Engine::builder();
    // FACEPRINT_EMBEDDER=dlib-resnet-v1 measures the other embedder of the pack.
    if let Ok(id) = std::env::var("FACEPRINT_EMBEDDER") {
        builder = builder.embedder_model(id);
    }
    let engine = builder
        .intra_op_threads(1)?
        .max_sessions(1)?
        .detection(detection)
        .build()?;
    let files: Vec<Vec<u8>> = paths.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let names = ["decode", "detect", "embed", "total"];
    let mut t: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut faces_found = 0;
    for rep in 0..=repeat {
        for bytes in &files {
            let t0 = Instant::now();
            let img: Image = engine.decode(bytes)?;
            let t1 = Instant::now();
            let faces = engine.detect(&img)?;
            let t2 = Instant::now();
            // The same work as the reference scripts: the best face is aligned and embedded.
            let emb = engine.embed(&img, &faces[..faces.len().min(1)])?;
            let t3 = Instant::now();
            if rep == 0 {
                faces_found += emb.len();
                continue; // warm-up pass
            }
            for (k, d) in [t1 - t0, t2 - t1, t3 - t2, t3 - t0].iter().enumerate() {
                t[k].push(d.as_secs_f64() * 1e3);
            }
        }
    }
    let medians: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .zip(t.iter_mut())
        .map(|(n, v)| {
            (
                n.to_string(),
                serde_json::json!((median(v) * 1000.0).round() / 1000.0),
            )
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "pipeline": "faceprint",
            "images": files.len(),
            "faces": faces_found,
            "median_ms": medians,
        })
    );
    Ok(())
}
