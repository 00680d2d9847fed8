//! Opens the engine over the encrypted template store: in the data dir, or with
//! `server.database` in PostgreSQL (schema `<server>_templates`), shared by every node.
//!
//! The master key comes from `FACEPRINT_KEY` (base64 of 32 bytes) or, when that is not set,
//! from `DATA/master.key`, which the first start creates with mode 0600 — and says so loudly:
//! whoever can read that file can read every template, and without it none can be read.

use crate::state::Settings;
use faceprint::store::{MasterKey, PgStore, SqliteStore, TemplateStore};
use faceprint::Engine;
use std::sync::Arc;

pub const STORE_FILE: &str = "faces.db";
pub const KEY_FILE: &str = "master.key";

/// The master key: `FACEPRINT_KEY`, else the data dir's key file (created if missing).
pub fn master_key(data_dir: &std::path::Path) -> Result<MasterKey, String> {
    if let Ok(v) = std::env::var("FACEPRINT_KEY") {
        return MasterKey::from_base64(&v).map_err(|e| format!("FACEPRINT_KEY: {e}"));
    }
    let path = data_dir.join(KEY_FILE);
    if path.exists() {
        crate::files::check_private(&path);
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?,
        );
        tracing::warn!(path = %path.display(), "FACEPRINT_KEY is not set: using the master key file in the data dir; for production keep the key outside the data dir (FACEPRINT_KEY from a secret manager)");
        return MasterKey::from_base64(&text).map_err(|e| format!("{}: {e}", path.display()));
    }
    let key = MasterKey::generate();
    crate::files::write_secret_file(&path, key.to_base64().as_bytes())?;
    tracing::warn!(path = %path.display(), key_id = key.id(), "FACEPRINT_KEY is not set: GENERATED A NEW MASTER KEY and wrote it to the data dir (mode 0600). Every template is encrypted with it: back it up separately from the data, and for production move it out of the data dir into FACEPRINT_KEY");
    Ok(key)
}

/// Builds the engine: the store in `DATA/faces.db` (or the server's PostgreSQL schema), the
/// configured threads and model pack.
pub fn open(server_name: &str, settings: &Settings) -> Result<(Engine, MasterKey), String> {
    let data = &settings.server.data_dir;
    let (store, key): (Arc<dyn TemplateStore>, MasterKey) = match &settings.server.database {
        None => {
            let key = master_key(data)?;
            let store = SqliteStore::open(data.join(STORE_FILE), key.clone())
                .map_err(|e| format!("template store: {e}"))?;
            (Arc::new(store), key)
        }
        Some(url) => {
            // A key made up by one node would lock every other out: it must be given.
            let value = std::env::var("FACEPRINT_KEY").map_err(|_| {
                "with server.database (PostgreSQL) every node must use the same master key: set \
                 FACEPRINT_KEY (base64 of 32 bytes)"
                    .to_string()
            })?;
            let key = MasterKey::from_base64(&value).map_err(|e| format!("FACEPRINT_KEY: {e}"))?;
            let store = PgStore::builder(url, key.clone())
                .schema(&crate::db::schema_of(server_name, "_templates"))
                .open()
                .map_err(|e| format!("template store (PostgreSQL): {e}"))?;
            (Arc::new(store), key)
        }
    };
    Ok((build(settings, store)?, key))
}

fn build(settings: &Settings, store: Arc<dyn TemplateStore>) -> Result<Engine, String> {
    let mut b = Engine::builder()
        .store(store)
        .intra_op_threads(settings.compute.intra_op_threads)
        .and_then(|b| b.max_sessions(settings.compute.effective_model_permits()))
        .map_err(|e| e.to_string())?;
    if let Some(dir) = &settings.server.models_dir {
        b = b.models_dir(dir);
    }
    // Every decode of an uploaded image is refused from its header beyond these, before any
    // pixel is decoded.
    b = b.image_limits(faceprint::ImageLimits {
        max_bytes: settings.limits.max_upload_bytes as u64,
        max_pixels: settings.limits.max_image_pixels,
    });
    b.build().map_err(|e| format!("engine: {e}"))
}
