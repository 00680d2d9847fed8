//! Test harness: the whole app over a temp data dir, called in-process (no socket), with
//! helpers for multipart bodies and JSON answers.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use faceprint_auth_server::config::Config;
use faceprint_auth_server::state::AppState;
use http_body_util::BodyExt;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tower::ServiceExt;

pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

pub fn photo(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub const OBAMA: &str = "dev/faces/named/obama_obama.jpg";
pub const OBAMA2: &str = "dev/faces/named/obama_obama2.jpg";
pub const BIDEN: &str = "dev/faces/named/biden_biden.jpg";
pub const BIDEN2: &str = "dev/faces/named/biden_biden2.jpg";
pub const GROUP: &str = "dev/faces/named/test_obama_and_biden.jpg";
pub const KIT: &str = "dev/faces/named/kit_harington_john1.jpeg";
pub const NON_FACE: &str = "dev/hard/non_face/skimage_coffee.png";
pub const SPOOF_LIVE: &str = "dev/spoof/live/0007_01_05_03_10.jpg";
/// Photos of one man at different head poses, each passing enrollment quality and liveness.
pub const POWELL: [&str; 4] = [
    "lfw/images/Colin_Powell/Colin_Powell_0001.jpg",
    "lfw/images/Colin_Powell/Colin_Powell_0003.jpg",
    "lfw/images/Colin_Powell/Colin_Powell_0004.jpg",
    "lfw/images/Colin_Powell/Colin_Powell_0008.jpg",
];
pub const POWELL_PROBE: &str = "lfw/images/Colin_Powell/Colin_Powell_0009.jpg";
pub const SPOOF_ATTACK: &str = "dev/spoof/attack/0007_01_01_03_0.jpg";

pub struct TestApp {
    pub app: Router,
    pub state: AppState,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    pub fn new() -> TestApp {
        TestApp::with(|_| {})
    }

    pub fn with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::in_dir(tempfile::tempdir().unwrap(), tweak)
    }

    /// A new app over `dir` (a restart when the previous app on it is dropped).
    pub fn in_dir(dir: tempfile::TempDir, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config::for_testing(dir.path());
        // Errors show in the test output (the first-start warnings about generated keys would
        // only be noise).
        config.log.format = "pretty".into();
        config.log.level = "error".into();
        faceprint_server::logging::init(&config.log);
        // The suite's own requests come from one address: a generous limit unless a test
        // sets its own.
        config.rate_limit.per_ip_per_minute = 10_000;
        config.rate_limit.per_ip_burst = 10_000;
        config.compute.queue_wait_ms = 30_000;
        tweak(&mut config);
        let state = faceprint_auth_server::open_state(&config).expect("state");
        TestApp {
            app: faceprint_auth_server::app(state.clone()),
            state,
            dir,
        }
    }

    pub async fn call(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            json,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(req(Method::GET, path, token).body(Body::empty()).unwrap())
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(
            req(Method::DELETE, path, token)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(
            req(Method::POST, path, token)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, token: Option<&str>, form: &Form) -> Reply {
        let (ct, body) = form.encode();
        self.call(
            req(Method::POST, path, token)
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Serves the app on a loopback port (WebSocket tests); returns its address.
    pub async fn serve(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = self.app.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        addr
    }

    pub async fn post_image(&self, path: &str, token: Option<&str>, bytes: Vec<u8>) -> Reply {
        self.call(
            req(Method::POST, path, token)
                .header(header::CONTENT_TYPE, "image/jpeg")
                .body(Body::from(bytes))
                .unwrap(),
        )
        .await
    }

    /// Signs up and returns (user id, access token, refresh token).
    pub async fn signup(
        &self,
        name: &str,
        email: &str,
        photo_rel: &str,
    ) -> (String, String, String) {
        let r = self
            .post_form(
                "/api/auth/signup",
                None,
                &Form::new()
                    .text("name", name)
                    .text("email", email)
                    .file("photo", photo(photo_rel)),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (
            r.json["user"]["id"].as_str().unwrap().to_string(),
            r.json["access_token"].as_str().unwrap().to_string(),
            r.json["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// Runs a command-line tool of the server on this app's data dir.
    pub fn api_key(&self, collection: &str, rate: &str, quota: Option<u64>) -> String {
        use faceprint_server::auth::api_key::{create, NewApiKey};
        let new = NewApiKey {
            collection: collection.into(),
            label: None,
            rate_per_minute: faceprint_server::cli::parse_rate(rate).unwrap(),
            daily_quota: quota,
        };
        self.state
            .common()
            .database()
            .with(|c| create(c, &new))
            .unwrap()
            .1
    }
}

fn req(method: Method, path: &str, token: Option<&str>) -> axum::http::request::Builder {
    let b = Request::builder().method(method).uri(path);
    match token {
        Some(t) if t.starts_with("fpk_") => b.header("x-api-key", t),
        Some(t) => b.header(header::AUTHORIZATION, format!("Bearer {t}")),
        None => b,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Reply {
    /// The error code of an error body (and checks the body's shape).
    pub fn code(&self) -> &str {
        assert!(
            self.json["message"].is_string() && self.json["request_id"].is_string(),
            "not the error body: {}",
            self.text
        );
        self.json["error"].as_str().unwrap_or("")
    }
}

/// A multipart form.
#[derive(Default)]
pub struct Form {
    parts: Vec<(String, Option<String>, Vec<u8>)>,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    pub fn text(mut self, name: &str, value: &str) -> Form {
        self.parts
            .push((name.into(), None, value.as_bytes().to_vec()));
        self
    }

    pub fn file(mut self, name: &str, bytes: Vec<u8>) -> Form {
        self.parts
            .push((name.into(), Some("photo.jpg".into()), bytes));
        self
    }

    pub fn encode(&self) -> (String, Vec<u8>) {
        let boundary = "----faceprint-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, file, bytes) in &self.parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes()),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }
}
