//! Lower-face occlusion / mask from the AIZOO face-mask SSD, run on a square crop of 1.5x the
//! face box (at 1.0x it is unsure; at 1.5x a masked face scored 0.99996 and unmasked faces
//! below 0.01 on the dev photos).

use crate::align::{square_side, Affine, Similarity};
use crate::detect::Face;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::models::ModelPack;
use crate::runtime::{CropModel, Runtime};

pub const MODEL_ID: &str = "aizoo-mask-260";
const CLS: &str = "cls_branch_concat_1/concat";
const CROP_ENLARGE: f32 = 1.5;
const FEATURE_MAPS: [usize; 5] = [33, 17, 9, 5, 3];
const SIZES: [[f32; 2]; 5] = [
    [0.04, 0.056],
    [0.08, 0.11],
    [0.16, 0.22],
    [0.32, 0.45],
    [0.64, 0.72],
];

/// The mask model with its anchor boxes (centre x, centre y, width, height; crop units).
pub struct MaskDetector {
    model: CropModel,
    anchors: Vec<[f32; 4]>,
}

fn anchors() -> Vec<[f32; 4]> {
    let mut out = Vec::with_capacity(5972);
    for (&fm, sizes) in FEATURE_MAPS.iter().zip(SIZES) {
        // Every size at aspect ratio 1, then the first size at ratios 0.62 and 0.42.
        let shapes = [
            (sizes[0], 1.0f32),
            (sizes[1], 1.0),
            (sizes[0], 0.62),
            (sizes[0], 0.42),
        ];
        for i in 0..fm {
            for j in 0..fm {
                let (cx, cy) = ((j as f32 + 0.5) / fm as f32, (i as f32 + 0.5) / fm as f32);
                for (s, r) in shapes {
                    out.push([cx, cy, s * r.sqrt(), s / r.sqrt()]);
                }
            }
        }
    }
    out
}

impl MaskDetector {
    /// Loads the mask model from the pack.
    pub fn load(pack: &ModelPack, runtime: &Runtime) -> Result<MaskDetector> {
        Ok(MaskDetector {
            model: CropModel::load(pack, MODEL_ID, runtime, &[CLS])?,
            anchors: anchors(),
        })
    }

    /// Probability (0..1) that the face's lower half is covered by a mask or similar.
    pub fn mask_probability(&self, image: &Image, face: &Face) -> Result<f32> {
        let b = &face.bbox;
        let centre = [(b.x1 + b.x2) / 2.0, (b.y1 + b.y2) / 2.0];
        let size = self.model.format.width as f32;
        let to_crop = Similarity::centred_crop(centre, square_side(b, CROP_ENLARGE)?, 0.0, size);
        let out = self
            .model
            .run(image, &[(Affine::from(to_crop.inverse()), false)], &[CLS])?
            .pop()
            .ok_or_else(|| Error::Internal("mask model returned nothing".into()))?;
        let cls = &out[0];
        if cls.len() != self.anchors.len() * 2 {
            return Err(Error::Inference(format!(
                "{MODEL_ID}: expected {} class scores, got {}",
                self.anchors.len() * 2,
                cls.len()
            )));
        }
        // The face fills about 2/3 of the crop around its centre: among anchors of that place
        // and scale, the most confident one (either class) is the face, and its "mask" score
        // answers. Box regression is not needed, and other faces at the edges cannot answer.
        let best = cls
            .chunks_exact(2)
            .zip(&self.anchors)
            .filter(|(_, a)| (a[0] - 0.5).abs() < 0.2 && (a[1] - 0.5).abs() < 0.2 && a[2] >= 0.16)
            .map(|(c, _)| c)
            .max_by(|a, b| a[0].max(a[1]).total_cmp(&b[0].max(b[1])))
            .ok_or_else(|| Error::Inference(format!("{MODEL_ID}: empty output")))?;
        Ok(best[0] / (best[0] + best[1]).max(1e-6))
    }
}
