//! Head pose (yaw, pitch, roll in degrees) from the 468-point mesh, or roughly from the five
//! detector points when the mesh model is not used.
//!
//! Conventions, for an unmirrored camera image: `yaw` > 0 when the nose points to the image's
//! right (the subject turning to their own left); `pitch` > 0 when looking up; `roll` > 0 when
//! the head is tilted clockwise as seen in the image. Zero pitch is the median head of LFW
//! (press photos), so it is "level as people face a camera", not anatomical Frankfurt plane.

use super::point;
use crate::detect::Face;
use serde::{Deserialize, Serialize};

/// Median pitch of 598 random LFW faces by the mesh formula below, subtracted so a level head
/// reads 0 (the forehead–chin line of a face is not parallel to the image plane).
const MESH_PITCH_OFFSET: f32 = 7.5;
/// Five-point fallback, fitted against the mesh pose on 500 random LFW faces (one-parameter
/// least squares): tan(yaw) = YAW_GAIN · (nose offset from the face's midline / eye distance),
/// residual 4.2°; pitch = −PITCH_GAIN · (nose height ratio − PITCH_NEUTRAL), residual 7.8°.
const YAW_GAIN: f32 = 1.306;
const PITCH_GAIN: f32 = 107.0;
const PITCH_NEUTRAL: f32 = 0.574;

/// Where a pose estimate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoseSource {
    /// FaceMesh 468 points (yaw and pitch from their depth; within a few degrees).
    Mesh,
    /// The detector's five points: yaw ±4°, pitch ±8°, and roll under-reported (YuNet's
    /// points read a 20° roll as 7–9°).
    FivePoint,
}

/// Head rotation in degrees (see the module docs for signs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeadPose {
    /// Turn left or right in degrees (0 facing the camera).
    pub yaw: f32,
    /// Nod up or down in degrees.
    pub pitch: f32,
    /// Tilt towards a shoulder in degrees.
    pub roll: f32,
    /// What the angles were measured from.
    pub source: PoseSource,
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn normalise(v: [f32; 3]) -> [f32; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-9);
    [v[0] / n, v[1] / n, v[2] / n]
}

impl HeadPose {
    /// Pose from mesh points in image coordinates (x right, y down, z away from the camera):
    /// the eye-corner axis and the forehead–chin axis form the head's frame.
    pub fn from_mesh(points: &[[f32; 3]]) -> HeadPose {
        let x = normalise(sub(
            points[point::RIGHT_EYE_OUTER],
            points[point::LEFT_EYE_OUTER],
        ));
        let down = sub(points[point::CHIN], points[point::FOREHEAD]);
        let along = down[0] * x[0] + down[1] * x[1] + down[2] * x[2];
        let y = normalise([
            down[0] - along * x[0],
            down[1] - along * x[1],
            down[2] - along * x[2],
        ]);
        HeadPose {
            yaw: x[2].clamp(-1.0, 1.0).asin().to_degrees(),
            pitch: -(y[2].atan2(y[1]).to_degrees() - MESH_PITCH_OFFSET),
            roll: x[1].atan2(x[0]).to_degrees(),
            source: PoseSource::Mesh,
        }
    }

    /// Rough pose from the detector's five points.
    pub fn from_five_points(face: &Face) -> HeadPose {
        let [le, re, nose, ml, mr] = face.landmarks;
        let roll = (re[1] - le[1]).atan2(re[0] - le[0]);
        let (c, s) = ((-roll).cos(), (-roll).sin());
        let mid = [(le[0] + re[0]) / 2.0, (le[1] + re[1]) / 2.0];
        // Into a frame where the eye line is horizontal and the eye midpoint is the origin.
        let level = |p: [f32; 2]| {
            let (x, y) = (p[0] - mid[0], p[1] - mid[1]);
            [c * x - s * y, s * x + c * y]
        };
        let eye_dist = face.inter_eye_distance().max(1e-3);
        let (n, l, r) = (level(nose), level(ml), level(mr));
        let mouth = [(l[0] + r[0]) / 2.0, (l[1] + r[1]) / 2.0];
        let offset = (n[0] - mouth[0] / 2.0) / eye_dist;
        let height = if mouth[1].abs() > 1e-3 {
            n[1] / mouth[1]
        } else {
            PITCH_NEUTRAL
        };
        HeadPose {
            yaw: (YAW_GAIN * offset).atan().to_degrees(),
            pitch: -PITCH_GAIN * (height - PITCH_NEUTRAL),
            roll: roll.to_degrees(),
            source: PoseSource::FivePoint,
        }
    }
}
