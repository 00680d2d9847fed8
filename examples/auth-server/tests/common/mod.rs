//! Test harness: the whole app over a temp data dir, called in-process (no socket), with
//! helpers for multipart bodies and JSON answers.
#![allow(dead_code, unused_imports)]

use axum::http::StatusCode;
use axum::Router;
use faceprint_auth_server::config::Config;
use faceprint_auth_server::state::AppState;
pub use faceprint_server::testing::{data, photo, Form, Reply, TestClient};

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
    client: TestClient,
}

/// The requests helpers (`get`, `post_form`, …) are the common crate's.
impl std::ops::Deref for TestApp {
    type Target = TestClient;
    fn deref(&self) -> &TestClient {
        &self.client
    }
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
        let app = faceprint_auth_server::app(state.clone());
        TestApp {
            client: TestClient { app: app.clone() },
            app,
            state,
            dir,
        }
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
