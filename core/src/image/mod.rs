//! Image input: encoded bytes (JPEG, PNG, WebP, BMP, GIF, PNM, TIFF, QOI) or raw pixel buffers, always ending as
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

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Packed RGB8 pixels, `width * height * 3` bytes.
    pub fn as_rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// The part of the image inside `bbox`, rounded to whole pixels and clamped to the image
    /// (at least 1x1).
    pub fn cropped(&self, bbox: &crate::detect::BoundingBox) -> Image {
        let (w, h) = (self.width as i64, self.height as i64);
        let x1 = (bbox.x1.round() as i64).clamp(0, w - 1);
        let y1 = (bbox.y1.round() as i64).clamp(0, h - 1);
        let x2 = (bbox.x2.round() as i64).clamp(x1 + 1, w);
        let y2 = (bbox.y2.round() as i64).clamp(y1 + 1, h);
        let mut rgb = Vec::with_capacity(((x2 - x1) * (y2 - y1) * 3) as usize);
        for y in y1..y2 {
            let row = (y * w) as usize * 3;
            rgb.extend_from_slice(&self.rgb[row + x1 as usize * 3..row + x2 as usize * 3]);
        }
        Image {
            width: (x2 - x1) as u32,
            height: (y2 - y1) as u32,
            rgb,
        }
    }

    /// A grey copy (Rec. 601 luma in all three channels), as a grey-scale photo decodes.
    pub fn to_grey(&self) -> Image {
        let rgb = self
            .rgb
            .chunks_exact(3)
            .flat_map(|p| {
                let g =
                    (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).round() as u8;
                [g, g, g]
            })
            .collect();
        Image {
            width: self.width,
            height: self.height,
            rgb,
        }
    }

    /// A copy scaled to `width` x `height` (bilinear; both at least 1).
    pub fn resized(&self, width: u32, height: u32) -> Image {
        let buf = image::RgbImage::from_raw(self.width, self.height, self.rgb.clone())
            .expect("an Image always holds width x height x 3 bytes");
        let out = image::imageops::resize(
            &buf,
            width.max(1),
            height.max(1),
            image::imageops::FilterType::Triangle,
        );
        Image {
            width: out.width(),
            height: out.height(),
            rgb: out.into_raw(),
        }
    }

    /// A copy with `margin_x` columns added left and right and `margin_y` rows above and
    /// below, each repeating the nearest edge pixel (a tight face crop then looks to a
    /// detector like a face with surroundings, without a hard frame around it).
    pub fn padded(&self, margin_x: u32, margin_y: u32) -> Image {
        let (w, h) = (self.width as usize, self.height as usize);
        let (mx, my) = (margin_x as usize, margin_y as usize);
        let (nw, nh) = (w + 2 * mx, h + 2 * my);
        let mut out = Vec::with_capacity(nw * nh * 3);
        for y in 0..nh {
            let sy = y.saturating_sub(my).min(h - 1);
            let row = &self.rgb[sy * w * 3..(sy + 1) * w * 3];
            for _ in 0..mx {
                out.extend_from_slice(&row[..3]);
            }
            out.extend_from_slice(row);
            for _ in 0..mx {
                out.extend_from_slice(&row[(w - 1) * 3..]);
            }
        }
        Image {
            width: nw as u32,
            height: nh as u32,
            rgb: out,
        }
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
