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
    /// The 468 points (x, y in pixels, z depth on the same scale).
    pub points: Vec<[f32; 3]>,
    /// The model's face-presence probability (0..1): low when the crop holds no face.
    pub presence: f32,
}

/// The FaceMesh point standing in for each of the 68 iBUG 300-W points (the layout of dlib's
/// 68-point shape predictor and face_recognition's `face_landmarks`), "left" meaning the image's
/// left: jaw 0..=16 from the ear on the image's left round the chin, eyebrows 17..=21 and
/// 22..=26, nose bridge 27..=30 down to the tip, nose base 31..=35, eyes 36..=41 (outer corner
/// first, clockwise) and 42..=47 (inner corner first), outer lip 48..=59 from the left corner
/// clockwise, inner lip 60..=67. Chosen from the mesh's canonical topology by position: the
/// jaw and lip points are symmetric pairs of the mesh.
pub const IBUG68_FROM_MESH: [usize; 68] = [
    127, 234, 93, 132, 58, 172, 136, 150, 152, 379, 365, 397, 288, 361, 323, 454, 356, // jaw
    70, 63, 105, 66, 107, // eyebrow on the image's left
    336, 296, 334, 293, 300, // the other eyebrow
    168, 197, 5, 4, // nose bridge
    98, 97, 2, 326, 327, // nose base
    33, 160, 158, 133, 153, 144, // eye on the image's left
    362, 385, 387, 263, 373, 380, // the other eye
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91, // outer lip
    78, 82, 13, 312, 308, 317, 14, 87, // inner lip
];

impl MeshLandmarks {
    /// The 68 iBUG 300-W points (see [`IBUG68_FROM_MESH`]) in image pixels.
    pub fn ibug68(&self) -> [[f32; 2]; 68] {
        IBUG68_FROM_MESH.map(|i| self.xy(i))
    }

    /// Head pose from the mesh's depth.
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
    /// Loads FaceMesh from the pack.
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
