//! Engine builder, engine and image handles.

use crate::handle::{borrow, borrow_mut, bytes, free, into_raw, string, Out};
use crate::status::{faceprint_error, faceprint_status, guard, quiet, Failure};
use crate::store::faceprint_store;
use faceprint_core::{Engine, EngineConfig, Image, PixelFormat};
use std::ffi::c_char;
use std::path::PathBuf;

/// Settings for `faceprint_engine_builder_build`. Use from one thread at a time.
#[derive(Default)]
pub struct faceprint_engine_builder {
    models_dir: Option<PathBuf>,
    onnxruntime: Option<PathBuf>,
    store: Option<faceprint_store>,
    threads: Option<usize>,
    config: Option<EngineConfig>,
    detector: Option<String>,
    embedder: Option<String>,
}

/// Loaded models and an optional store. Thread-safe: share one engine between threads; calls
/// run in parallel.
pub struct faceprint_engine(pub(crate) Engine);

/// A decoded image (packed RGB). Immutable: may be shared between threads.
pub struct faceprint_image(pub(crate) Image);

/// Pixel layouts of `faceprint_image_from_pixels`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum faceprint_pixel_format {
    Rgb = 0,
    Bgr = 1,
    Rgba = 2,
    Bgra = 3,
    Gray = 4,
}

/// A new engine builder with the defaults: models from `FACEPRINT_MODELS` (an error if it
/// holds no pack), else `~/.local/share/faceprint/models`, else `PREFIX/share/faceprint/models`
/// beside libfaceprint; ONNX Runtime from `FACEPRINT_ORT_LIB` or next to libfaceprint; one
/// intra-op thread; no store. Free it with `faceprint_engine_builder_free`.
#[no_mangle]
pub extern "C" fn faceprint_engine_builder_new() -> *mut faceprint_engine_builder {
    quiet(std::ptr::null_mut(), || {
        into_raw(faceprint_engine_builder::default())
    })
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_engine_builder_free(builder: *mut faceprint_engine_builder) {
    free(builder)
}

/// The model pack directory (holding manifest.toml).
#[no_mangle]
pub unsafe extern "C" fn faceprint_engine_builder_models_dir(
    builder: *mut faceprint_engine_builder,
    path: *const c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let b = borrow_mut(builder, "builder")?;
        b.models_dir = Some(PathBuf::from(string(path, "path")?));
        Ok(())
    })
}

/// The detector and embedder model ids from the pack (either may be NULL for the default:
/// yunet-2023mar and omz-reid-0095; dlib-resnet-v1 is the 128-D embedder).
#[no_mangle]
pub unsafe extern "C" fn faceprint_engine_builder_models(
    builder: *mut faceprint_engine_builder,
    detector: *const c_char,
    embedder: *const c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let b = borrow_mut(builder, "builder")?;
        let detector = crate::handle::optional_string(detector, "detector")?;
        let embedder = crate::handle::optional_string(embedder, "embedder")?;
        b.detector = detector.map(str::to_string);
        b.embedder = embedder.map(str::to_string);
        Ok(())
    })
}

/// Absolute path of libonnxruntime.so.1.31.1.
#[no_mangle]
pub unsafe extern "C" fn faceprint_engine_builder_onnxruntime(
    builder: *mut faceprint_engine_builder,
    path: *const c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let b = borrow_mut(builder, "builder")?;
        b.onnxruntime = Some(PathBuf::from(string(path, "path")?));
        Ok(())
    })
}

/// The template store enroll/verify/identify use. The builder keeps its own reference: the
/// caller still frees `store`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_engine_builder_store(
    builder: *mut faceprint_engine_builder,
    store: *const faceprint_store,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let b = borrow_mut(builder, "builder")?;
        b.store = Some(borrow(store, "store")?.clone());
        Ok(())
    })
}

/// ONNX Runtime intra-op threads per inference: 1..=256 (default 1); anything else is
/// `INVALID_ARGUMENT` here, not later.
#[no_mangle]
pub unsafe extern "C" fn faceprint_engine_builder_intra_op_threads(
    builder: *mut faceprint_engine_builder,
    threads: usize,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let b = borrow_mut(builder, "builder")?;
        // Checked now, by the core's own setter, so the error comes from this call.
        faceprint_core::Engine::builder().intra_op_threads(threads)?;
        b.threads = Some(threads);
        Ok(())
    })
}

/// Engine settings as JSON over the defaults, e.g. `{"liveness_threshold": 0.7,
/// "threshold": {"fmr": 1e-5}, "detection": {"max_faces": 4}}`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_engine_builder_config_json(
    builder: *mut faceprint_engine_builder,
    json: *const c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let b = borrow_mut(builder, "builder")?;
        b.config = Some(EngineConfig::from_json(string(json, "json")?)?);
        Ok(())
    })
}

