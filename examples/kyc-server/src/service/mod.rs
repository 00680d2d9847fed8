//! What the server does, below its routes: the verification workflow (document, selfie,
//! decision, review), the selfie step by liveness challenges, the decision rules, reading the
//! document pages, and privacy (retention, erasure, export).

pub mod decision;
pub mod document;
pub mod liveness;
pub mod privacy;
pub mod verifications;
