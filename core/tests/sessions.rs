//! Enrollment and authentication sessions fed real LFW frames, over an in-memory store. Many
//! LFW press photos are themselves reproductions and score low on passive liveness; the frames
//! used here are ones it scores live (0.87–0.999).

mod common;

use faceprint::session::{AuthStatus, AuthenticationProgress, EnrollmentStatus};
use faceprint::store::MemoryStore;
use faceprint::{
    AuthMode, AuthenticationConfig, AuthenticationSession, Engine, EnrollmentConfig,
    EnrollmentSession, ErrorCode, Image, Threshold,
};
use std::sync::Arc;

fn lfw(e: &Engine, name: &str, n: u32) -> Image {
    let p = common::data_dir()
        .unwrap()
        .join(format!("lfw/images/{name}/{name}_{n:04}.jpg"));
    e.open(p).unwrap()
}

fn engine() -> Engine {
    Engine::builder()
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap()
}

fn blurred(img: &Image) -> Image {
    let b = image::RgbImage::from_raw(img.width(), img.height(), img.as_rgb().to_vec()).unwrap();
    let out = image::imageops::blur(&b, 4.0);
    Image::from_rgb(img.width(), img.height(), out.into_raw()).unwrap()
}

fn enroll_colin(e: &Engine) {
    let mut cfg = EnrollmentConfig::new("staff", "colin");
    // LFW frames are photos years apart, not one video: FMR 1e-2 for "same person".
    cfg.identity_threshold = Threshold::Fmr(1e-2);
    let mut s = EnrollmentSession::start(cfg, 0).unwrap();
    let frames = [
        (lfw(e, "Colin_Powell", 4), true, None),
        (lfw(e, "Colin_Powell", 4), false, Some("similar_pose")),
        (blurred(&lfw(e, "Colin_Powell", 7)), false, Some("blurry")),
        (lfw(e, "George_W_Bush", 8), false, Some("different_person")),
        (lfw(e, "Colin_Powell", 7), true, None),
    ];
    for (i, (img, accepted, obstacle)) in frames.iter().enumerate() {
        let p = s.feed(e, 100 * (i as u64 + 1), img).unwrap();
        assert_eq!(p.accepted, *accepted, "frame {i}: {p:?}");
        if let Some(o) = obstacle {
            assert!(p.obstacles.iter().any(|x| x == o), "frame {i}: {p:?}");
            assert!(!p.message.is_empty());
        }
        assert_eq!(p.status, EnrollmentStatus::Collecting);
        assert!(p.face_detected && p.quality_score.is_some() && p.liveness.is_some());
    }
    // Serialisable between requests.
    let json = serde_json::to_string(&s).unwrap();
    let mut s: EnrollmentSession = serde_json::from_str(&json).unwrap();
    let p = s.feed(e, 1_000, &lfw(e, "Colin_Powell", 9)).unwrap();
    assert_eq!(p.status, EnrollmentStatus::Completed, "{p:?}");
    assert_eq!((p.completed_samples, p.target_samples), (3, 3));
    let report = p.enrollment.unwrap();
    assert_eq!(report.template_ids.len(), 3);
    let err = s.feed(e, 1_100, &lfw(e, "Colin_Powell", 11)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SessionFinished);
}

#[test]
fn enrollment_collects_good_varied_samples_of_one_person_then_enrolls() {
    with_data!();
    let e = engine();
    enroll_colin(&e);
    let subjects = e.list_subjects("staff", 0, 10).unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(subjects[0].external_id, "colin");
}

fn authenticate(e: &Engine, mode: AuthMode, frames: &[Image]) -> AuthenticationProgress {
    let cfg = AuthenticationConfig {
        max_frames: frames.len(),
        threshold: Threshold::Fmr(1e-3),
        ..AuthenticationConfig::new("staff", mode)
    };
    let mut s = AuthenticationSession::start(cfg, 0).unwrap();
    let mut last = None;
    for (i, f) in frames.iter().enumerate() {
        let p = s.feed(e, 100 * (i as u64 + 1), f).unwrap();
        let done = p.status != AuthStatus::InProgress;
        last = Some(p);
        if done {
            break;
        }
    }
    last.unwrap()
}

#[test]
fn authentication_verifies_identifies_rejects_and_stops_spoofs() {
    with_data!();
    let e = engine();
    enroll_colin(&e);
    let verify = AuthMode::Verify {
        subject: "colin".into(),
    };
    let p = authenticate(&e, verify.clone(), &[lfw(&e, "Colin_Powell", 16)]);
    assert_eq!(p.status, AuthStatus::Authenticated, "{p:?}");
    assert!(p.score.unwrap() >= p.threshold.unwrap());

    let p = authenticate(&e, AuthMode::Identify, &[lfw(&e, "Colin_Powell", 12)]);
    assert_eq!(p.status, AuthStatus::Authenticated, "{p:?}");
    assert_eq!(p.subject.as_deref(), Some("colin"));

    let strangers = [lfw(&e, "George_W_Bush", 8), lfw(&e, "Barbara_Brezigar", 2)];
    let p = authenticate(&e, verify.clone(), &strangers);
    assert_eq!(p.status, AuthStatus::Rejected, "{p:?}");
    assert_eq!(p.frames_used, 2);

    let attacks: Vec<Image> = [
        "0004_01_01_03_0.jpg",
        "0006_00_01_03_0.jpg",
        "0007_01_01_03_0.jpg",
    ]
    .iter()
    .map(|f| e.open(common::dev(&format!("spoof/attack/{f}"))).unwrap())
    .collect();
    let p = authenticate(&e, verify, &attacks);
    assert_eq!(p.status, AuthStatus::Failed, "{p:?}");
    assert!(p.obstacles.iter().any(|o| o == "spoof_suspected"));
}
