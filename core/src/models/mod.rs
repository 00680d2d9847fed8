//! The model pack: the manifest (`models/manifest.toml`) describes every model by data — file,
//! checksum, input spec, alignment template, calibration table — and this module finds the pack,
//! parses the manifest and loads model files with their sha256 checked.

mod install;
mod locate;
mod manifest;

pub use install::{install_pack, FileCheck};
pub use locate::{
    candidates, installed_models_dirs, locate, package_dir, register_package_dir, user_models_dir,
    PackSource, MODELS_ENV,
};

pub use manifest::{
    Calibration, CalibrationPoint, EmbedderSpec, InputSpec, Manifest, ModelEntry, Source,
};

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// File name of the manifest inside a models directory.
pub const MANIFEST_FILE: &str = "manifest.toml";

/// A model pack on disk: a directory holding `manifest.toml` and the model files.
#[derive(Debug, Clone)]
pub struct ModelPack {
    dir: PathBuf,
    source: PackSource,
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
                    "{} does not exist: the model pack is a directory with {MANIFEST_FILE} and \
                     the model files",
                    path.display()
                ))
            } else {
                Error::io(&path, e)
            }
        })?;
        let manifest = Manifest::parse(&text)
            .map_err(|e| Error::ModelManifest(format!("{}: {e}", path.display())))?;
        Ok(ModelPack {
            dir,
            source: PackSource::Explicit,
            manifest,
        })
    }

    /// Finds a pack where [`locate`] says (`FACEPRINT_MODELS`, the installed model package,
    /// the user's data directory, beside the installed library).
    pub fn discover() -> Result<ModelPack> {
        let (source, dir) = locate()?;
        let mut pack = ModelPack::open(dir)?;
        pack.source = source;
        Ok(pack)
    }

    /// The pack's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the pack was found.
    pub fn source(&self) -> PackSource {
        self.source
    }

    /// The parsed manifest.
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
                    "{} is missing from the model pack (`faceprint models verify` checks a pack)",
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
