//! Camera pipeline throughput at 640x480 (ONNX Runtime with one intra-op thread per call, as
//! the server runs it): frames per second one pipeline processes with detection on every frame
//! and on every 3rd, with two people walking in view and with nobody in view (against the
//! detector alone on the same frames), and how many 5-fps cameras two pipelines side by side
//! sustain. Frames come from the tests' synthetic scene (LFW faces), already decoded: ffmpeg's
//! decoding runs in its own process and is not counted here.
//!
//!   cargo bench -p faceprint-attendance-server --bench throughput [-- SECONDS]

#[path = "../tests/scene/mod.rs"]
mod scene;

use faceprint::{EnrollOptions, Image};
use faceprint_attendance_server::config::Config;
use faceprint_attendance_server::repo::cameras::{Camera, CameraRole, CameraSettings, SourceKind};
use faceprint_attendance_server::service::pipeline::Pipeline;
use faceprint_attendance_server::service::source::Frame;
use faceprint_attendance_server::service::status::CameraStatus;
use faceprint_attendance_server::state::AppState;
use scene::{lfw, Visit};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn frames(visits: &[Visit], n: u32) -> Vec<Image> {
    let patches: Vec<_> = visits.iter().map(|v| scene::patch(&v.photo)).collect();
    (0..n)
        .map(|i| {
            let f = scene::frame(i, visits, &patches);
            Image::from_rgb(f.width(), f.height(), f.into_raw()).unwrap()
        })
        .collect()
}

fn camera(every: u32) -> Camera {
    Camera {
        id: format!("bench-{every}"),
        name: "bench".into(),
        kind: SourceKind::Push,
        source: None,
        role: CameraRole::Any,
        settings: CameraSettings {
            process_every: every,
            liveness: true,
            ..CameraSettings::default()
        },
        enabled: true,
        created_ms: 0,
    }
}

/// Input frames per second one pipeline gets through in `budget`, cycling over `images`.
fn run(state: &AppState, images: &[Image], every: u32, budget: Duration) -> f64 {
    let status = Arc::new(CameraStatus::new("bench"));
    let mut p = Pipeline::new(state.common(), camera(every), state.config(), status).unwrap();
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed() < budget {
        let frame = Frame {
            image: images[n % images.len()].clone(),
            at_ms: faceprint_server::db::now_ms(),
        };
        p.process(frame).unwrap();
        n += 1;
    }
    p.finish().unwrap();
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let secs: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20);
    let budget = Duration::from_secs(secs);
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_testing(dir.path());
    config.log.level = "error".into();
    let state = faceprint_attendance_server::open_state(&config).unwrap();
    let engine = state.common().engine().clone();
    for person in ["Colin_Powell", "Tony_Blair"] {
        let photos: Vec<Image> = [1, 3]
            .iter()
            .map(|&n| {
                engine
                    .open(faceprint_server::testing::data(&lfw(person, n)))
                    .unwrap()
            })
            .collect();
        engine
            .enroll("employees", person, &photos, &EnrollOptions::default())
            .unwrap();
    }
    let busy = frames(
        &[
            Visit {
                person: "Colin_Powell",
                photo: lfw("Colin_Powell", 10),
                start: 0,
                end: 99,
                from: (-20.0, 40.0),
                to: (480.0, 70.0),
            },
            Visit {
                person: "Tony_Blair",
                photo: lfw("Tony_Blair", 10),
                start: 0,
                end: 99,
                from: (500.0, 250.0),
                to: (10.0, 230.0),
            },
        ],
        100,
    );
    let empty = frames(&[], 20);

    // The detector alone on the empty frames (one pass, as the pipeline runs it): the floor a
    // pipeline with nobody in view pays.
    let one_pass = faceprint::DetectionOptions {
        crop_retry_margin: 0.0,
        rotation_search: false,
        ..engine.config().detection
    };
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < budget / 2 {
        engine
            .detect_with(&empty[n % empty.len()], &one_pass)
            .unwrap();
        n += 1;
    }
    let detect_only = n as f64 / start.elapsed().as_secs_f64();

    let every_1 = run(&state, &busy, 1, budget);
    let every_3 = run(&state, &busy, 3, budget);
    let nobody = run(&state, &empty, 1, budget / 2);
    // Two pipelines at once (two cameras), each on its own thread.
    let both: f64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| s.spawn(|| run(&state, &busy, 1, budget)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    println!("camera pipeline, 640x480, one intra-op thread per model call, {secs} s per run");
    println!("  two people in view, detection on every frame:   {every_1:7.1} frames/s (one core)");
    println!(
        "  two people in view, detection on every 3rd:     {every_3:7.1} frames/s in (one core)"
    );
    println!(
        "  nobody in view, every frame:                    {nobody:7.1} frames/s ({:.1} ms/frame)",
        1000.0 / nobody
    );
    println!("  the detector alone on the same empty frames:    {detect_only:7.1} frames/s ({:.1} ms/frame)", 1000.0 / detect_only);
    println!("  two pipelines side by side (2 cores), people:   {both:7.1} frames/s together");
    println!(
        "  5-fps cameras with people in view, every frame: {} on 2 cores ({} with every 3rd frame, estimated from the one-core ratio)",
        (both / 5.0).floor(),
        (both * every_3 / every_1 / 5.0).floor()
    );
}
