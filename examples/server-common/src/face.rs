//! From uploaded bytes to a face the servers can act on: decoded (limits from the engine),
//! the largest face found, its quality assessed under a profile, passive liveness measured when
//! asked, and embedded — one blocking call, run on the model gate.

use faceprint::{Engine, FaceEmbedding, Liveness, QualityProfile, QualityReport};

/// What to check of a face.
#[derive(Debug, Clone)]
pub struct FaceChecks {
    /// Refuse (`quality_rejected`) a face that does not pass this profile.
    pub quality: Option<QualityProfile>,
    /// Measure passive liveness (the caller decides what a spoof means).
    pub liveness: bool,
    /// Refuse (`multiple_faces`) an image with more than one face.
    pub single_face: bool,
}

#[derive(Debug, Clone)]
pub struct CheckedFace {
    pub probe: FaceEmbedding,
    pub quality: Option<QualityReport>,
    pub liveness: Option<Liveness>,
    pub faces_in_image: usize,
}

impl CheckedFace {
    /// Whether liveness was measured and called the face a spoof.
    pub fn is_spoof(&self) -> bool {
        self.liveness.as_ref().is_some_and(|l| !l.live)
    }
}

/// Decodes `bytes` and checks and embeds the largest face.
pub fn check_face(
    engine: &Engine,
    bytes: &[u8],
    checks: &FaceChecks,
) -> faceprint::Result<CheckedFace> {
    let image = engine.decode(bytes)?;
    let faces = engine.detect(&image)?;
    let face = *faceprint::detect::largest(&faces).ok_or(faceprint::Error::NoFace)?;
    if checks.single_face && faces.len() > 1 {
        return Err(faceprint::Error::MultipleFaces(faces.len()));
    }
    let quality = match &checks.quality {
        Some(profile) => {
            let report = engine.face_quality(&image, &face, faces.len(), profile)?;
            report.require_passed()?;
            Some(report)
        }
        None => None,
    };
    let liveness = if checks.liveness {
        Some(engine.face_liveness(&image, &face)?)
    } else {
        None
    };
    let embedding = engine.embed(&image, &[face])?.remove(0);
    metrics::counter!("faceprint_faces_checked_total").increment(1);
    if let Some(l) = &liveness {
        metrics::counter!("faceprint_liveness_total", "outcome" => if l.live { "live" } else { "spoof" }).increment(1);
        metrics::histogram!("faceprint_liveness_score").record(l.score as f64);
    }
    Ok(CheckedFace {
        probe: FaceEmbedding { face, embedding },
        quality,
        liveness,
        faces_in_image: faces.len(),
    })
}
