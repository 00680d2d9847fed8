//! The [`Engine`]: the one door users hold. Cheap to clone (an `Arc`), `Send + Sync`, safe to
//! call from many threads at once.

use crate::compare::{self, Comparison, Threshold};
use crate::detect::{self, BlazeFace, DetectionOptions, Detector, Face, YuNet};
use crate::embed::{Embedder, Embedding, OnnxEmbedder};
use crate::error::{Error, Result};
use crate::gallery::{
    EnrollOptions, EnrollReport, FacePolicy, Gallery, Identification, QualityGate, SubjectExport,
    Verification,
};
use crate::image::{Image, ImageLimits};
use crate::landmarks::{EyeOpenness, FaceMesh, IrisModel, MeshLandmarks, ShapePredictor};
use crate::liveness::{Liveness, PassiveLiveness};
use crate::models::{Calibration, ModelPack};
use crate::quality::{self, MaskDetector, QualityModels, QualityProfile, QualityReport};
use crate::runtime::{LazyModel, Runtime, Threading};
use crate::store::{NewTemplate, Subject, TemplateStore};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Default detector and embedder of the model pack.
pub const DEFAULT_DETECTOR: &str = "yunet-2023mar";
/// The default embedder for new collections: OMZ face-reidentification-retail-0095 (256-D,
/// Apache-2.0). `dlib-resnet-v1` (128-D, CC0) stays available through
/// [`EngineBuilder::embedder_model`].
pub const DEFAULT_EMBEDDER: &str = "omz-reid-0095";

/// A detected face with its embedding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceEmbedding {
    /// The face.
    pub face: Face,
    /// Its embedding.
    pub embedding: Embedding,
}

impl FaceEmbedding {
    /// A probe from a stored vector (no photo): its face is an empty box at the origin.
    pub fn stored(embedding: Embedding) -> FaceEmbedding {
        FaceEmbedding {
            face: Face::whole_image(0, 0),
            embedding,
        }
    }
}

/// Behaviour settings of an engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Passive-liveness score at or above which a face counts as live (0..1).
    pub liveness_threshold: f32,
    /// How faces are detected.
    pub detection: DetectionOptions,
    /// The largest image accepted (bytes and pixels).
    pub image_limits: ImageLimits,
    /// Embed each face and its mirror image and average them.
    pub flip_augmentation: bool,
    /// Threshold used when a call does not give one.
    pub threshold: Threshold,
    /// Search index of enrolled collections.
    pub index: crate::gallery::IndexConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            liveness_threshold: crate::liveness::DEFAULT_THRESHOLD,
            detection: DetectionOptions::default(),
            image_limits: ImageLimits::default(),
            flip_augmentation: false,
            threshold: Threshold::default(),
            index: crate::gallery::IndexConfig::default(),
        }
    }
}

/// Builds an [`Engine`]; finish with [`EngineBuilder::build`].
pub struct EngineBuilder {
    models_dir: Option<PathBuf>,
    onnxruntime: Option<PathBuf>,
    threading: Threading,
    detector_model: String,
    embedder_model: String,
    embedder_model_set: bool,
    collection_model: Option<String>,
    detector: Option<Box<dyn Detector>>,
    embedder: Option<Box<dyn Embedder>>,
    config: EngineConfig,
    threshold_set: bool,
    store: Option<Arc<dyn TemplateStore>>,
    quality_gate: Option<Arc<dyn QualityGate>>,
    enrollment_quality: Option<QualityProfile>,
}

impl EngineBuilder {
    /// Runs the quality report with this profile on every enrollment photo and refuses the
    /// enrollment (`quality_rejected`, naming the reasons) when one fails; the score is stored
    /// with the template.
    pub fn enrollment_quality(mut self, profile: QualityProfile) -> Self {
        self.enrollment_quality = Some(profile);
        self
    }

    /// Passive-liveness threshold (default 0.64, see [`crate::liveness::DEFAULT_THRESHOLD`]).
    pub fn liveness_threshold(mut self, threshold: f32) -> Self {
        self.config.liveness_threshold = threshold;
        self
    }

    /// Checks every enrollment face before it is stored (see [`QualityGate`]).
    pub fn quality_gate(mut self, gate: Arc<dyn QualityGate>) -> Self {
        self.quality_gate = Some(gate);
        self
    }

    /// The template store enroll/verify/identify work on (e.g. a [`crate::store::SqliteStore`]).
    pub fn store(mut self, store: Arc<dyn TemplateStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The model pack directory (holding `manifest.toml`). Default: where
    /// [`crate::models::locate`] finds one (`FACEPRINT_MODELS`, the installed model package,
    /// `~/.local/share/faceprint/models`, `PREFIX/share/faceprint/models`).
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models_dir = Some(dir.into());
        self
    }

