//! Sources that fail: a decoder killed mid-stream is reported and restarted while the other
//! cameras keep running; a URL that does not answer is retried with growing pauses and says why.

mod scene;
mod site;

use scene::{lfw, Visit};
use serde_json::{json, Value};
use site::Site;
use std::time::{Duration, Instant};

async fn wait_for(site: &Site, camera: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = site.status(camera).await;
        if ok(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "waited 60 s for {what}: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_decoder_is_restarted_and_a_dead_url_retried_while_others_run() {
    let site = Site::new(|_| {}).await;
    let visits = vec![Visit {
        person: "Tony_Blair",
        photo: lfw("Tony_Blair", 10),
        start: 0,
        end: 150,
        from: (40.0, 100.0),
        to: (440.0, 120.0),
    }];
    let video = site.dir().join("long.mp4");
    scene::encode(&visits, 150, &video);
    let a = site
        .camera(
            "a",
            json!({"kind": "file", "source": video, "settings": {"liveness": false}}),
        )
        .await;
    let b = site
        .camera(
            "b",
            json!({"kind": "file", "source": video, "settings": {"liveness": false}}),
        )
        .await;
    let dead = site
        .camera(
            "gate",
            json!({"kind": "url", "source": "http://127.0.0.1:9/stream.mjpg"}),
        )
        .await;

    let running = wait_for(&site, &a, "camera a to run", |s| {
        s["state"] == "running" && s["decoder_pid"].is_u64() && s["frames_in"].as_u64() > Some(5)
    })
    .await;
    // The live view: MJPEG parts, each a 640x480 JPEG.
    let jpegs = site.live_frames(&a, 2).await;
    for jpeg in &jpegs {
        let img = image::load_from_memory(jpeg).expect("a JPEG part");
        assert_eq!((img.width(), img.height()), (640, 480));
    }
    let pid = running["decoder_pid"].as_u64().unwrap() as i32;
    let b_before = site.status(&b).await["frames_processed"].as_u64().unwrap();
    // SAFETY: kill(2) on a child process of this test, by its pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let broken = wait_for(&site, &a, "the kill to be noticed", |s| {
        s["reconnects"].as_u64() >= Some(1)
    })
    .await;
    println!("after the kill: {broken}");
    assert_eq!(
        broken["last_error"], "ffmpeg was killed (signal 9)",
        "{broken}"
    );
    let back = wait_for(&site, &a, "camera a to run again", |s| {
        s["state"] == "running" && s["decoder_pid"].as_u64().is_some_and(|p| p as i32 != pid)
    })
    .await;
    assert_eq!(back["reconnects"], 1, "{back}");
    // Camera b ran through it.
    let b_after = site.status(&b).await;
    assert_eq!(b_after["reconnects"], 0, "{b_after}");
    assert!(
        b_after["frames_processed"].as_u64().unwrap() > b_before + 3,
        "{b_after}"
    );

    // Nothing listens on port 9: refused, retried with backoff, the reason shown.
    let gate = wait_for(&site, &dead, "the dead URL to be retried", |s| {
        s["reconnects"].as_u64() >= Some(2)
    })
    .await;
    println!("dead URL: {gate}");
    assert!(
        gate["state"] == "reconnecting" || gate["state"] == "starting",
        "{gate}"
    );
    let error = gate["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        error.contains("refused") || error.contains("connect"),
        "{gate}"
    );
    assert_eq!(gate["frames_in"], 0);

    // Deleting a camera stops its threads and its ffmpeg.
    for id in [&a, &b, &dead] {
        let r = site
            .client
            .delete(&format!("/api/cameras/{id}"), Some(&site.token))
            .await;
        assert_eq!(r.status, axum::http::StatusCode::NO_CONTENT, "{}", r.text);
    }
    assert_eq!(
        unsafe { libc::kill(back["decoder_pid"].as_u64().unwrap() as i32, 0) },
        -1,
        "ffmpeg outlived its camera"
    );
}
