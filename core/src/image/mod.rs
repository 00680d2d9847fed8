//! Image input: encoded bytes (JPEG, PNG, WebP, BMP, GIF) or raw pixel buffers, always ending as
//! a packed RGB8 [`Image`]. Limits are checked before any large allocation.

mod decode;
mod jpeg_scan;
mod raw;
pub(crate) mod resize;

pub use raw::PixelFormat;

use crate::error::{Error, Result};
use std::path::Path;

/// Limits applied to untrusted image input.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageLimits {
    /// Largest accepted encoded size in bytes (default 20 MB).
    pub max_bytes: u64,
    /// Largest accepted width x height, read from the header before decoding (default 40 MP).
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_bytes: 20 * 1000 * 1000,
            max_pixels: 40 * 1000 * 1000,
        }
    }
}

/// A decoded image: packed 8-bit RGB, row-major, no padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Image({}x{} RGB8)", self.width, self.height)
    }
}

impl Image {
    /// Wraps packed RGB8 pixels. Fails if the length does not match the dimensions.
    pub fn from_rgb(width: u32, height: u32, rgb: Vec<u8>) -> Result<Image> {
        if width == 0 || height == 0 {
            return Err(Error::InvalidPixelBuffer(format!(
                "dimensions must be non-zero, got {width}x{height}"
            )));
        }
        let expected = width as usize * height as usize * 3;
        if rgb.len() != expected {
            return Err(Error::InvalidPixelBuffer(format!(
                "{width}x{height} RGB needs {expected} bytes, got {}",
                rgb.len()
            )));
        }
        Ok(Image { width, height, rgb })
    }

    /// Decodes an encoded image (format sniffed from the bytes) with EXIF orientation applied.
    pub fn decode(bytes: &[u8], limits: &ImageLimits) -> Result<Image> {
        decode::decode(bytes, limits)
    }

    /// Reads and decodes a file, checking its size before reading it.
    pub fn open(path: impl AsRef<Path>, limits: &ImageLimits) -> Result<Image> {
        let bytes =
            crate::files::read_bounded(path.as_ref(), limits.max_bytes, "image")?.map_err(|t| {
                Error::ImageTooLarge {
                    bytes: t.bytes,
                    limit: t.limit,
                }
            })?;
        decode::decode(&bytes, limits)
    }

    /// Copies a raw pixel buffer (any stride, RGB/BGR/RGBA/BGRA/gray) into an [`Image`].
    pub fn from_raw(
        data: &[u8],
        width: u32,
        height: u32,
        stride: usize,
        format: PixelFormat,
        limits: &ImageLimits,
    ) -> Result<Image> {
        raw::from_raw(data, width, height, stride, format, limits)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Packed RGB8 pixels, `width * height * 3` bytes.
    pub fn as_rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// A copy rotated clockwise by `quarter_turns` x 90 degrees.
    pub fn rotated(&self, quarter_turns: u32) -> Image {
        let (w, h) = (self.width as usize, self.height as usize);
        let turns = quarter_turns % 4;
        if turns == 0 {
            return self.clone();
        }
        let (nw, nh) = if turns % 2 == 1 { (h, w) } else { (w, h) };
        let mut out = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let (nx, ny) = match turns {
                    1 => (h - 1 - y, x),
                    2 => (w - 1 - x, h - 1 - y),
                    _ => (y, w - 1 - x),
                };
                let s = (y * w + x) * 3;
                let d = (ny * nw + nx) * 3;
                out[d..d + 3].copy_from_slice(&self.rgb[s..s + 3]);
            }
        }
        Image {
            width: nw as u32,
            height: nh as u32,
            rgb: out,
        }
    }
}
