//! Bad input gets a clear 4xx with the library's code in the one error body: empty, corrupt,
//! truncated, non-image and oversized uploads, photos without a face or with several, unknown
//! routes; overload and over-rate callers get 503 / 429 with Retry-After.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test]
async fn each_bad_image_gets_its_code() {
    let t = TestApp::new();
    let jpeg = photo(OBAMA);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("empty", vec![], StatusCode::BAD_REQUEST, "image_empty"),
        (
            "text",
            b"hello, this is not an image".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "image_unsupported_format",
        ),
        (
            "svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "image_unsupported_format",
        ),
        (
            "gif (not whitelisted)",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "image_unsupported_format",
        ),
        (
            "truncated jpeg",
            jpeg[..jpeg.len() / 3].to_vec(),
            StatusCode::BAD_REQUEST,
            "image_truncated",
        ),
        (
            "jpeg magic, garbage inside",
            [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0x5A; 600], &[0xFF, 0xD9]].concat(),
            StatusCode::BAD_REQUEST,
            "image_corrupt",
        ),
        (
            "no face",
            photo(NON_FACE),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_face",
        ),
    ];
    for (what, bytes, status, code) in cases {
        let r = t
            .post_form(
                "/api/auth/signup",
                None,
                &Form::new()
                    .text("name", "N")
                    .text("email", "n@example.com")
                    .file("photo", bytes),
            )
            .await;
        assert_eq!((r.status, r.code()), (status, code), "{what}: {}", r.text);
    }
    // Several faces where one is needed.
    let r = t
        .post_form(
            "/api/auth/signup",
            None,
            &Form::new()
                .text("name", "N")
                .text("email", "n@example.com")
                .file("photo", photo(GROUP)),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "multiple_faces")
    );
    assert_eq!(r.json["details"]["faces"], 3);
    // Missing fields, bad email, bad base64.
    let r = t
        .post_form(
            "/api/auth/signup",
            None,
            &Form::new().text("name", "N").file("photo", photo(OBAMA)),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_argument")
    );
    let r = t
        .post_form(
            "/api/auth/signup",
            None,
            &Form::new()
                .text("name", "N")
                .text("email", "not-an-email")
                .file("photo", photo(OBAMA)),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_argument")
    );
    let r = t
        .post_json(
            "/api/auth/login",
            None,
            json!({ "photo": "data:image/jpeg;base64,@@@@" }),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "image_corrupt")
    );
    let r = t
        .post_json("/api/auth/login", None, json!({ "name": "no photo" }))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_argument")
    );
    let r = t.post_json("/api/auth/login", None, json!([1, 2])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Unsupported content type; unknown route; wrong method.
    let r = t
        .call(
            axum::http::Request::post("/api/auth/login")
                .header("content-type", "text/plain")
                .body(axum::body::Body::from("x"))
                .unwrap(),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let r = t.get("/api/nope", None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = t.get("/api/auth/login", None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_any_model_runs() {
    let t = TestApp::with(|c| c.limits.max_upload_bytes = 64 * 1024);
    let big = [&photo(OBAMA)[..], &vec![0u8; 200 * 1024][..]].concat();
    let r = t.post_image("/api/auth/login", None, big.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{}",
        r.text
    );
    let r = t
        .post_form("/api/auth/login", None, &Form::new().file("photo", big))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    // Under the body limit but over the image limit (an image of 70 KiB, limit 64 KiB).
    let r = t
        .post_form(
            "/api/auth/login",
            None,
            &Form::new().file(
                "photo",
                [&[0xFF, 0xD8, 0xFF][..], &vec![0u8; 70 * 1024][..]].concat(),
            ),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "image_too_large"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn over_rate_callers_get_429_with_retry_after() {
    let t = TestApp::with(|c| {
        c.rate_limit.per_ip_per_minute = 2;
        c.rate_limit.per_ip_burst = 2;
    });
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = t
            .post_json(
                "/api/auth/refresh",
                None,
                json!({ "refresh_token": "fpr_x" }),
            )
            .await;
        statuses.push(r.status);
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.code(), "rate_limited");
            let after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&after), "{after}");
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Authenticated routes are not under the per-IP limit.
    assert_eq!(t.get("/health", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_full_model_gate_answers_503_busy_at_once() {
    let t = TestApp::with(|c| {
        c.compute.model_permits = 1;
        c.compute.queue_wait_ms = 1;
    });
    let jobs: Vec<_> = (0..6)
        .map(|_| {
            let app = t.app.clone();
            let (ct, body) = Form::new().file("photo", photo(GROUP)).encode();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let req = axum::http::Request::post("/api/auth/login")
                    .header("content-type", ct)
                    .body(axum::body::Body::from(body))
                    .unwrap();
                let res = app.oneshot(req).await.unwrap();
                (res.status(), res.headers().get("retry-after").is_some())
            })
        })
        .collect();
    let mut busy = 0;
    for j in jobs {
        let (status, retry_after) = j.await.unwrap();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(retry_after);
            busy += 1;
        } else {
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "the others answer: a group photo never logs in (multiple_faces)"
            );
        }
    }
    assert!(
        busy >= 1,
        "six requests on one slot with 1 ms of patience: some must be refused"
    );
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn every_answer_has_the_request_id_and_the_security_headers() {
    let t = TestApp::new();
    let r = t.get("/health/ready", None).await;
    assert_eq!(r.status, StatusCode::OK);
    for h in [
        "x-request-id",
        "x-content-type-options",
        "x-frame-options",
        "content-security-policy",
        "referrer-policy",
    ] {
        assert!(r.headers.get(h).is_some(), "{h} missing");
    }
    let r = t.get("/api/me", None).await;
    assert_eq!(
        r.json["request_id"].as_str(),
        r.headers["x-request-id"].to_str().ok()
    );
    // The request id is always ours: a caller's sane id is kept only as x-client-request-id
    // (it cannot name a request in the log or the audit trail); an absurd one is dropped.
    let mine = t
        .call(
            axum::http::Request::get("/health")
                .header("x-request-id", "trace-42")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(mine.headers["x-request-id"], "trace-42");
    assert!(uuid_like(mine.headers["x-request-id"].to_str().unwrap()));
    assert_eq!(mine.headers["x-client-request-id"], "trace-42");
    let long = "x".repeat(500);
    let theirs = t
        .call(
            axum::http::Request::get("/health")
                .header("x-request-id", long.as_str())
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(uuid_like(theirs.headers["x-request-id"].to_str().unwrap()));
    assert!(theirs.headers.get("x-client-request-id").is_none());
    // OpenAPI lists the routes; the docs page and its script are served locally.
    let api = t.get("/openapi.json", None).await;
    for p in [
        "/api/auth/signup",
        "/api/auth/login",
        "/api/me/sessions",
        "/api/v1/recognition/recognize",
        "/api/face/verify",
    ] {
        assert!(
            api.json["paths"][p].is_object(),
            "{p} not in the OpenAPI document"
        );
    }
    assert!(t.get("/docs", None).await.text.contains("/docs/docs.js"));
    let m = t.get("/metrics", None).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(
        m.text.contains("http_requests_total"),
        "{}",
        &m.text[..m.text.len().min(300)]
    );
}
