//! Search-index snapshots kept beside a store file (`faces.db.index/`), sealed like templates:
//! each file has its own random data key, wrapped under the store's master key, and its
//! contents are AES-256-GCM with the collection's name as associated data. A snapshot is only
//! a cache: one that is missing, torn, altered, moved or under a retired key is reported as an
//! error and the index is rebuilt from the store.

use super::crypto::{self, DataKey, MasterKey};
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"FPSNAPE1";
/// A snapshot of 50M templates is about 7 GB; anything larger is not one of ours.
const MAX_SNAPSHOT_BYTES: u64 = 16 << 30;

/// The folder of a store's snapshots.
pub(crate) fn dir_of(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".index");
    PathBuf::from(name)
}

/// One file per collection, named by a hash of its name (names are any Unicode).
fn file_name(collection: &str) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "{}.hnsw",
        &crate::models::hex(&Sha256::digest(collection.as_bytes()))[..32]
    )
}

fn key_aad(collection: &str) -> Vec<u8> {
    crypto::aad(&["index-snapshot-key", collection])
}

fn body_aad(collection: &str) -> Vec<u8> {
    crypto::aad(&["index-snapshot", collection])
}

fn put(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u16).to_le_bytes());
    out.extend_from_slice(b);
}

/// (key id, wrapped key, sealed body) of a snapshot file's bytes.
fn split(bytes: &[u8]) -> Result<(&str, &[u8], &[u8])> {
    let corrupt = |why: &str| Error::StoreCorrupt(format!("index snapshot: {why}"));
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| corrupt("not a Faceprint snapshot file (or another version)"))?;
    let mut r = crate::index::ByteReader(rest);
    let key_id_len = r.u16()? as usize;
    let key_id = std::str::from_utf8(r.take(key_id_len)?).map_err(|_| corrupt("key id"))?;
    let wrapped_len = r.u16()? as usize;
    let wrapped = r.take(wrapped_len)?;
    Ok((key_id, wrapped, r.0))
}

/// Writes `payload` as the collection's snapshot: a new file, synced, then renamed over the
/// old one (and the folder synced), so a reader sees the old snapshot or the new, never a mix.
pub(crate) fn save(
    store: &Path,
    collection: &str,
    master: &MasterKey,
    payload: &[u8],
) -> Result<()> {
    let dir = dir_of(store);
    create_dir(&dir)?;
    let key = DataKey::generate();
    let mut bytes = Vec::with_capacity(payload.len() + 128);
    bytes.extend_from_slice(MAGIC);
    put(&mut bytes, master.id().as_bytes());
    put(
        &mut bytes,
        &crypto::wrap(master, &key, &key_aad(collection))?,
    );
    bytes.extend_from_slice(&crypto::seal_bytes(&key, payload, &body_aad(collection))?);
    replace(&dir, &file_name(collection), &bytes)
}

/// Whether the collection has a snapshot file.
pub(crate) fn exists(store: &Path, collection: &str) -> bool {
    dir_of(store).join(file_name(collection)).is_file()
}

/// The collection's snapshot, decrypted with whichever of `keys` sealed it; `None` if there is
/// none.
pub(crate) fn load(
    store: &Path,
    collection: &str,
    keys: &[&MasterKey],
) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    let path = dir_of(store).join(file_name(collection));
    let bytes = match crate::files::read_limited(&path, MAX_SNAPSHOT_BYTES, "index snapshot") {
        Ok(b) => b,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let (key_id, wrapped, body) = split(&bytes)?;
    let master = keys.iter().find(|k| k.id() == key_id).ok_or_else(|| {
        Error::WrongKey(format!(
            "index snapshot: sealed under master key {key_id}, which this store no longer holds"
        ))
    })?;
    let key = crypto::unwrap(master, wrapped, &key_aad(collection))?;
    crypto::open_bytes(&key, body, &body_aad(collection)).map(Some)
}

/// After a key rotation: re-wraps every snapshot's data key under `new` (the bodies are copied
/// unchanged). A snapshot that cannot be re-wrapped is removed: it would only be rebuilt.
pub(crate) fn rewrap(
    store: &Path,
    old: &[&MasterKey],
    new: &MasterKey,
    collections: &[String],
) -> Result<()> {
    let dir = dir_of(store);
    for c in collections {
        let path = dir.join(file_name(c));
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&path, e)),
        };
        let rewrapped = split(&bytes).and_then(|(key_id, wrapped, body)| {
            if key_id == new.id() {
                return Ok(None);
            }
            let master = old
                .iter()
                .find(|k| k.id() == key_id)
                .ok_or_else(|| Error::WrongKey(format!("snapshot key {key_id}")))?;
            let key = crypto::unwrap(master, wrapped, &key_aad(c))?;
            let mut out = Vec::with_capacity(bytes.len());
            out.extend_from_slice(MAGIC);
            put(&mut out, new.id().as_bytes());
            put(&mut out, &crypto::wrap(new, &key, &key_aad(c))?);
            out.extend_from_slice(body);
            Ok(Some(out))
        });
        match rewrapped {
            Ok(Some(out)) => replace(&dir, &file_name(c), &out)?,
            Ok(None) => {}
            Err(e) => {
                log::warn!("index snapshot of collection {c:?} could not be re-wrapped ({e}): removed, it will be rebuilt");
                std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Temporary files are `NAME.tmp.PID.RANDOM`: one left by a process that no longer runs (killed
/// mid-write) is removed by the next save.
fn replace(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    use rand::Rng;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = dir.join(format!(
        "{name}.tmp.{}.{:016x}",
        std::process::id(),
        rand::thread_rng().gen::<u64>()
    ));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(name))?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(dir.join(name), e));
    }
    remove_orphans(dir, name);
    Ok(())
}

fn remove_orphans(dir: &Path, name: &str) {
    let prefix = format!("{name}.tmp.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let pid: Option<i32> = rest.split('.').next().and_then(|p| p.parse().ok());
        // SAFETY: kill with signal 0 only asks whether the process exists.
        let alive = pid.is_some_and(|p| p > 0 && unsafe { libc::kill(p, 0) } == 0);
        if !alive {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
