//! The user API through HTTP (in-process), with real models on real photos: signup, login by
//! face, tokens (refresh rotation and reuse, logout, tampering, expiry), sessions, extra faces,
//! 1:1 checks, history and account deletion.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test]
async fn signup_login_and_the_account_lifecycle() {
    let t = TestApp::new();
    let (uid, access, refresh) = t.signup("Barack Obama", "Obama@Example.com", OBAMA).await;

    // Profile: email lower-cased, one face, no biometric data in the answer.
    let me = t.get("/api/me", Some(&access)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["email"], "obama@example.com");
    assert_eq!(me.json["faces"], 1);

    // Same email again, any case: 409. Same face under another email: 409.
    let dup = t
        .post_form(
            "/api/auth/signup",
            None,
            &Form::new()
                .text("name", "X")
                .text("email", "OBAMA@example.com")
                .file("photo", photo(BIDEN)),
        )
        .await;
    assert_eq!(
        (dup.status, dup.code()),
        (StatusCode::CONFLICT, "already_exists")
    );
    let dup = t
        .post_form(
            "/api/auth/signup",
            None,
            &Form::new()
                .text("name", "X")
                .text("email", "other@example.com")
                .file("photo", photo(OBAMA2)),
        )
        .await;
    assert_eq!(
        (dup.status, dup.code()),
        (StatusCode::CONFLICT, "face_already_registered")
    );

    // Login by face: another photo of the same man, as a raw JPEG body.
    let login = t.post_image("/api/auth/login", None, photo(OBAMA2)).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let login_access = login.json["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        t.get("/api/me", Some(&login_access)).await.json["id"],
        uid.as_str()
    );

    // Someone else's face, and an unknown email with the right face: the same answer.
    let wrong = t.post_image("/api/auth/login", None, photo(BIDEN)).await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNAUTHORIZED, "authentication_failed")
    );
    let unknown = t
        .post_form(
            "/api/auth/login",
            None,
            &Form::new()
                .text("email", "nobody@example.com")
                .file("photo", photo(OBAMA2)),
        )
        .await;
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.json["error"], wrong.json["error"]);
    assert_eq!(unknown.json["message"], wrong.json["message"]);
    assert!(wrong.headers.get("www-authenticate").is_some());
    // The right email and face (1:1): in.
    let one = t
        .post_form(
            "/api/auth/login",
            None,
            &Form::new()
                .text("email", "obama@example.com")
                .file("photo", photo(OBAMA2)),
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);

    // Sessions: signup's, and two logins.
    let sessions = t.get("/api/me/sessions", Some(&access)).await;
    assert_eq!(
        sessions.json.as_array().unwrap().len(),
        3,
        "{}",
        sessions.text
    );
    assert_eq!(
        sessions
            .json
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["current"] == true)
            .count(),
        1
    );

    // Refresh rotates; the used token is dead; presenting it again revokes the session.
    let r1 = t
        .post_json(
            "/api/auth/refresh",
            None,
            json!({ "refresh_token": refresh }),
        )
        .await;
    assert_eq!(r1.status, StatusCode::OK, "{}", r1.text);
    let refresh2 = r1.json["refresh_token"].as_str().unwrap().to_string();
    let access2 = r1.json["access_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh);
    assert_eq!(
        t.get("/api/me", Some(&access2)).await.status,
        StatusCode::OK
    );
    let reuse = t
        .post_json(
            "/api/auth/refresh",
            None,
            json!({ "refresh_token": refresh }),
        )
        .await;
    assert_eq!(
        (reuse.status, reuse.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    // The whole family is gone: the rotated token and the session's access tokens.
    let after = t
        .post_json(
            "/api/auth/refresh",
            None,
            json!({ "refresh_token": refresh2 }),
        )
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        t.get("/api/me", Some(&access2)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.get("/api/me", Some(&access)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Other sessions are untouched.
    assert_eq!(
        t.get("/api/me", Some(&login_access)).await.status,
        StatusCode::OK
    );

    // End one session by id: only the owner's, only once.
    let sessions = t.get("/api/me/sessions", Some(&login_access)).await;
    let other = sessions
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let one_more = t.post_image("/api/auth/login", None, photo(OBAMA2)).await;
    let one_more_access = one_more.json["access_token"].as_str().unwrap().to_string();
    let one_more_sid = one_more.json["session_id"].as_str().unwrap().to_string();
    assert_eq!(
        t.delete(
            &format!("/api/me/sessions/{one_more_sid}"),
            Some(&login_access)
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.get("/api/me", Some(&one_more_access)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.delete(
            &format!("/api/me/sessions/{one_more_sid}"),
            Some(&login_access)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.delete("/api/me/sessions/not-a-session", Some(&login_access))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(!other.is_empty());

    // Revoke all others from the login session, then log out of it.
    let one_access = one.json["access_token"].as_str().unwrap().to_string();
    let revoked = t
        .post_json(
            "/api/me/sessions/revoke-others",
            Some(&login_access),
            json!({}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.json["revoked"], 1);
    assert_eq!(
        t.get("/api/me", Some(&one_access)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let out = t
        .post_json("/api/auth/logout", Some(&login_access), json!({}))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.get("/api/me", Some(&login_access)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // History: signup, logins, the reuse, the logout — outcomes and scores only.
    let login = t.post_image("/api/auth/login", None, photo(OBAMA)).await;
    let access = login.json["access_token"].as_str().unwrap().to_string();
    let h = t.get("/api/me/history", Some(&access)).await;
    let actions: Vec<&str> = h
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "signup",
        "login",
        "refresh",
        "logout",
        "revoke_other_sessions",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(h
        .json
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["reason"] == "refresh_token_reuse"));
    assert!(!h.text.contains("embedding") && !h.text.contains("vector"));

    // Delete the account: its templates and key are erased, its tokens die, its face no
    // longer logs in.
    let del = t.delete("/api/me", Some(&access)).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{}", del.text);
    assert_eq!(
        t.get("/api/me", Some(&access)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let store = t.state.common().engine().store().unwrap().clone();
    assert_eq!(
        store.subject("users", &uid).unwrap_err().code(),
        faceprint::ErrorCode::NotFound
    );
    let again = t.post_image("/api/auth/login", None, photo(OBAMA2)).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn extra_faces_must_be_the_same_person_and_verify_is_one_to_one() {
    let t = TestApp::new();
    let (_, access, _) = t.signup("Biden", "biden@example.com", BIDEN).await;
    // Another person's face is not added to the account.
    let other = t
        .post_form(
            "/api/me/faces",
            Some(&access),
            &Form::new().file("photo", photo(OBAMA)),
        )
        .await;
    assert_eq!(
        (other.status, other.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "different_person")
    );
    let same = t
        .post_form(
            "/api/me/faces",
            Some(&access),
            &Form::new().file("photo", photo(BIDEN2)),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
    assert_eq!(same.json["faces"], 2);
    // 1:1 of the signed-in user's face, as base64 JSON.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(photo(BIDEN2));
    let v = t
        .post_json(
            "/api/face/verify",
            Some(&access),
            json!({ "photo": format!("data:image/jpeg;base64,{b64}") }),
        )
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    assert_eq!(v.json["matched"], true);
    let v = t
        .post_image("/api/face/verify", Some(&access), photo(OBAMA))
        .await;
    assert_eq!(v.json["matched"], false, "{}", v.text);
}

#[tokio::test]
async fn a_printed_photo_is_refused_at_login_while_liveness_is_required() {
    let t = TestApp::new();
    t.signup("Subject 4", "s4@example.com", SPOOF_LIVE).await;
    let spoof = t
        .post_image("/api/auth/login", None, photo(SPOOF_ATTACK))
        .await;
    assert_eq!(
        (spoof.status, spoof.code()),
        (StatusCode::UNAUTHORIZED, "liveness_failed"),
        "{}",
        spoof.text
    );
    // A printed photo cannot sign up either.
    let s = t
        .post_form(
            "/api/auth/signup",
            None,
            &Form::new()
                .text("name", "P")
                .text("email", "p@example.com")
                .file("photo", photo(SPOOF_ATTACK)),
        )
        .await;
    assert_eq!(
        (s.status, s.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "liveness_failed")
    );
}

#[tokio::test]
async fn tampered_expired_and_foreign_tokens_are_refused() {
    let t = TestApp::new();
    let (uid, access, _) = t.signup("Kit", "kit@example.com", KIT).await;
    assert_eq!(t.get("/api/me", Some(&access)).await.status, StatusCode::OK);
    // A flipped character in the signature, or in the payload.
    let mut bad = access.clone().into_bytes();
    let n = bad.len();
    bad[n - 3] = if bad[n - 3] == b'A' { b'B' } else { b'A' };
    let r = t
        .get("/api/me", Some(std::str::from_utf8(&bad).unwrap()))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert_eq!(
        t.get("/api/me", Some("not.a.jwt")).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Signed with the server's own secret but expired, or for another server's audience.
    let secret = std::fs::read(t.dir.path().join("jwt.secret")).unwrap();
    let key = jsonwebtoken::EncodingKey::from_secret(secret.trim_ascii());
    let sid = t.get("/api/me/sessions", Some(&access)).await.json[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |aud: &str, exp: u64| json!({ "sub": format!("user:{uid}"), "sid": sid, "role": "user", "iss": "faceprint", "aud": aud, "iat": now - 3600, "exp": exp });
    let mint = |c: serde_json::Value| {
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &c, &key).unwrap()
    };
    assert_eq!(
        t.get("/api/me", Some(&mint(claims("faceprint-auth", now + 600))))
            .await
            .status,
        StatusCode::OK,
        "control: a well-made token works"
    );
    assert_eq!(
        t.get("/api/me", Some(&mint(claims("faceprint-auth", now - 60))))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.get("/api/me", Some(&mint(claims("faceprint-kyc", now + 600))))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Another algorithm than the pinned HS256.
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims("faceprint-auth", now + 600),
        &key,
    )
    .unwrap();
    assert_eq!(
        t.get("/api/me", Some(&hs512)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A user token is not an admin's.
    assert_eq!(
        t.get("/api/admin/stats", Some(&access)).await.status,
        StatusCode::FORBIDDEN
    );
    // Garbage refresh tokens.
    for token in ["", "fpr_nope", &"x".repeat(5000)] {
        let r = t
            .post_json("/api/auth/refresh", None, json!({ "refresh_token": token }))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token:.20}");
    }
    let r = t
        .post_json("/api/auth/refresh", None, json!({ "token": "x" }))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_argument")
    );
}
