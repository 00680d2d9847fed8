//! Two server processes on one PostgreSQL (`serve --database`), as behind a load balancer,
//! against a real server this test starts and kills itself (tests/postgres.sh):
//! - a face added on node A (CompreFace API) is recognized by node B within a second (the
//!   distribution over 100 is printed); a subject deleted on A is never returned by B;
//! - a token issued by A is accepted by B, and refused by B once A revoked it (logout);
//! - the per-IP rate limit holds across both nodes, not per node;
//! - PostgreSQL SIGKILLed in the middle of enrollments and started again: every acknowledged
//!   face is recognized afterwards, and neither node was restarted.

mod common;

use faceprint_server::testing::{free_port, spawn_node, wait_ready, OwnPostgres};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_faceprint-auth")
}

/// A node process, killed at the end (a failed test too).
struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Per-IP limit of the public routes on both nodes: 8 calls, then one every 10 s.
const PER_IP: &str = "8";

async fn node(data: &Path, url: &str, key: &str) -> Node {
    let port = free_port();
    let child = spawn_node(
        bin(),
        data,
        port,
        url,
        key,
        &[
            ("FACEPRINT_RATE_LIMIT__PER_IP_PER_MINUTE", "6"),
            ("FACEPRINT_RATE_LIMIT__PER_IP_BURST", PER_IP),
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    Node { child, base }
}

/// Runs one of the server's tools against the database; its JSON answer.
fn tool(data: &Path, url: &str, args: &[&str], stdin: &str) -> serde_json::Value {
    faceprint_server::testing::run_tool(bin(), data, url, args, stdin)
}

/// First photos of LFW people, one per person.
fn people(skip: usize, n: usize) -> Vec<(String, Vec<u8>)> {
    let tsv = std::fs::read_to_string(common::data("lfw/people.tsv")).unwrap();
    tsv.lines()
        .skip(1 + skip)
        .filter_map(|l| l.split('\t').next())
        .take(n)
        .map(|name| {
            (
                name.to_string(),
                std::fs::read(common::data(&format!("lfw/images/{name}/{name}_0001.jpg"))).unwrap(),
            )
        })
        .collect()
}

fn form(photo: &[u8]) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(photo.to_vec()).file_name("p.jpg"),
    )
}

/// Adds `photo` as a face of `subject` on `node`: whether it was acknowledged (201).
async fn add_face(
    client: &reqwest::Client,
    node: &str,
    key: &str,
    subject: &str,
    photo: &[u8],
) -> bool {
    client
        .post(format!("{node}/api/v1/recognition/faces"))
        .query(&[("subject", subject)])
        .header("x-api-key", key)
        .multipart(form(photo))
        .send()
        .await
        .is_ok_and(|r| r.status() == 201)
}

/// What `node` answers for `photo`: every face's subjects, as (subject, similarity); None on
/// an error.
async fn recognize(
    client: &reqwest::Client,
    node: &str,
    key: &str,
    photo: &[u8],
) -> Option<Vec<(String, f64)>> {
    let r = client
        .post(format!("{node}/api/v1/recognition/recognize"))
        .query(&[("prediction_count", "3")])
        .header("x-api-key", key)
        .multipart(form(photo))
        .send()
        .await
        .ok()?;
    if r.status() != 200 {
        return None;
    }
    let v: serde_json::Value = r.json().await.ok()?;
    Some(
        v["result"]
            .as_array()?
            .iter()
            .flat_map(|face| face["subjects"].as_array().cloned().unwrap_or_default())
            .filter_map(|s| {
                Some((
                    s["subject"].as_str()?.to_string(),
                    s["similarity"].as_f64()?,
                ))
            })
            .collect(),
    )
}

