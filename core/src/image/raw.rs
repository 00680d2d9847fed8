use super::{Image, ImageLimits};
use crate::error::{Error, Result};

/// Layout of one pixel in a raw buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(C)]
pub enum PixelFormat {
    /// Red, green, blue: 3 bytes.
    Rgb,
    /// Blue, green, red (OpenCV's order): 3 bytes.
    Bgr,
    /// RGB and alpha (ignored): 4 bytes.
    Rgba,
    /// BGR and alpha (ignored): 4 bytes.
    Bgra,
    /// One grey level: 1 byte.
    Gray,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgb | PixelFormat::Bgr => 3,
            PixelFormat::Rgba | PixelFormat::Bgra => 4,
            PixelFormat::Gray => 1,
        }
    }
}

pub(super) fn from_raw(
    data: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    format: PixelFormat,
    limits: &ImageLimits,
) -> Result<Image> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidPixelBuffer(format!(
            "dimensions must be non-zero, got {width}x{height}"
        )));
    }
    let pixels = width as u64 * height as u64;
    if pixels > limits.max_pixels {
        return Err(Error::ImageTooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    let bpp = format.bytes_per_pixel();
    let row = width as usize * bpp;
    if stride < row {
        return Err(Error::InvalidPixelBuffer(format!(
            "stride {stride} is smaller than a row of {width} {format:?} pixels ({row} bytes)"
        )));
    }
    // The last row need not be padded to the full stride.
    let needed = stride * (height as usize - 1) + row;
    if data.len() < needed {
        return Err(Error::InvalidPixelBuffer(format!(
            "{width}x{height} {format:?} with stride {stride} needs {needed} bytes, got {}",
            data.len()
        )));
    }
    let (w, h) = (width as usize, height as usize);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let line = &data[y * stride..y * stride + row];
        match format {
            PixelFormat::Rgb => rgb.extend_from_slice(line),
            PixelFormat::Bgr => line
                .chunks_exact(3)
                .for_each(|p| rgb.extend_from_slice(&[p[2], p[1], p[0]])),
            PixelFormat::Rgba => line
                .chunks_exact(4)
                .for_each(|p| rgb.extend_from_slice(&p[..3])),
            PixelFormat::Bgra => line
                .chunks_exact(4)
                .for_each(|p| rgb.extend_from_slice(&[p[2], p[1], p[0]])),
            PixelFormat::Gray => line.iter().for_each(|&g| rgb.extend_from_slice(&[g, g, g])),
        }
    }
    Image::from_rgb(width, height, rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgr_with_padding_becomes_rgb() {
        // 2x2 BGR, stride 8 (2 bytes padding per row), last row unpadded.
        let data = [3, 2, 1, 6, 5, 4, 0, 0, 9, 8, 7, 12, 11, 10];
        let img = from_raw(&data, 2, 2, 8, PixelFormat::Bgr, &ImageLimits::default()).unwrap();
        assert_eq!(img.as_rgb(), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }

    #[test]
    fn short_buffer_and_small_stride_are_errors() {
        let limits = ImageLimits::default();
        let e = from_raw(&[0; 10], 2, 2, 6, PixelFormat::Rgb, &limits).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidPixelBuffer);
        let e = from_raw(&[0; 100], 2, 2, 5, PixelFormat::Rgb, &limits).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidPixelBuffer);
        let e = from_raw(&[0; 100], 0, 2, 6, PixelFormat::Rgb, &limits).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidPixelBuffer);
    }

    #[test]
    fn pixel_limit_applies_to_raw_buffers() {
        let limits = ImageLimits {
            max_pixels: 3,
            ..ImageLimits::default()
        };
        let e = from_raw(&[0; 12], 2, 2, 3, PixelFormat::Gray, &limits).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::ImageTooManyPixels);
    }
}
