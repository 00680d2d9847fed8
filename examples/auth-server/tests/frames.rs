//! Signup and login from camera frames, over REST and over the WebSocket, with real models:
//! enrollment across head poses, login, a stranger rejected, a printed photo failed, frames
//! dropped rather than queued, and sessions that survive a restart.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

async fn start_signup(t: &TestApp, email: &str) -> String {
    let r = t
        .post_json(
            "/api/sessions/enrollment",
            None,
            json!({ "name": "Colin Powell", "email": email }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json["session_id"].as_str().unwrap().to_string()
}

async fn frame(t: &TestApp, id: &str, rel: &str) -> Value {
    let r = t
        .post_image(&format!("/api/sessions/{id}/frames"), None, photo(rel))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{rel}: {}", r.text);
    r.json
}

#[tokio::test]
async fn camera_signup_then_login_over_rest() {
    let t = TestApp::new();
    let id = start_signup(&t, "powell@example.com").await;
    // The email is claimed while the session runs.
    let r = t
        .post_json(
            "/api/sessions/enrollment",
            None,
            json!({ "name": "X", "email": "powell@example.com" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let first = frame(&t, &id, POWELL[0]).await;
    assert_eq!(
        (
            first["type"].as_str(),
            first["accepted"].as_bool(),
            first["completed_samples"].as_u64()
        ),
        (Some("enrollment_progress"), Some(true), Some(1)),
        "{first}"
    );
    // The same frame again adds no new pose.
    let same = frame(&t, &id, POWELL[0]).await;
    assert_eq!(same["accepted"], false, "{same}");
    frame(&t, &id, POWELL[1]).await;
    let done = frame(&t, &id, POWELL[2]).await;
    assert_eq!(done["type"], "enrollment_complete", "{done}");
    assert!(
        done["tokens"]["access_token"].is_string() && done["user"]["faces"] == 3,
        "{done}"
    );
    assert!(
        done.get("enrollment").is_none(),
        "template ids stay on the server"
    );
    let access = done["tokens"]["access_token"].as_str().unwrap();
    assert_eq!(
        t.get("/api/me", Some(access)).await.json["email"],
        "powell@example.com"
    );
    // The finished session takes no more frames; its status says completed.
    let again = t
        .post_image(
            &format!("/api/sessions/{id}/frames"),
            None,
            photo(POWELL[3]),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "session_finished")
    );
    assert_eq!(
        t.get(&format!("/api/sessions/{id}"), None).await.json["status"],
        "completed"
    );

    // Login from a frame of another photo.
    let r = t
        .post_json("/api/sessions/authentication", None, json!({}))
        .await;
    let login = r.json["session_id"].as_str().unwrap().to_string();
    let res = frame(&t, &login, POWELL_PROBE).await;
    assert_eq!(
        (res["type"].as_str(), res["status"].as_str()),
        (Some("authentication_result"), Some("authenticated")),
        "{res}"
    );
    assert!(res["tokens"]["access_token"].is_string());
    assert!(
        res["subject"].is_null(),
        "the internal subject id is not sent"
    );

    // A stranger: every frame is no match, then rejected at the frame budget.
    let r = t
        .post_json("/api/sessions/authentication", None, json!({}))
        .await;
    let stranger = r.json["session_id"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    for _ in 0..10 {
        last = frame(&t, &stranger, BIDEN).await;
        if last["type"] == "authentication_result" {
            break;
        }
        assert_eq!(last["type"], "liveness_instruction", "{last}");
    }
    assert_eq!(
        (last["type"].as_str(), last["status"].as_str()),
        (Some("authentication_result"), Some("rejected")),
        "{last}"
    );
    assert!(last.get("tokens").is_none());

    // Printed photos: failed after three spoof frames.
    let r = t
        .post_json("/api/sessions/authentication", None, json!({}))
        .await;
    let spoof = r.json["session_id"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    for _ in 0..3 {
        last = frame(&t, &spoof, SPOOF_ATTACK).await;
    }
    assert_eq!(
        (last["type"].as_str(), last["status"].as_str()),
        (Some("authentication_result"), Some("failed")),
        "{last}"
    );
    let audit = t
        .state
        .common()
        .database()
        .with(|c| faceprint_server::events::query(c, &Default::default()))
        .unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "login" && e.reason.as_deref() == Some("spoof_suspected")));

    // Unknown session, bad frame.
    let r = t
        .post_image("/api/sessions/nope/frames", None, photo(POWELL[0]))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = t
        .post_json("/api/sessions/authentication", None, json!({}))
        .await;
    let s = r.json["session_id"].as_str().unwrap().to_string();
    let r = t
        .post_image(
            &format!("/api/sessions/{s}/frames"),
            None,
            b"not a jpeg".to_vec(),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "image_unsupported_format"
        )
    );
}

#[tokio::test]
async fn an_open_session_survives_a_restart_and_a_cancelled_signup_frees_its_email() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let t = TestApp::in_dir(dir, |_| {});
    let id = start_signup(&t, "powell@example.com").await;
    frame(&t, &id, POWELL[0]).await;
    frame(&t, &id, POWELL[1]).await;
    // Restart: a new app over the same data dir.
    let TestApp { dir, .. } = t;
    let t = TestApp::in_dir(dir, |_| {});
    assert_eq!(t.dir.path(), path);
    let status = t.get(&format!("/api/sessions/{id}"), None).await;
    assert_eq!(
        (
            status.json["status"].as_str(),
            status.json["frames"].as_u64()
        ),
        (Some("in_progress"), Some(2)),
        "{}",
        status.text
    );
    let done = frame(&t, &id, POWELL[2]).await;
    assert_eq!(done["type"], "enrollment_complete", "{done}");

    // The session's state is sealed: no embedding in the database file in the clear.
    let raw = std::fs::read(t.dir.path().join("server.db")).unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("\"vector\""));

    let id = start_signup(&t, "second@example.com").await;
    let c = t.delete(&format!("/api/sessions/{id}"), None).await;
    assert_eq!(c.json["status"], "cancelled", "{}", c.text);
    start_signup(&t, "second@example.com").await;
}

#[tokio::test]
async fn websocket_signup_login_and_dropped_frames() {
    use base64::Engine as _;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let t = TestApp::new();
    let addr = t.serve().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/face"))
        .await
        .unwrap();
    async fn send(ws: &mut (impl SinkExt<Message> + Unpin), v: Value) {
        let _ = ws.send(Message::Text(v.to_string().into())).await;
    }
    async fn recv(
        ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
    ) -> Value {
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(30), ws.next())
                .await
                .expect("no answer in 30 s")
            {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    }
    let b64 = |rel: &str| base64::engine::general_purpose::STANDARD.encode(photo(rel));

    send(&mut ws, json!({ "type": "ping" })).await;
    assert_eq!(recv(&mut ws).await["type"], "pong");
    send(
        &mut ws,
        json!({ "type": "process_frame", "image": b64(POWELL[0]) }),
    )
    .await;
    assert_eq!(
        recv(&mut ws).await["type"],
        "error",
        "a frame before any session"
    );
    send(&mut ws, json!({ "type": "bogus" })).await;
    assert_eq!(recv(&mut ws).await["error"], "invalid_argument");

    send(
        &mut ws,
        json!({ "type": "start_enrollment", "name": "Colin Powell", "email": "ws@example.com" }),
    )
    .await;
    let started = recv(&mut ws).await;
    assert_eq!(started["type"], "session_started", "{started}");
    let mut last = Value::Null;
    for rel in &POWELL[..3] {
        send(&mut ws, json!({ "type": "process_frame", "image": format!("data:image/jpeg;base64,{}", b64(rel)) })).await;
        last = recv(&mut ws).await;
        assert!(
            last["type"] == "enrollment_progress" || last["type"] == "enrollment_complete",
            "{last}"
        );
    }
    assert_eq!(last["type"], "enrollment_complete", "{last}");
    assert!(last["tokens"]["refresh_token"].is_string());

    // Frames sent faster than they are processed: the extra ones are dropped, not queued.
    send(&mut ws, json!({ "type": "start_authentication" })).await;
    assert_eq!(recv(&mut ws).await["type"], "session_started");
    let frame = json!({ "type": "process_frame", "image": b64(GROUP) }).to_string();
    for _ in 0..6 {
        let _ = ws.send(Message::Text(frame.clone().into())).await;
    }
    let mut dropped = 0;
    let mut processed = 0;
    while dropped + processed < 6 {
        let m = recv(&mut ws).await;
        match m["type"].as_str() {
            Some("frame_dropped") => dropped += 1,
            Some("liveness_instruction") | Some("authentication_result") => processed += 1,
            _ => panic!("{m}"),
        }
    }
    assert!(
        dropped >= 1 && processed >= 1,
        "dropped {dropped}, processed {processed}"
    );
    let sid = started["session_id"].as_str().unwrap();
    let _ = sid;
    send(&mut ws, json!({ "type": "cancel" })).await;
    assert_eq!(recv(&mut ws).await["type"], "cancelled");
}

#[tokio::test]
async fn active_challenges_come_first_when_configured() {
    let t = TestApp::with(|c| c.app.login_active_challenges = 2);
    t.signup("Colin Powell", "powell@example.com", POWELL[0])
        .await;
    let r = t
        .post_json("/api/sessions/authentication", None, json!({}))
        .await;
    assert_eq!(r.json["stage"], "active_liveness", "{}", r.text);
    assert!(
        r.json["instruction"].is_string(),
        "the first challenge is announced: {}",
        r.text
    );
    let id = r.json["session_id"].as_str().unwrap().to_string();
    // A still photo does not perform the challenge: the frame gets an instruction, no tokens.
    let f = frame(&t, &id, POWELL_PROBE).await;
    assert_eq!(f["type"], "liveness_instruction", "{f}");
    assert_eq!(f["total"], 2);
    assert!(f.get("tokens").is_none());
}