    /// Absolute path of `libonnxruntime.so.1.31.1`. Default: `FACEPRINT_ORT_LIB`,
    /// `ORT_DYLIB_PATH`, beside the library this code is linked into, beside the executable,
    /// then `../lib/` of the executable.
    pub fn onnxruntime_library(mut self, path: impl Into<PathBuf>) -> Self {
        self.onnxruntime = Some(path.into());
        self
    }

    /// ONNX Runtime intra-op threads per inference: 1..=256 (default 1). Anything else is
    /// refused here, where it is given.
    pub fn intra_op_threads(mut self, n: usize) -> Result<Self> {
        self.threading.intra_op_threads =
            crate::runtime::check_thread_count(n, "the number of intra-op threads")?;
        Ok(self)
    }

    /// Most concurrent inferences per model: 1..=256 (default: number of cores).
    pub fn max_sessions(mut self, n: usize) -> Result<Self> {
        self.threading.max_sessions =
            crate::runtime::check_thread_count(n, "the number of sessions per model")?;
        Ok(self)
    }

    /// Which detector of the pack to use: "yunet-2023mar" (default) or "blazeface-front-128".
    pub fn detector_model(mut self, id: impl Into<String>) -> Self {
        self.detector_model = id.into();
        self
    }

    /// Which embedder of the pack to use (default [`DEFAULT_EMBEDDER`], "omz-reid-0095";
    /// "dlib-resnet-v1" is the other one).
    pub fn embedder_model(mut self, id: impl Into<String>) -> Self {
        self.embedder_model = id.into();
        self.embedder_model_set = true;
        self
    }

    /// Embed with the model this collection of the store was created with (the default or
    /// [`Self::embedder_model`] when it does not exist yet). With an explicit `embedder_model`
    /// of another model, `build` refuses with `model_mismatch` naming the collection's model.
    pub fn collection_model(mut self, collection: impl Into<String>) -> Self {
        self.collection_model = Some(collection.into());
        self
    }

    /// Plug in your own detector instead of one from the pack.
    pub fn detector(mut self, detector: Box<dyn Detector>) -> Self {
        self.detector = Some(detector);
        self
    }

