//! Liveness: is a live person in front of the camera? [`passive`] scores one image (prints,
//! screen replays); [`active`] runs a challenge–response session over a stream of frames.

pub mod passive;

pub use passive::{Liveness, PassiveLiveness, DEFAULT_THRESHOLD};
