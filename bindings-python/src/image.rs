//! Image arguments: a path (`str` / `os.PathLike`), encoded `bytes`, or a numpy `HxWx3` (or
//! `HxW` gray, `HxWx4`) uint8 array, RGB unless `bgr=True`. An array is copied exactly once,
//! into the engine's packed RGB image, while the GIL is held (so no Python thread can change
//! it mid-copy); the compute that follows runs without the GIL.

use crate::errors::{invalid, IntoPy};
use faceprint::{Engine, Image, PixelFormat};
use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

pub fn load(
    py: Python<'_>,
    engine: &Engine,
    image: &Bound<'_, PyAny>,
    bgr: bool,
) -> PyResult<Image> {
    if let Ok(bytes) = image.cast::<PyBytes>() {
        if bgr {
            return Err(invalid(py, "bgr=True applies to arrays, not encoded bytes"));
        }
        let data = bytes.as_bytes();
        return py.detach(|| engine.decode(data)).py_err(py);
    }
    if let Ok(array) = image.cast::<PyArrayDyn<u8>>() {
        return from_array(py, engine, array, bgr);
    }
    if image.is_instance_of::<PyString>() || image.hasattr("__fspath__")? {
        if bgr {
            return Err(invalid(py, "bgr=True applies to arrays, not files"));
        }
        let path: std::path::PathBuf = image.extract()?;
        return py.detach(|| engine.open(&path)).py_err(py);
    }
    if image.hasattr("__array_interface__")? {
        return Err(invalid(
            py,
            "image arrays must be numpy uint8 (HxWx3, HxWx4 or HxW); convert with .astype(np.uint8)",
        ));
    }
    Err(invalid(
        py,
        format!(
            "image must be a path, bytes or a numpy uint8 array, not {}",
            image.get_type().name()?
        ),
    ))
}

/// A batch input: paths and bytes are read and decoded later by the worker threads (without the
/// GIL); arrays are converted here.
pub fn source(
    py: Python<'_>,
    engine: &Engine,
    image: &Bound<'_, PyAny>,
    bgr: bool,
) -> PyResult<faceprint::ImageSource> {
    if let Ok(bytes) = image.cast::<PyBytes>() {
        if !bgr {
            return Ok(faceprint::ImageSource::Bytes(bytes.as_bytes().to_vec()));
        }
    } else if !bgr && (image.is_instance_of::<PyString>() || image.hasattr("__fspath__")?) {
        return Ok(faceprint::ImageSource::Path(image.extract()?));
    }
    // Arrays, and every wrong input (for load's error message).
    load(py, engine, image, bgr).map(faceprint::ImageSource::Image)
}

fn from_array(
    py: Python<'_>,
    engine: &Engine,
    array: &Bound<'_, PyArrayDyn<u8>>,
    bgr: bool,
) -> PyResult<Image> {
    let shape = array.shape().to_vec();
    let (height, width, channels) = match shape.as_slice() {
        [h, w] => (*h, *w, 1),
        [h, w, c] if matches!(c, 1 | 3 | 4) => (*h, *w, *c),
        _ => {
            return Err(raise_pixels(
                py,
                format!("image array must be HxWx3, HxWx4 or HxW, got shape {shape:?}"),
            ))
        }
    };
    let format = match (channels, bgr) {
        (1, _) => PixelFormat::Gray,
        (3, false) => PixelFormat::Rgb,
        (3, true) => PixelFormat::Bgr,
        (4, false) => PixelFormat::Rgba,
        (_, true) => PixelFormat::Bgra,
        _ => unreachable!("channels checked above"),
    };
    let (w, h) = (to_u32(py, width)?, to_u32(py, height)?);
    let limits = engine.config().image_limits;
    // Before any copy: a broadcast array can claim any size at no cost of its own.
    if width as u64 * height as u64 > limits.max_pixels {
        return Err(faceprint::Error::ImageTooManyPixels {
            width: w,
            height: h,
            limit: limits.max_pixels,
        })
        .py_err(py);
    }
    let readonly = array.readonly();
    let strides = array.strides();
    let packed_pixels = channels == 1 && strides[1] == 1
        || channels > 1 && strides[2] == 1 && strides[1] == channels as isize;
    if packed_pixels && strides[0] >= (width * channels) as isize && height > 0 {
        // Rows may be padded or a crop of a larger image: pass the row stride, no extra copy.
        let row = strides[0] as usize;
        let len = row * (height - 1) + width * channels;
        // SAFETY: the array is borrowed read-only for this scope, and its rows lie within
        // `len` bytes from the data pointer (positive strides, checked above).
        let data = unsafe { std::slice::from_raw_parts(array.data() as *const u8, len) };
        let _keep = &readonly;
        return Image::from_raw(data, w, h, row, format, &limits).py_err(py);
    }
    // Any other layout (negative or odd strides): gather the pixels in one pass.
    let view = readonly.as_array();
    let mut pixels = Vec::with_capacity(width * height * channels);
    pixels.extend(view.iter().copied());
    Image::from_raw(&pixels, w, h, width * channels, format, &limits).py_err(py)
}

fn to_u32(py: Python<'_>, n: usize) -> PyResult<u32> {
    u32::try_from(n).map_err(|_| raise_pixels(py, format!("image dimension {n} is too large")))
}

fn raise_pixels(py: Python<'_>, message: String) -> PyErr {
    crate::errors::raise(py, faceprint::ErrorCode::InvalidPixelBuffer, message)
}

/// A 1-D float32 numpy array of `dim` values, copied once; anything else is a clear
/// `InvalidEmbeddingError` saying what was given, checked before any copy.
pub fn float_vector(py: Python<'_>, value: &Bound<'_, PyAny>, dim: usize) -> PyResult<Vec<f32>> {
    let bad = |m: String| crate::errors::raise(py, faceprint::ErrorCode::InvalidEmbedding, m);
    let Ok(array) = value.cast::<numpy::PyUntypedArray>() else {
        return Err(bad(format!(
            "an embedding vector must be a 1-D numpy float32 array, not {}",
            value.get_type().name()?
        )));
    };
    let shape = array.shape().to_vec();
    if shape.len() != 1 {
        return Err(bad(format!(
            "an embedding vector must be 1-D, got shape {shape:?}"
        )));
    }
    if shape[0] != dim {
        return Err(bad(format!(
            "an embedding vector of this engine's model has {dim} values, got {}",
            shape[0]
        )));
    }
    let Ok(array) = value.cast::<numpy::PyArray1<f32>>() else {
        return Err(bad(format!(
            "an embedding vector must be float32, got {}: convert with .astype(np.float32)",
            array.dtype()
        )));
    };
    Ok(array.readonly().as_array().to_vec())
}
