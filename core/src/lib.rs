//! Faceprint: embeddable face recognition.
//!
//! Data flows one way: bytes → [`Image`] → [`Face`]s ([`detect`]) → aligned crops ([`align`]) →
//! [`Embedding`]s ([`embed`]) → decisions ([`compare`]). [`Engine`] is the door to all of it:
//!
//! ```no_run
//! let engine = faceprint::Engine::builder().build()?;
//! let a = engine.extract_largest(&engine.open("a.jpg")?)?;
//! let b = engine.extract_largest(&engine.open("b.jpg")?)?;
//! let result = engine.compare(&a.embedding, &b.embedding, Some(faceprint::Threshold::Fmr(1e-4)))?;
//! println!("same person: {} (score {:.3})", result.same, result.score);
//! # Ok::<(), faceprint::Error>(())
//! ```
#![warn(missing_docs)]

pub mod align;
mod batch;
pub mod compare;
mod config_json;
pub mod detect;
pub mod document;
pub mod embed;
mod engine;
mod error;
pub mod files;
mod gallery;
pub mod image;
pub mod index;
pub mod landmarks;
pub mod liveness;
pub mod models;
pub mod quality;
pub mod runtime;
pub mod session;
pub mod store;
pub mod track;

pub use batch::{BatchItem, ImageSource};
pub use compare::{Comparison, Threshold};
pub use detect::{BoundingBox, DetectionOptions, Detector, Face};
pub use embed::{Embedder, Embedding};
pub use engine::{
    Engine, EngineBuilder, EngineConfig, FaceEmbedding, DEFAULT_DETECTOR, DEFAULT_EMBEDDER,
};
pub use error::{Error, ErrorCode, Result};
pub use gallery::{
    Candidate, DuplicateWarning, EnrollOptions, EnrollReport, FacePolicy, Identification,
    IndexConfig, IndexSource, IndexStatus, QualityGate, SubjectExport, Verification,
};
pub use image::{Image, ImageLimits, PixelFormat};
pub use landmarks::{EyeOpenness, HeadPose, MeshLandmarks};
pub use liveness::{ActiveConfig, ActiveLivenessSession, Challenge, Liveness};
pub use quality::{QualityProfile, QualityReason, QualityReport};
pub use session::{
    AuthMode, AuthenticationConfig, AuthenticationSession, EnrollmentConfig, EnrollmentSession,
};
