//! Helpers shared by the CLI test binaries.

#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

/// `../shared/data` beside the checkout (or `FACEPRINT_SHARED`), `None` if truly absent.
pub fn data() -> Option<PathBuf> {
    let d = std::env::var_os("FACEPRINT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("data");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("SKIPPED: test data not found at {}", d.display());
        None
    }
}

/// Runs the built `faceprint` binary.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faceprint"))
        .args(args)
        .output()
        .expect("faceprint runs")
}

/// One JSON value per line.
pub fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// The JSON lines of a run that must have succeeded.
pub fn ok_lines(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out.stdout)
}

/// A fresh temporary folder for one test of one binary.
pub fn temp(binary: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faceprint-{binary}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Pseudo-random in 0..max from the clock: a different moment every run.
pub fn random_below(max: u64) -> u64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    ((n ^ (n >> 11)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7) % max.max(1)
}
