//! The running cameras: for each enabled camera a source thread (ffmpeg or a directory, with
//! reconnection and backoff) and a pipeline thread, joined by a bounded frame queue. At most
//! `max_streams` run at once; each has its own threads, so one camera's trouble never stalls
//! another's.
//!
//! Which node runs a camera: several nodes on one database share the cameras that read their
//! own source (url, file, dir) through leases (`faceprint_server::cluster`): each runs about
//! its share, renews its leases every five seconds, and takes over the cameras of a node that
//! stopped (at once) or died (after the fifteen-second lease). Push cameras run on every node,
//! since frames come to whichever node the balancer picks. Records stay one per visit either
//! way: a visit is extended in the database, whichever node saw it.

use super::pipeline::Pipeline;
use super::source::{self, Ended, Frame, SourcePolicy};
use super::status::{CameraStatus, StatusView};
use crate::config::AppConfig;
use crate::repo::cameras::{Camera, SourceKind};
use faceprint_server::cluster::{self, Holder};
use faceprint_server::db::DbResult;
use faceprint_server::Common;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

struct Running {
    /// The settings it runs with: a change saved on any node restarts it.
    camera: Camera,
    stop: Arc<AtomicBool>,
    status: Arc<CameraStatus>,
    queue: SyncSender<Frame>,
    threads: Vec<JoinHandle<()>>,
}

/// Cheap to clone; one per server.
#[derive(Clone)]
pub struct Cameras {
    /// Where the cameras' sources may point.
    policy: SourcePolicy,
    running: Arc<Mutex<HashMap<String, Running>>>,
    /// Statuses of cameras that stopped (finished files, disabled), kept for the status page.
    stopped: Arc<Mutex<HashMap<String, Arc<CameraStatus>>>>,
    /// One placement round at a time (the five-second loop, or a camera saved through the API).
    turn: Arc<Mutex<()>>,
    /// Pull cameras no node took in the last round: any node with room takes them now.
    unclaimed: Arc<Mutex<HashSet<String>>>,
}

/// Why a camera could not start.
#[derive(Debug)]
pub enum StartError {
    TooMany(usize),
    Thread(String),
}

/// Where a camera saved through the API ended up after its placement round.
#[derive(Debug)]
pub enum Placed {
    /// Runs on this node.
    Here,
    /// Runs on another node (which restarts it with the new settings within five seconds).
    Elsewhere(Holder),
    /// Enabled, left for a node with fewer cameras (or room): one takes it within seconds.
    Pending,
    /// Disabled or deleted: runs nowhere.
    Off,
    /// This node, the only one, could not start it.
    Failed(StartError),
}

/// The lease of a pull camera.
fn lease(camera_id: &str) -> String {
    format!("{LEASE_PREFIX}{camera_id}")
}

