//! `faceprint.Engine` and `faceprint.Store`: thin wrappers over the core engine. Every call that
//! runs a model releases the GIL, so threads sharing one engine run in parallel.

use crate::errors::{invalid, IntoPy};
use crate::image::load;
use crate::results::{
    to_dict, Candidate, Comparison, DetectedFace, FaceEmbedding, Identification, Liveness,
    Verification,
};
use faceprint::store::{MasterKey, MemoryStore, SqliteStore, TemplateStore};
use faceprint::{EngineConfig, EnrollOptions, QualityProfile, Threshold};
use numpy::{PyArray1, PyArray3, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::path::PathBuf;
use std::sync::Arc;

/// A template store for enroll / verify / identify. Thread-safe.
#[pyclass(frozen, module = "faceprint", skip_from_py_object)]
pub struct Store {
    store: Arc<dyn TemplateStore>,
}

#[pymethods]
impl Store {
    /// A store in memory, gone with the process.
    #[staticmethod]
    fn memory() -> Store {
        Store {
            store: Arc::new(MemoryStore::new()),
        }
    }

    /// An encrypted SQLite store (created if missing). `key`: the base64 32-byte master key;
    /// None reads `FACEPRINT_KEY`.
    #[staticmethod]
    #[pyo3(signature = (path, key=None))]
    fn sqlite(py: Python<'_>, path: PathBuf, key: Option<String>) -> PyResult<Store> {
        let key = match key {
            Some(k) => MasterKey::from_base64(&k),
            None => MasterKey::from_env(),
        }
        .py_err(py)?;
        let store = py.detach(|| SqliteStore::open(&path, key)).py_err(py)?;
        Ok(Store {
            store: Arc::new(store),
        })
    }
}

/// Loaded models (and an optional store). Create one and share it: it is thread-safe.
#[pyclass(frozen, module = "faceprint", skip_from_py_object)]
pub struct Engine {
    engine: faceprint::Engine,
}

fn threshold(py: Python<'_>, score: Option<f32>, fmr: Option<f64>) -> PyResult<Option<Threshold>> {
    Threshold::from_options(score, fmr).py_err(py)
}

/// A dict argument as JSON text for the core's JSON-over-defaults parsers.
/// The enrollment options both enroll calls take.
fn enroll_options(
    py: Python<'_>,
    display_name: Option<String>,
    metadata: Option<&Bound<'_, PyAny>>,
    sources: Option<Vec<String>>,
    actor: Option<String>,
) -> PyResult<EnrollOptions> {
    Ok(EnrollOptions {
        display_name,
        metadata: match metadata {
            Some(m) => {
                Some(pythonize::depythonize(m).map_err(|e| invalid(py, format!("metadata: {e}")))?)
            }
            None => None,
        },
        sources: sources.unwrap_or_default(),
        actor,
        ..EnrollOptions::default()
    })
}

pub fn dict_json(py: Python<'_>, value: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    let Some(value) = value else {
        return Ok(String::new());
    };
    let json: serde_json::Value = pythonize::depythonize(value)
        .map_err(|e| invalid(py, format!("expected a dict of settings: {e}")))?;
    Ok(json.to_string())
}

impl Engine {
    pub fn core(&self) -> &faceprint::Engine {
        &self.engine
    }
}