    /// Plug in your own embedder instead of one from the pack (FMR thresholds then need a
    /// calibration table in the manifest under the embedder's model id).
    pub fn embedder(mut self, embedder: Box<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// How faces are detected (score threshold, input size, smallest face).
    pub fn detection(mut self, options: DetectionOptions) -> Self {
        self.config.detection = options;
        self
    }

    /// The largest image accepted.
    pub fn image_limits(mut self, limits: ImageLimits) -> Self {
        self.config.image_limits = limits;
        self
    }

    /// Embed each face and its mirror image and average them (more accurate, twice the cost).
    pub fn flip_augmentation(mut self, on: bool) -> Self {
        self.config.flip_augmentation = on;
        self
    }

    /// The default match threshold (a similarity, or a false-match rate looked up in the model's calibration).
    pub fn threshold(mut self, threshold: Threshold) -> Self {
        self.config.threshold = threshold;
        self.threshold_set = true;
        self
    }

    /// When enrolled collections switch from the exact scan to HNSW.
    pub fn index(mut self, index: crate::gallery::IndexConfig) -> Self {
        self.config.index = index;
        self
    }

    /// All settings at once (e.g. from [`EngineConfig::from_json`]).
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// Loads ONNX Runtime (once per process), checks and loads the models.
    pub fn build(self) -> Result<Engine> {
        self.config.detection.validate()?;
        if !(0.0..=1.0).contains(&self.config.liveness_threshold) {
            return Err(Error::InvalidArgument(format!(
                "liveness threshold {} is outside 0..1",
                self.config.liveness_threshold
            )));
        }
        if let Some(p) = &self.enrollment_quality {
            p.validate()?;
        }
        let pack = match &self.models_dir {
            Some(d) => ModelPack::open(d)?,
            None => ModelPack::discover()?,
        };
        let mut embedder_model = self.embedder_model.clone();
        if let (Some(name), Some(store)) = (&self.collection_model, &self.store) {
            match store.collection(name) {
                Ok(c) => {
                    let chosen = match &self.embedder {
                        Some(e) => Some(e.model_id().to_string()),
                        None if self.embedder_model_set => Some(self.embedder_model.clone()),
                        None => None,
                    };
                    if let Some(engine_model) = chosen.filter(|m| *m != c.model_id) {
                        return Err(Error::CollectionModel {
                            collection: c.name,
                            collection_model: c.model_id,
                            engine_model,
                        });
                    }
                    embedder_model = c.model_id;
                }
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let runtime = Runtime::load(self.onnxruntime.as_deref(), self.threading)?;
        let detector: Box<dyn Detector> = match self.detector {
            Some(d) => d,
            None => {
                let entry = pack.entry(&self.detector_model)?;
                if entry.task != "detector" {
                    return Err(Error::InvalidArgument(format!(
                        "{} is a {} model, not a detector",
                        entry.id, entry.task
                    )));
                }
                if entry.id.starts_with("blazeface") {
                    Box::new(BlazeFace::load(&pack, &self.detector_model, &runtime)?)
                } else {
                    Box::new(YuNet::load(&pack, &self.detector_model, &runtime)?)
                }
            }
        };
        let embedder: Box<dyn Embedder> = match self.embedder {
            Some(e) => e,
            None => {
                let entry = pack.entry(&embedder_model)?;
                if entry.task != "embedder" {
                    return Err(Error::InvalidArgument(format!(
                        "{} is a {} model, not an embedder",
                        entry.id, entry.task
                    )));
                }
                Box::new(OnnxEmbedder::load(&pack, &embedder_model, &runtime)?)
            }
        };
        let calibration = pack
            .manifest()
            .entry(embedder.model_id())
            .and_then(|e| {
                e.calibration
                    .iter()
                    .find(|c| c.flip == self.config.flip_augmentation)
            })
            .cloned();
        // Stored with every template, so a later model update is visible in the data.
        let embedder_version = pack.manifest().entry(embedder.model_id()).map_or_else(
            || "custom".to_string(),
            |e| format!("sha256:{}", &e.sha256[..16]),
        );
        let index_config = self.config.index;
        let engine = Engine {
            inner: Arc::new(Inner {
                runtime,
                pack,
                detector,
                embedder,
                embedder_version,
                calibration,
                config: self.config,
                gallery: self.store.map(|s| Gallery::new(s, index_config)),
                quality_gate: self.quality_gate,
                enrollment_quality: self.enrollment_quality,
                mesh: LazyModel::default(),
                iris: LazyModel::default(),
                mask: LazyModel::default(),
                passive: LazyModel::default(),
                dlib_shape: LazyModel::default(),
                ocr: LazyModel::default(),
            }),
        };
        // A threshold the caller chose must be usable: fail now, not on the first compare.
        if self.threshold_set {
            engine.resolve_threshold(engine.inner.config.threshold)?;
        }
        Ok(engine)
    }
}

struct Inner {
    runtime: Runtime,
    pack: ModelPack,
    detector: Box<dyn Detector>,
    embedder: Box<dyn Embedder>,
    embedder_version: String,
    calibration: Option<Calibration>,
    config: EngineConfig,
    gallery: Option<Gallery>,
    quality_gate: Option<Arc<dyn QualityGate>>,
    enrollment_quality: Option<QualityProfile>,
    mesh: LazyModel<FaceMesh>,
    iris: LazyModel<IrisModel>,
    mask: LazyModel<MaskDetector>,
    passive: LazyModel<PassiveLiveness>,
    dlib_shape: LazyModel<ShapePredictor>,
    ocr: LazyModel<crate::document::ocr::Ocr>,
}

/// Detect, align, embed and compare faces. Clone it freely: clones share models and sessions.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("detector", &self.detector_id())
            .field("embedder", &self.embedder_id())
            .field("models_dir", &self.inner.pack.dir())
            .field("runtime", &self.inner.runtime)
            .finish()
    }
}

impl Engine {
    /// A builder with the default models, found where [`crate::models::locate`] looks.
    pub fn builder() -> EngineBuilder {
        EngineBuilder {
            models_dir: None,
            onnxruntime: None,
            threading: Threading::default(),
            detector_model: DEFAULT_DETECTOR.into(),
            embedder_model: DEFAULT_EMBEDDER.into(),
            embedder_model_set: false,
            collection_model: None,
            detector: None,
            embedder: None,
            config: EngineConfig::default(),
            threshold_set: false,
            store: None,
            quality_gate: None,
            enrollment_quality: None,
        }
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The detector's model id.
    pub fn detector_id(&self) -> &str {
        self.inner.detector.id()
    }

    /// The embedder's model id (the model every embedding of this engine is tagged with).
    pub fn embedder_id(&self) -> &str {
        self.inner.embedder.model_id()
    }

    /// The model pack directory in use.
    pub fn models_dir(&self) -> &Path {
        self.inner.pack.dir()
    }

    /// The calibration table in use (matching the flip setting), if the manifest has one.
    pub fn calibration(&self) -> Option<&Calibration> {
        self.inner.calibration.as_ref()
    }

    /// Decodes encoded image bytes under the engine's limits.
    pub fn decode(&self, bytes: &[u8]) -> Result<Image> {
        Image::decode(bytes, &self.inner.config.image_limits)
    }

    /// Reads and decodes an image file under the engine's limits.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<Image> {
        Image::open(path, &self.inner.config.image_limits)
    }

    /// Faces in the image, best first, with the engine's detection options.
    pub fn detect(&self, image: &Image) -> Result<Vec<Face>> {
        self.detect_with(image, &self.inner.config.detection)
    }