const LEASE_PREFIX: &str = "camera:";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Cameras {
    pub fn new(policy: SourcePolicy) -> Cameras {
        Cameras {
            policy,
            running: Default::default(),
            stopped: Default::default(),
            turn: Default::default(),
            unclaimed: Default::default(),
        }
    }

    /// Where the cameras' sources may point.
    pub fn policy(&self) -> &SourcePolicy {
        &self.policy
    }

    /// Starts `camera` here (stopping a running one with the same id first). Placement
    /// decides what runs where: see [`Cameras::place`].
    fn start(&self, common: &Common, app: &AppConfig, camera: Camera) -> Result<(), StartError> {
        self.stop(&camera.id);
        let mut running = lock(&self.running);
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
            let (cam, policy) = (camera.clone(), self.policy.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("source-{}", camera.id))
                    .spawn(move || supervise(cam, policy, limits, q, st, sp))
                    .map_err(|e| StartError::Thread(e.to_string()))?,
            );
        }
        lock(&self.stopped).remove(&camera.id);
        running.insert(
            camera.id.clone(),
            Running {
                camera,
                stop,
                status,
                queue: tx,
                threads,
            },
        );
        Ok(())
    }

    /// Stops a camera and waits for its threads (the pipeline writes its open visits first).
    fn stop(&self, id: &str) {
        let r = lock(&self.running).remove(id);
        if let Some(r) = r {
            r.stop.store(true, Ordering::Relaxed);
            drop(r.queue);
            for t in r.threads {
                let _ = t.join();
            }
            r.status.stopped();
            r.status.live.close();
            lock(&self.stopped).insert(id.to_string(), r.status);
        }
    }

    /// Stops every camera and gives up their leases, so the other nodes take them over at
    /// once (server shutdown).
    pub fn stop_all(&self, common: &Common) {
        let _turn = lock(&self.turn);
        let ids: Vec<String> = lock(&self.running).keys().cloned().collect();
        for id in ids {
            self.stop(&id);
        }
        let node = common.node();
        if let Err(e) = common.database().write(|c| cluster::release_all(c, node)) {
            tracing::warn!(error = %e, "camera leases not released: other nodes take the cameras when they run out");
        }
    }

    /// One placement round (blocking; every five seconds, at start, and after a camera is
    /// saved or deleted here): brings what this node runs in line with the cameras in the
    /// database and the leases. Returns where `saved` (a camera just saved here) ended up.
    ///
    /// The rules, the same on every node: each live node aims at its share of the enabled
    /// pull cameras (rounded up); it renews the leases of those it runs; it takes a free one
    /// while under its share, or one nobody took for a whole round while it has room; and
    /// while over its share, it gives one up per round to a node under its share, which takes
    /// it on its next round. Nodes are expected to share their `[app]` settings.
    pub fn place(&self, common: &Common, app: &AppConfig, saved: Option<&str>) -> DbResult<Placed> {
        let _turn = lock(&self.turn);
        let db = common.database();
        let node = common.node();
        let cameras = db.with(crate::repo::cameras::list)?;
        let (nodes, held) = db.write(|c| {
            cluster::hold(c, &cluster::node_lease(node), node)?;
            Ok((cluster::live_nodes(c)?, cluster::held(c, LEASE_PREFIX)?))
        })?;
        let mut held: HashMap<String, Holder> = held
            .into_iter()
            .map(|(name, h)| (name[LEASE_PREFIX.len()..].to_string(), h))
            .collect();
        let wanted: HashMap<&str, &Camera> = cameras
            .iter()
            .filter(|c| c.enabled)
            .map(|c| (c.id.as_str(), c))
            .collect();

        // What runs here and should not: deleted, disabled, changed (restarted below with
        // the new settings), or taken over by another node.
        let here: Vec<(String, Camera)> = lock(&self.running)
            .iter()
            .map(|(id, r)| (id.clone(), r.camera.clone()))
            .collect();
        for (id, running) in &here {
            let keep = match wanted.get(id.as_str()) {
                None => {
                    self.stop(id);
                    db.write(|c| cluster::release(c, &lease(id), node))?;
                    held.remove(id);
                    continue;
                }
                Some(c) => {
                    **c == *running
                        && (c.kind == SourceKind::Push
                            || held.get(id).map_or(true, |h| h.node_id == node.id()))
                }
            };
            if !keep {
                if let Some(h) = held.get(id).filter(|h| h.node_id != node.id()) {
                    tracing::warn!(camera = %id, node = %h.node_url, "camera taken over by another node; stopped here");
                }
                self.stop(id);
            }
        }

        let live = nodes.len().max(1);
        let pull: Vec<&Camera> = cameras
            .iter()
            .filter(|c| c.enabled && c.kind != SourceKind::Push)
            .collect();
        let push = cameras
            .iter()
            .filter(|c| c.enabled && c.kind == SourceKind::Push)
            .count();
        let share = pull.len().div_ceil(live);
        let mut per_node: HashMap<&str, usize> = HashMap::new();
        for h in held.values() {
            *per_node.entry(h.node_id.as_str()).or_default() += 1;
        }
        let mut mine = per_node.get(node.id()).copied().unwrap_or(0);
        // A node under its share that has room (nodes share `max_streams`).
        let taker = nodes.iter().any(|n| {
            let theirs = per_node.get(n.node_id.as_str()).copied().unwrap_or(0);
            n.node_id != node.id() && theirs < share && theirs + push < app.max_streams
        });
        let unclaimed_before = std::mem::take(&mut *lock(&self.unclaimed));
        let mut unclaimed = HashSet::new();
        let mut given_up = false;
        let mut placed = Placed::Off;
        let is_saved = |c: &Camera| saved == Some(c.id.as_str());

        for camera in cameras.iter().filter(|c| c.enabled) {
            let running_here = lock(&self.running).contains_key(&camera.id);
            if camera.kind == SourceKind::Push {
                let outcome = if running_here {
                    Ok(())
                } else {
                    self.start(common, app, camera.clone())
                };
                if is_saved(camera) {
                    placed = match outcome {
                        Ok(()) => Placed::Here,
                        Err(e) => Placed::Failed(e),
                    };
                } else if let Err(e) = outcome {
                    tracing::warn!(camera = %camera.id, error = ?e, "camera not started");
                }
                continue;
            }
            let holder = held.get(&camera.id);
            if running_here {
                // Over its share while another node has room: hand one over per round.
                if mine > share && taker && !given_up && !is_saved(camera) {
                    given_up = true;
                    self.stop(&camera.id);
                    db.write(|c| cluster::release(c, &lease(&camera.id), node))?;
                    mine -= 1;
                    tracing::info!(camera = %camera.id, "camera handed to a node under its share");
                    continue;
                }
                match db.write(|c| cluster::hold(c, &lease(&camera.id), node)) {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(camera = %camera.id, "camera lease lost to another node; stopped here");
                        self.stop(&camera.id);
                        mine = mine.saturating_sub(1);
                        continue;
                    }
                    // The database is away: the camera keeps running; the lease is renewed
                    // when it is back (or, fifteen seconds on, another node takes over).
                    Err(e) => {
                        tracing::warn!(camera = %camera.id, error = %e, "camera lease not renewed")
                    }
                }
                if is_saved(camera) {
                    placed = Placed::Here;
                }
                continue;
            }
            if let Some(h) = holder.filter(|h| h.node_id != node.id()) {
                if is_saved(camera) {
                    placed = Placed::Elsewhere(h.clone());
                }
                continue;
            }
            let ours = holder.is_some();
            let room = lock(&self.running).len() < app.max_streams;
            let due = ours || mine < share || unclaimed_before.contains(&camera.id);
            if !(room && due) {
                unclaimed.insert(camera.id.clone());
                if is_saved(camera) {
                    placed = if !room && live == 1 {
                        Placed::Failed(StartError::TooMany(app.max_streams))
                    } else {
                        Placed::Pending
                    };
                }
                continue;
            }
            if !db.write(|c| cluster::hold(c, &lease(&camera.id), node))? {
                // Another node took it between our read and now.
                continue;
            }
            match self.start(common, app, camera.clone()) {
                Ok(()) => {
                    mine += 1;
                    if is_saved(camera) {
                        placed = Placed::Here;
                    }
                }
                Err(e) => {
                    db.write(|c| cluster::release(c, &lease(&camera.id), node))?;
                    if is_saved(camera) {
                        placed = if live == 1 {
                            Placed::Failed(e)
                        } else {
                            Placed::Pending
                        };
                    } else {
                        tracing::warn!(camera = %camera.id, error = ?e, "camera not started");
                    }
                }
            }
        }
        *lock(&self.unclaimed) = unclaimed;
        Ok(placed)
    }

    /// How many cameras run here.
    pub fn running_count(&self) -> usize {
        lock(&self.running).len()
    }

    /// The status of a camera running (or stopped) on this node.
    pub fn status(&self, id: &str) -> Option<StatusView> {
        if let Some(r) = lock(&self.running).get(id) {
            return Some(r.status.view());
        }
        lock(&self.stopped).get(id).map(|s| s.view())
    }

    /// Whether the camera runs on this node.
    pub fn runs_here(&self, id: &str) -> bool {
        lock(&self.running).contains_key(id)
    }

    /// The live view of a camera running here.
    pub fn live(&self, id: &str) -> Option<Arc<super::live::LiveView>> {
        lock(&self.running).get(id).map(|r| r.status.live.clone())
    }

    /// Hands a pushed frame to a camera (`Closed` when it is not running).
    pub fn push(&self, id: &str, frame: Frame) -> source::Offered {
        let running = lock(&self.running);
        match running.get(id) {
            Some(r) => {
                r.status.running();
                source::offer(&r.queue, &r.status, frame)
            }
            None => source::Offered::Closed,
        }
    }
}

