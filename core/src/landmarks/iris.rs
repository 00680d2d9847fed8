//! MediaPipe Iris on each eye: a 64x64 crop of 2.3x the eye-corner distance, levelled along
//! the eye line. The eyelid opening over the eye width separates closed from open eyes
//! (MODELS.md: closed 0.06–0.10, open ≥ 0.135 on 100 LFW eyes; threshold about 0.12).

use crate::align::{Affine, Similarity};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::models::ModelPack;
use crate::runtime::{CropModel, Runtime};
use serde::{Deserialize, Serialize};

pub const MODEL_ID: &str = "iris-mediapipe";
const CONTOURS: &str = "output_eyes_contours_and_brows";
const CROP_ENLARGE: f32 = 2.3;

/// Eyelid opening over eye width, per eye (the eye on the image's left first).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EyeOpenness {
    /// The eye on the image's left.
    pub left: f32,
    /// The eye on the image's right.
    pub right: f32,
}

impl EyeOpenness {
    /// The more closed eye: a wink or a blink both show here.
    pub fn min(&self) -> f32 {
        self.left.min(self.right)
    }
}

/// The iris / eye-contour model.
pub struct IrisModel {
    model: CropModel,
}

impl IrisModel {
    /// Loads the iris model from the pack.
    pub fn load(pack: &ModelPack, runtime: &Runtime) -> Result<IrisModel> {
        Ok(IrisModel {
            model: CropModel::load(pack, MODEL_ID, runtime, &[CONTOURS])?,
        })
    }

    /// Openness of both eyes, given each eye's (outer, inner) corners in image pixels.
    pub fn openness(&self, image: &Image, corners: [[[f32; 2]; 2]; 2]) -> Result<EyeOpenness> {
        let size = self.model.format.width as f32;
        let mut crops = Vec::with_capacity(2);
        for (i, [outer, inner]) in corners.into_iter().enumerate() {
            // Both eyes are cropped running from the image-left corner to the image-right one;
            // the second is mirrored so the model always sees the same eye shape, as MediaPipe
            // feeds it.
            let (p, q) = if i == 0 {
                (outer, inner)
            } else {
                (inner, outer)
            };
            let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
            let width = (dx * dx + dy * dy).sqrt();
            if !(width.is_finite() && width >= 1.0) {
                return Err(Error::InvalidArgument(format!(
                    "eye corners {p:?} and {q:?} are too close or not finite"
                )));
            }
            let centre = [(p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0];
            let to_crop =
                Similarity::centred_crop(centre, CROP_ENLARGE * width, dy.atan2(dx), size);
            crops.push((Affine::from(to_crop.inverse()), i == 1));
        }
        let out = self.model.run(image, &crops, &[CONTOURS])?;
        let mut ratios = [0f32; 2];
        for (r, o) in ratios.iter_mut().zip(&out) {
            *r = opening(&o[0])?;
        }
        Ok(EyeOpenness {
            left: ratios[0],
            right: ratios[1],
        })
    }
}

/// Eyelid opening / eye width from the first 16 contour points: 0 and 8 are the corners, 1..8
/// the lower lid, 9..15 the upper lid; upper point i + 9 sits above lower point i (measured).
/// The crop is levelled along the eye line, so the opening is the largest vertical gap.
fn opening(contours: &[f32]) -> Result<f32> {
    if contours.len() < 16 * 3 {
        return Err(Error::Inference(format!(
            "{MODEL_ID}: expected 213 contour values, got {}",
            contours.len()
        )));
    }
    let p = |i: usize| [contours[3 * i], contours[3 * i + 1]];
    let dist = |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    let width = dist(p(0), p(8)).max(1e-3);
    let gap = (1..=6).map(|i| p(i)[1] - p(i + 9)[1]).fold(0f32, f32::max);
    Ok(gap / width)
}
