//! The multi-tenant recognition service behind the CompreFace-compatible API. Every call is
//! scoped to the collection of the caller's API key: another tenant's subjects and image ids
//! are simply not there. Subjects are known to the store by opaque ids (`repo::subjects` holds
//! the names); an example's `image_id` is its template id.

use crate::repo::subjects;
use faceprint::{DetectionOptions, EnrollOptions, Face, FacePolicy};
use faceprint_server::auth::api_key::ApiKeyInfo;
use faceprint_server::error::{ApiError, ApiResult};
use faceprint_server::events::Event;
use faceprint_server::Common;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Instant;
use utoipa::ToSchema;

/// Which optional parts an answer carries (CompreFace's `face_plugins` and `status`).
#[derive(Debug, Clone, Default)]
pub struct Plugins {
    pub landmarks: bool,
    pub calculator: bool,
    pub status: bool,
}

impl Plugins {
    /// `landmarks` and `calculator` are honoured; `age`, `gender` and `mask` are accepted and
    /// left out (no such models in the pack).
    pub fn parse(face_plugins: Option<&str>, status: Option<bool>) -> Plugins {
        let names: Vec<&str> = face_plugins
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .collect();
        Plugins {
            landmarks: names.contains(&"landmarks"),
            calculator: names.contains(&"calculator"),
            status: status.unwrap_or(false),
        }
    }
}

/// Detection options of a call: `det_prob_threshold` and `limit` (0 = every face).
#[derive(Debug, Clone, Copy, Default)]
pub struct FaceOptions {
    pub det_prob_threshold: Option<f32>,
    pub limit: u32,
}

