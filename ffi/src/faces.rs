//! Detection, embeddings and 1:1 comparison.

use crate::engine::{faceprint_engine, faceprint_image};
use crate::handle::{borrow, copy_item, free, into_raw, Out};
use crate::status::{faceprint_error, faceprint_status, guard, quiet, Failure};
use faceprint_core::{Embedding, Face, FaceEmbedding, Threshold};

/// One detected face: box corners, five landmarks as x,y pairs (left eye, right eye, nose,
/// left mouth corner, right mouth corner, as seen in an upright face) and detector score.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct faceprint_face {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub landmarks: [f32; 10],
    pub score: f32,
}

impl From<&Face> for faceprint_face {
    fn from(f: &Face) -> Self {
        let mut landmarks = [0.0; 10];
        for (i, p) in f.landmarks.iter().enumerate() {
            landmarks[2 * i] = p[0];
            landmarks[2 * i + 1] = p[1];
        }
        faceprint_face {
            x1: f.bbox.x1,
            y1: f.bbox.y1,
            x2: f.bbox.x2,
            y2: f.bbox.y2,
            landmarks,
            score: f.score,
        }
    }
}

/// Faces of one image, best first. Immutable: may be shared between threads.
pub struct faceprint_face_list(Vec<faceprint_face>);

/// An L2-normalised face embedding, with the face it came from when it came from an image.
/// Immutable: may be shared between threads.
pub struct faceprint_embedding {
    pub(crate) embedding: Embedding,
    face: Option<Face>,
}

impl From<FaceEmbedding> for faceprint_embedding {
    fn from(fe: FaceEmbedding) -> Self {
        faceprint_embedding {
            face: Some(fe.face),
            embedding: fe.embedding,
        }
    }
}

impl faceprint_embedding {
    /// As the core's probe: the face it came from, or (made from a vector) none.
    pub(crate) fn probe(&self) -> FaceEmbedding {
        match self.face {
            Some(face) => FaceEmbedding {
                face,
                embedding: self.embedding.clone(),
            },
            None => FaceEmbedding::stored(self.embedding.clone()),
        }
    }
}

/// Every face of an image with its embedding. Immutable: may be shared between threads.
pub struct faceprint_embedding_list(Vec<faceprint_embedding>);

impl faceprint_embedding_list {
    pub(crate) fn new(list: Vec<faceprint_embedding>) -> Self {
        faceprint_embedding_list(list)
    }
}

/// Which scale a threshold is on.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum faceprint_threshold_kind {
    /// A cosine similarity in -1..1.
    Score = 0,
    /// A false-match rate (e.g. 1e-4) looked up in the model's calibration table.
    Fmr = 1,
}

/// A match threshold. Pass NULL wherever one is accepted for the engine's default (FMR 1e-4).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct faceprint_threshold {
    /// A faceprint_threshold_kind.
    pub kind: u32,
    pub value: f64,
}

pub(crate) unsafe fn threshold(
    t: *const faceprint_threshold,
) -> Result<Option<Threshold>, Failure> {
    let Some(t) = t.as_ref() else { return Ok(None) };
    match t.kind {
        0 => Ok(Some(Threshold::Score(t.value as f32))),
        1 => Ok(Some(Threshold::Fmr(t.value))),
        other => Err(Failure::Core(faceprint_core::Error::InvalidArgument(
            format!("threshold kind {other} is not a faceprint_threshold_kind"),
        ))),
    }
}

/// The result of `faceprint_compare`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct faceprint_comparison {
    /// Cosine similarity.
    pub score: f32,
    /// The similarity the decision used.
    pub threshold: f32,
    /// score >= threshold.
    pub same: bool,
    /// The false-match rate of the threshold; NaN when the model is uncalibrated.
    pub fmr: f64,
}

