//! Image arguments: files as given, directories searched recursively for image files.

use faceprint::Error;
use std::path::{Path, PathBuf};

/// Extensions read from directories (any file named explicitly is tried whatever its name).
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "webp", "bmp", "gif", "pgm", "ppm", "pbm", "pnm", "tif", "tiff", "qoi",
];

/// Expands each directory argument into its image files (recursively, sorted by path, hidden
/// entries and symlinked directories skipped); other arguments stay as they are, in order. A
/// directory without any image is an error naming it.
pub fn expand(args: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for arg in args {
        if arg.is_dir() {
            let before = out.len();
            walk(arg, &mut out)?;
            out[before..].sort();
            if out.len() == before {
                return Err(Error::InvalidArgument(format!(
                    "{} holds no image files ({})",
                    arg.display(),
                    IMAGE_EXTENSIONS.join(", ")
                )));
            }
        } else {
            out.push(arg.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, out)?;
        } else if (kind.is_file() || (kind.is_symlink() && path.is_file())) && is_image(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}
