//! A camera's live status, written by its source and pipeline threads, read by the status
//! routes: counters are atomics, the rest sits behind short locks. Each count also goes to
//! `/metrics` (`faceprint_camera_*{camera="…"}`), with `faceprint_camera_up` (1 while frames
//! come or are awaited), for alerts on a camera that stopped delivering.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use utoipa::ToSchema;

/// What a camera is doing.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// Opening the source.
    Starting,
    /// Frames are arriving.
    Running,
    /// The source broke; the next try is scheduled (see `retry_in_ms`).
    Reconnecting,
    /// A file or directory was played to its end.
    Finished,
    /// Disabled, or the server is stopping.
    Stopped,
    /// Waiting for pushed frames.
    Waiting,
    /// Runs on another node (`node`), which did not answer just now.
    Unreachable,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrackView {
    pub track_id: u64,
    pub bbox: [f32; 4],
    /// The employee when identified.
    pub employee_id: Option<String>,
    pub name: Option<String>,
    pub score: Option<f32>,
}

/// `GET /stream/status/{camera}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusView {
    pub camera_id: String,
    pub state: SourceState,
    /// The node running the camera (its `server.node_url`), when one does. Several nodes on
    /// one database share the pull cameras; every node runs the push cameras.
    pub node: Option<String>,
    /// Frames received per second, over the last few seconds.
    pub fps_in: f32,
    /// Frames run through detection per second.
    pub fps_processed: f32,
    pub frames_in: u64,
    pub frames_processed: u64,
    /// Frames dropped because the pipeline was behind (or unreadable).
    pub frames_dropped: u64,
    /// Faces being tracked now.
    pub tracks: Vec<TrackView>,
    /// Tracks the camera has followed since it started.
    pub tracks_total: u64,
    pub records_written: u64,
    /// Tracks that ended without matching anyone.
    pub unknown_tracks: u64,
    /// Tracks that matched an employee but failed passive liveness (not recorded).
    pub spoof_tracks: u64,
    pub reconnects: u32,
    pub retry_in_ms: Option<u64>,
    pub last_error: Option<String>,
    pub last_frame_ms: Option<i64>,
    /// The ffmpeg process decoding the source, while it runs.
    pub decoder_pid: Option<u32>,
}

impl StatusView {
    /// What a viewer sees: that the source failed, not why (a reason could tell what answers
    /// at an address, or whether a file exists; admins see it, credentials redacted).
    pub fn for_viewer(mut self) -> StatusView {
        if self.last_error.is_some() {
            self.last_error = Some("the camera's source failed (an admin sees why)".into());
        }
        self
    }
}

pub struct CameraStatus {
    camera_id: String,
    /// The annotated frames for viewers.
    pub live: std::sync::Arc<super::live::LiveView>,
    state: Mutex<(SourceState, Option<u64>)>,
    last_error: Mutex<Option<String>>,
    tracks: Mutex<Vec<TrackView>>,
    rate: Mutex<Rates>,
    frames_in: AtomicU64,
    processed: AtomicU64,
    dropped: AtomicU64,
    tracks_total: AtomicU64,
    records: AtomicU64,
    unknown: AtomicU64,
    spoofs: AtomicU64,
    reconnects: AtomicU32,
    last_frame_ms: AtomicI64,
    pid: AtomicU32,
}

/// Frame rates over a sliding window of about five seconds.
struct Rates {
    window_start: Instant,
    counts: (u64, u64),
    fps: (f32, f32),
}

impl CameraStatus {
    pub fn new(camera_id: &str) -> CameraStatus {
        CameraStatus {
            camera_id: camera_id.to_string(),
            live: Default::default(),
            state: Mutex::new((SourceState::Starting, None)),
            last_error: Mutex::new(None),
            tracks: Mutex::new(Vec::new()),
            rate: Mutex::new(Rates {
                window_start: Instant::now(),
                counts: (0, 0),
                fps: (0.0, 0.0),
            }),
            frames_in: AtomicU64::new(0),
            processed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            tracks_total: AtomicU64::new(0),
            records: AtomicU64::new(0),
            unknown: AtomicU64::new(0),
            spoofs: AtomicU64::new(0),
            reconnects: AtomicU32::new(0),
            last_frame_ms: AtomicI64::new(0),
            pid: AtomicU32::new(0),
        }
    }

    fn roll(&self, input: u64, processed: u64) {
        if let Ok(mut r) = self.rate.lock() {
            r.counts.0 += input;
            r.counts.1 += processed;
            let elapsed = r.window_start.elapsed().as_secs_f32();
            if elapsed >= 5.0 {
                r.fps = (r.counts.0 as f32 / elapsed, r.counts.1 as f32 / elapsed);
                r.counts = (0, 0);
                r.window_start = Instant::now();
            }
        }
    }

