//! The server as its one command runs it: SIGKILL in the middle of signups loses no
//! acknowledged account, and SIGTERM lets in-flight requests finish before a clean exit.

mod common;

use std::process::Child;
use std::time::Duration;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_faceprint-auth")
}

fn start(data: &std::path::Path, port: u16) -> Child {
    faceprint_server::testing::spawn_server(bin(), data, port)
}

use faceprint_server::testing::{free_port, wait_ready};

/// First photos of LFW people, one per person (some fail quality: those signups are simply
/// refused and not counted).
fn people(n: usize) -> Vec<(String, Vec<u8>)> {
    let tsv = std::fs::read_to_string(common::data("lfw/people.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .skip(200)
        .take(n)
        .map(|name| {
            (
                name.to_string(),
                std::fs::read(common::data(&format!("lfw/images/{name}/{name}_0001.jpg"))).unwrap(),
            )
        })
        .collect()
}

async fn signup(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    photo: Vec<u8>,
) -> Option<String> {
    let form = reqwest::multipart::Form::new()
        .text("name", name.to_string())
        .text("email", format!("{}@example.com", name.to_lowercase()))
        .part(
            "photo",
            reqwest::multipart::Part::bytes(photo).file_name("p.jpg"),
        );
    let r = client
        .post(format!("{base}/api/auth/signup"))
        .multipart(form)
        .send()
        .await
        .ok()?;
    if r.status() != 201 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.ok()?).ok()?;
    Some(v["access_token"].as_str()?.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_signup_loses_no_acknowledged_account() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&data, port);
    wait_ready(&base).await;
    let client = reqwest::Client::new();
    // Two writers sign people up until the server dies under them.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
    let mut writers = Vec::new();
    for half in people(40).chunks(20).map(|c| c.to_vec()) {
        let (client, base, tx) = (client.clone(), base.clone(), tx.clone());
        writers.push(tokio::spawn(async move {
            for (name, photo) in half {
                if let Some(token) = signup(&client, &base, &name, photo).await {
                    let _ = tx.send((name, token));
                }
            }
        }));
    }
    drop(tx);
    // Kill once a few accounts are acknowledged, while others are in flight.
    let mut acked = Vec::new();
    while acked.len() < 4 {
        acked.push(
            rx.recv()
                .await
                .expect("signups stopped before four were acknowledged"),
        );
    }
    unsafe { libc::kill(server.id() as i32, libc::SIGKILL) };
    server.wait().unwrap();
    for w in writers {
        let _ = w.await;
    }
    while let Ok(a) = rx.try_recv() {
        acked.push(a);
    }
    // Restart: every acknowledged account is there, active, with its face and its session.
    let mut server = start(&data, port);
    wait_ready(&base).await;
    for (name, token) in &acked {
        let me = client
            .get(format!("{base}/api/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200, "{name} was acknowledged but is gone");
        let v: serde_json::Value = serde_json::from_slice(&me.bytes().await.unwrap()).unwrap();
        assert_eq!(
            (v["status"].as_str(), v["faces"].as_u64()),
            (Some("active"), Some(1)),
            "{name}"
        );
        // The face logs in: the template is in the store and in the index.
        let photo =
            std::fs::read(common::data(&format!("lfw/images/{name}/{name}_0001.jpg"))).unwrap();
        let login = client
            .post(format!("{base}/api/auth/login"))
            .header("content-type", "image/jpeg")
            .body(photo)
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200, "{name}: login by face after the crash");
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = start(&data, port);
    wait_ready(&base).await;
    let client = reqwest::Client::new();
    let (name, photo) = people(1).remove(0);
    let (c, b) = (client.clone(), base.clone());
    // A signup (detection, quality, liveness, embedding, enrollment) is in flight when SIGTERM
    // arrives: it is answered, then the process exits 0.
    let inflight = tokio::spawn(async move {
        let form = reqwest::multipart::Form::new()
            .text("name", name.clone())
            .text("email", "drain@example.com")
            .part(
                "photo",
                reqwest::multipart::Part::bytes(photo).file_name("p.jpg"),
            );
        c.post(format!("{b}/api/auth/signup"))
            .multipart(form)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let status = inflight
        .await
        .unwrap()
        .expect("the in-flight request was cut off");
    assert!(
        status == 201 || status == 422,
        "answered, not dropped: {status}"
    );
    let out = server.wait_with_output().unwrap();
    assert!(out.status.success(), "exit status {:?}", out.status);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("SIGTERM") && log.contains("stopped cleanly"),
        "{log}"
    );
    // New connections are refused once it has stopped.
    assert!(reqwest::get(format!("{base}/health")).await.is_err());
}
