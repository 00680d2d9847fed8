//! A test site: the attendance app over a temp data dir with an administrator signed in,
//! called in-process through the common crate's test client.
#![allow(dead_code)]

use axum::http::StatusCode;
use faceprint_attendance_server::config::Config;
use faceprint_attendance_server::state::AppState;
use faceprint_server::testing::{photo, Form, TestClient};
use serde_json::{json, Value};

pub struct Site {
    pub client: TestClient,
    pub state: AppState,
    pub token: String,
    dir: tempfile::TempDir,
}

impl Site {
    pub async fn new(tweak: impl FnOnce(&mut Config)) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_testing(dir.path());
        config.log.level = "error".into();
        faceprint_server::logging::init(&config.log);
        config.compute.queue_wait_ms = 30_000;
        // The tests' videos are made in the site's directory; their dead "cameras" are on
        // 127.0.0.1 (tests/camera_sources.rs checks the defaults, which refuse both).
        config.app.media_root = Some(dir.path().to_path_buf());
        config.outbound.allow_private_networks = true;
        tweak(&mut config);
        let state = faceprint_attendance_server::open_state(&config).expect("state");
        let client = TestClient {
            app: faceprint_attendance_server::app(state.clone()),
        };
        let hash = faceprint_server::auth::password::hash("a long test password").unwrap();
        state
            .common()
            .database()
            .with(|c| faceprint_server::auth::admins::create(c, "root", &hash, "admin"))
            .unwrap();
        let r = client
            .post_json(
                "/api/auth/admin/login",
                None,
                json!({"username": "root", "password": "a long test password"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        Site {
            token: r.json["access_token"].as_str().unwrap().to_string(),
            client,
            state,
            dir,
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Adds an employee with their enrollment photos; answers the id.
    pub async fn employee(&self, name: &str, photos: &[String]) -> String {
        let r = self
            .client
            .post_json("/api/employees", Some(&self.token), json!({ "name": name }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.json["id"].as_str().unwrap().to_string();
        let mut form = Form::new();
        for p in photos {
            form = form.file("photo", photo(p));
        }
        let r = self
            .client
            .post_form(
                &format!("/api/employees/{id}/faces"),
                Some(&self.token),
                &form,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(r.json["accepted"].as_u64().unwrap() >= 1, "{}", r.text);
        id
    }

    /// Adds a camera (`body` without its name); answers its id.
    pub async fn camera(&self, name: &str, mut body: Value) -> String {
        body["name"] = name.into();
        let r = self
            .client
            .post_json("/api/cameras", Some(&self.token), body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json["id"].as_str().unwrap().to_string()
    }

    pub async fn status(&self, camera: &str) -> Value {
        let s = self
            .client
            .get(&format!("/stream/status/{camera}"), Some(&self.token))
            .await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        s.json
    }

    /// The first `n` JPEGs of a camera's MJPEG live view (token in the query, as an `<img>`
    /// sends it).
    pub async fn live_frames(&self, camera: &str, n: usize) -> Vec<Vec<u8>> {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let req = axum::http::Request::get(format!("/stream/{camera}?access_token={}", self.token))
            .body(axum::body::Body::empty())
            .unwrap();
        let res = self.client.app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-type"],
            "multipart/x-mixed-replace; boundary=frame"
        );
        let mut body = res.into_body();
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while out.len() < n {
            assert!(
                std::time::Instant::now() < deadline,
                "no frames on the live view"
            );
            let frame = tokio::time::timeout(std::time::Duration::from_secs(30), body.frame())
                .await
                .expect("a live frame in 30 s")
                .expect("the stream ended")
                .unwrap();
            if let Ok(data) = frame.into_data() {
                buf.extend_from_slice(&data);
            }
            // Parts: --frame, headers with Content-Length, a blank line, the JPEG, CRLF.
            while let Some(end) = find(&buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                assert!(
                    head.starts_with("--frame\r\nContent-Type: image/jpeg"),
                    "{head}"
                );
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                if buf.len() < end + 4 + len + 2 {
                    break;
                }
                out.push(buf[end + 4..end + 4 + len].to_vec());
                buf.drain(..end + 4 + len + 2);
            }
        }
        out
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
