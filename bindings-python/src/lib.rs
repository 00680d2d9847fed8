//! The `faceprint._faceprint` extension module; `python/faceprint/__init__.py` re-exports it.

mod engine;
mod errors;
mod image;
mod results;
mod sessions;

use pyo3::prelude::*;
use std::path::PathBuf;

/// Registers an installed model package's directory (called by `faceprint/__init__.py` when
/// `faceprint_models` is importable); the pack search then looks there after FACEPRINT_MODELS.
#[pyfunction]
fn register_model_package(dir: PathBuf) {
    faceprint::models::register_package_dir(dir);
}

#[pymodule]
fn _faceprint(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ERROR_CODES", errors::codes())?;
    m.add("ORT_LIBRARY_NAME", faceprint::runtime::ORT_LIBRARY_NAME)?;
    m.add_function(wrap_pyfunction!(register_model_package, m)?)?;
    m.add_function(wrap_pyfunction!(results::_restore_embedding, m)?)?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<engine::Store>()?;
    m.add_class::<results::DetectedFace>()?;
    m.add_class::<results::FaceEmbedding>()?;
    m.add_class::<results::Comparison>()?;
    m.add_class::<results::Verification>()?;
    m.add_class::<results::Candidate>()?;
    m.add_class::<results::Identification>()?;
    m.add_class::<results::Liveness>()?;
    m.add_class::<sessions::LivenessSession>()?;
    m.add_class::<sessions::EnrollmentSession>()?;
    m.add_class::<sessions::AuthenticationSession>()?;
    Ok(())
}
