//! Result types: frozen classes with read-only attributes and a readable repr. Nested reports
//! (quality, enrollment, session progress) are plain dicts of the same JSON the other
//! languages get.

use faceprint::{Embedding, Face};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;

/// One detected face.
#[pyclass(frozen, module = "faceprint", skip_from_py_object)]
pub struct DetectedFace {
    pub(crate) face: Face,
}

#[pymethods]
impl DetectedFace {
    /// `(x1, y1, x2, y2)` in pixels.
    #[getter]
    fn bbox(&self) -> (f32, f32, f32, f32) {
        let b = self.face.bbox;
        (b.x1, b.y1, b.x2, b.y2)
    }

    /// 5x2 float32: left eye, right eye, nose, left and right mouth corner (as seen upright).
    #[getter]
    fn landmarks<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f32>> {
        let rows: Vec<Vec<f32>> = self.face.landmarks.iter().map(|p| p.to_vec()).collect();
        PyArray2::from_vec2(py, &rows).expect("5 rows of 2")
    }

    /// Detector confidence, 0..1.
    #[getter]
    fn score(&self) -> f32 {
        self.face.score
    }

    fn __repr__(&self) -> String {
        let b = self.face.bbox;
        format!(
            "Face(bbox=({:.1}, {:.1}, {:.1}, {:.1}), score={:.3})",
            b.x1, b.y1, b.x2, b.y2, self.face.score
        )
    }
}

/// A face embedding: an L2-normalised float32 vector of the engine's model, with the face it
/// came from (None when made from a stored vector).
#[pyclass(frozen, module = "faceprint", skip_from_py_object)]
pub struct FaceEmbedding {
    pub(crate) embedding: Embedding,
    pub(crate) face: Option<Face>,
}

impl FaceEmbedding {
    /// As the core's probe; a stored vector has no face (an empty box at the origin).
    pub(crate) fn probe(&self) -> faceprint::FaceEmbedding {
        match self.face {
            Some(face) => faceprint::FaceEmbedding {
                face,
                embedding: self.embedding.clone(),
            },
            None => faceprint::FaceEmbedding::stored(self.embedding.clone()),
        }
    }
}

#[pymethods]
impl FaceEmbedding {
    /// A new float32 array (a copy; changing it changes nothing here).
    #[getter]
    fn embedding<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, self.embedding.vector())
    }

    #[getter]
    fn face(&self) -> Option<DetectedFace> {
        self.face.map(|face| DetectedFace { face })
    }

    #[getter]
    fn model(&self) -> &str {
        self.embedding.model_id()
    }

    /// The L2 norm of the model's raw output: `embedding * norm` is the raw vector (dlib's
    /// descriptor for dlib-resnet-v1; 1.0 for a stored vector).
    #[getter]
    fn norm(&self) -> f32 {
        self.embedding.norm()
    }

    fn __len__(&self) -> usize {
        self.embedding.dim()
    }

    /// numpy's protocol: `np.asarray(e)` is the float32 vector (a copy).
    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy; // always a new array
        let array = PyArray1::from_slice(py, self.embedding.vector()).into_any();
        match dtype {
            Some(d) if !d.is_none() => array.call_method1("astype", (d,)),
            _ => Ok(array),
        }
    }

    /// Pickling: the model, the vector and the face; unpickling checks the vector again.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let restore = py
            .import("faceprint._faceprint")?
            .getattr("_restore_embedding")?;
        let face = self.face.map(|f| {
            (
                (f.bbox.x1, f.bbox.y1, f.bbox.x2, f.bbox.y2),
                f.landmarks.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>(),
                f.score,
            )
        });
        let args = (
            self.embedding.model_id().to_string(),
            self.embedding.vector().to_vec(),
            face,
            self.embedding.norm(),
        )
            .into_pyobject(py)?
            .into_any();
        Ok((restore, args))
    }

    fn __repr__(&self) -> String {
        format!(
            "FaceEmbedding(model={:?}, dim={}, face={})",
            self.embedding.model_id(),
            self.embedding.dim(),
            self.face
                .map(|face| DetectedFace { face }.__repr__())
                .unwrap_or_else(|| "None".into())
        )
    }
}

/// Outcome of a 1:1 comparison or verification.
#[pyclass(frozen, get_all, module = "faceprint", skip_from_py_object)]
pub struct Comparison {
    /// Cosine similarity.
    pub score: f32,
    /// The similarity the decision used.
    pub threshold: f32,
    /// The false-match rate of the threshold (None when the model is uncalibrated).
    pub fmr: Option<f64>,
    /// `score >= threshold`.
    pub same: bool,
}

#[pymethods]
impl Comparison {
    fn __repr__(&self) -> String {
        format!(
            "Comparison(score={:.4}, threshold={:.4}, fmr={}, same={})",
            self.score,
            self.threshold,
            py_opt(self.fmr),
            py_bool(self.same)
        )
    }
}

/// Outcome of `Engine.verify` (and of each face of `verify_all`).
#[pyclass(frozen, module = "faceprint", skip_from_py_object)]
pub struct Verification {
    #[pyo3(get)]
    pub subject: String,
    #[pyo3(get)]
    pub score: f32,
    #[pyo3(get)]
    pub threshold: f32,
    #[pyo3(get)]
    pub fmr: Option<f64>,
    #[pyo3(get)]
    pub matched: bool,
    #[pyo3(get)]
    pub template_id: String,
    pub(crate) face: Option<Face>,
}

