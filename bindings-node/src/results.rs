//! Result objects (plain JS objects; typed in index.d.ts).

use napi::bindgen_prelude::Float32Array;
use napi_derive::napi;

/// One detected face: `bbox` is `[x1, y1, x2, y2]`, `landmarks` five `[x, y]` points (left eye,
/// right eye, nose, left and right mouth corner, as seen upright).
#[napi(object)]
pub struct Face {
    pub bbox: Vec<f64>,
    pub landmarks: Vec<Vec<f64>>,
    pub score: f64,
}

impl From<&faceprint::Face> for Face {
    fn from(f: &faceprint::Face) -> Face {
        Face {
            bbox: vec![
                f.bbox.x1 as f64,
                f.bbox.y1 as f64,
                f.bbox.x2 as f64,
                f.bbox.y2 as f64,
            ],
            landmarks: f
                .landmarks
                .iter()
                .map(|p| vec![p[0] as f64, p[1] as f64])
                .collect(),
            score: f.score as f64,
        }
    }
}

/// An L2-normalised embedding with the face it came from.
#[napi(object)]
pub struct FaceEmbedding {
    pub embedding: Float32Array,
    pub face: Option<Face>,
    pub model: String,
}

impl FaceEmbedding {
    pub fn new(e: &faceprint::Embedding, face: Option<&faceprint::Face>) -> FaceEmbedding {
        FaceEmbedding {
            embedding: Float32Array::new(e.vector().to_vec()),
            face: face.map(Face::from),
            model: e.model_id().to_string(),
        }
    }
}

#[napi(object)]
pub struct Comparison {
    /// Cosine similarity.
    pub score: f64,
    /// The similarity the decision used.
    pub threshold: f64,
    /// The false-match rate of the threshold (absent when uncalibrated).
    pub fmr: Option<f64>,
    /// `score >= threshold`.
    pub same: bool,
}

#[napi(object)]
pub struct Verification {
    pub subject: String,
    pub score: f64,
    pub threshold: f64,
    pub fmr: Option<f64>,
    pub matched: bool,
    pub template_id: String,
    /// The face verified (absent for a stored vector).
    pub face: Option<Face>,
}

impl Verification {
    pub fn new(v: faceprint::Verification, from_photo: bool) -> Verification {
        Verification {
            face: from_photo.then(|| Face::from(&v.face)),
            subject: v.subject,
            score: v.score as f64,
            threshold: v.threshold as f64,
            fmr: v.fmr,
            matched: v.matched,
            template_id: v.template_id,
        }
    }
}

/// One face's answer of `identifyAll` (or `identifyEmbedding`): the face and its candidates.
#[napi(object)]
pub struct Identification {
    /// The face searched with (absent for a stored vector).
    pub face: Option<Face>,
    pub threshold: f64,
    pub fmr: Option<f64>,
    pub candidates: Vec<Candidate>,
}

impl Identification {
    pub fn new(id: faceprint::Identification, from_photo: bool) -> Identification {
        Identification {
            face: from_photo.then(|| Face::from(&id.face)),
            threshold: id.threshold as f64,
            fmr: id.fmr,
            candidates: id.candidates.into_iter().map(Candidate::from).collect(),
        }
    }
}

impl From<faceprint::Candidate> for Candidate {
    fn from(c: faceprint::Candidate) -> Candidate {
        Candidate {
            subject: c.subject,
            score: c.score as f64,
            matched: c.matched,
            template_id: c.template_id,
        }
    }
}

#[napi(object)]
pub struct Candidate {
    pub subject: String,
    pub score: f64,
    pub matched: bool,
    pub template_id: String,
}

#[napi(object)]
pub struct Liveness {
    /// Probability the face is live, 0..1.
    pub score: f64,
    pub threshold: f64,
    pub live: bool,
    pub model_scores: Vec<f64>,
}

/// A match threshold: `threshold` (a similarity) or `fmr` (a false-match rate), at most one.
#[napi(object)]
#[derive(Default)]
pub struct MatchOptions {
    pub threshold: Option<f64>,
    pub fmr: Option<f64>,
    /// Candidates to return from identify (default 5).
    pub top_k: Option<f64>,
    /// Recorded in the audit log.
    pub actor: Option<String>,
}
