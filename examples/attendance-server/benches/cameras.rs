//! How many 5-fps cameras one machine sustains, end to end: N file cameras play the tests'
//! synthetic scene (LFW faces walking in and out of a 640x480 view, H.264) through the real
//! source path — one ffmpeg child per camera decoding at the file's own pace into a pipe, the
//! bounded frame queue, the pipeline, the records — all at once. A camera count is sustained
//! when every camera received every frame, dropped none, and wrote every visit. CPU is this
//! process plus its ffmpeg children (getrusage), over the wall time of the run.
//!
//!   cargo bench -p faceprint-attendance-server --bench cameras [-- N N ...]   (default 8 16 24 32 40)

#[path = "../tests/scene/mod.rs"]
mod scene;
#[path = "../tests/site/mod.rs"]
mod site;

use scene::{lfw, Visit};
use serde_json::json;
use site::Site;
use std::time::{Duration, Instant};

/// CPU seconds of this process and of its reaped children (the ffmpeg decoders).
fn cpu_secs() -> f64 {
    let mut total = 0.0;
    for who in [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN] {
        // SAFETY: getrusage(2) fills the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut u) };
        total += u.ru_utime.tv_sec as f64
            + u.ru_utime.tv_usec as f64 / 1e6
            + u.ru_stime.tv_sec as f64
            + u.ru_stime.tv_usec as f64 / 1e6;
    }
    total
}

struct Outcome {
    cameras: usize,
    frames_expected: u64,
    frames_in: u64,
    dropped: u64,
    complete: usize,
    cores: f64,
    wall: f64,
    /// What went wrong on cameras that missed a visit: records written, last error.
    trouble: Vec<String>,
}

async fn run(
    site: &Site,
    video: &std::path::Path,
    frames: u64,
    n: usize,
    visits: usize,
) -> Outcome {
    let cpu0 = cpu_secs();
    let start = Instant::now();
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            site.camera(
                &format!("cam-{n}-{i}"),
                json!({"kind": "file", "source": video, "settings": {"fps": 5, "width": 640, "liveness": false}}),
            )
            .await,
        );
    }
    let mut statuses = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(frames / 5 * 4 + 60);
    loop {
        statuses.clear();
        for id in &ids {
            statuses.push(site.status(id).await);
        }
        if statuses.iter().all(|s| {
            s["state"] == "finished" && s["tracks"].as_array().is_some_and(|t| t.is_empty())
        }) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cameras did not finish: {:?}",
            statuses
                .iter()
                .map(|s| s["state"].clone())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let wall = start.elapsed().as_secs_f64();
    let cores = (cpu_secs() - cpu0) / wall;
    let mut complete = 0;
    let mut trouble = Vec::new();
    for (id, status) in ids.iter().zip(&statuses) {
        let r = site
            .client
            .get(&format!("/api/records?camera_id={id}"), Some(&site.token))
            .await;
        let written = r.json.as_array().map_or(0, |a| a.len());
        if written == visits {
            complete += 1;
        } else {
            trouble.push(format!(
                "{written} records, last error {}",
                status["last_error"]
            ));
        }
        let d = site
            .client
            .delete(&format!("/api/cameras/{id}"), Some(&site.token))
            .await;
        assert!(d.status.is_success(), "{}", d.text);
    }
    Outcome {
        cameras: n,
        frames_expected: frames * n as u64,
        frames_in: statuses
            .iter()
            .map(|s| s["frames_in"].as_u64().unwrap_or(0))
            .sum(),
        dropped: statuses
            .iter()
            .map(|s| s["frames_dropped"].as_u64().unwrap_or(0))
            .sum(),
        complete,
        cores,
        wall,
        trouble,
    }
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![8, 16, 24, 32, 40]
    } else {
        counts
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let site = Site::new(|c| {
            c.app.cooldown_secs = 4;
            c.app.max_streams = 256;
        })
        .await;
        for person in ["Colin_Powell", "Tony_Blair", "Donald_Rumsfeld"] {
            site.employee(person, &[lfw(person, 1), lfw(person, 2)]).await;
        }
        // 30 s at 5 fps: three visits, two of them overlapping, and a stranger.
        let visits = vec![
            Visit { person: "Colin_Powell", photo: lfw("Colin_Powell", 10), start: 5, end: 50, from: (-20.0, 40.0), to: (480.0, 70.0) },
            Visit { person: "Tony_Blair", photo: lfw("Tony_Blair", 10), start: 40, end: 90, from: (500.0, 250.0), to: (10.0, 230.0) },
            Visit { person: "Ariel_Sharon", photo: lfw("Ariel_Sharon", 3), start: 95, end: 115, from: (60.0, 200.0), to: (420.0, 180.0) },
            Visit { person: "Donald_Rumsfeld", photo: lfw("Donald_Rumsfeld", 10), start: 105, end: 145, from: (480.0, 30.0), to: (150.0, 60.0) },
        ];
        let frames = 150;
        let video = site.dir().join("scene.mp4");
        scene::encode(&visits, frames, &video);
        println!("{} cores; each camera: 640x480 H.264 at 5 fps, {frames} frames ({} s), 3 enrolled visits + a stranger, ffmpeg decoding, detection on every frame",
            std::thread::available_parallelism().map_or(0, |n| n.get()), frames / 5);
        println!("{:>8} {:>16} {:>8} {:>18} {:>10} {:>8}  verdict", "cameras", "frames in", "dropped", "all visits written", "CPU cores", "wall s");
        let mut best = 0;
        for n in counts {
            let o = run(&site, &video, frames as u64, n, 3).await;
            let ok = o.frames_in == o.frames_expected && o.dropped == 0 && o.complete == o.cameras;
            if ok {
                best = best.max(o.cameras);
            }
            println!(
                "{:>8} {:>16} {:>8} {:>18} {:>10.2} {:>8.1}  {}",
                o.cameras,
                format!("{}/{}", o.frames_in, o.frames_expected),
                o.dropped,
                format!("{}/{}", o.complete, o.cameras),
                o.cores,
                o.wall,
                if ok { "sustained" } else { "NOT sustained" }
            );
            for t in o.trouble.iter().take(3) {
                println!("         {t}");
            }
        }
        println!("most 5-fps cameras sustained with no frame lost and every visit written: {best}");
    });
}
