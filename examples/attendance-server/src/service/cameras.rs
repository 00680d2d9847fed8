//! The running cameras: for each enabled camera a source thread (ffmpeg or a directory, with
//! reconnection and backoff) and a pipeline thread, joined by a bounded frame queue. At most
//! `max_streams` run at once; each has its own threads, so one camera's trouble never stalls
//! another's.

use super::pipeline::Pipeline;
use super::source::{self, Ended, Frame};
use super::status::{CameraStatus, StatusView};
use crate::config::AppConfig;
use crate::repo::cameras::{Camera, SourceKind};
use faceprint_server::Common;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

struct Running {
    stop: Arc<AtomicBool>,
    status: Arc<CameraStatus>,
    queue: SyncSender<Frame>,
    threads: Vec<JoinHandle<()>>,
}

/// Cheap to clone; one per server.
#[derive(Clone, Default)]
pub struct Cameras {
    running: Arc<Mutex<HashMap<String, Running>>>,
    /// Statuses of cameras that stopped (finished files, disabled), kept for the status page.
    stopped: Arc<Mutex<HashMap<String, Arc<CameraStatus>>>>,
}

/// Why a camera could not start.
#[derive(Debug)]
pub enum StartError {
    TooMany(usize),
    Thread(String),
}

impl Cameras {
    /// Starts `camera` (stopping a running one with the same id first).
    pub fn start(
        &self,
        common: &Common,
        app: &AppConfig,
        camera: Camera,
    ) -> Result<(), StartError> {
        self.stop(&camera.id);
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.len() >= app.max_streams {
            return Err(StartError::TooMany(app.max_streams));
        }
        let status = Arc::new(CameraStatus::new(&camera.id));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = sync_channel::<Frame>(app.frame_queue.max(1));
        let mut threads = Vec::new();
        let pipeline = Pipeline::new(common, camera.clone(), app, status.clone())
            .map_err(StartError::Thread)?;
        let (st, sp) = (status.clone(), stop.clone());
        threads.push(
            std::thread::Builder::new()
                .name(format!("pipeline-{}", camera.id))
                .spawn(move || run_pipeline(pipeline, rx, st, sp))
                .map_err(|e| StartError::Thread(e.to_string()))?,
        );
        if camera.kind == SourceKind::Push {
            status.waiting();
        } else {
            let (st, sp, q) = (status.clone(), stop.clone(), tx.clone());
            let limits = common.engine().config().image_limits;
            let cam = camera.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("source-{}", camera.id))
                    .spawn(move || supervise(cam, limits, q, st, sp))
                    .map_err(|e| StartError::Thread(e.to_string()))?,
            );
        }
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&camera.id);
        running.insert(
            camera.id.clone(),
            Running {
                stop,
                status,
                queue: tx,
                threads,
            },
        );
        Ok(())
    }

    /// Stops a camera and waits for its threads (the pipeline writes its open visits first).
    pub fn stop(&self, id: &str) {
        let r = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        if let Some(r) = r {
            r.stop.store(true, Ordering::Relaxed);
            drop(r.queue);
            for t in r.threads {
                let _ = t.join();
            }
            r.status.stopped();
            r.status.live.close();
            self.stopped
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.to_string(), r.status);
        }
    }

    /// Stops every camera (server shutdown).
    pub fn stop_all(&self) {
        let ids: Vec<String> = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        for id in ids {
            self.stop(&id);
        }
    }

    pub fn status(&self, id: &str) -> Option<StatusView> {
        if let Some(r) = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            return Some(r.status.view());
        }
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .map(|s| s.view())
    }

    /// The live view of a running camera.
    pub fn live(&self, id: &str) -> Option<Arc<super::live::LiveView>> {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .map(|r| r.status.live.clone())
    }

    /// Hands a pushed frame to a camera (`Closed` when it is not running).
    pub fn push(&self, id: &str, frame: Frame) -> source::Offered {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        match running.get(id) {
            Some(r) => {
                r.status.running();
                source::offer(&r.queue, &r.status, frame)
            }
            None => source::Offered::Closed,
        }
    }
}

