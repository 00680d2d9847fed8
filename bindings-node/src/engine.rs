//! `Engine` and `Store`. Model work returns Promises (run on libuv's worker pool, so several
//! calls on one engine proceed in parallel); `*Sync` variants block the JS thread.

use crate::errors::OrThrow;
use crate::image::{RawImage, Source};
use crate::results::{
    Candidate, Comparison, DlibFace, Face, FaceEmbedding, Identification, Liveness, MatchOptions,
    Verification,
};
use crate::tasks::*;
use faceprint::store::{MasterKey, MemoryStore, SqliteStore, TemplateStore};
use faceprint::{EngineConfig, EnrollOptions, QualityProfile, Threshold};
use napi::bindgen_prelude::FnArgs;
use napi::bindgen_prelude::{AsyncTask, Float32Array};
use napi::bindgen_prelude::{Either3, Uint8Array};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Env;
use napi::Status;
use napi_derive::napi;
use std::sync::Arc;

/// `onProgress(done, total)`, called on the JS thread as the batch's workers finish images.
type ProgressFn = ThreadsafeFunction<FnArgs<(u32, u32)>, (), FnArgs<(u32, u32)>, Status, false>;

/// Paging of `listSubjects`.
#[napi(object)]
#[derive(Default)]
pub struct PageOptions {
    /// Subjects to skip (default 0).
    pub offset: Option<f64>,
    /// At most this many (default 100).
    pub limit: Option<f64>,
}

/// Options of `extractBatch`.
#[napi(object)]
pub struct BatchOptions {
    /// Worker threads, 1..=256 (default: the number of cores).
    pub threads: Option<f64>,
}

/// A template store for enroll / verify / identify.
#[napi]
pub struct Store {
    store: Arc<dyn TemplateStore>,
}

#[napi]
impl Store {
    /// A store in memory, gone with the process.
    #[napi(factory)]
    pub fn memory() -> Store {
        Store {
            store: Arc::new(MemoryStore::new()),
        }
    }

    /// An encrypted SQLite store (created if missing); `key` is the base64 32-byte master key
    /// (default: `FACEPRINT_KEY`).
    #[napi(factory)]
    pub fn sqlite(env: Env, path: String, key: Option<String>) -> napi::Result<Store> {
        let key = match key {
            Some(k) => MasterKey::from_base64(&k),
            None => MasterKey::from_env(),
        }
        .or_throw(&env)?;
        let store = SqliteStore::open(path, key).or_throw(&env)?;
        Ok(Store {
            store: Arc::new(store),
        })
    }
}

#[napi(object)]
pub struct EngineOptions {
    /// The model pack directory (default: `FACEPRINT_MODELS`).
    pub models_dir: Option<String>,
    /// Path of libonnxruntime.so.1.31.1 (default: `FACEPRINT_ORT_LIB`, else the package's copy).
    pub onnxruntime: Option<String>,
    /// ONNX Runtime intra-op threads per call, 1..=256 (default 1).
    pub threads: Option<f64>,
    /// Engine settings over the defaults, e.g. `{ threshold: { fmr: 1e-5 } }`: the engine's
    /// JSON configuration, with its snake_case keys (as the CLI and servers read it).
    #[napi(ts_type = "Record<string, unknown>")]
    pub config: Option<serde_json::Value>,
    /// Detector model id from the pack (default `yunet-2023mar`).
    pub detector: Option<String>,
    /// Embedder model id from the pack (default `omz-reid-0095`; `dlib-resnet-v1` is the
    /// 128-D one).
    pub embedder: Option<String>,
}

#[napi(object)]
#[derive(Default)]
pub struct EnrollOptionsArg {
    pub display_name: Option<String>,
    /// Any JSON object, stored with the subject.
    #[napi(ts_type = "Record<string, unknown>")]
    pub metadata: Option<serde_json::Value>,
    /// "require_one" (default) or "largest".
    pub face_policy: Option<String>,
    pub sources: Option<Vec<String>>,
    pub actor: Option<String>,
}

