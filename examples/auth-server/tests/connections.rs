//! What a connection may cost the server (issue 33, findings 3 and 4), against the server as
//! its command runs it, with a 2-second header-read timeout and 20 connections per address:
//! half a request's head, nothing at all, or an idle keep-alive connection are closed within
//! the timeout; connections beyond the per-address cap are closed as they arrive and the cap
//! frees up as they go; and an image of 40 megapixels of zeros (a 100-odd KB PNG) is refused
//! from its header at once.

use faceprint_server::testing::start_server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_faceprint-auth");

/// Seconds until the server closes `s` (reading whatever it sends), at most `limit`.
fn closed_after(mut s: TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            // A reset is a close too.
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_idle_and_surplus_connections_are_closed_and_huge_images_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(
        BIN,
        &dir.path().join("data"),
        &[
            ("FACEPRINT_HTTP__HEADER_READ_TIMEOUT_SECS", "2"),
            ("FACEPRINT_HTTP__MAX_CONNECTIONS_PER_IP", "20"),
        ],
    )
    .await;
    let base = server.base.clone();
    let addr = base.trim_start_matches("http://").to_string();
    let limit = Duration::from_secs(6);

    // Half a head, then silence.
    let mut half = TcpStream::connect(&addr).unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let t = closed_after(half, limit).expect("half a head held past 6 s");
    assert!(t >= Duration::from_millis(1500), "closed too early: {t:?}");
    // Nothing at all.
    let silent = TcpStream::connect(&addr).unwrap();
    closed_after(silent, limit).expect("a silent connection held past 6 s");
    // One whole request, then idle on keep-alive.
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    closed_after(idle, limit).expect("an idle keep-alive connection held past 6 s");

    // 40 silent connections from one address: 20 are held (until their timeout), the other 20
    // are closed at once.
    let opened: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut at_once = 0;
    for s in &opened {
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        match (&*s).read(&mut b) {
            Ok(0) => at_once += 1,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            _ => at_once += 1,
        }
    }
    // (A connection of this test the server has not yet seen close may still hold a slot.)
    assert!(
        (20..=22).contains(&at_once),
        "{at_once} connections closed on arrival"
    );
    // Meanwhile this address gets nothing more; when the held ones time out, it is served.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    assert!(client.get(format!("{base}/health")).send().await.is_err());
    drop(opened);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        client
            .get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // 6300 x 6300 zeros: a small PNG, refused from its header before any decoding.
    let zeros = {
        let img = image::GrayImage::new(6300, 6300);
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    assert!(zeros.len() < 1_000_000, "{} bytes", zeros.len());
    let start = Instant::now();
    let r = client
        .post(format!("{base}/api/auth/login"))
        .header("content-type", "image/png")
        .body(zeros)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "image_too_many_pixels", "{body}");
    println!("40 MP of zeros refused in {:?}", start.elapsed());
}
