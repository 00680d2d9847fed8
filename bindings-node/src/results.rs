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

impl Face {
    /// The core's face from one given back by JS; a malformed one is `invalid_argument`.
    pub fn to_core(&self) -> faceprint::Result<faceprint::Face> {
        let shape = |what: &str| faceprint::Error::InvalidArgument(format!("face: {what}"));
        let [x1, y1, x2, y2] = <[f64; 4]>::try_from(self.bbox.as_slice())
            .map_err(|_| shape("bbox must be [x1, y1, x2, y2]"))?;
        if self.landmarks.len() != 5 || self.landmarks.iter().any(|p| p.len() != 2) {
            return Err(shape("landmarks must be five [x, y] points"));
        }
        let p = |i: usize| [self.landmarks[i][0] as f32, self.landmarks[i][1] as f32];
        let bbox = faceprint::BoundingBox {
            x1: x1 as f32,
            y1: y1 as f32,
            x2: x2 as f32,
            y2: y2 as f32,
        };
        faceprint::Face::checked(bbox, [p(0), p(1), p(2), p(3), p(4)], self.score as f32)
    }
}

/// A face as face_recognition finds and aligns it (`Engine.dlibFaces`).
#[napi(object)]
pub struct DlibFace {
    /// dlib's box `[left, top, right, bottom]` (inclusive), face_recognition's location.
    #[napi(js_name = "box")]
    pub rect: Vec<f64>,
    /// dlib's 5 points: corners of the eye on the image's right, of the other eye, nose base.
    pub points: Vec<Vec<f64>>,
    /// The face aligned on dlib's chip, for `embed`.
    pub face: Face,
}

impl From<faceprint::landmarks::dlib::DlibFace> for DlibFace {
    fn from(d: faceprint::landmarks::dlib::DlibFace) -> DlibFace {
        let r = d.rect;
        DlibFace {
            rect: vec![r.x1 as f64, r.y1 as f64, r.x2 as f64, r.y2 as f64],
            points: d
                .points
                .iter()
                .map(|p| vec![p[0] as f64, p[1] as f64])
                .collect(),
            face: Face::from(&d.aligned),
        }
    }
}

/// An L2-normalised embedding with the face it came from.
#[napi(object)]
pub struct FaceEmbedding {
    pub embedding: Float32Array,
    pub face: Option<Face>,
    pub model: String,
    /// The L2 norm of the model's raw output: `embedding * norm` is the raw vector.
    pub norm: f64,
}

impl FaceEmbedding {
    pub fn new(e: &faceprint::Embedding, face: Option<&faceprint::Face>) -> FaceEmbedding {
        FaceEmbedding {
            embedding: Float32Array::new(e.vector().to_vec()),
            face: face.map(Face::from),
            model: e.model_id().to_string(),
            norm: e.norm() as f64,
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

/// A person enrolled in a collection.
#[napi(object)]
pub struct Subject {
    pub collection: String,
    /// Your identifier, unique within the collection.
    pub external_id: String,
    pub display_name: Option<String>,
    #[napi(ts_type = "Record<string, unknown>")]
    pub metadata: serde_json::Value,
    pub disabled: bool,
    /// Unix time in milliseconds.
    pub created_at: f64,
    pub updated_at: f64,
    /// How many templates it has.
    pub templates: u32,
}

impl From<faceprint::store::Subject> for Subject {
    fn from(s: faceprint::store::Subject) -> Subject {
        Subject {
            collection: s.collection,
            external_id: s.external_id,
            display_name: s.display_name,
            metadata: s.metadata,
            disabled: s.disabled,
            created_at: s.created_at as f64,
            updated_at: s.updated_at as f64,
            templates: s.templates as u32,
        }
    }
}

/// A collection of the store: its templates are all of one model.
#[napi(object)]
pub struct Collection {
    pub name: String,
    pub model_id: String,
    pub dim: u32,
    /// Unix time in milliseconds.
    pub created_at: f64,
}

impl From<faceprint::store::Collection> for Collection {
    fn from(c: faceprint::store::Collection) -> Collection {
        Collection {
            name: c.name,
            model_id: c.model_id,
            dim: c.dim as u32,
            created_at: c.created_at as f64,
        }
    }
}

/// One stored template, decrypted.
#[napi(object)]
pub struct ExportedTemplate {
    pub id: String,
    pub model_version: String,
    pub quality: Option<f64>,
    pub source: Option<String>,
    pub created_at: f64,
    pub embedding: FaceEmbedding,
}

/// Everything stored about a subject (for access requests).
#[napi(object)]
pub struct SubjectExport {
    pub subject: Subject,
    pub templates: Vec<ExportedTemplate>,
}

impl From<faceprint::SubjectExport> for SubjectExport {
    fn from(e: faceprint::SubjectExport) -> SubjectExport {
        SubjectExport {
            subject: e.subject.into(),
            templates: e
                .templates
                .into_iter()
                .map(|t| ExportedTemplate {
                    embedding: FaceEmbedding::new(&t.embedding, None),
                    id: t.id,
                    model_version: t.model_version,
                    quality: t.quality.map(f64::from),
                    source: t.source,
                    created_at: t.created_at as f64,
                })
                .collect(),
        }
    }
}

/// The error one image of a batch gave.
#[napi(object)]
pub struct BatchError {
    pub code: String,
    pub number: u32,
    pub message: String,
}

/// One image of `extractBatch`: its faces, or its error (never both).
#[napi(object)]
pub struct BatchItem {
    pub faces: Option<Vec<FaceEmbedding>>,
    pub error: Option<BatchError>,
}

impl From<faceprint::BatchItem> for BatchItem {
    fn from(item: faceprint::BatchItem) -> BatchItem {
        match item {
            Ok(found) => BatchItem {
                faces: Some(
                    found
                        .iter()
                        .map(|f| FaceEmbedding::new(&f.embedding, Some(&f.face)))
                        .collect(),
                ),
                error: None,
            },
            Err(e) => BatchItem {
                faces: None,
                error: Some(BatchError {
                    code: e.code().as_str().to_string(),
                    number: e.code().number(),
                    message: e.to_string(),
                }),
            },
        }
    }
}

/// A result the core gives as JSON in this package's shape: camelCase keys, and boxes
/// (`{x1, y1, x2, y2}`) as `[x1, y1, x2, y2]` like every other box here.
pub fn node_shape(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let corners = ["x1", "y1", "x2", "y2"];
            if map.len() == 4
                && corners
                    .iter()
                    .all(|k| map.get(*k).is_some_and(Value::is_number))
            {
                return Value::Array(corners.iter().map(|k| map[*k].clone()).collect());
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (camel_case(&k), node_shape(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(node_shape).collect()),
        other => other,
    }
}

fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