impl EnrollOptionsArg {
    /// The core's options; a bad face policy throws `invalid_argument`.
    fn into_core(self, env: &Env) -> napi::Result<EnrollOptions> {
        let mut opts = EnrollOptions {
            display_name: self.display_name,
            metadata: self.metadata,
            sources: self.sources.unwrap_or_default(),
            actor: self.actor,
            ..EnrollOptions::default()
        };
        if let Some(policy) = &self.face_policy {
            opts.face_policy = policy.parse().or_throw(env)?;
        }
        Ok(opts)
    }
}

#[napi(object)]
#[derive(Default)]
pub struct QualityOptions {
    /// "authentication" (default) or "enrollment".
    pub profile: Option<String>,
    /// Limits over the profile's, e.g. `{ min_inter_eye_distance: 40 }` (the quality profile's
    /// JSON keys).
    #[napi(ts_type = "Record<string, number | boolean>")]
    pub overrides: Option<serde_json::Value>,
}

#[napi(object)]
#[derive(Default)]
pub struct DocumentOptions {
    /// Also read the printed text and look for the zone's names, number and dates in it
    /// (about twice the time).
    pub visual_zone: Option<bool>,
}

/// Loaded models (and an optional store). One engine serves many concurrent calls.
#[napi]
pub struct Engine {
    engine: faceprint::Engine,
}

fn threshold(env: &Env, o: &MatchOptions) -> napi::Result<Option<Threshold>> {
    Threshold::from_options(o.threshold.map(|s| s as f32), o.fmr).or_throw(env)
}

