//! Privacy: images sealed at rest and deleted by the retention job (the case stays), a user's
//! data exported, a user erased with everything of theirs.

mod desk;

use axum::http::StatusCode;
use base64::Engine as _;
use desk::*;
use std::time::{Duration, Instant};

const HOLDER_DOC: &str = "0004_01_06_03_0.jpg";
const HOLDER_SELFIE: &str = "0004_01_06_03_194.jpg";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_sealed_and_deleted_after_the_retention_period() {
    let desk = Desk::new(None, |c| {
        c.app.image_retention_secs = 2;
        c.app.retention_sweep_secs = 1;
    })
    .await;
    let passport = passport_of(&desk.state, &frame("live", HOLDER_DOC));
    let (_, anna) = desk.user("anna").await;
    let id = desk.start(&anna).await;
    let r = desk.document(&anna, &id, passport.clone(), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json["images"],
        serde_json::json!(["document_front", "portrait"])
    );
    // At rest the images and the findings are sealed: neither the JPEG nor the name is in the
    // database file.
    let file = desk
        .state
        .common()
        .database()
        .path()
        .expect("the tests' state is in SQLite")
        .to_path_buf();
    let db = std::fs::read(&file).unwrap();
    let wal = std::fs::read(file.with_extension("db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !contains(bytes, &passport[1000..1064]),
            "the document image is stored in clear"
        );
        assert!(
            !contains(bytes, b"ERIKSSON"),
            "the zone's name is stored in clear"
        );
    }
    // The job deletes them after two seconds; the case and its findings stay.
    faceprint_kyc_server::service::privacy::spawn_retention(&desk.state);
    let start = Instant::now();
    let gone = loop {
        let r = desk.get(&anna, &id).await;
        if r.json["images"].as_array().unwrap().is_empty() {
            break r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "images still there: {}",
            r.text
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(gone.json["images_deleted_ms"].is_i64());
    assert_eq!(gone.json["document"]["mrz"]["surname"], "ERIKSSON");
    let img = desk
        .client
        .get(
            &format!("/api/verifications/{id}/images/document_front"),
            Some(&anna),
        )
        .await;
    assert_eq!(img.status, StatusCode::NOT_FOUND);
    let r = desk.selfie(&anna, &id, frame("live", HOLDER_SELFIE)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "images_expired")
    );
    let trail = desk.audit_of(&desk.admin, &id).await;
    assert!(
        trail
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "images_deleted" && e["reason"] == "retention"),
        "{}",
        trail.text
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_exports_their_data_and_is_erased_with_all_of_it() {
    let desk = Desk::new(Some(SPECIMEN_VALID_MS), |_| {}).await;
    let passport = passport_of(&desk.state, &frame("live", HOLDER_DOC));
    let (user_id, anna) = desk.user("anna").await;
    let id = desk.start(&anna).await;
    assert_eq!(
        desk.document(&anna, &id, passport, None).await.status,
        StatusCode::OK
    );
    let r = desk.selfie(&anna, &id, frame("live", HOLDER_SELFIE)).await;
    assert_eq!(status(&r), "approved", "{}", r.text);

    let export = desk.client.get("/api/me/export", Some(&anna)).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text);
    assert_eq!(export.json["account"]["username"], "anna");
    assert_eq!(
        export.json["verifications"][0]["document"]["mrz"]["surname"],
        "ERIKSSON"
    );
    let images = export.json["images"][&id].as_object().unwrap();
    assert_eq!(images.len(), 3, "document_front, portrait, selfie");
    for (kind, b64) in images {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(image::load_from_memory(&bytes).is_ok(), "{kind}");
    }
    let actions: Vec<&str> = export.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "register",
        "verification_started",
        "document_submitted",
        "decision",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }

    let r = desk.client.delete("/api/me", Some(&anna)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // The token's session is gone, and so is everything else.
    assert_eq!(
        desk.client
            .get("/api/verifications", Some(&anna))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let all = desk
        .client
        .get("/api/verifications", Some(&desk.admin))
        .await;
    assert!(all
        .json
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["user_id"] != user_id.as_str()));
    let rows: i64 = desk
        .state
        .common()
        .database()
        .with(|c| c.query_one("SELECT COUNT(*) FROM verification_images", &[]))
        .unwrap();
    assert_eq!(rows, 0);
    let login = desk
        .client
        .post_json(
            "/api/auth/login",
            None,
            serde_json::json!({"username": "anna", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    // The trail says who erased whom.
    let trail = desk
        .client
        .get(
            &format!("/api/admin/audit?target=user:{user_id}"),
            Some(&desk.auditor),
        )
        .await;
    assert!(
        trail
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "erase_user"),
        "{}",
        trail.text
    );
}
