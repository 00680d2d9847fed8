//! Load, overload and soak of `faceprint-auth` on loopback, beside the bare library doing the
//! same work with the same threads.
//!
//!   cargo run --release -p faceprint-bench --bin auth-load -- [--seconds 20] [--soak-secs 300] [--websockets 500]
//!
//! Steps: start the release server on a temp data dir; sign up one person and add the same
//! person as a CompreFace example; measure the bare library (decode, detect, passive liveness,
//! embed, 1:1 — what `POST /api/face/verify` does) on one thread per core; find the server's
//! capacity with a closed loop; then hold an open-loop rate of 50 % and 100 % of it (latency
//! p50/p95/p99), 200 % (overload: fast 503s), a soak at 50 % (RSS at start and end), and
//! idle WebSocket sessions (memory per session).

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Run {
    ok: u64,
    busy: u64,
    other: u64,
    lat_ok_ms: Vec<f64>,
    lat_busy_ms: Vec<f64>,
    secs: f64,
}

impl Run {
    fn print(&self, label: &str) {
        let mut ok = self.lat_ok_ms.clone();
        ok.sort_by(f64::total_cmp);
        let mut busy = self.lat_busy_ms.clone();
        busy.sort_by(f64::total_cmp);
        println!(
            "{label:<38} {:>7.1} ok/s  p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms  | 503: {:>5} (p99 {:>5.1} ms)  other errors: {}",
            self.ok as f64 / self.secs,
            pct(&ok, 0.5),
            pct(&ok, 0.95),
            pct(&ok, 0.99),
            self.busy,
            pct(&busy, 0.99),
            self.other
        );
    }
}

#[derive(Clone)]
enum Target {
    Verify { url: String, token: String },
    Recognize { url: String, key: String },
}

async fn call(client: &reqwest::Client, t: &Target, photo: &[u8]) -> (u16, f64) {
    let started = Instant::now();
    let req = match t {
        Target::Verify { url, token } => client
            .post(url)
            .bearer_auth(token)
            .header("content-type", "image/jpeg")
            .body(photo.to_vec()),
        Target::Recognize { url, key } => client
            .post(url)
            .header("x-api-key", key)
            .header("content-type", "image/jpeg")
            .body(photo.to_vec()),
    };
    let status = match req.send().await {
        Ok(r) => {
            let s = r.status().as_u16();
            let _ = r.bytes().await;
            s
        }
        Err(_) => 0,
    };
    (status, started.elapsed().as_secs_f64() * 1000.0)
}

fn record(run: &mut Run, (status, ms): (u16, f64)) {
    match status {
        200 => {
            run.ok += 1;
            run.lat_ok_ms.push(ms);
        }
        503 | 429 => {
            run.busy += 1;
            run.lat_busy_ms.push(ms);
        }
        _ => run.other += 1,
    }
}

/// `workers` clients back to back for `secs`.
async fn closed_loop(t: &Target, photo: Arc<Vec<u8>>, workers: usize, secs: u64) -> Run {
    let client = reqwest::Client::new();
    let end = Instant::now() + Duration::from_secs(secs);
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (client, t, photo) = (client.clone(), t.clone(), photo.clone());
        handles.push(tokio::spawn(async move {
            let mut v = Vec::new();
            while Instant::now() < end {
                v.push(call(&client, &t, &photo).await);
            }
            v
        }));
    }
    let mut run = Run {
        ok: 0,
        busy: 0,
        other: 0,
        lat_ok_ms: vec![],
        lat_busy_ms: vec![],
        secs: secs as f64,
    };
    for h in handles {
        for r in h.await.unwrap() {
            record(&mut run, r);
        }
    }
    run
}