fn json_text(value: Option<&serde_json::Value>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl Engine {
    pub fn core(&self) -> &faceprint::Engine {
        &self.engine
    }
}

#[napi]
impl Engine {
    /// Loads the models (blocking: create one engine at start-up and share it).
    #[napi(constructor)]
    pub fn new(
        env: Env,
        options: Option<EngineOptions>,
        store: Option<&Store>,
    ) -> napi::Result<Engine> {
        let mut b = faceprint::Engine::builder();
        if let Some(o) = options {
            if let Some(dir) = o.models_dir {
                b = b.models_dir(dir);
            }
            if let Some(d) = o.detector {
                b = b.detector_model(d);
            }
            if let Some(e) = o.embedder {
                b = b.embedder_model(e);
            }
            if let Some(lib) = o.onnxruntime {
                b = b.onnxruntime_library(lib);
            }
            if let Some(n) = o.threads {
                let n = crate::numbers::whole(n, "threads", u32::MAX as u64).or_throw(&env)?;
                b = b.intra_op_threads(n as usize).or_throw(&env)?;
            }
            if let Some(config) = &o.config {
                b = b.config(EngineConfig::from_json(&config.to_string()).or_throw(&env)?);
            }
        }
        if let Some(store) = store {
            b = b.store(store.store.clone());
        }
        Ok(Engine {
            engine: b.build().or_throw(&env)?,
        })
    }

    #[napi(getter)]
    pub fn embedder(&self) -> String {
        self.engine.embedder_id().to_string()
    }

    #[napi(getter)]
    pub fn embedding_dim(&self) -> u32 {
        self.engine.embedding_dim() as u32
    }

    /// The model pack in use (where it was found: the `modelsDir` option, `FACEPRINT_MODELS`,
    /// `@faceprint/models`, `~/.local/share/faceprint/models`).
    #[napi(getter)]
    pub fn models_dir(&self) -> String {
        self.engine.models_dir().display().to_string()
    }

    /// Faces in the image, best first.
    #[napi(ts_return_type = "Promise<Array<Face>>")]
    pub fn detect(&self, image: Either3<Uint8Array, String, RawImage>) -> AsyncTask<DetectTask> {
        let (engine, source) = (self.engine.clone(), Source::from(image));
        AsyncTask::new(DetectTask::new(move || {
            let faces = engine.detect(&source.load(&engine)?)?;
            Ok(faces.iter().map(Face::from).collect())
        }))
    }

    /// The embeddings of faces already found (by `detect`, `facesAt` or `dlibFaces`), in order.
    #[napi(ts_return_type = "Promise<Array<FaceEmbedding>>")]
    pub fn embed(
        &self,
        env: Env,
        image: Either3<Uint8Array, String, RawImage>,
        faces: Vec<Face>,
    ) -> napi::Result<AsyncTask<ExtractTask>> {
        let faces = faces
            .iter()
            .map(Face::to_core)
            .collect::<faceprint::Result<Vec<_>>>()
            .or_throw(&env)?;
        let (engine, source) = (self.engine.clone(), Source::from(image));
        Ok(AsyncTask::new(ExtractTask::new(move || {
            let embeddings = engine.embed(&source.load(&engine)?, &faces)?;
            Ok(embeddings
                .iter()
                .zip(&faces)
                .map(|(e, f)| FaceEmbedding::new(e, Some(f)))
                .collect())
        })))
    }

    /// The faces at boxes `[x1, y1, x2, y2]` found elsewhere: the detected face overlapping
    /// each most, else one placed in the box.
    #[napi(ts_return_type = "Promise<Array<Face>>")]
    pub fn faces_at(
        &self,
        env: Env,
        image: Either3<Uint8Array, String, RawImage>,
        boxes: Vec<Vec<f64>>,
    ) -> napi::Result<AsyncTask<DetectTask>> {
        let boxes = boxes_of(&boxes).or_throw(&env)?;
        let (engine, source) = (self.engine.clone(), Source::from(image));
        Ok(AsyncTask::new(DetectTask::new(move || {
            let faces = engine.faces_at(&source.load(&engine)?, &boxes)?;
            Ok(faces.iter().map(Face::from).collect())
        })))
    }

    /// Faces as face_recognition finds and aligns them: per box of `boxes` (dlib boxes
    /// `[left, top, right, bottom]`, e.g. stored face_recognition locations) or else per
    /// detected face, the box dlib's HOG detector would draw (largest first), dlib's 5 points
    /// and the face aligned on dlib's chip (for `embed` with the `dlib-resnet-v1` embedder).
    #[napi(ts_return_type = "Promise<Array<DlibFace>>")]
    pub fn dlib_faces(
        &self,
        env: Env,
        image: Either3<Uint8Array, String, RawImage>,
        boxes: Option<Vec<Vec<f64>>>,
    ) -> napi::Result<AsyncTask<DlibFacesTask>> {
        let boxes = boxes.map(|b| boxes_of(&b)).transpose().or_throw(&env)?;
        let (engine, source) = (self.engine.clone(), Source::from(image));
        Ok(AsyncTask::new(DlibFacesTask::new(move || {
            let faces = engine.dlib_faces(&source.load(&engine)?, boxes.as_deref())?;
            Ok(faces.into_iter().map(DlibFace::from).collect())
        })))
    }

    /// The 68 iBUG 300-W points (dlib's 68-point layout) of a face, from FaceMesh.
    #[napi(ts_return_type = "Promise<Array<Array<number>>>")]
    pub fn landmarks68(
        &self,
        env: Env,
        image: Either3<Uint8Array, String, RawImage>,
        face: Face,
    ) -> napi::Result<AsyncTask<PointsTask>> {
        let face = face.to_core().or_throw(&env)?;
        let (engine, source) = (self.engine.clone(), Source::from(image));
        Ok(AsyncTask::new(PointsTask::new(move || {
            let mesh = engine.landmarks(&source.load(&engine)?, &face)?;
            Ok(mesh
                .ibug68()
                .iter()
                .map(|p| vec![p[0] as f64, p[1] as f64])
                .collect())
        })))
    }

    /// Every face with its embedding (empty when there is none).
    #[napi(ts_return_type = "Promise<Array<FaceEmbedding>>")]
    pub fn extract(&self, image: Either3<Uint8Array, String, RawImage>) -> AsyncTask<ExtractTask> {
        let (engine, source) = (self.engine.clone(), Source::from(image));
        AsyncTask::new(ExtractTask::new(move || extract(&engine, &source)))
    }

    #[napi]
    pub fn extract_sync(
        &self,
        env: Env,
        image: Either3<Uint8Array, String, RawImage>,
    ) -> napi::Result<Vec<FaceEmbedding>> {
        extract(&self.engine, &Source::from(image)).or_throw(&env)
    }

    /// The largest face's embedding; rejects with code "no_face" when there is none.
    #[napi(ts_return_type = "Promise<FaceEmbedding>")]
    pub fn extract_largest(
        &self,
        image: Either3<Uint8Array, String, RawImage>,
    ) -> AsyncTask<ExtractLargestTask> {
        let (engine, source) = (self.engine.clone(), Source::from(image));
        AsyncTask::new(ExtractLargestTask::new(move || {
            extract_largest(&engine, &source)
        }))
    }

    #[napi]
    pub fn extract_largest_sync(
        &self,
        env: Env,
        image: Either3<Uint8Array, String, RawImage>,
    ) -> napi::Result<FaceEmbedding> {
        extract_largest(&self.engine, &Source::from(image)).or_throw(&env)
    }

    /// Compares two embedding vectors of this engine's model (cheap, synchronous).
    #[napi]
    pub fn compare(
        &self,
        env: Env,
        a: Float32Array,
        b: Float32Array,
        options: Option<MatchOptions>,
    ) -> napi::Result<Comparison> {
        let t = threshold(&env, &options.unwrap_or_default())?;
        let a = self
            .engine
            .embedding_from_vector(a.to_vec())
            .or_throw(&env)?;
        let b = self
            .engine
            .embedding_from_vector(b.to_vec())
            .or_throw(&env)?;
        let c = self.engine.compare(&a, &b, t).or_throw(&env)?;
        Ok(Comparison {
            score: c.score as f64,
            threshold: c.threshold as f64,
            fmr: c.fmr,
            same: c.same,
        })
    }

    /// An embedding from a stored vector, checked (finite, non-zero, right length) and
    /// normalised.
    #[napi]
    pub fn embedding_from_vector(
        &self,
        env: Env,
        vector: Float32Array,
    ) -> napi::Result<FaceEmbedding> {
        let e = self
            .engine
            .embedding_from_vector(vector.to_vec())
            .or_throw(&env)?;
        Ok(FaceEmbedding::new(&e, None))
    }

    /// Enrolls `subject` from images that each show one face; all are stored or none.
    /// Resolves to the enrollment report.
    #[napi(ts_return_type = "Promise<EnrollReport>")]
    pub fn enroll(
        &self,
        env: Env,
        collection: String,
        subject: String,
        images: Vec<Either3<Uint8Array, String, RawImage>>,
        options: Option<EnrollOptionsArg>,
    ) -> napi::Result<AsyncTask<EnrollTask>> {
        let opts = options.unwrap_or_default().into_core(&env)?;
        let engine = self.engine.clone();
        let sources: Vec<Source> = images.into_iter().map(Source::from).collect();
        Ok(AsyncTask::new(EnrollTask::new(move || {
            let images = sources
                .iter()
                .map(|s| s.load(&engine))
                .collect::<faceprint::Result<Vec<_>>>()?;
            Ok(engine.enroll(&collection, &subject, &images, &opts)?.into())
        })))
    }

    /// 1:1: is the largest face of `image` the enrolled `subject`?
    #[napi(ts_return_type = "Promise<Verification>")]
    pub fn verify(
        &self,
        env: Env,
        collection: String,
        subject: String,
        image: Either3<Uint8Array, String, RawImage>,
        options: Option<MatchOptions>,
    ) -> napi::Result<AsyncTask<VerifyTask>> {
        let o = options.unwrap_or_default();
        let t = threshold(&env, &o)?;
        let (engine, source) = (self.engine.clone(), Source::from(image));
        Ok(AsyncTask::new(VerifyTask::new(move || {
            let v = engine.verify(
                &collection,
                &subject,
                &source.load(&engine)?,
                t,
                o.actor.as_deref(),
            )?;
            Ok(Verification::new(v, true))
        })))
    }

    /// 1:1 for every face of `image`: one Verification per face, each with its `face`.
    #[napi(ts_return_type = "Promise<Array<Verification>>")]
    pub fn verify_all(
        &self,
        env: Env,
        collection: String,
        subject: String,
        image: Either3<Uint8Array, String, RawImage>,
        options: Option<MatchOptions>,
    ) -> napi::Result<AsyncTask<VerifyAllTask>> {
        let o = options.unwrap_or_default();
        let t = threshold(&env, &o)?;
        let (engine, source) = (self.engine.clone(), Source::from(image));
        Ok(AsyncTask::new(VerifyAllTask::new(move || {
            let all = engine.verify_all(
                &collection,
                &subject,
                &source.load(&engine)?,
                t,
                o.actor.as_deref(),
            )?;
            Ok(all
                .into_iter()
                .map(|v| Verification::new(v, true))
                .collect())
        })))
    }

    /// 1:1 with a stored embedding vector of this engine's model.
    #[napi(ts_return_type = "Promise<Verification>")]
    pub fn verify_embedding(
        &self,
        env: Env,
        collection: String,
        subject: String,
        embedding: Float32Array,
        options: Option<MatchOptions>,
    ) -> napi::Result<AsyncTask<VerifyTask>> {
        let o = options.unwrap_or_default();
        let t = threshold(&env, &o)?;
        let probe = stored_probe(&self.engine, &embedding).or_throw(&env)?;
        let engine = self.engine.clone();
        Ok(AsyncTask::new(VerifyTask::new(move || {
            let v =
                engine.verify_embedding(&collection, &subject, &probe, t, o.actor.as_deref())?;
            Ok(Verification::new(v, false))
        })))
    }

    /// 1:N: the most similar enrolled subjects, best first (`topK`, default 5).
    #[napi(ts_return_type = "Promise<Array<Candidate>>")]
    pub fn identify(
        &self,
        env: Env,
        collection: String,
        image: Either3<Uint8Array, String, RawImage>,
        options: Option<MatchOptions>,
    ) -> napi::Result<AsyncTask<IdentifyTask>> {
        let o = options.unwrap_or_default();
        let t = threshold(&env, &o)?;
        let top_k = crate::numbers::whole(o.top_k.unwrap_or(5.0), "topK", u32::MAX as u64)
            .or_throw(&env)? as usize;
        let (engine, source) = (self.engine.clone(), Source::from(image));
        Ok(AsyncTask::new(IdentifyTask::new(move || {
            let id = engine.identify(
                &collection,
                &source.load(&engine)?,
                top_k,
                t,
                o.actor.as_deref(),
            )?;
            Ok(id.candidates.into_iter().map(Candidate::from).collect())
        })))
    }

    /// 1:N for every face of `image`: one Identification (face + candidates) per face.
    #[napi(ts_return_type = "Promise<Array<Identification>>")]
    pub fn identify_all(
        &self,
        env: Env,
        collection: String,
        image: Either3<Uint8Array, String, RawImage>,
        options: Option<MatchOptions>,
    ) -> napi::Result<AsyncTask<IdentifyAllTask>> {
        let o = options.unwrap_or_default();
        let t = threshold(&env, &o)?;
        let top_k = crate::numbers::whole(o.top_k.unwrap_or(5.0), "topK", u32::MAX as u64)
            .or_throw(&env)? as usize;
        let (engine, source) = (self.engine.clone(), Source::from(image));
        Ok(AsyncTask::new(IdentifyAllTask::new(move || {
            let all = engine.identify_all(
                &collection,
                &source.load(&engine)?,
                top_k,
                t,
                o.actor.as_deref(),
            )?;
            Ok(all
                .into_iter()
                .map(|id| Identification::new(id, true))
                .collect())
        })))
    }

    /// 1:N with a stored embedding vector of this engine's model.
    #[napi(ts_return_type = "Promise<Identification>")]
    pub fn identify_embedding(
        &self,
        env: Env,
        collection: String,
        embedding: Float32Array,
        options: Option<MatchOptions>,
    ) -> napi::Result<AsyncTask<IdentificationTask>> {
        let o = options.unwrap_or_default();
        let t = threshold(&env, &o)?;
        let top_k = crate::numbers::whole(o.top_k.unwrap_or(5.0), "topK", u32::MAX as u64)
            .or_throw(&env)? as usize;
        let probe = stored_probe(&self.engine, &embedding).or_throw(&env)?;
        let engine = self.engine.clone();
        Ok(AsyncTask::new(IdentificationTask::new(move || {
            let id =
                engine.identify_embedding(&collection, &probe, top_k, t, o.actor.as_deref())?;
            Ok(Identification::new(id, false))
        })))
    }

    /// Enrolls `subject` from stored embedding vectors; all are stored or none. Resolves to
    /// the enrollment report.
    #[napi(ts_return_type = "Promise<EnrollReport>")]
    pub fn enroll_embeddings(
        &self,
        env: Env,
        collection: String,
        subject: String,
        embeddings: Vec<Float32Array>,
        options: Option<EnrollOptionsArg>,
    ) -> napi::Result<AsyncTask<EnrollTask>> {
        let opts = options.unwrap_or_default().into_core(&env)?;
        let vectors = embeddings
            .iter()
            .map(|v| self.engine.embedding_from_vector(v.to_vec()))
            .collect::<faceprint::Result<Vec<_>>>()
            .or_throw(&env)?;
        let engine = self.engine.clone();
        Ok(AsyncTask::new(EnrollTask::new(move || {
            Ok(engine
                .enroll_embeddings(&collection, &subject, vectors, &opts)?
                .into())
        })))
    }

    /// The embedding of an image that already is a face crop, without detection (the face is
    /// the whole image; README, Tight crops).
    #[napi(ts_return_type = "Promise<FaceEmbedding>")]
    pub fn embed_face_crop(
        &self,
        image: Either3<Uint8Array, String, RawImage>,
    ) -> AsyncTask<ExtractLargestTask> {
        let (engine, source) = (self.engine.clone(), Source::from(image));
        AsyncTask::new(ExtractLargestTask::new(move || {
            let fe = engine.embed_face_crop(&source.load(&engine)?)?;
            Ok(FaceEmbedding::new(&fe.embedding, Some(&fe.face)))
        }))
    }

    /// Deletes a subject with its templates; rejects with "not_found" if absent.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_subject(
        &self,
        collection: String,
        subject: String,
        actor: Option<String>,
    ) -> AsyncTask<UnitTask> {
        let engine = self.engine.clone();
        AsyncTask::new(UnitTask::new(move || {
            engine.delete_subject(&collection, &subject, actor.as_deref())
        }))
    }

    /// Deletes one template by id (e.g. a bad photo); resolves to the subject it belonged to.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn delete_template(
        &self,
        collection: String,
        template_id: String,
        actor: Option<String>,
    ) -> AsyncTask<StringTask> {
        let engine = self.engine.clone();
        AsyncTask::new(StringTask::new(move || {
            engine.delete_template(&collection, &template_id, actor.as_deref())
        }))
    }

    /// A disabled subject is refused by verify and skipped by identify; its templates stay.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn disable_subject(
        &self,
        collection: String,
        subject: String,
        actor: Option<String>,
    ) -> AsyncTask<UnitTask> {
        let engine = self.engine.clone();
        AsyncTask::new(UnitTask::new(move || {
            engine.set_subject_disabled(&collection, &subject, true, actor.as_deref())
        }))
    }

    /// Matches a disabled subject again.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn enable_subject(
        &self,
        collection: String,
        subject: String,
        actor: Option<String>,
    ) -> AsyncTask<UnitTask> {
        let engine = self.engine.clone();
        AsyncTask::new(UnitTask::new(move || {
            engine.set_subject_disabled(&collection, &subject, false, actor.as_deref())
        }))
    }

    /// Subjects ordered by id, `limit` (default 100) from `offset` (default 0).
    #[napi(ts_return_type = "Promise<Array<Subject>>")]
    pub fn list_subjects(
        &self,
        env: Env,
        collection: String,
        options: Option<PageOptions>,
    ) -> napi::Result<AsyncTask<SubjectsTask>> {
        let o = options.unwrap_or_default();
        let offset = o
            .offset
            .map(|v| crate::numbers::whole(v, "offset", u32::MAX as u64))
            .transpose()
            .or_throw(&env)?
            .unwrap_or(0) as usize;
        let limit = o
            .limit
            .map(|v| crate::numbers::whole(v, "limit", u32::MAX as u64))
            .transpose()
            .or_throw(&env)?
            .unwrap_or(100) as usize;
        let engine = self.engine.clone();
        Ok(AsyncTask::new(SubjectsTask::new(move || {
            Ok(engine
                .list_subjects(&collection, offset, limit)?
                .into_iter()
                .map(Into::into)
                .collect())
        })))
    }

    /// Everything stored about a subject, decrypted (for access requests).
    #[napi(ts_return_type = "Promise<SubjectExport>")]
    pub fn export_subject(
        &self,
        collection: String,
        subject: String,
        actor: Option<String>,
    ) -> AsyncTask<ExportTask> {
        let engine = self.engine.clone();
        AsyncTask::new(ExportTask::new(move || {
            Ok(engine
                .export_subject(&collection, &subject, actor.as_deref())?
                .into())
        }))
    }

    /// The store's collections.
    #[napi(ts_return_type = "Promise<Array<Collection>>")]
    pub fn list_collections(&self) -> AsyncTask<CollectionsTask> {
        let engine = self.engine.clone();
        AsyncTask::new(CollectionsTask::new(move || {
            Ok(engine
                .list_collections()?
                .into_iter()
                .map(Into::into)
                .collect())
        }))
    }

    /// Extracts every face of many images on `threads` worker threads (default: the number of
    /// cores). Resolves to one item per image, in order: `{ faces }` or `{ error }` (a bad
    /// image does not stop the batch). `onProgress(done, total)` is called as images finish.
    #[napi(ts_return_type = "Promise<Array<BatchItem>>")]
    pub fn extract_batch(
        &self,
        env: Env,
        images: Vec<Either3<Uint8Array, String, RawImage>>,
        options: Option<BatchOptions>,
        #[napi(ts_arg_type = "(done: number, total: number) => void")] on_progress: Option<
            ProgressFn,
        >,
    ) -> napi::Result<AsyncTask<BatchTask>> {
        let threads = match options.and_then(|o| o.threads) {
            Some(t) => crate::numbers::whole(t, "threads", 256).or_throw(&env)? as usize,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let sources: Vec<Source> = images.into_iter().map(Source::from).collect();
        let engine = self.engine.clone();
        Ok(AsyncTask::new(BatchTask::new(move || {
            let inputs = sources
                .iter()
                .map(|s| s.batch_input(&engine))
                .collect::<faceprint::Result<Vec<_>>>()?;
            let report = |done: usize, total: usize| {
                if let Some(f) = &on_progress {
                    f.call(
                        (done as u32, total as u32).into(),
                        ThreadsafeFunctionCallMode::NonBlocking,
                    );
                }
            };
            Ok(engine
                .extract_batch(&inputs, threads, &report)?
                .into_iter()
                .map(Into::into)
                .collect())
        })))
    }

    /// Quality report under a profile, with optional overrides of its limits.
    #[napi(ts_return_type = "Promise<QualityReport>")]
    pub fn quality(
        &self,
        env: Env,
        image: Either3<Uint8Array, String, RawImage>,
        options: Option<QualityOptions>,
    ) -> napi::Result<AsyncTask<QualityTask>> {
        let o = options.unwrap_or_default();
        let profile = QualityProfile::from_json(
            o.profile.as_deref().unwrap_or("authentication"),
            &json_text(o.overrides.as_ref()),
        )
        .or_throw(&env)?;
        let (engine, source) = (self.engine.clone(), Source::from(image));
        Ok(AsyncTask::new(QualityTask::new(move || {
            Ok(engine.quality(&source.load(&engine)?, &profile)?.into())
        })))
    }

    /// Passive liveness of the largest face; rejects with "no_face" without one.
    #[napi(ts_return_type = "Promise<Liveness>")]
    pub fn liveness(
        &self,
        image: Either3<Uint8Array, String, RawImage>,
    ) -> AsyncTask<LivenessTask> {
        let (engine, source) = (self.engine.clone(), Source::from(image));
        AsyncTask::new(LivenessTask::new(move || {
            let l = engine.liveness(&source.load(&engine)?)?;
            Ok(Liveness {
                score: l.score as f64,
                threshold: l.threshold as f64,
                live: l.live,
                model_scores: l.model_scores.iter().map(|s| *s as f64).collect(),
            })
        }))
    }

    /// Reads an identity document page: the zone (`mrz`: fields, `checks`, `valid`, `repairs`),
    /// the `portrait`, `orientation_degrees`, `verified`, `error` (when not verified: code,
    /// number, message) and, with `{ visualZone: true }`, the printed text and the zone's
    /// fields looked for in it (`visual_zone`). Rejects with "no_document" when the page shows
    /// neither a zone nor a portrait.
    #[napi(ts_return_type = "Promise<import('./faceprint').DocumentReading>")]
    pub fn read_document(
        &self,
        image: Either3<Uint8Array, String, RawImage>,
        options: Option<DocumentOptions>,
    ) -> AsyncTask<JsonTask> {
        let options = faceprint::document::DocumentOptions {
            visual_zone: options.and_then(|o| o.visual_zone).unwrap_or(false),
        };
        let (engine, source) = (self.engine.clone(), Source::from(image));
        AsyncTask::new(JsonTask::new(move || {
            let reading = engine.read_document_with(&source.load(&engine)?, &options)?;
            Ok(Json(crate::results::node_shape(reading.to_json())))
        }))
    }

    /// Compares a selfie's largest face with a document page's portrait at the document
    /// threshold. Rejects with "no_portrait" (page) or "no_face" (selfie).
    #[napi(ts_return_type = "Promise<import('./faceprint').DocumentMatch>")]
    pub fn match_document(
        &self,
        document: Either3<Uint8Array, String, RawImage>,
        selfie: Either3<Uint8Array, String, RawImage>,
    ) -> AsyncTask<JsonTask> {
        let engine = self.engine.clone();
        let (page, selfie) = (Source::from(document), Source::from(selfie));
        AsyncTask::new(JsonTask::new(move || {
            let m = engine.match_document(&page.load(&engine)?, &selfie.load(&engine)?)?;
            let json =
                serde_json::to_value(&m).map_err(|e| faceprint::Error::Internal(e.to_string()))?;
            Ok(Json(crate::results::node_shape(json)))
        }))
    }
}

