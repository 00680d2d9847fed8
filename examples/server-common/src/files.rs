//! Secret files and the data directory.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Makes the data dir private, on every start: created 0700 if missing, else tightened to
/// 0700, and every file in it (the databases with their `-wal`/`-shm`, keys, secrets) to
/// 0600. They hold names, emails, sessions and webhook secrets: a 0755 directory someone
/// made by hand must not leave them readable. From here on this process creates files
/// owner-only (umask 077), so what SQLite and the server add later is private too. An error
/// (a directory or file of another owner) refuses the start, saying which.
pub fn ensure_data_dir(dir: &Path) -> Result<(), String> {
    // SAFETY: umask(2) only sets the process's file-creation mask; it cannot fail.
    unsafe { libc::umask(0o077) };
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))?;
        tracing::info!(path = %dir.display(), "created the data dir");
    }
    let private = |path: &Path, mode: u32| -> Result<(), String> {
        let meta = std::fs::symlink_metadata(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if meta.permissions().mode() & 0o077 == 0 {
            return Ok(());
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
            format!(
                "cannot make {} private (chmod {mode:o}): {e}; the server does not start with \
                 its data readable by others",
                path.display()
            )
        })?;
        tracing::info!(path = %path.display(), mode = format!("{mode:o}"), "made private");
        Ok(())
    };
    private(dir, 0o700)?;
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        // Files only: links are not followed, directories (the media root) are the operator's.
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            private(&entry.path(), 0o600)?;
        }
    }
    Ok(())
}

/// Writes a new secret file readable by its owner only (0600), synced; refuses to overwrite.
pub fn write_secret_file(path: &Path, contents: &[u8]) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(contents)
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    if let Some(parent) = path.parent() {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Warns when a secret file can be read by others.
pub fn check_private(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{:o}", meta.permissions().mode() & 0o777), "secret file is readable by group or others; chmod 600 it");
        }
    }
}
