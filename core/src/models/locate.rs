//! Where the model pack is looked for when the caller names no directory. Nothing here depends
//! on where the library was built: a wheel, an npm package or an installed C library finds its
//! pack on any machine.
//!
//! In order: `FACEPRINT_MODELS` (when set, it must hold a pack: a wrong value is an error, not a
//! silent fall-through); the installed model package (the Python `faceprint-models` wheel or the
//! npm `@faceprint/models` package, which the bindings register at import); the user's data
//! directory (`$XDG_DATA_HOME/faceprint/models`, by default `~/.local/share/faceprint/models`,
//! where `faceprint models install` puts a pack); and beside the installed library or program
//! (`PREFIX/share/faceprint/models` for `PREFIX/lib/libfaceprint.so` or `PREFIX/bin/faceprint`).

use super::MANIFEST_FILE;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The environment variable naming a model pack directory.
pub const MODELS_ENV: &str = "FACEPRINT_MODELS";

/// Where a model pack was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PackSource {
    /// Named by the caller (`EngineBuilder::models_dir`, `--models`, `models_dir=`).
    Explicit,
    /// The `FACEPRINT_MODELS` environment variable.
    Environment,
    /// An installed model package (`faceprint-models` wheel, `@faceprint/models` npm package).
    Package,
    /// The user's data directory (`~/.local/share/faceprint/models`).
    UserData,
    /// `PREFIX/share/faceprint/models` beside the installed library or program.
    Installed,
}

impl PackSource {
    /// A stable lower-case name (`explicit`, `environment`, `package`, `user_data`, `installed`).
    pub fn as_str(self) -> &'static str {
        match self {
            PackSource::Explicit => "explicit",
            PackSource::Environment => "environment",
            PackSource::Package => "package",
            PackSource::UserData => "user_data",
            PackSource::Installed => "installed",
        }
    }
}

static PACKAGE_DIR: RwLock<Option<PathBuf>> = RwLock::new(None);

/// Registers the directory of an installed model package. The Python and Node bindings call
/// this at import when `faceprint-models` / `@faceprint/models` is installed; an application
/// that ships its own pack inside its package may do the same.
pub fn register_package_dir(dir: impl Into<PathBuf>) {
    let mut slot = PACKAGE_DIR.write().unwrap_or_else(|e| e.into_inner());
    *slot = Some(dir.into());
}

/// The registered model package directory, if any.
pub fn package_dir() -> Option<PathBuf> {
    PACKAGE_DIR
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// The user's model directory: `$XDG_DATA_HOME/faceprint/models`, else
/// `$HOME/.local/share/faceprint/models` (None without either variable).
pub fn user_models_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    let data = match var("XDG_DATA_HOME").map(PathBuf::from) {
        Some(d) if d.is_absolute() => d,
        // The XDG spec says a relative value is invalid and must be ignored.
        _ => PathBuf::from(var("HOME")?).join(".local/share"),
    };
    Some(data.join("faceprint/models"))
}

/// `PREFIX/share/faceprint/models` for the library this code is linked into
/// (`PREFIX/lib/libfaceprint.so`, a wheel's or npm package's extension) and for the running
/// program (`PREFIX/bin/faceprint`), deduplicated.
pub fn installed_models_dirs() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let roots = [
        crate::runtime::own_library_dir(),
        std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf)),
    ];
    for dir in roots.into_iter().flatten() {
        let candidate = dir.join("../share/faceprint/models");
        let candidate = candidate.canonicalize().unwrap_or(candidate);
        if !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    out
}

/// The places a pack is looked for without an explicit directory, in order, each with its
/// source. `FACEPRINT_MODELS` comes first when it is set (see [`locate`] for its rule).
pub fn candidates() -> Vec<(PackSource, PathBuf)> {
    let mut out = Vec::new();
    if let Some(v) = std::env::var_os(MODELS_ENV).filter(|v| !v.is_empty()) {
        out.push((PackSource::Environment, PathBuf::from(v)));
    }
    if let Some(d) = package_dir() {
        out.push((PackSource::Package, d));
    }
    if let Some(d) = user_models_dir() {
        out.push((PackSource::UserData, d));
    }
    for d in installed_models_dirs() {
        out.push((PackSource::Installed, d));
    }
    out
}

/// Finds the pack directory: the first candidate holding a manifest. A `FACEPRINT_MODELS` that
/// is set but holds no manifest is an error naming it, so a typo is not papered over by another
/// pack.
pub fn locate() -> Result<(PackSource, PathBuf)> {
    let candidates = candidates();
    if let Some((PackSource::Environment, dir)) = candidates.first() {
        if dir.join(MANIFEST_FILE).is_file() {
            return Ok((PackSource::Environment, dir.clone()));
        }
        return Err(Error::ModelsNotFound(format!(
            "{MODELS_ENV} is set to {} but there is no {MANIFEST_FILE} there: point it at a model \
             pack (a directory with {MANIFEST_FILE}) or unset it",
            dir.display()
        )));
    }
    if let Some((source, dir)) = candidates
        .iter()
        .find(|(_, d)| d.join(MANIFEST_FILE).is_file())
    {
        return Ok((*source, dir.clone()));
    }
    Err(Error::ModelsNotFound(format!(
        "no model pack found (looked in: {}); install one with `pip install faceprint-models`, \
         `npm install @faceprint/models` or `faceprint models install --from DIR`, or set \
         {MODELS_ENV}",
        candidates
            .iter()
            .map(|(_, p)| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}
