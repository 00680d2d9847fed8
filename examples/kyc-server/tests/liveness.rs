//! The selfie step by liveness challenges, over REST and over the WebSocket, with frames built
//! from real photos: LFW's Billy_Crystal has open eyes (0005), shut eyes (0002) and a head
//! turned to his right (0006; mirrored, to his left). His passport (the ICAO specimen with his
//! photo 0003 on it) is checked as of 2010, when the specimen was valid.

mod desk;

use axum::http::StatusCode;
use desk::*;
use faceprint_kyc_server::config::Config;
use faceprint_server::testing::{photo, Form};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use tokio_tungstenite::tungstenite::Message;

fn lfw(n: u32) -> Vec<u8> {
    photo(&format!(
        "lfw/images/Billy_Crystal/Billy_Crystal_{n:04}.jpg"
    ))
}

/// Billy's frames by what they show: `open`, `shut`, `right`, `left`.
fn billy() -> HashMap<&'static str, Vec<u8>> {
    let right = image::load_from_memory(&lfw(6)).unwrap().to_rgb8();
    let left = image::imageops::flip_horizontal(&right);
    HashMap::from([
        ("open", lfw(5)),
        ("shut", lfw(2)),
        ("right", lfw(6)),
        ("left", jpeg(&left)),
    ])
}

/// The frames that answer a challenge (from an open, frontal face).
fn answer(challenge: &str) -> &'static [&'static str] {
    match challenge {
        "blink" => &["shut", "open"],
        "turn_left" => &["left", "open"],
        "turn_right" => &["right", "open"],
        other => panic!("the test actor cannot do {other}"),
    }
}

fn challenges(c: &mut Config) {
    c.app.liveness.challenges.pool = vec![
        faceprint::Challenge::Blink,
        faceprint::Challenge::TurnLeft,
        faceprint::Challenge::TurnRight,
    ];
    c.app.liveness.challenges.count = 2;
}

/// Wall-clock milliseconds: frames are stamped with the real clock, whatever day the server
/// decides documents by.
fn now_ms() -> u64 {
    faceprint_server::db::now_ms() as u64
}