    /// Faces in the image with explicit detection options.
    pub fn detect_with(&self, image: &Image, options: &DetectionOptions) -> Result<Vec<Face>> {
        detect::detect_with_retries(self.inner.detector.as_ref(), image, options)
    }

    /// Embeddings of the given faces of `image` (one batch per image).
    pub fn embed(&self, image: &Image, faces: &[Face]) -> Result<Vec<Embedding>> {
        if faces.is_empty() {
            return Ok(Vec::new());
        }
        self.inner
            .embedder
            .embed(image, faces, self.inner.config.flip_augmentation)
    }

    /// The faces at boxes found by someone else (another detector, a stored location): for
    /// each box, the detected face overlapping it most (IoU at least 0.3), with the detector's
    /// landmarks; else a face in that box with landmarks placed as in a YuNet box
    /// ([`Face::in_box`]). Boxes must lie inside the image and have a positive size.
    pub fn faces_at(&self, image: &Image, boxes: &[crate::BoundingBox]) -> Result<Vec<Face>> {
        let (w, h) = (image.width() as f32, image.height() as f32);
        for b in boxes {
            let inside = b.x1 >= 0.0 && b.y1 >= 0.0 && b.x2 <= w && b.y2 <= h;
            if !(b.x2 > b.x1 && b.y2 > b.y1 && inside) {
                return Err(Error::InvalidArgument(format!(
                    "face box ({}, {})-({}, {}) is empty or outside the {}x{} image",
                    b.x1, b.y1, b.x2, b.y2, w, h
                )));
            }
        }
        if boxes.is_empty() {
            return Ok(Vec::new());
        }
        let detected = self.detect(image)?;
        Ok(boxes
            .iter()
            .map(|b| {
                detected
                    .iter()
                    .map(|f| (f.bbox.iou(b), f))
                    .filter(|(iou, _)| *iou >= 0.3)
                    .max_by(|x, y| x.0.total_cmp(&y.0))
                    .map(|(_, f)| *f)
                    .unwrap_or_else(|| Face::in_box(*b))
            })
            .collect())
    }

    /// The embedding of an image that already is a face crop (from another detector, a
    /// document portrait), without detection: the face box is the whole image and the
    /// landmarks sit where YuNet puts them in its own box ([`detect::FACE_CROP_LANDMARKS`]).
    /// Crop like YuNet does (forehead to chin, ear to ear) for the best match.
    pub fn embed_face_crop(&self, image: &Image) -> Result<FaceEmbedding> {
        let face = Face::whole_image(image.width(), image.height());
        let embedding = self
            .embed(image, std::slice::from_ref(&face))?
            .pop()
            .ok_or_else(|| Error::Internal("embedder returned no embedding".into()))?;
        Ok(FaceEmbedding { face, embedding })
    }

    /// Every face of the image with its embedding.
    pub fn extract(&self, image: &Image) -> Result<Vec<FaceEmbedding>> {
        let faces = self.detect(image)?;
        let embeddings = self.embed(image, &faces)?;
        Ok(faces
            .into_iter()
            .zip(embeddings)
            .map(|(face, embedding)| FaceEmbedding { face, embedding })
            .collect())
    }

    /// The largest face of the image with its embedding; `NoFace` if there is none.
    pub fn extract_largest(&self, image: &Image) -> Result<FaceEmbedding> {
        let faces = self.detect(image)?;
        let face = *detect::largest(&faces).ok_or(Error::NoFace)?;
        let embedding = self
            .embed(image, std::slice::from_ref(&face))?
            .pop()
            .ok_or_else(|| Error::Internal("embedder returned no embedding".into()))?;
        Ok(FaceEmbedding { face, embedding })
    }

    /// Number of dimensions of this engine's embeddings.
    pub fn embedding_dim(&self) -> usize {
        self.inner.embedder.dim()
    }

    /// An embedding of this engine's model from stored numbers: checked (finite, non-zero, the
    /// model's dimension) and L2-normalised.
    pub fn embedding_from_vector(&self, vector: Vec<f32>) -> Result<Embedding> {
        if vector.len() != self.embedding_dim() {
            return Err(Error::InvalidEmbedding(format!(
                "{} has {} dimensions, got {}",
                self.embedder_id(),
                self.embedding_dim(),
                vector.len()
            )));
        }
        Embedding::new(self.embedder_id(), vector)
    }

    /// Cosine similarity of two embeddings of this engine's model.
    pub fn similarity(&self, a: &Embedding, b: &Embedding) -> Result<f32> {
        for e in [a, b] {
            if e.model_id() != self.embedder_id() {
                return Err(Error::ModelMismatch {
                    left: e.model_id().to_string(),
                    right: self.embedder_id().to_string(),
                });
            }
        }
        a.similarity(b)
    }

