//! The verification workflow end to end through the HTTP API, on real documents and real
//! camera frames: the decisions (approved, face_mismatch, spoof_suspected, mrz_check_failed,
//! document_expired), the unusable photos that leave a step open, and the verifier's review
//! with the audit trail.

mod desk;

use axum::http::StatusCode;
use desk::*;
use serde_json::json;

/// The holder of the synthetic passport, in two camera frames, and as a printed-photo attack.
const HOLDER_DOC: &str = "0004_01_06_03_0.jpg";
const HOLDER_SELFIE: &str = "0004_01_06_03_194.jpg";
const HOLDER_PRINT: &str = "0004_01_01_03_0.jpg";
const STRANGER: &str = "0006_00_06_03_10.jpg";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_documents_and_selfies_get_their_decisions() {
    let desk = Desk::new(Some(SPECIMEN_VALID_MS), |_| {}).await;
    let passport = passport_of(&desk.state, &frame("live", HOLDER_DOC));

    // The holder: every check passes.
    let (_, anna) = desk.user("anna@example.org").await;
    let id = desk.start(&anna).await;
    let r = desk.document(&anna, &id, passport.clone(), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let doc = &r.json["document"];
    assert_eq!(doc["mrz"]["document_number"], "L898902C3");
    assert_eq!(doc["mrz"]["valid"], true);
    assert!(doc["mrz_error"].is_null());
    assert!(
        doc["printed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["found"] == true),
        "{doc}"
    );
    assert_eq!(r.json["steps"]["document"]["status"], "done");
    assert_eq!(r.json["steps_done"], 1);
    let r = desk.selfie(&anna, &id, frame("live", HOLDER_SELFIE)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    println!(
        "holder: liveness {} match {}",
        r.json["steps"]["liveness"]["score"], r.json["steps"]["face_match"]["score"]
    );
    assert_eq!(
        (status(&r), reasons(&r)),
        ("approved", vec![]),
        "{}",
        r.text
    );
    assert_eq!(r.json["steps"]["liveness"]["passed"], true);
    assert_eq!(r.json["steps"]["face_match"]["passed"], true);
    assert_eq!(r.json["decided_by"], "system");
    assert_eq!(r.json["steps_done"], 3);
    // Decided: no more selfies.
    let again = desk.selfie(&anna, &id, frame("live", HOLDER_SELFIE)).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "already_decided")
    );

    // Another person's selfie.
    let (_, bob) = desk.user("bob").await;
    let id = desk.start(&bob).await;
    assert_eq!(
        desk.document(&bob, &id, passport.clone(), None)
            .await
            .status,
        StatusCode::OK
    );
    let r = desk.selfie(&bob, &id, frame("live", STRANGER)).await;
    println!("stranger: match {}", r.json["steps"]["face_match"]["score"]);
    assert_eq!(
        (status(&r), reasons(&r)),
        ("rejected", vec!["face_mismatch".to_string()]),
        "{}",
        r.text
    );

    // A printed photo of the holder held to the camera.
    let (_, carl) = desk.user("carl").await;
    let id = desk.start(&carl).await;
    assert_eq!(
        desk.document(&carl, &id, passport.clone(), None)
            .await
            .status,
        StatusCode::OK
    );
    let r = desk.selfie(&carl, &id, frame("attack", HOLDER_PRINT)).await;
    println!(
        "print attack: liveness {}",
        r.json["steps"]["liveness"]["score"]
    );
    assert_eq!(status(&r), "rejected", "{}", r.text);
    assert!(
        reasons(&r).contains(&"spoof_suspected".to_string()),
        "{}",
        r.text
    );

    // A card printed with an invalid check digit (the US resident card specimen).
    let (_, dora) = desk.user("dora").await;
    let id = desk.start(&dora).await;
    let r = desk
        .document(&dora, &id, document("33_id-usa.jpg"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["document"]["mrz_error"], "mrz_check_failed");
    assert_eq!(r.json["document"]["mrz"]["checks"][0]["valid"], false);
    let r = desk.selfie(&dora, &id, frame("live", STRANGER)).await;
    assert_eq!(status(&r), "rejected");
    assert_eq!(reasons(&r)[0], "mrz_check_failed", "{}", r.text);

    // Unusable photos leave the step open, and say why.
    let (_, eve) = desk.user("eve").await;
    let id = desk.start(&eve).await;
    let r = desk.selfie(&eve, &id, frame("live", HOLDER_SELFIE)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "document_required")
    );
    let coffee = faceprint_server::testing::photo("dev/hard/non_face/skimage_coffee.png");
    let r = desk.document(&eve, &id, coffee.clone(), None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "no_document")
    );
    let r = desk
        .document(&eve, &id, document("27_pass-gbr.jpg"), None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "no_portrait")
    );
    let r = desk
        .document(&eve, &id, b"not an image".to_vec(), None)
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    assert_eq!(
        desk.get(&eve, &id).await.json["steps"]["document"]["status"],
        "pending"
    );
    assert_eq!(
        desk.document(&eve, &id, passport.clone(), None)
            .await
            .status,
        StatusCode::OK
    );
    let r = desk.selfie(&eve, &id, coffee).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "no_face")
    );
    let r = desk.get(&eve, &id).await;
    assert_eq!(
        (status(&r), r.json["steps"]["liveness"]["status"].as_str()),
        ("in_progress", Some("pending"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_document_is_rejected_as_expired() {
    // Today: the specimen expired in 2012.
    let desk = Desk::new(None, |_| {}).await;
    let passport = passport_of(&desk.state, &frame("live", HOLDER_DOC));
    let (_, anna) = desk.user("anna").await;
    let id = desk.start(&anna).await;
    assert_eq!(
        desk.document(&anna, &id, passport, None).await.status,
        StatusCode::OK
    );
    let r = desk.selfie(&anna, &id, frame("live", HOLDER_SELFIE)).await;
    assert_eq!(
        (status(&r), reasons(&r)),
        ("rejected", vec!["document_expired".to_string()]),
        "{}",
        r.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_decides_a_case_in_review_and_the_auditor_reads_its_trail() {
    // Every mismatch goes to a verifier here.
    let desk = Desk::new(Some(SPECIMEN_VALID_MS), |c| c.app.review_match_margin = 1.0).await;
    let passport = passport_of(&desk.state, &frame("live", HOLDER_DOC));
    let (_, anna) = desk.user("anna").await;
    let id = desk.start(&anna).await;
    assert_eq!(
        desk.document(&anna, &id, passport, None).await.status,
        StatusCode::OK
    );
    let r = desk.selfie(&anna, &id, frame("live", STRANGER)).await;
    assert_eq!(
        (status(&r), reasons(&r)),
        ("needs_review", vec!["face_match_uncertain".to_string()]),
        "{}",
        r.text
    );

    // Another user cannot see it; the verifier finds it in the queue with its images.
    let (_, mallory) = desk.user("mallory").await;
    assert_eq!(desk.get(&mallory, &id).await.status, StatusCode::NOT_FOUND);
    let img = desk
        .client
        .get(
            &format!("/api/verifications/{id}/images/selfie"),
            Some(&mallory),
        )
        .await;
    assert_eq!(img.status, StatusCode::NOT_FOUND);
    let q = desk
        .client
        .get("/api/review/queue", Some(&desk.verifier))
        .await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(q
        .json
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["id"] == id.as_str()));
    for kind in ["document_front", "portrait", "selfie"] {
        let img = desk
            .client
            .get(
                &format!("/api/verifications/{id}/images/{kind}"),
                Some(&desk.verifier),
            )
            .await;
        assert_eq!(img.status, StatusCode::OK, "{kind}");
        assert_eq!(img.headers["content-type"], "image/jpeg", "{kind}");
        assert!(image::load_from_memory(&img.body).is_ok(), "{kind}");
    }
    // Auditors read cases, not images.
    let img = desk
        .client
        .get(
            &format!("/api/verifications/{id}/images/selfie"),
            Some(&desk.auditor),
        )
        .await;
    assert_eq!(img.status, StatusCode::FORBIDDEN);

    let path = format!("/api/verifications/{id}/review");
    let r = desk
        .client
        .post_json(
            &path,
            Some(&desk.verifier),
            json!({"decision": "approved", "reason": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a reason is required");
    let r = desk
        .client
        .post_json(
            &path,
            Some(&desk.verifier),
            json!({"decision": "needs_review", "reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = desk
        .client
        .post_json(
            &path,
            Some(&desk.verifier),
            json!({"decision": "approved", "reason": "same person, new haircut"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(status(&r), "approved");
    assert!(r.json["decided_by"].as_str().unwrap().starts_with("admin:"));
    assert_eq!(r.json["review_note"], "same person, new haircut");
    let r = desk
        .client
        .post_json(
            &path,
            Some(&desk.verifier),
            json!({"decision": "rejected", "reason": "changed my mind"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "not_in_review")
    );
    assert_eq!(desk.get(&anna, &id).await.json["status"], "approved");

    // The trail: each step and both decisions, who and when, scores — never an image.
    let trail = desk.audit_of(&desk.auditor, &id).await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.text);
    let mut actions: Vec<(String, String)> = trail
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    actions.reverse();
    let want: Vec<(String, String)> = [
        ("verification_started", "success"),
        ("document_submitted", "success"),
        ("liveness", "success"),
        ("face_match", "failure"),
        ("decision", "needs_review"),
        ("decision", "approved"),
    ]
    .iter()
    .map(|(a, o)| (a.to_string(), o.to_string()))
    .collect();
    assert_eq!(actions, want, "{}", trail.text);
    assert!(
        trail.text.len() < 8_000,
        "the trail holds no images: {} bytes",
        trail.text.len()
    );
    // A user and a verifier may not read the trail.
    assert_eq!(
        desk.audit_of(&anna, &id).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        desk.audit_of(&desk.verifier, &id).await.status,
        StatusCode::FORBIDDEN
    );
}
