//! Time per identity document on one thread: every page of a folder read REPEAT times with
//! `Engine::read_document` (portrait, then the machine-readable zone), then with the visual
//! zone as well, after one warm-up reading. Prints, per page, the median time of each and of
//! its parts (portrait search, zone reading), and what was found.
//!
//!     cargo run --release -p faceprint-bench --bin documents -- DIR [REPEAT]
//!
//! DIR: e.g. ../shared/data/dev/documents.

use faceprint::document::DocumentOptions;
use faceprint::Engine;
use std::path::PathBuf;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn timed<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(repeat);
    let mut last = None;
    for _ in 0..repeat {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (median(times), last.expect("repeat >= 1"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).ok_or("usage: documents DIR [REPEAT]")?;
    let repeat: usize = args.get(2).map_or(Ok(5), |r| r.parse())?.max(1);
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| matches!(x, "jpg" | "jpeg" | "png"))
        })
        .collect();
    pages.sort();
    let engine = Engine::builder()
        .intra_op_threads(1)?
        .max_sessions(1)?
        .build()?;
    let with_visual = DocumentOptions { visual_zone: true };
    println!("one thread, median of {repeat} runs, milliseconds");
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>11}  found",
        "page", "portrait", "zone", "document", "+visual"
    );
    let mut all = Vec::new();
    let mut all_visual = Vec::new();
    for path in &pages {
        let page = engine.open(path)?;
        // Warm-up: loads the models and sizes the buffers.
        let _ = engine.read_document_with(&page, &with_visual);
        let (portrait_ms, portrait) = timed(repeat, || engine.document_portrait(&page));
        let turns = portrait.as_ref().map_or(0, |p| p.orientation_degrees / 90);
        let upright = page.rotated(turns);
        let (zone_ms, _) = timed(repeat, || engine.read_mrz(&upright));
        let (doc_ms, reading) = timed(repeat, || engine.read_document(&page));
        let (visual_ms, _) = timed(repeat, || engine.read_document_with(&page, &with_visual));
        let found = match &reading {
            Ok(r) => format!(
                "{}{}",
                r.mrz.as_ref().map_or("no zone".to_string(), |m| format!(
                    "{} {}/{} digits",
                    m.format.as_str(),
                    m.checks.iter().filter(|c| c.valid).count(),
                    m.checks.len()
                )),
                r.portrait
                    .as_ref()
                    .map_or(", no portrait".to_string(), |p| format!(
                        ", portrait at {} degrees",
                        p.orientation_degrees
                    ))
            ),
            Err(e) => format!("{} ({})", e.code(), e),
        };
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        println!(
            "{name:<22} {portrait_ms:>9.0} {zone_ms:>9.0} {doc_ms:>9.0} {visual_ms:>11.0}  {found}"
        );
        all.push(doc_ms);
        all_visual.push(visual_ms);
    }
    if !all.is_empty() {
        let max = all.iter().cloned().fold(0.0, f64::max);
        let max_visual = all_visual.iter().cloned().fold(0.0, f64::max);
        println!(
            "document call: median {:.0} ms, slowest {max:.0} ms; with the visual zone: median {:.0} ms, slowest {max_visual:.0} ms",
            median(all),
            median(all_visual)
        );
    }
    Ok(())
}