    /// Compares two embeddings against `threshold` (or the engine's default).
    pub fn compare(
        &self,
        a: &Embedding,
        b: &Embedding,
        threshold: Option<Threshold>,
    ) -> Result<Comparison> {
        let score = self.similarity(a, b)?;
        let (t, fmr) = self.resolve_threshold(threshold.unwrap_or(self.inner.config.threshold))?;
        Ok(Comparison {
            score,
            threshold: t,
            same: score >= t,
            fmr,
        })
    }

    /// The similarity value a threshold stands for, and its FMR when calibrated.
    pub fn resolve_threshold(&self, threshold: Threshold) -> Result<(f32, Option<f64>)> {
        compare::resolve(threshold, self.calibration())
    }
}

/// Enrollment and search over the engine's store.
impl Engine {
    fn gallery(&self) -> Result<&Gallery> {
        self.inner.gallery.as_ref().ok_or_else(|| {
            Error::InvalidArgument(
                "this engine was built without a template store: give it one when you build it"
                    .into(),
            )
        })
    }

    /// The engine's template store.
    pub fn store(&self) -> Result<&Arc<dyn TemplateStore>> {
        Ok(self.gallery()?.store())
    }

    /// The face an enrollment image contributes, per `policy`.
    fn enrollment_face(&self, image: &Image, policy: FacePolicy) -> Result<Face> {
        let faces = self.detect(image)?;
        match (faces.len(), policy) {
            (0, _) => Err(Error::NoFace),
            (1, _) => Ok(faces[0]),
            (n, FacePolicy::RequireOne) => Err(Error::MultipleFaces(n)),
            (_, FacePolicy::Largest) => Ok(*detect::largest(&faces).ok_or(Error::NoFace)?),
        }
    }

    /// Enrolls a subject (created if new) from photos: each must show one face (or see
    /// [`FacePolicy`]). All templates are stored or none. Warns when a face already matches
    /// another subject.
    pub fn enroll(
        &self,
        collection: &str,
        subject: &str,
        images: &[Image],
        options: &EnrollOptions,
    ) -> Result<EnrollReport> {
        if images.is_empty() {
            return Err(Error::InvalidArgument(
                "enroll needs at least one image".into(),
            ));
        }
        let mut embeddings = Vec::with_capacity(images.len());
        let mut quality = Vec::with_capacity(images.len());
        for img in images {
            let face = self.enrollment_face(img, options.face_policy)?;
            let mut score = None;
            if let Some(profile) = &self.inner.enrollment_quality {
                let report = self.face_quality(img, &face, 1, profile)?;
                report.require_passed()?;
                score = Some(report.score);
            }
            if let Some(gate) = &self.inner.quality_gate {
                score = Some(gate.check(img, &face)?);
            }
            quality.push(score);
            embeddings.push(self.embed(img, &[face])?.remove(0));
        }
        self.store_templates(collection, subject, embeddings, quality, options)
    }

    /// Enrolls precomputed embeddings (of this engine's model).
    pub fn enroll_embeddings(
        &self,
        collection: &str,
        subject: &str,
        embeddings: Vec<Embedding>,
        options: &EnrollOptions,
    ) -> Result<EnrollReport> {
        let n = embeddings.len();
        self.store_templates(collection, subject, embeddings, vec![None; n], options)
    }

    /// Enrolls precomputed embeddings with their quality scores (frame sessions).
    pub(crate) fn enroll_scored_embeddings(
        &self,
        collection: &str,
        subject: &str,
        embeddings: Vec<Embedding>,
        quality: Vec<Option<f32>>,
        options: &EnrollOptions,
    ) -> Result<EnrollReport> {
        self.store_templates(collection, subject, embeddings, quality, options)
    }

    fn store_templates(
        &self,
        collection: &str,
        subject: &str,
        embeddings: Vec<Embedding>,
        quality: Vec<Option<f32>>,
        options: &EnrollOptions,
    ) -> Result<EnrollReport> {
        if embeddings.is_empty() {
            return Err(Error::InvalidArgument(
                "enroll needs at least one face".into(),
            ));
        }
        for e in &embeddings {
            if e.model_id() != self.embedder_id() {
                return Err(Error::ModelMismatch {
                    left: e.model_id().to_string(),
                    right: self.embedder_id().to_string(),
                });
            }
        }
        let (dup, _) = self.resolve_threshold(
            options
                .duplicate_threshold
                .unwrap_or(self.inner.config.threshold),
        )?;
        let templates = embeddings
            .into_iter()
            .enumerate()
            .map(|(i, embedding)| NewTemplate {
                embedding,
                model_version: self.inner.embedder_version.clone(),
                quality: quality.get(i).copied().flatten(),
                source: options.sources.get(i).cloned(),
            })
            .collect();
        let dim = self.inner.embedder.dim();
        self.gallery()?.enroll(
            collection,
            subject,
            self.embedder_id(),
            dim,
            templates,
            options,
            dup,
        )
    }

