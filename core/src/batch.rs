//! Extracting many images at once on a pool of worker threads, with progress: the one
//! implementation behind the CLI's multi-image commands and every binding's batch call.

use crate::engine::{Engine, FaceEmbedding};
use crate::error::{Error, Result};
use crate::image::Image;
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One image of a batch: decoded by the worker that extracts it.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// A file (a regular file within the image limits).
    Path(PathBuf),
    /// Encoded bytes (JPEG, PNG, WebP, BMP, GIF, PNM, TIFF, QOI).
    Bytes(Vec<u8>),
    /// Pixels already decoded.
    Image(Image),
}

/// The outcome of one image of a batch: every face's embedding, or that image's error.
pub type BatchItem = Result<Vec<FaceEmbedding>>;

impl Engine {
    /// Extracts every face of each image on `threads` workers (1..=256), in input order. One
    /// image's error (unreadable, corrupt, too large) is that image's result and does not stop
    /// the others. `progress(done, total)` is called after each image, from the worker that
    /// finished it.
    pub fn extract_batch(
        &self,
        images: &[ImageSource],
        threads: usize,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Vec<BatchItem>> {
        let threads = crate::runtime::check_thread_count(threads, "the number of threads")?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("faceprint-batch-{i}"))
            .build()
            .map_err(|e| Error::Internal(format!("starting {threads} worker threads: {e}")))?;
        let total = images.len();
        let done = AtomicUsize::new(0);
        Ok(pool.install(|| {
            images
                .par_iter()
                .map(|source| {
                    let item = self.extract_source(source);
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    item
                })
                .collect()
        }))
    }

    fn extract_source(&self, source: &ImageSource) -> BatchItem {
        match source {
            ImageSource::Path(p) => self.extract(&self.open(p)?),
            ImageSource::Bytes(b) => self.extract(&self.decode(b)?),
            ImageSource::Image(i) => self.extract(i),
        }
    }

    /// Every collection of the store: name, model, dimension, creation time.
    pub fn list_collections(&self) -> Result<Vec<crate::store::Collection>> {
        self.store()?.collections()
    }
}
