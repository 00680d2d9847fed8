//! Liveness: is a live person in front of the camera? [`passive`] scores one image (prints,
//! screen replays); [`active`] runs a challenge–response session over a stream of frames.

pub mod active;
pub mod passive;

pub use active::{
    ActiveConfig, ActiveFrameResult, ActiveLivenessSession, Challenge, FailureReason,
    LivenessEvent, SessionStatus,
};
pub use passive::{Liveness, PassiveLiveness, DEFAULT_THRESHOLD};
