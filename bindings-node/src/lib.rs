//! Node.js bindings of Faceprint (napi-rs). `index.d.ts` is generated from these items by
//! `napi build` and committed.

mod engine;
mod errors;
mod image;
mod numbers;
mod reports;
mod results;
mod sessions;
mod tasks;

use napi_derive::napi;

/// Every error code as `[name, number]`, the same table as C's status enum and Python's
/// exception classes.
#[napi]
pub fn error_codes() -> Vec<(String, u32)> {
    faceprint::ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), c.number()))
        .collect()
}

/// The library version.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Registers an installed model package's directory; `faceprint.js` calls it at load when
/// `@faceprint/models` resolves. The pack search then looks there after `FACEPRINT_MODELS`.
#[napi]
pub fn register_model_package(dir: String) {
    faceprint::models::register_package_dir(dir);
}