    /// 1:1 — is the largest face of `image` the claimed subject? Scores the subject's best
    /// template.
    pub fn verify(
        &self,
        collection: &str,
        subject: &str,
        image: &Image,
        threshold: Option<Threshold>,
        actor: Option<&str>,
    ) -> Result<Verification> {
        // A bad threshold fails before any inference is spent.
        self.resolve_threshold(threshold.unwrap_or(self.inner.config.threshold))?;
        let probe = self.extract_largest(image)?;
        self.verify_embedding(collection, subject, &probe, threshold, actor)
    }

    /// 1:N — the `top_k` most similar enabled subjects for the largest face of `image`.
    pub fn identify(
        &self,
        collection: &str,
        image: &Image,
        top_k: usize,
        threshold: Option<Threshold>,
        actor: Option<&str>,
    ) -> Result<Identification> {
        // A bad threshold fails before any inference is spent.
        self.resolve_threshold(threshold.unwrap_or(self.inner.config.threshold))?;
        let probe = self.extract_largest(image)?;
        self.identify_embedding(collection, &probe, top_k, threshold, actor)
    }

    /// 1:N for every face of `image`: one [`Identification`] per face (each with its box), in
    /// the detector's order, best first; empty when there is no face.
    pub fn identify_all(
        &self,
        collection: &str,
        image: &Image,
        top_k: usize,
        threshold: Option<Threshold>,
        actor: Option<&str>,
    ) -> Result<Vec<Identification>> {
        self.resolve_threshold(threshold.unwrap_or(self.inner.config.threshold))?;
        self.extract(image)?
            .iter()
            .map(|probe| self.identify_embedding(collection, probe, top_k, threshold, actor))
            .collect()
    }

    /// 1:1 for every face of `image` against one subject: one [`Verification`] per face (each
    /// with its box); "is this person anywhere in the photo" is any `matched`.
    pub fn verify_all(
        &self,
        collection: &str,
        subject: &str,
        image: &Image,
        threshold: Option<Threshold>,
        actor: Option<&str>,
    ) -> Result<Vec<Verification>> {
        self.resolve_threshold(threshold.unwrap_or(self.inner.config.threshold))?;
        self.extract(image)?
            .iter()
            .map(|probe| self.verify_embedding(collection, subject, probe, threshold, actor))
            .collect()
    }

    /// The collection's search index: exact or HNSW, how it was loaded (restored from its
    /// snapshot, with the changes since, or built, and why), and what is not saved yet. Loads
    /// the index if no call has yet.
    pub fn index_status(&self, collection: &str) -> Result<crate::gallery::IndexStatus> {
        self.gallery()?.index_status(collection)
    }

    /// Saves the HNSW graph of every loaded collection with changes since its last snapshot
    /// (a server calls this before it stops; dropping the last clone of the engine does too).
    pub fn save_index_snapshots(&self) -> Result<()> {
        self.gallery()?.save_snapshots();
        Ok(())
    }

    /// Deletes a subject with its templates and data key; it is never returned again.
    pub fn delete_subject(
        &self,
        collection: &str,
        subject: &str,
        actor: Option<&str>,
    ) -> Result<()> {
        self.gallery()?.delete_subject(collection, subject, actor)
    }

    /// Deletes one template (a bad photo) by id; the subject keeps its other templates, and
    /// stays even with none. Returns the subject it belonged to.
    pub fn delete_template(
        &self,
        collection: &str,
        template_id: &str,
        actor: Option<&str>,
    ) -> Result<String> {
        self.gallery()?
            .delete_template(collection, template_id, actor)
    }

    /// A disabled subject is skipped by identify and refused by verify.
    pub fn set_subject_disabled(
        &self,
        collection: &str,
        subject: &str,
        disabled: bool,
        actor: Option<&str>,
    ) -> Result<()> {
        self.gallery()?
            .set_disabled(collection, subject, disabled, actor)
    }

    /// The subject's metadata and decrypted templates (data-portability requests).
    pub fn export_subject(
        &self,
        collection: &str,
        subject: &str,
        actor: Option<&str>,
    ) -> Result<SubjectExport> {
        self.gallery()?.export_subject(collection, subject, actor)
    }

    /// Subjects ordered by id, `limit` from `offset`.
    pub fn list_subjects(
        &self,
        collection: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Subject>> {
        self.store()?.list_subjects(collection, offset, limit)
    }
}

/// Quality, landmarks and passive liveness. The models behind these load on first use.
impl Engine {
    pub(crate) fn runtime_and_pack(&self) -> (&Runtime, &ModelPack) {
        (&self.inner.runtime, &self.inner.pack)
    }

    pub(crate) fn face_mesh(&self) -> Result<Arc<FaceMesh>> {
        let (rt, pack) = self.runtime_and_pack();
        self.inner.mesh.get(|| FaceMesh::load(pack, rt))
    }

