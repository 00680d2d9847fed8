//! The server as its one command runs it: SIGKILL mid-verification loses nothing it
//! acknowledged, and after the restart the case goes on from where it stood.

use faceprint_server::testing::{data, free_port, spawn_server, wait_ready};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_faceprint-kyc");

fn file(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap()
}

async fn upload(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    field: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new().part(field.to_string(), Part::bytes(bytes).file_name("photo.jpg"));
    http.post(url)
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_verification_loses_nothing_acknowledged_and_the_case_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("kyc");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut server = spawn_server(BIN, &data_dir, port);
    wait_ready(&base).await;

    let r: Value = http
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"username": "anna", "password": "a long test password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["access_token"].as_str().expect("a token").to_string();
    let case: Value = http
        .post(format!("{base}/api/verifications"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = case["id"].as_str().unwrap().to_string();
    let url = format!("{base}/api/verifications/{id}");
    let r = upload(
        &http,
        &format!("{url}/document"),
        &token,
        "front",
        file("dev/documents/passport-td3.jpg"),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // The selfie is on its way when the process is killed.
    let (h, u, t) = (http.clone(), format!("{url}/selfie"), token.clone());
    let selfie = tokio::spawn(async move {
        upload(
            &h,
            &u,
            &t,
            "selfie",
            file("dev/spoof/live/0004_01_06_03_194.jpg"),
        )
        .await
        .status()
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let answered = selfie.await.ok().map(|s| s.as_u16());

    let mut server = spawn_server(BIN, &data_dir, port);
    wait_ready(&base).await;
    // The tokens and the case outlived the process; the acknowledged document step is there.
    let v: Value = http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["steps"]["document"]["status"], "done", "{v}");
    assert_eq!(v["document"]["mrz"]["document_number"], "L898902C3");
    let kinds = v["images"].as_array().unwrap();
    assert!(
        kinds.contains(&json!("document_front")) && kinds.contains(&json!("portrait")),
        "{v}"
    );
    match v["steps"]["liveness"]["status"].as_str() {
        // Killed before the selfie was written: the step is open, the selfie goes again.
        Some("pending") => {
            assert_ne!(answered, Some(200), "a selfie answered 200 was lost");
            assert_eq!(v["status"], "in_progress");
            let r = upload(
                &http,
                &format!("{url}/selfie"),
                &token,
                "selfie",
                file("dev/spoof/live/0004_01_06_03_194.jpg"),
            )
            .await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
        // Written just before the kill: decided, with its selfie.
        _ => assert_ne!(v["status"], "in_progress", "{v}"),
    }
    let v: Value = http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Today the specimen has expired: the decision says so, whichever way it came.
    assert_eq!(v["status"], "rejected", "{v}");
    assert!(
        v["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("document_expired")),
        "{v}"
    );
    assert_eq!(v["steps_done"], 3);

    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc::kill(server.id() as i32, libc::SIGTERM) }, 0);
    assert!(server.wait().unwrap().success());
}
