//! The per-IP limit behind a proxy (issue 33, finding 5), against the server as its command
//! runs it: the client is the rightmost `X-Forwarded-For` address that is not a trusted proxy,
//! so what a client writes on the left never moves it to another bucket; without
//! `rate_limit.trusted_proxies` the header does not count at all; and the old setting that
//! trusted the leftmost address is refused at start, saying what to use instead.

use faceprint_server::testing::{start_server, Running};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_faceprint-auth");

/// A server with a per-IP limit of 5 calls (burst) a minute, and `env` on top.
async fn server(data: &std::path::Path, env: &[(&str, &str)]) -> Running {
    let mut all = vec![
        ("FACEPRINT_RATE_LIMIT__PER_IP_PER_MINUTE", "5"),
        ("FACEPRINT_RATE_LIMIT__PER_IP_BURST", "5"),
    ];
    all.extend_from_slice(env);
    start_server(BIN, data, &all).await
}

/// How many of `n` admin logins (an unknown account) sent with `forwarded` got 429.
async fn limited(base: &str, n: usize, forwarded: impl Fn(usize) -> Option<String>) -> usize {
    let client = reqwest::Client::new();
    let mut limited = 0;
    for i in 0..n {
        let mut r = client
            .post(format!("{base}/api/auth/admin/login"))
            .json(&serde_json::json!({"username": "nobody", "password": "wrong password here"}));
        if let Some(f) = forwarded(i) {
            r = r.header("x-forwarded-for", f);
        }
        let status = r.send().await.unwrap().status().as_u16();
        assert!(status == 401 || status == 429, "{status}");
        limited += usize::from(status == 429);
    }
    limited
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_written_part_of_x_forwarded_for_never_evades_the_per_ip_limit() {
    let dir = tempfile::tempdir().unwrap();

    // Behind a proxy on 127.0.0.1 (this test plays it): one client (203.0.113.7, the address
    // the proxy appended) rotating the leftmost entry is one client.
    let behind = server(
        &dir.path().join("behind"),
        &[(
            "FACEPRINT_RATE_LIMIT__TRUSTED_PROXIES",
            "[\"127.0.0.1\", \"10.0.0.0/8\"]",
        )],
    )
    .await;
    let rotated = limited(&behind.base, 20, |i| {
        Some(format!("198.51.100.{i}, 203.0.113.7"))
    })
    .await;
    assert!(
        rotated >= 14,
        "only {rotated} of 20 limited: the rotation evaded the limit"
    );
    // Through a second trusted hop too.
    let two_hops = limited(&behind.base, 5, |i| {
        Some(format!("198.51.100.{i}, 203.0.113.7, 10.1.2.3"))
    })
    .await;
    assert_eq!(two_hops, 5, "the same client behind two proxies");
    // Different clients behind the proxy have buckets of their own.
    let others = limited(&behind.base, 5, |i| Some(format!("203.0.113.{}", 100 + i))).await;
    assert_eq!(others, 0, "five clients, one call each");

    // No trusted proxy: the header does not count, whatever it says.
    let direct = server(&dir.path().join("direct"), &[]).await;
    let ignored = limited(&direct.base, 20, |i| Some(format!("198.51.100.{i}"))).await;
    assert!(
        ignored >= 14,
        "only {ignored} of 20 limited: the header moved the client"
    );

    // The old setting is refused with the way out named.
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("old"))
        .env("FACEPRINT_RATE_LIMIT__TRUST_FORWARDED_FOR", "true")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("rate_limit.trusted_proxies"), "{said}");
}