/// Finds the faces of an image, best first.
#[no_mangle]
pub unsafe extern "C" fn faceprint_detect(
    engine: *const faceprint_engine,
    image: *const faceprint_image,
    out: *mut *mut faceprint_face_list,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let image = borrow(image, "image")?;
        let out = Out::new(out, "out")?;
        let faces = engine.0.detect(&image.0)?;
        out.write(into_raw(faceprint_face_list(
            faces.iter().map(faceprint_face::from).collect(),
        )));
        Ok(())
    })
}

/// Number of faces (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_face_list_len(list: *const faceprint_face_list) -> usize {
    quiet(0, || list.as_ref().map_or(0, |l| l.0.len()))
}

/// Copies face `index` into `*out`; `FACEPRINT_STATUS_INVALID_ARGUMENT` when out of range.
#[no_mangle]
pub unsafe extern "C" fn faceprint_face_list_get(
    list: *const faceprint_face_list,
    index: usize,
    out: *mut faceprint_face,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    copy_item(list, |l| &l.0, index, out, err)
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_face_list_free(list: *mut faceprint_face_list) {
    free(list)
}

/// Every face of an image with its embedding (an empty list when there is none).
#[no_mangle]
pub unsafe extern "C" fn faceprint_extract(
    engine: *const faceprint_engine,
    image: *const faceprint_image,
    out: *mut *mut faceprint_embedding_list,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let image = borrow(image, "image")?;
        let out = Out::new(out, "out")?;
        let list = engine
            .0
            .extract(&image.0)?
            .into_iter()
            .map(faceprint_embedding::from)
            .collect();
        out.write(into_raw(faceprint_embedding_list(list)));
        Ok(())
    })
}

/// The largest face's embedding; `FACEPRINT_STATUS_NO_FACE` when there is none.
#[no_mangle]
pub unsafe extern "C" fn faceprint_extract_largest(
    engine: *const faceprint_engine,
    image: *const faceprint_image,
    out: *mut *mut faceprint_embedding,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let image = borrow(image, "image")?;
        let out = Out::new(out, "out")?;
        let fe = engine.0.extract_largest(&image.0)?;
        out.write(into_raw(faceprint_embedding::from(fe)));
        Ok(())
    })
}

/// The embedding of an image that already is a face crop (another detector's box, a document
/// portrait), without detection: the face is the whole image, its landmarks at YuNet's mean
/// positions in its own box. Free with `faceprint_embedding_free`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_embed_face_crop(
    engine: *const faceprint_engine,
    image: *const faceprint_image,
    out: *mut *mut faceprint_embedding,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let image = borrow(image, "image")?;
        let out = Out::new(out, "out")?;
        let fe = engine.0.embed_face_crop(&image.0)?;
        out.write(into_raw(faceprint_embedding::from(fe)));
        Ok(())
    })
}

/// Number of embeddings (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_embedding_list_len(
    list: *const faceprint_embedding_list,
) -> usize {
    quiet(0, || list.as_ref().map_or(0, |l| l.0.len()))
}

/// Embedding `index`, owned by the list (do not free it); NULL when out of range.
#[no_mangle]
pub unsafe extern "C" fn faceprint_embedding_list_get(
    list: *const faceprint_embedding_list,
    index: usize,
) -> *const faceprint_embedding {
    quiet(std::ptr::null(), || {
        list.as_ref()
            .and_then(|l| l.0.get(index))
            .map_or(std::ptr::null(), |e| e as *const _)
    })
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_embedding_list_free(list: *mut faceprint_embedding_list) {
    free(list)
}

/// An embedding from stored numbers: checked (finite, non-zero, the engine's dimension) and
/// L2-normalised, tagged with the engine's model.
#[no_mangle]
pub unsafe extern "C" fn faceprint_embedding_from_vector(
    engine: *const faceprint_engine,
    values: *const f32,
    dim: usize,
    out: *mut *mut faceprint_embedding,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        // The length is checked before a single value is read or copied.
        if dim != engine.0.embedding_dim() {
            return Err(Failure::Core(faceprint_core::Error::InvalidEmbedding(
                format!(
                    "dimension {dim} does not match the engine's model ({})",
                    engine.0.embedding_dim()
                ),
            )));
        }
        if values.is_null() {
            return Err(Failure::Null("values"));
        }
        let out = Out::new(out, "out")?;
        let values = if dim == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(values, dim)
        };
        let embedding = engine.0.embedding_from_vector(values.to_vec())?;
        out.write(into_raw(faceprint_embedding {
            embedding,
            face: None,
        }));
        Ok(())
    })
}