impl Verification {
    /// From the core's result; `face` is None for a probe made from a stored vector.
    pub fn new(v: faceprint::Verification, face: Option<Face>) -> Verification {
        Verification {
            subject: v.subject,
            score: v.score,
            threshold: v.threshold,
            fmr: v.fmr,
            matched: v.matched,
            template_id: v.template_id,
            face,
        }
    }
}

/// One face's answer of `Engine.identify_all` (or an `identify_embedding`): the face and its
/// candidates, best first.
#[pyclass(frozen, module = "faceprint", skip_from_py_object)]
pub struct Identification {
    pub(crate) face: Option<Face>,
    pub(crate) threshold: f32,
    pub(crate) fmr: Option<f64>,
    pub(crate) candidates: Vec<faceprint::Candidate>,
}

impl Identification {
    pub fn new(id: faceprint::Identification, face: Option<Face>) -> Identification {
        Identification {
            face,
            threshold: id.threshold,
            fmr: id.fmr,
            candidates: id.candidates,
        }
    }
}

#[pymethods]
impl Identification {
    /// The face searched with (None for a stored vector).
    #[getter]
    fn face(&self) -> Option<DetectedFace> {
        self.face.map(|face| DetectedFace { face })
    }

    #[getter]
    fn threshold(&self) -> f32 {
        self.threshold
    }

    #[getter]
    fn fmr(&self) -> Option<f64> {
        self.fmr
    }

    #[getter]
    fn candidates(&self) -> Vec<Candidate> {
        self.candidates
            .iter()
            .cloned()
            .map(Candidate::from)
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Identification(face={}, candidates={})",
            self.face
                .map(|face| DetectedFace { face }.__repr__())
                .unwrap_or_else(|| "None".into()),
            self.candidates.len()
        )
    }
}

impl From<faceprint::Candidate> for Candidate {
    fn from(c: faceprint::Candidate) -> Candidate {
        Candidate {
            subject: c.subject,
            score: c.score,
            matched: c.matched,
            template_id: c.template_id,
        }
    }
}

#[pymethods]
impl Verification {
    /// The face verified (None for a stored vector).
    #[getter]
    fn face(&self) -> Option<DetectedFace> {
        self.face.map(|face| DetectedFace { face })
    }

    fn __repr__(&self) -> String {
        format!(
            "Verification(subject={:?}, score={:.4}, threshold={:.4}, matched={})",
            self.subject,
            self.score,
            self.threshold,
            py_bool(self.matched)
        )
    }
}

/// One candidate of `Engine.identify`.
#[pyclass(frozen, get_all, module = "faceprint", skip_from_py_object)]
pub struct Candidate {
    pub subject: String,
    pub score: f32,
    pub matched: bool,
    pub template_id: String,
}

#[pymethods]
impl Candidate {
    fn __repr__(&self) -> String {
        format!(
            "Candidate(subject={:?}, score={:.4}, matched={})",
            self.subject,
            self.score,
            py_bool(self.matched)
        )
    }
}

/// Passive liveness of a face.
#[pyclass(frozen, get_all, module = "faceprint", skip_from_py_object)]
pub struct Liveness {
    /// Probability the face is live, 0..1.
    pub score: f32,
    pub threshold: f32,
    pub live: bool,
    pub model_scores: Vec<f32>,
}

#[pymethods]
impl Liveness {
    fn __repr__(&self) -> String {
        format!(
            "Liveness(score={:.4}, threshold={:.2}, live={})",
            self.score,
            self.threshold,
            py_bool(self.live)
        )
    }
}

type PickledFace = ((f32, f32, f32, f32), Vec<(f32, f32)>, f32);

/// Rebuilds a pickled `FaceEmbedding` (through the same checks as any vector: finite, non-zero).
#[pyfunction]
#[pyo3(signature = (model, vector, face=None, norm=1.0))]
pub fn _restore_embedding(
    py: Python<'_>,
    model: String,
    vector: Vec<f32>,
    face: Option<PickledFace>,
    norm: f32,
) -> PyResult<FaceEmbedding> {
    use crate::errors::IntoPy;
    let embedding = Embedding::new(model, vector)
        .and_then(|e| e.with_norm(norm))
        .py_err(py)?;
    let face = match face {
        None => None,
        Some(((x1, y1, x2, y2), points, score)) => {
            let landmarks: [(f32, f32); 5] = points
                .try_into()
                .map_err(|_| crate::errors::invalid(py, "a pickled face has 5 landmarks"))?;
            Some(Face {
                bbox: faceprint::BoundingBox { x1, y1, x2, y2 },
                landmarks: landmarks.map(|(x, y)| [x, y]),
                score,
            })
        }
    };
    Ok(FaceEmbedding { embedding, face })
}

/// A result as a dict (through its JSON form).
pub fn to_dict<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value)
        .map_err(|e| crate::errors::raise(py, faceprint::ErrorCode::Internal, e.to_string()))
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn py_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "None".into(), |v| format!("{v:e}"))
}
