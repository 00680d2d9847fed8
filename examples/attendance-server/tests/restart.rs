//! The server as its one command runs it: SIGKILL while a camera is recording a visit loses no
//! record the API has shown, and the restart resumes every enabled camera by itself.

mod process;
mod scene;

use faceprint_server::testing::{data, free_port, spawn_server, wait_ready};
use process::Api;
use scene::{lfw, Visit};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_faceprint-attendance");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_visit_loses_no_shown_record_and_restart_resumes_the_cameras() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    // The staff account through the command, as an operator makes it.
    let mut admin = Command::new(BIN)
        .args(["admin", "create", "--username", "root", "--data"])
        .arg(&data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    admin
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long test password\n")
        .unwrap();
    assert!(admin.wait().unwrap().success());

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = spawn_server(BIN, &data_dir, port);
    wait_ready(&base).await;
    let api = Api::login(&base).await;
    let e = api
        .post("/api/employees", json!({"name": "Colin Powell"}))
        .await;
    let id = e["id"].as_str().unwrap().to_string();
    let form = [1, 3]
        .iter()
        .fold(reqwest::multipart::Form::new(), |f, &n| {
            let bytes = std::fs::read(data(&lfw("Colin_Powell", n))).unwrap();
            f.part(
                "photo",
                reqwest::multipart::Part::bytes(bytes).file_name("p.jpg"),
            )
        });
    let r = api
        .http
        .post(format!("{base}/api/employees/{id}/faces"))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A visit that lasts the whole 40-second recording.
    // In the media root the server made (app.media_root's default).
    let video = data_dir.join("media").join("hall.mp4");
    scene::encode(
        &[Visit {
            person: "Colin_Powell",
            photo: lfw("Colin_Powell", 10),
            start: 2,
            end: 199,
            from: (60.0, 120.0),
            to: (420.0, 140.0),
        }],
        200,
        &video,
    );
    let camera = |name: &str| json!({"name": name, "kind": "file", "source": video, "settings": {"liveness": false}});
    let hall = api.post("/api/cameras", camera("hall")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let side = api.post("/api/cameras", camera("side door")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The record, as the API shows it: written and committed.
    let deadline = Instant::now() + Duration::from_secs(60);
    let shown = loop {
        let records = api.get(&format!("/api/records?camera_id={hall}")).await;
        if let Some(r) = records.as_array().and_then(|a| a.first()) {
            break r.clone();
        }
        assert!(Instant::now() < deadline, "no record in 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    server.kill().unwrap();
    server.wait().unwrap();

    let mut server = spawn_server(BIN, &data_dir, port);
    wait_ready(&base).await;
    let api = Api::login(&base).await;
    let records = api.get(&format!("/api/records?camera_id={hall}")).await;
    let again = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == shown["id"])
        .unwrap_or_else(|| panic!("record {shown} lost: {records}"));
    assert_eq!(again["employee_id"], json!(id));
    assert_eq!(again["first_seen_ms"], shown["first_seen_ms"]);
    // Both cameras run again without anyone asking.
    for cam in [&hall, &side] {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = api.get(&format!("/stream/status/{cam}")).await;
            if s["state"] == "running" && s["frames_processed"].as_u64() > Some(0) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "camera {cam} did not resume: {s}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // SIGTERM: a clean exit, the open visits written first.
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc::kill(server.id() as i32, libc::SIGTERM) }, 0);
    let status = server.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
}
