//! Shared helpers for tests that run the real models on the real photos in ../shared/data.

#![allow(dead_code)]

use faceprint::Engine;
use std::path::PathBuf;
use std::sync::OnceLock;

/// `../shared/data` beside the checkout (or `FACEPRINT_SHARED`), `None` if truly absent.
pub fn data_dir() -> Option<PathBuf> {
    let base = std::env::var_os("FACEPRINT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let d = base.join("data");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "SKIPPED: test data not found at {} (set FACEPRINT_SHARED)",
            d.display()
        );
        None
    }
}

pub fn dev(rel: &str) -> PathBuf {
    data_dir().expect("checked by caller").join("dev").join(rel)
}

/// One engine for the whole test binary (models load once).
pub fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        Engine::builder()
            .build()
            .expect("engine builds: run ./setup.sh first")
    })
}

/// Runs the body only when the shared data exists.
#[macro_export]
macro_rules! with_data {
    () => {
        if common::data_dir().is_none() {
            return;
        }
    };
}
