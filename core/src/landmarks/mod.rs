//! Dense face landmarks and what is measured from them: FaceMesh's 468 points (head pose, mouth
//! shape) and MediaPipe Iris's eye contours (eyelid opening, for blinks and closed eyes). Both
//! quality checks and active liveness read these, so they live apart from either.

pub mod dlib;
mod iris;
mod mesh;
mod pose;

pub use dlib::ShapePredictor;
pub use iris::{EyeOpenness, IrisModel};
pub use mesh::{FaceMesh, MeshLandmarks, IBUG68_FROM_MESH};
pub use pose::{HeadPose, PoseSource};

/// Named points of the 468-point mesh used here (MediaPipe's topology).
pub(crate) mod point {
    /// Outer corner of the eye on the image's left in an upright, unmirrored face.
    pub const LEFT_EYE_OUTER: usize = 33;
    pub const LEFT_EYE_INNER: usize = 133;
    pub const RIGHT_EYE_INNER: usize = 362;
    pub const RIGHT_EYE_OUTER: usize = 263;
    pub const FOREHEAD: usize = 10;
    pub const CHIN: usize = 152;
    pub const MOUTH_LEFT: usize = 61;
    pub const MOUTH_RIGHT: usize = 291;
}