/// Number of dimensions (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_embedding_dim(embedding: *const faceprint_embedding) -> usize {
    quiet(0, || embedding.as_ref().map_or(0, |e| e.embedding.dim()))
}

/// The L2 norm of the model's raw output (`values * norm` is the raw vector; 1 for a stored
/// vector; 0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_embedding_norm(embedding: *const faceprint_embedding) -> f32 {
    quiet(0.0, || {
        embedding.as_ref().map_or(0.0, |e| e.embedding.norm())
    })
}

/// The `dim` values, owned by the embedding; NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn faceprint_embedding_values(
    embedding: *const faceprint_embedding,
) -> *const f32 {
    quiet(std::ptr::null(), || {
        embedding
            .as_ref()
            .map_or(std::ptr::null(), |e| e.embedding.vector().as_ptr())
    })
}

/// The face the embedding came from; `FACEPRINT_STATUS_NOT_FOUND` for one made from a vector.
#[no_mangle]
pub unsafe extern "C" fn faceprint_embedding_face(
    embedding: *const faceprint_embedding,
    out: *mut faceprint_face,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let e = borrow(embedding, "embedding")?;
        let out = Out::new(out, "out")?;
        let face = e.face.ok_or_else(|| {
            Failure::Core(faceprint_core::Error::NotFound(
                "this embedding was made from a vector and has no face".into(),
            ))
        })?;
        out.write(faceprint_face::from(&face));
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_embedding_free(embedding: *mut faceprint_embedding) {
    free(embedding)
}

/// Compares two embeddings of this engine's model at `threshold` (NULL: the engine's default).
#[no_mangle]
pub unsafe extern "C" fn faceprint_compare(
    engine: *const faceprint_engine,
    a: *const faceprint_embedding,
    b: *const faceprint_embedding,
    threshold: *const faceprint_threshold,
    out: *mut faceprint_comparison,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let (a, b) = (borrow(a, "a")?, borrow(b, "b")?);
        let t = self::threshold(threshold)?;
        let out = Out::new(out, "out")?;
        let c = engine.0.compare(&a.embedding, &b.embedding, t)?;
        out.write(faceprint_comparison {
            score: c.score,
            threshold: c.threshold,
            same: c.same,
            fmr: c.fmr.unwrap_or(f64::NAN),
        });
        Ok(())
    })
}

/// Called as each image of `faceprint_extract_batch` finishes, from the worker thread that
/// finished it (so it must be thread-safe): images done so far, images in all, and the
/// caller's `user_data`.
pub type faceprint_progress_fn =
    Option<unsafe extern "C" fn(done: usize, total: usize, user_data: *mut std::ffi::c_void)>;

/// The results of `faceprint_extract_batch`, one per image in input order.
pub struct faceprint_batch(Vec<BatchEntry>);

struct BatchEntry {
    status: faceprint_status,
    message: Option<std::ffi::CString>,
    faces: Option<faceprint_embedding_list>,
}

/// The callback and its data, shared by the worker threads; the caller promised both are safe
/// to use from any thread for the length of the call.
struct Progress(faceprint_progress_fn, *mut std::ffi::c_void);
// SAFETY: see above; the pointer is only passed back to the caller's function.
unsafe impl Sync for Progress {}