impl FaceOptions {
    pub fn check(&self) -> ApiResult<()> {
        if let Some(t) = self.det_prob_threshold {
            if !(0.0..=1.0).contains(&t) {
                return Err(ApiError::bad_request(
                    "det_prob_threshold must be between 0.0 and 1.0",
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FaceBox {
    pub probability: f32,
    pub x_min: i32,
    pub y_min: i32,
    pub x_max: i32,
    pub y_max: i32,
}

impl From<&Face> for FaceBox {
    fn from(f: &Face) -> FaceBox {
        FaceBox {
            probability: (f.score * 1e5).round() / 1e5,
            x_min: f.bbox.x1.round() as i32,
            y_min: f.bbox.y1.round() as i32,
            x_max: f.bbox.x2.round() as i32,
            y_max: f.bbox.y2.round() as i32,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectScore {
    pub subject: String,
    /// Cosine similarity of the embeddings, clamped to 0..1 (Faceprint's scale: same person
    /// is typically above 0.45 with the default model; see the README).
    pub similarity: f32,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ExecutionTime {
    pub detector: f64,
    pub calculator: f64,
}

/// One face of a recognize / detect / verify answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FaceResult {
    #[serde(rename = "box")]
    pub bbox: FaceBox,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subjects: Option<Vec<SubjectScore>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landmarks: Option<Vec<[i32; 2]>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_time: Option<ExecutionTime>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacesAnswer {
    pub result: Vec<FaceResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugins_versions: Option<HashMap<String, String>>,
}

fn similarity(score: f32) -> f32 {
    (score.clamp(0.0, 1.0) * 1e5).round() / 1e5
}

fn face_result(
    face: &Face,
    plugins: &Plugins,
    embedding: Option<&faceprint::Embedding>,
    time: &ExecutionTime,
) -> FaceResult {
    FaceResult {
        bbox: FaceBox::from(face),
        subjects: None,
        subject: None,
        similarity: None,
        landmarks: plugins.landmarks.then(|| {
            face.landmarks
                .iter()
                .map(|p| [p[0].round() as i32, p[1].round() as i32])
                .collect()
        }),
        embedding: if plugins.calculator {
            embedding.map(|e| e.vector().to_vec())
        } else {
            None
        },
        execution_time: plugins.status.then(|| time.clone()),
    }
}

fn versions(common: &Common, plugins: &Plugins) -> Option<HashMap<String, String>> {
    plugins.status.then(|| {
        HashMap::from([
            (
                "detector".to_string(),
                common.engine().detector_id().to_string(),
            ),
            (
                "calculator".to_string(),
                common.engine().embedder_id().to_string(),
            ),
        ])
    })
}

/// A detected face and, when asked for, its embedding.
type DetectedFace = (Face, Option<faceprint::Embedding>);

/// Detects the faces of a decoded image under `opts` (threshold, limit); no face is `no_face`.
/// Returns the detector's time in ms.
fn detect_faces(
    engine: &faceprint::Engine,
    image: &faceprint::Image,
    opts: FaceOptions,
) -> faceprint::Result<(Vec<Face>, f64)> {
    let mut det: DetectionOptions = engine.config().detection;
    if let Some(t) = opts.det_prob_threshold {
        det.score_threshold = t;
    }
    let started = Instant::now();
    let mut faces = engine.detect_with(image, &det)?;
    let detector = started.elapsed().as_secs_f64() * 1000.0;
    if faces.is_empty() {
        return Err(faceprint::Error::NoFace);
    }
    if opts.limit > 0 {
        faces.truncate(opts.limit as usize);
    }
    Ok((faces, detector))
}

/// Decodes, detects (threshold and limit from `opts`) and embeds every face. No face is
/// `no_face`.
fn detect_and_embed(
    engine: &faceprint::Engine,
    bytes: &[u8],
    opts: FaceOptions,
    embed: bool,
) -> faceprint::Result<(Vec<DetectedFace>, ExecutionTime)> {
    let image = engine.decode(bytes)?;
    let (faces, detector) = detect_faces(engine, &image, opts)?;
    let started = Instant::now();
    let embeddings = if embed {
        engine
            .embed(&image, &faces)?
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![None; faces.len()]
    };
    let calculator = started.elapsed().as_secs_f64() * 1000.0;
    Ok((
        faces.into_iter().zip(embeddings).collect(),
        ExecutionTime {
            detector,
            calculator,
        },
    ))
}

pub fn check_subject_name(name: &str) -> ApiResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 256 || n.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "subject must be 1 to 256 characters without control characters",
        ));
    }
    Ok(n.to_string())
}

fn key_event(key: &ApiKeyInfo, action: &str, outcome: &str) -> Event {
    Event::new(action, outcome).actor(format!("api_key:{}", key.id))
}

// ---- subjects ----

pub async fn add_subject(common: &Common, key: &ApiKeyInfo, name: &str) -> ApiResult<String> {
    let name = check_subject_name(name)?;
    let (c, n) = (key.collection.clone(), name.clone());
    if common
        .db(move |db| subjects::create(db, &c, &n))
        .await?
        .is_none()
    {
        return Err(ApiError::conflict(
            "already_exists",
            format!("subject {name:?} exists"),
        ));
    }
    common
        .audit(key_event(key, "add_subject", "success").target(format!("subject:{name}")))
        .await?;
    Ok(name)
}

pub async fn list_subjects(common: &Common, key: &ApiKeyInfo) -> ApiResult<Vec<String>> {
    let c = key.collection.clone();
    Ok(common
        .db(move |db| subjects::list(db, &c))
        .await?
        .into_iter()
        .map(|(n, _)| n)
        .collect())
}

pub async fn rename_subject(
    common: &Common,
    key: &ApiKeyInfo,
    old: &str,
    new: &str,
) -> ApiResult<()> {
    let new = check_subject_name(new)?;
    let (c, o, n) = (key.collection.clone(), old.to_string(), new.clone());
    let renamed = common
        .db(
            move |db| match db.atomic(|db| subjects::rename(db, &c, &o, &n)) {
                Err(faceprint_server::db::DbError::Conflict(_)) => Ok(None),
                other => other.map(Some),
            },
        )
        .await?;
    match renamed {
        None => Err(ApiError::conflict(
            "already_exists",
            format!("subject {new:?} exists"),
        )),
        Some(false) => Err(ApiError::not_found(format!("subject {old:?} not found"))),
        Some(true) => {
            common
                .audit(key_event(key, "rename_subject", "success").target(format!("subject:{new}")))
                .await
        }
    }
}

/// Deletes a subject with its templates and their key.
pub async fn delete_subject(common: &Common, key: &ApiKeyInfo, name: &str) -> ApiResult<()> {
    let (c, n) = (key.collection.clone(), name.to_string());
    let id = common
        .db(move |db| subjects::id_of(db, &c, &n))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("subject {name:?} not found")))?;
    erase_templates(common, key, &id).await?;
    let (c, n) = (key.collection.clone(), name.to_string());
    common.db(move |db| subjects::delete(db, &c, &n)).await?;
    common
        .audit(key_event(key, "delete_subject", "success").target(format!("subject:{name}")))
        .await
}

pub async fn delete_all_subjects(common: &Common, key: &ApiKeyInfo) -> ApiResult<usize> {
    let all = list_subjects(common, key).await?;
    for name in &all {
        delete_subject(common, key, name).await?;
    }
    Ok(all.len())
}

/// Erases a subject's templates and key in the store (the name stays); returns how many.
async fn erase_templates(common: &Common, key: &ApiKeyInfo, subject_id: &str) -> ApiResult<usize> {
    let (c, id, actor) = (
        key.collection.clone(),
        subject_id.to_string(),
        format!("api_key:{}", key.id),
    );
    common
        .model(move |e| {
            let n = match e.store()?.subject(&c, &id) {
                Ok(s) => s.templates,
                Err(faceprint::Error::NotFound(_)) => return Ok(0),
                Err(err) => return Err(err),
            };
            match e.delete_subject(&c, &id, Some(&actor)) {
                Ok(()) => Ok(n),
                Err(faceprint::Error::NotFound(_)) => Ok(0),
                Err(err) => Err(err),
            }
        })
        .await
}

// ---- examples (faces) ----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Example {
    pub image_id: String,
    pub subject: String,
}

/// Adds the largest face of `image` to `subject` (created if new).
pub async fn add_example(
    common: &Common,
    key: &ApiKeyInfo,
    subject: &str,
    image: bytes::Bytes,
    opts: FaceOptions,
) -> ApiResult<Example> {
    opts.check()?;
    let name = check_subject_name(subject)?;
    let (c, n) = (key.collection.clone(), name.clone());
    let id = common
        .db(move |db| subjects::get_or_create(db, &c, &n))
        .await?;
    let (c, actor) = (key.collection.clone(), format!("api_key:{}", key.id));
    let report = common
        .model(move |e| {
            // One decode, one detection, one embedding: the largest face's.
            let img = e.decode(&image)?;
            let (faces, _) = detect_faces(e, &img, FaceOptions { limit: 0, ..opts })?;
            let largest = *faceprint::detect::largest(&faces).ok_or(faceprint::Error::NoFace)?;
            let embedding = e.embed(&img, &[largest])?.remove(0);
            let options = EnrollOptions {
                actor: Some(actor),
                face_policy: FacePolicy::Largest,
                sources: vec!["recognition_api".into()],
                ..EnrollOptions::default()
            };
            e.enroll_embeddings(&c, &id, vec![embedding], &options)
        })
        .await?;
    let image_id = report
        .template_ids
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("enrollment returned no template id"))?;
    common
        .audit(key_event(key, "add_example", "success").target(format!("subject:{name}")))
        .await?;
    Ok(Example {
        image_id,
        subject: name,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExamplePage {
    pub faces: Vec<Example>,
    pub page_number: u32,
    pub page_size: u32,
    pub total_pages: u32,
    pub total_elements: u64,
}

/// Examples of every subject (or one), by subject name, paged.
pub async fn list_examples(
    common: &Common,
    key: &ApiKeyInfo,
    subject: Option<&str>,
    page: u32,
    size: u32,
) -> ApiResult<ExamplePage> {
    let size = size.clamp(1, 1000);
    let c = key.collection.clone();
    let mut names = common.db(move |db| subjects::list(db, &c)).await?;
    if let Some(s) = subject {
        names.retain(|(n, _)| n == s);
    }
    let c = key.collection.clone();
    let all: Vec<Example> = common
        .model(move |e| {
            let store = e.store()?;
            let mut out = Vec::new();
            for (name, id) in names {
                match store.templates(&c, &id) {
                    Ok(ts) => out.extend(ts.into_iter().map(|t| Example {
                        image_id: t.id,
                        subject: name.clone(),
                    })),
                    Err(faceprint::Error::NotFound(_)) => {}
                    Err(err) => return Err(err),
                }
            }
            Ok(out)
        })
        .await?;
    let total = all.len() as u64;
    let faces = all
        .into_iter()
        .skip((page as usize) * size as usize)
        .take(size as usize)
        .collect();
    Ok(ExamplePage {
        faces,
        page_number: page,
        page_size: size,
        total_pages: total.div_ceil(size as u64) as u32,
        total_elements: total,
    })
}

/// Deletes every example of a subject (the subject stays); returns how many.
pub async fn delete_examples_of(
    common: &Common,
    key: &ApiKeyInfo,
    subject: &str,
) -> ApiResult<usize> {
    let (c, n) = (key.collection.clone(), subject.to_string());
    let Some(id) = common.db(move |db| subjects::id_of(db, &c, &n)).await? else {
        return Err(ApiError::not_found(format!(
            "subject {subject:?} not found"
        )));
    };
    let n = erase_templates(common, key, &id).await?;
    common
        .audit(key_event(key, "delete_examples", "success").target(format!("subject:{subject}")))
        .await?;
    Ok(n)
}

pub async fn delete_example(
    common: &Common,
    key: &ApiKeyInfo,
    image_id: &str,
) -> ApiResult<Example> {
    let (c, t, actor) = (
        key.collection.clone(),
        image_id.to_string(),
        format!("api_key:{}", key.id),
    );
    let subject_id = common
        .model(move |e| e.delete_template(&c, &t, Some(&actor)))
        .await
        .map_err(|e| not_found_example(e, image_id))?;
    let c = key.collection.clone();
    let name = common
        .db(move |db| subjects::name_of(db, &c, &subject_id))
        .await?
        .unwrap_or_default();
    common
        .audit(key_event(key, "delete_example", "success").target(format!("subject:{name}")))
        .await?;
    Ok(Example {
        image_id: image_id.to_string(),
        subject: name,
    })
}

fn not_found_example(e: ApiError, image_id: &str) -> ApiError {
    if e.code == "not_found" {
        ApiError::not_found(format!("image {image_id:?} not found"))
    } else {
        e
    }
}

// ---- recognition ----

/// Every face of `image` with its `prediction_count` best subjects.
pub async fn recognize(
    common: &Common,
    key: &ApiKeyInfo,
    image: bytes::Bytes,
    opts: FaceOptions,
    prediction_count: u32,
    plugins: Plugins,
) -> ApiResult<FacesAnswer> {
    opts.check()?;
    let c = key.collection.clone();
    let names: HashMap<String, String> = common
        .db(move |db| subjects::list(db, &c))
        .await?
        .into_iter()
        .map(|(n, id)| (id, n))
        .collect();
    let (c, p) = (key.collection.clone(), plugins.clone());
    let k = prediction_count.clamp(1, 100) as usize;
    let results = common
        .model(move |e| {
            let (faces, time) = detect_and_embed(e, &image, opts, true)?;
            let mut out = Vec::with_capacity(faces.len());
            for (face, embedding) in &faces {
                let Some(embedding) = embedding else { continue };
                let probe = faceprint::FaceEmbedding {
                    face: *face,
                    embedding: embedding.clone(),
                };
                let subjects = match e.identify_embedding(&c, &probe, k, None, None) {
                    Ok(id) => id
                        .candidates
                        .into_iter()
                        .map(|cand| SubjectScore {
                            subject: names.get(&cand.subject).cloned().unwrap_or(cand.subject),
                            similarity: similarity(cand.score),
                        })
                        .collect(),
                    Err(faceprint::Error::NotFound(_)) => Vec::new(),
                    Err(err) => return Err(err),
                };
                let mut r = face_result(face, &p, Some(embedding), &time);
                r.subjects = Some(subjects);
                out.push(r);
            }
            Ok(out)
        })
        .await?;
    if let Some(best) = results
        .iter()
        .filter_map(|r| r.subjects.as_ref()?.first())
        .next()
    {
        metrics::histogram!("faceprint_match_score", "op" => "recognize")
            .record(best.similarity as f64);
    }
    Ok(FacesAnswer {
        result: results,
        plugins_versions: versions(common, &plugins),
    })
}

/// Faces of `image` against one stored example.
pub async fn verify_example(
    common: &Common,
    key: &ApiKeyInfo,
    image_id: &str,
    image: bytes::Bytes,
    opts: FaceOptions,
    plugins: Plugins,
) -> ApiResult<FacesAnswer> {
    opts.check()?;
    let (c, t, p) = (
        key.collection.clone(),
        image_id.to_string(),
        plugins.clone(),
    );
    let (template, results) = common
        .model(move |e| {
            let template = e.store()?.template(&c, &t)?;
            let (faces, time) = detect_and_embed(e, &image, opts, true)?;
            let mut out = Vec::new();
            for (face, embedding) in &faces {
                let Some(embedding) = embedding else { continue };
                let mut r = face_result(face, &p, Some(embedding), &time);
                r.similarity = Some(similarity(e.similarity(embedding, &template.embedding)?));
                out.push(r);
            }
            Ok((template, out))
        })
        .await
        .map_err(|e| not_found_example(e, image_id))?;
    let c = key.collection.clone();
    let name = common
        .db(move |db| subjects::name_of(db, &c, &template.subject))
        .await?
        .unwrap_or_default();
    let results = results
        .into_iter()
        .map(|mut r| {
            r.subject = Some(name.clone());
            r
        })
        .collect();
    Ok(FacesAnswer {
        result: results,
        plugins_versions: versions(common, &plugins),
    })
}

/// Every face of `image`, nothing matched.
pub async fn detect(
    common: &Common,
    image: bytes::Bytes,
    opts: FaceOptions,
    plugins: Plugins,
) -> ApiResult<FacesAnswer> {
    opts.check()?;
    let p = plugins.clone();
    let results = common
        .model(move |e| {
            let (faces, time) = detect_and_embed(e, &image, opts, p.calculator)?;
            Ok(faces
                .iter()
                .map(|(f, emb)| face_result(f, &p, emb.as_ref(), &time))
                .collect())
        })
        .await?;
    Ok(FacesAnswer {
        result: results,
        plugins_versions: versions(common, &plugins),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationResult {
    pub source_image_face: FaceResult,
    pub face_matches: Vec<FaceResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationAnswer {
    pub result: Vec<VerificationResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugins_versions: Option<HashMap<String, String>>,
}

/// The largest face of `source` against every face of `target`.
pub async fn verify_images(
    common: &Common,
    source: bytes::Bytes,
    target: bytes::Bytes,
    opts: FaceOptions,
    plugins: Plugins,
) -> ApiResult<VerificationAnswer> {
    opts.check()?;
    let p = plugins.clone();
    let result = common
        .model(move |e| {
            // Only the source's largest face is embedded.
            let simg = e.decode(&source)?;
            let (sfaces, detector) = detect_faces(e, &simg, FaceOptions { limit: 0, ..opts })?;
            let sface = *faceprint::detect::largest(&sfaces).ok_or(faceprint::Error::NoFace)?;
            let started = Instant::now();
            let semb = e.embed(&simg, &[sface])?.remove(0);
            let stime = ExecutionTime {
                detector,
                calculator: started.elapsed().as_secs_f64() * 1000.0,
            };
            let (tgt, ttime) = detect_and_embed(e, &target, opts, true)?;
            let mut matches = Vec::new();
            for (face, emb) in &tgt {
                let Some(emb) = emb else { continue };
                let mut r = face_result(face, &p, Some(emb), &ttime);
                r.similarity = Some(similarity(e.similarity(&semb, emb)?));
                matches.push(r);
            }
            matches.sort_by(|a, b| {
                b.similarity
                    .unwrap_or(0.0)
                    .total_cmp(&a.similarity.unwrap_or(0.0))
            });
            Ok(VerificationResult {
                source_image_face: face_result(&sface, &p, Some(&semb), &stime),
                face_matches: matches,
            })
        })
        .await?;
    Ok(VerificationAnswer {
        result: vec![result],
        plugins_versions: versions(common, &plugins),
    })
}