/// Waits until `node` recognizes `subject` in `photo`: how long that took.
async fn recognized_within(
    client: &reqwest::Client,
    node: &str,
    key: &str,
    subject: &str,
    photo: &[u8],
    limit: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        // The photo itself was enrolled: its face matches at a similarity near 1.
        if let Some(found) = recognize(client, node, key, photo).await {
            if found.iter().any(|(s, sim)| s == subject && *sim > 0.9) {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < limit,
            "{subject} not recognized by the other node within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn ms(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_act_as_one() {
    let pg = OwnPostgres::start("auth-nodes");
    let dir = tempfile::tempdir().unwrap();
    let key = faceprint::store::MasterKey::generate().to_base64();
    let admin = tool(
        &dir.path().join("tools"),
        &pg.url,
        &["admin", "create", "--username", "root"],
        "a long test password\n",
    );
    assert_eq!(admin["username"], "root");
    let api_key = tool(
        &dir.path().join("tools"),
        &pg.url,
        &[
            "api-key",
            "create",
            "--collection",
            "staff",
            "--rate",
            "100000/min",
        ],
        "",
    )["key"]
        .as_str()
        .unwrap()
        .to_string();
    let a = node(&dir.path().join("a"), &pg.url, &key).await;
    let b = node(&dir.path().join("b"), &pg.url, &key).await;
    let client = reqwest::Client::new();

    // Enrolled on A, recognized by B.
    let mut lags = Vec::new();
    let mut enrolled = Vec::new();
    for (name, photo) in people(300, 160) {
        if lags.len() == 100 {
            break;
        }
        // A photo without one usable face is refused (400/422): not counted.
        if !add_face(&client, &a.base, &api_key, &name, &photo).await {
            continue;
        }
        lags.push(
            recognized_within(
                &client,
                &b.base,
                &api_key,
                &name,
                &photo,
                Duration::from_secs(5),
            )
            .await,
        );
        enrolled.push((name, photo));
    }
    assert_eq!(lags.len(), 100, "fewer than 100 LFW faces were enrolled");
    lags.sort();
    println!(
        "added on A, recognized by B (the time includes B's own recognition of the photo), \
         over {}: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lags.len(),
        ms(&lags, 0.5),
        ms(&lags, 0.9),
        ms(&lags, 0.99),
        ms(&lags, 1.0)
    );
    assert!(
        *lags.last().unwrap() < Duration::from_secs(1),
        "slowest: {:?}",
        lags.last()
    );

    // Deleted on A: B never answers it afterwards, not even once.
    for (name, photo) in &enrolled[..10] {
        let r = client
            .delete(format!("{}/api/v1/recognition/subjects/{name}", a.base))
            .header("x-api-key", &api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "deleting {name} on A");
        let found = recognize(&client, &b.base, &api_key, photo)
            .await
            .expect("B answers");
        assert!(
            !found.iter().any(|(s, _)| s == name),
            "B still answered {name}, deleted on A: {found:?}"
        );
    }

    // A token from A works on B until A revokes it.
    let login = client
        .post(format!("{}/api/auth/admin/login", a.base))
        .json(&serde_json::json!({"username": "root", "password": "a long test password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let stats = |node: String| {
        let (client, token) = (client.clone(), token.clone());
        async move {
            client
                .get(format!("{node}/api/admin/stats"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(stats(b.base.clone()).await, 200, "B refused A's token");
    let out = client
        .post(format!("{}/api/auth/logout", a.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(
        stats(b.base.clone()).await,
        401,
        "B accepted a token A revoked"
    );

    // The per-IP limit counts the calls to both nodes: the login and the logout above, then
    // wrong logins alternating between the nodes until one is refused.
    let burst: usize = PER_IP.parse().unwrap();
    let mut accepted = 2;
    for i in 0.. {
        let node = if i % 2 == 0 { &a.base } else { &b.base };
        let r = client
            .post(format!("{node}/api/auth/admin/login"))
            .json(&serde_json::json!({"username": "nobody", "password": "wrong"}))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            break;
        }
        assert_eq!(r.status(), 401);
        accepted += 1;
        assert!(accepted <= burst + 1, "the nodes limit separately");
    }
    println!("per-IP limit across two nodes: {accepted} calls accepted with a burst of {burst}");
    assert!(accepted >= burst, "refused before the burst was used");

    // PostgreSQL killed in the middle of enrollments on A, then started again: every face A
    // acknowledged is recognized by both nodes, which were never restarted.
    let batch = people(500, 300);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Vec<u8>)>();
    let writer = {
        let (client, node, api_key, stop) = (
            client.clone(),
            a.base.clone(),
            api_key.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            for (name, photo) in batch {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                if add_face(&client, &node, &api_key, &name, &photo).await {
                    let _ = tx.send((name, photo));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let mut acked = Vec::new();
    while acked.len() < 5 {
        acked.push(rx.recv().await.expect("enrollments stopped early"));
    }
    pg.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    pg.restart();
    // Enrollments go on failing until A reconnects, then succeed again.
    let before = acked.len();
    while acked.len() < before + 5 {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some(x)) => acked.push(x),
            _ => break,
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
    while let Ok(x) = rx.try_recv() {
        acked.push(x);
    }
    assert!(
        acked.len() >= before + 5,
        "A did not enroll again after PostgreSQL came back"
    );
    for (name, photo) in &acked {
        for node in [&a.base, &b.base] {
            recognized_within(
                &client,
                node,
                &api_key,
                name,
                photo,
                Duration::from_secs(10),
            )
            .await;
        }
    }
    println!(
        "PostgreSQL SIGKILLed mid-enrollment and restarted: {} acknowledged faces, all \
         recognized by both nodes",
        acked.len()
    );
}