impl Progress {
    fn report(&self, done: usize, total: usize) {
        if let Some(f) = self.0 {
            // SAFETY: the caller's function with the caller's data, as documented.
            unsafe { f(done, total, self.1) }
        }
    }
}

/// Extracts every face of `count` image files on `threads` worker threads (0: the number of
/// cores; at most 256). One image's error does not stop the others: ask each entry's status.
/// `progress` (may be NULL) is called after each image. Free the result with
/// `faceprint_batch_free`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_extract_batch(
    engine: *const faceprint_engine,
    paths: *const *const std::ffi::c_char,
    count: usize,
    threads: usize,
    progress: faceprint_progress_fn,
    user_data: *mut std::ffi::c_void,
    out: *mut *mut faceprint_batch,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let out = Out::new(out, "out")?;
        if paths.is_null() && count > 0 {
            return Err(Failure::Null("paths"));
        }
        let mut sources = Vec::with_capacity(count);
        for i in 0..count {
            let path = crate::handle::string(*paths.add(i), "paths[i]")?;
            sources.push(faceprint_core::ImageSource::Path(path.into()));
        }
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let callback = Progress(progress, user_data);
        let report = |done: usize, total: usize| callback.report(done, total);
        let entries = engine
            .0
            .extract_batch(&sources, threads, &report)?
            .into_iter()
            .map(|item| match item {
                Ok(found) => BatchEntry {
                    status: faceprint_status::Ok,
                    message: None,
                    faces: Some(faceprint_embedding_list(
                        found.into_iter().map(faceprint_embedding::from).collect(),
                    )),
                },
                Err(e) => BatchEntry {
                    status: faceprint_status::from_code(e.code()),
                    message: std::ffi::CString::new(e.to_string().replace('\0', " ")).ok(),
                    faces: None,
                },
            })
            .collect();
        out.write(into_raw(faceprint_batch(entries)));
        Ok(())
    })
}

/// How many images the batch holds.
#[no_mangle]
pub unsafe extern "C" fn faceprint_batch_len(batch: *const faceprint_batch) -> usize {
    quiet(0, || batch.as_ref().map_or(0, |b| b.0.len()))
}

/// Image `index`'s status: `FACEPRINT_STATUS_OK`, or the error it gave
/// (`FACEPRINT_STATUS_INVALID_ARGUMENT` when `index` is out of range).
#[no_mangle]
pub unsafe extern "C" fn faceprint_batch_status(
    batch: *const faceprint_batch,
    index: usize,
) -> faceprint_status {
    quiet(faceprint_status::InvalidArgument, || {
        batch
            .as_ref()
            .and_then(|b| b.0.get(index))
            .map_or(faceprint_status::InvalidArgument, |e| e.status)
    })
}

/// Image `index`'s error message, owned by the batch; NULL when it succeeded or out of range.
#[no_mangle]
pub unsafe extern "C" fn faceprint_batch_message(
    batch: *const faceprint_batch,
    index: usize,
) -> *const std::ffi::c_char {
    quiet(std::ptr::null(), || {
        batch
            .as_ref()
            .and_then(|b| b.0.get(index))
            .and_then(|e| e.message.as_ref())
            .map_or(std::ptr::null(), |m| m.as_ptr())
    })
}

/// Image `index`'s faces, owned by the batch (do not free them); NULL when it failed or out of
/// range. An image without a face has an empty list.
#[no_mangle]
pub unsafe extern "C" fn faceprint_batch_faces(
    batch: *const faceprint_batch,
    index: usize,
) -> *const faceprint_embedding_list {
    quiet(std::ptr::null(), || {
        batch
            .as_ref()
            .and_then(|b| b.0.get(index))
            .and_then(|e| e.faces.as_ref())
            .map_or(std::ptr::null(), |l| l as *const _)
    })
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_batch_free(batch: *mut faceprint_batch) {
    free(batch)
}
