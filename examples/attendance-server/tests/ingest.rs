//! Frames pushed by a camera gateway: an API key scoped to one push camera, one frame per
//! request or a stream of them over a WebSocket, each answered; bad frames answered and
//! skipped; a stranger kept as an anonymous track (no template) when the site asks for it.

mod scene;
mod site;

use axum::http::{Method, StatusCode};
use faceprint_server::testing::req;
use futures_util::{SinkExt, StreamExt};
use scene::{lfw, Visit};
use serde_json::{json, Value};
use site::Site;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

fn jpeg(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

async fn create_key(site: &Site, scope: &str) -> faceprint_server::testing::Reply {
    site.client
        .post_json(
            "/api/admin/api-keys",
            Some(&site.token),
            json!({"collection": scope, "label": "gateway", "rate_per_minute": 6000}),
        )
        .await
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    addr: std::net::SocketAddr,
    camera: &str,
    key: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("ws://{addr}/api/cameras/{camera}/frames/ws")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("x-api-key", key.parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

async fn answer(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("an answer within 30 s")
        {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text answer, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_pushes_frames_with_its_key_over_http_and_websocket() {
    let site = Site::new(|c| {
        c.app.cooldown_secs = 4;
        c.app.keep_unknown_tracks = true;
    })
    .await;
    let powell = site
        .employee(
            "Colin_Powell",
            &[lfw("Colin_Powell", 1), lfw("Colin_Powell", 3)],
        )
        .await;
    let push = json!({"kind": "push", "settings": {"liveness": false, "snapshots": true}});
    let gate = site.camera("gate", push.clone()).await;
    let other = site.camera("side door", push).await;
    let reader = site
        .camera(
            "street",
            json!({"kind": "url", "source": "http://127.0.0.1:9/x.mjpg", "enabled": false}),
        )
        .await;

    // A key's scope is one push camera: not a camera that reads its own source, not nothing.
    for bad in ["no-such-camera", reader.as_str()] {
        let r = create_key(&site, bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(r.code(), "invalid_argument");
    }
    let r = create_key(&site, &gate).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let key = r.json["key"].as_str().unwrap().to_string();
    let key_id = r.json["id"].as_str().unwrap().to_string();

    // One frame per request: the gate's key feeds the gate only.
    let frame0 = jpeg(&scene::frame(0, &[], &[]));
    let post = |camera: &str, token: &str, body: Vec<u8>| {
        req(
            Method::POST,
            &format!("/api/cameras/{camera}/frames"),
            Some(token),
        )
        .header("content-type", "image/jpeg")
        .body(axum::body::Body::from(body))
        .unwrap()
    };
    let r = site.client.call(post(&gate, &key, frame0.clone())).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.json["queued"], true);
    let r = site.client.call(post(&other, &key, frame0.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = site
        .client
        .call(post(&gate, "fpk_not-a-key", frame0.clone()))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = site
        .client
        .call(post(&gate, &key, b"not a jpeg".to_vec()))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text);

    // A stream: Powell walks through, then a stranger; paced like an 8 fps camera.
    let visits = vec![
        Visit {
            person: "Colin_Powell",
            photo: lfw("Colin_Powell", 10),
            start: 2,
            end: 40,
            from: (40.0, 60.0),
            to: (420.0, 90.0),
        },
        Visit {
            person: "Ariel_Sharon",
            photo: lfw("Ariel_Sharon", 3),
            start: 50,
            end: 88,
            from: (420.0, 200.0),
            to: (60.0, 180.0),
        },
    ];
    let patches: Vec<_> = visits.iter().map(|v| scene::patch(&v.photo)).collect();
    let addr = site.client.serve().await;
    assert!(
        connect(addr, &other, &key).await.is_err(),
        "a key for the gate opened the side door's stream"
    );
    let mut ws = connect(addr, &gate, &key).await.expect("the gate's stream");
    ws.send(Message::Text("hello".into())).await.unwrap();
    let a = answer(&mut ws).await;
    assert_eq!(a["error"], "invalid_argument", "{a}");
    ws.send(Message::Binary(b"\xff\xd8 broken".to_vec().into()))
        .await
        .unwrap();
    let a = answer(&mut ws).await;
    assert!(a["error"].is_string() && a["frame"] == 2, "{a}");
    let before = site.status(&gate).await["frames_in"].as_u64().unwrap();
    let (mut queued, mut dropped) = (0, 0);
    let frames = 95;
    let started = Instant::now();
    for n in 0..frames {
        let due = started + Duration::from_millis(125 * n as u64);
        tokio::time::sleep_until(due.into()).await;
        ws.send(Message::Binary(
            jpeg(&scene::frame(n, &visits, &patches)).into(),
        ))
        .await
        .unwrap();
        let a = answer(&mut ws).await;
        assert_eq!(a["frame"], n as u64 + 3, "answers come in order: {a}");
        match a["queued"].as_bool() {
            Some(true) => queued += 1,
            Some(false) => dropped += 1,
            None => panic!("frame {n} refused: {a}"),
        }
    }
    ws.close(None).await.unwrap();
    let status = site.status(&gate).await;
    println!("websocket: {queued} queued, {dropped} dropped; status {status}");
    assert_eq!(dropped, 0, "an 8 fps stream lost frames: {status}");
    assert_eq!(
        status["frames_in"].as_u64().unwrap() - before,
        frames as u64,
        "{status}"
    );

    // The same counts for Prometheus, per camera.
    let m = site.client.get("/metrics", None).await;
    let line = format!(
        "faceprint_camera_frames_in_total{{camera=\"{gate}\"}} {}",
        status["frames_in"]
    );
    assert!(m.text.contains(&line), "no {line} in /metrics");
    assert!(m
        .text
        .contains(&format!("faceprint_camera_up{{camera=\"{gate}\"}} 1")));

    // Stop the camera: its open tracks end and are written.
    let r = site
        .client
        .call(
            req(
                Method::PUT,
                &format!("/api/cameras/{gate}"),
                Some(&site.token),
            )
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"name": "gate", "kind": "push", "enabled": false,
                           "settings": {"liveness": false, "snapshots": true}})
                .to_string(),
            ))
            .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = site
        .client
        .get(&format!("/api/records?camera_id={gate}"), Some(&site.token))
        .await;
    let records = r.json.as_array().unwrap();
    assert_eq!(records.len(), 1, "{}", r.text);
    assert_eq!(records[0]["employee_id"], powell.as_str());
    assert!(records[0]["last_seen_ms"].as_i64() > records[0]["first_seen_ms"].as_i64());
    // The stranger: one anonymous track, when and where, with the crop this camera keeps.
    let r = site
        .client
        .get(
            &format!("/api/unknown-tracks?camera_id={gate}"),
            Some(&site.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let unknown = r.json.as_array().unwrap();
    assert_eq!(unknown.len(), 1, "{}", r.text);
    assert_eq!(unknown[0]["kind"], "unknown");
    assert_eq!(unknown[0]["has_snapshot"], true);
    let crop = site
        .client
        .get(
            &format!("/api/unknown-tracks/{}/snapshot", unknown[0]["id"]),
            Some(&site.token),
        )
        .await;
    assert_eq!(crop.status, StatusCode::OK);
    assert_eq!(crop.headers["content-type"], "image/jpeg");
    let crop = image::load_from_memory(&crop.body).expect("a JPEG face crop");
    assert!(crop.width() >= 40 && crop.width() < 640, "{}", crop.width());
    let r = site
        .client
        .get("/api/unknown-tracks?employee_id=x", Some(&site.token))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

    // A stream to a stopped camera is told so and closed.
    let mut ws = connect(addr, &gate, &key).await.expect("connects");
    ws.send(Message::Binary(frame0.clone().into()))
        .await
        .unwrap();
    let a = answer(&mut ws).await;
    assert_eq!(a["error"], "camera_stopped", "{a}");
    match tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .unwrap()
    {
        Some(Ok(Message::Close(Some(c)))) => assert_eq!(u16::from(c.code), 1011),
        other => panic!("expected a close, got {other:?}"),
    }
    // A revoked key opens nothing.
    let r = site
        .client
        .delete(&format!("/api/admin/api-keys/{key_id}"), Some(&site.token))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(connect(addr, &gate, &key).await.is_err());
}