/// Loads the models and builds an engine. The builder stays valid (and must still be freed).
#[no_mangle]
pub unsafe extern "C" fn faceprint_engine_builder_build(
    builder: *const faceprint_engine_builder,
    out: *mut *mut faceprint_engine,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let b = borrow(builder, "builder")?;
        let out = Out::new(out, "out")?;
        let mut eb = Engine::builder();
        if let Some(dir) = &b.models_dir {
            eb = eb.models_dir(dir);
        }
        if let Some(path) = &b.onnxruntime {
            eb = eb.onnxruntime_library(path);
        }
        if let Some(d) = &b.detector {
            eb = eb.detector_model(d);
        }
        if let Some(e) = &b.embedder {
            eb = eb.embedder_model(e);
        }
        if let Some(config) = &b.config {
            eb = eb.config(config.clone());
        }
        if let Some(n) = b.threads {
            eb = eb.intra_op_threads(n)?;
        }
        if let Some(store) = &b.store {
            eb = eb.store(store.0.clone());
        }
        out.write(into_raw(faceprint_engine(eb.build()?)));
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_engine_free(engine: *mut faceprint_engine) {
    free(engine)
}

/// Decodes an encoded image (JPEG, PNG, WebP, BMP, GIF, PNM, TIFF, QOI) under the engine's size limits.
#[no_mangle]
pub unsafe extern "C" fn faceprint_image_decode(
    engine: *const faceprint_engine,
    data: *const u8,
    len: usize,
    out: *mut *mut faceprint_image,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let data = bytes(data, len, "data")?;
        let out = Out::new(out, "out")?;
        out.write(into_raw(faceprint_image(engine.0.decode(data)?)));
        Ok(())
    })
}

/// Reads and decodes an image file.
#[no_mangle]
pub unsafe extern "C" fn faceprint_image_open(
    engine: *const faceprint_engine,
    path: *const c_char,
    out: *mut *mut faceprint_image,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let path = string(path, "path")?;
        let out = Out::new(out, "out")?;
        out.write(into_raw(faceprint_image(engine.0.open(path)?)));
        Ok(())
    })
}

/// Copies a raw pixel buffer: `height` rows of `stride` bytes (the last row may be just
/// `width` pixels), `format` a `faceprint_pixel_format`. Reads exactly the bytes the dimensions
/// describe: prefer `faceprint_image_from_pixels_len`, which also checks them against the
/// buffer's length.
#[no_mangle]
pub unsafe extern "C" fn faceprint_image_from_pixels(
    engine: *const faceprint_engine,
    data: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    format: u32,
    out: *mut *mut faceprint_image,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        image_from_pixels(engine, data, None, (width, height, stride, format), out)
    })
}

/// As `faceprint_image_from_pixels`, with `len` the number of bytes at `data`: a buffer
/// shorter than `height` rows of `stride` bytes is `INVALID_PIXEL_BUFFER`, never read past.
#[no_mangle]
pub unsafe extern "C" fn faceprint_image_from_pixels_len(
    engine: *const faceprint_engine,
    data: *const u8,
    len: usize,
    width: u32,
    height: u32,
    stride: usize,
    format: u32,
    out: *mut *mut faceprint_image,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        image_from_pixels(
            engine,
            data,
            Some(len),
            (width, height, stride, format),
            out,
        )
    })
}

/// Both pixel-buffer calls: every size is checked (pixel limit, overflow, the given length)
/// before a byte is read.
unsafe fn image_from_pixels(
    engine: *const faceprint_engine,
    data: *const u8,
    len: Option<usize>,
    (width, height, stride, format): (u32, u32, usize, u32),
    out: *mut *mut faceprint_image,
) -> crate::status::FfiResult<()> {
    let engine = borrow(engine, "engine")?;
    let format = match format {
        0 => PixelFormat::Rgb,
        1 => PixelFormat::Bgr,
        2 => PixelFormat::Rgba,
        3 => PixelFormat::Bgra,
        4 => PixelFormat::Gray,
        other => {
            return Err(Failure::Core(faceprint_core::Error::InvalidArgument(
                format!("pixel format {other} is not a faceprint_pixel_format"),
            )))
        }
    };
    let limits = engine.0.config().image_limits;
    if width as u64 * height as u64 > limits.max_pixels {
        return Err(Failure::Core(faceprint_core::Error::ImageTooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        }));
    }
    let pixel_error = |m: String| Failure::Core(faceprint_core::Error::InvalidPixelBuffer(m));
    // The whole buffer the dimensions describe must be there; `from_raw` re-checks sizes.
    let needed = (stride.max(1))
        .checked_mul(height.saturating_sub(1) as usize)
        .and_then(|n| n.checked_add(width as usize * format.bytes_per_pixel()))
        .ok_or_else(|| pixel_error("dimensions overflow".into()))?;
    if let Some(len) = len {
        if len < needed {
            return Err(pixel_error(format!(
                "{width}x{height} {format:?} with stride {stride} needs {needed} bytes, the buffer has {len}"
            )));
        }
    }
    let data = bytes(data, needed, "data")?;
    let out = Out::new(out, "out")?;
    let image = Image::from_raw(data, width, height, stride, format, &limits)?;
    out.write(into_raw(faceprint_image(image)));
    Ok(())
}

/// Width in pixels (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_image_width(image: *const faceprint_image) -> u32 {
    quiet(0, || image.as_ref().map_or(0, |i| i.0.width()))
}

/// Height in pixels (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_image_height(image: *const faceprint_image) -> u32 {
    quiet(0, || image.as_ref().map_or(0, |i| i.0.height()))
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_image_free(image: *mut faceprint_image) {
    free(image)
}

/// The library version ("0.1.0"), a static string.
#[no_mangle]
pub extern "C" fn faceprint_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