/// Boxes `[x1, y1, x2, y2]` from JS; the core checks they are boxes inside the image.
fn boxes_of(boxes: &[Vec<f64>]) -> faceprint::Result<Vec<faceprint::BoundingBox>> {
    boxes
        .iter()
        .map(|b| match b.as_slice() {
            [x1, y1, x2, y2] if [x1, y1, x2, y2].iter().all(|v| v.is_finite()) => {
                Ok(faceprint::BoundingBox {
                    x1: *x1 as f32,
                    y1: *y1 as f32,
                    x2: *x2 as f32,
                    y2: *y2 as f32,
                })
            }
            _ => Err(faceprint::Error::InvalidArgument(
                "a box is four finite numbers [x1, y1, x2, y2]".into(),
            )),
        })
        .collect()
}

fn extract(engine: &faceprint::Engine, source: &Source) -> faceprint::Result<Vec<FaceEmbedding>> {
    let found = engine.extract(&source.load(engine)?)?;
    Ok(found
        .iter()
        .map(|fe| FaceEmbedding::new(&fe.embedding, Some(&fe.face)))
        .collect())
}

fn extract_largest(
    engine: &faceprint::Engine,
    source: &Source,
) -> faceprint::Result<FaceEmbedding> {
    let fe = engine.extract_largest(&source.load(engine)?)?;
    Ok(FaceEmbedding::new(&fe.embedding, Some(&fe.face)))
}

/// A stored vector as a probe: checked and normalised by the core, with no face.
fn stored_probe(
    engine: &faceprint::Engine,
    vector: &Float32Array,
) -> faceprint::Result<faceprint::FaceEmbedding> {
    Ok(faceprint::FaceEmbedding::stored(
        engine.embedding_from_vector(vector.to_vec())?,
    ))
}
