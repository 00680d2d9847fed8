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
}