    pub(crate) fn iris_model(&self) -> Result<Arc<IrisModel>> {
        let (rt, pack) = self.runtime_and_pack();
        self.inner.iris.get(|| IrisModel::load(pack, rt))
    }

    fn mask_detector(&self) -> Result<Arc<MaskDetector>> {
        let (rt, pack) = self.runtime_and_pack();
        self.inner.mask.get(|| MaskDetector::load(pack, rt))
    }

    pub(crate) fn ocr(&self) -> Result<Arc<crate::document::ocr::Ocr>> {
        let (rt, pack) = self.runtime_and_pack();
        self.inner
            .ocr
            .get(|| crate::document::ocr::Ocr::load(pack, rt))
    }

    fn passive_liveness(&self) -> Result<Arc<PassiveLiveness>> {
        let (rt, pack) = self.runtime_and_pack();
        self.inner.passive.get(|| PassiveLiveness::load(pack, rt))
    }

    /// The 468 FaceMesh landmarks of a detected face (head pose, mouth, eye corners).
    pub fn landmarks(&self, image: &Image, face: &Face) -> Result<MeshLandmarks> {
        self.face_mesh()?.landmarks(image, face)
    }

    /// dlib's 5 points of the face in `rect` (dlib's inclusive box: left, top, right, bottom):
    /// the outer and inner corner of the eye on the image's right, the outer and inner corner
    /// of the other eye, the base of the nose, in whole pixels. From dlib's own shape
    /// predictor (model `dlib-shape-predictor-5`), as face_recognition finds them; for a face
    /// this engine detected, pass [`crate::landmarks::dlib::hog_box`] of it.
    pub fn dlib_points(&self, image: &Image, rect: &crate::BoundingBox) -> Result<[[f32; 2]; 5]> {
        let finite = [rect.x1, rect.y1, rect.x2, rect.y2]
            .iter()
            .all(|v| v.is_finite() && v.abs() < 1e7);
        if !finite || rect.x2 < rect.x1 || rect.y2 < rect.y1 {
            return Err(Error::InvalidArgument(format!(
                "face box ({}, {})-({}, {}) is not a box",
                rect.x1, rect.y1, rect.x2, rect.y2
            )));
        }
        let pack = &self.inner.pack;
        let predictor = self.inner.dlib_shape.get(|| ShapePredictor::load(pack))?;
        let points = predictor.predict(image, rect);
        points.try_into().map_err(|p: Vec<[f32; 2]>| {
            Error::ModelManifest(format!(
                "{}: gives {} points, not 5",
                crate::landmarks::dlib::MODEL_ID,
                p.len()
            ))
        })
    }

    /// The face in `rect` with landmarks that make this engine's embedder crop dlib's face chip
    /// of a face with dlib's 5 points `points5` ([`Engine::dlib_points`]): with the
    /// `dlib-resnet-v1` embedder, the descriptor face_recognition computes. The embedder must
    /// come from the pack (its alignment template is in the manifest).
    pub fn align_like_dlib(
        &self,
        rect: &crate::BoundingBox,
        points5: &[[f32; 2]; 5],
    ) -> Result<Face> {
        let id = self.inner.embedder.model_id();
        let spec = self
            .inner
            .pack
            .entry(id)?
            .embedder
            .as_ref()
            .ok_or_else(|| {
                Error::ModelManifest(format!("{id}: the manifest gives no alignment template"))
            })?;
        if !points5.iter().flatten().all(|v| v.is_finite()) {
            return Err(Error::InvalidArgument(
                "dlib points must be finite numbers".into(),
            ));
        }
        let landmarks =
            crate::landmarks::dlib::chip_landmarks(points5, &spec.template, spec.crop_size)
                .ok_or_else(|| Error::InvalidArgument("the 5 dlib points coincide".into()))?;
        Ok(Face {
            bbox: *rect,
            landmarks,
            score: 0.0,
        })
    }

    /// Faces as face_recognition finds and aligns them: for each of `rects` (dlib boxes, e.g.
    /// locations face_recognition stored), or else for each detected face (in the box dlib's HOG
    /// detector would draw, [`crate::landmarks::dlib::hog_box`], largest first), dlib's 5 points and the face
    /// aligned on dlib's chip ([`Engine::align_like_dlib`]), ready for [`Engine::embed`].
    pub fn dlib_faces(
        &self,
        image: &Image,
        rects: Option<&[crate::BoundingBox]>,
    ) -> Result<Vec<crate::landmarks::dlib::DlibFace>> {
        let rects = match rects {
            Some(r) => r.to_vec(),
            None => {
                let mut r: Vec<crate::BoundingBox> = self
                    .detect(image)?
                    .iter()
                    .map(|f| crate::landmarks::dlib::hog_box(f, image.width(), image.height()))
                    .collect();
                // face_recognition lists faces by HOG score, which favours large faces: largest
                // first picks its first face more often than YuNet's score order (on the LFW
                // pair images with two or more faces, 384 of 430 against 360).
                r.sort_by(|a, b| b.width().total_cmp(&a.width()));
                r
            }
        };
        rects
            .into_iter()
            .map(|rect| {
                let points = self.dlib_points(image, &rect)?;
                let aligned = self.align_like_dlib(&rect, &points)?;
                Ok(crate::landmarks::dlib::DlibFace {
                    rect,
                    points,
                    aligned,
                })
            })
            .collect()
    }

