//! The model pack: the manifest (`models/manifest.toml`) describes every model by data — file,
//! checksum, input spec, alignment template, calibration table — and this module finds the pack,
//! parses the manifest and loads model files with their sha256 checked.

mod manifest;

pub use manifest::{
    Calibration, CalibrationPoint, EmbedderSpec, InputSpec, Manifest, ModelEntry, Source,
};

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// File name of the manifest inside a models directory.
pub const MANIFEST_FILE: &str = "manifest.toml";

/// Where to look for the model pack when the caller names no directory, in order.
pub fn models_dir_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(v) = std::env::var_os("FACEPRINT_MODELS").filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(v));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            out.push(dir.join("models"));
            out.push(dir.join("../share/faceprint/models"));
        }
    }
    out.push(crate::workspace_dir().join("models"));
    out
}

/// A model pack on disk: a directory holding `manifest.toml` and the model files.
#[derive(Debug, Clone)]
pub struct ModelPack {
    dir: PathBuf,
    manifest: Manifest,
}

impl ModelPack {
    /// Opens the pack in `dir` (parses the manifest; files are checked when loaded).
    pub fn open(dir: impl AsRef<Path>) -> Result<ModelPack> {
        let dir = dir.as_ref().to_path_buf();
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::ModelsNotFound(format!(
                    "{} does not exist; run ./setup.sh or point FACEPRINT_MODELS at a model pack",
                    path.display()
                ))
            } else {
                Error::io(&path, e)
            }
        })?;
        let manifest = Manifest::parse(&text)
            .map_err(|e| Error::ModelManifest(format!("{}: {e}", path.display())))?;
        Ok(ModelPack { dir, manifest })
    }

    /// Finds a pack: the first candidate directory holding a manifest.
    pub fn discover() -> Result<ModelPack> {
        let candidates = models_dir_candidates();
        match candidates.iter().find(|d| d.join(MANIFEST_FILE).is_file()) {
            Some(d) => ModelPack::open(d),
            None => Err(Error::ModelsNotFound(format!(
                "no {MANIFEST_FILE} in {}; run ./setup.sh or set FACEPRINT_MODELS",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest entry with this id.
    pub fn entry(&self, id: &str) -> Result<&ModelEntry> {
        self.manifest.entry(id).ok_or_else(|| {
            Error::ModelManifest(format!("no model with id {id:?} in {}", self.dir.display()))
        })
    }

    /// Reads a model file and checks its size and sha256 against the manifest.
    pub fn load(&self, id: &str) -> Result<Vec<u8>> {
        let entry = self.entry(id)?;
        let path = self.dir.join(&entry.file);
        let bytes = std::fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::ModelsNotFound(format!(
                    "{} is missing; run ./setup.sh to install the model pack",
                    path.display()
                ))
            } else {
                Error::io(&path, e)
            }
        })?;
        let actual = hex(&Sha256::digest(&bytes));
        if !entry.accepts(&actual, bytes.len() as u64) {
            return Err(Error::ModelChecksum {
                path,
                expected: entry.sha256.clone(),
                actual,
            });
        }
        Ok(bytes)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