/// A user with the passport sent; answers (token, case id).
async fn case_with_passport(desk: &Desk, name: &str) -> (String, String) {
    let (_, token) = desk.user(name).await;
    let id = desk.start(&token).await;
    let r = desk
        .document(&token, &id, passport_of(&desk.state, &lfw(3)), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    (token, id)
}

async fn start_session(desk: &Desk, token: &str, id: &str) -> String {
    let r = desk
        .client
        .post_json(
            &format!("/api/verifications/{id}/liveness"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["stage"], "active_liveness");
    assert_eq!(r.json["status"], "in_progress");
    assert!(r.json["instruction"].is_string(), "{}", r.text);
    r.json["session_id"].as_str().unwrap().to_string()
}

/// Answers each challenge the server asks until the session ends; answers the last message.
async fn perform(
    mut post: impl FnMut(Vec<u8>, u64) -> futures_util::future::BoxFuture<'static, Value>,
) -> Value {
    let frames = billy();
    let mut t = now_ms();
    let next = |t: &mut u64| {
        *t += 200;
        *t
    };
    let mut m = post(frames["open"].clone(), next(&mut t)).await;
    for _ in 0..6 {
        if m["type"] != "liveness_instruction" {
            return m;
        }
        let challenge = m["challenge"].as_str().expect("a challenge").to_string();
        for what in answer(&challenge) {
            m = post(frames[what].clone(), next(&mut t)).await;
            if m["type"] != "liveness_instruction" {
                return m;
            }
        }
    }
    panic!("the session did not end: {m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenges_over_rest_decide_the_case_with_the_most_frontal_frame() {
    let desk = Desk::new(Some(SPECIMEN_VALID_MS), challenges).await;
    let (token, id) = case_with_passport(&desk, "billy").await;
    // Not before the document: another case without one.
    let other = desk.start(&token).await;
    let r = desk
        .client
        .post_json(
            &format!("/api/verifications/{other}/liveness"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "document_required")
    );
    // Not someone else's case.
    let (_, eve) = desk.user("eve").await;
    let r = desk
        .client
        .post_json(
            &format!("/api/verifications/{id}/liveness"),
            Some(&eve),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let sid = start_session(&desk, &token, &id).await;
    let client = desk.client.clone();
    let path = format!("/api/liveness/{sid}/frames");
    let last = perform(move |frame, ts| {
        let (client, path) = (client.clone(), path.clone());
        Box::pin(async move {
            let form = Form::new()
                .file("frame", frame)
                .text("timestamp_ms", &ts.to_string());
            let r = client.post_form(&path, None, &form).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.json
        })
    })
    .await;
    assert_eq!(last["type"], "liveness_result", "{last}");
    assert_eq!(last["status"], "passed", "{last}");
    let case = &last["verification"];
    println!(
        "challenges: liveness {} match {}",
        case["steps"]["liveness"]["score"], case["steps"]["face_match"]["score"]
    );
    assert_eq!(case["status"], "approved", "{case}");
    assert_eq!(case["steps"]["liveness"]["passed"], true);
    assert_eq!(case["steps"]["face_match"]["passed"], true);
    assert!(case["images"]
        .as_array()
        .unwrap()
        .contains(&json!("selfie")));
    // The kept selfie is a frontal frame with open eyes: Billy's 0005 as sent.
    let selfie = desk
        .client
        .get(
            &format!("/api/verifications/{id}/images/selfie"),
            Some(&token),
        )
        .await;
    assert_eq!(selfie.body, lfw(5));
    // The session is gone with its frames; the trail says how liveness was shown.
    let r = desk.client.get(&format!("/api/liveness/{sid}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let trail = desk.audit_of(&desk.auditor, &id).await;
    let liveness = trail
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "liveness")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (&liveness["outcome"], &liveness["reason"]),
        (&json!("success"), &json!("challenges")),
        "{}",
        trail.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_face_mid_session_leaves_the_step_open_and_the_socket_completes_it() {
    let desk = Desk::new(Some(SPECIMEN_VALID_MS), |c| {
        challenges(c);
        c.app.liveness.active_required = true;
    })
    .await;
    let (token, id) = case_with_passport(&desk, "billy").await;
    // Challenges are required: a single selfie is refused.
    let r = desk.selfie(&token, &id, lfw(5)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "active_liveness_required"),
        "{}",
        r.text
    );

    // Billy starts, then someone else is in front of the camera.
    let sid = start_session(&desk, &token, &id).await;
    let mut t = now_ms();
    let mut last = Value::Null;
    for f in [lfw(5), frame("live", "0006_00_06_03_10.jpg")] {
        t += 200;
        let form = Form::new()
            .file("frame", f)
            .text("timestamp_ms", &t.to_string());
        last = desk
            .client
            .post_form(&format!("/api/liveness/{sid}/frames"), None, &form)
            .await
            .json;
    }
    assert_eq!(last["type"], "liveness_result", "{last}");
    assert_eq!(last["failure"], "identity_changed", "{last}");
    assert_eq!(last["verification"]["status"], "in_progress", "{last}");
    assert_eq!(
        last["verification"]["steps"]["liveness"]["status"],
        "pending"
    );

    // A new session over the WebSocket: resume it there, then the frames.
    let sid = start_session(&desk, &token, &id).await;
    let addr = desk.client.serve().await;
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/liveness"))
        .await
        .unwrap();
    let ws = std::sync::Arc::new(tokio::sync::Mutex::new(ws));
    async fn recv(
        ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
    ) -> Value {
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(60), ws.next())
                .await
                .expect("no answer in 60 s")
            {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    }
    {
        let mut ws = ws.lock().await;
        ws.send(Message::Text(
            json!({"type": "start_liveness"}).to_string().into(),
        ))
        .await
        .unwrap();
        let m = recv(&mut *ws).await;
        assert_eq!(
            m["type"], "error",
            "sessions start signed in, over REST: {m}"
        );
        ws.send(Message::Text(
            json!({"type": "resume", "session_id": sid})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
        let m = recv(&mut *ws).await;
        assert_eq!(
            (m["type"].as_str(), m["stage"].as_str()),
            (Some("session_started"), Some("active_liveness")),
            "{m}"
        );
    }
    let socket = ws.clone();
    let last = perform(move |frame, ts| {
        let ws = socket.clone();
        Box::pin(async move {
            use base64::Engine as _;
            let image = base64::engine::general_purpose::STANDARD.encode(frame);
            let mut ws = ws.lock().await;
            let msg = json!({"type": "process_frame", "image": image, "timestamp_ms": ts});
            ws.send(Message::Text(msg.to_string().into()))
                .await
                .unwrap();
            recv(&mut *ws).await
        })
    })
    .await;
    assert_eq!(last["type"], "liveness_result", "{last}");
    assert_eq!(last["verification"]["status"], "approved", "{last}");
    let trail = desk.audit_of(&desk.auditor, &id).await;
    let liveness: Vec<_> = trail
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "liveness")
        .map(|e| {
            (
                e["outcome"].as_str().unwrap_or(""),
                e["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        liveness.contains(&("failure", "challenges: identity_changed"))
            && liveness.contains(&("success", "challenges")),
        "{liveness:?}"
    );
}
