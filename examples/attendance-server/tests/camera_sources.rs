//! What an admin's camera may read (issue 33, finding 1 and part of 2), against the server as
//! its one command runs it. A Python `http.server` on loopback stands in for an internal
//! service holding a secret; a file holding another sits beside the data directory.
//! - Defaults: URLs to loopback, private, link-local and other internal addresses are refused
//!   (however the host is spelled), the server's own `/health?.asc` too; files and directories
//!   outside the media root are refused with one answer whether or not they exist, links out of
//!   it too.
//! - With `outbound.allow_private_networks` (LAN cameras): the internal page is fetched but
//!   never decoded as video (no ANSI-art demuxer), so no frame reaches the live view; a viewer
//!   sees that the source failed, not why.
//! - Credentials in a camera URL are shown as `***` to admins, and reach neither the status
//!   nor the log.

mod process;

use faceprint_server::testing::{free_port, start_server, Running};
use process::Api;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_faceprint-attendance");
const SECRET: &str = "db_password=hunter2-internal";
const CAMERA_PASSWORD: &str = "pw-7f3c91e2";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn staff(data: &Path, username: &str, role: &str, password: &str) {
    let mut c = Command::new(BIN)
        .args([
            "admin",
            "create",
            "--username",
            username,
            "--role",
            role,
            "--data",
        ])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    c.stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    assert!(c.wait().unwrap().success());
}

/// The server on `data` (its staff made first), its log in `data.log`.
async fn server(data: &Path, env: &[(&str, &str)]) -> Running {
    staff(data, "root", "admin", "a long test password");
    staff(data, "guard", "viewer", "the guard password");
    start_server(BIN, data, env).await
}

async fn status_of(api: &Api, camera: &str) -> Value {
    api.get(&format!("/stream/status/{camera}")).await
}