#[pymethods]
impl Engine {
    /// `models_dir`: the model pack (default: `FACEPRINT_MODELS`). `onnxruntime`: path of
    /// libonnxruntime.so.1.31.1 (default: `FACEPRINT_ORT_LIB`, else the copy in the wheel).
    /// `config`: engine settings over the defaults, e.g. `{"threshold": {"fmr": 1e-5}}`.
    #[new]
    /// `detector` / `embedder`: model ids from the pack (default yunet-2023mar and
    /// omz-reid-0095; dlib-resnet-v1 is the 128-D embedder face_recognition uses).
    #[pyo3(signature = (models_dir=None, *, onnxruntime=None, store=None, threads=None, config=None, detector=None, embedder=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        models_dir: Option<PathBuf>,
        onnxruntime: Option<PathBuf>,
        store: Option<&Store>,
        threads: Option<usize>,
        config: Option<&Bound<'_, PyAny>>,
        detector: Option<String>,
        embedder: Option<String>,
    ) -> PyResult<Engine> {
        let mut b = faceprint::Engine::builder();
        if let Some(d) = detector {
            b = b.detector_model(d);
        }
        if let Some(e) = embedder {
            b = b.embedder_model(e);
        }
        if let Some(dir) = models_dir {
            b = b.models_dir(dir);
        }
        // Default: FACEPRINT_ORT_LIB, else the copy beside this extension inside the wheel.
        if let Some(lib) = onnxruntime {
            b = b.onnxruntime_library(lib);
        }
        if let Some(store) = store {
            b = b.store(store.store.clone());
        }
        if let Some(n) = threads {
            b = b.intra_op_threads(n).py_err(py)?;
        }
        if config.is_some() {
            b = b.config(EngineConfig::from_json(&dict_json(py, config)?).py_err(py)?);
        }
        let engine = py.detach(|| b.build()).py_err(py)?;
        Ok(Engine { engine })
    }

    /// The embedding model's id.
    #[getter]
    fn embedder(&self) -> &str {
        self.engine.embedder_id()
    }

    #[getter]
    fn embedding_dim(&self) -> usize {
        self.engine.embedding_dim()
    }

    #[getter]
    fn models_dir(&self) -> PathBuf {
        self.engine.models_dir().to_path_buf()
    }

    /// The image as the engine sees it: an HxWx3 RGB uint8 array (EXIF orientation applied).
    #[pyo3(signature = (image, *, bgr=false))]
    fn decode<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        bgr: bool,
    ) -> PyResult<Bound<'py, PyArray3<u8>>> {
        let img = load(py, &self.engine, image, bgr)?;
        let (h, w) = (img.height() as usize, img.width() as usize);
        let flat = PyArray1::from_slice(py, img.as_rgb());
        flat.reshape([h, w, 3])
    }

    /// Faces in the image, best first.
    #[pyo3(signature = (image, *, bgr=false))]
    fn detect(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        bgr: bool,
    ) -> PyResult<Vec<DetectedFace>> {
        let img = load(py, &self.engine, image, bgr)?;
        let faces = py.detach(|| self.engine.detect(&img)).py_err(py)?;
        Ok(faces
            .into_iter()
            .map(|face| DetectedFace { face })
            .collect())
    }

    /// Every face with its embedding (empty when there is none).
    #[pyo3(signature = (image, *, bgr=false))]
    fn extract(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        bgr: bool,
    ) -> PyResult<Vec<FaceEmbedding>> {
        let img = load(py, &self.engine, image, bgr)?;
        let found = py.detach(|| self.engine.extract(&img)).py_err(py)?;
        Ok(found
            .into_iter()
            .map(|fe| FaceEmbedding {
                embedding: fe.embedding,
                face: Some(fe.face),
            })
            .collect())
    }

    /// The largest face's embedding; raises NoFaceError when there is none.
    #[pyo3(signature = (image, *, bgr=false))]
    fn extract_largest(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        bgr: bool,
    ) -> PyResult<FaceEmbedding> {
        let img = load(py, &self.engine, image, bgr)?;
        let fe = py.detach(|| self.engine.extract_largest(&img)).py_err(py)?;
        Ok(FaceEmbedding {
            embedding: fe.embedding,
            face: Some(fe.face),
        })
    }

    /// An embedding from a stored float32 vector (checked and normalised).
    fn embedding_from_vector(
        &self,
        py: Python<'_>,
        vector: &Bound<'_, PyAny>,
    ) -> PyResult<FaceEmbedding> {
        let values = crate::image::float_vector(py, vector, self.engine.embedding_dim())?;
        let embedding = self.engine.embedding_from_vector(values).py_err(py)?;
        Ok(FaceEmbedding {
            embedding,
            face: None,
        })
    }

    /// Compares two embeddings; `threshold` is a similarity, `fmr` a false-match rate (give
    /// at most one; default FMR 1e-4).
    #[pyo3(signature = (a, b, *, threshold=None, fmr=None))]
    fn compare(
        &self,
        py: Python<'_>,
        a: PyRef<'_, FaceEmbedding>,
        b: PyRef<'_, FaceEmbedding>,
        threshold: Option<f32>,
        fmr: Option<f64>,
    ) -> PyResult<Comparison> {
        let t = self::threshold(py, threshold, fmr)?;
        let c = self
            .engine
            .compare(&a.embedding, &b.embedding, t)
            .py_err(py)?;
        Ok(Comparison {
            score: c.score,
            threshold: c.threshold,
            fmr: c.fmr,
            same: c.same,
        })
    }

    /// Enrolls `subject` from images that each show one face; all are stored or none.
    /// Returns the enrollment report as a dict.
    #[pyo3(signature = (collection, subject, images, *, bgr=false, display_name=None, metadata=None, face_policy=None, sources=None, actor=None))]
    #[allow(clippy::too_many_arguments)]
    fn enroll<'py>(
        &self,
        py: Python<'py>,
        collection: &str,
        subject: &str,
        images: &Bound<'py, PyList>,
        bgr: bool,
        display_name: Option<String>,
        metadata: Option<&Bound<'py, PyAny>>,
        face_policy: Option<&str>,
        sources: Option<Vec<String>>,
        actor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut options = enroll_options(py, display_name, metadata, sources, actor)?;
        if let Some(policy) = face_policy {
            options.face_policy = policy.parse().py_err(py)?;
        }
        let images = images
            .iter()
            .map(|i| load(py, &self.engine, &i, bgr))
            .collect::<PyResult<Vec<_>>>()?;
        let report = py
            .detach(|| self.engine.enroll(collection, subject, &images, &options))
            .py_err(py)?;
        to_dict(py, &report)
    }

    /// Enrolls `subject` from embeddings already extracted (or made by
    /// `embedding_from_vector`); all are stored or none. Returns the report as a dict.
    #[pyo3(signature = (collection, subject, embeddings, *, display_name=None, metadata=None, sources=None, actor=None))]
    #[allow(clippy::too_many_arguments)]
    fn enroll_embeddings<'py>(
        &self,
        py: Python<'py>,
        collection: &str,
        subject: &str,
        embeddings: Vec<PyRef<'py, FaceEmbedding>>,
        display_name: Option<String>,
        metadata: Option<&Bound<'py, PyAny>>,
        sources: Option<Vec<String>>,
        actor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = enroll_options(py, display_name, metadata, sources, actor)?;
        let vectors: Vec<_> = embeddings.iter().map(|e| e.embedding.clone()).collect();
        let report = py
            .detach(|| {
                self.engine
                    .enroll_embeddings(collection, subject, vectors, &options)
            })
            .py_err(py)?;
        to_dict(py, &report)
    }

    /// 1:1: is the largest face of `image` the enrolled `subject`?
    #[pyo3(signature = (collection, subject, image, *, bgr=false, threshold=None, fmr=None, actor=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify(
        &self,
        py: Python<'_>,
        collection: &str,
        subject: &str,
        image: &Bound<'_, PyAny>,
        bgr: bool,
        threshold: Option<f32>,
        fmr: Option<f64>,
        actor: Option<&str>,
    ) -> PyResult<Verification> {
        let t = self::threshold(py, threshold, fmr)?;
        let img = load(py, &self.engine, image, bgr)?;
        let v = py
            .detach(|| self.engine.verify(collection, subject, &img, t, actor))
            .py_err(py)?;
        let face = v.face;
        Ok(Verification::new(v, Some(face)))
    }

    /// 1:1 for every face of `image`: one Verification per face, each with its `face`.
    #[pyo3(signature = (collection, subject, image, *, bgr=false, threshold=None, fmr=None, actor=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify_all(
        &self,
        py: Python<'_>,
        collection: &str,
        subject: &str,
        image: &Bound<'_, PyAny>,
        bgr: bool,
        threshold: Option<f32>,
        fmr: Option<f64>,
        actor: Option<&str>,
    ) -> PyResult<Vec<Verification>> {
        let t = self::threshold(py, threshold, fmr)?;
        let img = load(py, &self.engine, image, bgr)?;
        let all = py
            .detach(|| self.engine.verify_all(collection, subject, &img, t, actor))
            .py_err(py)?;
        Ok(all
            .into_iter()
            .map(|v| {
                let face = v.face;
                Verification::new(v, Some(face))
            })
            .collect())
    }

    /// 1:1 with an embedding already extracted (or made by `embedding_from_vector`).
    #[pyo3(signature = (collection, subject, embedding, *, threshold=None, fmr=None, actor=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify_embedding(
        &self,
        py: Python<'_>,
        collection: &str,
        subject: &str,
        embedding: &FaceEmbedding,
        threshold: Option<f32>,
        fmr: Option<f64>,
        actor: Option<&str>,
    ) -> PyResult<Verification> {
        let t = self::threshold(py, threshold, fmr)?;
        let probe = embedding.probe();
        let v = py
            .detach(|| {
                self.engine
                    .verify_embedding(collection, subject, &probe, t, actor)
            })
            .py_err(py)?;
        Ok(Verification::new(v, embedding.face))
    }

    /// 1:N for every face of `image`: one Identification (face + candidates) per face.
    #[pyo3(signature = (collection, image, *, top_k=5, bgr=false, threshold=None, fmr=None, actor=None))]
    #[allow(clippy::too_many_arguments)]
    fn identify_all(
        &self,
        py: Python<'_>,
        collection: &str,
        image: &Bound<'_, PyAny>,
        top_k: usize,
        bgr: bool,
        threshold: Option<f32>,
        fmr: Option<f64>,
        actor: Option<&str>,
    ) -> PyResult<Vec<Identification>> {
        let t = self::threshold(py, threshold, fmr)?;
        let img = load(py, &self.engine, image, bgr)?;
        let all = py
            .detach(|| self.engine.identify_all(collection, &img, top_k, t, actor))
            .py_err(py)?;
        Ok(all
            .into_iter()
            .map(|id| {
                let face = id.face;
                Identification::new(id, Some(face))
            })
            .collect())
    }

    /// 1:N with an embedding already extracted (or made by `embedding_from_vector`).
    #[pyo3(signature = (collection, embedding, *, top_k=5, threshold=None, fmr=None, actor=None))]
    #[allow(clippy::too_many_arguments)]
    fn identify_embedding(
        &self,
        py: Python<'_>,
        collection: &str,
        embedding: &FaceEmbedding,
        top_k: usize,
        threshold: Option<f32>,
        fmr: Option<f64>,
        actor: Option<&str>,
    ) -> PyResult<Identification> {
        let t = self::threshold(py, threshold, fmr)?;
        let probe = embedding.probe();
        let id = py
            .detach(|| {
                self.engine
                    .identify_embedding(collection, &probe, top_k, t, actor)
            })
            .py_err(py)?;
        Ok(Identification::new(id, embedding.face))
    }

    /// The embedding of an image that already is a face crop, without detection (the face is
    /// the whole image; README, Tight crops).
    #[pyo3(signature = (image, *, bgr=false))]
    fn embed_face_crop(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        bgr: bool,
    ) -> PyResult<FaceEmbedding> {
        let img = load(py, &self.engine, image, bgr)?;
        let fe = py.detach(|| self.engine.embed_face_crop(&img)).py_err(py)?;
        Ok(FaceEmbedding {
            embedding: fe.embedding,
            face: Some(fe.face),
        })
    }

    /// 1:N: the `top_k` most similar enrolled subjects, best first.
    #[pyo3(signature = (collection, image, *, top_k=5, bgr=false, threshold=None, fmr=None, actor=None))]
    #[allow(clippy::too_many_arguments)]
    fn identify(
        &self,
        py: Python<'_>,
        collection: &str,
        image: &Bound<'_, PyAny>,
        top_k: usize,
        bgr: bool,
        threshold: Option<f32>,
        fmr: Option<f64>,
        actor: Option<&str>,
    ) -> PyResult<Vec<Candidate>> {
        let t = self::threshold(py, threshold, fmr)?;
        let img = load(py, &self.engine, image, bgr)?;
        let id = py
            .detach(|| self.engine.identify(collection, &img, top_k, t, actor))
            .py_err(py)?;
        Ok(id.candidates.into_iter().map(Candidate::from).collect())
    }

    /// Deletes a subject with its templates; raises NotFoundError if absent.
    #[pyo3(signature = (collection, subject, *, actor=None))]
    fn delete_subject(
        &self,
        py: Python<'_>,
        collection: &str,
        subject: &str,
        actor: Option<&str>,
    ) -> PyResult<()> {
        py.detach(|| self.engine.delete_subject(collection, subject, actor))
            .py_err(py)
    }

    /// The embeddings of faces already found (by `detect` or `faces_at`), in order.
    #[pyo3(signature = (image, faces, *, bgr=false))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        faces: Vec<PyRef<'py, DetectedFace>>,
        bgr: bool,
    ) -> PyResult<Vec<FaceEmbedding>> {
        let img = load(py, &self.engine, image, bgr)?;
        let faces: Vec<faceprint::Face> = faces.iter().map(|f| f.face).collect();
        let embeddings = py.detach(|| self.engine.embed(&img, &faces)).py_err(py)?;
        Ok(embeddings
            .into_iter()
            .zip(faces)
            .map(|(embedding, face)| FaceEmbedding {
                embedding,
                face: Some(face),
            })
            .collect())
    }

    /// The faces at boxes `(x1, y1, x2, y2)` found elsewhere: the detected face overlapping
    /// each most, else one placed in the box.
    #[pyo3(signature = (image, boxes, *, bgr=false))]
    fn faces_at<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        boxes: Vec<(f32, f32, f32, f32)>,
        bgr: bool,
    ) -> PyResult<Vec<DetectedFace>> {
        let img = load(py, &self.engine, image, bgr)?;
        let boxes: Vec<faceprint::BoundingBox> = boxes
            .into_iter()
            .map(|(x1, y1, x2, y2)| faceprint::BoundingBox { x1, y1, x2, y2 })
            .collect();
        let faces = py
            .detach(|| self.engine.faces_at(&img, &boxes))
            .py_err(py)?;
        Ok(faces
            .into_iter()
            .map(|face| DetectedFace { face })
            .collect())
    }

    /// Faces as face_recognition finds and aligns them, one per box of `boxes` (dlib boxes
    /// `(left, top, right, bottom)`, e.g. stored face_recognition locations) or else per
    /// detected face: `(box, points, face)` with the box dlib's HOG detector would draw, dlib's
    /// 5 points (a 5x2 float32 array: corners of the eye on the image's right, of the other eye,
    /// base of the nose) and the face aligned on dlib's chip, for `embed`.
    #[pyo3(signature = (image, boxes=None, *, bgr=false))]
    #[allow(clippy::type_complexity)]
    fn dlib_faces<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        boxes: Option<Vec<(f32, f32, f32, f32)>>,
        bgr: bool,
    ) -> PyResult<
        Vec<(
            (f32, f32, f32, f32),
            Bound<'py, numpy::PyArray2<f32>>,
            DetectedFace,
        )>,
    > {
        let img = load(py, &self.engine, image, bgr)?;
        let rects: Option<Vec<faceprint::BoundingBox>> = boxes.map(|b| {
            b.into_iter()
                .map(|(x1, y1, x2, y2)| faceprint::BoundingBox { x1, y1, x2, y2 })
                .collect()
        });
        let faces = py
            .detach(|| self.engine.dlib_faces(&img, rects.as_deref()))
            .py_err(py)?;
        faces
            .into_iter()
            .map(|f| {
                let r = f.rect;
                let rows: Vec<Vec<f32>> = f.points.iter().map(|p| p.to_vec()).collect();
                let points = numpy::PyArray2::from_vec2(py, &rows)
                    .map_err(|e| invalid(py, e.to_string()))?;
                Ok((
                    (r.x1, r.y1, r.x2, r.y2),
                    points,
                    DetectedFace { face: f.aligned },
                ))
            })
            .collect()
    }

    /// The 68 iBUG 300-W points (dlib's 68-point layout) of a face, from FaceMesh: a 68x2
    /// float32 array in pixels.
    #[pyo3(signature = (image, face, *, bgr=false))]
    fn landmarks_68<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        face: PyRef<'py, DetectedFace>,
        bgr: bool,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f32>>> {
        let img = load(py, &self.engine, image, bgr)?;
        let face = face.face;
        let mesh = py
            .detach(|| self.engine.landmarks(&img, &face))
            .py_err(py)?;
        let rows: Vec<Vec<f32>> = mesh.ibug68().iter().map(|p| p.to_vec()).collect();
        numpy::PyArray2::from_vec2(py, &rows).map_err(|e| invalid(py, e.to_string()))
    }

    /// Deletes one template by id (e.g. a bad photo); the subject keeps the others. Returns the
    /// subject it belonged to.
    #[pyo3(signature = (collection, template_id, *, actor=None))]
    fn delete_template(
        &self,
        py: Python<'_>,
        collection: &str,
        template_id: &str,
        actor: Option<&str>,
    ) -> PyResult<String> {
        py.detach(|| self.engine.delete_template(collection, template_id, actor))
            .py_err(py)
    }

    /// A disabled subject is refused by verify and skipped by identify; its templates stay.
    #[pyo3(signature = (collection, subject, *, actor=None))]
    fn disable_subject(
        &self,
        py: Python<'_>,
        collection: &str,
        subject: &str,
        actor: Option<&str>,
    ) -> PyResult<()> {
        py.detach(|| {
            self.engine
                .set_subject_disabled(collection, subject, true, actor)
        })
        .py_err(py)
    }

    /// Matches a disabled subject again.
    #[pyo3(signature = (collection, subject, *, actor=None))]
    fn enable_subject(
        &self,
        py: Python<'_>,
        collection: &str,
        subject: &str,
        actor: Option<&str>,
    ) -> PyResult<()> {
        py.detach(|| {
            self.engine
                .set_subject_disabled(collection, subject, false, actor)
        })
        .py_err(py)
    }

    /// Subjects ordered by id (dicts: collection, external_id, display_name, metadata,
    /// disabled, created_at, updated_at, templates), `limit` from `offset`.
    #[pyo3(signature = (collection, *, offset=0, limit=100))]
    fn list_subjects<'py>(
        &self,
        py: Python<'py>,
        collection: &str,
        offset: usize,
        limit: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let subjects = py
            .detach(|| self.engine.list_subjects(collection, offset, limit))
            .py_err(py)?;
        to_dict(py, &subjects)
    }

    /// Everything stored about a subject, decrypted (for access requests): a dict with
    /// "subject" (as list_subjects) and "templates" (id, model_version, quality, source,
    /// created_at and "embedding", a FaceEmbedding).
    #[pyo3(signature = (collection, subject, *, actor=None))]
    fn export_subject<'py>(
        &self,
        py: Python<'py>,
        collection: &str,
        subject: &str,
        actor: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let export = py
            .detach(|| self.engine.export_subject(collection, subject, actor))
            .py_err(py)?;
        let out = pyo3::types::PyDict::new(py);
        out.set_item("subject", to_dict(py, &export.subject)?)?;
        let templates = PyList::empty(py);
        for t in export.templates {
            let d = pyo3::types::PyDict::new(py);
            d.set_item("id", &t.id)?;
            d.set_item("model_version", &t.model_version)?;
            d.set_item("quality", t.quality)?;
            d.set_item("source", &t.source)?;
            d.set_item("created_at", t.created_at)?;
            d.set_item(
                "embedding",
                FaceEmbedding {
                    embedding: t.embedding,
                    face: None,
                },
            )?;
            templates.append(d)?;
        }
        out.set_item("templates", templates)?;
        Ok(out.into_any())
    }

    /// The store's collections (dicts: name, model_id, dim, created_at).
    fn list_collections<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let collections = py.detach(|| self.engine.list_collections()).py_err(py)?;
        to_dict(py, &collections)
    }

    /// Extracts every face of many images on `threads` worker threads (default: the number of
    /// cores), the GIL released. Returns one entry per image, in order: a list of
    /// FaceEmbedding, or the FaceprintError that image raised (a bad image does not stop the
    /// batch). `progress(done, total)` is called as images finish.
    #[pyo3(signature = (images, *, threads=None, progress=None, bgr=false))]
    fn extract_batch<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
        threads: Option<usize>,
        progress: Option<Bound<'py, PyAny>>,
        bgr: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        if images.is_instance_of::<pyo3::types::PyString>()
            || images.is_instance_of::<pyo3::types::PyBytes>()
        {
            return Err(invalid(
                py,
                "images must be a list of images, not one image",
            ));
        }
        let sources = images
            .try_iter()
            .map_err(|_| invalid(py, "images must be a list (or other iterable) of images"))?
            .map(|i| crate::image::source(py, &self.engine, &i?, bgr))
            .collect::<PyResult<Vec<_>>>()?;
        if let Some(p) = &progress {
            if !p.is_callable() {
                return Err(invalid(
                    py,
                    "progress must be callable as progress(done, total)",
                ));
            }
        }
        let threads =
            threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let callback = progress.map(Bound::unbind);
        // A callback that raises stops reporting; the first exception is raised afterwards.
        let failure: std::sync::Mutex<Option<PyErr>> = std::sync::Mutex::new(None);
        let report = |done: usize, total: usize| {
            if let Some(cb) = &callback {
                Python::attach(|py| {
                    let mut failed = failure.lock().unwrap_or_else(|e| e.into_inner());
                    if failed.is_none() {
                        if let Err(e) = cb.call1(py, (done, total)) {
                            *failed = Some(e);
                        }
                    }
                });
            }
        };
        let results = py
            .detach(|| self.engine.extract_batch(&sources, threads, &report))
            .py_err(py)?;
        if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        let out = PyList::empty(py);
        for item in results {
            match item {
                Ok(faces) => {
                    let faces: Vec<FaceEmbedding> = faces
                        .into_iter()
                        .map(|f| FaceEmbedding {
                            embedding: f.embedding,
                            face: Some(f.face),
                        })
                        .collect();
                    out.append(faces)?;
                }
                Err(e) => {
                    out.append(crate::errors::raise(py, e.code(), e.to_string()).into_value(py))?
                }
            }
        }
        Ok(out)
    }

    /// Quality report (a dict) under a profile ("enrollment" or "authentication"), with
    /// optional overrides of its limits.
    #[pyo3(signature = (image, *, profile="authentication", overrides=None, bgr=false))]
    fn quality<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        profile: &str,
        overrides: Option<&Bound<'py, PyAny>>,
        bgr: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let profile = QualityProfile::from_json(profile, &dict_json(py, overrides)?).py_err(py)?;
        let img = load(py, &self.engine, image, bgr)?;
        let report = py
            .detach(|| self.engine.quality(&img, &profile))
            .py_err(py)?;
        to_dict(py, &report)
    }

    /// Passive liveness of the largest face; raises NoFaceError without one.
    #[pyo3(signature = (image, *, bgr=false))]
    fn liveness(&self, py: Python<'_>, image: &Bound<'_, PyAny>, bgr: bool) -> PyResult<Liveness> {
        let img = load(py, &self.engine, image, bgr)?;
        let l = py.detach(|| self.engine.liveness(&img)).py_err(py)?;
        Ok(Liveness {
            score: l.score,
            threshold: l.threshold,
            live: l.live,
            model_scores: l.model_scores,
        })
    }

    /// Reads an identity document page: a dict with the zone (`mrz`: fields, `checks`, `valid`,
    /// `repairs`), the `portrait`, `orientation_degrees`, `verified`, `error` (when not
    /// verified: code, number, message) and, with `visual_zone=True`, the printed text and the
    /// zone's fields looked for in it. Raises NoDocumentError when the page shows neither a
    /// zone nor a portrait.
    #[pyo3(signature = (image, *, visual_zone=false, bgr=false))]
    fn read_document<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        visual_zone: bool,
        bgr: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let img = load(py, &self.engine, image, bgr)?;
        let options = faceprint::document::DocumentOptions { visual_zone };
        let reading = py
            .detach(|| self.engine.read_document_with(&img, &options))
            .py_err(py)?;
        to_dict(py, &reading.to_json())
    }

    /// Compares a selfie's largest face with a document page's portrait at the document
    /// threshold: a dict with `score`, `threshold`, `matched`, `portrait`, `selfie_face`.
    /// Raises NoPortraitError (page) or NoFaceError (selfie).
    #[pyo3(signature = (document, selfie, *, bgr=false))]
    fn match_document<'py>(
        &self,
        py: Python<'py>,
        document: &Bound<'py, PyAny>,
        selfie: &Bound<'py, PyAny>,
        bgr: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let page = load(py, &self.engine, document, bgr)?;
        let selfie = load(py, &self.engine, selfie, bgr)?;
        let m = py
            .detach(|| self.engine.match_document(&page, &selfie))
            .py_err(py)?;
        to_dict(py, &m)
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine(embedder={:?}, models_dir={:?})",
            self.engine.embedder_id(),
            self.engine.models_dir()
        )
    }
}
