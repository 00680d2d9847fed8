//! Image arguments: encoded bytes (`Buffer` / `Uint8Array`), a file path, or raw pixels
//! `{ data, width, height, stride?, format? }`. Held as given and decoded on the worker thread.

use faceprint::{Engine, Image, PixelFormat};
use napi::bindgen_prelude::{Either3, Uint8Array};
use napi_derive::napi;

/// Raw pixels: `height` rows of `stride` bytes (default `width` x bytes per pixel).
#[napi(object)]
pub struct RawImage {
    pub data: Uint8Array,
    pub width: f64,
    pub height: f64,
    pub stride: Option<f64>,
    /// "rgb" (default), "bgr", "rgba", "bgra" or "gray".
    pub format: Option<String>,
}

/// An image argument, owned so it can move to a worker thread.
pub enum Source {
    Encoded(Uint8Array),
    Path(String),
    Raw(RawImage),
}

impl From<Either3<Uint8Array, String, RawImage>> for Source {
    fn from(arg: Either3<Uint8Array, String, RawImage>) -> Source {
        match arg {
            Either3::A(bytes) => Source::Encoded(bytes),
            Either3::B(path) => Source::Path(path),
            Either3::C(raw) => Source::Raw(raw),
        }
    }
}

impl Source {
    /// A batch input: files and encoded bytes are read and decoded by the batch's workers;
    /// raw pixels are checked and copied here, so a bad buffer fails the call (as in Python).
    pub fn batch_input(&self, engine: &Engine) -> faceprint::Result<faceprint::ImageSource> {
        Ok(match self {
            Source::Encoded(bytes) => faceprint::ImageSource::Bytes(bytes.to_vec()),
            Source::Path(path) => faceprint::ImageSource::Path(path.into()),
            Source::Raw(_) => faceprint::ImageSource::Image(self.load(engine)?),
        })
    }

    pub fn load(&self, engine: &Engine) -> faceprint::Result<Image> {
        match self {
            Source::Encoded(bytes) => engine.decode(bytes),
            Source::Path(path) => engine.open(path),
            Source::Raw(raw) => {
                let format = match raw.format.as_deref().unwrap_or("rgb") {
                    "rgb" => PixelFormat::Rgb,
                    "bgr" => PixelFormat::Bgr,
                    "rgba" => PixelFormat::Rgba,
                    "bgra" => PixelFormat::Bgra,
                    "gray" => PixelFormat::Gray,
                    other => {
                        return Err(faceprint::Error::InvalidArgument(format!(
                            "pixel format {other:?} is not rgb, bgr, rgba, bgra or gray"
                        )))
                    }
                };
                use crate::numbers::whole_u32;
                let (width, height) = (
                    whole_u32(raw.width, "width")?,
                    whole_u32(raw.height, "height")?,
                );
                let stride = match raw.stride {
                    Some(s) => whole_u32(s, "stride")? as usize,
                    None => width as usize * format.bytes_per_pixel(),
                };
                let limits = engine.config().image_limits;
                Image::from_raw(&raw.data, width, height, stride, format, &limits)
            }
        }
    }
}
