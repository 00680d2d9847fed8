//! Checking a pack file by file, and installing one into a directory (`faceprint models verify`
//! and `faceprint models install`).

use super::{ModelPack, MANIFEST_FILE};
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The outcome of checking one model file of a pack against its manifest entry.
#[derive(Debug)]
pub struct FileCheck {
    /// The model id.
    pub id: String,
    /// The file, relative to the pack.
    pub file: String,
    /// The size the manifest gives.
    pub bytes: u64,
    /// `Ok` when the file is present with the manifest's size and sha256.
    pub result: Result<()>,
}

impl ModelPack {
    /// Checks every file of the manifest (present, size and sha256), calling `progress(done,
    /// total)` after each.
    pub fn verify(&self, mut progress: impl FnMut(usize, usize)) -> Vec<FileCheck> {
        let total = self.manifest.models.len();
        let mut out = Vec::with_capacity(total);
        for (i, entry) in self.manifest.models.iter().enumerate() {
            out.push(FileCheck {
                id: entry.id.clone(),
                file: entry.file.clone(),
                bytes: entry.bytes,
                result: self.load(&entry.id).map(drop),
            });
            progress(i + 1, total);
        }
        out
    }
}

/// Installs the pack in `from` into `to` (created if missing, replaced if present): each file is
/// read once, checked and written into a staging directory beside `to`; only when all passed is
/// the staging directory synced and renamed into place, so a bad source changes nothing.
/// Returns the installed pack.
pub fn install_pack(
    from: &Path,
    to: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<ModelPack> {
    let source = ModelPack::open(from)?;
    let total = source.manifest.models.len();
    let parent = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let name = to
        .file_name()
        .ok_or_else(|| Error::InvalidArgument(format!("{} is not a directory name", to.display())))?
        .to_string_lossy()
        .into_owned();
    let staging = parent.join(format!(".{name}.installing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let written = (|| -> Result<()> {
        std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        for (i, entry) in source.manifest.models.iter().enumerate() {
            let bytes = source.load(&entry.id)?;
            write_synced(&staging.join(&entry.file), &bytes)?;
            progress(i + 1, total);
        }
        let manifest = std::fs::read(from.join(MANIFEST_FILE))
            .map_err(|e| Error::io(from.join(MANIFEST_FILE), e))?;
        write_synced(&staging.join(MANIFEST_FILE), &manifest)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    // Replace: the old pack is moved aside first, so `to` is at every moment either the old
    // pack, absent (between the two renames), or the new one — never a mix.
    let retired = parent.join(format!(".{name}.replaced-{}", std::process::id()));
    let had_old = to.exists();
    if had_old {
        std::fs::rename(to, &retired).map_err(|e| Error::io(to, e))?;
    }
    if let Err(e) = std::fs::rename(&staging, to) {
        if had_old {
            let _ = std::fs::rename(&retired, to);
        }
        let _ = std::fs::remove_dir_all(&staging);
        return Err(Error::io(to, e));
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&retired);
    }
    if let Ok(d) = std::fs::File::open(&parent) {
        let _ = d.sync_all();
    }
    let mut pack = ModelPack::open(to)?;
    pack.source = source.source;
    Ok(pack)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut f = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}
