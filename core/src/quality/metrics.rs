//! Image measurements on the aligned face: a grey 150x150 crop in dlib's chip geometry (the
//! face fills it the same way whatever the photo), so the numbers mean the same for every face.

use crate::align::{transform_to_template, warp_into, CropFormat};
use crate::detect::Face;
use crate::error::Result;
use crate::image::resize::{ChannelOrder, Layout, Normalize};
use crate::image::Image;
use serde::{Deserialize, Serialize};

const SIZE: usize = 150;
/// dlib's 150x150 chip: eyes, nose tip, mouth corners (MODELS.md).
const TEMPLATE: [[f32; 2]; 5] = [
    [44.73, 46.17],
    [102.35, 45.66],
    [73.61, 76.64],
    [49.70, 102.30],
    [97.86, 101.90],
];
/// The inner face (brows to chin, cheek to cheek) where the statistics are taken, so hair and
/// background do not count.
const INNER: (usize, usize, usize, usize) = (30, 30, 120, 125);
/// Luma at or below / at or above these counts as clipped.
const SHADOW: f32 = 8.0;
const HIGHLIGHT: f32 = 247.0;
/// Typical luma standard deviation of a well-lit face (clean LFW median).
const REFERENCE_STD: f64 = 33.0;

/// Photometric measurements of a face (luma 0..255 on the aligned crop).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImageMetrics {
    /// Variance of the 3x3 Laplacian over the inner face, rescaled to a typical contrast
    /// (luma σ 33) so a dim face does not read as blurred: low when blurred or upscaled.
    /// Clean LFW faces: p5 ≈ 16, median ≈ 40; Gaussian blur σ 2 brings it under 6.
    pub sharpness: f32,
    /// Mean luma, 0..1.
    pub brightness: f32,
    /// Standard deviation of luma, 0..1 (RMS contrast).
    pub contrast: f32,
    /// Fraction of inner-face pixels clipped to black.
    pub shadows_clipped: f32,
    /// Fraction of inner-face pixels clipped to white.
    pub highlights_clipped: f32,
}

pub(crate) fn measure(image: &Image, face: &Face) -> Result<ImageMetrics> {
    let t = transform_to_template(&face.landmarks, &TEMPLATE)?;
    let f = CropFormat {
        width: SIZE,
        height: SIZE,
        order: ChannelOrder::Rgb,
        layout: Layout::Nchw,
        norm: Normalize::RAW,
        pixels: crate::align::CropPixels::Bilinear,
    };
    let mut rgb = vec![0f32; 3 * SIZE * SIZE];
    warp_into(image, &t, &f, false, &mut rgb);
    let plane = SIZE * SIZE;
    let luma: Vec<f32> = (0..plane)
        .map(|i| 0.299 * rgb[i] + 0.587 * rgb[plane + i] + 0.114 * rgb[2 * plane + i])
        .collect();
    let (x0, y0, x1, y1) = INNER;
    let n = ((x1 - x0) * (y1 - y0)) as f64;
    let (mut sum, mut sq, mut dark, mut bright) = (0f64, 0f64, 0usize, 0usize);
    let (mut lsum, mut lsq) = (0f64, 0f64);
    for y in y0..y1 {
        for x in x0..x1 {
            let v = luma[y * SIZE + x];
            sum += v as f64;
            sq += (v as f64) * (v as f64);
            dark += (v <= SHADOW) as usize;
            bright += (v >= HIGHLIGHT) as usize;
            let lap = luma[(y - 1) * SIZE + x]
                + luma[(y + 1) * SIZE + x]
                + luma[y * SIZE + x - 1]
                + luma[y * SIZE + x + 1]
                - 4.0 * v;
            lsum += lap as f64;
            lsq += (lap as f64) * (lap as f64);
        }
    }
    let mean = sum / n;
    let lmean = lsum / n;
    let variance = (sq / n - mean * mean).max(0.0);
    // Laplacian variance grows with the square of contrast; divide that out (floored, so a
    // flat grey patch does not explode).
    let normalise = (REFERENCE_STD * REFERENCE_STD) / variance.max(4.0);
    Ok(ImageMetrics {
        sharpness: ((lsq / n - lmean * lmean).max(0.0) * normalise) as f32,
        brightness: (mean / 255.0) as f32,
        contrast: (variance.sqrt() / 255.0) as f32,
        shadows_clipped: (dark as f64 / n) as f32,
        highlights_clipped: (bright as f64 / n) as f32,
    })
}