    /// Eyelid opening over eye width of both eyes, from a face's mesh landmarks.
    pub fn eye_openness(&self, image: &Image, mesh: &MeshLandmarks) -> Result<EyeOpenness> {
        self.iris_model()?.openness(image, mesh.eye_corners())
    }

    /// The quality report of the largest face of `image` against `profile`. Faces the
    /// detector is unsure of (score 0.5 up to the engine's threshold — masks, occlusion,
    /// strong pose) are still assessed, so the answer is "mask_or_occlusion" or
    /// "low_confidence" rather than a bare "no_face".
    pub fn quality(&self, image: &Image, profile: &QualityProfile) -> Result<QualityReport> {
        profile.validate()?;
        let faces = self.detect(image)?;
        let count = faces.len();
        let face = match detect::largest(&faces) {
            Some(f) => *f,
            None => {
                let mut lenient = self.inner.config.detection;
                lenient.score_threshold = lenient.score_threshold.min(0.5);
                // The first pass already retried a tight crop; padded at 0.5, a cup of
                // coffee (hard/non_face) fills the image like a face.
                lenient.crop_retry_margin = 0.0;
                let unsure = self.detect_with(image, &lenient)?;
                match detect::largest(&unsure) {
                    Some(f) => *f,
                    None => return Ok(QualityReport::no_face(profile)),
                }
            }
        };
        self.face_quality(image, &face, count.max(1), profile)
    }

    /// The quality report of one detected face (`face_count`: faces in the image).
    pub fn face_quality(
        &self,
        image: &Image,
        face: &Face,
        face_count: usize,
        profile: &QualityProfile,
    ) -> Result<QualityReport> {
        Ok(self.assess(image, face, face_count, profile)?.0)
    }

    /// The report plus the mesh it measured (sessions reuse the mesh for pose and smiles).
    pub(crate) fn assess(
        &self,
        image: &Image,
        face: &Face,
        face_count: usize,
        profile: &QualityProfile,
    ) -> Result<(QualityReport, Option<MeshLandmarks>)> {
        profile.validate()?;
        let (mesh, iris) = if profile.landmarks {
            (Some(self.face_mesh()?), Some(self.iris_model()?))
        } else {
            (None, None)
        };
        let mask = if profile.mask {
            Some(self.mask_detector()?)
        } else {
            None
        };
        let models = QualityModels {
            mesh: mesh.as_deref(),
            iris: iris.as_deref(),
            mask: mask.as_deref(),
        };
        quality::assess(image, face, face_count, profile, &models)
    }

    /// Passive liveness of the largest face of `image`; `NoFace` if there is none.
    pub fn liveness(&self, image: &Image) -> Result<Liveness> {
        let faces = self.detect(image)?;
        let face = *detect::largest(&faces).ok_or(Error::NoFace)?;
        self.face_liveness(image, &face)
    }

    /// Passive liveness of one detected face, at the engine's liveness threshold.
    pub fn face_liveness(&self, image: &Image, face: &Face) -> Result<Liveness> {
        self.passive_liveness()?
            .check(image, face, self.inner.config.liveness_threshold)
    }

    /// 1:1 with an embedding already extracted (frame sessions).
    pub fn verify_embedding(
        &self,
        collection: &str,
        subject: &str,
        probe: &FaceEmbedding,
        threshold: Option<Threshold>,
        actor: Option<&str>,
    ) -> Result<Verification> {
        let t = self.resolve_threshold(threshold.unwrap_or(self.inner.config.threshold))?;
        self.gallery()?
            .verify(collection, subject, probe.face, &probe.embedding, t, actor)
    }

    /// 1:N with an embedding already extracted (frame sessions).
    pub fn identify_embedding(
        &self,
        collection: &str,
        probe: &FaceEmbedding,
        top_k: usize,
        threshold: Option<Threshold>,
        actor: Option<&str>,
    ) -> Result<Identification> {
        let t = self.resolve_threshold(threshold.unwrap_or(self.inner.config.threshold))?;
        self.gallery()?
            .identify(collection, probe.face, &probe.embedding, top_k, t, actor)
    }
}

#[allow(dead_code)]
fn assert_send_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Engine>();
    check::<Runtime>();
    check::<Image>();
    check::<Embedding>();
}
