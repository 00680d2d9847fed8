//! Administration through HTTP: password login with lockout, statistics, users (search,
//! disable, enable, delete), API keys, the audit trail, and webhooks delivered, signed and
//! retried.

mod common;

use axum::http::StatusCode;
use common::*;
use faceprint_server::auth::{admins, password};
use serde_json::json;

fn make_admin(t: &TestApp, name: &str, pw: &str) {
    let hash = password::hash(pw).unwrap();
    t.state
        .common()
        .database()
        .with(|c| admins::create(c, name, &hash, "admin"))
        .unwrap()
        .unwrap();
}

async fn admin_token(t: &TestApp, name: &str, pw: &str) -> String {
    let r = t
        .post_json(
            "/api/auth/admin/login",
            None,
            json!({ "username": name, "password": pw }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn admin_login_locks_after_repeated_failures_with_one_answer_for_every_refusal() {
    let t = TestApp::new();
    make_admin(&t, "root", "a long admin password");
    let unknown = t
        .post_json(
            "/api/auth/admin/login",
            None,
            json!({ "username": "nobody", "password": "whatever whatever" }),
        )
        .await;
    let wrong = t
        .post_json(
            "/api/auth/admin/login",
            None,
            json!({ "username": "root", "password": "wrong password!!" }),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::UNAUTHORIZED, "authentication_failed")
    );
    assert_eq!(
        (wrong.status, wrong.json["message"].clone()),
        (unknown.status, unknown.json["message"].clone())
    );
    for _ in 0..4 {
        t.post_json(
            "/api/auth/admin/login",
            None,
            json!({ "username": "root", "password": "wrong password!!" }),
        )
        .await;
    }
    // Five failures: locked, even with the right password, with the same answer.
    let locked = t
        .post_json(
            "/api/auth/admin/login",
            None,
            json!({ "username": "root", "password": "a long admin password" }),
        )
        .await;
    assert_eq!(
        (locked.status, locked.code()),
        (StatusCode::UNAUTHORIZED, "authentication_failed")
    );
    let audit = t
        .state
        .common()
        .database()
        .with(|c| faceprint_server::events::query(c, &Default::default()))
        .unwrap();
    assert!(audit.iter().any(|e| e.reason.as_deref() == Some("locked")));
    assert!(audit
        .iter()
        .any(|e| e.reason.as_deref() == Some("unknown_user")));
}

#[tokio::test]
async fn admins_manage_users_keys_and_read_the_trail() {
    let t = TestApp::new();
    make_admin(&t, "ops", "operations password");
    let admin = admin_token(&t, "ops", "operations password").await;
    let (obama, obama_token, _) = t.signup("Barack Obama", "obama@example.com", OBAMA).await;
    t.signup("Joe Biden", "biden@example.com", BIDEN).await;
    t.post_image("/api/auth/login", None, photo(OBAMA2)).await;
    t.post_image("/api/auth/login", None, photo(KIT)).await;

    // Users only see their own API; admins see everything.
    assert_eq!(
        t.get("/api/admin/users", Some(&obama_token)).await.status,
        StatusCode::FORBIDDEN
    );
    let users = t.get("/api/admin/users?search=obama", Some(&admin)).await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.text);
    assert_eq!(
        (
            users.json["total"].as_i64(),
            users.json["users"][0]["id"].as_str()
        ),
        (Some(1), Some(obama.as_str()))
    );
    assert_eq!(
        t.get("/api/admin/users?limit=1", Some(&admin)).await.json["users"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A search with LIKE wildcards matches them literally.
    assert_eq!(
        t.get("/api/admin/users?search=%25", Some(&admin))
            .await
            .json["total"],
        0
    );

    let stats = t.get("/api/admin/stats", Some(&admin)).await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    assert_eq!(stats.json["users"], 2);
    assert_eq!(
        (
            stats.json["logins"].as_i64(),
            stats.json["failed_logins"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(stats.json["failure_reasons"][0]["reason"], "no_match");
    assert!(stats.json["active_sessions"].as_i64().unwrap() >= 3);

    // Disable: sessions end, login by face refused; enable: login works again.
    let d = t
        .post_json(
            &format!("/api/admin/users/{obama}/disable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(
        (d.status, d.json["status"].as_str()),
        (StatusCode::OK, Some("disabled")),
        "{}",
        d.text
    );
    assert_eq!(
        t.get("/api/me", Some(&obama_token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.post_image("/api/auth/login", None, photo(OBAMA2))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    t.post_json(
        &format!("/api/admin/users/{obama}/enable"),
        Some(&admin),
        json!({}),
    )
    .await;
    assert_eq!(
        t.post_image("/api/auth/login", None, photo(OBAMA2))
            .await
            .status,
        StatusCode::OK
    );
    // Delete: templates and key erased.
    assert_eq!(
        t.delete(&format!("/api/admin/users/{obama}"), Some(&admin))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.delete(&format!("/api/admin/users/{obama}"), Some(&admin))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.post_image("/api/auth/login", None, photo(OBAMA2))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // API keys over HTTP: created once with the secret, listed without, revoked.
    let k = t
        .post_json(
            "/api/admin/api-keys",
            Some(&admin),
            json!({ "collection": "partner", "rate_per_minute": 100 }),
        )
        .await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.text);
    let (key, key_id) = (
        k.json["key"].as_str().unwrap().to_string(),
        k.json["id"].as_str().unwrap().to_string(),
    );
    assert_eq!(
        t.get("/api/v1/recognition/subjects", Some(&key))
            .await
            .status,
        StatusCode::OK
    );
    let listed = t.get("/api/admin/api-keys", Some(&admin)).await;
    assert!(!listed.text.contains(&key) && listed.text.contains(&key_id));
    let users_key = t
        .post_json(
            "/api/admin/api-keys",
            Some(&admin),
            json!({ "collection": "users" }),
        )
        .await;
    assert_eq!(
        users_key.status,
        StatusCode::BAD_REQUEST,
        "the login faces are not for tenants"
    );
    assert_eq!(
        t.delete(&format!("/api/admin/api-keys/{key_id}"), Some(&admin))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.get("/api/v1/recognition/subjects", Some(&key))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // The trail: who did what, never an image or a vector.
    let audit = t
        .get("/api/admin/audit?action=disable_user", Some(&admin))
        .await;
    assert_eq!(audit.json.as_array().unwrap().len(), 1, "{}", audit.text);
    assert!(audit.json[0]["actor"]
        .as_str()
        .unwrap()
        .starts_with("admin:"));
    let all = t.get("/api/admin/audit?limit=500", Some(&admin)).await;
    assert!(!all.text.contains("embedding") && !all.text.contains("base64"));
    assert_eq!(
        t.get("/api/admin/audit?bogus=1", Some(&admin)).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn webhooks_are_signed_delivered_and_retried() {
    use std::sync::{Arc, Mutex};
    // The receiver is on loopback: an internal address, refused by default (checked below).
    let t = TestApp::with(|c| c.outbound.allow_private_networks = true);
    make_admin(&t, "ops", "operations password");
    let admin = admin_token(&t, "ops", "operations password").await;
    // A receiver on loopback that fails its first call, then records what it gets.
    let got: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (g, n) = (got.clone(), calls.clone());
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: String| async move {
                if n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                g.lock().unwrap().push((headers, body));
                StatusCode::NO_CONTENT
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    tokio::spawn(faceprint_server::webhooks::run_worker(
        t.state.common().clone(),
    ));

    let bad = t
        .post_json(
            "/api/admin/webhooks",
            Some(&admin),
            json!({ "url": "http://example.com/hook", "events": ["*"] }),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::BAD_REQUEST,
        "plain http beyond loopback is refused"
    );
    // By default a loopback, private or link-local target is refused, however it is spelled.
    {
        let strict = TestApp::new();
        make_admin(&strict, "ops", "operations password");
        let strict_admin = admin_token(&strict, "ops", "operations password").await;
        for target in [
            url.clone(),
            "http://localhost:9/hook".to_string(),
            "https://169.254.169.254/latest".to_string(),
            "https://10.0.0.1/hook".to_string(),
            "https://[fd00::1]/hook".to_string(),
            "http://127.1:9/hook".to_string(),
        ] {
            let r = strict
                .post_json(
                    "/api/admin/webhooks",
                    Some(&strict_admin),
                    json!({ "url": target, "events": ["*"] }),
                )
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{target}: {}", r.text);
        }
    }
    let w = t
        .post_json(
            "/api/admin/webhooks",
            Some(&admin),
            json!({ "url": url, "events": ["enrollment"] }),
        )
        .await;
    assert_eq!(w.status, StatusCode::CREATED, "{}", w.text);
    let secret = w.json["secret"].as_str().unwrap().to_string();

    let (uid, _, _) = t.signup("Joe Biden", "biden@example.com", BIDEN).await;
    t.post_image("/api/auth/login", None, photo(BIDEN2)).await; // an authentication event: not subscribed
                                                                // First attempt fails (500), the retry 2 s later succeeds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while got.lock().unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no delivery within 20 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (headers, body) = got.lock().unwrap()[0].clone();
    assert_eq!(headers["x-faceprint-event"], "enrollment");
    let ts: i64 = headers["x-faceprint-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = faceprint_server::webhooks::sign(&secret, ts, body.as_bytes());
    assert_eq!(headers["x-faceprint-signature"].to_str().unwrap(), expected);
    let payload: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            payload["event"].as_str(),
            payload["data"]["user_id"].as_str()
        ),
        (Some("enrollment"), Some(uid.as_str()))
    );
    let listed = t.get("/api/admin/webhooks", Some(&admin)).await;
    assert_eq!(listed.json.as_array().unwrap().len(), 1);
    assert!(
        !listed.text.contains(&secret),
        "the secret is shown only once"
    );
    let log = t.get("/api/admin/webhooks/deliveries", Some(&admin)).await;
    assert_eq!(log.json.as_array().unwrap().len(), 1, "{}", log.text);
    assert_eq!(
        (
            log.json[0]["status"].as_str(),
            log.json[0]["attempts"].as_i64(),
            log.json[0]["last_status"].as_i64()
        ),
        (Some("delivered"), Some(2), Some(204))
    );
    let id = w.json["id"].as_str().unwrap();
    assert_eq!(
        t.delete(&format!("/api/admin/webhooks/{id}"), Some(&admin))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.delete(&format!("/api/admin/webhooks/{id}"), Some(&admin))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get("/api/admin/webhooks", Some(&admin)).await.json,
        serde_json::json!([])
    );
}
