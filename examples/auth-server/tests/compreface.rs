//! The CompreFace-compatible API: every call of the real client, PyPI `compreface-sdk`
//! 0.6.0, against the server started by its one command; and tenants kept apart, rates and
//! quotas enforced, in-process.

mod common;

use axum::http::StatusCode;
use common::*;
use std::process::{Command, Stdio};

/// The venv `setup.sh` makes for this test.
fn sdk_python() -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.faceprint/compreface-venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run ./setup.sh (it installs compreface-sdk==0.6.0 there)",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_real_compreface_client_runs_every_call() {
    let bin = env!("CARGO_BIN_EXE_faceprint-auth");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = |collection: &str| {
        let out = Command::new(bin)
            .args(["api-key", "create", "--data"])
            .arg(&data)
            .args(["--collection", collection, "--rate", "6000/min"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["key"].as_str().unwrap().to_string()
    };
    let (a, b) = (key("tenant-a"), key("tenant-b"));
    let port = free_port();
    let server = Server(
        Command::new(bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Ready when /health/ready answers.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ =
                s.write_all(b"GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not become ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compreface/sdk_calls.py");
    let out = Command::new(sdk_python())
        .arg(&script)
        .args(["http://127.0.0.1", &port.to_string(), &a, &b])
        .arg(data_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"done\": true"), "{stdout}");
    let steps = std::fs::read_to_string(&script)
        .unwrap()
        .matches("step(\"")
        .count();
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains("\"ok\": true"))
            .count(),
        steps,
        "{stdout}"
    );
    drop(server);
}

fn data_root() -> std::path::PathBuf {
    data("")
}

#[tokio::test]
async fn keys_are_scoped_rated_and_metered() {
    let t = TestApp::new();
    let a = t.api_key("alpha", "6000/min", None);
    let b = t.api_key("beta", "6000/min", None);
    let add = t
        .post_form(
            "/api/v1/recognition/faces?subject=obama",
            Some(&a),
            &Form::new().file("file", photo(OBAMA)),
        )
        .await;
    assert_eq!(add.status, StatusCode::CREATED, "{}", add.text);
    let image_id = add.json["image_id"].as_str().unwrap().to_string();
    // Beta cannot see, verify against or delete alpha's example.
    assert_eq!(
        t.get("/api/v1/recognition/faces", Some(&b)).await.json["total_elements"],
        0
    );
    let v = t
        .post_form(
            &format!("/api/v1/recognition/faces/{image_id}/verify"),
            Some(&b),
            &Form::new().file("file", photo(OBAMA2)),
        )
        .await;
    assert_eq!((v.status, v.code()), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(
        t.delete(&format!("/api/v1/recognition/faces/{image_id}"), Some(&b))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = t
        .post_form(
            "/api/v1/recognition/recognize",
            Some(&b),
            &Form::new().file("file", photo(OBAMA2)),
        )
        .await;
    assert_eq!(
        r.json["result"][0]["subjects"],
        serde_json::json!([]),
        "{}",
        r.text
    );
    // Alpha does see it.
    let r = t
        .post_form(
            "/api/v1/recognition/recognize",
            Some(&a),
            &Form::new().file("file", photo(OBAMA2)),
        )
        .await;
    assert_eq!(
        r.json["result"][0]["subjects"][0]["subject"], "obama",
        "{}",
        r.text
    );
    // No key, a wrong key: 401. A user's JWT is not an API key.
    assert_eq!(
        t.get("/api/v1/recognition/subjects", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.get("/api/v1/recognition/subjects", Some("fpk_wrong"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Bad options.
    let r = t
        .post_form(
            "/api/v1/recognition/recognize?det_prob_threshold=7",
            Some(&a),
            &Form::new().file("file", photo(OBAMA2)),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_argument")
    );

    // A key's own rate: 429 with Retry-After once its burst is spent.
    let slow = t.api_key("gamma", "10/min", None);
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(
            t.get("/api/v1/recognition/subjects", Some(&slow))
                .await
                .status,
        );
    }
    assert_eq!(
        codes,
        [
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let r = t.get("/api/v1/recognition/subjects", Some(&slow)).await;
    assert!(r.headers.get("retry-after").is_some());
    // A daily quota: the call past it is refused until the next UTC day.
    let metered = t.api_key("delta", "6000/min", Some(2));
    for _ in 0..2 {
        assert_eq!(
            t.get("/api/v1/recognition/subjects", Some(&metered))
                .await
                .status,
            StatusCode::OK
        );
    }
    let r = t.get("/api/v1/recognition/subjects", Some(&metered)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "quota_exceeded")
    );
}