    pub fn frame_in(&self) {
        self.frames_in.fetch_add(1, Ordering::Relaxed);
        self.count("faceprint_camera_frames_in_total");
        self.last_frame_ms
            .store(faceprint_server::db::now_ms(), Ordering::Relaxed);
        self.roll(1, 0);
    }

    pub fn processed(&self) {
        self.processed.fetch_add(1, Ordering::Relaxed);
        self.count("faceprint_camera_frames_processed_total");
        self.roll(0, 1);
    }

    pub fn dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        self.count("faceprint_camera_frames_dropped_total");
    }

    pub fn track_started(&self, n: u64) {
        self.tracks_total.fetch_add(n, Ordering::Relaxed);
    }

    pub fn record_written(&self) {
        self.records.fetch_add(1, Ordering::Relaxed);
        self.count("faceprint_camera_records_total");
    }

    pub fn unknown_track(&self) {
        self.unknown.fetch_add(1, Ordering::Relaxed);
        self.count("faceprint_camera_unknown_tracks_total");
    }

    pub fn spoof_track(&self) {
        self.spoofs.fetch_add(1, Ordering::Relaxed);
        self.count("faceprint_camera_spoof_tracks_total");
    }

    pub fn tracks(&self) -> Vec<TrackView> {
        self.tracks.lock().map(|t| t.clone()).unwrap_or_default()
    }

    pub fn set_tracks(&self, tracks: Vec<TrackView>) {
        if let Ok(mut t) = self.tracks.lock() {
            *t = tracks;
        }
    }

    fn set_state(&self, state: SourceState, retry_in_ms: Option<u64>) {
        if let Ok(mut s) = self.state.lock() {
            *s = (state, retry_in_ms);
        }
        let up = matches!(state, SourceState::Running | SourceState::Waiting);
        metrics::gauge!("faceprint_camera_up", "camera" => self.camera_id.clone()).set(if up {
            1.0
        } else {
            0.0
        });
    }

    fn count(&self, name: &'static str) {
        metrics::counter!(name, "camera" => self.camera_id.clone()).increment(1);
    }

    pub fn running(&self) {
        self.set_state(SourceState::Running, None);
    }

    pub fn waiting(&self) {
        self.set_state(SourceState::Waiting, None);
    }

    pub fn finished(&self) {
        self.set_state(SourceState::Finished, None);
    }

    pub fn stopped(&self) {
        self.set_state(SourceState::Stopped, None);
    }

    pub fn reconnecting(&self, error: String, retry_in_ms: u64) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
        self.count("faceprint_camera_reconnects_total");
        self.error(error);
        self.set_state(SourceState::Reconnecting, Some(retry_in_ms));
    }

    pub fn error(&self, error: String) {
        self.count("faceprint_camera_errors_total");
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(error);
        }
    }

    pub fn is_finished(&self) -> bool {
        self.state
            .lock()
            .map(|s| s.0 == SourceState::Finished)
            .unwrap_or(false)
    }

    pub fn set_pid(&self, pid: Option<u32>) {
        self.pid.store(pid.unwrap_or(0), Ordering::Relaxed);
    }

    pub fn view(&self) -> StatusView {
        let (state, retry_in_ms) = self
            .state
            .lock()
            .map(|s| *s)
            .unwrap_or((SourceState::Stopped, None));
        // Until the first five-second window closes, the rate so far.
        let fps = self
            .rate
            .lock()
            .map(|r| {
                let elapsed = r.window_start.elapsed().as_secs_f32();
                if r.fps == (0.0, 0.0) && elapsed >= 1.0 {
                    (r.counts.0 as f32 / elapsed, r.counts.1 as f32 / elapsed)
                } else {
                    r.fps
                }
            })
            .unwrap_or((0.0, 0.0));
        let last = self.last_frame_ms.load(Ordering::Relaxed);
        let pid = self.pid.load(Ordering::Relaxed);
        StatusView {
            camera_id: self.camera_id.clone(),
            state,
            node: None,
            fps_in: fps.0,
            fps_processed: fps.1,
            frames_in: self.frames_in.load(Ordering::Relaxed),
            frames_processed: self.processed.load(Ordering::Relaxed),
            frames_dropped: self.dropped.load(Ordering::Relaxed),
            tracks: self.tracks.lock().map(|t| t.clone()).unwrap_or_default(),
            tracks_total: self.tracks_total.load(Ordering::Relaxed),
            records_written: self.records.load(Ordering::Relaxed),
            unknown_tracks: self.unknown.load(Ordering::Relaxed),
            spoof_tracks: self.spoofs.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            retry_in_ms,
            last_error: self.last_error.lock().ok().and_then(|e| e.clone()),
            last_frame_ms: (last > 0).then_some(last),
            decoder_pid: (pid > 0).then_some(pid),
        }
    }
}