/// Runs a placement round every [`cluster::RENEW_EVERY`] until the server stops: renews this
/// node's leases, picks up cameras saved or freed on other nodes, restarts changed ones.
pub async fn keep_placed(state: crate::state::AppState) {
    let token = state.common().shutdown().token.clone();
    let mut tick = tokio::time::interval(cluster::RENEW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = token.cancelled() => return,
            _ = tick.tick() => {}
        }
        let s = state.clone();
        // Starting and stopping join threads: off the async workers. Not through the
        // request gates: a busy server still renews its leases.
        let round =
            tokio::task::spawn_blocking(move || s.cameras().place(s.common(), s.config(), None))
                .await;
        match round {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "camera placement round failed; next in 5 s"),
            Err(e) => tracing::error!(error = %e, "camera placement round panicked"),
        }
    }
}

/// Backoff between reconnections: 1 s doubling to 30 s; a source that ran for a minute
/// starts again from 1 s.
fn supervise(
    camera: Camera,
    policy: SourcePolicy,
    limits: faceprint::ImageLimits,
    queue: SyncSender<Frame>,
    status: Arc<CameraStatus>,
    stop: Arc<AtomicBool>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let started = std::time::Instant::now();
        match source::run(&camera, &policy, &limits, &queue, &status, &stop) {
            Ended::Finished => {
                status.finished();
                return;
            }
            Ended::Stopped => return,
            Ended::Broken(error) => {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                // ffmpeg's words may quote the URL: its user:password never reaches the log
                // or the status.
                let error = faceprint_server::outbound::redact_in(
                    &error,
                    camera.source.as_deref().unwrap_or_default(),
                );
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
            // Where the source may point: SourcePolicy::check, in `save`.
            (_, Some(_)) => Ok(()),
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

/// Saves a camera (new when `id` is None) and places it at once: it starts here, or on the
/// node that runs it or has fewer cameras (within five seconds), or stops when disabled.
pub async fn save(
    state: &AppState,
    caller: &Caller,
    actor: &str,
    id: Option<&str>,
    input: CameraInput,
) -> ApiResult<Camera> {
    let mut input = input;
    input.check()?;
    let created_ms = match id {
        Some(id) => {
            let stored = get(state, id).await?;
            // A camera saved back as it was shown keeps the credentials it was shown without.
            if let (Some(shown), Some(kept)) = (&input.source, &stored.source) {
                if faceprint_server::outbound::is_redacted_form_of(shown, kept) {
                    input.source = stored.source.clone();
                }
            }
            stored.created_ms
        }
        None => faceprint_server::db::now_ms(),
    };
    if let Some(source) = input.source.clone() {
        let (policy, kind) = (state.cameras().policy().clone(), input.kind);
        tokio::task::spawn_blocking(move || policy.check(kind, &source))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| ApiError::new(axum::http::StatusCode::BAD_REQUEST, "source_refused", e))?;
    }
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
    if let Placed::Failed(e) = place(state, Some(&camera.id)).await? {
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

/// A placement round now (`saved`: the camera whose outcome the caller wants).
async fn place(state: &AppState, saved: Option<&str>) -> ApiResult<Placed> {
    let (s, saved) = (state.clone(), saved.map(str::to_string));
    // Starting and stopping join threads: off the async workers.
    Ok(state
        .common()
        .blocking(move || s.cameras().place(s.common(), s.config(), saved.as_deref()))
        .await??)
}

pub async fn get(state: &AppState, id: &str) -> ApiResult<Camera> {
    let i = id.to_string();
    state
        .common()
        .db(move |c| crate::repo::cameras::get(c, &i))
        .await?
        .ok_or_else(|| ApiError::not_found("no such camera"))
}

/// Deletes a camera: it stops here at once, and within five seconds on the node that runs it.
pub async fn delete(state: &AppState, caller: &Caller, actor: &str, id: &str) -> ApiResult<()> {
    get(state, id).await?;
    let i = id.to_string();
    state
        .common()
        .db(move |c| crate::repo::cameras::delete(c, &i))
        .await?;
    place(state, None).await?;
    state
        .common()
        .audit(caller.done("delete_camera", actor, format!("camera:{id}")))
        .await
}

/// A camera's status, from the node that runs it: this one, or the lease holder asked in
/// turn (`relayed`: the request came from another node, which must not be asked back).
pub async fn status(
    state: &AppState,
    id: &str,
    headers: &axum::http::HeaderMap,
) -> ApiResult<StatusView> {
    get(state, id).await?;
    if state.cameras().runs_here(id) {
        return Ok(local_status(state, id).unwrap_or_else(|| stopped_view(id)));
    }
    let holder = holder_of(state, id, headers).await?;
    match holder {
        Some(h) => {
            // Ids are the UUIDs `save` made (`get` found it): safe in a path as they are.
            let answer = match cluster::relay(&h, &format!("/stream/status/{id}"), headers).await {
                Ok(a) if a.status().is_success() => a,
                _ => return Ok(unreachable_view(id, &h)),
            };
            let bytes = axum::body::to_bytes(answer.into_body(), 1 << 20)
                .await
                .map_err(ApiError::internal)?;
            Ok(serde_json::from_slice(&bytes).unwrap_or_else(|_| unreachable_view(id, &h)))
        }
        // Stopped here (a played-out file keeps its counts) or nowhere.
        None => Ok(local_status(state, id).unwrap_or_else(|| stopped_view(id))),
    }
}

/// Every camera's status: this node's own, and one relayed call to each other node that runs
/// some of them (a node that does not answer shows its cameras `unreachable`).
pub async fn status_all(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> ApiResult<Vec<StatusView>> {
    let all = state.common().db(crate::repo::cameras::list).await?;
    let relayed = headers.contains_key(cluster::RELAYED);
    let held = if relayed {
        HashMap::new()
    } else {
        leases(state).await?
    };
    let mut remote: HashMap<String, HashMap<String, StatusView>> = HashMap::new();
    for h in held.values() {
        if remote.contains_key(&h.node_url) || h.node_id == state.common().node().id() {
            continue;
        }
        let views = match cluster::relay(h, "/stream/status", headers).await {
            Ok(r) if r.status().is_success() => axum::body::to_bytes(r.into_body(), 16 << 20)
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<Vec<StatusView>>(&b).ok())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        remote.insert(
            h.node_url.clone(),
            views
                .into_iter()
                .map(|v| (v.camera_id.clone(), v))
                .collect(),
        );
    }
    Ok(all
        .iter()
        .map(|c| {
            if let Some(v) = local_status(state, &c.id).filter(|v| v.node.is_some()) {
                return v;
            }
            match held.get(&c.id) {
                Some(h) if h.node_id != state.common().node().id() => remote
                    .get(&h.node_url)
                    .and_then(|views| views.get(&c.id).cloned())
                    .unwrap_or_else(|| unreachable_view(&c.id, h)),
                _ => local_status(state, &c.id).unwrap_or_else(|| stopped_view(&c.id)),
            }
        })
        .collect())
}

/// Where a camera's live view is: `None` here, or the node to relay to.
pub async fn live_node(
    state: &AppState,
    id: &str,
    headers: &axum::http::HeaderMap,
) -> ApiResult<Option<Holder>> {
    get(state, id).await?;
    if state.cameras().runs_here(id) {
        return Ok(None);
    }
    holder_of(state, id, headers)
        .await?
        .map(Some)
        .ok_or_else(|| ApiError::conflict("camera_stopped", "the camera is not running"))
}

/// The status of a camera running here, naming this node; a stopped one without a node.
fn local_status(state: &AppState, id: &str) -> Option<StatusView> {
    let mut view = state.cameras().status(id)?;
    if state.cameras().runs_here(id) {
        view.node = Some(state.common().node().url().to_string());
    }
    Some(view)
}

/// The other node holding the camera's lease, unless the request was relayed already.
async fn holder_of(
    state: &AppState,
    id: &str,
    headers: &axum::http::HeaderMap,
) -> ApiResult<Option<Holder>> {
    if headers.contains_key(cluster::RELAYED) {
        return Ok(None);
    }
    let me = state.common().node().id().to_string();
    Ok(leases(state).await?.remove(id).filter(|h| h.node_id != me))
}

/// The pull cameras' leases: camera id → holder.
async fn leases(state: &AppState) -> ApiResult<HashMap<String, Holder>> {
    let held = state
        .common()
        .db(|c| cluster::held(c, LEASE_PREFIX))
        .await?;
    Ok(held
        .into_iter()
        .map(|(name, h)| (name[LEASE_PREFIX.len()..].to_string(), h))
        .collect())
}

pub fn stopped_view(id: &str) -> StatusView {
    let s = CameraStatus::new(id);
    s.stopped();
    s.view()
}

fn unreachable_view(id: &str, on: &Holder) -> StatusView {
    let mut view = CameraStatus::new(id).view();
    view.state = super::status::SourceState::Unreachable;
    view.node = Some(on.node_url.clone());
    view
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