/// Requests started at a fixed `rate` per second for `secs`, whatever the answers' speed
/// (open loop: a slow server faces the same arrivals).
async fn open_loop(t: &Target, photo: Arc<Vec<u8>>, rate: f64, secs: u64) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .unwrap();
    let n = (rate * secs as f64) as u64;
    let start = Instant::now();
    let mut handles = Vec::with_capacity(n as usize);
    for i in 0..n {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(at.into()).await;
        let (client, t, photo) = (client.clone(), t.clone(), photo.clone());
        handles.push(tokio::spawn(async move { call(&client, &t, &photo).await }));
    }
    let mut run = Run {
        ok: 0,
        busy: 0,
        other: 0,
        lat_ok_ms: vec![],
        lat_busy_ms: vec![],
        secs: secs as f64,
    };
    for h in handles {
        record(&mut run, h.await.unwrap());
    }
    run
}

/// The bare library doing what `/api/face/verify` does, one thread per model slot.
fn bare_library(photo: &[u8], probe: &[u8], threads: usize, secs: u64, liveness: bool) -> f64 {
    use faceprint_server::face::{check_face, FaceChecks};
    let engine = faceprint::Engine::builder()
        .store(Arc::new(faceprint::store::MemoryStore::new()))
        .max_sessions(threads)
        .and_then(|b| b.build())
        .expect("engine");
    let img = engine.decode(photo).unwrap();
    engine
        .enroll("users", "u", &[img], &faceprint::EnrollOptions::default())
        .unwrap();
    let checks = FaceChecks {
        quality: None,
        liveness,
        single_face: false,
    };
    let done = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(secs);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (engine, done, checks) = (engine.clone(), done.clone(), checks.clone());
            s.spawn(move || {
                while Instant::now() < end {
                    let f = check_face(&engine, probe, &checks).unwrap();
                    if liveness {
                        engine
                            .verify_embedding(
                                "users",
                                "u",
                                &f.probe,
                                Some(faceprint::Threshold::Fmr(1e-4)),
                                None,
                            )
                            .unwrap();
                    } else {
                        engine
                            .identify_embedding("users", &f.probe, 1, None, None)
                            .unwrap();
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    done.load(Ordering::Relaxed) as f64 / secs as f64
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() {
    let secs = arg("--seconds", 20);
    let soak = arg("--soak-secs", 0);
    let sockets = arg("--websockets", 0);
    let bin = root().join("target/x86_64-unknown-linux-gnu/release/faceprint-auth");
    let data_root = root().join("../shared/data/dev/faces/named");
    let enroll_photo = std::fs::read(data_root.join("obama_obama.jpg")).unwrap();
    let probe = Arc::new(std::fs::read(data_root.join("obama_obama2.jpg")).unwrap());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!(
        "machine: {threads} cores; photo: obama_obama2.jpg ({} bytes); {secs} s per step",
        probe.len()
    );

    let bare_verify = tokio::task::spawn_blocking({
        let (e, p) = (enroll_photo.clone(), probe.clone());
        move || bare_library(&e, &p, threads, secs.min(15), true)
    })
    .await
    .unwrap();
    println!("bare library, {threads} threads, verify's work (decode+detect+liveness+embed+1:1): {bare_verify:.1} ops/s");
    let bare_recognize = tokio::task::spawn_blocking({
        let (e, p) = (enroll_photo.clone(), probe.clone());
        move || bare_library(&e, &p, threads, secs.min(15), false)
    })
    .await
    .unwrap();
    println!("bare library, {threads} threads, recognize's work (decode+detect+embed+1:N): {bare_recognize:.1} ops/s");

    let dir = std::env::temp_dir().join(format!("faceprint-auth-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(&bin)
        .args(["api-key", "create", "--data"])
        .arg(&dir)
        .args(["--collection", "load", "--rate", "10000000/min"])
        .output()
        .expect(
            "run target/x86_64-unknown-linux-gnu/release/faceprint-auth (cargo build --release -p faceprint-auth-server)",
        );
    let key: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = key["key"].as_str().unwrap().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server(
        Command::new(&bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&dir)
            .env("FACEPRINT_RATE_LIMIT__PER_IP_PER_MINUTE", "10000000")
            .env("FACEPRINT_RATE_LIMIT__PER_IP_BURST", "100000")
            .env("FACEPRINT_LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    while client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let form = reqwest::multipart::Form::new()
        .text("name", "Load")
        .text("email", "load@example.com")
        .part(
            "photo",
            reqwest::multipart::Part::bytes(enroll_photo.clone()).file_name("p.jpg"),
        );
    let r = client
        .post(format!("{base}/api/auth/signup"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let token = v["access_token"].as_str().expect("signup").to_string();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(enroll_photo.clone()).file_name("p.jpg"),
    );
    client
        .post(format!("{base}/api/v1/recognition/faces?subject=obama"))
        .header("x-api-key", &key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let rss_start = rss_kib(server.0.id());

    for (label, target, bare) in [
        (
            "POST /api/face/verify",
            Target::Verify {
                url: format!("{base}/api/face/verify"),
                token: token.clone(),
            },
            bare_verify,
        ),
        (
            "CompreFace recognize",
            Target::Recognize {
                url: format!("{base}/api/v1/recognition/recognize"),
                key: key.clone(),
            },
            bare_recognize,
        ),
    ] {
        println!("\n== {label}");
        let cap = closed_loop(&target, probe.clone(), threads * 2, secs).await;
        cap.print("capacity (closed loop, 2 per core)");
        let capacity = cap.ok as f64 / cap.secs;
        println!("  server ÷ bare library: {:.1} %", 100.0 * capacity / bare);
        for share in [0.5, 1.0, 2.0] {
            let r = open_loop(&target, probe.clone(), capacity * share, secs).await;
            r.print(&format!(
                "open loop {:.0} % ({:.1}/s)",
                share * 100.0,
                capacity * share
            ));
        }
    }

    if soak > 0 {
        println!("\n== soak: {soak} s of /api/face/verify at 50 % of capacity");
        let target = Target::Verify {
            url: format!("{base}/api/face/verify"),
            token: token.clone(),
        };
        let cap = closed_loop(&target, probe.clone(), threads * 2, 10).await;
        let before = rss_kib(server.0.id());
        let r = open_loop(&target, probe.clone(), cap.ok as f64 / cap.secs * 0.5, soak).await;
        r.print("soak");
        let sent = (cap.ok as f64 / cap.secs * 0.5 * soak as f64) as u64;
        println!("  requests sent {sent}, answered {} (ok {}, 503/429 {}, other {}); RSS {} MiB at start, {} MiB at end", r.ok + r.busy + r.other, r.ok, r.busy, r.other, before / 1024, rss_kib(server.0.id()) / 1024);
    }

    if sockets > 0 {
        use futures_util::{SinkExt, StreamExt};
        println!("\n== {sockets} WebSocket sessions held open (a ping each every 10 s)");
        let before = rss_kib(server.0.id());
        let mut conns = Vec::new();
        for _ in 0..sockets {
            let (ws, _) =
                tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws/face"))
                    .await
                    .expect("connect");
            conns.push(ws);
        }
        let mut pongs = 0;
        for round in 0..3 {
            for ws in conns.iter_mut() {
                ws.send(tokio_tungstenite::tungstenite::Message::Text(
                    "{\"type\":\"ping\"}".into(),
                ))
                .await
                .unwrap();
            }
            for ws in conns.iter_mut() {
                if let Some(Ok(m)) = ws.next().await {
                    if m.to_text().unwrap_or("").contains("pong") {
                        pongs += 1;
                    }
                }
            }
            if round < 2 {
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        }
        let after = rss_kib(server.0.id());
        println!(
            "  pongs {pongs} of {}; server RSS {} → {} MiB: {:.1} KiB per session",
            sockets * 3,
            before / 1024,
            after / 1024,
            (after.saturating_sub(before)) as f64 / sockets as f64
        );
        drop(conns);
    }
    println!(
        "\nserver RSS {} MiB after the load steps (at start {} MiB)",
        rss_kib(server.0.id()) / 1024,
        rss_start / 1024
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
