//! MediaPipe FaceMesh (468 points) on a square crop of the face box enlarged 1.2x, rotated so
//! the eyes are level. YuNet's five points under-report roll, so when the mesh finds the head
//! still tilted in the crop it is run once more along its own eye line (MODELS.md: this
//! recovers a 20° roll as 19.9°).

use super::point;
use crate::align::{square_side, Affine, Similarity};
use crate::detect::Face;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::models::ModelPack;
use crate::runtime::{CropModel, Runtime};
use serde::{Deserialize, Serialize};

pub const MODEL_ID: &str = "facemesh-468";
const POINTS: &str = "conv2d_20";
const PRESENCE: &str = "conv2d_30";
const CROP_ENLARGE: f32 = 1.2;
/// Residual roll (degrees) inside the crop above which the crop is redone along the mesh's
/// eye line.
const RECROP_ROLL: f32 = 6.0;

/// 468 landmarks of one face in image pixels: x right, y down, z depth (same scale as x,
/// negative towards the camera).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeshLandmarks {
    pub points: Vec<[f32; 3]>,
    /// The model's face-presence probability (0..1): low when the crop holds no face.
    pub presence: f32,
}

impl MeshLandmarks {
    pub fn pose(&self) -> super::HeadPose {
        super::HeadPose::from_mesh(&self.points)
    }

    fn xy(&self, i: usize) -> [f32; 2] {
        [self.points[i][0], self.points[i][1]]
    }

    /// (outer, inner) corners of the eye on the image's left, then of the other eye.
    pub fn eye_corners(&self) -> [[[f32; 2]; 2]; 2] {
        [
            [
                self.xy(point::LEFT_EYE_OUTER),
                self.xy(point::LEFT_EYE_INNER),
            ],
            [
                self.xy(point::RIGHT_EYE_OUTER),
                self.xy(point::RIGHT_EYE_INNER),
            ],
        ]
    }

    /// Mouth width over eye-corner span: rises when smiling (about 0.75 neutral).
    pub fn mouth_width_ratio(&self) -> f32 {
        let d = |a: [f32; 3], b: [f32; 3]| {
            ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
        };
        let eyes = d(
            self.points[point::LEFT_EYE_OUTER],
            self.points[point::RIGHT_EYE_OUTER],
        );
        d(
            self.points[point::MOUTH_LEFT],
            self.points[point::MOUTH_RIGHT],
        ) / eyes.max(1e-6)
    }
}

/// The FaceMesh model.
pub struct FaceMesh {
    model: CropModel,
}

impl FaceMesh {
    pub fn load(pack: &ModelPack, runtime: &Runtime) -> Result<FaceMesh> {
        Ok(FaceMesh {
            model: CropModel::load(pack, MODEL_ID, runtime, &[POINTS, PRESENCE])?,
        })
    }

    /// The 468 landmarks of `face`.
    pub fn landmarks(&self, image: &Image, face: &Face) -> Result<MeshLandmarks> {
        let [le, re, ..] = face.landmarks;
        let roll = (re[1] - le[1]).atan2(re[0] - le[0]);
        let first = self.run(image, face, roll)?;
        let found = first.pose().roll.to_radians();
        if (found - roll).abs().to_degrees() > RECROP_ROLL {
            return self.run(image, face, found);
        }
        Ok(first)
    }

    fn run(&self, image: &Image, face: &Face, roll: f32) -> Result<MeshLandmarks> {
        let b = &face.bbox;
        let side = square_side(b, CROP_ENLARGE)?;
        let size = self.model.format.width as f32;
        let centre = [(b.x1 + b.x2) / 2.0, (b.y1 + b.y2) / 2.0];
        let to_crop = Similarity::centred_crop(centre, side, roll, size);
        let s = to_crop.scale();
        let back = to_crop.inverse();
        let out = self
            .model
            .run(image, &[(Affine::from(back), false)], &[POINTS, PRESENCE])?
            .pop()
            .ok_or_else(|| Error::Internal("facemesh returned nothing".into()))?;
        let (raw, presence) = (&out[0], &out[1]);
        if raw.len() != 468 * 3 || presence.is_empty() {
            return Err(Error::Inference(format!(
                "{MODEL_ID}: expected 1404 coordinates, got {}",
                raw.len()
            )));
        }
        let points = raw
            .chunks_exact(3)
            .map(|p| {
                let q = back.apply([p[0], p[1]]);
                [q[0], q[1], p[2] / s]
            })
            .collect();
        Ok(MeshLandmarks {
            points,
            presence: 1.0 / (1.0 + (-presence[0]).exp()),
        })
    }
}