/// Backoff between reconnections: 1 s doubling to 30 s; a source that ran for a minute
/// starts again from 1 s.
fn supervise(
    camera: Camera,
    limits: faceprint::ImageLimits,
    queue: SyncSender<Frame>,
    status: Arc<CameraStatus>,
    stop: Arc<AtomicBool>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let started = std::time::Instant::now();
        match source::run(&camera, &limits, &queue, &status, &stop) {
            Ended::Finished => {
                status.finished();
                return;
            }
            Ended::Stopped => return,
            Ended::Broken(error) => {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                if started.elapsed() > Duration::from_secs(60) {
                    backoff = Duration::from_secs(1);
                }
                tracing::warn!(camera = %camera.id, %error, retry_in_ms = backoff.as_millis() as u64, "camera source broke; reconnecting");
                status.reconnecting(error, backoff.as_millis() as u64);
                // Sleep in slices so a stop is noticed at once.
                let until = std::time::Instant::now() + backoff;
                while std::time::Instant::now() < until {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

fn run_pipeline(
    mut pipeline: Pipeline,
    frames: Receiver<Frame>,
    status: Arc<CameraStatus>,
    stop: Arc<AtomicBool>,
) {
    let mut finished = false;
    loop {
        match frames.recv_timeout(Duration::from_millis(200)) {
            Ok(frame) => {
                if let Err(e) = pipeline.process(frame) {
                    tracing::warn!(error = %e, "camera pipeline error");
                    status.error(e);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                // A played-out file or directory: its visits end with it.
                if !finished && status.is_finished() {
                    finished = true;
                    if let Err(e) = pipeline.finish() {
                        status.error(e);
                    }
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if let Err(e) = pipeline.finish() {
        status.error(e);
    }
}

/// A camera as the API takes it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CameraInput {
    pub name: String,
    pub kind: SourceKind,
    /// The URL (`rtsp://`, `http(s)://`), video file or directory; none for `push`.
    pub source: Option<String>,
    #[serde(default = "default_role")]
    pub role: crate::repo::cameras::CameraRole,
    #[serde(default)]
    pub settings: crate::repo::cameras::CameraSettings,
    #[serde(default = "default_enabled")]
    pub enabled: bool,
}

fn default_role() -> crate::repo::cameras::CameraRole {
    crate::repo::cameras::CameraRole::Any
}

fn default_enabled() -> bool {
    true
}

impl CameraInput {
    fn check(&self) -> ApiResult<()> {
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(ApiError::bad_request("name must be 1 to 200 characters"));
        }
        self.settings.check().map_err(ApiError::bad_request)?;
        match (self.kind, self.source.as_deref()) {
            (SourceKind::Push, None) => Ok(()),
            (SourceKind::Push, Some(_)) => {
                Err(ApiError::bad_request("a push camera has no source"))
            }
            (_, None) => Err(ApiError::bad_request("source is required")),
            (SourceKind::Url, Some(u)) => {
                let ok = ["rtsp://", "rtsps://", "http://", "https://", "rtmp://"]
                    .iter()
                    .any(|p| u.starts_with(p));
                if ok && u.len() <= 2048 {
                    Ok(())
                } else {
                    Err(ApiError::bad_request(
                        "source must be an rtsp(s)://, http(s):// or rtmp:// URL",
                    ))
                }
            }
            (SourceKind::File, Some(p)) => {
                if std::path::Path::new(p).is_file() {
                    Ok(())
                } else {
                    Err(ApiError::bad_request(format!("no video file at {p}")))
                }
            }
            (SourceKind::Dir, Some(p)) => {
                if std::path::Path::new(p).is_dir() {
                    Ok(())
                } else {
                    Err(ApiError::bad_request(format!("no directory at {p}")))
                }
            }
        }
    }
}

use crate::state::AppState;
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult};

fn start_error(e: StartError) -> ApiError {
    match e {
        StartError::TooMany(n) => ApiError::conflict(
            "too_many_streams",
            format!("{n} cameras run already (app.max_streams): disable one first"),
        ),
        StartError::Thread(m) => ApiError::internal(m),
    }
}

/// Saves a camera (new when `id` is None) and starts or stops it to match `enabled`.
pub async fn save(
    state: &AppState,
    caller: &Caller,
    actor: &str,
    id: Option<&str>,
    input: CameraInput,
) -> ApiResult<Camera> {
    input.check()?;
    let created_ms = match id {
        Some(id) => get(state, id).await?.created_ms,
        None => faceprint_server::db::now_ms(),
    };
    let camera = Camera {
        id: id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string),
        name: input.name.trim().to_string(),
        kind: input.kind,
        source: input.source,
        role: input.role,
        settings: input.settings,
        enabled: input.enabled,
        created_ms,
    };
    let row = camera.clone();
    state
        .common()
        .db(move |c| crate::repo::cameras::upsert(c, &row))
        .await?;
    let (s, cam, common, app) = (
        state.cameras().clone(),
        camera.clone(),
        state.common().clone(),
        state.config().clone(),
    );
    // Starting and stopping join threads: off the async workers.
    let started = state
        .common()
        .blocking(move || {
            if cam.enabled {
                s.start(&common, &app, cam)
            } else {
                s.stop(&cam.id);
                Ok(())
            }
        })
        .await?;
    if let Err(e) = started {
        // Saved but not running: say so, and keep it disabled so a restart agrees.
        let mut off = camera.clone();
        off.enabled = false;
        state
            .common()
            .db(move |c| crate::repo::cameras::upsert(c, &off))
            .await?;
        return Err(start_error(e));
    }
    state
        .common()
        .audit(caller.done(
            if id.is_some() {
                "update_camera"
            } else {
                "create_camera"
            },
            actor,
            format!("camera:{}", camera.id),
        ))
        .await?;
    Ok(camera)
}

pub async fn get(state: &AppState, id: &str) -> ApiResult<Camera> {
    let i = id.to_string();
    state
        .common()
        .db(move |c| crate::repo::cameras::get(c, &i))
        .await?
        .ok_or_else(|| ApiError::not_found("no such camera"))
}

pub async fn delete(state: &AppState, caller: &Caller, actor: &str, id: &str) -> ApiResult<()> {
    get(state, id).await?;
    let (s, i) = (state.cameras().clone(), id.to_string());
    state.common().blocking(move || s.stop(&i)).await?;
    let i = id.to_string();
    state
        .common()
        .db(move |c| crate::repo::cameras::delete(c, &i))
        .await?;
    state
        .common()
        .audit(caller.done("delete_camera", actor, format!("camera:{id}")))
        .await
}

/// The push camera `id` (404 when there is none, 409 when it reads its own source).
pub async fn push_camera(state: &AppState, id: &str) -> ApiResult<Camera> {
    let camera = get(state, id).await?;
    if camera.kind != SourceKind::Push {
        return Err(ApiError::conflict(
            "not_a_push_camera",
            "this camera reads its own source",
        ));
    }
    Ok(camera)
}

/// Decodes a pushed JPEG/PNG (on the model gate: 503 `busy` when it is full) and hands it to
/// the running push camera `id`: true when queued, false when dropped because the pipeline
/// is behind (counted in its status); 409 `camera_stopped` when the camera is not running.
pub async fn push_frame(state: &AppState, id: &str, bytes: Vec<u8>) -> ApiResult<bool> {
    let image = state
        .common()
        .model(move |engine| engine.decode(&bytes))
        .await?;
    let frame = Frame {
        image,
        at_ms: faceprint_server::db::now_ms(),
    };
    match state.cameras().push(id, frame) {
        source::Offered::Queued => Ok(true),
        source::Offered::Dropped => Ok(false),
        source::Offered::Closed => Err(ApiError::conflict(
            "camera_stopped",
            "the camera is not running (enable it)",
        )),
    }
}