/// Waits until the camera's source has failed at least once, as an admin sees it.
async fn failed(api: &Api, camera: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = status_of(api, camera).await;
        if s["last_error"].is_string() && s["reconnects"].as_u64() >= Some(1) {
            return s;
        }
        assert!(Instant::now() < deadline, "no failure in 30 s: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The bytes the live view sends in `secs` seconds (the MJPEG parts), or its error status.
async fn live_bytes(api: &Api, camera: &str, secs: u64) -> Result<Vec<u8>, u16> {
    let r = api
        .http
        .get(format!("{}/stream/{camera}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    if !r.status().is_success() {
        return Err(r.status().as_u16());
    }
    let mut body = Vec::new();
    let mut stream = r;
    let until = tokio::time::Instant::now() + Duration::from_secs(secs);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(until, stream.chunk()).await {
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cameras_read_neither_internal_services_nor_files_outside_the_media_root() {
    let dir = tempfile::tempdir().unwrap();
    // The internal service: a page with a secret, on loopback.
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("internal.txt"), format!("{SECRET}\n")).unwrap();
    let web_port = free_port();
    let _web = Killed(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &web_port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .arg("--directory")
            .arg(&www)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // A secret file beside the data directory, as ANSI art would read it.
    let secret_file = dir.path().join("secret.asc");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();

    // ---- Defaults.
    let data = dir.path().join("data");
    let a = server(&data, &[]).await;
    let base = a.base.clone();
    let admin = Api::login(&base).await;
    let own_port = base.rsplit(':').next().unwrap();
    for source in [
        format!("http://127.0.0.1:{web_port}/internal.txt?x=.asc"),
        format!("http://127.0.0.1:{own_port}/health?.asc"),
        format!("http://localhost:{web_port}/internal.txt?x=.asc"),
        format!("http://127.1:{web_port}/internal.txt"),
        format!("http://0x7f000001:{web_port}/internal.txt"),
        format!("http://[::1]:{web_port}/internal.txt"),
        format!("http://[::ffff:127.0.0.1]:{web_port}/internal.txt"),
        "https://169.254.169.254/latest/meta-data/".to_string(),
        "rtsp://10.0.0.1/stream".to_string(),
        "http://192.168.1.20/video.mjpg".to_string(),
        "http://[fd00::1]/video.mjpg".to_string(),
    ] {
        let (code, body) = admin
            .try_post(
                "/api/cameras",
                json!({"name": "probe", "kind": "url", "source": source, "settings": {"fps": 25}}),
            )
            .await;
        assert_eq!(code, 400, "{source}: {body}");
        assert_eq!(body["error"], "source_refused", "{source}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("outbound.allow_private_networks"),
            "{source}: {body}"
        );
    }
    assert!(
        admin
            .get("/api/cameras")
            .await
            .as_array()
            .unwrap()
            .is_empty(),
        "a refused camera is not saved"
    );

    // Files and directories: outside the media root one answer, whether the path exists or
    // not (no oracle), and a link out of the root is outside.
    let media = data.join("media");
    std::os::unix::fs::symlink(&secret_file, media.join("door.mp4")).unwrap();
    std::fs::write(media.join("notes.asc"), format!("{SECRET}\n")).unwrap();
    let mut outside = Vec::new();
    for (kind, source) in [
        ("file", secret_file.to_str().unwrap().to_string()),
        ("file", "/no/such/place/video.mp4".to_string()),
        ("file", "/etc/passwd".to_string()),
        ("file", media.join("door.mp4").to_str().unwrap().to_string()),
        ("file", format!("{}/../../secret.asc", media.display())),
        ("file", "secret.asc".to_string()),
        ("dir", "/etc".to_string()),
        ("dir", "/no/such/dir".to_string()),
    ] {
        let (code, body) = admin
            .try_post(
                "/api/cameras",
                json!({"name": "probe", "kind": kind, "source": source}),
            )
            .await;
        assert_eq!(code, 400, "{kind} {source}: {body}");
        assert_eq!(body["error"], "source_refused", "{kind} {source}: {body}");
        outside.push((kind, body["message"].as_str().unwrap().to_string()));
    }
    for kind in ["file", "dir"] {
        let answers: std::collections::BTreeSet<_> = outside
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, m)| m.clone())
            .collect();
        assert_eq!(answers.len(), 1, "{kind}: {answers:?}");
    }
    // Inside the root, a text file named like ANSI art saves (it is in the admin's own media
    // directory) but never decodes: video demuxers only.
    let notes = admin
        .post(
            "/api/cameras",
            json!({"name": "notes", "kind": "file", "source": media.join("notes.asc"), "settings": {"liveness": false}}),
        )
        .await;
    let notes = notes["id"].as_str().unwrap().to_string();
    let s = failed(&admin, &notes).await;
    assert_eq!(s["frames_in"], 0, "{s}");
    assert!(
        s["last_error"].as_str().unwrap().contains("whitelist"),
        "{s}"
    );

    // ---- LAN cameras allowed: the page is fetched, never shown.
    let data_b = dir.path().join("data-b");
    let b = server(
        &data_b,
        &[("FACEPRINT_OUTBOUND__ALLOW_PRIVATE_NETWORKS", "true")],
    )
    .await;
    let base_b = b.base.clone();
    let admin_b = Api::login(&base_b).await;
    let viewer_b = Api::login_as(&base_b, "guard", "the guard password").await;
    let internal = admin_b
        .post(
            "/api/cameras",
            json!({"name": "internal", "kind": "url",
                   "source": format!("http://127.0.0.1:{web_port}/internal.txt?x=.asc"),
                   "settings": {"fps": 25, "liveness": false}}),
        )
        .await;
    let internal = internal["id"].as_str().unwrap().to_string();
    let s = failed(&admin_b, &internal).await;
    assert_eq!(s["frames_in"], 0, "{s}");
    assert!(
        s["last_error"].as_str().unwrap().contains("whitelist"),
        "{s}"
    );
    // What any viewer can watch: no frame (409 once stopped, or a stream with no part).
    match live_bytes(&viewer_b, &internal, 3).await {
        Ok(body) => assert!(
            !body.windows(2).any(|w| w == [0xff, 0xd8]),
            "the live view sent a JPEG of the internal page"
        ),
        Err(code) => assert_eq!(code, 409),
    }
    // A viewer learns that it failed, not why.
    let seen = status_of(&viewer_b, &internal).await;
    assert_eq!(
        seen["last_error"], "the camera's source failed (an admin sees why)",
        "{seen}"
    );
    let all = viewer_b.get("/stream/status").await;
    assert!(!all.to_string().contains("whitelist"), "{all}");

    // Credentials: shown as *** to admins, kept when saved back so, never in the status or
    // the log.
    let with_password = format!("http://cam:{CAMERA_PASSWORD}@127.0.0.1:9/video.mjpg");
    let cam = admin_b
        .post(
            "/api/cameras",
            json!({"name": "gate", "kind": "url", "source": with_password}),
        )
        .await;
    assert_eq!(cam["source"], "http://***@127.0.0.1:9/video.mjpg", "{cam}");
    let id = cam["id"].as_str().unwrap().to_string();
    let s = failed(&admin_b, &id).await;
    let listed = admin_b.get("/api/cameras").await;
    let viewed = viewer_b.get("/api/cameras").await;
    for shown in [&s, &listed, &viewed] {
        assert!(!shown.to_string().contains(CAMERA_PASSWORD), "{shown}");
    }
    // Saved back as shown: the stored password stays (checked in the database below).
    let put = admin_b
        .http
        .put(format!("{base_b}/api/cameras/{id}"))
        .bearer_auth(&admin_b.token)
        .json(&json!({"name": "gate 2", "kind": "url", "source": cam["source"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert!(
        put.text().await.unwrap().contains("***@127.0.0.1:9"),
        "shown redacted again"
    );
    let log_file = b.log.clone();
    drop(b);
    let db = rusqlite::Connection::open(data_b.join("server.db")).unwrap();
    let stored: String = db
        .query_row("SELECT source FROM cameras WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, with_password, "the stored credentials were kept");
    let mut log = String::new();
    std::fs::File::open(log_file)
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("camera source broke"), "the log says nothing");
    assert!(!log.contains(CAMERA_PASSWORD), "the password is in the log");
    assert!(!log.contains(SECRET), "the secret is in the log");
}
