//! A test desk: the KYC app over a temp data dir, called in-process, with staff accounts
//! (admin, verifier, auditor) signed in, end users registered on demand, and the documents
//! and selfies the cases use — real dev documents and real camera frames.
#![allow(dead_code)]

use axum::http::StatusCode;
use faceprint_kyc_server::config::Config;
use faceprint_kyc_server::state::{AppState, Clock, FixedClock, SystemClock};
use faceprint_server::testing::{data, photo, Form, Reply, TestClient};
use serde_json::{json, Value};
use std::sync::Arc;

/// 2010-06-01T00:00:00Z: the ICAO specimen passport (expires 2012-04-15) is valid then.
pub const SPECIMEN_VALID_MS: i64 = 1_275_350_400_000;
pub const PASSWORD: &str = "a long test password";

pub struct Desk {
    pub client: TestClient,
    pub state: AppState,
    /// Tokens of the staff: admin, verifier, auditor.
    pub admin: String,
    pub verifier: String,
    pub auditor: String,
    dir: tempfile::TempDir,
}

impl Desk {
    /// The app deciding on `day_ms` (None: today).
    pub async fn new(day_ms: Option<i64>, tweak: impl FnOnce(&mut Config)) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_testing(dir.path());
        config.log.level = "error".into();
        faceprint_server::logging::init(&config.log);
        config.compute.queue_wait_ms = 30_000;
        config.rate_limit.per_ip_per_minute = 100_000;
        config.rate_limit.per_ip_burst = 1_000;
        tweak(&mut config);
        let clock: Arc<dyn Clock> = match day_ms {
            Some(ms) => Arc::new(FixedClock(ms)),
            None => Arc::new(SystemClock),
        };
        let state = faceprint_kyc_server::open_state_with_clock(&config, clock).expect("state");
        let client = TestClient {
            app: faceprint_kyc_server::app(state.clone()),
        };
        let hash = faceprint_server::auth::password::hash(PASSWORD).unwrap();
        let mut tokens = Vec::new();
        for role in ["admin", "verifier", "auditor"] {
            state
                .common()
                .database()
                .with(|c| faceprint_server::auth::admins::create(c, role, &hash, role))
                .unwrap();
            let r = client
                .post_json(
                    "/api/auth/admin/login",
                    None,
                    json!({"username": role, "password": PASSWORD}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            tokens.push(r.json["access_token"].as_str().unwrap().to_string());
        }
        Desk {
            client,
            state,
            admin: tokens[0].clone(),
            verifier: tokens[1].clone(),
            auditor: tokens[2].clone(),
            dir,
        }
    }

    /// Registers an end user; answers (user id, access token).
    pub async fn user(&self, name: &str) -> (String, String) {
        let r = self
            .client
            .post_json(
                "/api/auth/register",
                None,
                json!({"username": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (
            r.json["user_id"].as_str().unwrap().to_string(),
            r.json["access_token"].as_str().unwrap().to_string(),
        )
    }

    pub async fn start(&self, token: &str) -> String {
        let r = self
            .client
            .post_json("/api/verifications", Some(token), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.json["status"], "in_progress");
        r.json["id"].as_str().unwrap().to_string()
    }

    pub async fn document(
        &self,
        token: &str,
        id: &str,
        front: Vec<u8>,
        back: Option<Vec<u8>>,
    ) -> Reply {
        let mut form = Form::new().file("front", front);
        if let Some(b) = back {
            form = form.file("back", b);
        }
        self.client
            .post_form(
                &format!("/api/verifications/{id}/document"),
                Some(token),
                &form,
            )
            .await
    }

    pub async fn selfie(&self, token: &str, id: &str, selfie: Vec<u8>) -> Reply {
        self.client
            .post_form(
                &format!("/api/verifications/{id}/selfie"),
                Some(token),
                &Form::new().file("selfie", selfie),
            )
            .await
    }

    pub async fn get(&self, token: &str, id: &str) -> Reply {
        self.client
            .get(&format!("/api/verifications/{id}"), Some(token))
            .await
    }

    pub async fn audit_of(&self, token: &str, id: &str) -> Reply {
        self.client
            .get(
                &format!("/api/admin/audit?target=verification:{id}"),
                Some(token),
            )
            .await
    }

    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// A dev document's bytes.
pub fn document(name: &str) -> Vec<u8> {
    photo(&format!("dev/documents/{name}"))
}

/// A camera frame of a person of the anti-spoofing dev set: `live` or `attack` (a print).
pub fn frame(kind: &str, name: &str) -> Vec<u8> {
    photo(&format!("dev/spoof/{kind}/{name}"))
}

/// The frames of the live set.
pub fn live_frames() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(data("dev/spoof/live"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

pub fn jpeg(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// The ICAO specimen passport with its portrait replaced by `face_photo`'s largest face: a
/// page whose zone is the specimen's (every check digit valid) and whose holder is a real
/// person we also have other camera frames of.
pub fn passport_of(state: &AppState, face_photo: &[u8]) -> Vec<u8> {
    let engine = state.common().engine();
    let page_bytes = document("passport-td3.jpg");
    let page = engine.decode(&page_bytes).unwrap();
    let portrait = engine.document_portrait(&page).unwrap();
    let b = portrait.face.bbox;
    // The photo's frame on the page: the face box grown as passport photos frame a face.
    let (cx, cy) = ((b.x1 + b.x2) / 2.0, (b.y1 + b.y2) / 2.0);
    let (w, h) = ((b.x2 - b.x1) * 1.6, (b.y2 - b.y1) * 1.9);
    let (x0, y0) = (
        (cx - w / 2.0).max(0.0) as u32,
        (cy - h / 2.0).max(0.0) as u32,
    );
    let src = image::load_from_memory(face_photo).unwrap().to_rgb8();
    let img = engine.decode(face_photo).unwrap();
    let f = *faceprint::detect::largest(&engine.detect(&img).unwrap()).unwrap();
    let (fw, fh) = ((f.bbox.x2 - f.bbox.x1) * 1.6, (f.bbox.y2 - f.bbox.y1) * 1.9);
    let (fx, fy) = (
        ((f.bbox.x1 + f.bbox.x2) / 2.0 - fw / 2.0).max(0.0) as u32,
        ((f.bbox.y1 + f.bbox.y2) / 2.0 - fh / 2.0).max(0.0) as u32,
    );
    let fw = (fw as u32).min(src.width() - fx);
    let fh = (fh as u32).min(src.height() - fy);
    let face = image::imageops::crop_imm(&src, fx, fy, fw, fh).to_image();
    let face = image::imageops::resize(
        &face,
        w as u32,
        h as u32,
        image::imageops::FilterType::Lanczos3,
    );
    let mut out = image::load_from_memory(&page_bytes).unwrap().to_rgb8();
    image::imageops::overlay(&mut out, &face, i64::from(x0), i64::from(y0));
    jpeg(&out)
}

pub fn reasons(r: &Reply) -> Vec<String> {
    r.json["reasons"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

pub fn status(r: &Reply) -> &str {
    r.json["status"].as_str().unwrap_or("")
}

pub fn value(r: &Reply) -> &Value {
    &r.json
}
