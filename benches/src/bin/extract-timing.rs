//! Rust side of the binding-overhead benchmark (benches/bindings/overhead.py): per-image
//! `extract_largest` time from encoded bytes, one thread, as JSON.
//! Usage: extract-timing ROUNDS IMAGE...

use faceprint::Engine;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args
        .next()
        .ok_or("usage: extract-timing ROUNDS IMAGE...")?
        .parse()?;
    let images: Vec<Vec<u8>> = args.map(std::fs::read).collect::<Result<_, _>>()?;
    let engine = Engine::builder().build()?;
    // Warm-up: every model session created and every buffer sized.
    for bytes in &images {
        engine.extract_largest(&engine.decode(bytes)?)?;
    }
    let mut per_round = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for bytes in &images {
            std::hint::black_box(engine.extract_largest(&engine.decode(bytes)?)?);
        }
        per_round.push(start.elapsed().as_secs_f64() * 1000.0 / images.len() as f64);
    }
    println!("{}", serde_json::json!({ "ms_per_image": per_round }));
    Ok(())
}
